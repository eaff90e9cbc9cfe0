"""The temporal-coding tasks of Yu, Sun & Goodman (2025), trained in torch, evaluated in both backends.

Their networks are SLAYER SRM networks with learned PSP filters, trained for
300-1000 epochs. Here the same tasks train biosnn's own models through the one
training loop (:func:`biosnn.training.loop.fit`), the paper's *SGD* and
*SGD-delay* set-ups:

* inputs -> a PLIF hidden layer (Fang et al. 2021: the membrane time constant is
  learned) -> a non-spiking leaky readout (``li``, time constant the sample's
  duration unless set: read by its membrane potential after the last step, it
  must remember the whole sample); cross-entropy; fast-sigmoid surrogate (alpha 100);
* SGD-delay adds learnable axonal delays (one per presynaptic neuron, every
  hop, ``d_max``), exported rounded to whole steps as Brian2 rounds them;
* SHD/SSC: the paper's 2 x 128 architecture (``hidden=(128, 128)``) with delays,
  on data read by :func:`biosnn.data.shd.read_dataset`.

The trained network is exported as a :class:`~biosnn.models.network.FeedForwardNet`
description: what :mod:`biosnn.studies.perturbation.sweep` evaluates in torch and in Brian2
(:func:`train_once` and :func:`sweep_trained`: the steps the study scripts share).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..core.errors import BiosnnInputError
from ..core.schedule import TimeGrid
from ..data.dataset import SpikeDataset
from ..data.tasks import TASKS as GENERATORS
from ..data.tasks import rate_baseline
from ..models.network import FeedForwardNet, LayerSpec
from ..torch.network import FeedForward
from ..training.loop import TensorData, TrainConfig, evaluate, fit

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from ..core.results import StudyResults
    from .perturbation.table import SweepTable

TASKS = tuple(GENERATORS)
EXTERNAL = ("shd", "ssc")  # tasks whose data the caller reads (biosnn.data.shd.read_dataset)


@dataclass(frozen=True)
class TimingTaskConfig:
    task: str = "isi"
    task_params: dict = field(default_factory=dict)  # e.g. {"mixing": 0.5} for the coincidence task
    delays: bool = False  # SGD-delay
    dt: float = 1e-3
    hidden: int | tuple[int, ...] = 100  # PLIF layer sizes (SHD: (128, 128))
    tau_hidden: float = 20e-3  # PLIF's initial membrane time constant (learned unless learn_tau is False)
    learn_tau: bool = True  # False: the same PLIF layers with tau_m frozen at tau_hidden (a LIF with that tau)
    tau_readout: float | None = None  # default: the samples' duration (the readout integrates the whole sample)
    d_max: float = 50e-3  # longest learnable axonal delay
    n_train: int = 1024
    n_test: int = 256
    epochs: int = 15
    batch_size: int = 32
    lr: float = 1e-2
    delay_lr: float = 0.5  # Adam step for delays, in steps
    surrogate_alpha: float = 100.0
    seed: int = 0
    fused: bool = (
        True  # the fused time loop where the model has one; False: the phase loop (same maths, other rounding)
    )

    def __post_init__(self) -> None:
        if self.task not in TASKS + EXTERNAL:
            raise BiosnnInputError(f"unknown task {self.task!r}; choose one of {', '.join(TASKS + EXTERNAL)}")
        sizes = (self.hidden,) if isinstance(self.hidden, (int, np.integer)) else tuple(self.hidden)
        if not sizes or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
            raise BiosnnInputError(f"hidden must be a positive layer size or a list of them, got {self.hidden!r}")
        object.__setattr__(self, "hidden", sizes if len(sizes) > 1 else int(sizes[0]))

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        return self.hidden if isinstance(self.hidden, tuple) else (self.hidden,)

    @property
    def name(self) -> str:
        extra = "".join(f"-{k}{v}" for k, v in sorted(self.task_params.items()))
        loop = "" if self.fused else "-phase"
        default = self.learn_tau and self.tau_hidden == TimingTaskConfig.tau_hidden
        tau = "" if default else f"-{'' if self.learn_tau else 'fixed'}tau{self.tau_hidden * 1e3:g}ms"
        return f"{self.task}{extra}-{'sgd_delay' if self.delays else 'sgd'}{tau}{loop}-seed{self.seed}"


def on_grid(data: SpikeDataset, dt: float) -> SpikeDataset:
    """The dataset with at most one spike per unit and step of ``dt`` (what both backends can carry)."""
    spikes, _ = data.spikes.one_per_step(dt)
    return SpikeDataset(spikes, data.labels, data.n_classes, data.meta)


def datasets(cfg: TimingTaskConfig) -> tuple[SpikeDataset, SpikeDataset]:
    """Train and test sets of a synthetic task, seeded by the config's seed, on the grid of dt."""
    if cfg.task not in TASKS:
        raise BiosnnInputError(f"task {cfg.task!r} has no generator: pass its data to train(..., data=(train, test))")
    rng = np.random.default_rng([cfg.seed, 1])
    make = GENERATORS[cfg.task]
    train, test = (make(rng, n, **cfg.task_params) for n in (cfg.n_train, cfg.n_test))
    return on_grid(train, cfg.dt), on_grid(test, cfg.dt)


def build(cfg: TimingTaskConfig, n_inputs: int, n_classes: int, duration: float) -> FeedForward:
    """The untrained network for samples of ``duration`` (s), seeded by the config."""
    rng = np.random.default_rng([cfg.seed, 2])
    sizes = (n_inputs,) + cfg.hidden_sizes
    layers = [LayerSpec("plif", n, dict(tau_m=cfg.tau_hidden)) for n in cfg.hidden_sizes]
    layers.append(LayerSpec("li", n_classes, dict(tau_m=cfg.tau_readout or duration)))
    weights = [rng.normal(0, 2.0 / np.sqrt(a), (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    weights.append(rng.normal(0, 1.0 / np.sqrt(sizes[-1]), (sizes[-1], n_classes)))
    delays = [rng.uniform(0, cfg.d_max / 2, n) for n in sizes] if cfg.delays else None
    net = FeedForward(
        n_inputs,
        layers,
        dt=cfg.dt,
        weights=weights,
        delays=delays,
        learn_delays=cfg.delays,
        d_max=cfg.d_max if cfg.delays else None,
        surrogate="fast_sigmoid",
        surrogate_alpha=cfg.surrogate_alpha,
        fused=cfg.fused,
    ).double()
    if not cfg.learn_tau:  # the same model with its time constant fixed (Fang et al.'s LIF baseline)
        for layer in net.neurons:
            for parameter in layer.learnt.values():
                parameter.requires_grad_(False)
    return net


def learnt_time_constants(model: FeedForward) -> dict:
    """``{"tau_m": [s, ...]}``: the membrane time constant of every layer that learns one (the PLIF hidden
    layers, ``tau_m = dt / sigmoid(a)``, Fang et al. 2021), in layer order."""
    return {"tau_m": [float(layer.exported_parameters()["tau_m"]) for layer in model.neurons if layer.learnable_names]}


def accuracy(model: FeedForward, inputs: torch.Tensor, data: SpikeDataset) -> float:
    """The fraction of ``data``'s samples (``inputs`` from :func:`_inputs`) the model classifies correctly."""
    return float(np.mean(np.argmax(evaluate(model, inputs), 1) == data.labels))


def _inputs(data: SpikeDataset, dt: float) -> torch.Tensor:
    grid = TimeGrid.from_duration(dt, data.duration)
    return torch.as_tensor(np.transpose(data.spikes.to_raster(dt, grid.n_steps), (1, 0, 2)))  # [S, T, N]


def train(
    cfg: TimingTaskConfig,
    *,
    data: tuple[SpikeDataset, SpikeDataset] | None = None,
    checkpoint_dir: str | None = None,
    progress: bool = False,
) -> tuple[FeedForwardNet, SpikeDataset, SpikeDataset, dict]:
    """Train on the task (its generator's data, or ``data = (train, test)``, e.g. SHD read by
    :func:`biosnn.data.shd.read_dataset`); returns the exported network, the train and test sets (on
    the grid of dt) and a summary."""
    if data is None:
        train_set, test_set = datasets(cfg)
    else:
        train_set, test_set = (on_grid(d, cfg.dt) for d in data)
        if train_set.n_inputs != test_set.n_inputs:
            raise BiosnnInputError(f"train has {train_set.n_inputs} channels, test {test_set.n_inputs}")
    net = build(cfg, train_set.n_inputs, max(train_set.n_classes, test_set.n_classes), train_set.duration)
    test_inputs = _inputs(test_set, cfg.dt)
    start = time.perf_counter()
    history = fit(
        net,
        TensorData(_inputs(train_set, cfg.dt), torch.as_tensor(train_set.labels)),
        TrainConfig(
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            delay_lr=cfg.delay_lr,
            seed=cfg.seed,
            checkpoint_dir=checkpoint_dir,
            progress=progress,
        ),
        post_step=lambda m: m.clamp_delays_(),
        delay_parameters=net.delay_parameters(),
        monitor=lambda model: learnt_time_constants(model) | {"test_accuracy": accuracy(model, test_inputs, test_set)},
    )
    seconds = time.perf_counter() - start
    logits = evaluate(net, test_inputs)
    summary = dict(
        config=asdict(cfg),
        name=cfg.name,
        train_seconds=round(seconds, 1),
        time_loop=net.time_loop,
        torch_threads=torch.get_num_threads(),
        train_accuracy=history["accuracy"][-1] if history["accuracy"] else None,
        test_accuracy_torch=float(np.mean(np.argmax(logits, 1) == test_set.labels)),
        rate_baseline_logistic=rate_baseline(train_set, test_set, classifier="logistic", seed=cfg.seed),
        rate_baseline_mlp=rate_baseline(train_set, test_set, classifier="mlp", seed=cfg.seed),
        loss=history["loss"],
        train_accuracy_history=history["accuracy"],
        tau_m_history=[m["tau_m"] for m in history["monitor"]],
        test_accuracy_history=[m["test_accuracy"] for m in history["monitor"]],
    )
    return net.export(), train_set, test_set, summary


def train_once(
    cfg: TimingTaskConfig,
    out: Path | str,
    training: StudyResults,
    key: str,
    *,
    data: tuple[SpikeDataset, SpikeDataset] | None = None,
    n_eval: int | None = None,
    progress: bool = False,
) -> tuple[FeedForwardNet, SpikeDataset, SpikeDataset, dict]:
    """Train ``cfg`` unless ``training`` (a :class:`~biosnn.core.results.StudyResults`) holds ``key`` and its files
    exist under ``out`` (``networks/<name>.npz``, ``data/<name>-test.npz``, ``data/<name>-train.npz``; the
    test set cut to its first ``n_eval`` samples); returns the saved network, test and training sets, and
    the paths by kind (network, dataset, training set), the files behind the sweep's names."""
    from pathlib import Path

    out = Path(out)
    (out / "networks").mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    paths = {
        "network": out / "networks" / f"{cfg.name}.npz",
        "dataset": out / "data" / f"{cfg.name}-test.npz",
        "training set": out / "data" / f"{cfg.name}-train.npz",
    }
    if not (training.done(key) and all(p.exists() for p in paths.values())):
        net, train_set, test_set, summary = train(
            cfg, data=data, checkpoint_dir=str(out / "checkpoints" / cfg.name), progress=progress
        )
        train_set.save(paths["training set"])
        (test_set if n_eval is None else test_set.subset(np.arange(min(n_eval, len(test_set))))).save(paths["dataset"])
        net.save(paths["network"])
        training.add(summary, key)
        print(json.dumps({k: v for k, v in summary.items() if k not in ("config", "loss")}), flush=True)
    return (
        FeedForwardNet.load(paths["network"]),
        SpikeDataset.load(paths["dataset"]),
        SpikeDataset.load(paths["training set"]),
        paths,
    )


def sweep_trained(
    table: SweepTable,
    cfg: TimingTaskConfig,
    trained: tuple[FeedForwardNet, SpikeDataset, SpikeDataset, dict[str, Path]],
    grid: Iterable[tuple[str, float]],
    seeds: Iterable[int],
    *,
    fine_factor: int = 4,
    binned: bool = False,
    jobs: int = 1,
    progress: bool = False,
) -> dict:
    """Sweep a network of :func:`train_once` through every backend (Brian2 at dt and dt / ``fine_factor``)
    into ``table``, its files bound to their names; prints and returns the sweep's summary."""
    from ..core.io import file_digest
    from .perturbation.sweep import BACKENDS, SweepSpec, run_sweep

    net, test, train_set, paths = trained
    names = {"network": cfg.name, "dataset": f"{cfg.name}-test", "training set": f"{cfg.name}/{cfg.name}-test"}
    dts = (cfg.dt,) + ((cfg.dt / fine_factor,) if fine_factor > 1 else ())
    spec = SweepSpec(cfg.name, names["dataset"], cfg.dt, BACKENDS, brian_dts=dts, binned=binned)
    summary = run_sweep(
        table,
        net,
        test,
        spec,
        grid,
        seeds,
        jobs=jobs,
        train=train_set,
        progress=progress,
        sources=[(kind, names[kind], file_digest(path)) for kind, path in paths.items()],
    )
    print(json.dumps({"network": cfg.name, "binned": binned} | summary), flush=True)
    return summary
