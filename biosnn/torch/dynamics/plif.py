"""PLIF step: the LIF step with ``dt / tau_m = sigmoid(a)`` (Fang et al. 2021).

``biosnn/models/plif.py`` derives its spec from LIF, so the step is
:class:`~biosnn.torch.dynamics.lif.LIFDynamics` with the membrane rate
computed from one learnable ``a`` per layer, or one per neuron when ``tau_m`` is given per neuron::

    tau_m = dt / sigmoid(a)        a = -ln(tau_m / dt - 1)   (needs tau_m > dt)

exact: decay ``exp(-sigmoid(a))``; euler (spikingjelly's ParametricLIFNode,
decay_input=True): ``H = V + sigmoid(a) (X - (V - V_reset))``. ``a`` is created
in float64, so an exported ``tau_m`` round-trips exactly (a float32 layer casts it).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch

from ...core.errors import BiosnnInputError
from .lif import LIFDynamics

if TYPE_CHECKING:
    from collections.abc import Mapping


def tau_to_a(tau_m: float | np.ndarray, dt: float) -> float | np.ndarray:
    """``a = -ln(tau_m/dt - 1)`` (one value, or one per neuron); the inverse of :func:`a_to_tau`."""
    if np.ndim(tau_m):
        tau = np.asarray(tau_m, dtype=np.float64)
        if not np.all(tau > dt):
            bad = float(tau[~(tau > dt)][0])
            raise BiosnnInputError(f"plif: tau_m={bad!r}s must exceed dt={dt!r}s (tau_m = dt / sigmoid(a))")
        return -np.log(tau / dt - 1.0)
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
        tau = a_to_tau(learnt["a"].detach().double(), self.dt).cpu().numpy()
        return {**self.params, "tau_m": float(tau) if tau.ndim == 0 else tau}
