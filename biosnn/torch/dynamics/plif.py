"""PLIF step: the LIF step with ``dt / tau_m = sigmoid(a)`` (Fang et al. 2021).

``biosnn/models/plif.py`` derives its spec from LIF, so the step is
:class:`~biosnn.torch.dynamics.lif.LIFDynamics` with the membrane rate
computed from one learnable scalar ``a`` per layer::

    tau_m = dt / sigmoid(a)        a = -ln(tau_m / dt - 1)   (needs tau_m > dt)

exact: decay ``exp(-sigmoid(a))``; euler (spikingjelly's ParametricLIFNode,
decay_input=True): ``H = V + sigmoid(a) (X - (V - V_reset))``. ``a`` is created
in float64, so an exported ``tau_m`` round-trips exactly (a float32 layer casts it).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from ...core.errors import BiosnnInputError
from .lif import LIFDynamics

if TYPE_CHECKING:
    from collections.abc import Mapping


def tau_to_a(tau_m: float, dt: float) -> float:
    """``a = -ln(tau_m/dt - 1)``; the inverse of :func:`a_to_tau`."""
    if not tau_m > dt:
        raise BiosnnInputError(f"plif: tau_m={tau_m!r}s must exceed dt={dt!r}s (tau_m = dt / sigmoid(a))")
    return -math.log(tau_m / dt - 1.0)


def a_to_tau(a: torch.Tensor | float, dt: float) -> torch.Tensor:
    """``tau_m = dt / sigmoid(a)`` (tensor or float, seconds)."""
    return dt / torch.sigmoid(torch.as_tensor(a))


class PLIFDynamics(LIFDynamics):
    """LIF with a learnable membrane time constant."""

    def learnable(self) -> dict[str, object]:
        return {"a": tau_to_a(self.params["tau_m"], self.dt)}

    def membrane_rate(self, learnt: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``dt / tau_m = sigmoid(a)``."""
        return torch.sigmoid(learnt["a"])

    def exported(self, learnt: Mapping[str, torch.Tensor]) -> dict:
        return {**self.params, "tau_m": float(a_to_tau(learnt["a"].detach().double(), self.dt))}
