"""Perturbation sweeps: a trained network evaluated under perturbed inputs, in both backends.

A *point* is one (perturbation kind, strength, seed). Its perturbed test set is
drawn once, from a generator seeded by the point alone (so points can run in
any order, in any process, and give the same spikes), and then evaluated:

* ``torch`` at the training dt (the grid the network was trained on);
* ``brian2`` at each dt of ``brian_dts``: all samples of the point in one
  batched simulation. At the training dt it sees the very input the mirror sees
  and must predict identically (``agreement`` 1.0); at a finer dt it sees the
  perturbed times rounded to the finer grid: the network's continuous-time
  reading of the same spikes.

Both backends need at most one spike per unit and step (Brian2's spike
generator), and a spike within ``1e-3 dt`` of the end falls after the last step
(Brian2's ``timestep()`` rounding); such spikes are removed, identically for
both, and counted (``lost_spikes``). With ``binned`` the
perturbation is the public temporal-shd code's raster version on the training
grid (:mod:`biosnn.perturb.binned`) instead of the continuous one.

:func:`run_sweep` stores one row per point, backend and dt in a
:class:`~biosnn.sweep_table.SweepTable`, one transaction per point, skipping the
points already stored; ``jobs > 1`` evaluates points in that many local
processes (the parent alone writes the database).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from .data.dataset import SpikeDataset
from .errors import BiosnnInputError
from .network import FeedForwardNet
from .perturb import get_perturbation, perturb
from .schedule import TimeGrid
from .spikes import SpikeTrains

BACKENDS = ("torch", "brian2")


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep evaluates: names for the table, the train dt, backends, Brian2 dts and target."""

    network_name: str
    dataset_name: str
    train_dt: float
    backends: tuple[str, ...] = BACKENDS
    brian_dts: tuple[float, ...] = ()          # default: the training dt only
    target: str = "numpy"
    binned: bool = False

    def __post_init__(self):
        unknown = [b for b in self.backends if b not in BACKENDS]
        if unknown or not self.backends:
            raise BiosnnInputError(f"backends must be among {', '.join(BACKENDS)}, got {list(self.backends)}")
        if not self.brian_dts:
            object.__setattr__(self, "brian_dts", (self.train_dt,))
        for dt in (self.train_dt,) + tuple(self.brian_dts):
            if not (isinstance(dt, (int, float)) and np.isfinite(dt) and dt > 0):
                raise BiosnnInputError(f"dt must be a positive time (s), got {dt!r}")


def point_seed(kind: str, strength: float, seed: int) -> np.random.SeedSequence:
    """The generator of one point: a function of the point alone."""
    digest = hashlib.sha256(f"{kind}|{float(strength)!r}|{int(seed)}".encode()).digest()
    return np.random.SeedSequence([int.from_bytes(digest[:8], "little"), int(seed)])


def check_grid(grid) -> list[tuple[str, float]]:
    """``[(kind, strength), ...]`` checked against the registry (unknown kinds, bad strengths)."""
    checked = []
    for kind, strength in grid:
        perturbation = get_perturbation(kind)
        try:
            strength = float(strength)
        except (TypeError, ValueError):
            raise BiosnnInputError(f"{kind}: strength {strength!r} is not a number ({perturbation.strength})") from None
        if not np.isfinite(strength) or strength < 0:
            raise BiosnnInputError(f"{kind}: strength must be finite and >= 0, got {strength!r}")
        probe = SpikeTrains([0.0], [0], 1, 1.0, [0], 1)
        try:
            perturbation.continuous(probe, strength, np.random.default_rng(0))   # its own range checks
        except BiosnnInputError as err:
            raise BiosnnInputError(f"{kind}: {err}") from None
        checked.append((kind, strength))
    return checked


def _logits_torch(net: FeedForwardNet, raster: np.ndarray, dt: float) -> np.ndarray:
    import torch

    from .torch.feedforward import FeedForward
    from .training.loop import evaluate, final_membrane_logits, spike_count_logits

    model = FeedForward.from_description(net, dt=dt).double()
    readout = final_membrane_logits if net.readout == "final_membrane" else spike_count_logits
    return evaluate(model, torch.as_tensor(np.transpose(raster, (1, 0, 2))), logits_fn=readout)


def _logits_brian(net: FeedForwardNet, spikes, dt: float, target: str) -> np.ndarray:
    from .simulation import simulate_network

    last = simulate_network(net, spikes, backend="brian2", dt=dt, duration=spikes.duration, target=target)[-1]
    return last.final_v if net.readout == "final_membrane" else last.counts()


def evaluate_point(net: FeedForwardNet, data: SpikeDataset, spec: SweepSpec, kind: str, strength: float,
                   seed: int) -> list[dict]:
    """The rows of one point (see the module docstring)."""
    from .results import code_version

    rng = np.random.default_rng(point_seed(kind, strength, seed))
    if spec.binned:
        perturbed = perturb(data.spikes, kind, strength, rng, compat="temporal-shd", bin_width=spec.train_dt)
    else:
        perturbed = perturb(data.spikes, kind, strength, rng)
    rows, reference = [], None
    runs = [("torch", spec.train_dt)] if "torch" in spec.backends else []
    runs += [("brian2", dt) for dt in spec.brian_dts] if "brian2" in spec.backends else []
    for backend, dt in runs:
        start = time.perf_counter()
        grid = TimeGrid.from_duration(dt, data.duration)
        spikes, lost = perturbed.one_per_step(grid.dt)
        if backend == "torch":
            logits = _logits_torch(net, spikes.to_raster(grid.dt, grid.n_steps), grid.dt)
        else:
            logits = _logits_brian(net, spikes, grid.dt, spec.target)
        predictions = np.argmax(logits, axis=1)
        if backend == "torch":
            reference = predictions
        rows.append(dict(network=spec.network_name, dataset=spec.dataset_name, kind=kind, strength=float(strength),
                         seed=int(seed), backend=backend, dt=float(dt),
                         accuracy=float(np.mean(predictions == data.labels)), n_samples=len(data),
                         agreement=None if reference is None else float(np.mean(predictions == reference)),
                         input_spikes=len(perturbed), lost_spikes=int(lost), binned=int(spec.binned),
                         seconds=round(time.perf_counter() - start, 3), code_version=code_version()))
    return rows


def _worker_init() -> None:
    from .threads import set_threads

    set_threads(1)


def run_sweep(table, net: FeedForwardNet, data: SpikeDataset, spec: SweepSpec, grid, seeds, *, jobs: int = 1,
              progress: bool = True) -> dict:
    """Evaluate every (kind, strength) of ``grid`` x ``seeds`` not yet in ``table``; returns counts and timing."""
    from tqdm import tqdm

    grid = check_grid(grid)
    seeds = [int(s) for s in seeds]
    if any(s < 0 for s in seeds) or not seeds:
        raise BiosnnInputError(f"seeds must be non-negative integers, got {seeds}")
    if jobs < 1:
        raise BiosnnInputError(f"jobs must be a positive integer, got {jobs}")
    if net.n_inputs != data.n_inputs:
        raise BiosnnInputError(f"the network takes {net.n_inputs} inputs, the dataset has {data.n_inputs} channels")
    for dt in (spec.train_dt,) + tuple(spec.brian_dts):
        TimeGrid.from_duration(dt, data.duration)          # whole steps, before any work
    done = table.done()
    points = [(kind, strength, seed) for kind, strength in grid for seed in seeds
              if (spec.network_name, spec.dataset_name, kind, strength, seed) not in done]
    start = time.perf_counter()
    bar = tqdm(total=len(points), desc="sweep", unit="point", disable=not progress)
    try:
        if jobs == 1:
            for point in points:
                table.write_point(evaluate_point(net, data, spec, *point))
                bar.update()
        else:
            context = multiprocessing.get_context("spawn")   # torch's threads do not survive a fork
            with ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init) as pool:
                futures = [pool.submit(evaluate_point, net, data, spec, *point) for point in points]
                for future in as_completed(futures):
                    table.write_point(future.result())
                    bar.update()
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    return dict(points=len(points), skipped=len(grid) * len(seeds) - len(points), seconds=round(seconds, 2),
                seconds_per_point=round(seconds / len(points), 3) if points else None)
