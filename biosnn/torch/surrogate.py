"""Surrogate spike functions: Heaviside forward, a named smooth derivative backward.

Forward: ``H(x) = 1 if x >= 0 else 0`` with ``x = v - v_th`` (spikingjelly's
convention, ``x >= 0``). Backward: the derivative of a smooth primitive ``g``:

* ``fast_sigmoid`` (SuperSpike; Zenke & Ganguli 2018, Neftci et al. 2019):
  ``g'(x) = 1 / (alpha |x| + 1)^2``, alpha = 100;
  primitive ``g(x) = x / (1 + alpha |x|)`` (up to a constant).
* ``arctan`` (Fang et al. 2021; spikingjelly ``surrogate.ATan``):
  ``g'(x) = (alpha / 2) / (1 + (pi/2 alpha x)^2)``, alpha = 2;
  primitive ``g(x) = arctan(pi/2 alpha x) / pi + 1/2``.

``tests/torch/test_surrogate.py`` checks each backward against finite differences of
an independently written primitive.
"""

from __future__ import annotations

import math

import torch

from ..core.errors import BiosnnInputError

DEFAULT_ALPHA = {"fast_sigmoid": 100.0, "arctan": 2.0}


def fast_sigmoid_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    return 1.0 / (alpha * x.abs() + 1.0) ** 2


def arctan_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    return alpha / 2 / (1 + (math.pi / 2 * alpha * x).pow_(2))


_GRADS = {"fast_sigmoid": fast_sigmoid_grad, "arctan": arctan_grad}


class _SurrogateSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, name, alpha):
        if x.requires_grad:
            ctx.save_for_backward(x)
            ctx.name = name
            ctx.alpha = alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * _GRADS[ctx.name](x, ctx.alpha), None, None


class Surrogate:
    """A named surrogate spike function, callable on ``x = v - v_th``."""

    def __init__(self, name: str = "fast_sigmoid", alpha: float | None = None) -> None:
        if name not in _GRADS:
            raise BiosnnInputError(f"unknown surrogate {name!r}; choose one of {', '.join(_GRADS)}")
        self.name = name
        self.alpha = float(DEFAULT_ALPHA[name] if alpha is None else alpha)
        if not self.alpha > 0:
            raise BiosnnInputError(f"surrogate alpha must be positive, got {alpha!r}")

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return _SurrogateSpike.apply(x, self.name, self.alpha)

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        """The backward's derivative, evaluated directly."""
        return _GRADS[self.name](x, self.alpha)

    def __repr__(self) -> str:
        return f"Surrogate({self.name!r}, alpha={self.alpha:g})"
