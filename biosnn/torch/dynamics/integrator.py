"""Non-leaky integrator step: the torch mirror of ``biosnn/models/integrator.py`` (NIR's ``I``).

The membrane update is the IF one (``biosnn/torch/dynamics/if_neuron.py``:
``v' = v + b dt`` (delta), ``v + (X + b) dt`` (held), the exact or Euler current-synapse
pair, ``b`` the constant input ``bias``),
with no threshold and no reset; the layer's output is its membrane potential
after each step.
"""

from __future__ import annotations

from .if_neuron import IFDynamics


class IntegratorDynamics(IFDynamics):
    """A non-spiking IF membrane: the spec has no threshold, so the template runs no fire or reset."""

    def output(self, state, c, step):
        return state["v"], state
