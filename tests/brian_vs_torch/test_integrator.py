"""Non-leaky integrator (``integrator``, NIR's ``I``): Brian2 == torch on every synapse kind, and the analytic
solutions.

No leak and no threshold: delta inputs sum exactly and stay, a held drive ``X`` gives ``v(t) = v_rest + X t``
for as long as it lasts (far past any threshold: nothing fires or resets), a current-synapse spike deposits
``w tau_s (1 - e^{-n dt/tau_s})`` after n steps. The references are written here, independently of both backends.
"""

import numpy as np
import pytest
from tolerances import CLOSED_FORM, ROUNDING

import biosnn
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import V_TOLERANCE

DT = 1e-4


@pytest.mark.parametrize("discretization", ["exact", "euler"])
@pytest.mark.parametrize("synapse", ["delta", "current", "held"])
def test_integrator_brian_equals_torch(synapse, discretization):
    rng = np.random.default_rng(12)
    duration = 0.05
    if synapse == "held":
        inputs = rng.uniform(0, 1, size=(int(round(duration / DT)), 4))
        weights = rng.uniform(-50, 100, size=(4, 3))
    else:
        inputs = poisson_spike_trains(rng, 4, 300.0, duration, DT, 2)
        weights = rng.uniform(-0.2, 0.6, size=(4, 3)) * (200.0 if synapse == "current" else 1.0)
    kw = dict(
        dt=DT, duration=duration, synapse=synapse, discretization=discretization, params={"tau_s": 3e-3, "v_rest": 0.1}
    )
    ref = biosnn.simulate("integrator", inputs, weights, backend="brian2", **kw)
    mirror = biosnn.simulate("integrator", inputs, weights, backend="torch", **kw)
    assert ref.spike_times.size == mirror.spike_times.size == 0
    assert np.abs(ref.v).max() > 2.0  # far beyond the IF's threshold of 1: nothing resets it
    assert np.abs(ref.v - mirror.v).max() <= V_TOLERANCE


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_delta_inputs_sum_exactly_and_never_reset(backend):
    """Each spike adds its weight and nothing decays or resets: v is the running sum of the weights."""
    times = np.array([3, 10, 10, 25, 40, 70]) * DT
    units = np.array([0, 1, 2, 0, 1, 2])
    weights = np.array([[0.75], [1.5], [-0.25]])
    spikes = biosnn.SpikeTrains(times, units, 3, 100 * DT)
    trace = biosnn.simulate(
        "integrator", spikes, weights, backend=backend, dt=DT, duration=100 * DT, params={"v_rest": 0.5}
    )
    expected = np.full(100, 0.5)
    for t, u in zip(times, units):
        expected[int(round(t / DT)) + 2 :] += weights[u, 0]  # one step of latency (test_li.py), then held
    np.testing.assert_array_equal(trace.v[:, 0], expected)  # dyadic weights: exact in float64
    assert expected.max() > 3.0


@pytest.mark.parametrize("discretization", ["exact", "euler"])
@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_held_drive_integrates_linearly(backend, discretization):
    """v(t_n) = v_rest + X n dt at every step (no leak, no threshold: the ramp passes 1 and goes on)."""
    x, v_rest, n_steps = 7.0, 0.25, 3000
    trace = biosnn.simulate(
        "integrator",
        np.ones((n_steps, 1)),
        np.array([[x]]),
        backend=backend,
        dt=DT,
        duration=n_steps * DT,
        synapse="held",
        discretization=discretization,
        params={"v_rest": v_rest},
    )
    n = np.arange(n_steps)
    np.testing.assert_allclose(trace.v[:, 0], v_rest + x * DT * n, rtol=0, atol=CLOSED_FORM)
    assert trace.v[-1, 0] > 2.0


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_current_synapse_deposits_w_tau_s(backend):
    """One spike of weight w: v(t) = w tau_s (1 - e^{-t/tau_s}) (exact propagator of the pair, no leak)."""
    tau_s, w = 4e-3, 600.0
    spikes = biosnn.SpikeTrains([2 * DT], [0], 1, 200 * DT)
    trace = biosnn.simulate(
        "integrator",
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
    assert trace.v[-1, 0] > 2.0


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_network_readout_is_the_final_membrane(backend):
    """An IF layer read out by an integrator: the readout is v after the last step, the sum of the weights of the
    spikes that reached it (each IF spike counted from the IF traces of the same run)."""
    rng = np.random.default_rng(5)
    inputs = poisson_spike_trains(rng, 6, 400.0, 0.04, DT, 3)
    w_hidden = rng.uniform(0.0, 0.5, size=(6, 4))
    w_out = np.array([[0.25, -0.5], [0.5, 0.125], [-0.25, 1.0], [1.0, 0.75]])
    net = biosnn.FeedForwardNet(6, (biosnn.LayerSpec("if", 4), biosnn.LayerSpec("integrator", 2)), (w_hidden, w_out))
    assert net.readout == "final_membrane"
    layers = biosnn.simulate_network(net, inputs, backend=backend, dt=DT, duration=0.04)
    hidden, readout = layers
    counts = np.zeros((3, 4))
    n_steps = int(round(0.04 / DT))  # a spike of step n arrives in step n + 1: the last delivered is T - 2's
    for step, u, b in zip(hidden.spike_steps, hidden.spike_units, hidden.spike_samples):
        if step <= n_steps - 2:
            counts[b, u] += 1
    np.testing.assert_allclose(readout.final_v, counts @ w_out, rtol=0, atol=CLOSED_FORM)
    assert counts.sum() > 10
