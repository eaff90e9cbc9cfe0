"""LIF step function: the torch mirror of ``equations/lif.py``.

One call advances one time step ``[t_n, t_{n+1})`` in Brian2's slot order
(``biosnn/schedule.py``)::

    1. refractoriness:  integrating = steps_since_spike > R            (Brian2 not_refractory)
    2. state update:    u = v - v_rest; integrate over dt with X held   (groups)
         exact:  u' = u e^{-r} + X (1 - e^{-r})                          r = dt / tau_m
                 current synapses (r_s = dt / tau_s):
                 u' = u e^{-r} + I r e^{-r} exprel(r - r_s),  I' = I e^{-r_s}
         euler:  u' = u + (X - u) r;  current:  u' = u + (I - u) r,  I' = I - I r_s
       refractory neurons keep v (the ``(unless refractory)`` flag); I always evolves
    3. exact schedule:  v += w_in * integrating (delta) | I += w_in (current)   (before_thresholds)
    4. spike = H(v - v_th) * integrating                                       (thresholds)
    5. default schedule: the same arrival as 3, after the threshold test       (synapses)
       (a neuron that fired this step is already refractory there: its delta input is lost)
    6. reset: hard  v = (1 - s) v + s v_reset;  subtract  v = v - s v_th       (resets)

``exprel(x) = (e^x - 1)/x`` makes the current-synapse propagator exact and
finite for ``tau_s == tau_m`` (limit ``r e^{-r}``), where Brian2's closed form
divides by zero (DESIGN.md §2; the spec merges near-equal taus for Brian2).

``drive`` is what arrives this step: the held drive ``X`` (held input) or the
summed weights of the input spikes delivered now (``W^T x[n - latency]``).
The Euler form is written exactly as spikingjelly's ``ParametricLIFNode``
(``v + (x - (v - v_reset)) * k``), so the PLIF mirror reproduces it bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from ...errors import BiosnnInputError
from ..surrogate import Surrogate

DISCRETIZATIONS = ("exact", "euler")
NEVER_SPIKED = 2**40  # steps since spike of a neuron that never fired


class LIFParams(NamedTuple):
    """Per-step constants, dimensionless. ``membrane_rate = dt / tau_m``."""

    membrane_rate: torch.Tensor | float
    v_th: float
    v_reset: float
    v_rest: float
    synaptic_rate: torch.Tensor | float | None = None  # dt / tau_s (current synapses)
    refractory_steps: int = 0


class LIFState(NamedTuple):
    v: torch.Tensor
    steps_since_spike: torch.Tensor  # int64
    i_syn: torch.Tensor | None = None


@dataclass(frozen=True)
class LIFConfig:
    """Static choices of the step (never learnable)."""

    synapse: str = "delta"            # delta | current | held
    reset: str = "hard"               # hard | subtract
    discretization: str = "exact"     # exact | euler
    schedule: str = "exact"           # exact | brian2_default
    surrogate: Surrogate = Surrogate("fast_sigmoid")
    detach_reset: bool = False

    def __post_init__(self):
        if self.discretization not in DISCRETIZATIONS:
            raise BiosnnInputError(
                f"unknown discretization {self.discretization!r}; choose one of {', '.join(DISCRETIZATIONS)}"
            )
        if self.synapse not in ("delta", "current", "held"):
            raise BiosnnInputError(f"unknown synapse kind {self.synapse!r}")
        if self.reset not in ("hard", "subtract"):
            raise BiosnnInputError(f"unknown reset {self.reset!r}")
        if self.schedule not in ("exact", "brian2_default"):
            raise BiosnnInputError(f"unknown schedule {self.schedule!r}")


def exprel(x: torch.Tensor) -> torch.Tensor:
    """``(e^x - 1) / x`` with its limit 1 at 0; finite gradients everywhere."""
    x = torch.as_tensor(x)
    small = x.abs() < 1e-5
    safe = torch.where(small, torch.ones_like(x), x)
    return torch.where(small, 1 + x / 2 + x * x / 6, torch.expm1(safe) / safe)


def initial_state(shape, params: LIFParams, config: LIFConfig, *, dtype, device=None) -> LIFState:
    """Every neuron at rest, never having spiked, no synaptic current."""
    v = torch.full(shape, float(params.v_rest), dtype=dtype, device=device)
    since = torch.full(shape, NEVER_SPIKED, dtype=torch.int64, device=device)
    i_syn = torch.zeros(shape, dtype=dtype, device=device) if config.synapse == "current" else None
    return LIFState(v, since, i_syn)


class Propagator(NamedTuple):
    """Per-step constants derived from :class:`LIFParams` (computed once per run).

    exact: ``decay = e^{-r}``, ``gain = 1 - decay``, ``coupling = r e^{-r} exprel(r - r_s)``,
    ``synaptic_decay = e^{-r_s}``; euler keeps the rates themselves (``decay``/``gain`` unused).
    """

    rate: torch.Tensor | float
    decay: torch.Tensor | None
    gain: torch.Tensor | None
    synaptic_rate: torch.Tensor | float | None
    synaptic_decay: torch.Tensor | None
    coupling: torch.Tensor | None


def propagator(params: LIFParams, config: LIFConfig, *, dtype=torch.float64, device=None) -> Propagator:
    r = params.membrane_rate
    r_s = params.synaptic_rate
    if config.discretization == "euler":
        return Propagator(r, None, None, r_s, None, None)
    r_t = torch.as_tensor(r, dtype=dtype, device=device)
    decay = torch.exp(-r_t)
    if config.synapse != "current":
        return Propagator(r, decay, 1 - decay, None, None, None)
    r_s_t = torch.as_tensor(r_s, dtype=dtype, device=device)
    return Propagator(r, decay, 1 - decay, r_s, torch.exp(-r_s_t), r_t * decay * exprel(r_t - r_s_t))


def _integrate(state: LIFState, drive, params: LIFParams, config: LIFConfig, prop: Propagator):
    """Membrane (and synaptic current) over one step; returns (v, i_syn)."""
    v, i_syn = state.v, state.i_syn
    u = v - params.v_rest
    if config.synapse == "current":
        if config.discretization == "exact":
            u_new = u * prop.decay + i_syn * prop.coupling
            i_new = i_syn * prop.synaptic_decay
        else:
            u_new = u + (i_syn - u) * prop.rate
            i_new = i_syn - i_syn * prop.synaptic_rate
        return u_new + params.v_rest, i_new
    held = drive if config.synapse == "held" else 0.0
    if config.discretization == "exact":
        return params.v_rest + u * prop.decay + held * prop.gain, i_syn
    # Euler, written as spikingjelly's decay_input=True charge: v + (x - (v - v_reset)) * k
    return v + (held - (v - params.v_rest)) * prop.rate, i_syn


def _arrive(v, i_syn, drive, mask, config: LIFConfig):
    """Synaptic arrival; ``mask`` (or None for all ones) discards delta input of refractory neurons."""
    if config.synapse == "delta":
        v = v + (drive if mask is None else drive * mask)
    elif config.synapse == "current":
        i_syn = i_syn + drive
    return v, i_syn


def lif_step(drive: torch.Tensor, state: LIFState, params: LIFParams, config: LIFConfig,
             prop: Propagator | None = None):
    """Advance one step; returns ``(spike, new_state)`` (spike is 0/1 float).

    ``prop`` (from :func:`propagator`) may be passed to avoid recomputing the
    exponentials every step; it must come from the same ``params``.
    """
    if prop is None:
        prop = propagator(params, config, dtype=state.v.dtype, device=state.v.device)
    refractory = params.refractory_steps > 0
    since = state.steps_since_spike
    integrating = None  # None: every neuron integrates (no refractory clamp possible)
    v_int, i_syn = _integrate(state, drive, params, config, prop)
    if refractory:
        since = since + 1
        integrating_b = since > params.refractory_steps
        integrating = integrating_b.to(state.v.dtype)
        v = torch.where(integrating_b, v_int, state.v)
    else:
        v = v_int
    if config.schedule == "exact":
        v, i_syn = _arrive(v, i_syn, drive, integrating, config)
    spike = config.surrogate(v - params.v_th)
    if refractory:
        spike = spike * integrating
    if config.schedule == "brian2_default":
        # Brian2's thresholder has just set not_refractory = False for the
        # neurons that fired, so their delta input of this step is discarded.
        fired = 1.0 - spike.detach()
        v, i_syn = _arrive(v, i_syn, drive, fired if integrating is None else integrating * fired, config)
    s = spike.detach() if config.detach_reset else spike
    if config.reset == "hard":
        v = (1.0 - s) * v + s * params.v_reset
    else:
        v = v - s * params.v_th
    if refractory:
        since = torch.where(spike.detach() > 0, torch.zeros_like(since), since)
    return spike, LIFState(v, since, i_syn)
