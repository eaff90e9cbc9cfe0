"""Adaptive LIF step: the torch mirror of ``biosnn/models/adaptive_lif.py`` (Bellec et al. 2018).

The LIF phases (``biosnn/torch/dynamics/lif.py``) plus the adaptation ``a``::

    integrate [groups]   LIF; a' = a e^{-dt/tau_a} (exact) | a - a dt/tau_a (euler); a is never clamped;
                         tau_a one value or one per neuron
    threshold            x = v - (v_th + beta a)
    reset     [resets]   LIF reset (hard | subtract), or subtract_adaptive: v -= s (v_th + beta a - v_reset)
                         (Bellec et al.'s, with a before its increment); then a += s
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from .lif import RESETS, LIFConstants, LIFDynamics, rate_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .base import StepContext


@dataclass(frozen=True)
class AdaptiveConstants(LIFConstants):
    adaptation: float | torch.Tensor = 0.0  # e^{-dt/tau_a} (exact), or the rate dt/tau_a (euler); one or [N]
    beta: float = 0.0


def adaptive_subtractive_reset(v: torch.Tensor, s: torch.Tensor, c: AdaptiveConstants, a: torch.Tensor) -> torch.Tensor:
    """Bellec et al.'s reset: ``v -= v_th + beta a - v_reset`` where the neuron fired (the adaptive threshold)."""
    return v - s * (c.v_th + c.beta * a - c.v_reset)


class AdaptiveLIFDynamics(LIFDynamics):
    """LIF with a spike-triggered threshold adaptation (Bellec et al. 2018)."""

    #: the LIF's resets (membrane only) and Bellec et al.'s, which reads the adaptation
    resets = {**RESETS, "subtract_adaptive": adaptive_subtractive_reset}

    def constants(
        self, learnt: Mapping[str, torch.Tensor], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> AdaptiveConstants:
        rate = rate_of(self.dt, self.params["tau_a"])
        lif = super().constants(learnt, dtype=dtype, device=device)
        if np.ndim(rate):  # one adaptation time constant per neuron
            rate = torch.as_tensor(rate, dtype=dtype, device=device)
            adaptation = torch.exp(-rate) if self.discretization == "exact" else rate
        else:
            adaptation = math.exp(-rate) if self.discretization == "exact" else rate
        return AdaptiveConstants(**vars(lif), adaptation=adaptation, beta=self.params["beta"])

    def integrate(
        self, state: dict[str, torch.Tensor], c: AdaptiveConstants, step: StepContext
    ) -> dict[str, torch.Tensor]:
        new = super().integrate(state, c, step)
        a = state["a"]
        new["a"] = a * c.adaptation if self.discretization == "exact" else a - a * c.adaptation
        return new

    def threshold_distance(self, state: dict[str, torch.Tensor], c: AdaptiveConstants) -> torch.Tensor:
        return state["v"] - (c.v_th + c.beta * state["a"])

    def reset(self, state: dict[str, torch.Tensor], c: AdaptiveConstants, step: StepContext) -> dict[str, torch.Tensor]:
        if self.reset_kind in RESETS:
            new = super().reset(state, c, step)
        else:
            new = dict(state)
            new["v"] = self.resets[self.reset_kind](state["v"], step.spike_for_reset, c, state["a"])
        new["a"] = state["a"] + step.spike_for_reset
        return new
