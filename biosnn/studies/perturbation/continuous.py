"""Perturbations of continuous spike times (Yu, Sun & Goodman 2025, in continuous time).

Every function takes a (batched) :class:`~biosnn.core.spikes.SpikeTrains`, a
strength and an explicit ``numpy.random.Generator``, and returns new
``SpikeTrains`` on the same window ``[0, T)``; nothing is binned. A *train* is
the spikes of one neuron in one sample, ``S_i``.

* :func:`random_replacement`: in every train remove ``floor(f |S_i|)`` spikes
  chosen uniformly and add as many at times uniform on ``[0, T)`` (the paper's
  equation; the count of every train is preserved).
* :func:`spike_jitter`: ``t' = t + N(0, sigma^2)`` per spike; a jittered time
  outside ``[0, T)`` is drawn again (up to ``max_attempts`` times, then the spike
  keeps its time), so counts are preserved and nothing piles up at the edges.
* :func:`neuron_jitter`: one offset ``N(0, sigma^2)`` per train, redrawn while it
  would move a spike of the train out of ``[0, T)`` (then 0): intervals within a
  train are preserved exactly.
* :func:`deletion`: each spike removed with probability ``p``.
* :func:`time_reversal`: ``t' = t_start + t_end - t`` with ``[t_start, t_end]`` the
  sample-wide window from its first to its last spike (an involution on it).
"""

from __future__ import annotations

import numpy as np

from ...core.errors import BiosnnInputError
from ...core.inputs import check_generator
from ...core.spikes import SpikeTrains, rank_within

#: redraws of a jittered time (or a train's offset) that left the window before keeping the original
MAX_ATTEMPTS = 10


def _check_spikes(spikes) -> SpikeTrains:
    if not isinstance(spikes, SpikeTrains):
        raise BiosnnInputError(f"spikes: expected SpikeTrains, got {type(spikes).__name__}")
    return spikes


def _check_fraction(value, name: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise BiosnnInputError(f"{name} must lie in [0, 1], got {value!r}")
    return value


def _check_sigma(value) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise BiosnnInputError(f"sigma must be a finite time >= 0 s, got {value!r}")
    return value


def train_keys(spikes: SpikeTrains) -> np.ndarray:
    """Index of each spike's train: ``sample * n_units + unit``."""
    return spikes.sample_indices() * spikes.n_units + spikes.units


def within_train_rank(keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rank of each spike within its train (0 .. |S_i| - 1)."""
    return rank_within(keys, rng.random(keys.size))


def train_extent(keys: np.ndarray, times: np.ndarray, n_trains: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last spike time of every train (inf / -inf for empty trains)."""
    first = np.full(n_trains, np.inf)
    last = np.full(n_trains, -np.inf)
    if keys.size:
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        owners = sorted_keys[starts]
        first[owners] = np.minimum.reduceat(times[order], starts)
        last[owners] = np.maximum.reduceat(times[order], starts)
    return first, last


def _rebuild(spikes: SpikeTrains, times, units, samples) -> SpikeTrains:
    last = np.nextafter(spikes.duration, 0.0)
    times = np.clip(times, 0.0, last)
    return SpikeTrains.from_unsorted(
        times, units, spikes.n_units, spikes.duration, samples if spikes.is_batched else None, spikes.n_samples
    )


def _n_moved(fraction: float, counts: np.ndarray) -> np.ndarray:
    """``floor(f n)`` without floating-point surprises (0.29 * 100 is 28.999...)."""
    return np.floor(np.round(fraction * counts, 9)).astype(np.int64)


def random_replacement(spikes: SpikeTrains, fraction: float, rng: np.random.Generator) -> SpikeTrains:
    """Move ``floor(fraction |S_i|)`` spikes of every train to uniform times on ``[0, T)``."""
    spikes, rng, fraction = _check_spikes(spikes), check_generator(rng), _check_fraction(fraction, "fraction")
    keys = train_keys(spikes)
    n_trains = spikes.batch_size * spikes.n_units
    counts = np.bincount(keys, minlength=n_trains)
    moved = _n_moved(fraction, counts)
    keep = within_train_rank(keys, rng) >= moved[keys]
    new_keys = np.repeat(np.arange(n_trains), moved)
    new_times = rng.uniform(0.0, spikes.duration, new_keys.size)
    times = np.concatenate([spikes.times[keep], new_times])
    units = np.concatenate([spikes.units[keep], new_keys % spikes.n_units])
    samples = np.concatenate([spikes.sample_indices()[keep], new_keys // spikes.n_units])
    return _rebuild(spikes, times, units, samples)


def spike_jitter(
    spikes: SpikeTrains, sigma: float, rng: np.random.Generator, *, max_attempts: int = MAX_ATTEMPTS
) -> SpikeTrains:
    """Each spike moved by its own ``N(0, sigma^2)`` (s), redrawn while outside ``[0, T)``."""
    spikes, rng, sigma = _check_spikes(spikes), check_generator(rng), _check_sigma(sigma)
    times = spikes.times.copy()
    pending = np.arange(times.size)
    for _ in range(max_attempts):
        if not pending.size:
            break
        proposal = spikes.times[pending] + rng.normal(0.0, sigma, pending.size)
        inside = (proposal >= 0.0) & (proposal < spikes.duration)
        times[pending[inside]] = proposal[inside]
        pending = pending[~inside]
    return _rebuild(spikes, times, spikes.units, spikes.sample_indices())


def neuron_jitter(
    spikes: SpikeTrains, sigma: float, rng: np.random.Generator, *, max_attempts: int = MAX_ATTEMPTS
) -> SpikeTrains:
    """Every train shifted by one offset ``N(0, sigma^2)`` (s), redrawn while it leaves ``[0, T)``."""
    spikes, rng, sigma = _check_spikes(spikes), check_generator(rng), _check_sigma(sigma)
    keys = train_keys(spikes)
    n_trains = spikes.batch_size * spikes.n_units
    first, last = train_extent(keys, spikes.times, n_trains)
    offset = np.zeros(n_trains)
    pending = np.unique(keys)
    for _ in range(max_attempts):
        if not pending.size:
            break
        proposal = rng.normal(0.0, sigma, pending.size)
        inside = (first[pending] + proposal >= 0.0) & (last[pending] + proposal < spikes.duration)
        offset[pending[inside]] = proposal[inside]
        pending = pending[~inside]
    return _rebuild(spikes, spikes.times + offset[keys], spikes.units, spikes.sample_indices())


def deletion(spikes: SpikeTrains, probability: float, rng: np.random.Generator) -> SpikeTrains:
    """Each spike removed independently with ``probability``."""
    spikes, rng = _check_spikes(spikes), check_generator(rng)
    probability = _check_fraction(probability, "deletion probability")
    keep = rng.random(spikes.times.size) >= probability
    return _rebuild(spikes, spikes.times[keep], spikes.units[keep], spikes.sample_indices()[keep])


def time_reversal(spikes: SpikeTrains, amount: float = 1.0, rng: np.random.Generator | None = None) -> SpikeTrains:
    """``t' = t_start + t_end - t`` within each sample's first-to-last-spike window (``amount`` 1),
    or the spikes unchanged (``amount`` 0). Deterministic: ``rng`` is accepted for a uniform signature."""
    spikes = _check_spikes(spikes)
    if amount not in (0, 1):
        raise BiosnnInputError(f"time reversal is on (1) or off (0), got {amount!r}")
    if amount == 0 or not len(spikes):
        return spikes
    samples = spikes.sample_indices()
    start, end = train_extent(samples, spikes.times, spikes.batch_size)
    reversed_times = np.clip(start[samples] + end[samples] - spikes.times, start[samples], end[samples])
    return _rebuild(spikes, reversed_times, spikes.units, samples)
