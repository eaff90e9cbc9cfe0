"""Non-leaky IF step: the torch mirror of ``biosnn/models/if_neuron.py`` (model ``if``).

The phases of one step ``[t_n, t_{n+1})`` (Brian2 slots in brackets; the
template applies them in the order of ``biosnn/core/schedule.py``)::

    integrate [groups]   dv/dt = X + b (held) | I (current) | b (delta), b = bias, integrated over dt
         exact:  held:     v' = v + (X + b) dt;   delta:  v' = v + b dt
                 current (r_s = dt / tau_s; tau_s dI/dt = b - I, j = I - b):
                           v' = v + b dt + j tau_s (1 - e^{-r_s}),  I' = b + j e^{-r_s}
         euler:  held, delta: the same (Euler is exact without a leak)
                 current:  v' = v + I dt,  I' = I + (b - I) r_s
    arrive    [pathway]  delta: v += w_in;  current: I += w_in
    threshold            x = v - v_th
    reset     [resets]   hard: v = (1 - s) v + s v_reset;  subtract: v = v - s (v_th - v_reset)

With delta synapses the membrane does not move between arrivals, so both
discretizations are the same step; the fused loop runs it as the LIF's Euler
recurrence with rate 0 (``v - 0 v + x``: bit for bit ``v + x``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..fused import LeakyRecurrence
from .base import ConstantDrive, Dynamics, StepContext, per_neuron
from .lif import FUSED_PHASES, RESETS, rate_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from ...core.spec import ModelSpec
    from ..surrogate import Surrogate


@dataclass(frozen=True)
class IFConstants:
    gain: float  # dt: what a held drive X adds over a step, per unit X
    synaptic_decay: torch.Tensor | None  # exact: e^{-r_s} (euler: None)
    synaptic_rate: torch.Tensor | float | None  # r_s = dt / tau_s (one, or one per neuron)
    coupling: torch.Tensor | float | None  # exact: tau_s (1 - e^{-r_s}); euler: dt
    v_th: torch.Tensor | float | None  # one value or [N]; None: no threshold (the integrator)
    v_reset: torch.Tensor | float | None
    constant: ConstantDrive  # bias per second ([N] or one value), from its onset


class IFDynamics(Dynamics):
    """Non-leaky integrate-and-fire (Lapicque 1907; NIR's IF), every synapse kind and reset."""

    def __init__(self, spec: ModelSpec, params: Mapping, **kw: Any) -> None:
        super().__init__(spec, params, **kw)
        self.current = "I" in spec.synapse(self.synapse).state_variables
        if spec.threshold is not None and self.reset_kind not in RESETS:
            raise NotImplementedError(f"{spec.name}: the torch mirror has no reset {self.reset_kind!r}")

    def constants(
        self, learnt: Mapping[str, torch.Tensor], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> IFConstants:
        p = self.params
        decay = rate = coupling = None
        if self.current:
            rate = per_neuron(rate_of(self.dt, p["tau_s"]), dtype=dtype, device=device)  # one, or one per neuron
            if self.discretization == "exact":
                r_s = torch.as_tensor(rate, dtype=dtype, device=device)
                decay = torch.exp(-r_s)
                tau_s = per_neuron(p["tau_s"], dtype=dtype, device=device)
                coupling = -tau_s * torch.expm1(-r_s)  # tau_s (1 - e^{-r_s}), no cancellation
            else:
                coupling = self.dt
        constant = ConstantDrive.of(self.spec, p, self.dt, dtype=dtype, device=device)
        return IFConstants(
            self.dt,
            decay,
            rate,
            coupling,
            per_neuron(p.get("v_th"), dtype=dtype, device=device),
            per_neuron(p.get("v_reset"), dtype=dtype, device=device),
            constant,
        )

    def fused(
        self, *, phases: tuple[str, ...], refractory_steps: int, detach_reset: bool, surrogate: Surrogate
    ) -> Callable[[torch.Tensor, Any, dict[str, torch.Tensor]], torch.Tensor] | None:
        """Delta synapses, scalar parameters, no bias, inputs before the threshold test: the fused loop (rate 0)."""
        spiking = self.spec.threshold is not None
        steps = tuple(phase for phase in phases if phase != "sum")
        scalars = all(np.ndim(self.params.get(name, 0.0)) == 0 for name in ("v_th", "v_reset", "v_rest"))
        biased = np.any(np.asarray(self.params["bias"]) != 0.0)  # the rate-0 recurrence has no drift
        if self.current or self.held or refractory_steps > 0 or steps != FUSED_PHASES[spiking] or not scalars or biased:
            return None
        recurrence = LeakyRecurrence(
            "euler",
            0.0,
            float(self.params["v_th"]) if spiking else None,
            float(self.params["v_reset"]) if spiking else None,
            self.reset_kind if spiking else None,
            bool(detach_reset),
            surrogate,
        )

        def run(drive: torch.Tensor, c: IFConstants, state: dict[str, torch.Tensor]) -> torch.Tensor:
            zero = torch.zeros((), dtype=drive.dtype, device=drive.device)
            return recurrence(drive, zero, state["v"])

        return run

    def integrate(self, state: dict[str, torch.Tensor], c: IFConstants, step: StepContext) -> dict[str, torch.Tensor]:
        new = dict(state)
        bias = c.constant.at(step, self.dt)
        if self.current:
            i_syn = state["I"]
            if self.discretization == "exact":
                j = i_syn - bias
                new["v"] = state["v"] + bias * c.gain + j * c.coupling
                new["I"] = bias + j * c.synaptic_decay
            else:
                new["v"] = state["v"] + i_syn * c.coupling
                new["I"] = i_syn + (bias - i_syn) * c.synaptic_rate
        elif self.held:
            new["v"] = state["v"] + (step.drive + bias) * c.gain
        else:
            new["v"] = state["v"] + bias * c.gain
        return new

    def arrive(self, state: dict[str, torch.Tensor], c: IFConstants, step: StepContext) -> dict[str, torch.Tensor]:
        new = dict(state)
        if self.current:
            new["I"] = state["I"] + step.drive
        else:
            new["v"] = state["v"] + step.drive
        return new

    def threshold_distance(self, state: dict[str, torch.Tensor], c: IFConstants) -> torch.Tensor:
        return state["v"] - c.v_th

    def reset(self, state: dict[str, torch.Tensor], c: IFConstants, step: StepContext) -> dict[str, torch.Tensor]:
        new = dict(state)
        new["v"] = RESETS[self.reset_kind](state["v"], step.spike_for_reset, c)
        return new
