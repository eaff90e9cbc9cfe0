"""Online gradient of a running-average classifier: forward-mode accumulation, no backpropagation through time.

A layer's output at step t is ``y_t = f(params, e_t)`` where the eligibility
state ``e_t`` does not depend on the parameters (gamma cascade: each source's
bucket states, a linear filter of its spikes; Koopman & Otte 2026 train
SpikingGamma online for this reason). The loss is a cross-entropy at every step
on the running average of y so far::

    L = (1/T) sum_t CE(s m_t, c),      m_t = (1/t) sum_{u<=t} y_u     (s: logit scale)

Its gradient needs no history: with ``J_t = dy_t/dparams`` (local to step t)
and ``G_t = dm_t/dparams = ((t - 1) G_{t-1} + J_t) / t``, updated as the steps
arrive,

    dL/dparams = (1/T) sum_t s (softmax(s m_t) - onehot(c)) . G_t  (averaged over the batch).

Memory per sample is ``N_out x n_params`` whatever the duration: this is
real-time recurrent learning made cheap because the recurrence (the cascade)
carries no parameters. The result equals back-propagation of the same loss
through the whole run (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import torch
from torch.func import jacrev, vmap

from ..core.errors import BiosnnInputError


def running_average_ce_gradient(
    step_output: Callable,
    params: Mapping[str, torch.Tensor],
    eligibility: Iterable[torch.Tensor],
    target: torch.Tensor,
    *,
    logit_scale: float = 1.0,
) -> tuple[float, dict[str, torch.Tensor]]:
    """Loss ``L`` and its gradient, computed step by step.

    ``step_output(params, e)`` maps one sample's eligibility state ``e`` to its
    output ``y [N_out]``; ``eligibility`` yields the batched states ``[B, ...]``
    one step at a time (a generator keeps memory constant); ``target [B]`` holds
    class indices. Returns ``(loss, grads)`` with ``grads`` shaped as ``params``.
    """
    params = {name: p.detach() for name, p in params.items()}

    def output_twice(p: Mapping[str, torch.Tensor], e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = step_output(p, e)
        return y, y

    # per sample: ({name: [N_out, *shape]}, y [N_out]), in one pass
    jacobian_and_output = vmap(jacrev(output_twice, has_aux=True), in_dims=(None, 0))
    running_y = running_jac = None
    grads = {name: torch.zeros_like(p) for name, p in params.items()}
    loss, n_steps = 0.0, 0
    for t, e in enumerate(eligibility, start=1):
        J, y = jacobian_and_output(params, e)
        if not torch.isfinite(y).all():
            raise BiosnnInputError(f"step {t}: non-finite output (check the eligibility states and parameters)")
        if running_y is None:
            if target.shape != y.shape[:1]:
                raise BiosnnInputError(f"target: expected shape {tuple(y.shape[:1])}, got {tuple(target.shape)}")
            running_y, running_jac = torch.zeros_like(y), {name: torch.zeros_like(j) for name, j in J.items()}
        running_y = running_y * ((t - 1) / t) + y / t
        for name in J:
            running_jac[name] = running_jac[name] * ((t - 1) / t) + J[name] / t
        logits = logit_scale * running_y
        loss += float(torch.nn.functional.cross_entropy(logits, target))
        dloss_dm = (
            logit_scale
            * (torch.softmax(logits, -1) - torch.nn.functional.one_hot(target, y.shape[-1]).to(y.dtype))
            / y.shape[0]
        )
        for name in grads:
            grads[name] += torch.tensordot(dloss_dm, running_jac[name], dims=([0, 1], [0, 1]))
        n_steps = t
    if n_steps == 0:
        raise BiosnnInputError("eligibility: no time steps")
    return loss / n_steps, {name: g / n_steps for name, g in grads.items()}


def gradient_as_loss(
    loss: float, params: Mapping[str, torch.Tensor], grads: Mapping[str, torch.Tensor]
) -> torch.Tensor:
    """A scalar with the value ``loss`` whose gradient w.r.t. ``params`` is ``grads``.

    ``loss + sum_p <p, g> - sum_p <p, g>.detach()``: back-propagating it hands the
    forward-accumulated gradient to the optimiser through the same ``backward``
    as every other objective of the training loop.
    """
    linear = sum((p * g.detach()).sum() for p, g in ((params[name], grads[name]) for name in grads))
    return loss + (linear - linear.detach())
