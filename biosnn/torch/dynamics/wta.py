"""Winner-take-all lateral inhibition: the torch mirror of ``biosnn/models/wta.py``.

Lee, Delbruck & Pfeiffer (2016), section 2.3.1. The neurons are
:class:`~biosnn.torch.dynamics.lee_refractory.LeeDynamics`; the lateral phase
(the spec's ``synapses`` slot, in the spike's own step) adds, when neuron j of
a circuit fires, ``v_i += sigma mu V_th_i`` and sets ``t_r,i = t`` for every
other neuron i of it. With k other neurons of i's circuit firing in the same
step the increments add up (``k sigma mu V_th_i``; all are <= 0, so order is
irrelevant). The circuits come from the spec (``LateralSpec.circuits``); the
template applies the floor after the slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .lee_refractory import LeeConstants, LeeDynamics

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .base import StepContext


def circuit_matrix(circuit_ids: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """One-hot ``[N, n_circuits]`` membership."""
    return torch.nn.functional.one_hot(circuit_ids, int(circuit_ids.max()) + 1).to(dtype)


def others_firing(spike: torch.Tensor, membership: torch.Tensor) -> torch.Tensor:
    """For each neuron, how many *other* neurons of its circuit fired (differentiable)."""
    return (spike @ membership) @ membership.T - spike


@dataclass(frozen=True)
class WTAConstants(LeeConstants):
    membership: torch.Tensor | None = None  # [N, n_circuits]
    strength: float = 0.0  # sigma * mu


class WTADynamics(LeeDynamics):
    """Lee et al.'s neurons in winner-take-all circuits."""

    def constants(
        self, learnt: Mapping[str, torch.Tensor], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> WTAConstants:
        ids = torch.as_tensor(self.spec.lateral.circuits(self.n_neurons, self.params), device=device)
        lee = super().constants(learnt, dtype=dtype, device=device)
        return WTAConstants(
            **vars(lee), membership=circuit_matrix(ids, dtype), strength=self.params["sigma"] * self.params["mu"]
        )

    def lateral(self, state: dict[str, torch.Tensor], c: WTAConstants, step: StepContext) -> dict[str, torch.Tensor]:
        count = others_firing(step.spike, c.membership)
        t_r = torch.where(count.detach() > 0.5, torch.full_like(state["t_r"], step.t), state["t_r"])
        return {**state, "v": state["v"] + c.strength * c.v_th * count, "t_r": t_r}
