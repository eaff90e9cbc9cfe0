"""LIF: Brian2 reference == torch mirror beyond the registry's cases: hypothesis-drawn layers, the
limit formula for equal time constants, Brian2's default schedule, the Euler discretization."""

import numpy as np
import pytest

from .equivalence import WEIGHTS, assert_equivalent, equivalence_case, equivalence_property, make_inputs, run_both

MODEL = "lif"
SYNAPSES = ["delta", "current", "held"]


def grid_case(synapse, reset, t_ref, seed=7, n_steps=600, dt=1e-4):
    rng = np.random.default_rng(seed)
    inputs, duration = make_inputs(rng, synapse, 6, n_steps, dt, batch=2)
    low, high = WEIGHTS[synapse]
    weights = rng.uniform(low, high, size=(6, 4))
    params = {"tau_m": 12e-3, "t_ref": t_ref, "tau_s": 4e-3}
    return inputs, weights, dict(dt=dt, duration=duration, params=params, synapse=synapse, reset=reset)


@pytest.mark.parametrize("synapse", SYNAPSES)
def test_lif_brian_equals_torch_property(synapse):
    """Hypothesis-drawn taus, dts, thresholds, weights, spike trains, resets, refractory periods."""
    equivalence_property(MODEL, equivalence_case(synapse), max_examples=8, synapse=synapse)()


@pytest.mark.parametrize("reset", ["hard", "subtract"])
@pytest.mark.parametrize("t_ref", [0.0, 2e-3], ids=["noref", "ref2ms"])
def test_lif_equal_time_constants_use_the_limit_formula(t_ref, reset):
    """tau_s == tau_m: Brian2's closed form divides by zero; the spec substitutes one
    symbol and the backend writes the refractory clamp explicitly (see network.py)."""
    inputs, weights, kw = grid_case("current", reset, t_ref)
    kw["params"] = {"tau_m": 8e-3, "tau_s": 8e-3, "t_ref": t_ref}
    ref, mirror = run_both(MODEL, inputs, weights, **kw)
    assert np.all(np.isfinite(ref.v))
    assert_equivalent(ref, mirror)


@pytest.mark.parametrize("reset", ["hard", "subtract"])
def test_lif_brian2_default_schedule_is_mirrored(reset):
    """The lossy default slot is reproduced too (for the discretization study)."""
    inputs, weights, kw = grid_case("delta", reset, 1e-3, seed=3)
    ref, mirror = run_both(MODEL, inputs, weights, schedule="brian2_default", **kw)
    assert_equivalent(ref, mirror)


def test_lif_euler_brian_equals_torch():
    """Brian2 method='euler' and the mirror's euler step are the same update."""
    for synapse in SYNAPSES:
        inputs, weights, kw = grid_case(synapse, "hard", 0.0)
        ref, mirror = run_both(MODEL, inputs, weights, discretization="euler", **kw)
        assert_equivalent(ref, mirror)
