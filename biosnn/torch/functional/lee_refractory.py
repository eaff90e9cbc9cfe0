"""Dynamic-weight refractory LIF step: the torch mirror of ``equations/lee_refractory.py``.

Lee, Delbruck & Pfeiffer (2016), Front. Neurosci. 10:508. One call advances
step n (``t = n dt``) in Brian2's slot order under the exact schedule::

    1. v = v exp(-dt / tau_mp)                                     (groups)
    2. v += w_in * clip((t - t_r) / T_ref, 0, 1)^2;  v = max(v, -V_th)   (before_thresholds)
    3. s = H(v - V_th)                                             (thresholds)
    4. lateral circuit, if any (biosnn/torch/functional/wta.py); v = max(v, -V_th)   (synapses)
    5. v -= s V_th;  t_r = t where s                               (resets)

``t_r`` is kept in seconds, and ``t - t_r`` is computed as Brian2 computes it.
Under ``schedule="brian2_default"`` step 2 moves after step 4 (same slot,
after the lateral pathway). Gradients flow through the surrogate spike, the
dynamic weight (w.r.t. the input) and the per-neuron thresholds; ``t_r`` is
bookkeeping and carries none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch

from ..surrogate import Surrogate

NEVER_TRIGGERED = -1e4  # s; Brian2's convention for "never spiked"


class LeeParams(NamedTuple):
    decay: float             # exp(-dt / tau_mp)
    t_ref: float             # T_ref (s)
    dt: float                # s
    v_th: torch.Tensor       # [N] thresholds


class LeeState(NamedTuple):
    v: torch.Tensor
    t_r: torch.Tensor        # latest refractory trigger (s), float64
    step: int


@dataclass(frozen=True)
class LeeConfig:
    schedule: str = "exact"
    surrogate: Surrogate = Surrogate("fast_sigmoid")
    detach_reset: bool = False


def lee_params(tau_mp: float, t_ref: float, dt: float, v_th: torch.Tensor) -> LeeParams:
    return LeeParams(decay=math.exp(-dt / tau_mp), t_ref=t_ref, dt=dt, v_th=v_th)


def initial_state(shape, *, dtype, device=None) -> LeeState:
    v = torch.zeros(shape, dtype=dtype, device=device)
    t_r = torch.full(shape, NEVER_TRIGGERED, dtype=torch.float64, device=device)
    return LeeState(v, t_r, 0)


def dynamic_weight(t: float, t_r: torch.Tensor, t_ref: float) -> torch.Tensor:
    """``min(1, ((t - t_r) / T_ref)^2)`` (t - t_r >= 0 always)."""
    return torch.clamp((t - t_r) / t_ref, 0.0, 1.0) ** 2


def floor(v: torch.Tensor, v_th: torch.Tensor) -> torch.Tensor:
    """Lower bound ``v >= -V_th``."""
    return torch.maximum(v, -v_th)


def lee_step(drive: torch.Tensor, state: LeeState, params: LeeParams, config: LeeConfig,
             lateral: Callable | None = None):
    """Advance one step; returns ``(spike, new_state)``.

    ``lateral(v, t_r, spike, t) -> (v, t_r)`` applies the circuit's inhibition.
    """
    t = state.step * params.dt
    v = state.v * params.decay
    t_r = state.t_r

    def arrive(v):
        w_dyn = dynamic_weight(t, t_r, params.t_ref).to(v.dtype)
        return floor(v + drive * w_dyn, params.v_th)

    if config.schedule == "exact":
        v = arrive(v)
    spike = config.surrogate(v - params.v_th)
    if lateral is not None:
        v, t_r = lateral(v, t_r, spike, t)
    if config.schedule == "brian2_default":
        v = arrive(v)
    if lateral is not None or config.schedule == "brian2_default":
        v = floor(v, params.v_th)
    s = spike.detach() if config.detach_reset else spike
    v = v - s * params.v_th
    t_r = torch.where(spike.detach() > 0, torch.full_like(t_r, t), t_r)
    return spike, LeeState(v, t_r, state.step + 1)
