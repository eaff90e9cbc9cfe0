"""Non-leaky integrate-and-fire (``if``): Brian2 == torch on every synapse kind, and the analytic solutions.

No leak: a held drive X gives ``v(t) = v_rest + X t`` exactly until the first threshold crossing at
``t = (v_th - v_rest) / X`` (to a step), delta inputs sum exactly, and a current-synapse spike deposits
``w tau_s (1 - e^{-n dt/tau_s})`` after n steps. The references are written here, independently of both
backends.
"""

import numpy as np
import pytest
from tolerances import CLOSED_FORM, ROUNDING

import biosnn
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import V_TOLERANCE

DT = 1e-4


@pytest.mark.parametrize("discretization", ["exact", "euler"])
@pytest.mark.parametrize("reset", ["hard", "subtract"])
@pytest.mark.parametrize("synapse", ["delta", "current", "held"])
def test_if_brian_equals_torch(synapse, reset, discretization):
    rng = np.random.default_rng(11)
    duration = 0.05
    if synapse == "held":
        inputs = rng.uniform(0, 1, size=(int(round(duration / DT)), 4))
        weights = rng.uniform(-50, 300, size=(4, 3))
    else:
        inputs = poisson_spike_trains(rng, 4, 300.0, duration, DT, 2)
        weights = rng.uniform(-0.2, 0.6, size=(4, 3)) * (200.0 if synapse == "current" else 1.0)
    kw = dict(
        dt=DT,
        duration=duration,
        synapse=synapse,
        reset=reset,
        discretization=discretization,
        params={"tau_s": 3e-3, "v_rest": 0.1},
    )
    ref = biosnn.simulate("if", inputs, weights, backend="brian2", **kw)
    mirror = biosnn.simulate("if", inputs, weights, backend="torch", **kw)
    assert ref.spike_times.size > 0
    np.testing.assert_array_equal(ref.spike_units, mirror.spike_units)
    np.testing.assert_array_equal(ref.spike_times, mirror.spike_times)
    assert np.abs(ref.v - mirror.v).max() <= V_TOLERANCE


@pytest.mark.parametrize("discretization", ["exact", "euler"])
@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_held_drive_integrates_linearly_to_the_threshold(backend, discretization):
    """v(t_n) = v_rest + X n dt (no leak), first spike at the first step with v >= v_th: t ~ (v_th - v_rest) / X."""
    x, v_rest, n_steps = 7.0, 0.25, 3000
    trace = biosnn.simulate(
        "if",
        np.ones((n_steps, 1)),
        np.array([[x]]),
        backend=backend,
        dt=DT,
        duration=n_steps * DT,
        synapse="held",
        discretization=discretization,
        params={"v_rest": v_rest},
    )
    first = int(np.ceil((1.0 - v_rest) / (x * DT)))  # (v_th - v_rest) / X, in steps (1071.4 -> 1072)
    n = np.arange(first)  # v at the start of each step, up to the crossing
    np.testing.assert_allclose(trace.v[:first, 0], v_rest + x * DT * n, rtol=0, atol=CLOSED_FORM)
    spike_steps = np.rint(trace.spike_times / DT).astype(int)
    assert spike_steps[0] == first - 1  # step first-1 ends at v_rest + X first dt >= v_th: fires
    assert trace.v[first, 0] == 0.0  # ... and the hard reset is what step first records
    assert abs(trace.spike_times[0] - (1.0 - v_rest) / x) <= DT
    # hard reset to 0, then the same ramp from 0: the next crossing after 1 / (X dt) steps
    assert spike_steps[1] - spike_steps[0] == int(np.ceil(1.0 / (x * DT)))


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_delta_inputs_sum_exactly(backend):
    """Each spike adds its weight and nothing decays: v is the running sum of the weights (below threshold)."""
    times = np.array([3, 10, 10, 25, 40, 70]) * DT
    units = np.array([0, 1, 2, 0, 1, 2])
    weights = np.array([[0.125], [0.25], [-0.0625]])
    spikes = biosnn.SpikeTrains(times, units, 3, 100 * DT)
    trace = biosnn.simulate("if", spikes, weights, backend=backend, dt=DT, duration=100 * DT)
    expected = np.zeros(100)
    for t, u in zip(times, units):
        expected[int(round(t / DT)) + 2 :] += weights[u, 0]  # one step of latency (test_li.py), then held
    np.testing.assert_array_equal(trace.v[:, 0], expected)  # dyadic weights: exact in float64
    assert trace.spike_times.size == 0


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_current_synapse_deposits_w_tau_s(backend):
    """One spike of weight w: v(t) = w tau_s (1 - e^{-t/tau_s}) (exact propagator of the pair, no leak)."""
    tau_s, w = 4e-3, 30.0
    spikes = biosnn.SpikeTrains([2 * DT], [0], 1, 200 * DT)
    trace = biosnn.simulate(
        "if",
        spikes,
        np.array([[w]]),
        backend=backend,
        dt=DT,
        duration=200 * DT,
        synapse="current",
        params={"tau_s": tau_s},
    )
    n = np.arange(4, 200) - 4  # I is w from t_4 (test_li.py's latency), v moves
    np.testing.assert_allclose(trace.v[4:, 0], w * tau_s * -np.expm1(-n * DT / tau_s), rtol=CLOSED_FORM, atol=ROUNDING)
    assert trace.spike_times.size == 0


@pytest.mark.parametrize("backend", ["torch", "brian2"])
def test_at_most_one_spike_per_step_and_the_subtractive_backlog_carries_over(backend):
    """One jump of 3.5 thresholds with a subtractive reset: spikes in three consecutive steps, v = 0.5 left
    (the threshold is tested once per step; without a leak the backlog does not decay)."""
    spikes = biosnn.SpikeTrains([0.0], [0], 1, 10e-4)
    trace = biosnn.simulate(
        "if", spikes, np.array([[3.5]]), backend=backend, dt=1e-4, duration=10e-4, synapse="delta", reset="subtract"
    )
    first = int(trace.spike_steps[0])
    assert trace.spike_steps.tolist() == [first, first + 1, first + 2]
    assert trace.v[-1, 0] == pytest.approx(0.5, abs=CLOSED_FORM)
