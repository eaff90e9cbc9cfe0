"""Torch mirror of a :class:`~biosnn.network.FeedForwardNet`.

Layer l's drive at step n is ``sum_i x_{l-1, i}[n - 1 - k_i] W_l[i]``: the
one-step synaptic latency of biosnn's exact schedule per hop
(``biosnn/schedule.py``) plus the hop's axonal delay ``k_i`` in whole steps
(``biosnn/torch/delay.py``; learnable per presynaptic neuron, or fixed per
synapse). The exported network runs in Brian2 with identical spikes in float64.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..network import FeedForwardNet, LayerSpec
from ..schedule import delay_steps
from .delay import AxonalDelay, shift_per_neuron
from .module import MODULES
from .module.gamma_cascade import GammaCascade


def delayed(x: torch.Tensor, steps: int = 1) -> torch.Tensor:
    """``x`` shifted ``steps`` later along time (zeros enter at the start)."""
    if steps == 0:
        return x
    return torch.cat([torch.zeros_like(x[:steps]), x[:-steps]], dim=0)


def straight_through_charges(charges: torch.Tensor, y: torch.Tensor, decay: float) -> torch.Tensor:
    """Spike charges forward, the smooth signal backward (DESIGN.md §3).

    A receiver's first bucket is the sender's reconstruction r, built from the
    charges. In the backward pass we let it be y instead: the charge sequence
    whose reconstruction is exactly y is ``u[n] = y[n] - decay * y[n - 1]``
    (decay = exp(-alpha_1 dt)), so ``q + (u - u.detach())`` has the value of q
    and the gradient of u, i.e. ``B_1 = r + (B_1,spiking - r).detach()`` with r -> y.
    """
    u = y - decay * delayed(y)
    return charges.detach() + (u - u.detach())


def per_synapse_drive(x: torch.Tensor, weight: torch.Tensor, steps: np.ndarray) -> torch.Tensor:
    """``drive[t, :, j] = sum_i x[t - k_ij, :, i] W[i, j]`` for fixed integer delays ``k_ij``."""
    drive = 0
    for k in np.unique(steps):
        mask = torch.as_tensor(steps == k, dtype=weight.dtype, device=weight.device)
        shifted = delayed(x, int(k)) if k else x
        drive = drive + shifted @ (weight * mask)
    return drive


class FeedForward(nn.Module):
    """Stack of registered neuron layers with learnable weights (and axonal delays).

    ``delays``: per hop ``None``, per-neuron delays ``[n_prev]`` (s; learnable when
    ``learn_delays``) or per-synapse delays ``[n_prev, n]`` (s; fixed).
    """

    def __init__(self, n_inputs: int, layers: list[LayerSpec], *, dt: float, weights=None, delays=None,
                 learn_delays: bool = False, d_max: float = 25e-3, fractional_delays: bool = False,
                 surrogate: str = "fast_sigmoid", surrogate_alpha: float | None = None, schedule: str = "exact",
                 detach_reset: bool = False):
        super().__init__()
        self.n_inputs = n_inputs
        self.layer_specs = list(layers)
        self.dt = dt
        self.neurons = nn.ModuleList(
            MODULES[layer.model](dt=dt, n_neurons=layer.n, params=layer.params, synapse=layer.resolved_synapse(),
                                 reset=layer.resolved_reset(), surrogate=surrogate, surrogate_alpha=surrogate_alpha,
                                 schedule=schedule, detach_reset=detach_reset)
            for layer in self.layer_specs
        )
        sizes = [n_inputs] + [layer.n for layer in self.layer_specs]
        if weights is None:
            weights = [np.zeros((a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.weights = nn.ParameterList(nn.Parameter(torch.as_tensor(np.asarray(w), dtype=torch.float64))
                                        for w in weights)
        delays = list(delays) if delays is not None else [None] * len(self.layer_specs)
        self.axonal = nn.ModuleList()
        self.synapse_delay_steps = []
        for n_prev, d in zip(sizes[:-1], delays):
            d = None if d is None else np.asarray(d, dtype=np.float64)
            if d is not None and d.ndim == 2:
                self.axonal.append(nn.Identity())
                self.synapse_delay_steps.append(delay_steps(d, dt))
            else:
                self.axonal.append(AxonalDelay(n_prev, dt=dt, d_max=d_max, init=d, learnable=learn_delays,
                                               fractional=fractional_delays)
                                   if (d is not None or learn_delays) else nn.Identity())
                self.synapse_delay_steps.append(None)

    @classmethod
    def from_description(cls, net: FeedForwardNet, *, dt: float, **kwargs) -> "FeedForward":
        """The mirror of a loaded/exported description (delays rounded to whole steps)."""
        delays = [None if d is None else delay_steps(d, dt) * dt for d in net.delays]
        return cls(net.n_inputs, list(net.layers), dt=dt, weights=net.weights, delays=delays, **kwargs)

    def drive(self, k: int, x: torch.Tensor) -> torch.Tensor:
        weight = self.weights[k].to(x.dtype)
        if self.synapse_delay_steps[k] is not None:
            return per_synapse_drive(delayed(x), weight, self.synapse_delay_steps[k])
        return delayed(self.axonal[k](x)) @ weight

    def forward(self, raster: torch.Tensor, *, record: bool = False):
        """``raster`` ``[T, B, n_inputs]``; returns every layer's output (spikes; v for ``li``;
        spike charges theta*s, straight-through, for gamma-cascade layers)."""
        x = raster
        outputs, voltages = [], []
        for k, neurons in enumerate(self.neurons):
            drive = self.drive(k, x)
            if isinstance(neurons, GammaCascade):
                from_gamma = k > 0 and isinstance(self.neurons[k - 1], GammaCascade)
                charges, rec, _ = neurons(drive, record=True, before_propagation=from_gamma)
                x = straight_through_charges(charges, rec["y_after"], neurons.first_bucket_decay)
                outputs.append(x)
                if record:
                    voltages.append(rec["v"])
                continue
            if record:
                x, rec, _ = neurons(drive, record=True)
                voltages.append(rec["v"])
            else:
                x = neurons(drive)
            outputs.append(x)
        return (outputs, voltages) if record else outputs

    def clamp_delays_(self) -> None:
        for module in self.axonal:
            if isinstance(module, AxonalDelay):
                module.clamp_()

    def export(self) -> FeedForwardNet:
        """The network description for the Brian2 reference, with learnt parameters and delays."""
        layers, delays = [], []
        for k, (spec, neurons) in enumerate(zip(self.layer_specs, self.neurons)):
            params = neurons.exported_parameters() if hasattr(neurons, "exported_parameters") else dict(
                neurons.parameters_si)
            layers.append(LayerSpec(spec.model, spec.n, params, spec.synapse, spec.reset))
            if self.synapse_delay_steps[k] is not None:
                delays.append(self.synapse_delay_steps[k] * self.dt)
            elif isinstance(self.axonal[k], AxonalDelay):
                delays.append(self.axonal[k].delays())
            else:
                delays.append(None)
        return FeedForwardNet(self.n_inputs, tuple(layers),
                              tuple(w.detach().cpu().numpy().astype(np.float64) for w in self.weights), tuple(delays))


__all__ = ["FeedForward", "delayed", "per_synapse_drive", "shift_per_neuron"]
