"""The contract's metrics: a shifted spike or a non-finite value is never a pass."""

import numpy as np

from biosnn.core.activity import LayerActivity
from biosnn.core.trace import Trace
from biosnn.equivalence.contract import V_TOLERANCE, compare_activities, compare_traces


def _activity(v, steps=(3,)):
    v = np.asarray(v, dtype=np.float64)
    return LayerActivity(1, 1, np.array(steps), np.zeros(len(steps)), np.zeros(len(steps)), "v", {"v": v}, {"v": v[-1]})


def test_non_finite_values_fail_even_where_both_backends_agree():
    good = [[[0.0]], [[0.5]], [[0.2]]]
    nan = [[[0.0]], [[np.nan]], [[0.2]]]
    assert compare_activities(_activity(good), _activity(good)).passes(V_TOLERANCE)
    assert not compare_activities(_activity(good), _activity(nan)).passes(V_TOLERANCE)
    assert not compare_activities(_activity(nan), _activity(nan)).passes(V_TOLERANCE)
    trace = Trace.from_spike_steps(
        t=np.arange(3) * 1e-4, v=np.array([0.0, np.inf, 0.1]), steps=[], units=[], samples=[], dt=1e-4, backend="x"
    )
    assert not compare_traces(trace, trace).passes(V_TOLERANCE)


def test_a_spike_one_step_off_fails():
    v = [[[0.0]], [[0.5]], [[0.2]]]
    agreement = compare_activities(_activity(v, steps=(3,)), _activity(v, steps=(4,)))
    assert agreement.n_only_a == agreement.n_only_b == 1 and not agreement.passes(V_TOLERANCE)
