"""The differentiable torch mirror of every model in ``biosnn/models/``.

``dynamics/`` holds each model's step phases (registered in ``dynamics.MIRRORS``), ``layer.py`` the one
layer template and time loop (:class:`Layer`), ``fused.py`` its fused loop, ``network.py`` the network
runner (:class:`FeedForward`), ``delay.py`` axonal delays, ``surrogate.py`` the surrogate spikes and
``run.py`` the single-layer run behind :func:`biosnn.simulate`. Importing this package does not import
torch; its names load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .layer import Layer
    from .network import FeedForward

_LAZY = {"Layer": ".layer", "FeedForward": ".network"}
_SUBMODULES = ("dynamics", "layer", "fused", "network", "delay", "surrogate", "run")
__all__ = ["Layer", "FeedForward"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
    elif name in _SUBMODULES:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'biosnn.torch' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))
