"""Winner-take-all circuits (Lee et al. 2016): Brian2 == torch, reductions, simultaneity."""

import numpy as np
import pytest

import biosnn
from biosnn.equivalence.event_driven import lee_wta_event_driven

from .equivalence import assert_equivalent, equivalence_property, run_both
from .lee_cases import lee_case, lee_property_case

MODEL = "wta"
#: hand-computed expectations vs simulated values: tau_mp = 1000 s makes the leak move v by less
#: than 1e-6 over the test, which the expectation neglects
LEAK_TOLERANCE = 1e-6


@pytest.mark.parametrize("schedule", ["exact", "brian2_default"])
@pytest.mark.parametrize("mu, circuit_size", [(-0.4, 0.0), (-1.0, 0.0), (-0.7, 2.0), (-0.2, 3.0)])
def test_wta_brian_equals_torch(mu, circuit_size, schedule):
    spikes, weights, kw = lee_case(mu=mu, sigma=0.5, circuit_size=circuit_size)
    ref, mirror = run_both(MODEL, spikes, weights, synapse="delta", reset="subtract", schedule=schedule, **kw)
    assert assert_equivalent(ref, mirror).n_spikes_a > 20


def test_wta_brian_equals_torch_property():
    equivalence_property(MODEL, lee_property_case(lateral=True), max_examples=10, synapse="delta", reset="subtract")()


def test_mu_zero_is_exactly_independent_neurons():
    spikes, weights, kw = lee_case(mu=0.0, sigma=0.5)
    for backend in ("brian2", "torch"):
        wta = biosnn.simulate(MODEL, spikes, weights, backend=backend, **kw)
        params = {k: v for k, v in kw["params"].items() if k not in ("mu", "sigma")}
        alone = biosnn.simulate(
            "lee_refractory", spikes, weights, backend=backend, dt=kw["dt"], duration=kw["duration"], params=params
        )
        assert wta.spike_keys() == alone.spike_keys()
        np.testing.assert_array_equal(wta.v, alone.v)


def test_inhibition_reduces_firing_monotonically_in_mu():
    spikes, weights, kw = lee_case(low=0.0, high=0.8)
    counts = []
    for mu in (0.0, -0.3, -0.6, -1.0):
        kw["params"].update(mu=mu, sigma=0.5)
        counts.append(biosnn.simulate(MODEL, spikes, weights, backend="torch", **kw).spike_times.size)
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_simultaneous_crossings_all_fire_and_inhibit_each_other(backend):
    """Two neurons of one circuit cross in the same step: both fire (labels equal),
    each receives sigma*mu*V_th from the other before its own reset, the third
    neuron receives it twice, and all three enter refractoriness at that step."""
    dt, mu, sigma = 1e-4, -0.5, 0.8
    v_th = np.array([1.0, 0.8, 1.0])
    spikes = biosnn.SpikeTrains([dt], [0], 1, 10 * dt)
    weights = np.array([[1.5, 1.2, 0.6]])
    trace = biosnn.simulate(
        MODEL,
        spikes,
        weights,
        backend=backend,
        dt=dt,
        duration=10 * dt,
        params=dict(v_th=v_th, mu=mu, sigma=sigma, tau_mp=1e3, T_ref=2e-3),
    )
    assert sorted(zip(trace.spike_steps.tolist(), trace.spike_units.tolist())) == [(2, 0), (2, 1)]
    inhibition = sigma * mu * v_th
    expected = np.maximum(np.array([1.5, 1.2, 0.6]) + inhibition * np.array([1, 1, 2]), -v_th)
    expected[:2] -= v_th[:2]
    np.testing.assert_allclose(trace.v[3], expected, atol=LEAK_TOLERANCE)


def test_on_grid_brian2_equals_event_driven():
    rng = np.random.default_rng(1)
    dt, dur = 1e-4, 0.15
    times = rng.choice(int(dur / dt), size=300, replace=False) * dt
    spikes = biosnn.SpikeTrains.from_unsorted(times, rng.integers(0, 12, 300), 12, dur)
    weights = rng.uniform(-0.2, 0.5, size=(12, 6))
    for mu, size in ((-0.4, 0), (-1.0, 3)):
        params = dict(tau_mp=0.02, T_ref=2e-3, v_th=rng.uniform(0.8, 1.2, 6), mu=mu, sigma=0.5)
        ev_t, ev_u, _ = lee_wta_event_driven(spikes, weights, circuit_size=size, **params)
        trace = biosnn.simulate(
            MODEL,
            spikes,
            weights,
            backend="brian2",
            dt=dt,
            duration=dur,
            params={**params, "circuit_size": float(size)},
        )
        assert ev_t.size > 30
        assert sorted(zip(ev_u.tolist(), (np.rint(ev_t / dt) + 1).astype(int).tolist())) == sorted(
            zip(trace.spike_units.tolist(), trace.spike_steps.tolist())
        )


def test_circuit_size_must_divide_layer():
    spikes, weights, kw = lee_case(mu=-0.4, circuit_size=4.0)
    with pytest.raises(biosnn.BiosnnInputError, match="does not divide"):
        biosnn.simulate(MODEL, spikes, weights, backend="torch", **kw)


def test_the_lower_bound_holds_after_the_reset():
    """Four neurons of a circuit cross together (mu = -1, sigma = 0.5): each receives three inhibitions
    (-1.5 V_th) and its reset (-V_th); the bound -V_th must hold after the reset too, or an input in
    the next step that fires in the event-driven solution would not fire on the grid."""
    dt, n = 1e-4, 4
    spikes = biosnn.SpikeTrains([dt, 3 * dt], [0, 1], 2, 20 * dt)  # together, then a second input two steps later
    weights = np.array([[1.2] * n, [2.05] * n])
    params = dict(v_th=np.ones(n), mu=-1.0, sigma=0.5, tau_mp=1e3, T_ref=1e-6)  # T_ref < dt: full weight next step
    ev_t, ev_u, _ = lee_wta_event_driven(spikes, weights, **params)
    expected = sorted(zip(ev_u.tolist(), (np.rint(ev_t / dt).astype(int) + 1).tolist()))
    assert len(expected) == 2 * n  # the second input fires every neuron again from the bound -V_th
    for backend in ("brian2", "torch"):
        trace = biosnn.simulate(MODEL, spikes, weights, backend=backend, dt=dt, duration=20 * dt, params=params)
        assert sorted(zip(trace.spike_units.tolist(), trace.spike_steps.tolist())) == expected, backend
        assert trace.v.min() >= -1.0 - LEAK_TOLERANCE
