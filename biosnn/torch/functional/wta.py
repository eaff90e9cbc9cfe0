"""Winner-take-all lateral inhibition: the torch mirror of ``equations/wta.py``.

Lee, Delbruck & Pfeiffer (2016), section 2.3.1. When neuron j of a circuit
fires, every other neuron i of it gets ``v_i += sigma mu V_th_i`` and
``t_r,i = t``; with k other neurons of i's circuit firing in the same step the
increments add up (``k sigma mu V_th_i``; all are <= 0, so order is
irrelevant). The lower bound ``v >= -V_th`` is applied by the caller after the
slot (``biosnn/torch/functional/lee_refractory.py``).
"""

from __future__ import annotations

import torch


def circuit_matrix(circuit_ids: torch.Tensor, dtype) -> torch.Tensor:
    """One-hot ``[N, n_circuits]`` membership."""
    return torch.nn.functional.one_hot(circuit_ids, int(circuit_ids.max()) + 1).to(dtype)


def others_firing(spike: torch.Tensor, membership: torch.Tensor) -> torch.Tensor:
    """For each neuron, how many *other* neurons of its circuit fired (differentiable)."""
    return (spike @ membership) @ membership.T - spike


def wta_inhibition(v, t_r, spike, t: float, *, v_th, mu, sigma, membership):
    """Apply one step of circuit inhibition; returns ``(v, t_r)``."""
    count = others_firing(spike, membership)
    v = v + sigma * mu * v_th * count
    t_r = torch.where(count.detach() > 0.5, torch.full_like(t_r, t), t_r)
    return v, t_r
