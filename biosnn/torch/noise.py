"""The torch implementation of ``biosnn/core/noise.py``: the same membrane noise increments, summed in the
same order from the same counter-based normals (``biosnn/torch/draws.py``), on the tensors' device."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .draws import normal

if TYPE_CHECKING:
    import numpy as np

    from ..core.noise import WhiteNoise


def coefficients(
    noise: WhiteNoise, tau: float | np.ndarray | None, method: str, *, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(a, s)`` of :meth:`biosnn.core.noise.WhiteNoise.coefficients` as tensors (the same float64 values)."""
    a, s = noise.coefficients(tau, method)
    return torch.as_tensor(a, dtype=dtype, device=device), torch.as_tensor(s, dtype=dtype, device=device)


def increments(
    noise: WhiteNoise, a: torch.Tensor, s: torch.Tensor, k_steps: int, elements: torch.Tensor, step: int
) -> torch.Tensor:
    """``eta_n = s sum_k a^(K-1-k) Z_(nK+k)`` for coarse step ``step`` and ``elements`` (int64), summed as
    ``total = total * a + Z`` from ``k = 0``, then scaled: numpy's order."""
    total = torch.zeros(elements.shape, dtype=a.dtype, device=elements.device)
    for k in range(k_steps):
        z = normal(noise.seed, noise.stream, elements, step * k_steps + k, dtype=a.dtype, validate=False)
        total = total * a + z
    return total * s


def membrane_increments(
    noise: WhiteNoise,
    tau: float | np.ndarray | None,
    dt: float,
    elements: torch.Tensor,
    step: int,
    method: str,
    *,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """``biosnn.core.noise.membrane_increments`` in torch: ``eta_n`` of coarse step ``step`` for ``elements``."""
    a, s = coefficients(noise, tau, method, dtype=dtype, device=elements.device)
    return increments(noise, a, s, noise.fine_steps(dt), elements, step)
