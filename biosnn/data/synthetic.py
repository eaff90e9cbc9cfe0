"""Seeded random inputs for tests and the equivalence harness."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import BiosnnInputError
from ..core.inputs import check_generator
from ..core.schedule import whole_steps
from ..core.spikes import SpikeTrains

if TYPE_CHECKING:
    from collections.abc import Sequence


def poisson_spike_trains(
    rng: np.random.Generator,
    n_units: int,
    rate: float,
    duration: float,
    dt: float,
    n_samples: int | None = None,
    off_grid: bool = True,
) -> SpikeTrains:
    """Bernoulli(rate*dt) spikes per unit and step: at most one per step (Brian2's rule).

    ``off_grid`` places each spike uniformly in the first half of its step,
    exercising ``timestep()`` rounding while staying clear of half steps.
    ``rate`` in Hz; ``n_samples`` makes a batch.
    """
    check_generator(rng)
    if rate < 0 or rate * dt > 1:
        raise BiosnnInputError(f"rate={rate!r} Hz must lie in [0, 1/dt]")
    n_steps = whole_steps(duration, dt, "duration")
    batch = 1 if n_samples is None else n_samples
    mask = rng.random((n_steps, batch, n_units)) < rate * dt
    steps, samples, units = np.nonzero(mask)
    offset = rng.uniform(0.0, 0.5, steps.size) if off_grid else np.zeros(steps.size)
    times = (steps + offset) * dt
    return SpikeTrains.from_unsorted(
        times, units, n_units, duration, samples if n_samples is not None else None, n_samples
    )


def interval_order_task(
    rng: np.random.Generator,
    n_samples: int,
    *,
    n_steps: int = 40,
    interval: int = 8,
    jitter: int = 1,
    n_distractors: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Which of two inputs fires first, by ``interval`` +/- ``jitter`` steps? (a timing-only task)

    Inputs 0 (A) and 1 (B) fire exactly once per sample; label 1 when A leads,
    0 when B leads. ``n_distractors`` further inputs fire once at random steps.
    Every input fires once in both classes, so spike counts carry no
    information: only timing does. Returns ``(raster [S, T, 2 + n_distractors], labels [S])``.
    """
    span = interval + jitter
    if n_steps < 2 * span + 4:
        raise BiosnnInputError(f"n_steps={n_steps} too short for interval {interval} +/- {jitter}")
    labels = rng.integers(0, 2, n_samples)
    raster = np.zeros((n_samples, n_steps, 2 + n_distractors))
    first = rng.integers(1, n_steps - span - 1, n_samples)
    gap = interval + rng.integers(-jitter, jitter + 1, n_samples)
    second = first + gap
    s = np.arange(n_samples)
    raster[s, np.where(labels == 1, first, second), 0] = 1
    raster[s, np.where(labels == 1, second, first), 1] = 1
    for d in range(n_distractors):
        raster[s, rng.integers(0, n_steps, n_samples), 2 + d] = 1
    return raster, labels.astype(np.int64)


def precise_interval_task(
    rng: np.random.Generator,
    n_samples: int,
    *,
    duration: float = 0.06,
    target: float = 20e-3,
    tolerance: float = 2e-3,
    margin: float = 6e-3,
    n_distractors: int = 2,
) -> tuple[list, np.ndarray]:
    """Does input B follow input A by ``target`` +/- ``tolerance``? (continuous spike times)

    Inputs 0 (A) and 1 (B) fire once per sample; label 1 when ``t_B - t_A`` lies
    in ``target +/- tolerance``; label 0 when it lies at least ``margin`` outside
    that band (B may also precede A). Distractor inputs fire once at random.
    Times are continuous (off any grid), so the same sample can be simulated at
    any dt. Returns ``(samples, labels)``, each sample a ``(times, units)`` pair.
    """
    labels = rng.integers(0, 2, n_samples)
    samples = []
    for label in labels:
        if label:
            gap = target + rng.uniform(-tolerance, tolerance)
        else:
            low = rng.uniform(-target, target - tolerance - margin)
            high = rng.uniform(target + tolerance + margin, 1.8 * target)
            gap = low if rng.random() < 0.6 else high
        latest = duration - 5e-3
        t_a = rng.uniform(max(0.0, -gap), latest - max(gap, 0.0))
        times = [t_a, t_a + gap] + list(rng.uniform(0, latest, n_distractors))
        units = [0, 1] + list(range(2, 2 + n_distractors))
        samples.append((np.asarray(times), np.asarray(units)))
    return samples, labels.astype(np.int64)


def batch_spike_trains(samples: Sequence[tuple[np.ndarray, np.ndarray]], n_units: int, duration: float) -> SpikeTrains:
    """One batched SpikeTrains from ``[(times, units), ...]``."""
    times = np.concatenate([t for t, _ in samples])
    units = np.concatenate([u for _, u in samples])
    batch = np.concatenate([np.full(len(t), b) for b, (t, _) in enumerate(samples)])
    return SpikeTrains.from_unsorted(times, units, n_units, duration, batch, len(samples))
