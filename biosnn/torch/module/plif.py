"""``PLIF``: LIF with one learnable scalar ``a`` per layer (Fang et al. 2021, ICCV).

``tau_m = dt / sigmoid(a)``, initialised from the spec's ``tau_m`` (default
``tau0 = 2 dt``, so ``a = 0``). Everything else is :class:`~.lif.LIF`.
"""

from __future__ import annotations

import torch
from torch import nn

from ..functional.plif import a_to_tau, tau_to_a
from .lif import LIF


class PLIF(LIF):
    """Parametric LIF layer; ``self.a`` is the learnable ``nn.Parameter``."""

    model_name = "plif"

    def __init__(self, *, dt, **kwargs):
        super().__init__(dt=dt, **kwargs)
        # float64 so an exported tau_m round-trips exactly; .float() casts it like any parameter.
        self.a = nn.Parameter(torch.tensor(tau_to_a(self.parameters_si["tau_m"], self.dt), dtype=torch.float64))

    def membrane_rate(self) -> torch.Tensor:
        """``dt / tau_m = sigmoid(a)``."""
        return torch.sigmoid(self.a)

    @property
    def tau_m(self) -> float:
        """Current membrane time constant in seconds (exported to Brian2)."""
        return float(a_to_tau(self.a.detach(), self.dt))

    def exported_parameters(self) -> dict:
        """SI parameters for the Brian2 twin, with the learnt ``tau_m``."""
        return {**self.parameters_si, "tau_m": self.tau_m}
