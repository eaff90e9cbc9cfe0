"""The study's constants and measures: spike matching, van Rossum distances, fitted orders, state errors.

Part of the discretization study (:mod:`biosnn.studies.discretization`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ...core.errors import BiosnnInputError
from ...core.schedule import is_whole_steps

if TYPE_CHECKING:
    from collections.abc import Sequence

#: the dt ladder (s), coarsest first: halving from 1 ms (the step most SNN training uses), a factor 64 in all
DTS = tuple(1e-3 / 2**k for k in range(7))
#: a mirror spike and a ground-truth spike of one neuron closer than this are the same spike: two steps
#: of the coarsest dt (the grid moves a spike by about two steps at most), below the shortest interval
#: between two spikes of one neuron in the study's networks (t_ref or a membrane time constant). At the
#: coarsest steps the flip counts depend on it (docs/discretization.md, "The match window")
MATCH_WINDOW = 2e-3
#: time constant of the van Rossum kernel (s): the membrane's time scale, so a distance of 1/sqrt(2) is
#: one spike too many or too few, and a spike moved by 0.5 ms adds 1 - e^{-0.1} = 0.095 to the squared distance
VAN_ROSSUM_TAU = 10e-3
#: the fine Brian2 reference runs at the finest dt of the ladder divided by this
FINE_FACTOR = 8
#: inputs of one unit are at least this far apart: one input per unit and step at every dt of the ladder
INPUT_DEAD_TIME = 1e-3
#: the first input comes after this (s): NEST needs a generator time minus its one-step delay above 0
FIRST_INPUT = 1e-3

#: the exact propagator's error, at every dt, stays below this: rounding of O(1) values accumulated over <= 1e4
#: steps (and the 120-digit oracle rounded once to float64)
EXACT_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Tolerance:
    """How far a measured order may lie from the declared one in the stored study (:data:`FULL`), and why."""

    value: float
    reason: str


#: per measure (the names of the study's rows)
ORDER_TOLERANCES = {
    "state_error_max": Tolerance(
        0.1,
        "deterministic (inputs on the grid): only the second-order term of Euler's "
        "error, largest at the coarsest dt, bends the line",
    ),
    "state_error_mean": Tolerance(
        0.15,
        "a mean over every sample of many trials: the rounding of inputs moves it "
        "smoothly, but a flipped spike adds an O(1) error over a membrane time "
        "constant, a rare event",
    ),
    "spike_time_error_median": Tolerance(
        0.15,
        "half of several hundred matched spikes lie closer than the median; "
        "it moves with the rounding of their inputs alone",
    ),
    "spike_time_error_mean": Tolerance(
        0.3,
        "the mean also carries the few spikes a flip moved by up to the match "
        "window, whose share falls like the mismatch fraction",
    ),
    "mismatch_fraction": Tolerance(
        0.4,
        "counts of rare events (tens of flips at the finest dts), and one flip "
        "changes the later spikes of its neuron and of its WTA circuit",
    ),
    "van_rossum": Tolerance(0.2, "its square adds spike shifts (smooth) and flips (rare events) alike"),
}


# ---------------------------------------------------------------------------------------------
# measures
# ---------------------------------------------------------------------------------------------


class SpikeList(NamedTuple):
    """Spike times (s), units and samples of a batch (the layout of ``biosnn.equivalence.event_driven``'s results)."""

    times: np.ndarray
    units: np.ndarray
    samples: np.ndarray


def as_spike_list(spikes: Sequence[np.ndarray]) -> SpikeList:
    """``(times, units, samples)`` as float64 / int64 arrays of one length, checked."""
    try:
        times, units, samples = spikes
    except (TypeError, ValueError):
        raise BiosnnInputError("spikes: expected (times, units, samples)") from None
    times = np.asarray(times, dtype=np.float64).ravel()
    units = np.asarray(units, dtype=np.int64).ravel()
    samples = np.asarray(samples, dtype=np.int64).ravel()
    if not times.size == units.size == samples.size:
        raise BiosnnInputError(
            f"spikes: times, units and samples differ in length ({times.size}, {units.size}, {samples.size})"
        )
    if not np.all(np.isfinite(times)):
        raise BiosnnInputError("spikes: times must be finite")
    return SpikeList(times, units, samples)


@dataclass(frozen=True)
class SpikeMatch:
    """Ground-truth spikes paired with estimated ones (:func:`match_spikes`)."""

    errors: np.ndarray  # |t_estimate - t_reference| (s) of every matched pair
    missed: int  # ground-truth spikes without a partner
    extra: int  # estimated spikes without a partner
    n_reference: int

    @property
    def unmatched(self) -> int:
        return self.missed + self.extra

    @property
    def mismatch_fraction(self) -> float:
        """(missed + extra) per ground-truth spike."""
        return self.unmatched / max(1, self.n_reference)


def _trains(spikes: SpikeList) -> dict[tuple[int, int], np.ndarray]:
    """``{(sample, unit): sorted times}``."""
    order = np.lexsort((spikes.times, spikes.units, spikes.samples))
    t, u, s = spikes.times[order], spikes.units[order], spikes.samples[order]
    cuts = np.flatnonzero((np.diff(u) != 0) | (np.diff(s) != 0)) + 1
    return {(int(s[i]), int(u[i])): t[i:j] for i, j in zip(np.r_[0, cuts], np.r_[cuts, t.size]) if j > i}


def match_spikes(
    reference: Sequence[np.ndarray], estimate: Sequence[np.ndarray], window: float = MATCH_WINDOW
) -> SpikeMatch:
    """Pair the spikes of each (sample, unit): every reference spike, in time order, takes the nearest
    estimated spike not yet taken if it lies within ``window`` (s).

    ``reference`` and ``estimate`` are ``(times, units, samples)``.
    """
    if not (isinstance(window, (int, float)) and window > 0 and math.isfinite(window)):
        raise BiosnnInputError(f"window: expected a positive time (s), got {window!r}")
    ref, est = _trains(as_spike_list(reference)), _trains(as_spike_list(estimate))
    errors, missed, extra = [], 0, 0
    for key in ref.keys() | est.keys():
        a, e = ref.get(key, np.zeros(0)), est.get(key, np.zeros(0))
        taken = np.zeros(e.size, dtype=bool)
        for t in a:
            distance = np.where(taken, np.inf, np.abs(e - t))
            k = int(np.argmin(distance)) if e.size else -1
            if k >= 0 and distance[k] <= window:
                taken[k] = True
                errors.append(distance[k])
            else:
                missed += 1
        extra += int((~taken).sum())
    n_reference = sum(a.size for a in ref.values())
    return SpikeMatch(np.asarray(errors, dtype=np.float64), missed, extra, n_reference)


def van_rossum_distance(
    a: np.ndarray | Sequence[float], b: np.ndarray | Sequence[float], tau: float = VAN_ROSSUM_TAU
) -> float:
    """van Rossum (2001) distance between two spike trains (times in s), from its definition:

        D^2 = (1/tau) int_0^inf (f(t) - g(t))^2 dt,   f = sum_i K(t - a_i),  g = sum_j K(t - b_j),
        K(t) = e^{-t/tau} for t >= 0 (0 before).

    The filtered difference ``d = f - g`` is a sum of exponentials: between two consecutive events
    (of either train) it decays as ``d_k e^{-(t - t_k)/tau}``, so its square integrates exactly to
    ``d_k^2 tau/2 (1 - e^{-2 (t_{k+1} - t_k)/tau})``, and after the last event to ``d_K^2 tau/2``.
    Normalised so that one spike against none gives ``D^2 = 1/2`` and two spikes ``delta`` apart
    ``D^2 = 1 - e^{-delta/tau}``.
    """
    if not (isinstance(tau, (int, float)) and tau > 0 and math.isfinite(tau)):
        raise BiosnnInputError(f"tau: expected a positive time constant (s), got {tau!r}")
    times = np.concatenate([np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()])
    if not np.all(np.isfinite(times)):
        raise BiosnnInputError("van Rossum distance: spike times must be finite")
    signs = np.r_[np.ones(np.size(a)), -np.ones(np.size(b))]
    order = np.argsort(times, kind="stable")
    times, signs = times[order], signs[order]
    total, d = 0.0, 0.0
    for k in range(times.size):
        if k:
            gap = times[k] - times[k - 1]
            total += d * d * tau / 2 * -math.expm1(-2 * gap / tau)
            d *= math.exp(-gap / tau)
        d += signs[k]
    total += d * d * tau / 2
    return math.sqrt(max(total, 0.0) / tau)


def van_rossum_rms(
    reference: Sequence[np.ndarray], estimate: Sequence[np.ndarray], n_trains: int, tau: float = VAN_ROSSUM_TAU
) -> float:
    """Root mean square over ``n_trains`` (samples x neurons) of the per-neuron van Rossum distance."""
    ref, est = _trains(as_spike_list(reference)), _trains(as_spike_list(estimate))
    keys = ref.keys() | est.keys()
    if n_trains < len(keys):
        raise BiosnnInputError(f"n_trains={n_trains} is smaller than the {len(keys)} trains with spikes")
    squares = [van_rossum_distance(ref.get(k, ()), est.get(k, ()), tau) ** 2 for k in keys]
    return math.sqrt(sum(squares) / n_trains)


def check_dts(dts: Sequence[float], *, nested: bool = True) -> tuple[float, ...]:
    """A dt ladder: at least two positive steps (s), strictly decreasing (coarsest first) and, when ``nested``,
    each dividing the coarsest one (so that inputs and samples on the coarsest grid lie on every grid)."""
    try:
        values = tuple(float(d) for d in dts)
    except (TypeError, ValueError):
        raise BiosnnInputError(f"dts: expected a sequence of time steps (s), got {dts!r}") from None
    if len(values) < 2:
        raise BiosnnInputError(f"dts: an order needs at least two time steps, got {len(values)}")
    if not all(math.isfinite(d) and d > 0 for d in values):
        raise BiosnnInputError(f"dts: every time step must be positive and finite, got {values}")
    for coarse, fine in zip(values, values[1:]):
        if not fine < coarse:
            raise BiosnnInputError(f"dts must be strictly decreasing (coarsest first); got {coarse!r} then {fine!r}")
    for d in values if nested else ():
        if not is_whole_steps(values[0], d):
            raise BiosnnInputError(f"dts: {d!r} s does not divide the coarsest step {values[0]!r} s")
    return values


def fitted_order(dts: Sequence[float], errors: Sequence[float] | np.ndarray) -> float:
    """The order of convergence: the least-squares slope of log(error) against log(dt).

    Errors that are zero, negative or not finite are left out (no logarithm); NaN when fewer than two remain.
    """
    dts = check_dts(dts, nested=False)
    errors = np.asarray(errors, dtype=np.float64)
    if errors.shape != (len(dts),):
        raise BiosnnInputError(f"errors: expected one per dt ({len(dts)}), got shape {errors.shape}")
    keep = np.isfinite(errors) & (errors > 0)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(np.asarray(dts)[keep]), np.log(errors[keep]), 1)[0])


def state_error(values: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """``(max, mean)`` of ``|values - reference|`` where the reference is defined (not NaN)."""
    diff = np.abs(np.asarray(values, np.float64) - np.asarray(reference, np.float64))
    valid = np.isfinite(diff)
    if not valid.any():
        raise BiosnnInputError("state error: the reference is undefined at every sample")
    return float(diff[valid].max()), float(diff[valid].mean())
