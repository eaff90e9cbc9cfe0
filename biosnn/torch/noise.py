"""The torch implementation of ``biosnn/core/noise.py``: the same membrane noise increments, summed in the
same order from the same counter-based normals (``biosnn/torch/draws.py``), on the tensors' device."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .draws import normal

if TYPE_CHECKING:
    import numpy as np

    from ..core.noise import WhiteNoise


def membrane_increments(
    noise: WhiteNoise,
    tau: float | np.ndarray,
    dt: float,
    elements: torch.Tensor,
    step: int,
    method: str,
    *,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """``eta_n`` of coarse step ``step`` for each of ``elements`` (int64, ``sample * N + neuron``): the sum of
    ``biosnn.core.noise.membrane_increments``, computed here in ``dtype``."""
    k_steps = noise.fine_steps(dt)
    a, s = noise.coefficients(tau, method)
    a = torch.as_tensor(a, dtype=dtype, device=elements.device)
    s = torch.as_tensor(s, dtype=dtype, device=elements.device)
    total = torch.zeros(elements.shape, dtype=dtype, device=elements.device)
    for k in range(k_steps):
        z = normal(noise.seed, noise.stream, elements, step * k_steps + k, dtype=dtype, validate=False)
        total = total * a + z
    return total * s
