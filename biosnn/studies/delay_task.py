"""Two-layer delay network on the interval-order timing task, trained in torch, run in Brian2.

inputs (4) --learnable axonal delays--> LIF (16) --learnable axonal delays--> LI readout (2),
read by its membrane potential after the last step, cross-entropy
(the temporal-shd ISI/coincidence setup in miniature). The trained network is
exported (delays rounded to whole steps: floor in integer mode, nearest in
fractional mode) and run in Brian2 on the same test spikes.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..core.spikes import SpikeTrains
from ..data.synthetic import interval_order_task
from ..models.network import LayerSpec
from ..simulation import simulate_network
from ..torch.network import FeedForward
from ..training.loop import TensorData, TrainConfig, evaluate, fit


@dataclass(frozen=True)
class DelayTaskConfig:
    dt: float = 1e-3
    n_steps: int = 40
    hidden: int = 16
    tau_hidden: float = 5e-3
    tau_readout: float = 20e-3
    d_max: float = 15e-3
    learn_delays: bool = True
    fractional: bool = False
    n_train: int = 600
    n_test: int = 300
    epochs: int = 25
    lr: float = 1e-2
    delay_lr: float = 0.05
    surrogate_alpha: float = 5.0
    seed: int = 0


def build(cfg: DelayTaskConfig) -> FeedForward:
    rng = np.random.default_rng(cfg.seed)
    layers = [LayerSpec("lif", cfg.hidden, dict(tau_m=cfg.tau_hidden)), LayerSpec("li", 2, dict(tau_m=cfg.tau_readout))]
    weights = [rng.normal(0, 0.8, (4, cfg.hidden)), rng.normal(0, 0.3, (cfg.hidden, 2))]
    delays = (
        [rng.uniform(0, 0.8 * cfg.d_max, 4), rng.uniform(0, 0.8 * cfg.d_max, cfg.hidden)] if cfg.learn_delays else None
    )
    return FeedForward(
        4,
        layers,
        dt=cfg.dt,
        weights=weights,
        delays=delays,
        learn_delays=cfg.learn_delays,
        d_max=cfg.d_max,
        fractional_delays=cfg.fractional,
        surrogate_alpha=cfg.surrogate_alpha,
    ).double()


def run(
    cfg: DelayTaskConfig, *, checkpoint_dir: str | None = None, progress: bool = False, target: str = "numpy"
) -> dict:
    rng = np.random.default_rng(cfg.seed + 1)
    x_train, y_train = interval_order_task(rng, cfg.n_train, n_steps=cfg.n_steps)
    x_test, y_test = interval_order_task(rng, cfg.n_test, n_steps=cfg.n_steps)
    net = build(cfg)
    t0 = time.perf_counter()
    history = fit(
        net,
        TensorData(torch.as_tensor(x_train), torch.as_tensor(y_train)),
        TrainConfig(
            epochs=cfg.epochs,
            lr=cfg.lr,
            delay_lr=cfg.delay_lr,
            seed=cfg.seed,
            checkpoint_dir=checkpoint_dir,
            progress=progress,
        ),
        post_step=lambda m: m.clamp_delays_(),
        delay_parameters=net.delay_parameters(),
    )
    train_seconds = time.perf_counter() - t0
    torch_logits = evaluate(net, torch.as_tensor(x_test))
    exported = net.export()
    mirror_of_export = FeedForward.from_description(exported, dt=cfg.dt).double()
    export_logits = evaluate(mirror_of_export, torch.as_tensor(x_test))
    raster = np.transpose(x_test, (1, 0, 2))  # [T, S, N]
    activity = simulate_network(
        exported,
        SpikeTrains.from_raster(raster, cfg.dt),
        backend="brian2",
        dt=cfg.dt,
        duration=cfg.n_steps * cfg.dt,
        target=target,
    )
    brian_logits = activity[-1].final_v
    p_torch, p_export, p_brian = (np.argmax(v, axis=1) for v in (torch_logits, export_logits, brian_logits))
    return dict(
        config=asdict(cfg),
        train_seconds=round(train_seconds, 2),
        time_loop=net.time_loop,
        torch_threads=torch.get_num_threads(),
        loss_history=history["loss"],
        accuracy_torch=float(np.mean(p_torch == y_test)),
        accuracy_exported_torch=float(np.mean(p_export == y_test)),
        accuracy_brian2=float(np.mean(p_brian == y_test)),
        prediction_agreement=float(np.mean(p_export == p_brian)),
        max_abs_readout_difference=float(np.max(np.abs(export_logits - brian_logits))),
        delays_steps=[m.delay_steps.detach().numpy().tolist() for m in net.axonal.values()],
        net=exported,
    )
