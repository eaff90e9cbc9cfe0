"""Run a validated :class:`~biosnn.inputs.Stimulus` through the torch mirror.

Input spikes become a ``[T, B, N_in]`` count raster on Brian2's grid
(``timestep()``), the weighted drive ``x[n] @ W`` is shifted by the schedule's
input latency (one step under the exact schedule, none for held input), and the
model's nn.Module runs it. The result is a :class:`~biosnn.trace.Trace` with the
same layout as the Brian2 backend's.
"""

from __future__ import annotations

import numpy as np
import torch

from ..inputs import Stimulus
from ..trace import Trace
from ..equations import get_spec
from .module import MODULES


def model_is_spiking(model: str) -> bool:
    return get_spec(model).threshold is not None

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def arriving_drive(stimulus: Stimulus, weights: torch.Tensor, dtype, *, per_synapse: bool = False) -> torch.Tensor:
    """``[T, B, N]`` drive that arrives at each step (latency applied); ``per_synapse``
    keeps the sources apart: ``[T, B, N_in, N]`` with entries ``w_ij * counts_i``."""
    counts = torch.as_tensor(stimulus.input_counts(), dtype=dtype)
    drive = counts[..., None] * weights if per_synapse else counts @ weights
    if stimulus.kind == "spikes" and stimulus.grid.input_latency_steps:
        shift = stimulus.grid.input_latency_steps
        drive = torch.cat([torch.zeros_like(drive[:shift]), drive[:-shift]], dim=0)
    return drive


def run_torch(model: str, stimulus: Stimulus, params: dict, *, synapse: str, reset: str,
              discretization: str, dtype: str, surrogate: str = "fast_sigmoid") -> Trace:
    torch_dtype = DTYPES[dtype]
    grid = stimulus.grid
    module = MODULES[model](dt=grid.dt, n_neurons=stimulus.n_neurons, n_inputs=stimulus.n_inputs, params=params,
                            synapse=synapse, reset=reset,
                            discretization=discretization, schedule=grid.schedule, surrogate=surrogate)
    module = module.to(torch_dtype)
    weights = torch.as_tensor(stimulus.weights, dtype=torch_dtype)
    with torch.no_grad():
        drive = arriving_drive(stimulus, weights, torch_dtype, per_synapse=getattr(module, "per_synapse", False))
        spikes, recorded, _ = module(drive, record=True)
    if model_is_spiking(model):
        steps, samples, units = np.nonzero(spikes.numpy())
    else:  # the output of a non-spiking layer is its membrane, not spikes
        steps = samples = units = np.zeros(0, np.int64)
    v = recorded.pop("v").numpy().astype(np.float64)
    states = {k: val.numpy().astype(np.float64) for k, val in recorded.items()}
    if not stimulus.batched:
        v = v[:, 0]
        states = {k: val[:, 0] for k, val in states.items()}
    return Trace.from_spike_steps(
        t=grid.times, v=v, steps=steps, units=units, samples=samples, dt=grid.dt,
        backend="torch", target=f"cpu-{dtype}", states=states,
        meta=dict(model=model, params=module.parameters_si, synapse=synapse, reset=reset,
                  discretization=discretization, dtype=dtype, schedule=grid.describe()),
    )
