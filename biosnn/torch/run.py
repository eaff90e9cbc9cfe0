"""Run a network description through the torch mirror: the torch side of ``biosnn.simulate``.

The description becomes a :class:`~biosnn.torch.network.FeedForward` (the
one network runner; a single layer is a one-layer network), the input becomes
a ``[T, B, N_in]`` count raster on Brian2's grid (``timestep()``) or the held
drive, and every layer's spikes and recorded variables come back as
:class:`~biosnn.core.activity.LayerActivity`, the same layout as the Brian2 runner's.
"""

from __future__ import annotations

import numpy as np
import torch

from ..core.activity import LayerActivity
from ..core.inputs import Stimulus
from ..core.spec import Output
from ..models import get_spec
from ..models.network import FeedForwardNet
from .network import FeedForward

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def build(
    net: FeedForwardNet,
    stimulus: Stimulus,
    *,
    discretization: str = "exact",
    dtype: str = "float64",
    surrogate: str = "fast_sigmoid",
) -> FeedForward:
    """The mirror of ``net`` on the stimulus' grid and schedule, in ``dtype``."""
    mirror = FeedForward.from_description(
        net, dt=stimulus.grid.dt, schedule=stimulus.grid.schedule, discretization=discretization, surrogate=surrogate
    )
    return mirror.to(DTYPES[dtype])


def run_network(
    net: FeedForwardNet, stimulus: Stimulus, *, discretization: str = "exact", dtype: str = "float64"
) -> list[LayerActivity]:
    """Simulate ``net`` on ``stimulus``; one activity per layer, every recorded variable included."""
    mirror = build(net, stimulus, discretization=discretization, dtype=dtype)
    inputs = torch.as_tensor(stimulus.input_counts(), dtype=DTYPES[dtype])
    with torch.no_grad():
        runs = mirror(inputs, record=True)
    activities = []
    for description, run in zip(net.layers, runs):
        spec = get_spec(description.model)
        if spec.output is Output.MEMBRANE:  # the output of a non-spiking layer is its membrane, not spikes
            steps = samples = units = np.zeros(0, np.int64)
        else:
            steps, samples, units = np.nonzero(run.output.detach().cpu().numpy())
        states = {name: value.detach().cpu().numpy().astype(np.float64) for name, value in run.recorded.items()}
        final = {name: run.final[name].detach().cpu().numpy().astype(np.float64) for name in run.recorded}
        activities.append(
            LayerActivity(description.n, stimulus.batch_size, steps, units, samples, spec.main_variable, states, final)
        )
    return activities
