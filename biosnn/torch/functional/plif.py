"""PLIF step: the LIF step with ``dt / tau_m = sigmoid(a)`` (Fang et al. 2021).

``equations/plif.py`` derives its spec from LIF, so the step is
:func:`biosnn.torch.functional.lif.lif_step` with the membrane rate computed
from the learnable scalar ``a``::

    tau_m = dt / sigmoid(a)        a = -ln(tau_m / dt - 1)   (needs tau_m > dt)

exact: decay ``exp(-sigmoid(a))``; euler (spikingjelly's ParametricLIFNode,
decay_input=True): ``H = V + sigmoid(a) (X - (V - V_reset))``.
"""

from __future__ import annotations

import math

import torch

from ...errors import BiosnnInputError
from .lif import LIFParams, LIFState, lif_step  # noqa: F401  (re-exported: the PLIF step)


def tau_to_a(tau_m: float, dt: float) -> float:
    """``a = -ln(tau_m/dt - 1)``; the inverse of :func:`a_to_tau`."""
    if not tau_m > dt:
        raise BiosnnInputError(f"plif: tau_m={tau_m!r}s must exceed dt={dt!r}s (tau_m = dt / sigmoid(a))")
    return -math.log(tau_m / dt - 1.0)


def a_to_tau(a, dt: float):
    """``tau_m = dt / sigmoid(a)`` (tensor or float, seconds)."""
    return dt / torch.sigmoid(torch.as_tensor(a))


def plif_params(a: torch.Tensor, base: LIFParams) -> LIFParams:
    """``base`` with the membrane rate replaced by ``sigmoid(a)``."""
    return base._replace(membrane_rate=torch.sigmoid(a))


plif_step = lif_step
