"""Gamma-cascade neurons on a precise-delay task: trained in torch, run in Brian2.

Task (``biosnn.data.synthetic.precise_interval_task``): does input B follow
input A by 20 +/- 2 ms? A layer of two gamma-cascade neurons (K buckets of
time constant tau: bucket k peaks (k - 1) tau after a spike, a gamma delay line)
reads inputs A, B and two distractors; the class score of neuron j is the time
average of y_j recorded at the start of every step, in both backends (the
prediction is its argmax). No surrogate gradient: y is a ReLU of the buckets.
With ``n_hidden > 0`` a hidden gamma layer sits in between; the output neurons
read its sigma-delta spikes through their own cascades, and the gradient
crosses the spikes straight-through (``biosnn.torch.network``).

Objectives: ``bptt`` (cross-entropy of the time-averaged y, gradients through
the whole run) and ``online`` (a loss at every step: cross-entropy of the
running average of y so far, its gradient accumulated forward in time from
each source's bucket states, the eligibility traces: nothing is stored or
back-propagated through time; ``biosnn/training/online.py``; one layer only).
Measured accuracies (30 epochs, logit scale 20, 300 test samples, seeds 0-5):
validation/gamma_dt_table.py writes them; the README lists them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..core.errors import BiosnnInputError
from ..core.schedule import TimeGrid
from ..data.synthetic import batch_spike_trains, precise_interval_task
from ..models.network import LayerSpec
from ..simulation import simulate_network
from ..torch.dynamics.gamma_cascade import cascade_propagator, read_buckets, source_buckets
from ..torch.network import FeedForward
from ..training.loop import TrainConfig, fingerprint, fit
from ..training.online import gradient_as_loss, running_average_ce_gradient

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from ..core.spikes import SpikeTrains

OBJECTIVES = ("bptt", "online")


@dataclass(frozen=True)
class GammaTaskConfig:
    objective: str = "bptt"
    n_hidden: int = 0  # > 0: a hidden gamma layer of this size (bptt only)
    n_buckets: int = 12
    bucket_tau: float = 2e-3
    dt: float = 1e-3
    duration: float = 0.06
    theta0: float = 0.05
    n_train: int = 600
    n_test: int = 300
    epochs: int = 30
    batch_size: int = 50
    lr: float = 5e-2
    logit_scale: float = 20.0
    bias_init: float = 0.1  # y > 0 at the start, off the dead side of the ReLU
    seed: int = 0


N_INPUTS, N_CLASSES = 4, 2


DT_FACTORS = (1, 2, 4)


def check_config(cfg: GammaTaskConfig, dt_factors: Sequence[int] = DT_FACTORS) -> None:
    """Everything a run needs, before it starts: the objective, the layers, and a duration of whole
    steps at the training dt and at every dt the trained network is evaluated at."""
    for factor in dt_factors:
        TimeGrid.from_duration(cfg.dt / factor, cfg.duration)
    if cfg.objective not in OBJECTIVES:
        raise BiosnnInputError(f"unknown objective {cfg.objective!r}; choose one of {', '.join(OBJECTIVES)}")
    if cfg.n_hidden < 0:
        raise BiosnnInputError(f"n_hidden must be >= 0, got {cfg.n_hidden}")
    if cfg.objective == "online" and cfg.n_hidden:
        raise BiosnnInputError(
            "the online objective is exact for one gamma layer only (its input buckets are the "
            "eligibility traces); use objective='bptt' with a hidden layer"
        )


def build(cfg: GammaTaskConfig) -> FeedForward:
    """Inputs -> [hidden gamma layer] -> two gamma neurons whose time-averaged y are the class scores."""
    rng = np.random.default_rng(cfg.seed)
    sizes = [N_INPUTS] + ([cfg.n_hidden] if cfg.n_hidden else []) + [N_CLASSES]
    layers, weights = [], []
    for n_prev, n in zip(sizes[:-1], sizes[1:]):
        params = dict(
            bucket_tau=(cfg.bucket_tau,) * cfg.n_buckets,
            theta0=cfg.theta0,
            bucket_weight=rng.normal(0, 0.3, (n, cfg.n_buckets)),
            bias=np.full(n, cfg.bias_init),
        )
        layers.append(LayerSpec("gamma_cascade", n, params))
        weights.append(rng.normal(0, 0.5 / np.sqrt(n_prev / N_INPUTS), (n_prev, n)))
    return FeedForward(N_INPUTS, layers, dt=cfg.dt, weights=weights).double()


def input_counts(spikes: SpikeTrains, dt: float, duration: float) -> torch.Tensor:
    """``[T, B, N_INPUTS]`` input spike counts per step."""
    return torch.as_tensor(spikes.to_raster(dt, TimeGrid.from_duration(dt, duration).n_steps), dtype=torch.float64)


class IntervalSamples:
    """Spike-time samples as input counts on the training grid (a dataset for ``fit``)."""

    def __init__(
        self, samples: Sequence[tuple[np.ndarray, np.ndarray]], labels: np.ndarray, *, dt: float, duration: float
    ) -> None:
        self.counts = input_counts(batch_spike_trains(samples, N_INPUTS, duration), dt, duration)  # [T, S, N]
        self.labels = torch.as_tensor(labels)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def fingerprint(self) -> str:
        return fingerprint(self.counts, self.labels)

    def batch(self, index: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self.counts[:, index]


def scores(net: FeedForward, counts: torch.Tensor) -> torch.Tensor:
    """Output y ``[T, B, 2]`` (recorded at step starts, as Brian2 records it) for input counts ``[T, B, 4]``."""
    return net(counts, record=True)[-1].recorded["y"]


def online_output(params: Mapping[str, torch.Tensor], source_state: torch.Tensor) -> torch.Tensor:
    """One sample's ``y [2]`` from its sources' buckets ``[N_in, K]`` (y computed in the layer's step)."""
    neuron_buckets = torch.einsum("ik,ij->jk", source_state, params["weights"])  # linearity of the cascade
    return read_buckets(neuron_buckets, params["bucket_weight"], params["bias"])[1]


def online_parameters(net: FeedForward) -> dict:
    layer = net.neurons[0]
    return dict(weights=net.weights[0], bucket_weight=layer.bucket_weight, bias=layer.bias)


def online_loss_and_gradient(
    net: FeedForward, counts: torch.Tensor, target: torch.Tensor, dt: float, logit_scale: float
) -> tuple[float, dict[str, torch.Tensor]]:
    """The online objective: per-step loss on the running class score, gradient accumulated forward."""
    propagator = cascade_propagator(net.neurons[0].dynamics.bucket_tau.to(counts.dtype), dt)
    return running_average_ce_gradient(
        online_output, online_parameters(net), source_buckets(counts, propagator), target, logit_scale=logit_scale
    )


def objective(
    cfg: GammaTaskConfig,
) -> Callable[[FeedForward, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]]:
    """``bptt``: CE of the time-averaged y through the whole run; ``online``: the forward-accumulated gradient."""

    def bptt(net: FeedForward, counts: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = cfg.logit_scale * scores(net, counts).mean(0)
        return torch.nn.functional.cross_entropy(logits, target), logits

    def online(net: FeedForward, counts: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, None]:
        loss, grads = online_loss_and_gradient(net, counts, target, cfg.dt, cfg.logit_scale)
        return gradient_as_loss(loss, online_parameters(net), grads), None

    return online if cfg.objective == "online" else bptt


def train(
    cfg: GammaTaskConfig,
    samples: Sequence[tuple[np.ndarray, np.ndarray]],
    labels: np.ndarray,
    *,
    net: FeedForward | None = None,
    checkpoint_dir: str | None = None,
) -> tuple[FeedForward, list[float]]:
    """Adam on mini-batches (the one training loop); returns ``(net, loss per epoch)``."""
    check_config(cfg)
    if net is None:
        net = build(cfg)
    data = IntervalSamples(samples, labels, dt=cfg.dt, duration=cfg.duration)
    history = fit(
        net,
        data,
        TrainConfig(
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            cosine=False,
            seed=cfg.seed,
            checkpoint_dir=checkpoint_dir,
            progress=False,
        ),
        objective=objective(cfg),
    )
    return net, history["loss"]


def evaluate(
    net: FeedForward,
    samples: Sequence[tuple[np.ndarray, np.ndarray]],
    labels: np.ndarray,
    dt: float,
    duration: float,
    *,
    backend: str = "torch",
    target: str = "numpy",
) -> dict:
    """Accuracy, predictions and spikes per layer of the trained network at time step ``dt``."""
    spikes = batch_spike_trains(samples, N_INPUTS, duration)
    description = net.export()
    if backend == "torch":
        # the same continuous-time network on this grid (propagators depend on dt)
        on_grid = FeedForward.from_description(description, dt=dt).double()
        with torch.no_grad():
            y = scores(on_grid, input_counts(spikes, dt, duration)).numpy()
        n_spikes = None
    else:
        activity = simulate_network(
            description, spikes, backend="brian2", dt=dt, duration=duration, target=target, record=True
        )
        y, n_spikes = activity[-1].v, [int(a.spike_steps.size) for a in activity]
    prediction = np.argmax(y.mean(0), axis=1)
    return dict(accuracy=float(np.mean(prediction == labels)), prediction=prediction, n_spikes=n_spikes)


def run(cfg: GammaTaskConfig, *, dt_factors: Sequence[int] = DT_FACTORS, target: str = "numpy") -> dict:
    check_config(cfg, dt_factors)
    rng = np.random.default_rng(cfg.seed + 2)
    train_samples, train_labels = precise_interval_task(rng, cfg.n_train, duration=cfg.duration)
    test_samples, test_labels = precise_interval_task(rng, cfg.n_test, duration=cfg.duration)
    t0 = time.perf_counter()
    net, history = train(cfg, train_samples, train_labels)
    train_seconds = time.perf_counter() - t0
    rows = []
    for factor in dt_factors:
        dt = cfg.dt / factor
        mirror = evaluate(net, test_samples, test_labels, dt, cfg.duration)
        ref = evaluate(net, test_samples, test_labels, dt, cfg.duration, backend="brian2", target=target)
        rows.append(
            dict(
                dt=dt,
                accuracy_torch=mirror["accuracy"],
                accuracy_brian2=ref["accuracy"],
                prediction_agreement=float(np.mean(mirror["prediction"] == ref["prediction"])),
                spikes_per_sample=sum(ref["n_spikes"]) / len(test_labels),
                spikes_per_sample_per_layer=[n / len(test_labels) for n in ref["n_spikes"]],
            )
        )
    return dict(
        config=asdict(cfg),
        train_seconds=round(train_seconds, 2),
        time_loop=net.time_loop,
        torch_threads=torch.get_num_threads(),
        loss_history=history,
        dt_table=rows,
    )
