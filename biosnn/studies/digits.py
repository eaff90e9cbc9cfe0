"""A real task end to end: Poisson-encoded 8x8 digits through a 64-100-10 WTA network.

Lee, Delbruck & Pfeiffer (2016)'s architecture in miniature: dynamic-weight
refractory neurons, WTA circuits in the hidden (mu_hidden) and output
(mu_output) layers, trained in torch (``biosnn.training.loop.fit``, fresh
Poisson spikes every batch) either with the paper's rule
(``biosnn/training/lee_rule.py``) or with surrogate gradients (BPTT), then
exported and run in Brian2 on the same test spike trains. The prediction is the
output neuron with the most spikes (ties: lowest index, in both backends).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..core.errors import BiosnnInputError
from ..core.spikes import SpikeTrains
from ..data.digits import PoissonImages, load_digit_splits, poisson_raster
from ..models.network import LayerSpec
from ..simulation import simulate_network
from ..torch.network import FeedForward
from ..training.lee_rule import enforce_threshold_floor, exponential_weight_penalty, lee_init, lee_rule_logits
from ..training.loop import TrainConfig, fit

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

RULES = ("lee", "surrogate")


@dataclass(frozen=True)
class DigitsConfig:
    rule: str = "lee"
    mu_hidden: float = -0.4
    mu_output: float = -1.0
    sigma: float = 0.5
    hidden: int = 100
    hidden_circuit: int = 10  # neurons per hidden WTA circuit (output: one circuit)
    a: float = 3.0  # init scale: W ~ U[-a/sqrt(M), a/sqrt(M)], V_th ~ U[a, 2a]
    dt: float = 1e-3
    n_steps: int = 60
    max_rate: float = 400.0  # Hz at full pixel intensity
    tau_mp: float = 20e-3
    T_ref: float = 1e-3
    epochs: int = 15
    batch_size: int = 32
    lr: float = 3e-3
    logit_scale: float = 0.5
    surrogate_alpha: float = 10.0  # fast sigmoid slope, per unit of a (thresholds ~ a)
    weight_beta: float = 1e-3  # exponential weight regularisation
    weight_lambda: float = 1.0
    seed: int = 0


def build_network(cfg: DigitsConfig) -> FeedForward:
    rng = np.random.default_rng(cfg.seed)
    weights, thresholds = lee_init([64, cfg.hidden, 10], a=cfg.a, rng=rng)
    common = dict(tau_mp=cfg.tau_mp, T_ref=cfg.T_ref, sigma=cfg.sigma)
    layers = [
        LayerSpec(
            "wta",
            cfg.hidden,
            dict(common, mu=cfg.mu_hidden, circuit_size=float(cfg.hidden_circuit), v_th=thresholds[0]),
        ),
        LayerSpec("wta", 10, dict(common, mu=cfg.mu_output, circuit_size=0.0, v_th=thresholds[1])),
    ]
    # Surrogate BPTT: the subtractive reset's path (dv/dv = 1 - V_th H') explodes over
    # many steps when V_th > 2, so it is detached (spikingjelly's detach_reset).
    surrogate = dict(surrogate="fast_sigmoid", surrogate_alpha=cfg.surrogate_alpha / cfg.a, detach_reset=True)
    return FeedForward(64, layers, dt=cfg.dt, weights=weights, **surrogate).double()


def _logits(net, raster, cfg: DigitsConfig):
    if cfg.rule == "lee":
        logits, _ = lee_rule_logits(net, raster, logit_scale=cfg.logit_scale * cfg.n_steps / 10)
        return logits
    return net(raster)[-1].sum(0) * cfg.logit_scale


def objective(
    cfg: DigitsConfig,
) -> Callable[[FeedForward, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Cross-entropy of the rule's logits plus the exponential weight regularisation."""

    def loss(net: FeedForward, raster: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = _logits(net, raster, cfg)
        ce = torch.nn.functional.cross_entropy(logits, labels)
        return ce + exponential_weight_penalty(net, a=cfg.a, beta=cfg.weight_beta, lam=cfg.weight_lambda), logits

    return loss


def train(
    net: FeedForward,
    cfg: DigitsConfig,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    progress: bool = True,
    checkpoint_dir: str | None = None,
) -> dict[str, Any]:
    """Adam over seeded mini-batches (the one training loop); fresh Poisson spikes every batch.
    Returns the loss history."""
    if cfg.rule not in RULES:
        raise BiosnnInputError(f"unknown rule {cfg.rule!r}; choose one of {', '.join(RULES)}")
    data = PoissonImages(images, labels, n_steps=cfg.n_steps, dt=cfg.dt, max_rate=cfg.max_rate)
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
            progress=progress,
        ),
        objective=objective(cfg),
        post_step=lambda model: enforce_threshold_floor(model, cfg.a),
    )
    return history["loss"]


def predict(counts: np.ndarray) -> np.ndarray:
    """Most spikes wins; ties go to the lowest index (np.argmax), identically in both backends."""
    return np.argmax(counts, axis=1)


def run(cfg: DigitsConfig, *, n_test: int | None = None, target: str = "numpy", progress: bool = True) -> dict:
    """Train in torch, evaluate the float64 mirror and the Brian2 twin on the same test spikes."""
    train_split, test_split = load_digit_splits(seed=cfg.seed)
    net = build_network(cfg)
    t0 = time.perf_counter()
    history = train(net, cfg, train_split.images, train_split.labels, progress=progress)
    train_seconds = time.perf_counter() - t0
    images, labels = test_split.images[:n_test], test_split.labels[:n_test]
    raster = poisson_raster(
        images, n_steps=cfg.n_steps, dt=cfg.dt, max_rate=cfg.max_rate, rng=np.random.default_rng(cfg.seed + 2)
    )
    with torch.no_grad():
        torch_counts = net(torch.as_tensor(raster))[-1].sum(0).numpy().astype(np.int64)
    t1 = time.perf_counter()
    activity = simulate_network(
        net.export(),
        SpikeTrains.from_raster(raster, cfg.dt),
        backend="brian2",
        dt=cfg.dt,
        duration=cfg.n_steps * cfg.dt,
        target=target,
    )
    brian_seconds = time.perf_counter() - t1
    brian_counts = activity[-1].counts()
    p_torch, p_brian = predict(torch_counts), predict(brian_counts)
    return dict(
        config=asdict(cfg),
        n_test=int(labels.size),
        loss_history=history,
        train_seconds=round(train_seconds, 2),
        brian_seconds=round(brian_seconds, 2),
        target=target,
        accuracy_torch=float(np.mean(p_torch == labels)),
        accuracy_brian2=float(np.mean(p_brian == labels)),
        prediction_agreement=float(np.mean(p_torch == p_brian)),
        identical_output_counts=float(np.mean(np.all(torch_counts == brian_counts, axis=1))),
        silent_test_samples=int(np.sum(torch_counts.sum(1) == 0)),
    )
