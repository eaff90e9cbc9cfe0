"""Non-leaky IF step: the torch mirror of ``equations/if_neuron.py`` (model ``if``).

The phases of one step ``[t_n, t_{n+1})`` (Brian2 slots in brackets; the
template applies them in the order of ``biosnn/schedule.py``)::

    integrate [groups]   dv/dt = X (held) | I (current) | 0 (delta), integrated over dt
         exact:  held:     v' = v + X dt
                 current (r_s = dt / tau_s):  v' = v + I tau_s (1 - e^{-r_s}),  I' = I e^{-r_s}
         euler:  held:     v' = v + X dt     (Euler is exact without a leak)
                 current:  v' = v + I dt,  I' = I - I r_s
    arrive    [pathway]  delta: v += w_in;  current: I += w_in
    threshold            x = v - v_th
    reset     [resets]   hard: v = (1 - s) v + s v_reset;  subtract: v = v - s (v_th - v_reset)

With delta synapses the membrane does not move between arrivals, so both
discretizations are the same step; the fused loop runs it as the LIF's Euler
recurrence with rate 0 (``v - 0 v + x``: bit for bit ``v + x``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..fused import LeakyRecurrence
from .base import Dynamics, StepContext
from .lif import FUSED_PHASES, RESETS


@dataclass(frozen=True)
class IFConstants:
    gain: float                                   # dt: what a held drive X adds over a step, per unit X
    synaptic_decay: torch.Tensor | None           # exact: e^{-r_s} (euler: None)
    synaptic_rate: float | None                   # r_s = dt / tau_s
    coupling: torch.Tensor | float | None         # exact: tau_s (1 - e^{-r_s}); euler: dt
    v_th: float
    v_reset: float


class IFDynamics(Dynamics):
    """Non-leaky integrate-and-fire (Lapicque 1907; NIR's IF), every synapse kind and reset."""

    def __init__(self, spec, params, **kw):
        super().__init__(spec, params, **kw)
        self.current = "I" in spec.synapse(self.synapse).state_variables
        if self.reset_kind not in RESETS:
            raise NotImplementedError(f"{spec.name}: the torch mirror has no reset {self.reset_kind!r}")

    def constants(self, learnt, *, dtype, device) -> IFConstants:
        p = self.params
        decay = rate = coupling = None
        if self.current:
            rate = self.dt / p["tau_s"]
            if self.discretization == "exact":
                r_s = torch.as_tensor(rate, dtype=dtype, device=device)
                decay = torch.exp(-r_s)
                coupling = -p["tau_s"] * torch.expm1(-r_s)   # tau_s (1 - e^{-r_s}), no cancellation
            else:
                coupling = self.dt
        return IFConstants(self.dt, decay, rate, coupling, p["v_th"], p["v_reset"])

    def fused(self, *, phases, refractory_steps, detach_reset, surrogate):
        """Delta synapses, scalar parameters, inputs before the threshold test: the fused loop (rate 0)."""
        steps = tuple(phase for phase in phases if phase != "sum")
        scalars = all(np.ndim(self.params[name]) == 0 for name in ("v_th", "v_reset", "v_rest"))
        if self.current or self.held or refractory_steps > 0 or steps != FUSED_PHASES[True] or not scalars:
            return None
        recurrence = LeakyRecurrence("euler", 0.0, float(self.params["v_th"]), float(self.params["v_reset"]),
                                     self.reset_kind, bool(detach_reset), surrogate)

        def run(drive, c: IFConstants, state):
            zero = torch.zeros((), dtype=drive.dtype, device=drive.device)
            return recurrence(drive, zero, state["v"])

        return run

    def integrate(self, state, c: IFConstants, step: StepContext):
        new = dict(state)
        if self.current:
            i_syn = state["I"]
            new["v"] = state["v"] + i_syn * c.coupling
            new["I"] = i_syn * c.synaptic_decay if self.discretization == "exact" else i_syn - i_syn * c.synaptic_rate
        elif self.held:
            new["v"] = state["v"] + step.drive * c.gain
        return new

    def arrive(self, state, c, step: StepContext):
        new = dict(state)
        if self.current:
            new["I"] = state["I"] + step.drive
        else:
            new["v"] = state["v"] + step.drive
        return new

    def threshold_distance(self, state, c: IFConstants) -> torch.Tensor:
        return state["v"] - c.v_th

    def reset(self, state, c: IFConstants, step: StepContext):
        new = dict(state)
        new["v"] = RESETS[self.reset_kind](state["v"], step.spike_for_reset, c)
        return new


DYNAMICS = IFDynamics
