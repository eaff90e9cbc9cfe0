"""Leaky-integrator step: the torch mirror of ``biosnn/models/li.py``.

The membrane update is the LIF one (``biosnn/torch/dynamics/lif.py``: the
same exact or Euler propagator and synaptic arrival in the schedule's slot),
with no threshold, no reset and no refractoriness; the layer's output is its
membrane potential after each step::

    u' = u e^{-r} (+ current-synapse coupling),  then  v += w_in  (delta)  |  I += w_in  (current)
"""

from __future__ import annotations

from .lif import LIFDynamics


class LIDynamics(LIFDynamics):
    """A non-spiking LIF membrane: the spec has no threshold, so the template runs no fire or reset."""

    def output(self, state, c, step):
        return state["v"], state
