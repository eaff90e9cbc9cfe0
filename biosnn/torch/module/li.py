"""``LI``: non-spiking leaky-integrator readout layer over ``functional/li.py``."""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ...errors import BiosnnInputError
from ..functional.lif import LIFConfig, LIFParams, initial_state, propagator
from ..functional.li import li_step
from .base import bind_spec, run_steps


class LI(nn.Module):
    """Leaky integrator; ``forward`` returns v after each step ``[T, B, N]``."""

    model_name = "li"

    def __init__(self, *, dt, n_neurons: int | None = None, params: Mapping | None = None, synapse: str = "delta",
                 reset: str = "none", discretization: str = "exact", schedule: str = "exact", **_surrogate_options):
        super().__init__()
        bind_spec(self, dt=dt, params=params, synapse=synapse, reset=None)
        if schedule != "exact":
            raise BiosnnInputError("li: only the exact schedule is defined (there is no threshold to order against)")
        if discretization == "euler":
            self.spec.check_euler_stable(self.parameters_si, self.dt, synapse)
        self.config = LIFConfig(synapse=synapse, discretization=discretization)

    def step_params(self) -> LIFParams:
        p = self.parameters_si
        return LIFParams(membrane_rate=self.dt / p["tau_m"], v_th=float("inf"), v_reset=0.0, v_rest=p["v_rest"],
                         synaptic_rate=self.dt / p["tau_s"] if self.config.synapse == "current" else None)

    def exported_parameters(self) -> dict:
        return dict(self.parameters_si)

    def forward(self, drive: torch.Tensor, state=None, *, record: bool = False):
        if drive.ndim != 3:
            raise BiosnnInputError(f"li: drive must be time-major [T, B, N], got {tuple(drive.shape)}")
        params = self.step_params()
        if state is None:
            state = initial_state(drive.shape[1:], params, self.config, dtype=drive.dtype, device=drive.device)
        prop = propagator(params, self.config, dtype=drive.dtype, device=drive.device)

        def step(x, st):
            st = li_step(x, st, params, self.config, prop)
            return st.v, st

        return run_steps(step, drive, state, record=record)
