"""Torch mirror of a :class:`~biosnn.network.FeedForwardNet`.

Layer l's drive at step n is ``x_{l-1}[n - 1] @ W_l``: the one-step synaptic
latency of biosnn's exact schedule, per hop (``biosnn/schedule.py``), so the
exported network runs in Brian2 with identical spikes in float64.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..network import FeedForwardNet, LayerSpec
from .module import MODULES


def delayed(x: torch.Tensor, steps: int = 1) -> torch.Tensor:
    """``x`` shifted ``steps`` later along time (zeros enter at the start)."""
    if steps == 0:
        return x
    return torch.cat([torch.zeros_like(x[:steps]), x[:-steps]], dim=0)


class FeedForward(nn.Module):
    """Stack of registered neuron layers with learnable weights."""

    def __init__(self, n_inputs: int, layers: list[LayerSpec], *, dt: float, weights=None,
                 surrogate: str = "fast_sigmoid", surrogate_alpha: float | None = None, schedule: str = "exact",
                 detach_reset: bool = False):
        super().__init__()
        self.n_inputs = n_inputs
        self.layer_specs = list(layers)
        self.dt = dt
        self.neurons = nn.ModuleList(
            MODULES[layer.model](dt=dt, n_neurons=layer.n, params=layer.params, synapse=layer.synapse,
                                 reset=layer.resolved_reset(), surrogate=surrogate, surrogate_alpha=surrogate_alpha,
                                 schedule=schedule, detach_reset=detach_reset)
            for layer in self.layer_specs
        )
        sizes = [n_inputs] + [layer.n for layer in self.layer_specs]
        if weights is None:
            weights = [np.zeros((a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.weights = nn.ParameterList(nn.Parameter(torch.as_tensor(np.asarray(w), dtype=torch.float64))
                                        for w in weights)

    def forward(self, raster: torch.Tensor, *, record: bool = False):
        """``raster`` ``[T, B, n_inputs]``; returns the spikes of every layer (and v with ``record``)."""
        x = raster
        spikes, voltages = [], []
        for weight, neurons in zip(self.weights, self.neurons):
            drive = delayed(x) @ weight.to(x.dtype)
            if record:
                x, rec, _ = neurons(drive, record=True)
                voltages.append(rec["v"])
            else:
                x = neurons(drive)
            spikes.append(x)
        return (spikes, voltages) if record else spikes

    def export(self) -> FeedForwardNet:
        """The network description for the Brian2 reference, with learnt parameters."""
        layers = []
        for spec, neurons in zip(self.layer_specs, self.neurons):
            params = neurons.exported_parameters() if hasattr(neurons, "exported_parameters") else dict(
                neurons.parameters_si)
            layers.append(LayerSpec(spec.model, spec.n, params, spec.synapse, spec.reset))
        return FeedForwardNet(self.n_inputs, tuple(layers),
                              tuple(w.detach().cpu().numpy().astype(np.float64) for w in self.weights))
