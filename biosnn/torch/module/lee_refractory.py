"""``LeeRefractory`` and ``WTA`` layers (Lee, Delbruck & Pfeiffer 2016).

Thin nn.Modules over ``biosnn/torch/functional/lee_refractory.py`` and
``wta.py``; parameters from ``equations/lee_refractory.py`` / ``wta.py``.
The per-neuron thresholds ``v_th`` are a trainable ``nn.Parameter`` of shape
``[N]``. Input and output are time-major ``[T, B, N]``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch
from torch import nn

from ...errors import BiosnnInputError
from ...schedule import check_schedule
from ..functional.lee_refractory import LeeConfig, initial_state, lee_params, lee_step
from ..functional.wta import circuit_matrix, wta_inhibition
from ..surrogate import Surrogate
from .base import bind_spec, run_steps


class LeeRefractory(nn.Module):
    """Dynamic-weight refractory LIF layer with trainable per-neuron thresholds."""

    model_name = "lee_refractory"

    def __init__(self, *, dt, n_neurons: int | None = None, n_inputs: int | None = None, params: Mapping | None = None,
                 synapse: str = "delta", reset: str = "subtract", discretization: str = "exact",
                 schedule: str = "exact", surrogate: str = "fast_sigmoid", surrogate_alpha: float | None = None,
                 detach_reset: bool = False):
        super().__init__()
        bind_spec(self, dt=dt, params=params, synapse=synapse, reset=reset)
        if discretization != "exact":
            raise BiosnnInputError(f"{self.model_name}: only the exact discretization is implemented")
        v_th = np.asarray(self.parameters_si["v_th"], dtype=np.float64)
        if n_neurons is None:
            if v_th.ndim == 0:
                raise BiosnnInputError(f"{self.model_name}: give n_neurons or one threshold per neuron")
            n_neurons = v_th.size
        if v_th.ndim and v_th.size != n_neurons:
            raise BiosnnInputError(f"{self.model_name}: {v_th.size} thresholds for {n_neurons} neurons")
        self.n_neurons = int(n_neurons)
        self.v_th = nn.Parameter(torch.tensor(np.broadcast_to(v_th, (self.n_neurons,)).copy(), dtype=torch.float64))
        self.config = LeeConfig(schedule=check_schedule(schedule), surrogate=Surrogate(surrogate, surrogate_alpha),
                                detach_reset=bool(detach_reset))

    def lateral(self):
        """The circuit's inhibition as ``f(v, t_r, spike, t)``, or None."""
        return None

    def exported_parameters(self) -> dict:
        """SI parameters for the Brian2 twin, with the learnt thresholds."""
        return {**self.parameters_si, "v_th": self.v_th.detach().cpu().numpy().astype(np.float64)}

    def forward(self, drive: torch.Tensor, state=None, *, record: bool = False):
        if drive.ndim != 3 or drive.shape[-1] != self.n_neurons:
            raise BiosnnInputError(
                f"{self.model_name}: drive must be time-major [T, B, {self.n_neurons}], got {tuple(drive.shape)}"
            )
        if not torch.is_floating_point(drive):
            raise BiosnnInputError(f"{self.model_name}: drive must be a float tensor, got {drive.dtype}")
        p = self.parameters_si
        params = lee_params(p["tau_mp"], p["T_ref"], self.dt, self.v_th.to(drive.dtype))
        if state is None:
            state = initial_state(drive.shape[1:], dtype=drive.dtype, device=drive.device)
        lateral = self.lateral()
        return run_steps(lambda x, st: lee_step(x, st, params, self.config, lateral), drive, state, record=record)


class WTA(LeeRefractory):
    """``LeeRefractory`` neurons in winner-take-all circuits (mu, sigma, circuit_size)."""

    model_name = "wta"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        from ...brian.network import circuit_ids

        ids = circuit_ids(self.n_neurons, self.parameters_si["circuit_size"])
        self.register_buffer("membership", circuit_matrix(torch.as_tensor(ids), torch.float64))

    def lateral(self):
        p = self.parameters_si
        if not self.spec.lateral.active(p):
            return None
        v_th = self.v_th
        membership = self.membership

        def inhibit(v, t_r, spike, t):
            return wta_inhibition(v, t_r, spike, t, v_th=v_th.to(v.dtype), mu=p["mu"], sigma=p["sigma"],
                                  membership=membership.to(v.dtype))

        return inhibit
