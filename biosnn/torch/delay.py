"""Learnable axonal delays (Sun et al. 2023; SLAYER / lava-dl style), ``biosnn/models/axonal_delay.py``.

``AxonalDelay`` holds one delay per presynaptic neuron, in units of steps
(``delay_steps``; :meth:`AxonalDelay.delays` gives seconds). Integer mode shifts
each neuron's train forward by ``k = floor(d)`` steps::

    y[t, :, i] = x[t - k_i, :, i]                    (0 before the train starts)
    dL/dx[s, :, i] = g[s + k_i, :, i]
    dL/dd_i = -sum_{t, b} g[t, b, i] (y[t, b, i] - y[t - 1, b, i])

the last being the temporal-difference gradient: the right derivative of the
linearly interpolated delay at integer d. Fractional mode
(``fractional=True``) interpolates, ``y = (1 - f) x[t - k] + f x[t - k - 1]``
with ``f = d - k``, and is differentiated by autograd. :meth:`clamp_` keeps
``d`` in ``[0, d_max]`` (call it after each optimiser step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ..core.errors import BiosnnInputError
from ..core.schedule import TIMESTEP_SHIFT
from ..models.axonal_delay import DELAY, MAX_DELAY

if TYPE_CHECKING:
    import numpy.typing as npt


def shift_per_neuron(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """``y[t, :, i] = x[t - k_i, :, i]`` for integer ``k >= 0`` (``x``: ``[T, B, N]``)."""
    T = x.shape[0]
    idx = torch.arange(T, device=x.device)[:, None] - k[None, :]
    valid = (idx >= 0).to(x.dtype)
    gathered = torch.gather(x, 0, idx.clamp(min=0)[:, None, :].expand(-1, x.shape[1], -1))
    return gathered * valid[:, None, :]


def unshift_per_neuron(g: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Adjoint of :func:`shift_per_neuron`: ``out[s, :, i] = g[s + k_i, :, i]``."""
    T = g.shape[0]
    idx = torch.arange(T, device=g.device)[:, None] + k[None, :]
    valid = (idx < T).to(g.dtype)
    gathered = torch.gather(g, 0, idx.clamp(max=T - 1)[:, None, :].expand(-1, g.shape[1], -1))
    return gathered * valid[:, None, :]


class _IntegerDelay(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, delay_steps):
        k = torch.floor(delay_steps.detach()).to(torch.int64)
        y = shift_per_neuron(x, k)
        ctx.save_for_backward(y, k)
        return y

    @staticmethod
    def backward(ctx, g):
        y, k = ctx.saved_tensors
        grad_x = unshift_per_neuron(g, k)
        diff = y - torch.cat([torch.zeros_like(y[:1]), y[:-1]], dim=0)
        grad_d = -(g * diff).sum(dim=(0, 1)).to(torch.float64)
        return grad_x, grad_d


class AxonalDelay(nn.Module):
    """One learnable delay per presynaptic neuron."""

    def __init__(
        self,
        n: int,
        *,
        dt: float,
        d_max: float | None = None,
        init: npt.ArrayLike | None = None,
        learnable: bool = True,
        fractional: bool = False,
    ) -> None:
        super().__init__()
        if dt <= 0:
            raise BiosnnInputError(f"dt must be positive, got {dt!r}")
        self.dt = float(dt)
        d_max = MAX_DELAY.default_si(dt) if d_max is None else float(d_max)
        MAX_DELAY.check(d_max, "axonal_delay")
        self.max_steps = d_max / self.dt
        init = np.zeros(n) if init is None else np.asarray(init, dtype=np.float64)
        if init.shape != (n,) or not np.all(np.isfinite(init)):
            raise BiosnnInputError(f"initial delays must be {n} finite values >= 0 s, got shape {init.shape}")
        DELAY.check(init, "axonal_delay")
        steps = init / self.dt
        if np.any(steps > self.max_steps + TIMESTEP_SHIFT):
            raise BiosnnInputError(f"initial delay {float(init.max())!r}s exceeds d_max={d_max!r}s; raise d_max")
        # a delay of whole steps given in seconds (n * dt) is n steps, not the float quotient's
        # n - 1e-16 that floor() would shorten by a step (the grid's rounding, biosnn.core.schedule)
        whole = np.rint(steps)
        steps = np.minimum(np.where(np.abs(steps - whole) <= TIMESTEP_SHIFT, whole, steps), self.max_steps)
        steps = torch.tensor(steps, dtype=torch.float64)
        self.delay_steps = nn.Parameter(steps, requires_grad=learnable)
        self.fractional = bool(fractional)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.delay_steps.shape[0]:
            raise BiosnnInputError(f"delay layer has {self.delay_steps.shape[0]} neurons, input {x.shape[-1]}")
        if not self.fractional:
            return _IntegerDelay.apply(x, self.delay_steps)
        k = torch.floor(self.delay_steps.detach()).to(torch.int64)
        frac = (self.delay_steps - k.to(self.delay_steps.dtype)).to(x.dtype)
        return (1 - frac) * shift_per_neuron(x, k) + frac * shift_per_neuron(x, k + 1)

    def extra_repr(self) -> str:
        return (
            f"n={self.delay_steps.shape[0]}, dt={self.dt!r}s, max_steps={self.max_steps!r}, "
            f"fractional={self.fractional}, learnable={self.delay_steps.requires_grad}"
        )

    @torch.no_grad()
    def clamp_(self) -> None:
        self.delay_steps.clamp_(0.0, self.max_steps)

    def exported_steps(self) -> np.ndarray:
        """Whole steps Brian2 will use: floor(d) (integer mode) or round(d) (fractional)."""
        d = self.delay_steps.detach().cpu().numpy()
        return np.floor(d + (0.5 if self.fractional else 0.0)).astype(np.int64)

    def delays(self) -> np.ndarray:
        """Exported delays in seconds (whole steps)."""
        return self.exported_steps() * self.dt
