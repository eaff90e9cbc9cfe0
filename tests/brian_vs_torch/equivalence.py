"""Helpers shared by the Brian2-vs-torch tests (the contract: ``docs/contract.md``)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import biosnn
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import V_TOLERANCE, compare_traces

#: relative separations of near-equal time constants drawn by the strategies
NEAR_EQUAL = (1e-12, -1e-9, 1e-6, 9e-5, -1.1e-4, 1.5e-4, 1e-3)

#: weight ranges that make neurons fire at moderate rates, per synapse kind
WEIGHTS = {"delta": (-0.3, 0.7), "current": (-1.0, 3.0), "held": (-0.2, 0.7)}


def make_inputs(rng, synapse, n_in, n_steps, dt, batch, rate=200.0):
    duration = n_steps * dt
    if synapse == "held":
        return rng.uniform(0.0, 1.0, size=(n_steps, batch, n_in)), duration
    rate = min(rate, 0.5 / dt)
    return poisson_spike_trains(rng, n_in, rate, duration, dt, batch), duration


def run_both(
    model,
    inputs,
    weights,
    *,
    dt,
    duration,
    params,
    synapse,
    reset,
    target="numpy",
    schedule="exact",
    discretization="exact",
    dtype="float64",
):
    common = dict(
        dt=dt,
        duration=duration,
        params=params,
        synapse=synapse,
        reset=reset,
        schedule=schedule,
        discretization=discretization,
    )
    ref = biosnn.simulate(model, inputs, weights, backend="brian2", target=target, **common)
    mirror = biosnn.simulate(model, inputs, weights, backend="torch", dtype=dtype, **common)
    return ref, mirror


def assert_equivalent(ref, mirror, tolerance=V_TOLERANCE):
    agreement = compare_traces(ref, mirror)
    assert agreement.spikes_identical, f"spike mismatch, first at {agreement.first_mismatch}: {agreement}"
    assert agreement.max_abs_dv <= tolerance, agreement
    for name, d in agreement.max_abs_dstate.items():
        assert d <= tolerance, (name, agreement)
    return agreement


@st.composite
def equivalence_case(draw, synapse, adaptation: bool = False):
    """A random layer, inputs and parameters (hypothesis draws the seed of the inputs);
    ``adaptation`` adds the adaptive LIF's tau_a and beta."""
    dt = draw(st.sampled_from([2.5e-5, 1e-4, 2.5e-4, 5e-4]))
    tau_m = draw(st.floats(min_value=max(2e-3, 3 * dt), max_value=50e-3))
    params = {
        "tau_m": tau_m,
        "t_ref": draw(st.sampled_from([0.0, dt, 1.3e-3, 3e-3])),
        "v_th": draw(st.floats(0.5, 2.0)),
    }
    if synapse == "current":
        # equal, near-equal (the edges where closed forms lose digits) or anywhere else
        params["tau_s"] = draw(
            st.one_of(
                st.just(tau_m), st.floats(0.5e-3, 20e-3), st.sampled_from(NEAR_EQUAL).map(lambda eps: tau_m * (1 + eps))
            )
        )
    if adaptation:
        params["tau_a"] = draw(st.floats(max(2e-3, 3 * dt), 300e-3))
        params["beta"] = draw(st.floats(0.0, 1.0))
    reset = draw(st.sampled_from(["hard", "subtract"]))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n_in, n, batch = draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    n_steps = draw(st.integers(20, 300))
    inputs, duration = make_inputs(rng, synapse, n_in, n_steps, dt, batch)
    low, high = WEIGHTS[synapse]
    weights = rng.uniform(low, high, size=(n_in, n)) * params["v_th"]
    return inputs, weights, dict(dt=dt, duration=duration, params=params, reset=reset)


def equivalence_property(model, cases, *, max_examples, **fixed):
    """A hypothesis check: every drawn ``(inputs, weights, keywords)`` case agrees in both backends.

    ``fixed``: keywords of ``run_both`` common to all cases (e.g. ``synapse``)."""

    @settings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=cases)
    def check(case):
        inputs, weights, keywords = case
        ref, mirror = run_both(model, inputs, weights, **fixed, **keywords)
        assert_equivalent(ref, mirror)

    return check
