"""The cached state updaters derive exactly Brian2's own code, once per model structure."""

import brian2
import pytest
from brian2.stateupdaters.base import StateUpdateMethod

from biosnn.brian import integration
from biosnn.brian.targets import brian_target
from biosnn.equations import get_spec


def _abstract_code(method, tau_m, tau_s, refractory, synapse="current"):
    spec = get_spec("lif")
    params = spec.resolve({"tau_m": tau_m, "tau_s": tau_s}, 1e-4)
    namespace = {name: params[name] * brian2.second for name in ("tau_m", "tau_s")}
    namespace.update(v_rest=0.0)
    with brian_target("numpy"):
        brian2.defaultclock.dt = 0.1 * brian2.ms
        group = brian2.NeuronGroup(2, spec.brian_equations(synapse, params), threshold="v > 1", reset="v = 0",
                                   refractory=refractory * brian2.ms, method=method, namespace=namespace)
        brian2.Network(group).run(0.1 * brian2.ms, namespace={})
    return group.state_updater.abstract_code


@pytest.mark.parametrize("name", ["exact", "euler"])
def test_cached_code_is_brian2s_own_for_other_parameter_values(name):
    first = _abstract_code(integration.METHODS[name], 10e-3, 3e-3, 1.0)
    second = _abstract_code(integration.METHODS[name], 17e-3, 2e-3, 2.0)  # other values: a cache hit
    assert second == _abstract_code(name, 17e-3, 2e-3, 2.0)
    # the refractory test (first line) is Brian2's, with each run's own period; the derived update is shared
    assert second.splitlines()[1:] == first.splitlines()[1:] and second.splitlines()[0] != first.splitlines()[0]
    assert "tau_m" in first  # symbolic in the parameters: values are resolved when the code is generated


def test_derived_once_per_structure(monkeypatch):
    calls = []
    original = StateUpdateMethod.stateupdaters["exact"]
    monkeypatch.setitem(StateUpdateMethod.stateupdaters, "exact", lambda *args: calls.append(args) or original(*args))
    monkeypatch.setattr(integration, "_CACHE", {})
    _abstract_code(integration.METHODS["exact"], 12e-3, 3.5e-3, 1.0)
    _abstract_code(integration.METHODS["exact"], 13e-3, 4.5e-3, 1.5)
    assert len(calls) == 1
    _abstract_code(integration.METHODS["exact"], 12e-3, 3.5e-3, 1.0, synapse="delta")  # other equations
    assert len(calls) == 2
