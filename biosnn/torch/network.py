"""The torch mirror of a :class:`~biosnn.models.network.FeedForwardNet`: one network runner.

Layer l's drive at step n is ``sum_i x_{l-1, i}[n - L - k_i] W_l[i]``: the hop's
latency L (``biosnn.core.schedule.hop_latency_steps`` of its arrival slot: one step
under the exact schedule, none under Brian2's default, where the input arrives
after the threshold test of its own step) plus its axonal delay ``k_i`` in
whole steps (``biosnn/torch/delay.py``; learnable per presynaptic neuron, or
fixed per synapse). Each layer is the one template
(``biosnn/torch/layer.py``). A single layer (``biosnn.simulate``) is a
one-layer network. The exported network runs in Brian2 with identical spikes
in float64.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch
from torch import nn

from ..core.schedule import delay_steps, hop_latency_steps
from ..core.spec import Output
from ..models import get_spec
from ..models.axonal_delay import MAX_DELAY
from ..models.network import FeedForwardNet, LayerSpec, hop_accepts_delays
from .delay import AxonalDelay
from .layer import Layer

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


def delayed(x: torch.Tensor, steps: int = 1) -> torch.Tensor:
    """``x`` shifted ``steps`` later along time (zeros enter at the start)."""
    if steps == 0:
        return x
    return torch.cat([torch.zeros_like(x[:steps]), x[:-steps]], dim=0)


class LayerRun(NamedTuple):
    """One layer's part of a recorded run."""

    output: torch.Tensor  # what the layer passed on [T, B, N]
    recorded: dict  # the spec's recorded variables at each step start, [T, B, N]
    final: dict  # the layer's state after the last step


class FeedForward(nn.Module):
    """Stack of registered neuron layers with learnable weights (and axonal delays).

    ``delays``: per hop ``None``, per-neuron delays ``[n_prev]`` (s; learnable when
    ``learn_delays``) or per-synapse delays ``[n_prev, n]`` (s; fixed). The first
    layer may take a held drive (its synapse kind ``held``): ``forward`` then takes
    the drive ``[T, B, n_inputs]`` instead of spike counts.
    """

    def __init__(
        self,
        n_inputs: int,
        layers: list[LayerSpec],
        *,
        dt: float,
        weights: Sequence[np.ndarray] | None = None,
        delays: Sequence[np.ndarray | None] | None = None,
        learn_delays: bool = False,
        d_max: float | None = None,
        fractional_delays: bool = False,
        surrogate: str = "fast_sigmoid",
        surrogate_alpha: float | None = None,
        schedule: str = "exact",
        discretization: str = "exact",
        detach_reset: bool = False,
        fused: bool = True,
    ) -> None:
        super().__init__()
        layers = list(layers)
        sizes = [n_inputs] + [layer.n for layer in layers]
        if weights is None:
            weights = [np.zeros((a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        description = FeedForwardNet(
            n_inputs, tuple(layers), tuple(weights), None if delays is None else tuple(delays)
        )  # validates shapes and rules
        self.n_inputs = n_inputs
        self.layer_specs = layers
        self.dt = dt
        outputs = [Output.SPIKES] + [get_spec(layer.model).output for layer in layers[:-1]]
        self.neurons = nn.ModuleList(
            Layer(
                layer.model,
                dt=dt,
                n_neurons=layer.n,
                n_inputs=n_prev,
                params=layer.params,
                synapse=layer.synapse,
                reset=layer.reset,
                discretization=discretization,
                schedule=schedule,
                source_output=source,
                surrogate=surrogate,
                surrogate_alpha=surrogate_alpha,
                detach_reset=detach_reset,
                fused=fused,
                noise=layer.noise,
                escape=layer.escape,
            )
            for layer, n_prev, source in zip(layers, sizes[:-1], outputs)
        )
        self.latency = [hop_latency_steps(neurons.arrival) for neurons in self.neurons]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.as_tensor(w, dtype=torch.float64)) for w in description.weights
        )
        d_max = MAX_DELAY.default_si(dt) if d_max is None else d_max
        #: per-neuron delays of hop k (learnable or fixed) under key str(k)
        self.axonal = nn.ModuleDict()
        #: per-synapse delays of hop k in whole steps (fixed), or None
        self.synapse_delay_steps = []
        for k, (n_prev, d) in enumerate(zip(sizes[:-1], description.delays)):
            d = None if d is None else np.asarray(d, dtype=np.float64)
            self.synapse_delay_steps.append(delay_steps(d, dt) if d is not None and d.ndim == 2 else None)
            if (d is not None and d.ndim == 1) or (d is None and learn_delays and hop_accepts_delays(layers[k])):
                self.axonal[str(k)] = AxonalDelay(
                    n_prev, dt=dt, d_max=d_max, init=d, learnable=learn_delays, fractional=fractional_delays
                )

    @classmethod
    def from_description(cls, net: FeedForwardNet, *, dt: float, **kwargs: Any) -> FeedForward:
        """The mirror of a loaded/exported description (delays rounded to whole steps, as Brian2 rounds
        them; ``d_max`` at least the longest of them)."""
        delays = [None if d is None else delay_steps(d, dt) * dt for d in net.delays]
        longest = max((float(np.max(d)) for d in delays if d is not None and np.size(d)), default=0.0)
        kwargs.setdefault("d_max", max(MAX_DELAY.default_si(dt), longest))
        return cls(net.n_inputs, list(net.layers), dt=dt, weights=net.weights, delays=delays, **kwargs)

    def drive(self, k: int, x: torch.Tensor) -> torch.Tensor:
        """The drive hop k delivers to layer k from the previous layer's output ``x [T, B, n_prev]``."""
        layer, weight, latency = self.neurons[k], self.weights[k].to(x.dtype), self.latency[k]
        if self.synapse_delay_steps[k] is not None:
            steps = self.synapse_delay_steps[k]
            drive = 0
            for shift in np.unique(steps):
                mask = torch.as_tensor(steps == shift, dtype=weight.dtype, device=weight.device)
                drive = drive + layer.weighted_input(delayed(x, latency + int(shift)), weight * mask)
            return drive
        if str(k) in self.axonal:
            x = self.axonal[str(k)](x)
        return layer.weighted_input(delayed(x, latency), weight)

    def forward(
        self, inputs: torch.Tensor, *, record: bool = False, first_sample: int = 0
    ) -> list[torch.Tensor] | list[LayerRun]:
        """``inputs [T, B, n_inputs]`` (spike counts, or the first layer's held drive); returns every
        layer's output (spikes; v for a non-spiking readout; spike charges, straight-through, for
        gamma-cascade layers), or with ``record`` a :class:`LayerRun` per layer. ``first_sample``: the index
        of the batch's first sample in the whole set (the noise a noisy layer draws is keyed on it)."""
        x = inputs
        runs = []
        for k, neurons in enumerate(self.neurons):
            drive = self.drive(k, x)
            if record:
                x, recorded, final = neurons(drive, record=True, first_sample=first_sample)
                runs.append(LayerRun(x, recorded, final))
            else:
                x = neurons(drive, first_sample=first_sample)
                runs.append(x)
        return runs

    @property
    def time_loop(self) -> str:
        """Which time loop the layers run when not recording: ``"fused"`` (every layer's whole loop fused,
        ``biosnn/torch/fused.py``), ``"phase"`` (every layer its phases) or ``"mixed"``. Training is chaotic:
        the two agree to rounding, yet a last-bit difference can move one seed's accuracy by points, so every
        study records which ran."""
        fused = {layer.fused_loop is not None for layer in self.neurons}
        return "mixed" if len(fused) > 1 else "fused" if fused == {True} else "phase"

    def delay_parameters(self) -> list[nn.Parameter]:
        """The learnable axonal delays (in steps), for their own optimiser step size."""
        return [module.delay_steps for module in self.axonal.values() if module.delay_steps.requires_grad]

    def clamp_delays_(self) -> None:
        """Keep every learnable delay in ``[0, d_max]`` (call after each optimiser step)."""
        for module in self.axonal.values():
            module.clamp_()

    def export(self) -> FeedForwardNet:
        """The network description for the Brian2 reference, with learnt parameters and delays."""
        layers, delays = [], []
        for k, (spec, neurons) in enumerate(zip(self.layer_specs, self.neurons)):
            layers.append(replace(spec, params=neurons.exported_parameters()))  # noise settings kept
            if self.synapse_delay_steps[k] is not None:
                delays.append(self.synapse_delay_steps[k] * self.dt)
            elif str(k) in self.axonal:
                delays.append(self.axonal[str(k)].delays())
            else:
                delays.append(None)
        return FeedForwardNet(
            self.n_inputs,
            tuple(layers),
            tuple(w.detach().cpu().numpy().astype(np.float64) for w in self.weights),
            tuple(delays),
        )


__all__ = ["FeedForward", "LayerRun", "delayed"]
