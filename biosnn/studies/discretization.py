"""The discretization study (issue 14): each discretization of the torch mirror against ground truth, against dt.

What is measured, for every registered model and every discretization of its mirror, at each dt of
a ladder (coarsest first):

* **state error** -- the model's recorded state (``v``; the adaptation ``a``; the cascade's ``x``;
  the sigma-delta output ``y``) against the ground truth sampled on the mirror's grid:
  ``max_n |v[n] - v*(t_n - L dt)|`` and its mean over steps, samples and neurons. ``L`` is the
  delivery lag of the input (:func:`delivery_lag_steps`): biosnn's exact schedule adds an input
  spike of step k at the end of step k + 1, so ``v[n]`` estimates the continuous ``v*(t_n - 2 dt)``;
  a held drive has no lag.
* **spike measures** -- each spike label converted to its estimate of the continuous spike time
  (:func:`estimated_spike_times`: detection at the end of the labelled step, minus the lag), paired
  with the ground truth's spikes of the same neuron and sample (:func:`match_spikes`, nearest first
  within :data:`MATCH_WINDOW`): median and mean |spike-time error| of matched spikes, missed spikes
  (ground truth without a partner) and extra spikes (mirror without a partner) per ground-truth
  spike, and the van Rossum distance (:func:`van_rossum_distance`, van Rossum 2001, kernel
  :data:`VAN_ROSSUM_TAU`).
* **order of convergence** -- the slope of log(error) against log(dt) (:func:`fitted_order`),
  set beside the order each case declares (:class:`Expectation`).

Ground truth, per model (:data:`SUBTHRESHOLD_PROBES`, :data:`OFF_GRID_CASES`, :data:`REFERENCES`):

* subthreshold responses on the grid: closed forms (a held drive's exponential relaxation) and the
  120-digit oracle of ``biosnn/equivalence/oracle.py`` (current synapse, adaptation, dynamic-weight neuron,
  gamma cascade). Declared: ``exact`` is exact (rounding level), ``euler`` order 1, and PLIF with
  the field's ``tau0 = 2 dt`` (Fang et al. 2021) at every dt order 0: its time constant shrinks
  with the step, so refining the grid never removes the error;
* spiking responses to off-grid (continuous-time) inputs: the event-driven solvers of
  ``biosnn/equivalence/event_driven.py`` (LIF with delta synapses; Lee et al.'s neurons and WTA circuits),
  NEST's precise-spike ``iaf_psc_exp_ps`` (LIF with a current synapse; Hanuschkin et al. 2010),
  the exact superposition of exponentials (the non-spiking ``li``), and Brian2 at a fine dt for the
  rest (PLIF, adaptive LIF, gamma cascade). The grid moves every input to the start of its step,
  by up to one dt: declared order 1 for spike times, missed/extra spikes and the mean state error;
  order 1/2 for the van Rossum distance (a spike moved by ``delta`` adds ``1 - e^{-delta/tau}``,
  about ``delta / tau``, to the squared distance). Where the drive is smooth (a current synapse, a
  cascade) the threshold can be touched between two steps' tests, and such excursions, missed by the
  grid, add an order-2 share of mismatched spikes: declared between 1 and 2
  (:data:`GRAZING`). How far a measured order may stray, and why, is :data:`ORDER_TOLERANCES`.

Discretizations (:data:`DISCRETIZATIONS`): ``exact`` and ``euler`` (biosnn's), ``spikingjelly``
(spikes enter the Euler charge ``H = V + (X - (V - V_rest)) dt/tau`` as a drive held over their own
step, with weights scaled by ``tau / dt`` so that a spike carries the charge of a delta synapse of
weight w: spikingjelly's ``LIFNode``/``ParametricLIFNode(decay_input=True)`` fed with spikes; with a
held drive the mirror's Euler step already is spikingjelly's, ``tests/test_spikingjelly.py``), and
``euler_tau0_2dt`` for models whose time constant has a default in steps.

Also here: the convention examples (NEST's end-of-step labels, delay rounding, the slot of the input
relative to the threshold test and the reset), each on one small network
(:data:`CONVENTION_EXAMPLES`). ``validation/discretization_study.py`` runs it all; the figure is
``biosnn/reporting/figures/fig_convergence.py``; ``docs/discretization.md`` gives the numbers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from ..core.errors import BiosnnInputError
from ..core.schedule import arrival_slot, delay_steps, hop_latency_steps
from ..core.spec import Structure
from ..core.spikes import SpikeTrains
from ..equivalence.event_driven import lee_wta_event_driven, lif_delta_event_driven
from ..equivalence.oracle import cascade_impulse_response, current_synapse_response, exponential_decay
from ..models import REGISTRY, get_spec

# ---------------------------------------------------------------------------------------------
# constants of the study
# ---------------------------------------------------------------------------------------------

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


def as_spike_list(spikes) -> SpikeList:
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


def match_spikes(reference, estimate, window: float = MATCH_WINDOW) -> SpikeMatch:
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


def van_rossum_distance(a, b, tau: float = VAN_ROSSUM_TAU) -> float:
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


def van_rossum_rms(reference, estimate, n_trains: int, tau: float = VAN_ROSSUM_TAU) -> float:
    """Root mean square over ``n_trains`` (samples x neurons) of the per-neuron van Rossum distance."""
    ref, est = _trains(as_spike_list(reference)), _trains(as_spike_list(estimate))
    keys = ref.keys() | est.keys()
    if n_trains < len(keys):
        raise BiosnnInputError(f"n_trains={n_trains} is smaller than the {len(keys)} trains with spikes")
    squares = [van_rossum_distance(ref.get(k, ()), est.get(k, ()), tau) ** 2 for k in keys]
    return math.sqrt(sum(squares) / n_trains)


def check_dts(dts, *, nested: bool = True) -> tuple[float, ...]:
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
        ratio = values[0] / d
        if abs(ratio - round(ratio)) > 1e-9 * ratio:
            raise BiosnnInputError(f"dts: {d!r} s does not divide the coarsest step {values[0]!r} s")
    return values


def fitted_order(dts, errors) -> float:
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


# ---------------------------------------------------------------------------------------------
# the grid's estimates of continuous quantities
# ---------------------------------------------------------------------------------------------


def delivery_lag_steps(*, held: bool, spikes: bool, schedule: str = "exact") -> int:
    """Steps between an input (spike or drive) at the start of step k and the recorded sample that first
    holds its whole effect.

    A spike of step k arrives in the slot of its pathway, after that step's state update
    (``hop_latency_steps``: 1 under the exact schedule), so it is in ``v`` from the start of step
    ``k + 1 + 1``: lag 2. A spike fed as a drive held over its own step (spikingjelly) is fully in at
    the end of step k: lag 1. A held drive (a current, not a spike) has no lag.
    """
    latency = hop_latency_steps(arrival_slot(schedule, held=held))
    return latency + (1 if spikes else 0)


def estimated_spike_times(labels: np.ndarray, dt: float, lag_steps: int) -> np.ndarray:
    """The continuous spike time a label estimates: the crossing is detected at the end of the labelled
    step (``label + dt``) on a time axis delayed by the input lag (``lag_steps dt``)."""
    return np.asarray(labels, np.float64) + (1 - lag_steps) * dt


@dataclass(frozen=True)
class GridState:
    """A state recorded on a grid, ``values[m]`` at ``(m - lag_steps) dt`` on the continuous time axis."""

    values: np.ndarray  # [M, B, N]
    dt: float
    lag_steps: int = 0

    def at(self, times: np.ndarray) -> np.ndarray:
        """``[len(times), B, N]``; NaN outside the record. Times must lie on the grid (to 1e-6 of a step)."""
        steps = np.asarray(times, np.float64) / self.dt
        index = np.rint(steps).astype(np.int64)
        if np.any(np.abs(steps - index) > 1e-6):
            raise BiosnnInputError(f"state sampled between grid points of dt={self.dt!r}s")
        index = index + self.lag_steps
        out = np.full((index.size,) + self.values.shape[1:], np.nan)
        ok = (index >= 0) & (index < self.values.shape[0])
        out[ok] = self.values[index[ok]]
        return out


# ---------------------------------------------------------------------------------------------
# discretizations of the mirror
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discretization:
    """One way the mirror steps a model: the ``discretization`` it passes to ``biosnn.simulate`` and how it
    feeds spikes and sets time constants."""

    name: str
    mirror: str  # "exact" | "euler"
    description: str
    #: spikes enter as a drive held over their own step, weights scaled by tau_m / dt (spikingjelly)
    spikes_as_held_drive: bool = False
    #: every time constant with a default in steps takes that default at each dt (PLIF's tau0 = 2 dt)
    time_constants_in_steps: bool = False

    def applies_to(self, spec, synapse: str) -> bool:
        if self.mirror not in spec.discretizations:
            return False
        if self.spikes_as_held_drive:
            return synapse == "delta" and any(s.held for s in spec.synapses.values())
        if self.time_constants_in_steps:
            return any(p.default_steps is not None for p in spec.parameters)
        return True


DISCRETIZATIONS = {
    d.name: d
    for d in (
        Discretization("exact", "exact", "exact propagator over each step (biosnn's default)"),
        Discretization("euler", "euler", "forward Euler, v' = v + (X - (v - v_rest)) dt/tau (spikingjelly's charge)"),
        Discretization(
            "spikingjelly",
            "euler",
            "spikingjelly's convention: Euler charge with decay_input=True, each input spike a drive held "
            "over its own step (weights x tau_m/dt: the charge of a delta synapse), no synaptic latency",
            spikes_as_held_drive=True,
        ),
        Discretization(
            "euler_tau0_2dt",
            "euler",
            "the field's PLIF setting (Fang et al. 2021): Euler with tau_m = tau0 = 2 dt at every dt",
            time_constants_in_steps=True,
        ),
    )
}


def _steps_parameters(spec) -> list:
    return [p for p in spec.parameters if p.default_steps is not None]


def fixed_time_constants(spec) -> dict[str, float]:
    """Overrides giving a fixed physical value to every parameter the spec defines in steps (PLIF's tau_m):
    the middle of its validation range, the values the equivalence harness draws from."""
    out = {}
    for p in _steps_parameters(spec):
        if p.validation_range is None:
            raise BiosnnInputError(f"{spec.name}: parameter {p.name} has a default in steps and no validation range")
        out[p.name] = float(np.mean(p.validation_range))
    return out


def case_parameters(spec, discretization: Discretization, dt: float, overrides: Mapping | None = None) -> dict:
    """The resolved (SI) parameters of one run: the spec's defaults, a fixed value for parameters defined in
    steps (unless the discretization keeps them in steps), then the case's overrides."""
    chosen = {} if discretization.time_constants_in_steps else fixed_time_constants(spec)
    return spec.resolve({**chosen, **dict(overrides or {})}, dt)


# ---------------------------------------------------------------------------------------------
# expected orders
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What a case declares for one measure: an order of convergence, a range of orders where two mechanisms
    of different order add up, or ``exact`` (rounding level)."""

    order: float | None  # None: exact
    reason: str
    order_high: float | None = None

    @property
    def exact(self) -> bool:
        return self.order is None

    def declared(self):
        if self.exact:
            return "exact"
        return self.order if self.order_high is None else [self.order, self.order_high]

    def distance(self, measured: float) -> float:
        """How far ``measured`` lies outside the declared order (or range); NaN counts as infinitely far."""
        if not math.isfinite(measured):
            return math.inf
        high = self.order if self.order_high is None else self.order_high
        return max(self.order - measured, measured - high, 0.0)


EXACT = Expectation(None, "the exact propagator of a linear system with inputs on the grid")
EULER = Expectation(1.0, "forward Euler: local error O(dt^2), O(1/dt) steps")
STEPS = Expectation(0.0, "tau = 2 dt: the model changes with dt, each step has the same relative error")
ROUNDING = Expectation(1.0, "the grid moves every off-grid input to the start of its step, by up to dt")
ROUNDING_VAN_ROSSUM = Expectation(0.5, "D^2 ~ sum of spike shifts / tau and of flipped spikes, both O(dt)")
GRAZING = Expectation(
    1.0,
    "input rounding flips spikes (order 1); the threshold is tested at the end of each "
    "step, so an excursion above it shorter than a step is missed (height O(dt^2): order 2)",
    order_high=2.0,
)


# ---------------------------------------------------------------------------------------------
# scenario 1: subthreshold responses to inputs on the grid, against closed forms and the oracle
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeRun:
    """What a probe needs from one mirror run: the recorded variable and the continuous truth it estimates."""

    values: np.ndarray  # [T, ...] recorded by the mirror
    truth: np.ndarray  # [T, ...] the ground truth at the same samples (NaN where undefined)


@dataclass(frozen=True)
class SubthresholdProbe:
    """A subthreshold response of one model with a closed-form (or oracle) ground truth."""

    model: str
    variable: str
    reference: str  # "analytic" | "oracle"
    synapse: str  # how the probe's input enters
    description: str
    run: Callable[[Discretization, float, StudyConfig], ProbeRun]


def _simulate(
    model,
    inputs,
    weights,
    *,
    dt,
    n_steps,
    discretization,
    params,
    synapse,
    backend="torch",
    schedule="exact",
    reset=None,
):
    from ..simulation import simulate

    return simulate(
        model,
        inputs,
        weights,
        backend=backend,
        dt=dt,
        duration=n_steps * dt,
        discretization=discretization,
        params=params,
        synapse=synapse,
        schedule=schedule,
        reset=reset,
    )


def held_drive_levels(config: StudyConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(switch_times, levels)``: a subthreshold drive stepping between levels every
    ``config.probe_segment`` s, switch times on the coarsest grid (so every dt represents it exactly)."""
    n = int(round(config.probe_duration / config.probe_segment))
    rng = np.random.default_rng(config.seed)
    return np.arange(n) * config.probe_segment, rng.uniform(0.1, 0.9, n)


def held_drive_response(switch_times, levels, tau: float, v_rest: float, times) -> np.ndarray:
    """``v(t)`` of ``tau dv/dt = (v_rest - v) + X(t)`` from ``v(0) = v_rest``, X piecewise constant:
    ``v(t) = v_rest + X_k + (v(s_k) - v_rest - X_k) e^{-(t - s_k)/tau}`` on ``[s_k, s_{k+1})``."""
    times = np.asarray(times, np.float64)
    out = np.empty(times.size)
    u = 0.0
    bounds = np.r_[switch_times, np.inf]
    for k, level in enumerate(levels):
        inside = (times >= bounds[k]) & (times < bounds[k + 1])
        out[inside] = v_rest + level + (u - level) * np.exp(-(times[inside] - bounds[k]) / tau)
        if np.isfinite(bounds[k + 1]):
            u = level + (u - level) * math.exp(-(bounds[k + 1] - bounds[k]) / tau)
    return out


def _probe_membrane_held(model: str):
    def run(disc: Discretization, dt: float, config: StudyConfig) -> ProbeRun:
        spec = get_spec(model)
        params = case_parameters(spec, disc, dt)
        switch, levels = held_drive_levels(config)
        n = int(round(config.probe_duration / dt))
        t = np.arange(n) * dt
        drive = levels[np.searchsorted(switch, t + 1e-3 * dt, side="right") - 1][:, None]
        trace = _simulate(
            model, drive, np.eye(1), dt=dt, n_steps=n, discretization=disc.mirror, params=params, synapse="held"
        )
        truth = held_drive_response(switch, levels, params["tau_m"], params["v_rest"], t)
        return ProbeRun(trace.v[:, 0], truth)

    return run


def _one_input(n_steps: int, dt: float) -> SpikeTrains:
    return SpikeTrains([0.0], [0], 1, n_steps * dt)


def _lagged_times(n: int, dt: float, lag: int) -> np.ndarray:
    """The continuous times ``t_m - lag dt`` the samples ``m = 0..n-1`` estimate (NaN before 0)."""
    s = (np.arange(n) - lag) * dt
    return np.where(s >= 0, s, np.nan)


def _with_truth(times: np.ndarray, fn) -> np.ndarray:
    out = np.full(times.shape, np.nan)
    ok = np.isfinite(times)
    out[ok] = fn(times[ok])
    return out


def _probe_current_pulse(model: str, weight, response):
    """One input spike of weight ``weight(params)`` at t = 0 into a current synapse; the membrane's ground truth
    is ``v_rest + response(params, w, s)`` at the continuous times ``s`` the samples estimate."""

    def run(disc: Discretization, dt: float, config: StudyConfig) -> ProbeRun:
        spec = get_spec(model)
        params = case_parameters(spec, disc, dt)
        n = int(round(config.probe_duration / dt))
        w = weight(params)
        trace = _simulate(
            model,
            _one_input(n, dt),
            np.array([[w]]),
            dt=dt,
            n_steps=n,
            discretization=disc.mirror,
            params=params,
            synapse="current",
        )
        s = _lagged_times(n, dt, delivery_lag_steps(held=False, spikes=True))
        truth = _with_truth(s, lambda x: params["v_rest"] + response(params, w, x))
        return ProbeRun(trace.v[:, 0], truth)

    return run


def _leaky_current_response(params, w, s):
    """``tau_m dv/dt = -v + I``, ``tau_s dI/dt = -I``, ``I(0) = w``: ``w a (e^{-b s} - e^{-a s}) / (a - b)``."""
    return current_synapse_response(w, params["tau_m"], params["tau_s"], s)


def _integrator_current_response(params, w, s):
    """``dv/dt = I``, ``tau_s dI/dt = -I``, ``I(0) = w`` (no leak): ``w tau_s (1 - e^{-s/tau_s})``."""
    return w * params["tau_s"] * (1.0 - exponential_decay(1.0, params["tau_s"], s))


def _half_way_to_threshold(params):
    """The pulse a non-leaky integrator settles half-way to threshold from: ``w tau_s = (v_th - v_rest) / 2``."""
    return 0.5 * (params["v_th"] - params["v_rest"]) / params["tau_s"]


def _probe_adaptation(model: str):
    """One spike in step 0 (a held drive far above threshold for that step): ``a(s) = e^{-s/tau_a}`` from the
    reset at the end of step 0 (the sample ``a[m]`` holds ``s = (m - 1) dt``)."""

    def run(disc: Discretization, dt: float, config: StudyConfig) -> ProbeRun:
        spec = get_spec(model)
        params = case_parameters(spec, disc, dt, {"t_ref": 0.0})
        n = int(round(config.probe_duration / dt))
        drive = np.zeros((n, 1))
        drive[0] = 1e4 * (params["v_th"] - params["v_rest"])
        trace = _simulate(
            model, drive, np.eye(1), dt=dt, n_steps=n, discretization=disc.mirror, params=params, synapse="held"
        )
        if trace.spike_steps.tolist() != [0]:
            raise RuntimeError(
                f"{model}: the adaptation probe expected one spike in step 0, got steps {trace.spike_steps.tolist()}"
            )
        s = _lagged_times(n, dt, 1)
        return ProbeRun(trace.states["a"][:, 0], _with_truth(s, lambda x: exponential_decay(1.0, params["tau_a"], x)))

    return run


def _probe_delta_decay(model: str):
    """One subthreshold delta input at t = 0: ``v*(s) = w e^{-s/tau}`` (the dynamic weight is 1: no trigger yet)."""

    def run(disc: Discretization, dt: float, config: StudyConfig) -> ProbeRun:
        spec = get_spec(model)
        params = case_parameters(spec, disc, dt)
        n = int(round(config.probe_duration / dt))
        w = 0.5 * float(np.min(params["v_th"]))
        trace = _simulate(
            model,
            _one_input(n, dt),
            np.array([[w]]),
            dt=dt,
            n_steps=n,
            discretization=disc.mirror,
            params=params,
            synapse="delta",
        )
        s = _lagged_times(n, dt, delivery_lag_steps(held=False, spikes=True))
        return ProbeRun(trace.v[:, 0], _with_truth(s, lambda x: exponential_decay(w, params["tau_mp"], x)))

    return run


def _probe_cascade(model: str):
    """One input spike into the cascade; neuron k reads bucket k alone (``bucket_weight = I``) and never fires:
    ``x_k`` is the cascade's impulse response (hypoexponential; gamma for equal rates)."""

    def run(disc: Discretization, dt: float, config: StudyConfig) -> ProbeRun:
        spec = get_spec(model)
        taus = spec.cascade.time_constants(spec.resolve({}, dt))
        K = taus.size
        params = case_parameters(spec, disc, dt, {"bucket_weight": np.eye(K), "theta0": 1e9})
        n = int(round(config.probe_duration / dt))
        trace = _simulate(
            model,
            _one_input(n, dt),
            np.ones((1, K)),
            dt=dt,
            n_steps=n,
            discretization=disc.mirror,
            params=params,
            synapse="cascade",
        )
        s = _lagged_times(n, dt, delivery_lag_steps(held=False, spikes=True))
        truth = np.full((n, K), np.nan)
        ok = np.isfinite(s)
        truth[ok] = cascade_impulse_response(tuple(taus), s[ok])
        return ProbeRun(trace.states["x"], truth)

    return run


#: the subthreshold ground truth of each model (a registry: model -> probe)
SUBTHRESHOLD_PROBES = {
    p.model: p
    for p in (
        SubthresholdProbe(
            "lif",
            "v",
            "analytic",
            "held",
            "held drive stepping between levels; exponential relaxation",
            _probe_membrane_held("lif"),
        ),
        SubthresholdProbe(
            "plif",
            "v",
            "analytic",
            "held",
            "held drive stepping between levels; exponential relaxation",
            _probe_membrane_held("plif"),
        ),
        SubthresholdProbe(
            "li",
            "v",
            "oracle",
            "current",
            "one current pulse: difference of exponentials (120 digits)",
            _probe_current_pulse("li", lambda params: 1.0, _leaky_current_response),
        ),
        SubthresholdProbe(
            "adaptive_lif",
            "a",
            "oracle",
            "held",
            "adaptation after one spike: e^{-t/tau_a} (120 digits)",
            _probe_adaptation("adaptive_lif"),
        ),
        SubthresholdProbe(
            "lee_refractory",
            "v",
            "oracle",
            "delta",
            "one delta input: w e^{-t/tau_mp} (120 digits)",
            _probe_delta_decay("lee_refractory"),
        ),
        SubthresholdProbe(
            "wta", "v", "oracle", "delta", "one delta input: w e^{-t/tau_mp} (120 digits)", _probe_delta_decay("wta")
        ),
        SubthresholdProbe(
            "gamma_cascade",
            "x",
            "oracle",
            "cascade",
            "impulse response of every bucket (120-digit residues)",
            _probe_cascade("gamma_cascade"),
        ),
        SubthresholdProbe(
            "if",
            "v",
            "oracle",
            "current",
            "one current pulse into a non-leaky integrator: w tau_s (1 - e^{-t/tau_s}) (120 digits)",
            _probe_current_pulse("if", _half_way_to_threshold, _integrator_current_response),
        ),
        SubthresholdProbe(
            "integrator",
            "v",
            "oracle",
            "current",
            "one current pulse into a non-leaky integrator without threshold: w tau_s (1 - e^{-t/tau_s}) (120 digits)",
            _probe_current_pulse("integrator", lambda params: 1.0, _integrator_current_response),
        ),
    )
}


def probe_expectation(disc: Discretization) -> Expectation:
    if disc.time_constants_in_steps:
        return STEPS
    return EXACT if disc.mirror == "exact" else EULER


# ---------------------------------------------------------------------------------------------
# scenario 2: spiking responses to off-grid inputs, against continuous-time ground truth
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One off-grid spiking problem: a batch of input trains, weights, parameters (SI)."""

    model: str
    synapse: str
    spikes: SpikeTrains
    weights: np.ndarray
    params: dict
    reset: str
    duration: float

    @property
    def n_trains(self) -> int:
        return self.spikes.batch_size * self.weights.shape[1]


@dataclass(frozen=True)
class ReferenceSolution:
    """Ground truth of a problem: exact spikes (or None for a non-spiking model) and the state on the
    continuous time axis (a function of times -> ``[len(times), B, N]``, or None)."""

    spikes: SpikeList | None
    state: Callable[[np.ndarray], np.ndarray] | None


def off_grid_inputs(
    rng: np.random.Generator,
    n_inputs: int,
    n_samples: int,
    duration: float,
    rate: float,
    dead_time: float = INPUT_DEAD_TIME,
    first: float = FIRST_INPUT,
    margin: float = 0.0,
) -> SpikeTrains:
    """Poisson trains at continuous times in ``[first, duration - margin)``, every unit's spikes at least
    ``dead_time`` apart (one per step at every dt of the ladder)."""
    times, units, samples = [], [], []
    for b in range(n_samples):
        for unit in range(n_inputs):
            t = np.sort(rng.uniform(first, duration - margin, rng.poisson(rate * (duration - margin - first))))
            keep = []
            for x in t:
                if not keep or x - keep[-1] >= dead_time:
                    keep.append(x)
            times += keep
            units += [unit] * len(keep)
            samples += [b] * len(keep)
    return SpikeTrains.from_unsorted(
        np.asarray(times), np.asarray(units, np.int64), n_inputs, duration, np.asarray(samples, np.int64), n_samples
    )


def _event_driven_lif(problem: Problem, config: StudyConfig) -> ReferenceSolution:
    p = problem.params
    spikes = lif_delta_event_driven(
        problem.spikes,
        problem.weights,
        tau_m=p["tau_m"],
        v_th=p["v_th"],
        v_reset=p["v_reset"],
        v_rest=p["v_rest"],
        t_ref=p["t_ref"],
        reset=problem.reset,
    )
    return ReferenceSolution(SpikeList(*spikes), None)


def _event_driven_if(problem: Problem, config: StudyConfig) -> ReferenceSolution:
    """The event-driven LIF solver with no leak (``tau_m = inf``: its decay factor ``e^{-Δt/inf}`` is exactly 1)
    is the exact non-leaky integrate-and-fire neuron: jumps summed at each input instant, threshold tested there."""
    p = problem.params
    spikes = lif_delta_event_driven(
        problem.spikes,
        problem.weights,
        tau_m=math.inf,
        v_th=p["v_th"],
        v_reset=p["v_reset"],
        v_rest=p["v_rest"],
        t_ref=0.0,
        reset=problem.reset,
    )
    return ReferenceSolution(SpikeList(*spikes), None)


def _event_driven_lee(problem: Problem, config: StudyConfig) -> ReferenceSolution:
    p = problem.params
    spikes = lee_wta_event_driven(
        problem.spikes,
        problem.weights,
        tau_mp=p["tau_mp"],
        T_ref=p["T_ref"],
        v_th=p["v_th"],
        mu=p.get("mu", 0.0),
        sigma=p.get("sigma", 0.0),
        circuit_size=int(p.get("circuit_size", 0)),
    )
    return ReferenceSolution(SpikeList(*spikes), None)


def superposed_exponentials(problem: Problem, times: np.ndarray, tau_m: float) -> np.ndarray:
    """``v(t) = v_rest + sum_{t_i <= t} w_i e^{-(t - t_i)/tau_m}``: the exact membrane of a leaky integrator
    with delta synapses, ``[len(times), B, N]`` (``tau_m = inf``: the non-leaky integrator's plain sum)."""
    p, sp = problem.params, problem.spikes
    out = np.full((times.size, sp.batch_size, problem.weights.shape[1]), float(p["v_rest"]))
    samples = sp.sample_indices()
    for b in range(sp.batch_size):
        sel = samples == b
        t_in, w = sp.times[sel], problem.weights[sp.units[sel]]  # [S], [S, N]
        age = times[:, None] - t_in[None, :]  # [T, S]
        kernel = np.where(age >= 0, np.exp(-np.maximum(age, 0) / tau_m), 0.0)
        out[:, b] += kernel @ w
    return out


def _analytic_li(problem: Problem, config: StudyConfig) -> ReferenceSolution:
    return ReferenceSolution(None, lambda times: superposed_exponentials(problem, times, problem.params["tau_m"]))


def _analytic_integrator(problem: Problem, config: StudyConfig) -> ReferenceSolution:
    return ReferenceSolution(None, lambda times: superposed_exponentials(problem, times, math.inf))


def brian2_fine_reference(problem: Problem, dt_fine: float) -> ReferenceSolution:
    """Brian2 (exact propagator, exact schedule) at ``dt_fine``, read through the same estimates as the
    mirror: its own error is that of the grid at ``dt_fine``."""
    n = int(round(problem.duration / dt_fine))
    trace = _simulate(
        problem.model,
        problem.spikes,
        problem.weights,
        dt=dt_fine,
        n_steps=n,
        discretization="exact",
        params=problem.params,
        synapse=problem.synapse,
        backend="brian2",
        reset=problem.reset,
    )
    lag = delivery_lag_steps(held=False, spikes=True)
    spikes = SpikeList(estimated_spike_times(trace.spike_times, dt_fine, lag), trace.spike_units, trace.spike_samples)
    values = trace.v if trace.v.ndim == 3 else trace.v[:, None]
    return ReferenceSolution(spikes, GridState(values, dt_fine, lag).at)


def _brian2_fine(problem: Problem, config: StudyConfig) -> ReferenceSolution:
    return brian2_fine_reference(problem, config.dts[-1] / config.fine_factor)


# -- NEST --------------------------------------------------------------------------------------


def nest_module():
    """NEST (nest-simulator), imported quietly; ``None`` where it is not installed."""
    os.environ.setdefault("PYNEST_QUIET", "1")
    try:
        import nest
    except ImportError:
        return None
    return nest


def nest_available() -> bool:
    return nest_module() is not None


#: NEST works in ms (and mV, pA, pF); biosnn in s
_MS = 1e3


def _tics_per_ms(resolution: float) -> int:
    """The coarsest decimal tic (NEST's unit of time) of which ``resolution`` (s) is a whole multiple."""
    for digits in range(3, 10):
        tics = resolution * _MS * 10**digits
        if abs(tics - round(tics)) < 1e-6 * tics:
            return 10**digits
    raise BiosnnInputError(f"NEST cannot represent a resolution of {resolution!r}s in whole nanoseconds")


def _nest_kernel(nest, resolution: float) -> None:
    """A fresh NEST kernel at ``resolution`` (s), quiet, its tic a whole divisor of the resolution."""
    nest.verbosity = nest.VerbosityLevel.ERROR  # no progress lines on stdout
    nest.ResetKernel()
    nest.set(tics_per_ms=_tics_per_ms(resolution), resolution=resolution * _MS, print_time=False)


def _nest_lif_params(params: Mapping, synapse: str) -> dict:
    """biosnn's LIF as NEST's ``iaf_psc_*``: v read as mV; ``C_m = tau_m`` (pF, ms) turns NEST's
    ``dV/dt = -(V - E_L)/tau_m + I/C_m`` into ``tau_m dv/dt = (v_rest - v) + I`` (``tests/test_nest.py``)."""
    out = dict(
        E_L=params["v_rest"],
        V_m=params["v_rest"],
        V_reset=params["v_reset"],
        V_th=params["v_th"],
        tau_m=params["tau_m"] * _MS,
        t_ref=params["t_ref"] * _MS,
    )
    if synapse == "current":
        out.update(C_m=params["tau_m"] * _MS, tau_syn_ex=params["tau_s"] * _MS, tau_syn_in=params["tau_s"] * _MS)
    else:
        out.update(C_m=1.0)
    return out


def nest_run(
    problem: Problem, model: str, resolution: float, *, precise: bool, input_times=None, delay_steps_nest: int = 1
):
    """Run ``problem`` (LIF, reset hard) in NEST's ``model``: returns ``(spikes, GridState)`` on NEST's own time
    axis (its spike times as recorded, ``V_m`` at every multiple of ``resolution``).

    Every input reaches the neuron at ``input_times`` (default: the problem's spike times) through the
    minimal delay of ``delay_steps_nest`` steps: the generator fires that much earlier. With ``precise``
    the generators keep their off-grid times (``precise_times``).
    """
    nest = nest_module()
    if nest is None:
        raise BiosnnInputError("NEST is not installed (pip install nest-simulator==3.10.0, Linux wheels)")
    if problem.reset != "hard":
        raise BiosnnInputError(f"NEST's iaf_psc_* models reset hard, not {problem.reset!r}")
    _nest_kernel(nest, resolution)
    sp, W = problem.spikes, problem.weights
    B, n_in, N = sp.batch_size, sp.n_units, W.shape[1]
    neurons = nest.Create(model, B * N, params=_nest_lif_params(problem.params, problem.synapse))
    delay = delay_steps_nest * resolution
    arrive = sp.times if input_times is None else np.asarray(input_times, np.float64)
    samples = sp.sample_indices()
    generators = nest.Create("spike_generator", B * n_in, params=dict(precise_times=precise))
    for b in range(B):
        for i in range(n_in):
            sel = (samples == b) & (sp.units == i)
            if not sel.any():
                continue
            gen = generators[b * n_in + i]
            gen.spike_times = [
                float((t - delay) * _MS) if precise else round((t - delay) * _MS, 9) for t in arrive[sel]
            ]
            targets = neurons[b * N : (b + 1) * N]
            nest.Connect(
                gen,
                targets,
                "all_to_all",  # weights [targets, sources]
                syn_spec=dict(weight=W[i].reshape(-1, 1), delay=delay * _MS),
            )
    meter = nest.Create("multimeter", params=dict(record_from=["V_m"], interval=resolution * _MS))
    recorder = nest.Create("spike_recorder")
    nest.Connect(meter, neurons)
    nest.Connect(neurons, recorder)
    nest.Simulate(problem.duration * _MS)
    first = neurons[0].global_id
    events = recorder.events
    ids = np.asarray(events["senders"], np.int64) - first
    spikes = SpikeList(np.asarray(events["times"], np.float64) / _MS, ids % N, ids // N)
    m = meter.events
    n_steps = int(round(problem.duration / resolution))
    values = np.full((n_steps + 1, B * N), np.nan)
    values[0] = problem.params["v_rest"]
    at = np.rint(np.asarray(m["times"]) / (resolution * _MS)).astype(np.int64)
    keep = at <= n_steps
    values[at[keep], (np.asarray(m["senders"]) - first)[keep]] = np.asarray(m["V_m"])[keep]
    return spikes, GridState(values.reshape(n_steps + 1, B, N), resolution, 0)


def _nest_precise(problem: Problem, config: StudyConfig) -> ReferenceSolution:
    """NEST's ``iaf_psc_exp_ps``: exact integration between events, spikes at their precise (off-grid)
    times (Hanuschkin, Kunkel, Helias, Morrison & Diesmann 2010, Front. Neuroinform. 4:113)."""
    spikes, state = nest_run(problem, "iaf_psc_exp_ps", config.dts[-1], precise=True)
    order = np.lexsort((spikes.units, spikes.samples, spikes.times))
    return ReferenceSolution(SpikeList(*(x[order] for x in spikes)), state.at)


@dataclass(frozen=True)
class Reference:
    name: str
    description: str
    solve: Callable[[Problem, StudyConfig], ReferenceSolution]
    needs_nest: bool = False


#: the ground truths of off-grid problems (a registry: name -> solver)
REFERENCES = {
    r.name: r
    for r in (
        Reference(
            "event_driven", "exact event-driven solution, no grid (biosnn.equivalence.event_driven)", _event_driven_lif
        ),
        Reference(
            "event_driven_lee",
            "exact event-driven solution of Lee et al.'s neurons and WTA circuits",
            _event_driven_lee,
        ),
        Reference(
            "event_driven_if",
            "exact event-driven solution without a leak (biosnn.equivalence.event_driven, tau_m = inf)",
            _event_driven_if,
        ),
        Reference(
            "nest_iaf_psc_exp_ps",
            "NEST iaf_psc_exp_ps: precise spike times, exact between events",
            _nest_precise,
            needs_nest=True,
        ),
        Reference("analytic", "exact superposition of exponentials (non-spiking leaky integrator)", _analytic_li),
        Reference(
            "analytic_integrator",
            "exact sum of the jumps arrived (non-spiking non-leaky integrator)",
            _analytic_integrator,
        ),
        Reference("brian2_fine", "Brian2, exact propagator, at the finest dt / FINE_FACTOR", _brian2_fine),
    )
}


@dataclass(frozen=True)
class OffGridCase:
    """One model and synapse kind with off-grid inputs, and its ground truth."""

    model: str
    synapse: str
    reference: str
    #: parameter overrides, each with its reason in the case table below
    overrides: Mapping[str, float] = field(default_factory=dict)


#: the off-grid ground truth of each model (a registry: model and synapse kind -> reference)
OFF_GRID_CASES = (
    OffGridCase("lif", "delta", "event_driven"),
    #: NEST's precise models need a refractory period of at least one of their steps: 2 ms, on every grid
    OffGridCase("lif", "current", "nest_iaf_psc_exp_ps", {"t_ref": 2e-3}),
    OffGridCase("plif", "delta", "brian2_fine"),
    OffGridCase("adaptive_lif", "delta", "brian2_fine"),
    OffGridCase("lee_refractory", "delta", "event_driven_lee"),
    OffGridCase("wta", "delta", "event_driven_lee"),
    OffGridCase("gamma_cascade", "cascade", "brian2_fine"),
    OffGridCase("li", "delta", "analytic"),
    OffGridCase("if", "delta", "event_driven_if"),
    OffGridCase("integrator", "delta", "analytic_integrator"),
)


def smooth_drive(spec, synapse: str) -> bool:
    """Whether input reaches the spiking variable through a synaptic state (a current, a cascade of buckets),
    so that it moves continuously and may touch the threshold between two steps; a delta synapse jumps it."""
    return bool(spec.synapse(synapse).state_variables) or spec.structure is Structure.CASCADE


def off_grid_expectations(spec, synapse: str) -> dict[str, Expectation]:
    """Declared orders of the off-grid measures: every one comes from the rounding of inputs to the grid, and
    for a smooth drive the missed excursions above threshold add an order-2 share of mismatched spikes."""
    out = {"state_error_mean": ROUNDING}
    if spec.threshold is not None:
        out.update(
            spike_time_error_median=ROUNDING,
            spike_time_error_mean=ROUNDING,
            mismatch_fraction=GRAZING if smooth_drive(spec, synapse) else ROUNDING,
            van_rossum=ROUNDING_VAN_ROSSUM,
        )
    return out


def make_problem(case: OffGridCase, config: StudyConfig, seed: int) -> Problem:
    """The case's batch of off-grid inputs and weights (drawn from the spec's validation weights), seeded."""
    spec = get_spec(case.model)
    rng = np.random.default_rng(seed)
    spikes = off_grid_inputs(
        rng, config.n_inputs, config.n_samples, config.duration, config.input_rate, margin=4 * config.dts[0]
    )
    low, high = spec.synapse(case.synapse).validation_weights
    weights = rng.uniform(low, high, (config.n_inputs, config.n_neurons))
    params = case_parameters(spec, DISCRETIZATIONS["exact"], config.dts[0], case.overrides)
    return Problem(case.model, case.synapse, spikes, weights, params, spec.default_reset, config.duration)


def run_mirror(problem: Problem, disc: Discretization, dt: float):
    """The mirror on ``problem`` at ``dt``: ``(trace, lag_steps)``."""
    n = int(round(problem.duration / dt))
    if disc.spikes_as_held_drive:
        drive = problem.spikes.to_raster(dt, n)
        # a one-step held drive X carries X dt / tau_m into a leaky membrane (tau_m dv/dt = ... + X) and X dt
        # into a non-leaky one (dv/dt = X, no tau_m): X = w tau_m / dt (or w / dt) is a delta synapse's jump w
        weights = problem.weights * problem.params.get("tau_m", 1.0) / dt
        trace = _simulate(
            problem.model,
            drive,
            weights,
            dt=dt,
            n_steps=n,
            discretization=disc.mirror,
            params=problem.params,
            synapse="held",
            reset=problem.reset,
        )
        return trace, delivery_lag_steps(held=True, spikes=True)
    trace = _simulate(
        problem.model,
        problem.spikes,
        problem.weights,
        dt=dt,
        n_steps=n,
        discretization=disc.mirror,
        params=problem.params,
        synapse=problem.synapse,
        reset=problem.reset,
    )
    return trace, delivery_lag_steps(held=False, spikes=True)


def off_grid_row(
    problem: Problem, truth: ReferenceSolution, disc: Discretization, dt: float, config: StudyConfig
) -> dict:
    """Every measure of the mirror at ``dt`` against the ground truth."""
    trace, lag = run_mirror(problem, disc, dt)
    row = dict(dt=dt, n_steps=int(trace.t.size))
    if truth.state is not None:
        times = _lagged_times(trace.t.size, dt, lag)
        valid = np.isfinite(times)
        values = trace.v if trace.v.ndim == 3 else trace.v[:, None]
        reference = np.full(values.shape, np.nan)
        reference[valid] = truth.state(times[valid])
        row["state_error_max"], row["state_error_mean"] = state_error(values, reference)
    if truth.spikes is not None:
        estimate = SpikeList(estimated_spike_times(trace.spike_times, dt, lag), trace.spike_units, trace.spike_samples)
        matched = match_spikes(truth.spikes, estimate, config.match_window)
        row.update(
            n_reference_spikes=matched.n_reference,
            n_spikes=int(estimate.times.size),
            matched=int(matched.errors.size),
            missed=matched.missed,
            extra=matched.extra,
            mismatch_fraction=matched.mismatch_fraction,
            spike_time_error_mean=float(matched.errors.mean()) if matched.errors.size else float("nan"),
            spike_time_error_median=float(np.median(matched.errors)) if matched.errors.size else float("nan"),
            spike_time_error_max=float(matched.errors.max()) if matched.errors.size else float("nan"),
            van_rossum=van_rossum_rms(truth.spikes, estimate, problem.n_trains, config.van_rossum_tau),
        )
    return row


# ---------------------------------------------------------------------------------------------
# the study
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyConfig:
    """Sizes of the study (SI). :data:`FULL` is the stored run; tests use smaller ones."""

    dts: tuple[float, ...] = DTS
    seed: int = 0
    n_samples: int = 64
    n_inputs: int = 20
    n_neurons: int = 4
    duration: float = 0.05
    input_rate: float = 40.0
    probe_duration: float = 0.02
    probe_segment: float = 5e-3
    fine_factor: int = FINE_FACTOR
    match_window: float = MATCH_WINDOW
    van_rossum_tau: float = VAN_ROSSUM_TAU
    models: tuple[str, ...] = ()  # () : every registered model

    def checked(self) -> StudyConfig:
        dts = check_dts(self.dts)
        for name in ("n_samples", "n_inputs", "n_neurons", "fine_factor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise BiosnnInputError(f"{name}: expected a positive integer, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise BiosnnInputError(f"seed: expected a non-negative integer, got {self.seed!r}")
        for name in ("duration", "input_rate", "probe_duration", "probe_segment", "match_window", "van_rossum_tau"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise BiosnnInputError(f"{name}: expected a positive number, got {value!r}")
        for name in ("duration", "probe_duration", "probe_segment"):
            steps = getattr(self, name) / dts[0]
            if abs(steps - round(steps)) > 1e-9 * steps:
                raise BiosnnInputError(
                    f"{name}={getattr(self, name)!r}s is not a whole number of the coarsest step {dts[0]!r}s"
                )
        if self.duration <= FIRST_INPUT + 4 * dts[0]:
            raise BiosnnInputError(f"duration={self.duration!r}s leaves no room for inputs")
        unknown = [m for m in self.models if m not in REGISTRY]
        if unknown:
            raise BiosnnInputError(f"unknown model(s) {', '.join(unknown)}; registered: {', '.join(sorted(REGISTRY))}")
        return replace(self, dts=dts, models=tuple(self.models) or tuple(REGISTRY))


FULL = StudyConfig()
#: a small study for tests and trials: a factor 8 in dt, 24 trials of 30 ms (a fifth of the spikes)
QUICK = StudyConfig(dts=DTS[1:5], n_samples=24, duration=0.03, probe_duration=0.01)


@dataclass(frozen=True)
class Series:
    """One line of the study: a (model, discretization, reference, scenario) over the dt ladder."""

    model: str
    discretization: str
    reference: str
    scenario: str  # "on_grid_subthreshold" | "off_grid"
    synapse: str
    variable: str
    expectations: Mapping[str, Expectation]
    rows: list


def planned_series(config: StudyConfig, *, nest: bool | None = None) -> list[tuple[str, Callable[[], list[Series]]]]:
    """Every block of the study, as ``(label, run)``: ``run()`` gives its :class:`Series` (one per discretization).
    Off-grid cases whose ground truth needs NEST are left out where NEST is not installed (``nest=False``)."""
    config = config.checked()
    nest = nest_available() if nest is None else nest
    plan = []
    for model in config.models:
        spec = get_spec(model)
        probe = SUBTHRESHOLD_PROBES.get(model)
        if probe is not None:
            for disc in DISCRETIZATIONS.values():
                if disc.applies_to(spec, probe.synapse):
                    plan.append((f"{model} {disc.name} on grid", _probe_series(probe, disc, config)))
        for case in OFF_GRID_CASES:
            if case.model != model or (REFERENCES[case.reference].needs_nest and not nest):
                continue
            # a time constant that shrinks with dt has no fixed continuous-time ground truth: on-grid probe only
            discs = [
                d
                for d in DISCRETIZATIONS.values()
                if d.applies_to(spec, case.synapse) and not d.time_constants_in_steps
            ]
            plan.append((f"{model} {case.synapse} off grid", _off_grid_series(case, discs, config)))
    return plan


def _probe_series(probe: SubthresholdProbe, disc: Discretization, config: StudyConfig):
    def run() -> list[Series]:
        rows = []
        for dt in config.dts:
            result = probe.run(disc, dt, config)
            err_max, err_mean = state_error(result.values, result.truth)
            rows.append(dict(dt=dt, state_error_max=err_max, state_error_mean=err_mean))
        return [
            Series(
                probe.model,
                disc.name,
                probe.reference,
                "on_grid_subthreshold",
                probe.synapse,
                probe.variable,
                {"state_error_max": probe_expectation(disc)},
                rows,
            )
        ]

    return run


def _off_grid_series(case: OffGridCase, discs: list[Discretization], config: StudyConfig):
    def run() -> list[Series]:
        spec = get_spec(case.model)
        problem = make_problem(case, config, config.seed)
        truth = REFERENCES[case.reference].solve(problem, config)
        out = []
        for disc in discs:
            rows = [off_grid_row(problem, truth, disc, dt, config) for dt in config.dts]
            expectations = {k: v for k, v in off_grid_expectations(spec, case.synapse).items() if k in rows[0]}
            out.append(
                Series(
                    case.model,
                    disc.name,
                    case.reference,
                    "off_grid",
                    case.synapse,
                    spec.main_variable,
                    expectations,
                    rows,
                )
            )
        return out

    return run


def series_orders(series: Series, dts) -> list[dict]:
    """The ``orders`` entries of one series: declared against measured, per measure."""
    out = []
    for measure, expectation in series.expectations.items():
        errors = [row.get(measure, float("nan")) for row in series.rows]
        entry = dict(
            model=series.model,
            discretization=series.discretization,
            reference=series.reference,
            scenario=series.scenario,
            synapse=series.synapse,
            measure=measure,
            declared_order=expectation.declared(),
            reason=expectation.reason,
        )
        if expectation.exact:
            worst = float(np.nanmax(errors))
            entry.update(
                measured_order=None,
                max_error=worst,
                tolerance=EXACT_TOLERANCE,
                within_tolerance=bool(worst < EXACT_TOLERANCE),
            )
        else:
            measured = fitted_order(dts, errors)
            tolerance = ORDER_TOLERANCES[measure].value
            entry.update(
                measured_order=measured,
                tolerance=tolerance,
                within_tolerance=bool(expectation.distance(measured) <= tolerance),
            )
        out.append(entry)
    return out


def series_rows(series: Series) -> list[dict]:
    return [
        dict(
            model=series.model,
            discretization=series.discretization,
            reference=series.reference,
            scenario=series.scenario,
            synapse=series.synapse,
            variable=series.variable,
            **row,
        )
        for row in series.rows
    ]


def run_study(config: StudyConfig = FULL, *, progress: bool = False, conventions: bool = True) -> dict:
    """The whole study: ``{"study", "config", "rows", "orders", "conventions", "references", "nest"}``."""
    from tqdm import tqdm

    config = config.checked()
    nest = nest_available()
    plan = planned_series(config, nest=nest)
    rows, orders = [], []
    for _label, run in tqdm(plan, desc="discretization study", unit="series", disable=not progress):
        for series in run():
            rows += series_rows(series)
            orders += series_orders(series, config.dts)
    out = dict(
        study="discretization",
        config=config_summary(config),
        nest=nest_version(),
        references={name: r.description for name, r in REFERENCES.items()},
        discretizations={name: d.description for name, d in DISCRETIZATIONS.items()},
        rows=rows,
        orders=orders,
    )
    if not nest:
        out["skipped"] = [
            f"{c.model} ({c.synapse}) against {c.reference}: NEST is not installed"
            for c in OFF_GRID_CASES
            if REFERENCES[c.reference].needs_nest
        ]
    if conventions:
        out["conventions"] = [
            example() for example in tqdm(CONVENTION_EXAMPLES, desc="convention examples", disable=not progress)
        ]
    return out


def config_summary(config: StudyConfig) -> dict:
    out = {k: getattr(config, k) for k in StudyConfig.__dataclass_fields__}
    out["dts"] = list(config.dts)
    out["models"] = list(config.models)
    out["fine_dt"] = config.dts[-1] / config.fine_factor
    return out


def nest_version() -> str | None:
    nest = nest_module()
    if nest is None:
        return None
    return str(getattr(nest, "__version__", None) or nest.build_info.get("version", "unknown"))


# ---------------------------------------------------------------------------------------------
# the cost of conventions, each on one small example
# ---------------------------------------------------------------------------------------------

#: the grid of the convention examples (s)
EXAMPLE_DT = 1e-4


def _lif_example_params(**overrides) -> dict:
    return get_spec("lif").resolve(overrides, EXAMPLE_DT)


def nest_label_example() -> dict:
    """NEST stamps a spike with the END of the step in which it is detected, Brian2 and biosnn with its START.

    One LIF with a current synapse, a few inputs; NEST's ``iaf_psc_exp`` receives every input when
    biosnn's exact schedule adds it (``tests/test_nest.py``), so both run the same dynamics on the same
    grid; ``iaf_psc_exp_ps`` gives the precise crossing times on that axis.
    """
    name = "nest_end_of_step_label"
    description = (
        "NEST labels a spike with the end of the step in which it is detected, Brian2/biosnn with the "
        "start: the same spikes differ by exactly one dt; the start label is early by up to dt, the end "
        "label late by up to dt, against NEST's precise (off-grid) crossing times"
    )
    if not nest_available():
        return dict(name=name, description=description, skipped="NEST is not installed")
    dt = EXAMPLE_DT
    params = _lif_example_params(tau_m=10e-3, tau_s=2e-3, t_ref=2e-3)
    labels = np.array([10, 14, 60, 63, 66, 130, 131]) * dt
    spikes = SpikeTrains(labels, np.zeros(labels.size, np.int64), 1, 0.02)
    weights = np.array([[4.0]])
    problem = Problem("lif", "current", spikes, weights, params, "hard", 0.02)
    trace = _simulate(
        "lif",
        spikes,
        weights,
        dt=dt,
        n_steps=200,
        discretization="exact",
        params=params,
        synapse="current",
        backend="brian2",
    )
    delivered = labels + 2 * dt  # biosnn adds an input of step k at the end of step k + 1
    grid, _ = nest_run(problem, "iaf_psc_exp", dt, precise=False, input_times=delivered)
    precise, _ = nest_run(problem, "iaf_psc_exp_ps", dt, precise=True, input_times=delivered)
    start = np.sort(trace.spike_times)
    end = np.sort(grid.times)
    crossing = np.sort(precise.times)
    same = start.size == end.size == crossing.size
    return dict(
        name=name,
        description=description,
        dt_s=dt,
        tau_m_s=params["tau_m"],
        tau_s_s=params["tau_s"],
        biosnn_labels_s=start.tolist(),
        nest_labels_s=end.tolist(),
        precise_crossings_s=crossing.tolist(),
        same_spike_count=bool(same),
        label_difference_in_dt=((end - start) / dt).tolist() if start.size == end.size else None,
        start_label_error_in_dt=((start - crossing) / dt).tolist() if same else None,
        end_label_error_in_dt=((end - crossing) / dt).tolist() if same else None,
        van_rossum_raw=van_rossum_distance(start, end),
        van_rossum_after_shift=van_rossum_distance(start + dt, end),
        van_rossum_tau_s=VAN_ROSSUM_TAU,
    )


def delay_rounding_example() -> dict:
    """An axonal delay that is not a whole number of steps: biosnn (and Brian2 given whole steps) rounds with
    ``timestep(d) = int(d/dt + 1e-3)``, Brian2's own rule is ``int(d/dt + 0.5)`` (nearest), a naive cast
    ``int(d/dt)``. One input spike, one LIF that fires on it; the spike's error against the exact delay."""
    from ..models.network import FeedForwardNet, LayerSpec
    from ..simulation import simulate_network

    dt = EXAMPLE_DT
    params = _lif_example_params()
    t_input = 1e-3
    entries = []
    for delay in (0.36e-3, 4.9e-3):
        spikes = SpikeTrains([t_input], [0], 1, 0.01)
        net = FeedForwardNet(1, (LayerSpec("lif", 1, params, "delta"),), (np.array([[1.5]]),), (np.array([delay]),))
        (layer,) = simulate_network(net, spikes, backend="torch", dt=dt, duration=0.01)
        label = float(layer.spike_steps[0] * dt)
        exact = t_input + delay
        estimate = float(estimated_spike_times(label, dt, delivery_lag_steps(held=False, spikes=True)))
        rules = {
            "biosnn_timestep": int(delay_steps(delay, dt)),
            "nearest": int(delay / dt + 0.5),
            "naive_cast": int(delay / dt),
        }
        entries.append(
            dict(
                delay_s=delay,
                delay_in_dt=delay / dt,
                steps=rules,
                error_s={k: v * dt - delay for k, v in rules.items()},
                exact_spike_s=exact,
                biosnn_estimate_s=estimate,
                biosnn_error_s=estimate - exact,
            )
        )
    return dict(
        name="delay_rounding",
        description=(
            "a delay between grid points is rounded to whole steps; the rule decides which: "
            "biosnn rounds down (Brian2's timestep(), as every other time), Brian2's own delay "
            "rule and NEST round to the nearest step, a naive int(d/dt) loses a whole step to "
            "float64 (4.9e-3/1e-4 = 48.99999999999999)"
        ),
        dt_s=dt,
        cases=entries,
    )


def input_slot_example() -> dict:
    """The order of input, threshold test and reset within a step (``biosnn/core/schedule.py``).

    biosnn's exact schedule adds an input spike before the threshold test (then the reset); Brian2's default
    slot adds it after the test, so the jump first decays for one step: an input crossing threshold by less
    than one step's decay is lost. One LIF, delta synapses, inputs on the grid, against the event-driven solution.
    """
    dt = EXAMPLE_DT
    params = _lif_example_params()
    decay = 1 - math.exp(-dt / params["tau_m"])
    v_th = params["v_th"]
    # first pair: crosses threshold by a quarter of one step's decay; second pair: by a wide margin
    first = 0.7 * v_th
    gap = 5e-4
    second = v_th * (1 + 0.25 * decay) - first * math.exp(-gap / params["tau_m"])
    times = np.array([1e-3, 1e-3 + gap, 6e-3, 6e-3 + gap])
    weights = np.array([first, second, first, 0.5 * v_th])
    spikes = SpikeTrains(times, np.arange(4), 4, 0.01)
    W = weights[:, None]
    exact = lif_delta_event_driven(
        spikes, W, tau_m=params["tau_m"], v_th=v_th, v_reset=params["v_reset"], v_rest=params["v_rest"]
    )
    labels = {}
    for schedule in ("exact", "brian2_default"):
        trace = _simulate(
            "lif",
            spikes,
            W,
            dt=dt,
            n_steps=100,
            discretization="exact",
            params=params,
            synapse="delta",
            schedule=schedule,
        )
        labels[schedule] = trace.spike_times.tolist()
    return dict(
        name="input_slot_and_reset_order",
        description=(
            "within a step biosnn's exact schedule runs input, threshold test, reset; Brian2's "
            "default slot runs threshold test, input, reset: a jump that crosses threshold by "
            "less than one step's decay is tested only after decaying and is lost"
        ),
        dt_s=dt,
        tau_m_s=params["tau_m"],
        one_step_decay=decay,
        overshoot_in_decays=0.25,
        event_driven_spikes_s=exact[0].tolist(),
        exact_schedule_labels_s=labels["exact"],
        brian2_default_labels_s=labels["brian2_default"],
        spikes_lost_by_default_slot=len(exact[0]) - len(labels["brian2_default"]),
        van_rossum_exact_schedule=van_rossum_distance(exact[0], np.asarray(labels["exact"]) - dt),
        van_rossum_default_slot=van_rossum_distance(exact[0], np.asarray(labels["brian2_default"]) - dt),
    )


CONVENTION_EXAMPLES = (nest_label_example, delay_rounding_example, input_slot_example)
