"""Orders of convergence against exact solutions (the pattern of diffrax's ``test_ode_order``).

For a quantity with a closed form, the error of each discretization is measured
at a fixed time over a ladder of dt; the slope of log(error) against log(dt)
is the order. Declared: ``euler`` is order 1; ``exact`` is exact (error at
rounding level at every dt). Both backends are checked. The grid against the
event-driven solution (spike timing, order 1) is ``tests/studies/test_lee_convergence.py``.
"""

import math

import numpy as np
import pytest

import biosnn
from biosnn.studies.discretization import fitted_order

#: fitted slope within this distance of the declared order (the ladder spans a factor 8 in dt; measured
#: slopes 0.97-0.98, the second-order term still visible at the coarsest dt)
ORDER_TOLERANCE = 0.1
#: the exact propagator is exact up to rounding accumulated over <= 1e4 steps of O(1) values
EXACT_TOLERANCE = 1e-12
DTS = (1e-3, 5e-4, 2.5e-4, 1.25e-4)
T_END = 0.02


def _held(model, backend, discretization, dt, X, params):
    n = int(round(T_END / dt))
    trace = biosnn.simulate(
        model,
        np.full((n + 1, 1), X),
        np.eye(1),
        backend=backend,
        dt=dt,
        duration=(n + 1) * dt,
        synapse="held",
        discretization=discretization,
        params=params,
    )
    return trace, n


def membrane_error(backend, discretization, dt):
    """LIF under a constant subthreshold drive: v(t) = X (1 - e^{-t/tau_m})."""
    X, tau = 0.8, 5e-3
    trace, n = _held("lif", backend, discretization, dt, X, {"tau_m": tau})
    return abs(trace.v[n, 0] - X * (1 - math.exp(-T_END / tau)))


def current_error(backend, discretization, dt):
    """LIF with a current synapse after one input spike of weight w in step 0: it enters I at the
    end of step 1 (exact schedule), so from t_2 on v(t_2 + s) = w a (e^{-b s} - e^{-a s}) / (a - b)
    with a = 1/tau_m, b = 1/tau_s (subthreshold)."""
    tau_m, tau_s, w = 5e-3, 2e-3, 1.0
    n = int(round(T_END / dt))
    spikes = biosnn.SpikeTrains([0.0], [0], 1, (n + 3) * dt)
    trace = biosnn.simulate(
        "lif",
        spikes,
        np.array([[w]]),
        backend=backend,
        dt=dt,
        duration=(n + 3) * dt,
        synapse="current",
        discretization=discretization,
        params={"tau_m": tau_m, "tau_s": tau_s},
    )
    a, b = 1 / tau_m, 1 / tau_s
    exact = w * a * (math.exp(-b * T_END) - math.exp(-a * T_END)) / (a - b)
    return abs(trace.v[n + 2, 0] - exact)


def adaptation_error(backend, discretization, dt):
    """Adaptive LIF, one spike at t = 0 (a strong held drive for one step, then none): a(t) = e^{-t/tau_a}."""
    tau_a = 5e-3
    n = int(round(T_END / dt))
    drive = np.zeros((n + 2, 1))
    drive[0] = 1e4  # crosses threshold within the first step
    trace = biosnn.simulate(
        "adaptive_lif",
        drive,
        np.eye(1),
        backend=backend,
        dt=dt,
        duration=(n + 2) * dt,
        synapse="held",
        discretization=discretization,
        params={"tau_m": 5e-3, "tau_a": tau_a, "t_ref": 0.0},
    )
    assert trace.spike_steps.tolist() == [0]
    return abs(trace.states["a"][n + 1, 0] - math.exp(-T_END / tau_a))


QUANTITIES = {"membrane": membrane_error, "current_synapse": current_error, "adaptation": adaptation_error}


@pytest.mark.parametrize("backend", ["torch", "brian2"])
@pytest.mark.parametrize("quantity", sorted(QUANTITIES))
def test_euler_is_order_one(quantity, backend):
    errors = [QUANTITIES[quantity](backend, "euler", dt) for dt in DTS]
    assert all(e > 0 for e in errors)
    assert abs(fitted_order(DTS, errors) - 1.0) < ORDER_TOLERANCE, errors


@pytest.mark.parametrize("backend", ["torch", "brian2"])
@pytest.mark.parametrize("quantity", sorted(QUANTITIES))
def test_exact_discretization_is_exact(quantity, backend):
    for dt in DTS:
        assert QUANTITIES[quantity](backend, "exact", dt) < EXACT_TOLERANCE, dt
