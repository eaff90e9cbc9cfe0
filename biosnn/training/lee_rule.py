"""Lee, Delbruck & Pfeiffer (2016)'s training rule for WTA networks of
dynamic-weight refractory neurons, as an option of the torch mirror.

Derivation (with biosnn's sign convention mu in [-1, 0])
---------------------------------------------------------
Take neuron i of a WTA circuit of n neurons, and count charge over a
presentation. Its membrane receives the input charge ``q_i = sum_k w_ik x_k``
where x_k is the low-pass filtered activity of input k (the leaky membrane,
tau_mp, sees inputs through exactly that filter). Every output spike of i
removes ``V_th,i`` (subtractive reset); every spike of another neuron j of the
circuit adds ``sigma mu V_th,i`` (mu <= 0: inhibition). Ignoring the leak of the
residual and the floor, charge balance over the window gives, for activities a:

    V_th,i a_i = q_i + sigma mu V_th,i sum_{j != i} a_j.

The paper's approximation takes the active neurons of a circuit as equally
active, ``sum_{j != i} a_j ~ (n - 1) a_i``, so

    a_i = q_i / (V_th,i (1 - sigma mu (n - 1))) = q_i / (V_th,i (1 + sigma |mu| (n - 1)))

and ``da_i/dx_k = w_ik / (V_th,i (1 + sigma |mu| (n - 1)))``,
``da_i/dw_ik = x_k / (V_th,i (1 + sigma |mu| (n - 1)))``. Inhibition can only
*lower* the gain. The paper writes the denominator ``(mu sigma (n - 1) + 1)``
with mu taken as the inhibition *magnitude*; with mu <= 0 as in
``biosnn/models/wta.py`` (v_i += sigma mu V_th,i) the sign flips, as written here.
The gain carries ``1 / V_th,i``: the back-propagated error of each neuron is
normalised by its threshold.

Implementation
--------------
The forward pass is the spiking network itself (exact dynamics). The backward
pass replaces its Jacobian by the rate model above through a straight-through
construction per layer::

    z_l = a_l + (r_l - r_l.detach()),   r_l = gain_l * (z_{l-1} @ W_l)

so ``z_l`` has the value of the measured activity ``a_l`` (time-averaged
low-pass trace) and the gradient of the rate model. Every neuron carries
gradient, silent ones included (the paper's derivative has no gate; gating on
activity leaves a silent network unable to learn). Gradients reach ``W_l`` and,
through ``gain_l``, the thresholds.

Regularisers (section 2.4 of the paper):

* exponential weight regularisation ``beta * sum_i exp(lambda (sum_k w_ik^2 - a^2))``
  over each neuron's fan-in, which only bites once the squared norm exceeds a^2;
* threshold lower bound: a threshold pushed below ``V_min`` is held at
  ``V_min`` and the neuron's incoming weights are scaled by ``V_min / V_th``
  instead, which keeps ``w / V_th``, and therefore the activity, unchanged.

Initialisation: ``W ~ U[-a/sqrt(M), a/sqrt(M)]`` (M = fan-in),
``V_th ~ U[a, 2a]`` (:func:`lee_init`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from ..torch.layer import Layer
    from ..torch.network import FeedForward


def low_pass_mean(spikes: torch.Tensor, decay: float) -> torch.Tensor:
    """Time average of ``y[n] = decay * y[n-1] + s[n]`` over ``[T, B, N]`` -> ``[B, N]``.

    Closed form: each spike at step n contributes ``(1 - decay^(T-n)) / (1 - decay)``.
    """
    T = spikes.shape[0]
    n = torch.arange(T, dtype=spikes.dtype, device=spikes.device)
    weight = (1 - decay ** (T - n)) / (1 - decay) / T
    return torch.einsum("t,tbn->bn", weight, spikes)


def wta_gain(neurons: Layer) -> torch.Tensor:
    """``1 / (V_th,i (1 + sigma |mu| (n_i - 1)))`` for a layer (``[N]``), n_i the size of i's circuit
    (the spec's circuits; a layer without lateral circuits has gain ``1 / V_th``)."""
    lateral, p = neurons.spec.lateral, neurons.parameters_si
    if lateral is None or not lateral.active(p):
        return 1.0 / neurons.v_th
    circuits = lateral.circuits(neurons.n_neurons, p)
    n_circuit = torch.as_tensor(np.bincount(circuits)[circuits], dtype=neurons.v_th.dtype)
    return 1.0 / (neurons.v_th * (1.0 + p["sigma"] * abs(p["mu"]) * (n_circuit - 1)))


def lee_rule_logits(
    net: FeedForward, raster: torch.Tensor, *, logit_scale: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward the spiking ``FeedForward`` net; return logits carrying the rule's gradient.

    Returns ``(logits [B, n_out], output_counts [B, n_out])``.
    """
    with torch.no_grad():
        spikes = net(raster)
    decays = [math.exp(-net.dt / neurons.parameters_si["tau_mp"]) for neurons in net.neurons]
    z = low_pass_mean(raster, decays[0])
    for weight, neurons, s, decay in zip(net.weights, net.neurons, spikes, decays):
        a = low_pass_mean(s, decay)
        rate = wta_gain(neurons).to(a.dtype) * (z @ weight.to(a.dtype))
        z = a + (rate - rate.detach())
    counts = spikes[-1].sum(0)
    return logit_scale * z, counts


def exponential_weight_penalty(net: FeedForward, *, a: float, beta: float, lam: float) -> torch.Tensor:
    """``beta * sum_i exp(lambda (sum_k w_ik^2 - a^2))`` over every layer's neurons."""
    total = 0.0
    for weight in net.weights:
        total = total + beta * torch.exp(lam * ((weight**2).sum(0) - a**2)).sum()
    return total


@torch.no_grad()
def enforce_threshold_floor(net: FeedForward, v_min: float) -> int:
    """Raise thresholds below ``v_min`` to it, scaling fan-in weights by ``v_min / V_th``.

    Returns the number of neurons adjusted.
    """
    adjusted = 0
    for weight, neurons in zip(net.weights, net.neurons):
        low = neurons.v_th < v_min
        if low.any():
            factor = torch.where(low, v_min / neurons.v_th.clamp_min(1e-12), torch.ones_like(neurons.v_th))
            weight.mul_(factor.to(weight.dtype))
            neurons.v_th.copy_(torch.where(low, torch.full_like(neurons.v_th, v_min), neurons.v_th))
            adjusted += int(low.sum())
    return adjusted


def lee_init(sizes: list[int], *, a: float, rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights ``U[-a/sqrt(M), a/sqrt(M)]`` and thresholds ``U[a, 2a]`` per layer."""
    weights, thresholds = [], []
    for fan_in, n in zip(sizes[:-1], sizes[1:]):
        bound = a / math.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, size=(fan_in, n)))
        thresholds.append(rng.uniform(a, 2 * a, size=n))
    return weights, thresholds


__all__ = [
    "low_pass_mean",
    "wta_gain",
    "lee_rule_logits",
    "exponential_weight_penalty",
    "enforce_threshold_floor",
    "lee_init",
]
