"""Leaky-integrator step: the torch mirror of ``biosnn/models/li.py``.

The membrane update is the LIF one (``biosnn/torch/dynamics/lif.py``: the
same exact or Euler propagator and synaptic arrival in the schedule's slot),
with no threshold, no reset and no refractoriness; the layer's output is its
membrane potential after each step::

    u' = u e^{-r} (+ current-synapse coupling),  then  v += w_in  (delta)  |  I += w_in  (current)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lif import LIFDynamics

if TYPE_CHECKING:
    import torch

    from .base import StepContext
    from .lif import LIFConstants


class LIDynamics(LIFDynamics):
    """A non-spiking LIF membrane: the spec has no threshold, so the template runs no fire or reset."""

    def output(
        self, state: dict[str, torch.Tensor], c: LIFConstants, step: StepContext
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return state["v"], state
