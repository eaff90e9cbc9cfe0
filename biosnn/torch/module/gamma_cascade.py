"""``GammaCascade``: layer of gamma-cascade sigma-delta neurons (``equations/gamma_cascade.py``).

Learnable: per-neuron bucket weights ``v [N, K]`` and bias ``b [N]`` (the input
weights live outside, as for every layer). Input: the arriving weighted drive
``[T, B, N]``; output: the spike charges ``theta * s`` (what a receiver's first
bucket gets). ``record=True`` also returns y, x, r, theta at the start of each
step (Brian2's ``start`` slot) and ``y_after`` (y computed in each step), the
differentiable signal used for readouts.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import torch
from torch import nn

from ...equations import gamma_cascade as gc
from ...errors import BiosnnInputError
from ..functional.gamma_cascade import GammaParams, cascade_propagator, gamma_step, initial_state
from .base import bind_spec


class GammaCascade(nn.Module):
    model_name = "gamma_cascade"

    def __init__(self, *, dt, n_neurons: int, params: Mapping | None = None, synapse: str = "cascade",
                 reset: str = "sigma_delta", discretization: str = "exact", schedule: str = "exact",
                 n_inputs: int | None = None, **_surrogate_options):
        super().__init__()
        bind_spec(self, dt=dt, params=params, synapse=synapse, reset=reset)
        if discretization != "exact" or schedule != "exact":
            raise BiosnnInputError("gamma_cascade: only the exact discretization and schedule are defined")
        from ...brian.cascade import neuron_arrays

        self.n_neurons = int(n_neurons)
        v, bias = neuron_arrays(self.parameters_si, self.n_neurons, n_inputs)
        #: per-synapse bucket weights: forward then takes ``[T, B, N_in, N]`` (w_ij times the spikes of i)
        self.per_synapse = v.ndim == 3
        self.bucket_weight = nn.Parameter(torch.as_tensor(v, dtype=torch.float64))
        self.bias = nn.Parameter(torch.as_tensor(bias, dtype=torch.float64))
        self.register_buffer("bucket_tau", torch.as_tensor(gc.merged_bucket_taus(self.parameters_si)))

    @property
    def first_bucket_decay(self) -> float:
        """``exp(-dt / tau_1)``: the one-step decay of the reconstruction r = B_1."""
        return math.exp(-self.dt / float(self.bucket_tau[0]))

    @property
    def n_buckets(self) -> int:
        return int(self.bucket_tau.numel())

    def step_params(self, dtype) -> GammaParams:
        p = self.parameters_si
        return GammaParams(
            propagator=cascade_propagator(self.bucket_tau.to(torch.float64), self.dt).to(dtype),
            r_decay=math.exp(-self.dt / float(self.bucket_tau[0])),
            theta_decay=math.exp(-self.dt / p["tau_theta"]), theta0=p["theta0"], m_f=p["m_f"],
            bucket_weight=self.bucket_weight.to(dtype), bias=self.bias.to(dtype),
        )

    def exported_parameters(self) -> dict:
        return {**self.parameters_si, "bucket_weight": self.bucket_weight.detach().cpu().numpy().astype(np.float64),
                "bias": self.bias.detach().cpu().numpy().astype(np.float64)}

    def forward(self, drive: torch.Tensor, state=None, *, record: bool = False, before_propagation: bool = False):
        expected = 4 if self.per_synapse else 3
        if drive.ndim != expected or drive.shape[-1] != self.n_neurons:
            shape = "[T, B, N_in, N]" if self.per_synapse else "[T, B, N]"
            raise BiosnnInputError(f"gamma_cascade: drive must be {shape} with N={self.n_neurons}, "
                                   f"got {tuple(drive.shape)}")
        params = self.step_params(drive.dtype)
        if state is None:
            state = initial_state(drive.shape[1], self.n_neurons, self.n_buckets, params.theta0, dtype=drive.dtype,
                                  device=drive.device, n_sources=drive.shape[2] if self.per_synapse else None)
        charges, rec = [], {"v": [], "x": [], "r": [], "theta": [], "y_after": []}
        for x_in in drive:
            if record:
                rec["v"].append(torch.relu(state.x + params.bias))
                rec["x"].append(state.x)
                rec["r"].append(state.r)
                rec["theta"].append(state.theta)
            charge, y, state = gamma_step(x_in, state, params, before_propagation=before_propagation)
            charges.append(charge)
            if record:
                rec["y_after"].append(y)
        out = torch.stack(charges)
        if not record:
            return out
        return out, {k: torch.stack(v) for k, v in rec.items()}, state
