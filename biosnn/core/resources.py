"""Will it fit? The memory a run may take, checked before anything is allocated.

:func:`check_fits` refuses a run (a simulation, a file's declared arrays, a
normalisation) whose estimated bytes exceed :func:`memory_limit`, a fraction of
the memory available (``MemAvailable`` of ``/proc/meminfo``, or the physical
memory), with both numbers and what to change. A simulation's estimate is
:func:`biosnn.models.footprint.estimate`.
"""

from __future__ import annotations

import os

from .errors import BiosnnInputError

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


def human_bytes(n_bytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n_bytes < 1024 or unit == "PiB":
            return f"{n_bytes:.3g} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.3g} PiB"


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
        raise BiosnnInputError(
            f"{what} needs about {human_bytes(n_bytes)}, more than the {human_bytes(MEMORY_FRACTION * limit)} "
            f"this machine can give it ({MEMORY_FRACTION:.0%} of {human_bytes(limit)} available): {hint}"
        )
