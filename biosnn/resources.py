"""Will it fit? Memory estimates checked before a simulation allocates anything.

A simulation's large arrays are known from its sizes: the input raster and the
drive of every layer (torch), the recorded variables (both backends, 8 bytes a
value; Brian2's monitors hold them twice while converting), and the synapses
Brian2 creates (every (copy, source, target) triple of a batched hop: one copy
per sample, or fewer when the batch is time-multiplexed) and its input spikes.
:func:`check_fits` refuses a run whose estimate exceeds the memory available
(``MemAvailable`` of ``/proc/meminfo``, or the physical memory) with both
numbers, before anything is allocated.
"""

from __future__ import annotations

import os

from .errors import BiosnnInputError

#: bytes per stored value (float64)
VALUE_BYTES = 8
#: bytes per Brian2 synapse at the peak of building a batched hop (measured 97: the index grids,
#: indices, weight, delay; 49 once built)
SYNAPSE_BYTES = 100
#: bytes per input spike Brian2 holds (index and time, sorted copies, time bins)
SPIKE_BYTES = 40
#: refuse a run whose estimate exceeds this fraction of the available memory
MEMORY_FRACTION = 0.8


def available_memory() -> int:
    """Bytes of memory available to a new allocation."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _human(n_bytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n_bytes < 1024 or unit == "PiB":
            return f"{n_bytes:.3g} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.3g} PiB"


def estimate(net, stimulus, *, backend: str, record: bool, dtype: str = "float64", copies: int | None = None) -> int:
    """Bytes the run of ``net`` on ``stimulus`` will hold at its peak (an order-of-magnitude estimate);
    Brian2 builds the synapses of ``copies`` copies of the network (default: one per sample)."""
    from .equations import get_spec

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


def memory_limit() -> int:
    """The most bytes one run may take: :data:`MEMORY_FRACTION` of the available memory."""
    return int(MEMORY_FRACTION * available_memory())


#: what to change when a simulation does not fit (the default advice of :func:`check_fits`)
SIMULATION_HINT = "shorten the duration, use a coarser dt, fewer samples per batch or fewer neurons"
#: what to do when a file declares more than fits: it is not a simulation to shrink
FILE_HINT = "the file declares more data than this machine holds: check that it is the file you meant"


def check_fits(n_bytes: int, what: str, hint: str = SIMULATION_HINT) -> None:
    """Refuse (before allocating) ``what``, which needs ``n_bytes``, when that exceeds
    :func:`memory_limit`; the message gives both numbers and ``hint`` (what to change)."""
    limit = available_memory()
    if n_bytes > MEMORY_FRACTION * limit:
        raise BiosnnInputError(f"{what} needs about {_human(n_bytes)}, more than the {_human(MEMORY_FRACTION * limit)} "
                               f"this machine can give it ({MEMORY_FRACTION:.0%} of {_human(limit)} available): {hint}")
