"""The fused time loop of the leaky-membrane family (LIF, PLIF, LI with delta synapses).

The reference loop (``biosnn/torch/layer.py``) applies the model's step
phases one by one and lets autograd record every operation of every step. For
the layers of a trained network (delta synapses, no refractory period, no
floor, the exact schedule) the whole step is one scalar recurrence per neuron,
so the loop can be *fused*, as spikingjelly's multi-step CUDA kernels and
SLAYER do: the forward runs without autograd and stores one tensor (the
membrane after the input arrived), and the backward runs the adjoint
recurrence written out below. Step n (``x_n`` the drive arriving in step n,
``u = v - v_rest``)::

    h_n = v_rest + u_{n-1} e^{-r} + x_n          (exact; euler: h_n = v_{n-1} - u_{n-1} r + x_n)
    s_n = H(h_n - v_th)                          (threshold; no threshold: the layer outputs h_n)
    v_n = (1 - s_n) h_n + s_n v_reset            (hard)   |   h_n - s_n (v_th - v_reset)   (subtract)

With ``g`` the surrogate derivative at ``h_n - v_th`` and ``m`` = e^{-r}
(exact) or 1 - r (euler), the adjoint is, from the last step back,
``gh_n = dL/ds_n g_n + gv_n J_n``, ``dL/dx_n = gh_n``, ``gv_{n-1} = gh_n m``, i.e.
``gh_n = dL/ds_n g_n + J_n m gh_{n+1}``, one multiply-add per step, with the
reset's derivative ``J_n = dv_n/dh_n``::

    hard:      J = 1 - s + g (v_reset - h)       (detach_reset: 1 - s)
    subtract:  J = 1 - g (v_th - v_reset)        (detach_reset: 1)
    no threshold: J = 1, and dL/dh_n is the output's gradient

and the propagator's gradient ``dL/de^{-r} = sum_n gh_n u_{n-1}`` (exact) or
``dL/dr = -sum_n gh_n u_{n-1}`` (euler), chained by autograd to PLIF's ``a``.

The forward computes every float exactly as the reference phases do (the
forms that differ only drop additions of an exact zero and products with a
spike that is 0 or 1), so in float64 the outputs are identical to the
reference loop's, bit for bit up to the sign of a zero
(``tests/torch/test_fused.py``); gradients agree to rounding (the sums run in
another order).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .surrogate import Surrogate


@dataclass(frozen=True)
class LeakyRecurrence:
    """One layer's fused loop: its discretization, constants, reset and surrogate (fixed when the layer is
    built: changing a layer's ``detach_reset`` or surrogate afterwards does not reach it).

    ``v_th`` None: no threshold (the leaky integrator; the output is the membrane).
    ``reset``: ``"hard"`` or ``"subtract"`` (ignored without a threshold).
    """

    discretization: str
    v_rest: float
    v_th: float | None
    v_reset: float | None
    reset: str | None
    detach_reset: bool
    surrogate: Surrogate

    def __call__(self, drive: torch.Tensor, coefficient: torch.Tensor, v0: torch.Tensor) -> torch.Tensor:
        """The layer's output ``[T, B, N]`` for ``drive [T, B, N]``; ``coefficient``: the propagator's
        ``e^{-r}`` (exact) or ``r`` (euler), scalar or ``[N]``; ``v0 [B, N]`` the initial membrane."""
        return _LeakyLoop.apply(drive, coefficient, v0, self)

    # -- forward, without autograd ------------------------------------------------
    def forward(
        self, drive: torch.Tensor, coefficient: torch.Tensor, v0: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(output, h)``: the output and the membrane after each step's arrival."""
        spiking = self.v_th is not None
        shift = self.v_rest != 0.0
        exact = self.discretization == "exact"
        before_reset, fired_all = [], []
        v = v0
        for x in drive.unbind(0):
            if exact:  # v_rest + (v - v_rest) e^{-r}
                v = (v - self.v_rest).mul_(coefficient).add_(self.v_rest) if shift else v * coefficient
            else:  # v + (0 - (v - v_rest)) r  =  v - (v - v_rest) r
                v = v - ((v - self.v_rest) if shift else v) * coefficient
            v = v.add_(x)
            before_reset.append(v)
            if spiking:
                fired = v >= self.v_th  # H(v - v_th): v - v_th >= 0 exactly when v >= v_th
                fired_all.append(fired)
                if self.reset == "hard":
                    v = v.masked_fill(fired, self.v_reset)
                else:
                    v = torch.where(fired, v - (self.v_th - self.v_reset), v)
        h_all = torch.stack(before_reset)
        out = torch.stack(fired_all).to(drive.dtype) if spiking else h_all
        return out, h_all

    # -- backward: the adjoint recurrence ----------------------------------------
    def backward(
        self,
        grad_out: torch.Tensor,
        h_all: torch.Tensor,
        coefficient: torch.Tensor,
        v0: torch.Tensor,
        need_coefficient: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(dL/d drive, dL/d coefficient or None)``."""
        if self.v_th is None:
            direct, jacobian = grad_out, None
        else:
            distance = h_all - self.v_th
            fired = (distance >= 0).to(h_all.dtype)
            slope = self.surrogate.grad(distance)
            direct = grad_out * slope
            if self.reset == "hard":
                jacobian = 1.0 - fired if self.detach_reset else 1.0 - fired + slope * (self.v_reset - h_all)
            else:
                jacobian = None if self.detach_reset else 1.0 - slope * (self.v_th - self.v_reset)
        multiplier = coefficient if self.discretization == "exact" else 1.0 - coefficient
        # gh_n = direct_n + (J_n m) gh_{n+1}: one fused multiply-add per step
        carry = torch.broadcast_to(multiplier, h_all.shape[1:]) if jacobian is None else jacobian * multiplier
        carries = [carry] * h_all.shape[0] if jacobian is None else carry.unbind(0)
        grads = []
        grad_h = torch.zeros_like(h_all[0])
        for d, a in zip(reversed(direct.unbind(0)), reversed(carries)):
            grad_h = torch.addcmul(d, a, grad_h)
            grads.append(grad_h)
        grad_drive = torch.stack(grads[::-1])
        grad_coefficient = None
        if need_coefficient:  # sum_n gh_n u_{n-1}, u_{-1} = v0 - v_rest
            after = self.after_reset(h_all[:-1])
            total = _contract(
                grad_drive[1:], after - self.v_rest if self.v_rest != 0.0 else after, coefficient.shape
            ) + _contract(grad_drive[:1], (v0 - self.v_rest)[None], coefficient.shape)
            grad_coefficient = -total if self.discretization == "euler" else total
        return grad_drive, grad_coefficient

    def after_reset(self, h_all: torch.Tensor) -> torch.Tensor:
        """The membrane after each step's reset, from the membrane before it."""
        if self.v_th is None:
            return h_all
        fired = h_all >= self.v_th
        if self.reset == "hard":
            return h_all.masked_fill(fired, self.v_reset)
        return torch.where(fired, h_all - (self.v_th - self.v_reset), h_all)


def _contract(a: torch.Tensor, b: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """``sum(a * b)`` over time and batch (and neurons, for a scalar ``shape``): ``[T, B, N] -> shape``."""
    if len(shape) == 0:
        return torch.dot(a.reshape(-1), b.reshape(-1))
    return torch.einsum("tbn,tbn->n", a, b).reshape(shape)


class _LeakyLoop(torch.autograd.Function):
    @staticmethod
    def forward(ctx, drive, coefficient, v0, recurrence):
        with torch.no_grad():
            out, h_all = recurrence.forward(drive, coefficient, v0)
        ctx.recurrence = recurrence
        ctx.save_for_backward(h_all, coefficient, v0)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable  # the adjoint is written out: no double backward
    def backward(ctx, grad_out):
        h_all, coefficient, v0 = ctx.saved_tensors
        need_drive, need_coefficient = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_drive, grad_coefficient = ctx.recurrence.backward(grad_out, h_all, coefficient, v0, need_coefficient)
        return (grad_drive if need_drive else None), grad_coefficient, None, None
