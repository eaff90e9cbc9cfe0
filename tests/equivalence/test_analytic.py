"""LIF under constant input: the analytic firing period, in both backends.

With held drive X > v_th, v_rest = v_reset = 0, no refractoriness:
v(t) = X (1 - exp(-t/tau)) crosses v_th at T* = tau ln(X / (X - v_th)).
Under the exact discretization v(t_n) is the exact solution at grid points and
the threshold is tested at the end of each step, so every interspike interval
is ceil(T*/dt) steps and the first spike is labelled ceil(T*/dt) - 1 (start of
its step; biosnn/core/schedule.py).
"""

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import biosnn

#: a crossing within this fraction of a step from a grid point is ill-conditioned for ceil()
GRID_MARGIN = 1e-6


def _run(backend, X, tau, dt, n_steps):
    drive = np.full((n_steps, 1), X)
    return biosnn.simulate(
        "lif", drive, np.eye(1), backend=backend, dt=dt, duration=n_steps * dt, params={"tau_m": tau}, synapse="held"
    )


@settings(max_examples=10, deadline=None)
@given(X=st.floats(1.05, 5.0), tau=st.floats(2e-3, 40e-3), dt=st.sampled_from([2.5e-5, 1e-4, 2.5e-4]))
def test_constant_input_period(X, tau, dt):
    period = tau * math.log(X / (X - 1.0))
    k = math.ceil(period / dt)
    assume(abs(period / dt - round(period / dt)) >= GRID_MARGIN)  # on a grid point, ceil is ill-conditioned
    n_steps = 4 * k + 5
    for backend in ("brian2", "torch"):
        trace = _run(backend, X, tau, dt, n_steps)
        steps = trace.spike_steps
        assert steps[0] == k - 1
        assert np.all(np.diff(steps) == k)
        isi = np.diff(trace.spike_times)
        assert np.all(np.abs(isi - period) < dt)


def test_period_error_is_bounded_by_dt():
    """The grid can only delay a crossing to the end of its step: 0 <= ISI - T* < dt."""
    X, tau = 1.7, 20e-3
    period = tau * math.log(X / (X - 1.0))
    for dt in (1e-3, 1e-4, 1e-5):
        trace = _run("torch", X, tau, dt, int(3.5 * period / dt))
        error = np.diff(trace.spike_times).mean() - period
        assert 0 <= error < dt
