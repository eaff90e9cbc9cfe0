"""Ctrl-C that cannot be lost.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be when SIGINT arrives; when that is
inside a weakref callback or a ``__del__`` (garbage collection runs often during a Brian2 simulation), Python
prints "Exception ignored" and carries on, and the command would finish as if never interrupted. The handler
of :func:`catching_sigint` therefore also records the request, and long loops call :func:`raise_if_requested`
at their safe points (after each stored sweep point, each validation case), so a swallowed Ctrl-C stops the
command there.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

_REQUESTED = threading.Event()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _REQUESTED.set()
    raise KeyboardInterrupt


def requested() -> bool:
    """Whether Ctrl-C arrived while :func:`catching_sigint` was active."""
    return _REQUESTED.is_set()


def raise_if_requested() -> None:
    """Raise ``KeyboardInterrupt`` if a Ctrl-C arrived (and may have been swallowed) since the command started."""
    if _REQUESTED.is_set():
        raise KeyboardInterrupt


@contextlib.contextmanager
def catching_sigint() -> Iterator[None]:
    """Within the block, Ctrl-C raises ``KeyboardInterrupt`` and is recorded (main thread only; an ignored
    SIGINT, as in a background job, stays ignored). The previous handler is restored on exit."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield
        return
    _REQUESTED.clear()
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
