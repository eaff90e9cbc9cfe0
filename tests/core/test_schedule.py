"""The time-grid conventions of biosnn/core/schedule.py, checked against Brian2 itself."""

import numpy as np
import pytest
from brian2.core.functions import timestep as brian2_timestep
from tolerances import ROUNDING

import biosnn
from biosnn.core import schedule


def test_timestep_equals_brian2(rng):
    dt = 1e-4
    t = np.concatenate([rng.uniform(0, 1, 1000), np.arange(1000) * dt, np.arange(1000) * dt - 0.9e-3 * dt])
    t = t[t >= 0]
    np.testing.assert_array_equal(schedule.timestep(t, dt), brian2_timestep(t, dt))


def test_event_just_below_grid_point_rounds_up():
    dt = 1e-4
    assert schedule.timestep(5 * dt - 0.5e-3 * dt, dt) == 5
    assert schedule.timestep(5 * dt - 2e-3 * dt, dt) == 4


def test_refractory_conversion():
    dt = 1e-4
    assert schedule.refractory_steps(2e-3, dt) == 20
    assert schedule.brian2_refractory(2e-3, dt) == pytest.approx(21 * dt)
    assert schedule.refractory_steps(0.0, dt) == 0


def test_one_hop_costs_one_step_and_spikes_are_labelled_at_step_start():
    """A suprathreshold jump from an input at step k: output labelled step k + 1 (both backends)."""
    dt = 1e-4
    spikes = biosnn.SpikeTrains([3 * dt, 10.3 * dt], [0, 0], 1, 20 * dt)
    for backend in ("brian2", "torch"):
        trace = biosnn.simulate("lif", spikes, np.array([[1.5]]), backend=backend, dt=dt, duration=20 * dt)
        assert trace.spike_steps.tolist() == [4, 11]
        np.testing.assert_allclose(trace.spike_times, [4 * dt, 11 * dt], rtol=0, atol=ROUNDING * dt)


def test_refractory_period_clamps_exactly_R_steps():
    """After a spike labelled n, inputs in steps n+1..n+R are discarded; n+R+1 counts."""
    dt, R = 1e-4, 5
    # spike at input step 2 -> output label 3; later inputs arrive at steps 3+j+1
    for j, expect_spike in [(R - 1, False), (R, True)]:
        spikes = biosnn.SpikeTrains([2 * dt, (3 + j) * dt], [0, 0], 1, 30 * dt)
        for backend in ("brian2", "torch"):
            trace = biosnn.simulate(
                "lif", spikes, np.array([[1.5]]), backend=backend, dt=dt, duration=30 * dt, params={"t_ref": R * dt}
            )
            assert (trace.spike_steps.size == 2) == expect_spike, (backend, j)


def test_trace_v_is_recorded_at_step_start():
    dt = 1e-4
    spikes = biosnn.SpikeTrains([0.0], [0], 1, 5 * dt)
    for backend in ("brian2", "torch"):
        trace = biosnn.simulate(
            "lif", spikes, np.array([[0.5]]), backend=backend, dt=dt, duration=5 * dt, params={"tau_m": 10e-3}
        )
        # input at step 0 is added during step 1, visible from t_2 on
        assert trace.v[0, 0] == 0.0 and trace.v[1, 0] == 0.0
        assert trace.v[2, 0] == pytest.approx(0.5, abs=ROUNDING)
        assert trace.v[3, 0] == pytest.approx(0.5 * np.exp(-dt / 10e-3), abs=ROUNDING)


def test_grid_description_names_the_conventions():
    grid = schedule.TimeGrid.from_duration(1e-4, 0.01)
    d = grid.describe()
    assert d["pathway_slot"] == "before_thresholds" and d["input_latency_steps"] == 1 and d["n_steps"] == 100


#: refractory periods and delays as a user types them: 0.0, 0.1, ..., 29.9 ms (several are n dt - 1e-16 s)
TYPED_MS = np.round(np.arange(300) * 0.1, 1)


def test_typed_times_round_to_the_intended_steps():
    dt = 1e-4
    typed = TYPED_MS * 1e-3
    assert np.count_nonzero(np.floor(typed / dt) != np.arange(300)) > 0  # the float quotient's trap exists
    for to_steps in (schedule.timestep, schedule.delay_steps):
        assert np.asarray(to_steps(typed, dt)).tolist() == list(range(300))
    assert [schedule.refractory_steps(t, dt) for t in typed] == list(range(300))


def test_every_typed_delay_arrives_at_its_step_in_both_backends():
    """One input spike at step 0 through per-synapse delays 0.0 .. 29.9 ms to 300 neurons that fire at once:
    neuron k fires at step 1 + k in both backends (the hop's one step plus k)."""
    dt, n = 1e-4, TYPED_MS.size
    net = biosnn.FeedForwardNet(
        1, (biosnn.LayerSpec("lif", n, {"tau_m": 10e-3}),), (np.full((1, n), 1.5),), (TYPED_MS[None, :] * 1e-3,)
    )
    spikes = biosnn.SpikeTrains([0.0], [0], 1, 0.035)
    for backend in ("brian2", "torch"):
        layer = biosnn.simulate_network(net, spikes, backend=backend, dt=dt, duration=0.035)[0]
        assert layer.spike_steps[np.argsort(layer.spike_units)].tolist() == list(range(1, n + 1)), backend


@pytest.mark.parametrize("t_ref_ms", [0.3, 0.7, 4.9])
def test_typed_refractory_periods_clamp_their_steps_in_both_backends(t_ref_ms):
    """R = t_ref / dt steps (3, 7, 49; each a float quotient just below the integer): an input R steps after
    the spike's step is discarded, R + 1 steps after it counts."""
    dt = 1e-4
    R = int(round(t_ref_ms * 10))
    for j, expect_spike in [(R - 1, False), (R, True)]:
        spikes = biosnn.SpikeTrains([2 * dt, (3 + j) * dt], [0, 0], 1, (R + 10) * dt)
        for backend in ("brian2", "torch"):
            trace = biosnn.simulate(
                "lif",
                spikes,
                np.array([[1.5]]),
                backend=backend,
                dt=dt,
                duration=(R + 10) * dt,
                params={"t_ref": t_ref_ms * 1e-3},
            )
            assert (trace.spike_steps.size == 2) == expect_spike, (backend, j)
