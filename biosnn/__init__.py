"""biosnn: exact Brian2 references for spiking networks, a differentiable torch
mirror, and the proof that the two agree.

Public interface::

    biosnn.simulate(model, inputs, weights, *, backend, dt, duration, ...) -> Trace
    biosnn.simulate_network(net, inputs, *, backend, dt, duration, ...) -> [LayerActivity]
    biosnn.FeedForwardNet, biosnn.LayerSpec, biosnn.SpikeTrains, biosnn.Trace, biosnn.REGISTRY

The layers are subpackages, each reachable after ``import biosnn`` (``biosnn.torch.Layer``,
``biosnn.brian``, ...): ``core`` (specs, the time grid, files), ``models`` (one spec per model),
``brian`` (the reference), ``torch`` (the mirror), ``training``, ``equivalence`` (the contract and
its ground truths), ``studies``, ``data``, ``nir`` and ``reporting``.

Names and subpackages are loaded on first use (PEP 562), so ``import biosnn`` and the ``biosnn``
command start without importing Brian2 or torch; type checkers and IDEs see them through the
``TYPE_CHECKING`` imports below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.errors import BiosnnInputError
from .core.lazy import lazy_attributes
from .core.version import __version__

if TYPE_CHECKING:
    from . import brian, core, data, equivalence, models, nir, reporting, studies, torch, training  # noqa: F401
    from .core.spikes import SpikeTrains
    from .core.trace import Trace
    from .models import REGISTRY, get_spec
    from .models.network import FeedForwardNet, LayerSpec
    from .simulation import simulate, simulate_network

_LAZY = {
    "REGISTRY": ".models",
    "get_spec": ".models",
    "simulate": ".simulation",
    "simulate_network": ".simulation",
    "FeedForwardNet": ".models.network",
    "LayerSpec": ".models.network",
    "SpikeTrains": ".core.spikes",
    "Trace": ".core.trace",
}
_SUBPACKAGES = ("core", "models", "brian", "torch", "training", "equivalence", "studies", "data", "nir", "reporting")

__all__ = [
    "REGISTRY",
    "get_spec",
    "BiosnnInputError",
    "simulate",
    "simulate_network",
    "FeedForwardNet",
    "LayerSpec",
    "SpikeTrains",
    "Trace",
    "__version__",
]


__getattr__, __dir__ = lazy_attributes(__name__, globals(), _LAZY, _SUBPACKAGES)
