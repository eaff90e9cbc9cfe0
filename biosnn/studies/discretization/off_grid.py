"""Scenario 2: spiking responses to off-grid inputs, against continuous-time ground truth (event-driven
solvers, NEST's precise-spike neuron, exact superposition, fine-dt Brian2).

Part of the discretization study (:mod:`biosnn.studies.discretization`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ...core.errors import BiosnnInputError
from ...core.schedule import whole_steps
from ...core.spec import Structure
from ...core.spikes import SpikeTrains
from ...equivalence.event_driven import lee_wta_event_driven, lif_delta_event_driven
from ...models import get_spec
from .discretizations import DISCRETIZATIONS, case_parameters
from .expectations import GRAZING, ROUNDING, ROUNDING_VAN_ROSSUM
from .grid import GridState, delivery_lag_steps, estimated_spike_times
from .measures import FIRST_INPUT, INPUT_DEAD_TIME, SpikeList, match_spikes, state_error, van_rossum_rms
from .probes import _lagged_times, _simulate

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ...core.spec import ModelSpec
    from ...core.trace import Trace
    from .config import StudyConfig
    from .discretizations import Discretization
    from .expectations import Expectation


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


def nest_module() -> Any:
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
    ``dV/dt = -(V - E_L)/tau_m + I/C_m`` into ``tau_m dv/dt = (v_rest - v) + I`` (``tests/equivalence/test_nest.py``)."""
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
    problem: Problem,
    model: str,
    resolution: float,
    *,
    precise: bool,
    input_times: np.ndarray | Sequence[float] | None = None,
    delay_steps_nest: int = 1,
) -> tuple[SpikeList, GridState]:
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


def smooth_drive(spec: ModelSpec, synapse: str) -> bool:
    """Whether input reaches the spiking variable through a synaptic state (a current, a cascade of buckets),
    so that it moves continuously and may touch the threshold between two steps; a delta synapse jumps it."""
    return bool(spec.synapse(synapse).state_variables) or spec.structure is Structure.CASCADE


def off_grid_expectations(spec: ModelSpec, synapse: str) -> dict[str, Expectation]:
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


def run_mirror(problem: Problem, disc: Discretization, dt: float) -> tuple[Trace, int]:
    """The mirror on ``problem`` at ``dt``: ``(trace, lag_steps)``."""
    n = whole_steps(problem.duration, dt, "duration")
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
