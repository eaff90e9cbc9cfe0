"""LIF step: the torch mirror of ``biosnn/models/lif.py``.

The phases of one step ``[t_n, t_{n+1})`` (Brian2 slots in brackets; the
template applies them in the order of ``biosnn/core/schedule.py``)::

    integrate [groups]   u = v - v_eq, v_eq = v_rest + b (b = bias), r = dt / tau_m, over dt with the held X
         exact:  u' = u e^{-r} + X (1 - e^{-r})
                 current synapses (r_s = dt / tau_s; the bias enters I: j = I - b):
                 u' = u e^{-r} + j r e^{-r} exprel(r - r_s),  I' = b + j e^{-r_s}
                 current_membrane_bias (the bias enters v, NEST's I_e): the same with j = I, I' = j e^{-r_s}
         euler:  u' = u + (X - u) r;  current (u = v - v_rest):  u' = u + (I - u) r,  I' = I + (b - I) r_s
                 current_membrane_bias:  u' = u + (I + b - u) r,  I' = I - I r_s
         refractory neurons keep v (Brian2's ``(unless refractory)``); I always evolves
    arrive    [pathway]  delta: v += w_in * not_refractory;  current: I += w_in
    threshold            x = v - v_th
    reset     [resets]   hard: v = (1 - s) v + s v_reset;  subtract: v = v - s (v_th - v_reset)

``exprel(x) = (e^x - 1)/x`` makes the current-synapse propagator exact and
finite for ``tau_s == tau_m`` (limit ``r e^{-r}``), where Brian2's closed form
divides by zero; near-equal taus keep full precision too (``docs/models.md``).

The Euler form is written exactly as spikingjelly's ``ParametricLIFNode``
(``v + (x - (v - v_reset)) * k``), so the PLIF mirror reproduces it bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from ..fused import LeakyRecurrence
from .base import ConstantDrive, Dynamics, StepContext, per_neuron

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from ...core.spec import ModelSpec
    from ..surrogate import Surrogate

#: the phases the fused loop implements, in order (``sum`` is no step of this family)
FUSED_PHASES = {True: ("integrate", "arrive", "fire", "reset"), False: ("integrate", "arrive")}


def exprel(x: torch.Tensor) -> torch.Tensor:
    """``(e^x - 1) / x`` with its limit 1 at 0; finite gradients everywhere."""
    x = torch.as_tensor(x)
    small = x.abs() < 1e-5
    safe = torch.where(small, torch.ones_like(x), x)
    return torch.where(small, 1 + x / 2 + x * x / 6, torch.expm1(safe) / safe)


def rate_of(dt: float, tau: float | np.ndarray) -> float | np.ndarray:
    """``dt / tau`` for a time constant given once or per neuron (float64)."""
    return dt / tau if np.ndim(tau) == 0 else dt / np.asarray(tau, dtype=np.float64)


class Propagator(NamedTuple):
    """Per-step constants of the membrane (and synaptic current), computed once per run.

    exact: ``decay = e^{-r}``, ``gain = 1 - decay``, ``coupling = r e^{-r} exprel(r - r_s)`` (:func:`coupling`),
    ``synaptic_decay = e^{-r_s}``; euler keeps the rates themselves (``decay``/``gain`` unused).
    """

    rate: torch.Tensor | float
    decay: torch.Tensor | None
    gain: torch.Tensor | None
    synaptic_rate: torch.Tensor | float | None
    synaptic_decay: torch.Tensor | None
    coupling: torch.Tensor | None


def propagator(
    rate: torch.Tensor | float,
    synaptic_rate: torch.Tensor | float | None,
    *,
    current: bool,
    discretization: str,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Propagator:
    """The constants of one step for membrane rate ``dt / tau_m`` (and ``dt / tau_s`` with a current)."""
    if discretization == "euler":
        return Propagator(rate, None, None, synaptic_rate, None, None)
    r_t = torch.as_tensor(rate, dtype=dtype, device=device)
    decay = torch.exp(-r_t)
    if not current:
        return Propagator(rate, decay, 1 - decay, None, None, None)
    r_s_t = torch.as_tensor(synaptic_rate, dtype=dtype, device=device)
    return Propagator(rate, decay, 1 - decay, synaptic_rate, torch.exp(-r_s_t), coupling(r_t, r_s_t))


def coupling(r: torch.Tensor, r_s: torch.Tensor) -> torch.Tensor:
    """How much of a unit synaptic current reaches the membrane over a step: ``r (e^{-r_s} - e^{-r}) / (r - r_s)``
    (``r e^{-r}`` at ``r == r_s``).

    Written ``r e^{-r} exprel(r - r_s)`` where ``r <= r_s`` (tau_m >= tau_s) and ``r e^{-r_s} exprel(r_s - r)``
    where ``r > r_s``: exprel's argument is never positive, so the value stays finite and exact for a membrane
    far faster than the step (``r`` in the thousands, where the first form overflows to NaN) as for near-equal
    rates, and both branches stay finite (a ``where`` passes no NaN into the gradient).
    """
    zero = torch.zeros((), dtype=r.dtype, device=r.device)
    slower_side = r <= r_s
    # each branch's argument chosen by a where (not a minimum, whose gradient splits at the tie r == r_s)
    slower = r * torch.exp(-r) * exprel(torch.where(slower_side, r - r_s, zero))
    faster = r * torch.exp(-r_s) * exprel(torch.where(slower_side, zero, r_s - r))
    return torch.where(slower_side, slower, faster)


@dataclass(frozen=True)
class LIFConstants:
    prop: Propagator
    v_th: torch.Tensor | float | None  # one value, or one per neuron [N]; None: no threshold (li)
    v_reset: torch.Tensor | float | None
    v_rest: torch.Tensor | float
    constant: ConstantDrive  # bias [N] or one value, from its onset; 0.0 leaves every expression bit for bit


def hard_reset(v: torch.Tensor, s: torch.Tensor, c: LIFConstants) -> torch.Tensor:
    """``v = v_reset`` where the neuron fired (written as spikingjelly writes it, for bit-identity)."""
    return (1.0 - s) * v + s * c.v_reset


def subtractive_reset(v: torch.Tensor, s: torch.Tensor, c: LIFConstants) -> torch.Tensor:
    """``v -= v_th - v_reset`` where the neuron fired (the distance from reset to threshold)."""
    return v - s * (c.v_th - c.v_reset)


#: the membrane part of each reset of the spec (``biosnn/models/lif.py``)
RESETS = {"hard": hard_reset, "subtract": subtractive_reset}


class LIFDynamics(Dynamics):
    """Leaky integrate-and-fire (Gerstner et al. 2014, ch. 1.3), every synapse kind and reset."""

    #: the resets this mirror implements (a derived model with more state adds its own)
    resets: Mapping[str, object] = RESETS

    def __init__(self, spec: ModelSpec, params: Mapping, **kw: Any) -> None:
        super().__init__(spec, params, **kw)
        #: the current synapse carries the state variable I (``biosnn/models/lif.py``)
        self.current = "I" in spec.synapse(self.synapse).state_variables
        #: the constant input enters I (``current``) rather than the membrane (``current_membrane_bias``)
        self.bias_through_synapse = spec.synapse(self.synapse).bias_through_synapse
        if spec.threshold is not None and self.reset_kind not in self.resets:
            raise NotImplementedError(f"{spec.name}: the torch mirror has no reset {self.reset_kind!r}")

    def membrane_rate(self, learnt: Mapping[str, torch.Tensor]) -> torch.Tensor | float:
        """``dt / tau_m`` (one value, or one per neuron)."""
        return rate_of(self.dt, self.params["tau_m"])

    def constants(
        self, learnt: Mapping[str, torch.Tensor], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> LIFConstants:
        p = self.params
        rate = self.membrane_rate(learnt)
        if not torch.is_tensor(rate):
            rate = per_neuron(rate, dtype=dtype, device=device)
        synaptic_rate = per_neuron(rate_of(self.dt, p["tau_s"]), dtype=dtype, device=device) if self.current else None
        prop = propagator(
            rate, synaptic_rate, current=self.current, discretization=self.discretization, dtype=dtype, device=device
        )
        constant = ConstantDrive.of(self.spec, p, self.dt, dtype=dtype, device=device)
        values = {name: per_neuron(p.get(name), dtype=dtype, device=device) for name in ("v_th", "v_reset", "v_rest")}
        return LIFConstants(prop, values["v_th"], values["v_reset"], values["v_rest"], constant)

    def fused(
        self, *, phases: tuple[str, ...], refractory_steps: int, detach_reset: bool, surrogate: Surrogate
    ) -> Callable[[torch.Tensor, Any, dict[str, torch.Tensor]], torch.Tensor] | None:
        """The fused loop (``biosnn/torch/fused.py``) for delta synapses without refractoriness or floor,
        inputs arriving before the threshold test; None otherwise."""
        spiking = self.spec.threshold is not None
        steps = tuple(phase for phase in phases if phase != "sum")
        scalars = all(np.ndim(self.params.get(name, 0.0)) == 0 for name in ("v_th", "v_reset", "v_rest", "bias"))
        # the loop carries v alone: a derived model with more state (adaptive LIF's a) runs its phases
        only_v = self.spec.recorded_variables(self.synapse) == ("v",) and set(self.spec.initial_state) <= {"v"}
        if (
            self.current
            or self.held
            or refractory_steps > 0
            or steps != FUSED_PHASES[spiking]
            or not scalars
            or not only_v
            or self.spec.constant_input.gated(self.params)
        ):
            return None
        # a constant input moves the equilibrium the membrane relaxes to: v_rest + bias
        recurrence = LeakyRecurrence(
            self.discretization,
            float(self.params["v_rest"]) + float(self.params["bias"]),
            float(self.params["v_th"]) if spiking else None,
            float(self.params["v_reset"]) if spiking else None,
            self.reset_kind if spiking else None,
            bool(detach_reset),
            surrogate,
        )

        def run(drive: torch.Tensor, c: LIFConstants, state: dict[str, torch.Tensor]) -> torch.Tensor:
            coefficient = c.prop.decay if self.discretization == "exact" else c.prop.rate
            coefficient = torch.as_tensor(coefficient, dtype=drive.dtype, device=drive.device)
            return recurrence(drive, coefficient, state["v"])

        return run

    def integrate(self, state: dict[str, torch.Tensor], c: LIFConstants, step: StepContext) -> dict[str, torch.Tensor]:
        v = state["v"]
        prop = c.prop
        bias = c.constant.at(step, self.dt)
        new = dict(state)
        if self.current:
            i_syn = state["I"]
            # the current's fixed point: the bias when it enters I, else 0 (it enters the membrane)
            i_eq = bias if self.bias_through_synapse else 0.0
            if self.discretization == "exact":  # about the fixed point (v_rest + b, i_eq): u, j
                v_eq = c.v_rest + bias
                j = i_syn - i_eq
                v_new = (v - v_eq) * prop.decay + j * prop.coupling + v_eq
                new["I"] = i_eq + j * prop.synaptic_decay
            elif self.bias_through_synapse:
                u = v - c.v_rest
                v_new = u + (i_syn - u) * prop.rate + c.v_rest
                new["I"] = i_syn + (bias - i_syn) * prop.synaptic_rate
            else:
                u = v - c.v_rest
                v_new = u + (i_syn + bias - u) * prop.rate + c.v_rest
                new["I"] = i_syn - i_syn * prop.synaptic_rate
        else:
            held = step.drive if self.held else 0.0
            v_eq = c.v_rest + bias
            if self.discretization == "exact":
                v_new = v_eq + (v - v_eq) * prop.decay + held * prop.gain
            else:  # spikingjelly's decay_input=True charge: v + (x - (v - v_reset)) * k
                v_new = v + (held - (v - v_eq)) * prop.rate
        new["v"] = v_new if step.integrating is None else torch.where(step.integrating > 0, v_new, v)
        return new

    def arrive(self, state: dict[str, torch.Tensor], c: LIFConstants, step: StepContext) -> dict[str, torch.Tensor]:
        new = dict(state)
        if self.current:
            new["I"] = state["I"] + step.drive
        else:  # delta: discarded while refractory (the spec's ``w * not_refractory_post``)
            new["v"] = state["v"] + (step.drive if step.integrating is None else step.drive * step.integrating)
        return new

    def threshold_distance(self, state: dict[str, torch.Tensor], c: LIFConstants) -> torch.Tensor:
        return state["v"] - c.v_th

    def reset(self, state: dict[str, torch.Tensor], c: LIFConstants, step: StepContext) -> dict[str, torch.Tensor]:
        new = dict(state)
        new["v"] = RESETS[self.reset_kind](state["v"], step.spike_for_reset, c)
        return new
