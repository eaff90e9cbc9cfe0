"""Dynamic-weight refractory LIF (Lee et al. 2016): Brian2 == torch, and ground truths."""

import numpy as np
import pytest

import biosnn
from biosnn.equivalence.event_driven import lee_wta_event_driven

from .equivalence import assert_equivalent, equivalence_property, run_both
from .lee_cases import lee_case, lee_property_case

MODEL = "lee_refractory"
#: hand-computed expectations vs simulated values: tau_mp = 1000 s makes the leak move v by less
#: than 1e-6 over these tests, which the expectations neglect
LEAK_TOLERANCE = 1e-6
#: two simulations of the same arithmetic in another model: float64 rounding only
VALUE_TOLERANCE = 1e-12


@pytest.mark.parametrize("schedule", ["exact", "brian2_default"])
@pytest.mark.parametrize("T_ref", [0.5e-3, 2e-3, 6e-3])
def test_lee_refractory_brian_equals_torch(T_ref, schedule):
    spikes, weights, kw = lee_case(T_ref=T_ref)
    ref, mirror = run_both(MODEL, spikes, weights, synapse="delta", reset="subtract", schedule=schedule, **kw)
    assert assert_equivalent(ref, mirror).n_spikes_a > 20


def test_lee_refractory_brian_equals_torch_property():
    equivalence_property(MODEL, lee_property_case(lateral=False), max_examples=10, synapse="delta", reset="subtract")()


def test_dynamic_weight_suppresses_input_right_after_a_spike():
    """An input arriving s after the neuron's spike is scaled by (s / T_ref)^2."""
    dt, T_ref = 1e-4, 2e-3
    # input 0 makes the neuron fire at label 2; input 1 arrives (step 2 + k + 1)
    for k in (3, 10, 30):
        spikes = biosnn.SpikeTrains([1 * dt, (2 + k) * dt], [0, 1], 2, 60 * dt)
        weights = np.array([[1.2], [0.5]])
        for backend in ("brian2", "torch"):
            trace = biosnn.simulate(
                MODEL,
                spikes,
                weights,
                backend=backend,
                dt=dt,
                duration=60 * dt,
                params={"tau_mp": 1e3, "T_ref": T_ref, "v_th": 1.0},
            )
            elapsed = (k + 1) * dt  # from the spike's instant to the input's
            expected = 0.2 + 0.5 * min(1.0, (elapsed / T_ref) ** 2)
            assert trace.spike_steps.tolist() == [2]
            assert trace.v[2 + k + 2, 0] == pytest.approx(expected, abs=LEAK_TOLERANCE), (backend, k)


def test_lower_bound_is_minus_threshold():
    dt = 1e-4
    spikes = biosnn.SpikeTrains([dt], [0], 1, 10 * dt)
    for backend in ("brian2", "torch"):
        trace = biosnn.simulate(
            MODEL,
            spikes,
            np.array([[-5.0, -0.3]]),
            backend=backend,
            dt=dt,
            duration=10 * dt,
            params={"v_th": np.array([0.8, 1.0]), "tau_mp": 1e3},
        )
        np.testing.assert_allclose(trace.v[3], [-0.8, -0.3], atol=LEAK_TOLERANCE)


def test_small_T_ref_reduces_to_lif_with_subtract_reset():
    """T_ref < dt: every input arrives at least dt after a trigger, w_dyn = 1; with
    excitatory weights the floor never binds, so the layer is LIF (subtract reset)."""
    spikes, weights, kw = lee_case(low=0.0, high=0.6, T_ref=0.4e-4)
    kw["params"]["v_th"] = 1.0
    for backend in ("brian2", "torch"):
        lee = biosnn.simulate(MODEL, spikes, weights, backend=backend, **kw)
        lif = biosnn.simulate(
            "lif",
            spikes,
            weights,
            backend=backend,
            dt=kw["dt"],
            duration=kw["duration"],
            params={"tau_m": kw["params"]["tau_mp"], "v_th": 1.0},
            reset="subtract",
        )
        assert lee.spike_keys() == lif.spike_keys() and len(lee.spike_times) > 20
        np.testing.assert_allclose(lee.v, lif.v, atol=VALUE_TOLERANCE, rtol=0)


def test_on_grid_brian2_equals_event_driven():
    """On-grid inputs: Brian2 labels are the event-driven spike times plus one dt, exactly."""
    rng = np.random.default_rng(1)
    dt, dur = 1e-4, 0.15
    times = rng.choice(int(dur / dt), size=300, replace=False) * dt
    spikes = biosnn.SpikeTrains.from_unsorted(times, rng.integers(0, 12, 300), 12, dur)
    weights = rng.uniform(-0.2, 0.5, size=(12, 6))
    params = dict(tau_mp=0.02, T_ref=2e-3, v_th=rng.uniform(0.6, 1.2, 6))
    ev_t, ev_u, _ = lee_wta_event_driven(spikes, weights, **params)
    trace = biosnn.simulate(MODEL, spikes, weights, backend="brian2", dt=dt, duration=dur, params=params)
    assert ev_t.size > 50
    assert sorted(zip(ev_u.tolist(), (np.rint(ev_t / dt) + 1).astype(int).tolist())) == sorted(
        zip(trace.spike_units.tolist(), trace.spike_steps.tolist())
    )
