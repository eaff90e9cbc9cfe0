"""Feed-forward networks of registered models, described once for both backends.

A :class:`FeedForwardNet` is ``n_inputs`` spike sources followed by layers;
layer l receives the spikes of layer l-1 (or of the inputs) through the weight
matrix ``weights[l]`` of shape ``[n_{l-1}, n_l]``, with the schedule's synaptic
latency of one step per hop (``biosnn/schedule.py``). Each layer names a model
of the registry and its parameters (SI; per-neuron arrays where the spec allows).

The torch mirror is :class:`biosnn.torch.feedforward.FeedForward` (which
exports a :class:`FeedForwardNet`); the Brian2 reference is
:func:`biosnn.brian.feedforward.run_feedforward`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .equations import get_spec
from .errors import BiosnnInputError
from .inputs import check_weights


@dataclass(frozen=True)
class LayerSpec:
    model: str
    n: int
    params: dict = field(default_factory=dict)
    synapse: str = "delta"
    reset: str | None = None

    def resolved_reset(self) -> str:
        spec = get_spec(self.model)
        return spec.check_reset(self.reset if self.reset is not None else next(iter(spec.resets)))


@dataclass(frozen=True)
class FeedForwardNet:
    n_inputs: int
    layers: tuple[LayerSpec, ...]
    weights: tuple[np.ndarray, ...]

    def __post_init__(self):
        if len(self.layers) != len(self.weights) or not self.layers:
            raise BiosnnInputError(f"{len(self.layers)} layers but {len(self.weights)} weight matrices")
        n_prev = self.n_inputs
        for k, (layer, w) in enumerate(zip(self.layers, self.weights)):
            w = check_weights(w)
            if w.shape != (n_prev, layer.n):
                raise BiosnnInputError(f"layer {k}: weights have shape {w.shape}, expected {(n_prev, layer.n)}")
            spec = get_spec(layer.model)
            spec.synapse(layer.synapse)
            layer.resolved_reset()
            if layer.synapse == "held":
                raise BiosnnInputError(f"layer {k}: held input has no spikes to pass between layers")
            n_prev = layer.n

    def resolved_params(self, k: int, dt: float) -> dict:
        layer = self.layers[k]
        params = get_spec(layer.model).resolve(layer.params, dt)
        for name, value in params.items():
            if np.ndim(value) and np.size(value) != layer.n:
                raise BiosnnInputError(f"layer {k}: {name} has {np.size(value)} values for {layer.n} neurons")
        return params
