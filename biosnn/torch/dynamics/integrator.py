"""Non-leaky integrator step: the torch mirror of ``biosnn/models/integrator.py`` (NIR's ``I``).

The membrane update is the IF one (``biosnn/torch/dynamics/if_neuron.py``:
``v' = v + b dt`` (delta), ``v + (X + b) dt`` (held), the exact or Euler current-synapse
pair, ``b`` the constant input ``bias``),
with no threshold and no reset; the layer's output is its membrane potential
after each step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .if_neuron import IFDynamics

if TYPE_CHECKING:
    import torch

    from .base import StepContext
    from .if_neuron import IFConstants


class IntegratorDynamics(IFDynamics):
    """A non-spiking IF membrane: the spec has no threshold, so the template runs no fire or reset."""

    def output(
        self, state: dict[str, torch.Tensor], c: IFConstants, step: StepContext
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return state["v"], state
