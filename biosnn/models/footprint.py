"""The memory a network run takes, estimated from its sizes before anything is allocated.

A simulation's large arrays are known from its sizes: the input raster and the
drive of every layer (torch), the recorded variables (both backends, 8 bytes a
value; Brian2's monitors hold them twice while converting), and the synapses
Brian2 creates (every (copy, source, target) triple of a batched hop: one copy
per sample, or fewer when the batch is time-multiplexed) and its input spikes.
The estimate goes to :func:`biosnn.core.resources.check_fits`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.inputs import Stimulus
    from .network import FeedForwardNet

#: bytes per stored value (float64)
VALUE_BYTES = 8
#: bytes per Brian2 synapse at the peak of building a batched hop (measured 97: the index grids,
#: indices, weight, delay; 49 once built)
SYNAPSE_BYTES = 100
#: bytes per input spike Brian2 holds (index and time, sorted copies, time bins)
SPIKE_BYTES = 40


def estimate(
    net: FeedForwardNet,
    stimulus: Stimulus,
    *,
    backend: str,
    record: bool,
    dtype: str = "float64",
    copies: int | None = None,
) -> int:
    """Bytes the run of ``net`` on ``stimulus`` will hold at its peak (an order-of-magnitude estimate);
    Brian2 builds the synapses of ``copies`` copies of the network (default: one per sample)."""
    from . import get_spec

    T, B = stimulus.grid.n_steps, stimulus.batch_size
    replicas = B if copies is None else min(copies, B)
    value = VALUE_BYTES if backend == "brian2" or dtype == "float64" else VALUE_BYTES // 2
    n_prev, total = net.n_inputs, 0
    if backend == "torch":
        total += T * B * n_prev * value  # the input raster or held drive
    for k, layer in enumerate(net.layers):
        spec = get_spec(layer.model)
        n_recorded = len(spec.recorded_variables(layer.synapse))
        if backend == "torch":  # drive, output, and (always recorded) state variables
            total += T * B * layer.n * (2 + n_recorded) * value
        else:
            if k == 0 and stimulus.kind == "held":
                total += 2 * T * B * layer.n * VALUE_BYTES  # the drive X @ W and its TimedArray: no synapses
            else:
                total += replicas * n_prev * layer.n * SYNAPSE_BYTES
            if record:
                total += 2 * T * B * layer.n * n_recorded * VALUE_BYTES
        n_prev = layer.n
    if backend == "brian2" and stimulus.kind == "spikes":
        total += len(stimulus.spikes) * SPIKE_BYTES
    return int(total)
