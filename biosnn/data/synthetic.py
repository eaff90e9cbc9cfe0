"""Seeded random inputs for tests and the equivalence harness."""

from __future__ import annotations

import numpy as np

from ..errors import BiosnnInputError
from ..spikes import SpikeTrains


def poisson_spike_trains(rng: np.random.Generator, n_units: int, rate: float, duration: float, dt: float,
                         n_samples: int | None = None, off_grid: bool = True) -> SpikeTrains:
    """Bernoulli(rate*dt) spikes per unit and step: at most one per step (Brian2's rule).

    ``off_grid`` places each spike uniformly in the first half of its step,
    exercising ``timestep()`` rounding while staying clear of half steps.
    ``rate`` in Hz; ``n_samples`` makes a batch.
    """
    if not isinstance(rng, np.random.Generator):
        raise BiosnnInputError("rng: pass a numpy.random.Generator (np.random.default_rng(seed))")
    if rate < 0 or rate * dt > 1:
        raise BiosnnInputError(f"rate={rate!r} Hz must lie in [0, 1/dt]")
    n_steps = int(round(duration / dt))
    batch = 1 if n_samples is None else n_samples
    mask = rng.random((n_steps, batch, n_units)) < rate * dt
    steps, samples, units = np.nonzero(mask)
    offset = rng.uniform(0.0, 0.5, steps.size) if off_grid else np.zeros(steps.size)
    times = (steps + offset) * dt
    return SpikeTrains.from_unsorted(times, units, n_units, duration,
                                     samples if n_samples is not None else None, n_samples)
