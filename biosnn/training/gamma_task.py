"""Gamma-cascade neurons on a precise-delay task: trained in torch, run in Brian2.

Task (``biosnn.data.synthetic.precise_interval_task``): does input B follow
input A by 20 +/- 2 ms? A layer of two gamma-cascade neurons (K buckets of
time constant tau: bucket k peaks (k - 1) tau after a spike, a gamma delay line)
reads inputs A, B and two distractors; the class score of neuron j is the time
average of y_j recorded at the start of every step, in both backends (the
prediction is its argmax). No surrogate gradient: y is a ReLU of the buckets.

Objectives: ``bptt`` (cross-entropy of the time-averaged y, gradients through
the whole run) and ``online`` (a loss at every step: cross-entropy of the
running average of y so far; the cascade state is detached between steps, so
each y_t reaches the parameters only through its current bucket state, and
nothing is back-propagated through the cascade's time evolution). Measured on
this task (30 epochs, seeds 0-5, logit scale 20): bptt 93-100% on every seed;
online 51-100%, seed-sensitive; see validation/gamma_dt_table.py.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..data.synthetic import batch_spike_trains, precise_interval_task
from ..errors import BiosnnInputError
from ..simulate import simulate
from ..torch.module.gamma_cascade import GammaCascade
from ..torch.run import arriving_drive
from ..inputs import make_stimulus
from ..schedule import TimeGrid

OBJECTIVES = ("bptt", "online")


@dataclass(frozen=True)
class GammaTaskConfig:
    objective: str = "bptt"
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
    bias_init: float = 0.1        # y > 0 at the start, off the dead side of the ReLU
    seed: int = 0


N_INPUTS = 4


def build(cfg: GammaTaskConfig):
    rng = np.random.default_rng(cfg.seed)
    layer = GammaCascade(dt=cfg.dt, n_neurons=2, params=dict(
        bucket_tau=(cfg.bucket_tau,) * cfg.n_buckets, theta0=cfg.theta0,
        bucket_weight=rng.normal(0, 0.3, (2, cfg.n_buckets)), bias=np.full(2, cfg.bias_init))).double()
    weights = torch.nn.Parameter(torch.as_tensor(rng.normal(0, 0.5, (N_INPUTS, 2))))
    return layer, weights


def scores(layer, weights, spikes, dt: float, duration: float, *, objective: str = "bptt"):
    """Per-step y ``[T, B, 2]`` (recorded at step starts) for batched spike trains."""
    grid = TimeGrid.from_duration(dt, duration)
    stimulus = make_stimulus(spikes, weights.detach().numpy(), grid, "cascade")
    counts = torch.as_tensor(stimulus.input_counts())
    drive = torch.cat([torch.zeros_like(counts[:1]), counts[:-1]]) @ weights  # exact-schedule latency
    if objective == "online":
        # y computed in each step from the current buckets (``y_after``): the recorded
        # start-of-step value would carry the previous step's (detached) x
        state, ys = None, []
        for x in drive:
            _, rec, state = layer(x[None], state, record=True)
            ys.append(rec["y_after"][0])
            state = state._replace(buckets=state.buckets.detach())
        return torch.stack(ys)
    _, rec, _ = layer(drive, record=True)
    return rec["v"]


def train(cfg: GammaTaskConfig, samples, labels, *, layer=None, weights=None):
    if cfg.objective not in OBJECTIVES:
        raise BiosnnInputError(f"unknown objective {cfg.objective!r}; choose one of {', '.join(OBJECTIVES)}")
    if layer is None:
        layer, weights = build(cfg)
    optimizer = torch.optim.Adam(list(layer.parameters()) + [weights], lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed + 1)
    history = []
    for _ in range(cfg.epochs):
        order = rng.permutation(len(labels))
        total = 0.0
        for start in range(0, len(order), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            spikes = batch_spike_trains([samples[i] for i in idx], N_INPUTS, cfg.duration)
            y = scores(layer, weights, spikes, cfg.dt, cfg.duration, objective=cfg.objective)
            target = torch.as_tensor(labels[idx])
            if cfg.objective == "online":
                # a loss at every step on the running class score; each y_t reaches the
                # parameters only through its own (detached) bucket state
                running, losses = torch.zeros_like(y[0]), []
                for t, yt in enumerate(y, start=1):
                    running = running * ((t - 1) / t) + yt / t
                    losses.append(torch.nn.functional.cross_entropy(cfg.logit_scale * running, target))
                loss = torch.stack(losses).mean()
            else:
                loss = torch.nn.functional.cross_entropy(cfg.logit_scale * y.mean(0), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / len(labels))
    return layer, weights, history


def evaluate(layer, weights, samples, labels, dt: float, duration: float, *, backend: str = "torch",
             target: str = "numpy") -> dict:
    """Accuracy, predictions and spike count of the trained layer at time step ``dt``."""
    spikes = batch_spike_trains(samples, N_INPUTS, duration)
    if backend == "torch":
        # the same continuous-time layer on this grid (propagators depend on dt)
        on_grid = GammaCascade(dt=dt, n_neurons=layer.n_neurons, params=layer.exported_parameters()).double()
        with torch.no_grad():
            y = scores(on_grid, weights, spikes, dt, duration).numpy()
        n_spikes = None
    else:
        params = layer.exported_parameters()
        trace = simulate("gamma_cascade", spikes, weights.detach().numpy(), backend="brian2", target=target, dt=dt,
                         duration=duration, params=params)
        y, n_spikes = trace.v, int(trace.spike_times.size)
    prediction = np.argmax(y.mean(0), axis=1)
    return dict(accuracy=float(np.mean(prediction == labels)), prediction=prediction, n_spikes=n_spikes)


def run(cfg: GammaTaskConfig, *, dt_factors=(1, 2, 4), target: str = "numpy") -> dict:
    rng = np.random.default_rng(cfg.seed + 2)
    train_samples, train_labels = precise_interval_task(rng, cfg.n_train, duration=cfg.duration)
    test_samples, test_labels = precise_interval_task(rng, cfg.n_test, duration=cfg.duration)
    t0 = time.perf_counter()
    layer, weights, history = train(cfg, train_samples, train_labels)
    train_seconds = time.perf_counter() - t0
    rows = []
    for factor in dt_factors:
        dt = cfg.dt / factor
        mirror = evaluate(layer, weights, test_samples, test_labels, dt, cfg.duration)
        ref = evaluate(layer, weights, test_samples, test_labels, dt, cfg.duration, backend="brian2", target=target)
        rows.append(dict(dt=dt, accuracy_torch=mirror["accuracy"], accuracy_brian2=ref["accuracy"],
                         prediction_agreement=float(np.mean(mirror["prediction"] == ref["prediction"])),
                         spikes_per_sample=ref["n_spikes"] / len(test_labels)))
    return dict(config=asdict(cfg), train_seconds=round(train_seconds, 2), loss_history=history, dt_table=rows)
