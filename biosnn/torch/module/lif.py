"""``LIF``: a thin nn.Module over :func:`biosnn.torch.functional.lif.lif_step`.

Parameters come from ``equations/lif.py`` (defaults, ranges, units) through
:meth:`ModelSpec.resolve`; nothing is restated here. Input and output are
time-major ``[T, B, N]``: the drive arriving at each step (see the functional
module) in, 0/1 spikes out.
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ...errors import BiosnnInputError
from ...schedule import check_schedule, refractory_steps
from ..functional.lif import LIFConfig, LIFParams, LIFState, initial_state, lif_step, propagator
from ..surrogate import Surrogate
from .base import bind_spec, run_steps


class LIF(nn.Module):
    """Layer of LIF neurons (Gerstner et al. 2014, ch. 1.3).

    ``tau_m dv/dt = (v_rest - v) + I(t)``; spike when ``v >= v_th``; hard or
    subtractive reset; absolute refractory period ``t_ref``.

    Parameters
    ----------
    dt : float or Quantity
        Time step (s).
    n_neurons, n_inputs : int, optional
        Layer and fan-in sizes (LIF parameters are shared scalars, so neither is needed;
        every module takes them, so that layers are built uniformly).
    params : mapping, optional
        Overrides of the spec's parameters (SI floats or Brian2 quantities).
    synapse : {"delta", "current", "held"}
    reset : {"hard", "subtract"}
    discretization : {"exact", "euler"}
    schedule : {"exact", "brian2_default"}
    surrogate : {"fast_sigmoid", "arctan"}, surrogate_alpha : float
    detach_reset : bool
        Stop gradients through the reset (spikingjelly's ``detach_reset``).
    """

    model_name = "lif"

    def __init__(self, *, dt, n_neurons: int | None = None, n_inputs: int | None = None, params: Mapping | None = None, synapse: str = "delta", reset: str = "hard",
                 discretization: str = "exact", schedule: str = "exact", surrogate: str = "fast_sigmoid",
                 surrogate_alpha: float | None = None, detach_reset: bool = False):
        super().__init__()
        bind_spec(self, dt=dt, params=params, synapse=synapse, reset=reset)
        self.config = LIFConfig(synapse=synapse, reset=reset, discretization=discretization,
                                schedule=check_schedule(schedule), surrogate=Surrogate(surrogate, surrogate_alpha),
                                detach_reset=bool(detach_reset))
        if discretization == "euler":
            self.spec.check_euler_stable(self.parameters_si, self.dt, synapse)
        self.refractory_steps = refractory_steps(self.parameters_si["t_ref"], self.dt)

    # -- parameters of one step ----------------------------------------
    def membrane_rate(self) -> torch.Tensor | float:
        """``dt / tau_m``."""
        return self.dt / self.parameters_si["tau_m"]

    def step_params(self) -> LIFParams:
        p = self.parameters_si
        return LIFParams(
            membrane_rate=self.membrane_rate(), v_th=p["v_th"], v_reset=p["v_reset"], v_rest=p["v_rest"],
            synaptic_rate=self.dt / p["tau_s"] if self.config.synapse == "current" else None,
            refractory_steps=self.refractory_steps,
        )

    def initial_state(self, shape, *, dtype, device=None) -> LIFState:
        return initial_state(shape, self.step_params(), self.config, dtype=dtype, device=device)

    def forward(self, drive: torch.Tensor, state: LIFState | None = None, *, record: bool = False):
        """Run ``drive`` ``[T, B, N]``; returns spikes ``[T, B, N]``.

        With ``record=True`` returns ``(spikes, recorded, final_state)`` where
        ``recorded`` maps ``"v"`` (and ``"I"`` for current synapses) to
        ``[T, B, N]`` values at the start of each step (Brian2's ``start`` slot).
        """
        if drive.ndim != 3:
            raise BiosnnInputError(f"{self.model_name}: drive must be time-major [T, B, N], got {tuple(drive.shape)}")
        if not torch.is_floating_point(drive):
            raise BiosnnInputError(f"{self.model_name}: drive must be a float tensor, got {drive.dtype}")
        params = self.step_params()
        if state is None:
            state = initial_state(drive.shape[1:], params, self.config, dtype=drive.dtype, device=drive.device)
        prop = propagator(params, self.config, dtype=drive.dtype, device=drive.device)
        return run_steps(lambda x, st: lif_step(x, st, params, self.config, prop), drive, state, record=record)

    def extra_repr(self) -> str:
        p = self.parameters_si
        return (f"dt={self.dt:g}s, tau_m={p['tau_m']:g}s, v_th={p['v_th']:g}, synapse={self.config.synapse}, "
                f"reset={self.config.reset}, discretization={self.config.discretization}")
