"""Scenario 1: subthreshold responses to inputs on the grid, against closed forms and the 120-digit oracle.

Part of the discretization study (:mod:`biosnn.studies.discretization`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...core.schedule import whole_steps
from ...core.spikes import SpikeTrains
from ...equivalence.oracle import cascade_impulse_response, current_synapse_response, exponential_decay
from ...models import get_spec
from .discretizations import case_parameters
from .expectations import EULER, EXACT, STEPS
from .grid import delivery_lag_steps

if TYPE_CHECKING:
    from .config import StudyConfig
    from .discretizations import Discretization
    from .expectations import Expectation


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
    from ...simulation import simulate

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


def held_drive_response(
    switch_times: np.ndarray, levels: np.ndarray, tau: float, v_rest: float, times: np.ndarray
) -> np.ndarray:
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
        n = whole_steps(config.probe_duration, dt, "probe_duration")
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
        n = whole_steps(config.probe_duration, dt, "probe_duration")
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
        n = whole_steps(config.probe_duration, dt, "probe_duration")
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
        n = whole_steps(config.probe_duration, dt, "probe_duration")
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
        n = whole_steps(config.probe_duration, dt, "probe_duration")
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
