"""Adaptive LIF (Bellec et al. 2018): an analytic ground truth, the LIF reduction, hypothesis-drawn layers.

Under a constant held drive X (v_rest = v_reset = 0, hard reset) the membrane
after a reset at time 0 is ``v(s) = X (1 - e^{-s/tau_m})`` and the threshold
``v_th + beta a_k e^{-s/tau_a}``, with a_k the adaptation just after the k-th
spike. Both backends update the state exactly at grid points and test the
threshold there, so each interspike interval is ``ceil(s*/dt)`` steps where s*
solves the crossing (scipy's brentq), and a jumps by 1 at every spike: an
independent computation of every spike and of ``a`` at every step.
"""

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from tolerances import ROUNDING

import biosnn

from .equivalence import WEIGHTS, equivalence_case, equivalence_property, make_inputs

MODEL = "adaptive_lif"
#: a crossing within this fraction of a step from a grid point is ill-conditioned for ceil()
GRID_MARGIN = 1e-6
#: exact propagators in both backends: a(t_n) agrees with the closed form to rounding
STATE_TOLERANCE = 1e-12


def analytic_spike_steps(X, tau_m, tau_a, beta, dt, n_steps):
    """Spike labels (start of the step of each crossing) and a(t_n) for a constant held drive."""
    labels, a_after, a_now = [], [], 0.0
    a_trace = np.zeros(n_steps)
    step = 0
    while True:

        def margin(s):
            return X * (1 - math.exp(-s / tau_m)) - (1.0 + beta * a_now * math.exp(-s / tau_a))

        if margin(60 * tau_m) <= 0:  # never crosses again
            break
        crossing = brentq(margin, 0.0, 60 * tau_m, xtol=1e-15, rtol=ROUNDING)
        k = crossing / dt
        if abs(k - round(k)) < GRID_MARGIN:
            pytest.skip("a crossing falls on a grid point (ill-conditioned case)")
        isi = math.ceil(k)
        label = step + isi - 1
        if label >= n_steps - 1:
            break
        for n in range(step, label + 1):
            a_trace[n] = a_now * math.exp(-(n - step) * dt / tau_a)
        a_now = a_now * math.exp(-isi * dt / tau_a) + 1.0
        labels.append(label)
        a_after.append(a_now)
        step = label + 1
    for n in range(step, n_steps):
        a_trace[n] = a_now * math.exp(-(n - step) * dt / tau_a)
    return np.array(labels), a_trace


@pytest.mark.parametrize(
    "X, tau_m, tau_a, beta, dt",
    [
        (1.6, 10e-3, 50e-3, 0.3, 1e-4),
        (3.0, 20e-3, 200e-3, 0.4, 2.5e-4),
        (1.3, 5e-3, 30e-3, 0.1, 5e-5),
    ],
)
@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_constant_drive_spikes_and_adaptation_follow_the_closed_form(backend, X, tau_m, tau_a, beta, dt):
    n_steps = int(round(0.3 / dt))
    labels, a_trace = analytic_spike_steps(X, tau_m, tau_a, beta, dt, n_steps)
    assert labels.size > 5 and np.any(np.diff(np.diff(labels)) > 0)  # the intervals lengthen: adaptation acts
    trace = biosnn.simulate(
        MODEL,
        np.full((n_steps, 1), X),
        np.eye(1),
        backend=backend,
        dt=dt,
        duration=n_steps * dt,
        synapse="held",
        reset="hard",
        params={"tau_m": tau_m, "tau_a": tau_a, "beta": beta},
    )
    assert trace.spike_steps.tolist() == labels.tolist()
    np.testing.assert_allclose(trace.states["a"][:, 0], a_trace, rtol=0, atol=STATE_TOLERANCE)


@pytest.mark.parametrize("synapse", ["delta", "current", "held"])
@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_no_adaptation_is_exactly_lif(backend, synapse):
    """beta = 0: the threshold never moves, so the layer is the LIF, spike for spike and value for value."""
    rng = np.random.default_rng(4)
    inputs, duration = make_inputs(rng, synapse, 6, 500, 1e-4, 2)
    weights = 1.5 * rng.uniform(*WEIGHTS[synapse], size=(6, 4))
    common = dict(dt=1e-4, duration=duration, synapse=synapse, reset="subtract")
    lif_params = {"tau_m": 8e-3, "t_ref": 1e-3, "tau_s": 3e-3}
    adaptive = biosnn.simulate(MODEL, inputs, weights, backend=backend, params={**lif_params, "beta": 0.0}, **common)
    lif = biosnn.simulate("lif", inputs, weights, backend=backend, params=lif_params, **common)
    assert adaptive.spike_keys() == lif.spike_keys() and len(lif.spike_times) > 10
    np.testing.assert_array_equal(adaptive.v, lif.v)


@pytest.mark.parametrize("synapse", ["delta", "current", "held"])
def test_adaptive_lif_brian_equals_torch_property(synapse):
    """Hypothesis-drawn LIF layers (taus, dts, thresholds, resets, refractory periods) with adaptation."""
    equivalence_property(MODEL, equivalence_case(synapse, adaptation=True), max_examples=3, synapse=synapse)()
