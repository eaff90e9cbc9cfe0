"""The public temporal-shd code's perturbations, on binary rasters (for comparison only).

Yu, Sun & Goodman (2025) perturb binned rasters (1 ms or about 14 ms bins), not
spike times. These functions reproduce that behaviour on rasters
``[T, B, N]`` of 0/1 (biosnn's time-major layout) so that a study can show what
the binning changes. Differences from :mod:`biosnn.studies.perturbation.continuous`, each
inherited from the reference code:

* a bin holds at most one spike: spikes moved into an occupied bin merge
  (*bin collisions*), so counts are not always preserved;
* random replacement moves a spike to a uniformly drawn *free* bin of its
  neuron, with at most ``max_attempts`` draws: a spike that finds none is lost.
  ``mode="exact"`` moves ``floor(f n)`` spikes per neuron (their synthetic-task
  version, the paper's equation); ``mode="bernoulli"`` moves each spike with
  probability ``f`` (their SHD version), and ``pad_to`` zero-pads the raster
  first (they pad 100 bins to 200), so moved spikes may land after the sample's end;
* jitter is in whole bins (``round(N(0, sigma^2))``), retried while outside the
  raster, then the spike keeps its bin; per-neuron jitter drops spikes shifted
  outside the raster;
* reversal mirrors the bins within the sample-wide first-to-last active bin.
"""

from __future__ import annotations

import numpy as np

from ...core.errors import BiosnnInputError
from ...core.inputs import check_generator
from .continuous import MAX_ATTEMPTS, _check_fraction, _n_moved, train_extent, within_train_rank

REPLACEMENT_MODES = ("exact", "bernoulli")


def _check_raster(raster) -> np.ndarray:
    raster = np.asarray(raster)
    if raster.ndim != 3:
        raise BiosnnInputError(f"raster: expected [T, B, N], got shape {raster.shape}")
    if raster.size and not np.isin(raster, (0, 1)).all():
        raise BiosnnInputError("raster: expected a binary (0/1) raster, as the reference code uses")
    return raster.astype(np.uint8)


def _check_bins(sigma) -> float:
    sigma = float(sigma)
    if not np.isfinite(sigma) or sigma < 0:
        raise BiosnnInputError(f"sigma must be a finite number of bins >= 0, got {sigma!r}")
    return sigma


def random_replacement(
    raster: np.ndarray,
    fraction: float,
    rng: np.random.Generator,
    *,
    mode: str = "exact",
    pad_to: int | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> np.ndarray:
    """Move spikes of every neuron to uniformly drawn free bins (see the module docstring)."""
    raster, rng, fraction = _check_raster(raster), check_generator(rng), _check_fraction(fraction, "fraction")
    if mode not in REPLACEMENT_MODES:
        raise BiosnnInputError(f"replacement mode must be one of {', '.join(REPLACEMENT_MODES)}, got {mode!r}")
    n_bins = raster.shape[0] if pad_to is None else int(pad_to)
    if n_bins < raster.shape[0]:
        raise BiosnnInputError(f"pad_to={pad_to} is shorter than the raster ({raster.shape[0]} bins)")
    out = np.zeros((n_bins,) + raster.shape[1:], np.uint8)
    out[: raster.shape[0]] = raster
    bins, samples, units = np.nonzero(raster)
    if mode == "bernoulli":
        move = rng.random(bins.size) < fraction
    else:
        keys = samples * raster.shape[2] + units
        counts = np.bincount(keys, minlength=raster.shape[1] * raster.shape[2])
        move = within_train_rank(keys, rng) < _n_moved(fraction, counts)[keys]
    out[bins[move], samples[move], units[move]] = 0
    pending_s, pending_u = samples[move], units[move]
    for _ in range(max_attempts):
        if not pending_s.size:
            break
        target = rng.integers(0, n_bins, pending_s.size)
        free = out[target, pending_s, pending_u] == 0
        # two moved spikes drawing the same free bin: the first takes it, the other draws again
        key = (target * raster.shape[1] + pending_s) * raster.shape[2] + pending_u
        first = np.zeros(key.size, bool)
        first[np.unique(key, return_index=True)[1]] = True
        placed = free & first
        out[target[placed], pending_s[placed], pending_u[placed]] = 1
        pending_s, pending_u = pending_s[~placed], pending_u[~placed]
    return out


def spike_jitter(
    raster: np.ndarray, sigma_bins: float, rng: np.random.Generator, *, max_attempts: int = MAX_ATTEMPTS
) -> np.ndarray:
    """Each spike moved by ``round(N(0, sigma^2))`` bins, retried while outside, merging on collision."""
    raster, rng, sigma = _check_raster(raster), check_generator(rng), _check_bins(sigma_bins)
    bins, samples, units = np.nonzero(raster)
    new = bins.copy()
    pending = np.arange(bins.size)
    for _ in range(max_attempts):
        if not pending.size:
            break
        proposal = bins[pending] + np.rint(rng.normal(0.0, sigma, pending.size)).astype(np.int64)
        inside = (proposal >= 0) & (proposal < raster.shape[0])
        new[pending[inside]] = proposal[inside]
        pending = pending[~inside]
    out = np.zeros_like(raster)
    out[new, samples, units] = 1
    return out


def neuron_jitter(raster: np.ndarray, sigma_bins: float, rng: np.random.Generator) -> np.ndarray:
    """Every neuron of every sample shifted by one ``round(N(0, sigma^2))`` bins; spikes leaving are lost."""
    raster, rng, sigma = _check_raster(raster), check_generator(rng), _check_bins(sigma_bins)
    offset = np.rint(rng.normal(0.0, sigma, raster.shape[1:])).astype(np.int64)
    bins, samples, units = np.nonzero(raster)
    new = bins + offset[samples, units]
    inside = (new >= 0) & (new < raster.shape[0])
    out = np.zeros_like(raster)
    out[new[inside], samples[inside], units[inside]] = 1
    return out


def deletion(raster: np.ndarray, probability: float, rng: np.random.Generator) -> np.ndarray:
    """Each spike removed with ``probability``."""
    raster, rng = _check_raster(raster), check_generator(rng)
    probability = _check_fraction(probability, "deletion probability")
    bins, samples, units = np.nonzero(raster)
    keep = rng.random(bins.size) >= probability
    out = np.zeros_like(raster)
    out[bins[keep], samples[keep], units[keep]] = 1
    return out


def time_reversal(raster: np.ndarray, amount: float = 1.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """``x'[t] = x[t_start + t_end - t]`` within each sample's first-to-last active bin."""
    raster = _check_raster(raster)
    if amount not in (0, 1):
        raise BiosnnInputError(f"time reversal is on (1) or off (0), got {amount!r}")
    if amount == 0:
        return raster
    bins, samples, units = np.nonzero(raster)
    start, end = train_extent(samples, bins.astype(np.float64), raster.shape[1])
    out = np.zeros_like(raster)
    out[(start[samples] + end[samples]).astype(np.int64) - bins, samples, units] = 1
    return out
