"""The reference's state updaters: exact propagators in high precision, Euler derived once per structure."""

import math

import brian2
import numpy as np
import pytest
from brian2.stateupdaters.base import StateUpdateMethod
from tolerances import CLOSED_FORM, ROUNDING

from biosnn.brian import integration
from biosnn.brian.targets import brian_target
from biosnn.models import get_spec

#: the same exact solution evaluated by two float64 codes (closed form vs propagator literals)
TWO_CODES = 1e-13


def _run(method, tau_m, tau_s, dt, synapse="current", refractory=0.0, n_steps=200):
    """v of one LIF neuron from v = 0.3, I = 1.2 (current synapse) after n_steps of dt."""
    spec = get_spec("lif")
    params = spec.resolve({"tau_m": tau_m, "tau_s": tau_s}, dt)
    namespace = {"tau_m": tau_m * brian2.second, "tau_s": tau_s * brian2.second, "v_rest": 0.0}
    with brian_target("numpy"):
        brian2.defaultclock.dt = dt * brian2.second
        group = brian2.NeuronGroup(
            1,
            spec.brian_equations(synapse, params),
            threshold="v > 1e9",
            reset="v = 0",
            refractory=refractory * brian2.ms,
            method=method,
            namespace=namespace,
        )
        group.v = 0.3
        if synapse == "current":
            group.I = 1.2
        brian2.Network(group).run(n_steps * dt * brian2.second, namespace={})
        return float(group.v[0]), group.state_updater.abstract_code


def test_high_precision_propagator_equals_brian2s_symbolic_one_where_that_is_well_conditioned():
    ours, code = _run(integration.state_updater("exact", 1e-4), 10e-3, 3e-3, 1e-4)
    theirs, _ = _run("exact", 10e-3, 3e-3, 1e-4)
    assert abs(ours - theirs) < TWO_CODES and "exp" not in code  # numbers, not a closed form


def test_the_step_is_part_of_the_updater_identity():
    """Brian2 caches derived code by equations and parameter values, not by the clock's dt: propagators
    derived for one dt must not be reused at another (the regression this guards against)."""
    tau = 5e-3
    for dt in (2.5e-4, 5e-5):
        v, _ = _run(integration.state_updater("exact", dt), tau, 3e-3, dt, synapse="delta", n_steps=40)
        assert v == pytest.approx(0.3 * math.exp(-40 * dt / tau), rel=CLOSED_FORM)
    assert integration.state_updater("exact", 1e-4) == integration.state_updater("exact", 1e-4)
    assert integration.state_updater("exact", 1e-4) != integration.state_updater("exact", 2e-4)


def test_refractory_neurons_get_the_clamped_propagator():
    """``(unless refractory)``: two propagators, selected by not_refractory; the clamped one holds v."""
    _, code = _run(integration.state_updater("exact", 1e-4), 10e-3, 3e-3, 1e-4, refractory=1.0)
    update = next(line for line in code.splitlines() if line.startswith("_v = "))
    assert update.endswith("+ (1 - int(not_refractory))*(1.0*v)") and update.startswith("_v = int(not_refractory)*(")
    # the current is never clamped: tau_s dI/dt = bias - I, I' = e^{-dt/tau_s} I + tau_s (1 - e^{-dt/tau_s}) bias/tau_s
    assert (
        next(line for line in code.splitlines() if line.startswith("_I = "))
        == f"_I = {math.exp(-1e-4 / 3e-3)!r}*I + {-3e-3 * math.expm1(-1e-4 / 3e-3)!r}*(bias/tau_s)"
    )


def test_euler_is_derived_once_per_structure(monkeypatch):
    calls = []
    original = StateUpdateMethod.stateupdaters["euler"]
    monkeypatch.setitem(StateUpdateMethod.stateupdaters, "euler", lambda *args: calls.append(args) or original(*args))
    monkeypatch.setattr(integration, "_CACHE", {})
    first = _run(integration.state_updater("euler", 1e-4), 12e-3, 3.5e-3, 1e-4)
    second = _run(integration.state_updater("euler", 1e-4), 13e-3, 4.5e-3, 1e-4)
    assert len(calls) == 1 and first[1] == second[1]
    _run(integration.state_updater("euler", 1e-4), 12e-3, 3.5e-3, 1e-4, synapse="delta")  # other equations
    assert len(calls) == 2
    theirs, _ = _run("euler", 13e-3, 4.5e-3, 1e-4)
    assert second[0] == theirs


def test_propagators_against_closed_forms():
    """P and Phi of a 2x2 system with equal rates (a Jordan block) against their closed forms."""
    import sympy as sp

    a, dt = 1 / 7e-3, 1e-4
    P, Phi = integration.propagators(sp.Matrix([[-a, 0], [a, -a]]), dt)
    e = np.exp(-a * dt)
    np.testing.assert_allclose(np.array(P.tolist(), dtype=float), [[e, 0], [a * dt * e, e]], rtol=ROUNDING)
    np.testing.assert_allclose(float(Phi[0, 0]), -np.expm1(-a * dt) / a, rtol=ROUNDING)
