"""Dynamic-weight refractory LIF step: the torch mirror of ``biosnn/models/lee_refractory.py``.

Lee, Delbruck & Pfeiffer (2016), Front. Neurosci. 10:508. The phases of step n
(``t = n dt``; Brian2 slots in brackets)::

    integrate [groups]   v = v exp(-dt / tau_mp)
    arrive    [pathway]  v += w_in * clip((t - t_r) / T_ref, 0, 1)^2
    floor                v = max(v, -V_th)     (after every slot with arrivals or lateral inhibition)
    threshold            x = v - V_th
    reset     [resets]   v -= s V_th;  t_r = t where s

``t_r`` (the latest refractory trigger, initially the spec's "never") is kept
in seconds in float64, and ``t - t_r`` is computed as Brian2 computes it.
Gradients flow through the surrogate spike, the dynamic weight (w.r.t. the
input) and the per-neuron thresholds ``v_th`` (learnable, ``[N]``); ``t_r`` is
bookkeeping and carries none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from .base import Dynamics, StepContext

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class LeeConstants:
    decay: float  # exp(-dt / tau_mp)
    t_ref: float  # T_ref (s)
    v_th: torch.Tensor  # [N] thresholds


def dynamic_weight(t: float, t_r: torch.Tensor, t_ref: float) -> torch.Tensor:
    """``min(1, ((t - t_r) / T_ref)^2)`` (t - t_r >= 0 always)."""
    return torch.clamp((t - t_r) / t_ref, 0.0, 1.0) ** 2


class LeeDynamics(Dynamics):
    """Dynamic-weight refractory LIF neurons with trainable per-neuron thresholds."""

    def learnable(self) -> dict[str, object]:
        return {"v_th": np.broadcast_to(np.asarray(self.params["v_th"], np.float64), (self.n_neurons,)).copy()}

    def exported(self, learnt: Mapping[str, torch.Tensor]) -> dict:
        return {**self.params, "v_th": learnt["v_th"].detach().cpu().numpy().astype(np.float64)}

    def constants(
        self, learnt: Mapping[str, torch.Tensor], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> LeeConstants:
        p = self.params
        return LeeConstants(math.exp(-self.dt / p["tau_mp"]), p["T_ref"], learnt["v_th"].to(dtype))

    def initial_state(
        self, c: LeeConstants, batch: int, *, dtype: torch.dtype, device: torch.device | str | None
    ) -> dict[str, torch.Tensor]:
        state = super().initial_state(c, batch, dtype=dtype, device=device)
        t_r = self.spec.initial_values(self.params)["t_r"]
        state["t_r"] = torch.full((batch, self.n_neurons), t_r, dtype=torch.float64, device=device)
        return state

    def integrate(self, state: dict[str, torch.Tensor], c: LeeConstants, step: StepContext) -> dict[str, torch.Tensor]:
        return {**state, "v": state["v"] * c.decay}

    def arrive(self, state: dict[str, torch.Tensor], c: LeeConstants, step: StepContext) -> dict[str, torch.Tensor]:
        w_dyn = dynamic_weight(step.t, state["t_r"], c.t_ref).to(state["v"].dtype)
        return {**state, "v": state["v"] + step.drive * w_dyn}

    def floor(self, state: dict[str, torch.Tensor], c: LeeConstants) -> dict[str, torch.Tensor]:
        return {**state, "v": torch.maximum(state["v"], -c.v_th)}

    def threshold_distance(self, state: dict[str, torch.Tensor], c: LeeConstants) -> torch.Tensor:
        return state["v"] - c.v_th

    def reset(self, state: dict[str, torch.Tensor], c: LeeConstants, step: StepContext) -> dict[str, torch.Tensor]:
        t_r = torch.where(step.spike.detach() > 0, torch.full_like(state["t_r"], step.t), state["t_r"])
        return {**state, "v": state["v"] - step.spike_for_reset * c.v_th, "t_r": t_r}
