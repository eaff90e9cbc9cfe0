"""Shared inputs for the Lee et al. (2016) equivalence tests."""

import numpy as np
from hypothesis import strategies as st

from biosnn.data.synthetic import poisson_spike_trains


def lee_case(seed=3, n_in=8, n=6, batch=2, n_steps=800, dt=1e-4, low=-0.3, high=0.8, **params):
    rng = np.random.default_rng(seed)
    spikes = poisson_spike_trains(rng, n_in, 200.0, n_steps * dt, dt, batch)
    weights = rng.uniform(low, high, size=(n_in, n))
    base = {"v_th": rng.uniform(0.5, 1.3, n), "tau_mp": 15e-3, "T_ref": 2e-3}
    base.update(params)
    return spikes, weights, dict(dt=dt, duration=n_steps * dt, params=base)


@st.composite
def lee_property_case(draw, lateral: bool):
    dt = draw(st.sampled_from([5e-5, 1e-4, 2.5e-4]))
    n = draw(st.sampled_from([2, 4, 6]))
    params = {"tau_mp": draw(st.floats(2e-3, 50e-3)), "T_ref": draw(st.floats(1e-4, 8e-3))}
    if lateral:
        params.update(
            mu=draw(st.floats(-1.0, 0.0)),
            sigma=draw(st.floats(0.1, 1.0)),
            circuit_size=float(draw(st.sampled_from([0, n // 2, n]))),
        )
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n_steps = draw(st.integers(20, 300))
    spikes = poisson_spike_trains(rng, draw(st.integers(1, 6)), 300.0, n_steps * dt, dt, draw(st.integers(1, 3)))
    params["v_th"] = rng.uniform(0.3, 2.0, n)
    weights = rng.uniform(-0.5, 1.0, size=(spikes.n_units, n))
    if draw(st.booleans()):  # simultaneous crossings: an input that takes every neuron over threshold at once
        weights[0] = 2.5 * params["v_th"].max()
    schedule = draw(st.sampled_from(["exact", "brian2_default"]))
    return spikes, weights, dict(dt=dt, duration=n_steps * dt, params=params, schedule=schedule)
