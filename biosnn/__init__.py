"""biosnn: exact Brian2 references for spiking networks, a differentiable torch
mirror, and the proof that the two agree.

Public interface::

    biosnn.simulate(model, inputs, weights, *, backend, dt, duration, ...) -> Trace
    biosnn.simulate_network(net, inputs, *, backend, dt, duration, ...) -> [LayerActivity]
    biosnn.FeedForwardNet, biosnn.LayerSpec, biosnn.SpikeTrains, biosnn.Trace, biosnn.REGISTRY
"""

from .equations import REGISTRY, get_spec
from .errors import BiosnnInputError
from .network import FeedForwardNet, LayerSpec
from .simulate import simulate, simulate_network
from .spikes import SpikeTrains
from .trace import Trace

__all__ = ["REGISTRY", "get_spec", "BiosnnInputError", "simulate", "simulate_network", "FeedForwardNet", "LayerSpec",
           "SpikeTrains", "Trace"]
__version__ = "0.1.0"
