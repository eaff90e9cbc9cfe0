"""Leaky-integrator readout: Brian2 == torch; the analytic impulse response."""

import numpy as np
import pytest

import biosnn
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import V_TOLERANCE

#: repeated multiplication by exp(-dt/tau) vs exp(-n dt/tau): relative rounding ~n eps, n <= 100
EXPONENTIAL_RTOL = 1e-12


@pytest.mark.parametrize("synapse", ["delta", "current"])
def test_li_brian_equals_torch(synapse):
    rng = np.random.default_rng(4)
    spikes = poisson_spike_trains(rng, 5, 200.0, 0.05, 1e-4, 2)
    weights = rng.uniform(-1, 1, size=(5, 3))
    kw = dict(dt=1e-4, duration=0.05, synapse=synapse, params={"tau_m": 0.01, "tau_s": 0.004})
    ref = biosnn.simulate("li", spikes, weights, backend="brian2", **kw)
    mirror = biosnn.simulate("li", spikes, weights, backend="torch", **kw)
    assert ref.spike_times.size == mirror.spike_times.size == 0
    assert np.abs(ref.v - mirror.v).max() <= V_TOLERANCE
    assert np.abs(ref.v).max() > 0.5


def test_li_impulse_response_is_exponential():
    dt, tau = 1e-4, 5e-3
    spikes = biosnn.SpikeTrains([2 * dt], [0], 1, 100 * dt)
    for backend in ("brian2", "torch"):
        trace = biosnn.simulate(
            "li", spikes, np.array([[0.7]]), backend=backend, dt=dt, duration=100 * dt, params={"tau_m": tau}
        )
        n = np.arange(4, 100)  # delivered during step 3, visible from t_4 (one-step latency)
        np.testing.assert_allclose(trace.v[4:, 0], 0.7 * np.exp(-(n - 4) * dt / tau), rtol=EXPONENTIAL_RTOL)
