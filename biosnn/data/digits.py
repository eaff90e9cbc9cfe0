"""Poisson-encoded 8x8 digits (scikit-learn's bundled copy of the UCI set; no download).

Each of the 64 pixels (intensity 0..16) becomes an input unit firing as a
Bernoulli process with probability ``max_rate * intensity / 16 * dt`` per step
(at most one spike per step, Brian2's rule); spikes sit on the grid. The
encoders (:func:`poisson_raster`, :class:`PoissonImages`) take images of any
pixel count scaled to [0, 1] (``biosnn/data/mnist.py``: 784 pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..core.errors import BiosnnInputError


@dataclass(frozen=True)
class DigitSplit:
    images: np.ndarray  # [S, P] intensities in [0, 1] (P pixels: 64 here, 784 for MNIST)
    labels: np.ndarray  # [S] int64


def load_digit_splits(test_fraction: float = 0.2, seed: int = 0) -> tuple[DigitSplit, DigitSplit]:
    """Stratified train/test split of the 1797 digits, seeded."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = data.data.astype(np.float64) / 16.0
    y = data.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    return DigitSplit(x_tr, y_tr), DigitSplit(x_te, y_te)


def poisson_raster(
    images: np.ndarray, *, n_steps: int, dt: float, max_rate: float, rng: np.random.Generator
) -> np.ndarray:
    """``[T, B, P]`` 0/1 raster of ``images`` ``[B, P]``; pixel p fires with probability ``max_rate * p * dt`` per step."""
    if max_rate * dt > 1:
        raise BiosnnInputError(f"max_rate * dt = {max_rate * dt} > 1: lower the rate or dt")
    if np.any(images < 0) or np.any(images > 1):
        raise BiosnnInputError("images must be scaled to [0, 1]")
    prob = images[None] * (max_rate * dt)
    return (rng.random((n_steps,) + images.shape) < prob).astype(np.float64)


class PoissonImages:
    """Images encoded afresh as Poisson rasters every time a batch is drawn (a dataset for
    :func:`biosnn.training.loop.fit`): pixel p fires with probability ``max_rate * p * dt`` per step."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, *, n_steps: int, dt: float, max_rate: float) -> None:
        if max_rate * dt > 1:
            raise BiosnnInputError(f"max_rate * dt = {max_rate * dt} > 1: lower the rate or dt")
        if np.any(images < 0) or np.any(images > 1):
            raise BiosnnInputError("images must be scaled to [0, 1]")
        self.probability = torch.as_tensor(images * (max_rate * dt), dtype=torch.float64)
        self.labels = torch.as_tensor(labels)
        self.n_steps = n_steps

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def fingerprint(self) -> str:
        from ..core.results import fingerprint

        return fingerprint(self.probability.numpy(), self.labels.numpy(), np.array([self.n_steps]))

    def batch(self, index: torch.Tensor | np.ndarray, generator: torch.Generator) -> torch.Tensor:
        """``[T, B, P]`` 0/1 raster of the samples ``index``, drawn from ``generator``."""
        prob = self.probability[index]
        draws = torch.rand((self.n_steps,) + tuple(prob.shape), generator=generator, dtype=torch.float64)
        return (draws < prob).to(torch.float64)
