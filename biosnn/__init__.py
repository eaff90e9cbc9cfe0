"""biosnn: exact Brian2 references for spiking networks, a differentiable torch
mirror, and the proof that the two agree.

Public interface::

    biosnn.simulate(model, inputs, weights, *, backend, dt, duration, ...) -> Trace
    biosnn.simulate_network(net, inputs, *, backend, dt, duration, ...) -> [LayerActivity]
    biosnn.FeedForwardNet, biosnn.LayerSpec, biosnn.SpikeTrains, biosnn.Trace, biosnn.REGISTRY

The names are loaded on first use (PEP 562), so ``import biosnn`` and the
``biosnn`` command start without importing Brian2 or torch.
"""

from importlib import import_module

from .errors import BiosnnInputError

__version__ = "0.2.0"

_LAZY = {
    "REGISTRY": ".equations", "get_spec": ".equations", "simulate": ".simulation",
    "simulate_network": ".simulation", "FeedForwardNet": ".network", "LayerSpec": ".network",
    "SpikeTrains": ".spikes", "Trace": ".trace",
}

__all__ = ["REGISTRY", "get_spec", "BiosnnInputError", "simulate", "simulate_network", "FeedForwardNet", "LayerSpec",
           "SpikeTrains", "Trace", "__version__"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'biosnn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
