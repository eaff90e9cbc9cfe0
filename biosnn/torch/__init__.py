"""The differentiable torch mirror of every model in ``biosnn/models/``.

``dynamics/`` holds each model's step phases (registered in ``dynamics.MIRRORS``), ``layer.py`` the one
layer template and time loop (:class:`Layer`), ``fused.py`` its fused loop, ``network.py`` the network
runner (:class:`FeedForward`), ``delay.py`` axonal delays, ``surrogate.py`` the surrogate spikes and
``run.py`` the single-layer run behind :func:`biosnn.simulate`. Importing this package does not import
torch; its names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import lazy_attributes

if TYPE_CHECKING:
    from .layer import Layer
    from .network import FeedForward

_LAZY = {"Layer": ".layer", "FeedForward": ".network"}
_SUBMODULES = ("dynamics", "layer", "fused", "network", "delay", "surrogate", "run")
__all__ = ["Layer", "FeedForward"]


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY, _SUBMODULES)
