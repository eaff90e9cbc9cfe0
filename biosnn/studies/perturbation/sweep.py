"""Perturbation sweeps: a trained network evaluated under perturbed inputs, in both backends.

A *point* is one (perturbation kind, strength, seed). Its perturbed test set (an
input kind) or perturbed network (a network kind: heterogeneity, weight noise,
quantised weights, delay jitter; :mod:`biosnn.studies.perturbation.network`) is
drawn once, from a generator seeded by the point alone (so points can run in
any order, in any process, and give the same spikes and network), and then evaluated:

* ``torch`` at the training dt (the grid the network was trained on);
* ``brian2`` at each dt of ``brian_dts``: all samples of the point in one
  batched simulation (on ``copies`` copies of the network, time-multiplexed:
  ``biosnn/brian/layout.py``; on cpp_standalone one build per worker process
  serves every point of a dt, ``biosnn/brian/compiled.py``: run one dt per sweep
  there, or the program is rebuilt whenever the dt changes). At the training dt it sees the very input the mirror sees
  and must predict identically (``agreement`` 1.0); at a finer dt it sees the
  perturbed times rounded to the finer grid: the network's continuous-time
  reading of the same spikes;
* ``rate_logistic`` / ``rate_mlp``: the rate-only classifiers
  (:func:`biosnn.data.tasks.fit_rate_classifier`, fitted once on the training
  set's counts) on the perturbed counts: the level a rate code would reach.

Both backends need at most one spike per unit and step (Brian2's spike
generator), and a spike within ``1e-3 dt`` of the end falls after the last step
(Brian2's ``timestep()`` rounding); such spikes are removed, identically for
both, and counted (``lost_spikes``). With ``binned`` the
perturbation is the public temporal-shd code's raster version on the training
grid (:mod:`biosnn.studies.perturbation.binned`) instead of the continuous one.

:func:`run_sweep` stores one row per point, backend and dt in a
:class:`~biosnn.studies.perturbation.table.SweepTable`, one transaction per point, computing
only the rows not yet stored (a killed sweep resumes; a backend or dt added
later is computed alone); ``jobs > 1`` evaluates points in that many local
processes, ``scheduler`` on a dask.distributed cluster (the parent alone writes
the database, so every point is stored exactly once even when a worker dies).

Local worker processes die with the sweep: on Linux each asks the kernel for
SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``), so a sweep killed
with SIGKILL leaves no worker (nor multiprocessing's resource tracker, which
ends when the last process holding its pipe does); dask's LocalCluster workers
already exit when their nanny's pipe closes. Ctrl-C belongs to the parent: the
workers ignore SIGINT (which a terminal sends to the whole process group), and
the parent cancels the queued points, terminates the workers and exits (status
130 from the CLI) with every stored point whole; rerunning computes the rest.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...core.errors import BiosnnInputError
from ...core.interrupts import raise_if_requested
from ...core.results import MAX_SEED
from ...core.schedule import TimeGrid
from ...core.spikes import SpikeTrains
from ...core.units import check_count
from ...data.dataset import SpikeDataset
from ...models.network import FeedForwardNet
from . import PERTURBATIONS, get_perturbation, perturb
from .network import NETWORK_PERTURBATIONS, perturb_network

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    from .table import SweepTable

#: evaluators of a point: the mirror, the reference, and the rate-only classifiers of
#: :func:`biosnn.data.tasks.fit_rate_classifier` (fitted on a training set's spike counts)
BACKENDS = ("torch", "brian2", "rate_logistic", "rate_mlp")
RATE_BACKENDS = {"rate_logistic": "logistic", "rate_mlp": "mlp"}
#: Linux's prctl option that sends a signal to a process when its parent dies (<linux/prctl.h>)
PR_SET_PDEATHSIG = 1
#: seconds the parent waits for a terminated worker before it kills it (a worker frees its memory at once)
WORKER_STOP_S = 5.0


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep evaluates: names for the table, the train dt, backends, Brian2 dts and target."""

    network_name: str
    dataset_name: str
    train_dt: float
    backends: tuple[str, ...] = ("torch", "brian2")
    brian_dts: tuple[float, ...] = ()  # default: the training dt only
    target: str = "numpy"
    binned: bool = False
    copies: int | None = None  # Brian2 copies of the network (None: one per sample)

    def __post_init__(self) -> None:
        unknown = [b for b in self.backends if b not in BACKENDS]
        if unknown or not self.backends:
            raise BiosnnInputError(f"backends must be among {', '.join(BACKENDS)}, got {list(self.backends)}")
        if not self.brian_dts:
            object.__setattr__(self, "brian_dts", (self.train_dt,))
        for dt in (self.train_dt,) + tuple(self.brian_dts):
            if isinstance(dt, bool) or not (isinstance(dt, (int, float)) and np.isfinite(dt) and dt > 0):
                raise BiosnnInputError(f"dt must be a positive time (s), got {dt!r}")
        if self.copies is not None:
            object.__setattr__(self, "copies", check_count(self.copies, "copies"))
        object.__setattr__(self, "backends", tuple(dict.fromkeys(self.backends)))
        # 3e-4 and 1e-4 * 3 are one grid: dts are kept to 12 significant digits, in the table too
        object.__setattr__(self, "train_dt", canonical_dt(self.train_dt))
        object.__setattr__(self, "brian_dts", tuple(dict.fromkeys(canonical_dt(dt) for dt in self.brian_dts)))

    def kind_label(self, kind: str) -> str:
        """The table's ``kind``: the perturbation's name, ``<name>:temporal-shd`` for an input kind's binned
        form (a network kind has one form), ``<name>:fine_dt=<s>`` for a kind whose noise path lives on the
        sweep's finest dt (another set of dts draws another realisation: its rows are other points)."""
        if kind in NETWORK_PERTURBATIONS:
            return f"{kind}:fine_dt={self.finest_dt:g}" if NETWORK_PERTURBATIONS[kind].noise_path else kind
        return f"{kind}:temporal-shd" if self.binned else kind

    @property
    def finest_dt(self) -> float:
        """The finest step of any run: the grid a network kind's noise path lives on."""
        return min((self.train_dt,) + tuple(self.brian_dts))

    def runs(self) -> list[tuple[str, float]]:
        """Every (backend, dt) a point is evaluated with; the rate classifiers read counts on the training grid."""
        out = [("torch", self.train_dt)] if "torch" in self.backends else []
        out += [("brian2", dt) for dt in self.brian_dts] if "brian2" in self.backends else []
        return out + [(b, self.train_dt) for b in self.backends if b in RATE_BACKENDS]


def canonical_dt(dt: float) -> float:
    """``dt`` to 12 significant digits: one value per grid, however it was computed."""
    return float(f"{float(dt):.12g}")


def point_seed(kind: str, strength: float, seed: int) -> np.random.SeedSequence:
    """The generator of one point: a function of the point alone."""
    digest = hashlib.sha256(f"{kind}|{float(strength)!r}|{int(seed)}".encode()).digest()
    return np.random.SeedSequence([int.from_bytes(digest[:8], "little"), int(seed)])


def check_grid(grid: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """``[(kind, strength), ...]`` checked against the registries, input kinds and network kinds
    (:data:`~biosnn.studies.perturbation.network.NETWORK_PERTURBATIONS`) alike (unknown kinds, bad
    strengths); repeated entries are kept once."""
    checked = []
    for kind, strength in grid:
        if kind in NETWORK_PERTURBATIONS:
            NETWORK_PERTURBATIONS[kind].check(strength)  # its message names the kind
            checked.append((kind, float(strength)))
            continue
        if kind not in PERTURBATIONS:
            known = ", ".join(list(PERTURBATIONS) + list(NETWORK_PERTURBATIONS))
            raise BiosnnInputError(f"unknown perturbation {kind!r}; choose one of {known}")
        perturbation = get_perturbation(kind)
        try:
            strength = float(strength)
        except (TypeError, ValueError):
            raise BiosnnInputError(f"{kind}: strength {strength!r} is not a number ({perturbation.strength})") from None
        if not np.isfinite(strength) or strength < 0:
            raise BiosnnInputError(f"{kind}: strength must be finite and >= 0, got {strength!r}")
        probe = SpikeTrains([0.0], [0], 1, 1.0, [0], 1)
        try:
            perturbation.continuous(probe, strength, np.random.default_rng(0))  # its own range checks
        except BiosnnInputError as err:
            raise BiosnnInputError(f"{kind}: {err}") from None
        checked.append((kind, strength))
    return list(dict.fromkeys(checked))


def check_network_points(
    net: FeedForwardNet, grid: Sequence[tuple[str, float]], seeds: Sequence[int], spec: SweepSpec
) -> None:
    """Every network point's perturbed network drawn now and checked at the sweep's finest dt (a PLIF time
    constant drawn below dt, a noise path no run's dt is a whole multiple of, Brian2 copies that noise cannot
    use), so a sweep refuses before evaluating anything."""
    dt = spec.finest_dt
    for kind, strength in grid:
        if kind not in NETWORK_PERTURBATIONS:
            continue
        for seed in seeds:
            rng = np.random.default_rng(point_seed(kind, strength, seed))
            changed = perturb_network(net, kind, strength, rng, dt)
            for k, layer in enumerate(changed.layers):
                stochastic = layer.noise is not None or layer.escape is not None
                if stochastic and "brian2" in spec.backends and spec.copies is not None:
                    raise BiosnnInputError(
                        f"{kind}: noise needs one Brian2 copy of the network per sample (its draws are keyed "
                        "on the sample): leave --copies unset"
                    )
                try:
                    changed.resolved_params(k, dt)
                    if layer.noise is not None:
                        for _, run_dt in spec.runs():
                            layer.noise.fine_steps(run_dt)
                except BiosnnInputError as err:
                    message = str(err)
                    if len(message) > 300:
                        message = message[:300] + " ..."
                    raise BiosnnInputError(
                        f"{kind} = {strength:g}, seed {seed}: the perturbed layer {k} is not a valid "
                        f"{layer.model} layer at dt = {dt:g} s ({message})"
                    ) from None


def _logits_torch(net: FeedForwardNet, raster: np.ndarray, dt: float) -> np.ndarray:
    import torch

    from ...torch.network import FeedForward
    from ...training.loop import evaluate, final_membrane_logits, spike_count_logits

    model = FeedForward.from_description(net, dt=dt).double()
    readout = final_membrane_logits if net.readout == "final_membrane" else spike_count_logits
    # each sample's noise by its index in the set
    noisy = any(layer.noise is not None or layer.escape is not None for layer in net.layers)
    return evaluate(model, torch.as_tensor(np.transpose(raster, (1, 0, 2))), logits_fn=readout, sample_offsets=noisy)


#: this process's compiled network (cpp_standalone sweeps): (key, CompiledNetwork); one standalone
#: device per process, so a new key (network, dt, batch, copies) replaces the previous build, and any
#: other Brian2 run in the process closes it first (:func:`close_compiled`)
_COMPILED: list = []


def close_compiled() -> None:
    """Close this process's compiled network, if any: Brian2 is back on its runtime device."""
    while _COMPILED:
        _COMPILED.pop()[1].close()


atexit.register(close_compiled)  # a worker process that exits removes its build directory


def _compiled(net: FeedForwardNet, spikes, dt: float, copies: int | None):
    from ...brian.compiled import CompiledNetwork

    key = (net.digest(), dt, spikes.duration, spikes.batch_size, copies)
    if _COMPILED and (_COMPILED[0][0] != key or len(spikes) > _COMPILED[0][1].capacity):
        close_compiled()
    if not _COMPILED:
        _COMPILED.append(
            (
                key,
                CompiledNetwork(
                    net,
                    dt=dt,
                    duration=spikes.duration,
                    batch=spikes.batch_size,
                    copies=copies,
                    capacity=max(1000, 2 * len(spikes)),
                ),
            )
        )
    return _COMPILED[0][1]


def _logits_brian(net: FeedForwardNet, spikes, dt: float, target: str, copies: int | None = None) -> np.ndarray:
    """The readout of Brian2 on ``spikes``; on cpp_standalone one build per process serves every point
    (``biosnn/brian/compiled.py``), other targets simulate afresh."""
    from ...simulation import simulate_network

    if target == "cpp_standalone":
        last = _compiled(net, spikes, dt, copies).run(spikes)[-1]
    else:
        close_compiled()
        last = simulate_network(
            net, spikes, backend="brian2", dt=dt, duration=spikes.duration, target=target, copies=copies
        )[-1]
    return last.final_v if net.readout == "final_membrane" else last.counts()


def evaluate_point(
    net: FeedForwardNet,
    data: SpikeDataset,
    spec: SweepSpec,
    kind: str,
    strength: float,
    seed: int,
    runs: Sequence[tuple[str, float]] | None = None,
    rate_models: dict | None = None,
) -> list[dict]:
    """The rows of one point for ``runs`` (default: all of ``spec.runs()``; see the module docstring).
    ``rate_models``: the fitted rate classifiers by backend name."""
    from ...core.results import code_version

    runs = spec.runs() if runs is None else list(runs)
    rng = np.random.default_rng(point_seed(kind, strength, seed))
    if kind in NETWORK_PERTURBATIONS:  # the network changes, the same in every backend; the input does not
        net = perturb_network(net, kind, strength, rng, spec.finest_dt)
        perturbed = data.spikes
    elif spec.binned:
        perturbed = perturb(data.spikes, kind, strength, rng, compat="temporal-shd", bin_width=spec.train_dt)
    else:
        perturbed = perturb(data.spikes, kind, strength, rng)
    if any(backend != "torch" for backend, _ in runs) and ("torch", spec.train_dt) not in runs:
        runs = [("torch", spec.train_dt)] + runs  # the reference of every agreement; its row is not rewritten
        write_torch = False
    else:
        write_torch = True
    rows, reference = [], None
    for backend, dt in runs:
        start = time.perf_counter()
        grid = TimeGrid.from_duration(dt, data.duration)
        spikes, lost = perturbed.one_per_step(grid.dt)
        if backend == "torch":
            predictions = np.argmax(_logits_torch(net, spikes.to_raster(grid.dt, grid.n_steps), grid.dt), axis=1)
            reference = predictions
            if not write_torch:
                continue
        elif backend == "brian2":
            predictions = np.argmax(_logits_brian(net, spikes, grid.dt, spec.target, spec.copies), axis=1)
        else:
            if not rate_models or backend not in rate_models:
                raise BiosnnInputError(f"backend {backend!r} needs a training set to fit the rate classifier on")
            predictions = rate_models[backend].predict(spikes.counts())
        rows.append(
            dict(
                network=spec.network_name,
                dataset=spec.dataset_name,
                kind=spec.kind_label(kind),
                strength=float(strength),
                seed=int(seed),
                backend=backend,
                dt=float(dt),
                accuracy=float(np.mean(predictions == data.labels)),
                n_samples=len(data),
                agreement=None if backend == "torch" or reference is None else float(np.mean(predictions == reference)),
                input_spikes=len(perturbed),
                lost_spikes=int(lost),
                binned=int(spec.binned and kind not in NETWORK_PERTURBATIONS),
                seconds=round(time.perf_counter() - start, 3),
                code_version=code_version(),
            )
        )
    return rows


def _ignore_interrupt(signum, frame) -> None:
    """A worker's SIGINT handler: Ctrl-C is the parent's to handle (a callable, not ``SIG_IGN``: Brian2's
    handler, installed when a worker imports it, calls the one it replaced)."""


def _die_with_parent(parent: int) -> None:
    """Initializer of a local worker process: leave Ctrl-C to the parent; on Linux also ask the kernel to
    SIGKILL the worker when its parent dies, and exit at once if the parent died before that took effect.
    The kernel's parent is the thread that spawned the worker: :func:`_evaluated` spawns from the thread
    that runs the sweep, which lives as long as the sweep."""
    signal.signal(signal.SIGINT, _ignore_interrupt)
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl in this libc: the worker may outlive a killed parent
        return
    if os.getppid() != parent:  # the parent died before prctl: nobody is left to signal us
        os._exit(1)


def dask_setup(worker: Any) -> None:
    """The dask preload of the LocalCluster's worker processes (``preload=["biosnn.studies.perturbation.sweep"]``, run in each
    worker's main thread): as local workers, they leave Ctrl-C to the sweep, which closes the cluster."""
    signal.signal(signal.SIGINT, _ignore_interrupt)


def _stop_cluster(cluster) -> None:
    """End a LocalCluster's worker processes at once (a task in progress is dropped, never stored), where
    ``cluster.close()`` would give each busy worker 4 s: every nanny is told not to restart its worker
    (``Nanny.close_gracefully``), then the worker is killed."""
    for nanny in list(getattr(cluster, "workers", {}).values()):
        with contextlib.suppress(Exception):  # a nanny or worker already gone: close() ends the rest
            nanny.close_gracefully(reason="biosnn sweep stopped")
            if nanny.pid:
                os.kill(nanny.pid, signal.SIGKILL)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued points and end the workers at once (a point in progress is dropped, never
    stored): what a sweep that stops early (Ctrl-C, an error) does instead of waiting for the queue."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # taken before shutdown clears it
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
    deadline = time.monotonic() + WORKER_STOP_S
    for process in processes:
        with contextlib.suppress(OSError, ValueError):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def _evaluate_on_worker(*args) -> list[dict]:
    """A point in a worker process (local or dask): one torch thread, then the point (a worker restarted
    after a failure gets the same setting)."""
    from ...core.threads import set_threads

    set_threads(1)
    return evaluate_point(*args)


def _dask_client(scheduler: str, jobs: int):
    """A dask.distributed client: ``"local"`` starts a LocalCluster of ``jobs`` single-threaded worker
    processes; anything else is a scheduler address (``tcp://host:8786``)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise BiosnnInputError("--scheduler needs dask.distributed: pip install 'biosnn[cluster]'") from None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None, preload=[__name__]
        )  # dask_setup: the workers leave Ctrl-C to this process
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="10s"), None
    except (OSError, TimeoutError, ValueError) as err:
        raise BiosnnInputError(f"no dask scheduler at {scheduler!r}: {err}") from None


def _evaluated(work, model, rate_models, *, jobs: int, scheduler: str | None):
    """The rows of each ``(point, runs)`` of ``work`` as it completes: in this process, in ``jobs`` local
    processes, or on a dask cluster. ``model``: ``(net, data, spec)``."""
    if scheduler is not None:
        client, cluster = _dask_client(scheduler, jobs)
        from distributed import as_completed as dask_completed

        try:
            shared = client.scatter([*model, rate_models], broadcast=True)
            # pure=False: every task gets its own key, never shared with another sweep on the same cluster
            futures = [
                client.submit(_evaluate_on_worker, *shared[:3], *point, runs, shared[3], pure=False)
                for point, runs in work
            ]
            for future in dask_completed(futures):
                yield future.result()
        except BaseException:  # Ctrl-C, an error, or the consumer closing early
            if cluster is not None:
                _stop_cluster(cluster)
            raise
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif jobs == 1:
        for point, runs in work:
            yield evaluate_point(*model, *point, runs, rate_models)
    else:
        context = multiprocessing.get_context("spawn")  # torch's threads do not survive a fork
        pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),))
        try:
            futures = [pool.submit(_evaluate_on_worker, *model, *point, runs, rate_models) for point, runs in work]
            for future in as_completed(futures):
                yield future.result()
        except BaseException:  # Ctrl-C, an error, or the consumer closing early: do not wait for the queue
            _stop_pool(pool)
            raise
        pool.shutdown(wait=True)


def _keep_unsaved(table) -> None:
    """A sweep that stops early (Ctrl-C, an error) with evaluated points it could not store (the database
    was locked): save them beside the database for the next sweep, and say where."""
    if not table.pending:
        return
    try:
        path, points = table.save_unsaved()
    except OSError as err:
        print(f"biosnn: {len(table.pending)} evaluated points could not be stored nor saved ({err})", file=sys.stderr)
        return
    print(
        f"biosnn: {len(points)} evaluated points not stored yet are in {str(path)!r}; the next sweep on "
        f"{str(table.path)!r} imports them",
        file=sys.stderr,
    )


def run_sweep(
    table: SweepTable,
    net: FeedForwardNet,
    data: SpikeDataset,
    spec: SweepSpec,
    grid: Iterable[tuple[str, float]],
    seeds: Iterable[int],
    *,
    jobs: int = 1,
    train: SpikeDataset | None = None,
    sources: Iterable[tuple[str, str, str]] = (),
    scheduler: str | None = None,
    progress: bool = True,
) -> dict:
    """Evaluate every (kind, strength) of ``grid`` x ``seeds``, each with every (backend, dt) of
    ``spec.runs()`` not yet in ``table``; ``train`` is the training set the rate classifiers are fitted
    on (needed when ``spec.backends`` names them). ``sources``: ``(kind, name, sha256)`` of the files
    behind the names, registered (:meth:`SweepTable.register`) once every input has been checked.
    ``scheduler``: evaluate on a dask.distributed cluster (``"local"``: a LocalCluster of ``jobs``
    worker processes; or a scheduler's address); a task lost with its worker is recomputed elsewhere,
    and this process alone writes the table, once per point. Returns counts and timing."""
    from tqdm import tqdm

    from ...data.tasks import fit_rate_classifier

    grid = check_grid(grid)
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
        raise BiosnnInputError(f"seeds must be non-negative integers, got {seeds}")
    if any(int(s) > MAX_SEED for s in seeds):  # the table's seed is an SQLite INTEGER (signed 64-bit)
        raise BiosnnInputError(f"seeds must be at most 2**63-1 = {MAX_SEED}, got {max(int(s) for s in seeds)}")
    seeds = list(dict.fromkeys(int(s) for s in seeds))
    check_count(jobs, "jobs")
    if net.n_inputs != data.n_inputs:
        raise BiosnnInputError(f"the network takes {net.n_inputs} inputs, the dataset has {data.n_inputs} channels")
    if net.layers[-1].n < data.n_classes:
        raise BiosnnInputError(
            f"the network's readout has {net.layers[-1].n} outputs, fewer than the dataset's "
            f"{data.n_classes} classes: it cannot predict every class; give the network trained "
            "on this dataset"
        )
    check_network_points(net, grid, seeds, spec)
    rate = [b for b in spec.backends if b in RATE_BACKENDS]
    if rate and train is None:
        raise BiosnnInputError(f"{', '.join(rate)}: give the training set the rate classifiers are fitted on")
    if train is not None and train.n_inputs != data.n_inputs:
        raise BiosnnInputError(f"the training set has {train.n_inputs} channels, the test set {data.n_inputs}")
    for dt in (spec.train_dt,) + tuple(spec.brian_dts):
        TimeGrid.from_duration(dt, data.duration)  # whole steps, before any work
    try:
        rate_models = {b: fit_rate_classifier(train, classifier=RATE_BACKENDS[b]) for b in rate}
    except ValueError as err:  # scikit-learn: one class only, too few samples for the MLP's validation split
        raise BiosnnInputError(f"the rate classifiers cannot be fitted on this training set: {err}") from None
    for kind, name, digest in sources:
        table.register(name, kind, digest)
    table.import_unsaved()  # points a sweep could not store before it ended (the database was locked)
    stored = table.stored()
    work = []
    for kind, strength in grid:
        for seed in seeds:
            point = (spec.network_name, spec.dataset_name, spec.kind_label(kind), strength, seed)
            missing = [run for run in spec.runs() if point + run not in stored]
            if missing:
                work.append(((kind, strength, seed), missing))
    start = time.perf_counter()
    results = _evaluated(work, (net, data, spec), rate_models, jobs=jobs, scheduler=scheduler)
    try:
        with (
            tqdm(total=len(work), desc="sweep", unit="point", disable=not progress) as bar,
            contextlib.closing(results),
        ):
            for rows in results:  # closing: workers and clusters stop here, also when a write fails
                table.save_point(rows)  # kept in memory while another writer holds the database
                bar.update()
                raise_if_requested()  # a Ctrl-C swallowed during the point stops the sweep here
        table.finish()
    except BaseException:
        _keep_unsaved(table)
        raise
    finally:
        close_compiled()  # points evaluated in this process: Brian2 back on its runtime device
    seconds = time.perf_counter() - start
    return dict(
        points=len(work),
        skipped=len(grid) * len(seeds) - len(work),
        seconds=round(seconds, 2),
        seconds_per_point=round(seconds / len(work), 3) if work else None,
    )
