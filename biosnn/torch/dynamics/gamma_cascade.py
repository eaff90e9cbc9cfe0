"""Gamma-cascade step: the torch mirror of ``biosnn/models/gamma_cascade.py``.

The cascade is linear, so ``sum_i w_ij B_ik`` is the k-th bucket of one cascade
driven by the weighted spikes ``sum_i w_ij s_i``: the mirror keeps one cascade
per neuron (``buckets [B, N, K]``) fed by the arriving drive ``W^T s``, which
equals Brian2's per-source cascades read through the weights. With per-synapse
bucket weights it keeps one per (source, neuron) pair, ``[B, N_in, N, K]``,
fed by ``w_ij s_i``, and sums over sources after weighting. The phases of one
step (Brian2 slots in brackets)::

    integrate [groups]   D <- D P^T,  P = expm(A dt),  A_kk = -alpha_k, A_k,k-1 = alpha_{k-1}   (exact, any rates)
                         r <- r e^{-alpha_1 dt};  theta <- theta0 + (theta - theta0) e^{-dt/tau_theta}
    arrive    [pathway]  D[..., 0] += drive   (a cascade sender's charges arrive before ``integrate``)
    sum  [before_thresholds]  x = sum_k v_k D_k;  y = max(0, x + b)
    threshold            y - r - theta / 2   (spike = [y - r >= theta / 2]; not differentiated)
    reset     [resets]   q = theta s;  r += q;  theta += m_f theta s
    output               q forward, and backward the charge sequence whose reconstruction is y
                         (straight-through: u = y - e^{-alpha_1 dt} y_prev, out = q + (u - u.detach()))

The propagator is computed by scipy's ``expm`` (:func:`cascade_propagator`),
exact for equal and near-equal rates alike (no division by rate differences).
Gradients flow through y (ReLU) and the
buckets, and across layers through the straight-through charges
(``docs/models.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import scipy.linalg
import torch

from .base import Dynamics, StepContext

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from ...core.spec import ModelSpec


def cascade_matrix(bucket_tau: torch.Tensor) -> torch.Tensor:
    """Generator A of the cascade (``dB/dt = A B``), rates 1/tau."""
    alpha = 1.0 / bucket_tau
    A = torch.diag(-alpha)
    if alpha.numel() > 1:
        A = A + torch.diag(alpha[:-1], diagonal=-1)
    return A


def cascade_propagator(bucket_tau: torch.Tensor, dt: float) -> torch.Tensor:
    """``P = e^{A dt}`` in float64 by scipy's scaling-and-squaring Pade algorithm (Al-Mohy & Higham 2009):
    within 1e-17 of a 50-digit reference for equal, near-equal and distinct rates, where
    ``torch.linalg.matrix_exp`` (a Taylor branch) is off by up to 3e-11 per step (``tests/equivalence/test_oracle.py``).
    The bucket time constants are not learnable, so the propagator needs no gradient."""
    A = cascade_matrix(bucket_tau.detach().to(torch.float64).cpu()).numpy()
    return torch.as_tensor(scipy.linalg.expm(A * dt), dtype=torch.float64, device=bucket_tau.device)


def _add_to_first(buckets: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
    return torch.cat([buckets[..., :1] + drive[..., None], buckets[..., 1:]], dim=-1)


def read_buckets(
    buckets: torch.Tensor, bucket_weight: torch.Tensor, bias: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The neuron's read of its buckets: ``x_j = sum_k v_jk D_jk`` and ``y_j = max(0, x_j + b_j)``.

    ``buckets [..., N, K]`` with ``bucket_weight [N, K]``; with per-synapse weights
    ``[N_in, N, K]``, buckets ``[..., N_in, N, K]`` and x is also summed over the sources.
    """
    x = (buckets * bucket_weight).sum(-1)
    if bucket_weight.dim() == 3:
        x = x.sum(-2)
    return x, torch.relu(x + bias)


def source_buckets(counts: torch.Tensor, propagator: torch.Tensor) -> torch.Tensor:
    """Yield, step by step, the buckets of each source's own cascade ``[B, N_in, K]``.

    ``counts [T, B, N_in]``: spikes per step (q = 1). Exact schedule, as in the
    layer: the spikes of step n - 1 enter B_1 after step n's propagation.
    Reading them through the weights, ``sum_i w_ij B_ik``, gives the per-neuron
    buckets the layer keeps (the cascade is linear); they do not depend on any
    learnable parameter, which makes them exact eligibility traces.
    """
    buckets = torch.zeros(*counts.shape[1:], propagator.shape[0], dtype=counts.dtype, device=counts.device)
    previous = torch.zeros_like(counts[0])
    for step_counts in counts:
        buckets = _add_to_first(buckets @ propagator.T, previous)
        previous = step_counts
        yield buckets


@dataclass(frozen=True)
class GammaConstants:
    propagator: torch.Tensor  # [K, K]
    r_decay: float  # e^{-alpha_1 dt}: the one-step decay of r = B_1
    theta_decay: float
    theta0: float
    m_f: float
    bucket_weight: torch.Tensor  # [N, K], or [N_in, N, K] per synapse
    bias: torch.Tensor  # [N]


class GammaDynamics(Dynamics):
    """Gamma-cascade neurons with adaptive sigma-delta spikes; learnable bucket weights and biases."""

    surrogate_spike = False

    def __init__(self, spec: ModelSpec, params: Mapping, **kw: Any) -> None:
        super().__init__(spec, params, **kw)
        self.read_weights = spec.cascade.read_weights(self.params, self.n_neurons, self.n_inputs)
        self.per_synapse = self.read_weights.ndim == 3
        self.drive_ndim = 4 if self.per_synapse else 3
        self.bucket_tau = torch.as_tensor(spec.cascade.time_constants(self.params), dtype=torch.float64)

    def learnable(self) -> dict[str, object]:
        bias = torch.broadcast_to(torch.as_tensor(self.params["bias"], dtype=torch.float64), (self.n_neurons,))
        return {"bucket_weight": self.read_weights, "bias": bias.clone()}

    def exported(self, learnt: Mapping[str, torch.Tensor]) -> dict:
        return {
            **self.params,
            **{name: learnt[name].detach().cpu().double().numpy() for name in ("bucket_weight", "bias")},
        }

    @property
    def n_buckets(self) -> int:
        return int(self.bucket_tau.numel())

    @property
    def first_bucket_decay(self) -> float:
        return math.exp(-self.dt / float(self.bucket_tau[0]))

    def constants(
        self, learnt: Mapping[str, torch.Tensor], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> GammaConstants:
        p = self.params
        return GammaConstants(
            cascade_propagator(self.bucket_tau, self.dt).to(dtype=dtype, device=device),
            self.first_bucket_decay,
            math.exp(-self.dt / p["tau_theta"]),
            p["theta0"],
            p["m_f"],
            learnt["bucket_weight"].to(dtype),
            learnt["bias"].to(dtype),
        )

    def initial_state(
        self, c: GammaConstants, batch: int, *, dtype: torch.dtype, device: torch.device | str | None
    ) -> dict[str, torch.Tensor]:
        state = super().initial_state(c, batch, dtype=dtype, device=device)
        sources = (self.n_inputs,) if self.per_synapse else ()
        state["buckets"] = torch.zeros(batch, *sources, self.n_neurons, self.n_buckets, dtype=dtype, device=device)
        state["y"] = torch.relu(state["x"] + c.bias)
        state["y_prev"] = torch.zeros_like(state["x"])
        state["q"] = torch.zeros_like(state["x"])
        return state

    def weighted_input(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """Per-synapse bucket weights keep the sources apart: ``[T, B, N_in, N]`` with ``w_ij x_i``."""
        return x[..., None] * weight if self.per_synapse else x @ weight

    def integrate(
        self, state: dict[str, torch.Tensor], c: GammaConstants, step: StepContext
    ) -> dict[str, torch.Tensor]:
        return {
            **state,
            "buckets": state["buckets"] @ c.propagator.T,
            "r": state["r"] * c.r_decay,
            "theta": c.theta0 + (state["theta"] - c.theta0) * c.theta_decay,
        }

    def arrive(self, state: dict[str, torch.Tensor], c: GammaConstants, step: StepContext) -> dict[str, torch.Tensor]:
        return {**state, "buckets": _add_to_first(state["buckets"], step.drive)}

    def sum(self, state: dict[str, torch.Tensor], c: GammaConstants) -> dict[str, torch.Tensor]:
        x, y = read_buckets(state["buckets"], c.bucket_weight, c.bias)
        return {**state, "x": x, "y": y}

    def threshold_distance(self, state: dict[str, torch.Tensor], c: GammaConstants) -> torch.Tensor:
        return (state["y"] - state["r"]) - state["theta"] / 2

    def reset(self, state: dict[str, torch.Tensor], c: GammaConstants, step: StepContext) -> dict[str, torch.Tensor]:
        s, theta = step.spike, state["theta"]
        q = theta.detach() * s
        return {**state, "q": q, "r": (state["r"] + q).detach(), "theta": (theta + c.m_f * theta * s).detach()}

    def output(
        self, state: dict[str, torch.Tensor], c: GammaConstants, step: StepContext
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        u = state["y"] - c.r_decay * state["y_prev"]
        return state["q"].detach() + (u - u.detach()), {**state, "y_prev": state["y"]}
