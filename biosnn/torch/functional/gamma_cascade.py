"""Gamma-cascade step: the torch mirror of ``equations/gamma_cascade.py``.

The cascade is linear, so ``sum_i w_ij B_ik`` is the k-th bucket of one cascade
driven by the weighted spikes ``sum_i w_ij s_i``: the mirror keeps one cascade
per neuron (``D [B, N, K]``) fed by the arriving drive ``W^T s[n - 1]``, which
equals Brian2's per-source cascades read through the weights. With per-synapse
bucket weights it keeps one per (source, neuron) pair, ``D [B, N_in, N, K]``,
fed by ``w_ij s_i``, and sums over sources after weighting. One step::

    D <- D P^T,   P = expm(A dt),  A_kk = -alpha_k, A_k,k-1 = alpha_{k-1}   (groups; exact, any rates)
    r <- r e^{-alpha_1 dt};  theta <- theta0 + (theta - theta0) e^{-dt/tau_theta}
    D[..., 0] += drive                                                      (before_thresholds)
    x = sum_k v_k D_k;   y = max(0, x + b)
    s = [y - r >= theta / 2]                                                (thresholds; no surrogate)
    r += theta s;   theta += m_f theta s                                    (resets)

``torch.linalg.matrix_exp`` gives the exact propagator for equal rates as well
(no division by rate differences). The emission is not differentiated:
gradients flow through y (ReLU) and the buckets (DESIGN.md §3).
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class GammaParams(NamedTuple):
    propagator: torch.Tensor     # [K, K]
    r_decay: float
    theta_decay: float
    theta0: float
    m_f: float
    bucket_weight: torch.Tensor  # [N, K], or [N_in, N, K] per synapse
    bias: torch.Tensor           # [N]


class GammaState(NamedTuple):
    buckets: torch.Tensor        # [B, N, K], or [B, N_in, N, K] per synapse
    r: torch.Tensor              # [B, N]
    theta: torch.Tensor          # [B, N]
    x: torch.Tensor              # [B, N], last summed input (what Brian2 records at the next step's start)


def cascade_matrix(bucket_tau: torch.Tensor) -> torch.Tensor:
    """Generator A of the cascade (``dB/dt = A B``), rates 1/tau."""
    alpha = 1.0 / bucket_tau
    A = torch.diag(-alpha)
    if alpha.numel() > 1:
        A = A + torch.diag(alpha[:-1], diagonal=-1)
    return A


def cascade_propagator(bucket_tau: torch.Tensor, dt: float) -> torch.Tensor:
    return torch.linalg.matrix_exp(cascade_matrix(bucket_tau) * dt)


def initial_state(batch: int, n: int, K: int, theta0: float, *, dtype, device=None,
                  n_sources: int | None = None) -> GammaState:
    """``n_sources``: per-synapse bucket weights need one cascade per (source, neuron) pair."""
    zeros = torch.zeros(batch, n, dtype=dtype, device=device)
    shape = (batch, n, K) if n_sources is None else (batch, n_sources, n, K)
    return GammaState(torch.zeros(shape, dtype=dtype, device=device), zeros, zeros + theta0, zeros.clone())


def _add_to_first(buckets: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
    return torch.cat([buckets[..., :1] + drive[..., None], buckets[..., 1:]], dim=-1)


def read_buckets(buckets: torch.Tensor, bucket_weight: torch.Tensor, bias: torch.Tensor):
    """The neuron's read of its buckets: ``x_j = sum_k v_jk D_jk`` and ``y_j = max(0, x_j + b_j)``.

    ``buckets [..., N, K]`` with ``bucket_weight [N, K]``; with per-synapse weights
    ``[N_in, N, K]``, buckets ``[..., N_in, N, K]`` and x is also summed over the sources.
    """
    x = (buckets * bucket_weight).sum(-1)
    if bucket_weight.dim() == 3:
        x = x.sum(-2)
    return x, torch.relu(x + bias)


def source_buckets(counts: torch.Tensor, propagator: torch.Tensor):
    """Yield, step by step, the buckets of each source's own cascade ``[B, N_in, K]``.

    ``counts [T, B, N_in]``: spikes per step (q = 1). Exact schedule, as in
    ``gamma_step``: the spikes of step n - 1 enter B_1 after step n's
    propagation. Reading them through the weights, ``sum_i w_ij B_ik``, gives
    the per-neuron buckets the layer keeps (the cascade is linear); they do not
    depend on any learnable parameter, which makes them exact eligibility traces.
    """
    buckets = torch.zeros(*counts.shape[1:], propagator.shape[0], dtype=counts.dtype, device=counts.device)
    previous = torch.zeros_like(counts[0])
    for step_counts in counts:
        buckets = _add_to_first(buckets @ propagator.T, previous)
        previous = step_counts
        yield buckets


def gamma_step(drive: torch.Tensor, state: GammaState, params: GammaParams, *, before_propagation: bool = False):
    """Advance one step; returns ``(charge, y, new_state)``: charge = theta * s, what a receiver's B_1 gets.

    ``before_propagation``: the drive entered B_1 at the end of the previous step
    (spikes of a gamma layer, added by its reset) and is propagated through this
    step; otherwise (input spikes, exact schedule) it enters after propagation.
    """
    buckets = state.buckets
    if before_propagation:
        buckets = _add_to_first(buckets, drive)
    buckets = buckets @ params.propagator.T
    r = state.r * params.r_decay
    theta = params.theta0 + (state.theta - params.theta0) * params.theta_decay
    if not before_propagation:
        buckets = _add_to_first(buckets, drive)
    x, y = read_buckets(buckets, params.bucket_weight, params.bias)
    spike = ((y - r) >= theta / 2).to(y.dtype).detach()
    charge = theta.detach() * spike
    r = r + charge
    theta = theta + params.m_f * theta * spike
    return charge, y, GammaState(buckets, r.detach(), theta.detach(), x)
