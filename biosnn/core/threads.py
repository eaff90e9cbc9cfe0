"""How many threads torch uses: set once, deliberately, for the machine.

torch's default (one intra-op thread per core) makes the small, step-by-step
models of this project slower, not faster, on few cores: every one of the
thousands of tiny per-step operations pays the threads' synchronisation, and a
second busy process makes the threads wait for each other. Measured on a 2-core
machine: the delay task's training took 13.1 s with 2 threads and 13.2 s with 1
on an idle machine, and 27.4 s with 2 threads and 13.2 s with 1 while the other
core was busy. The ``biosnn`` command and the studies in ``validation/``
therefore run torch on one thread unless told otherwise (``--threads``, or
``BIOSNN_THREADS=<n>`` in the environment). A library does not change its
caller's torch settings: from Python, call :func:`set_threads` (it reads the
same variable).
"""

from __future__ import annotations

import os

from .errors import BiosnnInputError
from .units import check_count

ENVIRONMENT_VARIABLE = "BIOSNN_THREADS"
DEFAULT_THREADS = 1
#: at most this many threads per core this process may run on (torch crashes, and nothing gets faster,
#: long before 100,000 threads)
MAX_THREADS_PER_CORE = 4


def max_threads() -> int:
    """The most threads (or worker processes) one run may ask for: :data:`MAX_THREADS_PER_CORE` per core
    this process may use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return MAX_THREADS_PER_CORE * max(1, cores)


def threads_wanted(threads: int | None = None) -> int:
    """``threads``, else ``$BIOSNN_THREADS``, else :data:`DEFAULT_THREADS`."""
    if threads is None:
        text = os.environ.get(ENVIRONMENT_VARIABLE)
        if text is None:
            return DEFAULT_THREADS
        try:
            threads = int(text)
        except ValueError:
            raise BiosnnInputError(f"{ENVIRONMENT_VARIABLE}={text!r} is not an integer") from None
    threads = check_count(threads, "threads")
    if threads > max_threads():
        raise BiosnnInputError(
            f"threads={threads} is more than {MAX_THREADS_PER_CORE} per core of this machine ({max_threads()})"
        )
    return threads


def set_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads (see the module docstring); returns the number set."""
    import torch

    n = threads_wanted(threads)
    torch.set_num_threads(n)
    return n
