"""The Brian2 reference against an independent event-driven solver (docs/time_grid.md).

On-grid delta inputs: biosnn's exact schedule reproduces the event-driven
solution spike for spike with labels exactly one dt later; Brian2's default
slot loses spikes whose jump crosses threshold by less than the one-step decay.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

import biosnn
from biosnn.equivalence.event_driven import lif_delta_event_driven

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "validation"))
from brian2_schedule_exactness import measure, on_grid_inputs  # noqa: E402


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_design_measurement_exact_schedule_equals_event_driven(seed):
    result = measure(seed)
    assert result["exact_schedule_matches_event_driven"]
    assert result["brian2_exact_schedule_spikes"] == result["event_driven_spikes"]
    assert result["brian2_default_spikes"] < result["event_driven_spikes"]


@pytest.mark.parametrize("reset", ["hard", "subtract"])
@pytest.mark.parametrize("t_ref", [0.0, 1e-3, 2.5e-3])
def test_event_driven_matches_both_backends(reset, t_ref):
    rng = np.random.default_rng(42)
    dt, duration = 1e-4, 0.15
    spikes = on_grid_inputs(rng, 12, 300, duration, dt)
    weights = rng.uniform(0.0, 0.45, size=(12, 4))
    ev_t, ev_u, _ = lif_delta_event_driven(spikes, weights, tau_m=15e-3, t_ref=t_ref, reset=reset)
    assert ev_t.size > 10
    expected = sorted(zip(ev_u.tolist(), (np.rint(ev_t / dt).astype(int) + 1).tolist()))
    for backend in ("brian2", "torch"):
        trace = biosnn.simulate(
            "lif",
            spikes,
            weights,
            backend=backend,
            dt=dt,
            duration=duration,
            params={"tau_m": 15e-3, "t_ref": t_ref},
            reset=reset,
        )
        assert sorted(zip(trace.spike_units.tolist(), trace.spike_steps.tolist())) == expected


def test_default_schedule_torch_mirror_loses_the_same_spikes():
    rng = np.random.default_rng(3)
    spikes = on_grid_inputs(rng, 20, 400, 0.2, 1e-4)
    weights = rng.uniform(0.0, 0.5, size=(20, 5))
    traces = [
        biosnn.simulate("lif", spikes, weights, backend=b, dt=1e-4, duration=0.2, schedule="brian2_default")
        for b in ("brian2", "torch")
    ]
    assert traces[0].spike_keys() == traces[1].spike_keys()


@pytest.mark.parametrize("reset", ["hard", "subtract"])
def test_physiological_units_match_the_event_driven_solution(reset):
    """v_rest = v_reset = -70, v_th = -50 (mV as dimensionless numbers): the subtractive reset removes the
    distance from reset to threshold (20), so the neuron keeps its rest and never runs away."""
    rng = np.random.default_rng(5)
    dt, duration = 1e-4, 0.2
    spikes = on_grid_inputs(rng, 10, 400, duration, dt)
    weights = rng.uniform(0.0, 9.0, size=(10, 3))
    params = dict(tau_m=15e-3, v_rest=-70.0, v_reset=-70.0, v_th=-50.0)
    ev_t, ev_u, _ = lif_delta_event_driven(spikes, weights, reset=reset, **params)
    assert ev_t.size > 20
    expected = sorted(zip(ev_u.tolist(), (np.rint(ev_t / dt).astype(int) + 1).tolist()))
    for backend in ("brian2", "torch"):
        trace = biosnn.simulate(
            "lif", spikes, weights, backend=backend, dt=dt, duration=duration, params=params, reset=reset
        )
        assert sorted(zip(trace.spike_units.tolist(), trace.spike_steps.tolist())) == expected, backend
        assert -80.0 < trace.v.min() and trace.v.max() < -50.0 + 9.0 * 10
