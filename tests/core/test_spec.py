"""Model specs: the single source of truth, and the structural helpers both backends share.

Helpers both backends read (circuits, bucket-weight layouts, initial values)
are invisible to the equivalence tests (a wrong broadcast gives the same wrong
answer on both sides), so each is checked here against an independent
construction.
"""

import inspect

import numpy as np
import pytest
from brian2 import Equations, ms

import biosnn
from biosnn.core.spec import circuit_ids
from biosnn.models import gamma_cascade


def test_equations_parse_in_brian2_for_every_synapse(model):
    spec = biosnn.get_spec(model)
    params = spec.resolve(None, 1e-4)
    for synapse in spec.synapses:
        eqs = Equations(spec.brian_equations(synapse, params))
        assert eqs.diff_eq_names
        for name in spec.recorded_variables(synapse):  # what both backends record exists in Brian2
            assert name in eqs.names, (model, synapse, name)


def test_initial_state_names_state_variables(model):
    spec = biosnn.get_spec(model)
    params = spec.resolve(None, 1e-4)
    names = Equations(spec.brian_equations(None, params)).names
    for var, value in spec.initial_values(params).items():
        assert var in names, (model, var)
        assert np.all(np.isfinite(value))


def test_validation_cases_and_ranges_are_valid(model):
    """Every case the equivalence harness runs resolves, and every drawn range lies within the bounds."""
    spec = biosnn.get_spec(model)
    for case in spec.validation_cases:
        spec.resolve(case, 1e-4)
    for p in spec.parameters:
        if p.validation_range is not None:
            for value in p.validation_range:
                p.check(value, model)


def test_resolve_defaults_and_units():
    spec = biosnn.get_spec("lif")
    p = spec.resolve({"tau_m": 10 * ms}, 1e-4)
    assert p["tau_m"] == pytest.approx(0.01) and p["v_th"] == 1.0 and p["t_ref"] == 0.0
    plif = biosnn.get_spec("plif").resolve(None, 1e-3)
    assert plif["tau_m"] == pytest.approx(2e-3)  # tau0 = 2 dt
    assert spec.initial_values(spec.resolve({"v_rest": -0.3}, 1e-4)) == {"v": -0.3}


def test_near_equal_time_constants_are_kept_as_given():
    """No merge band: the reference's propagator is exact for equal and near-equal constants alike."""
    spec = biosnn.get_spec("lif")
    p = spec.resolve({"tau_m": 10e-3, "tau_s": 10e-3 * (1 + 1e-6)}, 1e-4)
    assert p["tau_s"] == 10e-3 * (1 + 1e-6) != p["tau_m"]
    assert "dI/dt = (bias - I) / tau_s" in spec.brian_equations("current", p)


def test_euler_stability_reads_the_time_constants_of_the_chosen_synapse():
    spec = biosnn.get_spec("lif")
    params = spec.resolve({"tau_m": 10e-3, "tau_s": 1e-4}, 1e-4)
    spec.check_euler_stable(params, 5e-4, "delta")  # tau_s does not belong to delta synapses
    with pytest.raises(biosnn.BiosnnInputError, match="dt <= tau_s"):
        spec.check_euler_stable(params, 5e-4, "current")


def test_circuit_ids_against_an_explicit_partition():
    assert circuit_ids(6, 0).tolist() == [0] * 6
    assert circuit_ids(6, 2.0).tolist() == [0, 0, 1, 1, 2, 2]
    assert circuit_ids(6, 3).tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(biosnn.BiosnnInputError, match="does not divide"):
        circuit_ids(6, 4)
    with pytest.raises(biosnn.BiosnnInputError, match="non-negative integer"):
        circuit_ids(6, 1.5)


def test_lateral_pairs_are_every_ordered_pair_within_a_circuit():
    lateral = biosnn.get_spec("wta").lateral
    pre, post = lateral.pairs(6, {"circuit_size": 3.0})
    expected = {(i, j) for block in ([0, 1, 2], [3, 4, 5]) for i in block for j in block if i != j}
    assert set(zip(pre.tolist(), post.tolist())) == expected and len(pre) == len(expected)


def test_bucket_weight_layouts():
    params = gamma_cascade.SPEC.resolve({"bucket_tau": (1e-3, 2e-3), "bucket_weight": 0.5}, 1e-4)
    np.testing.assert_array_equal(gamma_cascade.bucket_weights(params, 3), np.full((3, 2), 0.5))
    params["bucket_weight"] = np.array([1.0, 2.0])
    np.testing.assert_array_equal(gamma_cascade.bucket_weights(params, 3), [[1.0, 2.0]] * 3)
    per_neuron = np.arange(6.0).reshape(3, 2)
    params["bucket_weight"] = per_neuron
    np.testing.assert_array_equal(gamma_cascade.bucket_weights(params, 3), per_neuron)
    per_synapse = np.arange(24.0).reshape(4, 3, 2)
    params["bucket_weight"] = per_synapse
    np.testing.assert_array_equal(gamma_cascade.bucket_weights(params, 3, 4), per_synapse)
    for bad, n_inputs in ((np.ones((2, 2)), None), (np.ones(3), None), (np.ones((5, 3, 2)), 4)):
        params["bucket_weight"] = bad
        with pytest.raises(biosnn.BiosnnInputError, match="bucket_weight must be"):
            gamma_cascade.bucket_weights(params, 3, n_inputs)


def test_every_bucket_has_its_own_time_constant():
    params = {"bucket_tau": np.array([3e-3, 3e-3 * (1 + 1e-6), 8e-3])}
    assert gamma_cascade.bucket_symbols(params) == ["tau_b1", "tau_b2", "tau_b3"]
    assert gamma_cascade.symbol_values(params) == {"tau_b1": 3e-3, "tau_b2": 3e-3 * (1 + 1e-6), "tau_b3": 8e-3}
    assert "dB2/dt = B1 / tau_b1 - B2 / tau_b2 : 1" in gamma_cascade.cascade_equations(params)


def test_no_default_is_restated_in_the_mirror():
    """The torch steps read defaults from the spec; no literal 20 ms / threshold in their source."""
    import biosnn.torch.dynamics.lif as f
    import biosnn.torch.layer as m

    for module in (f, m):
        src = inspect.getsource(module)
        assert "20e-3" not in src and "0.02" not in src and "v_th=1" not in src


def test_per_neuron_parameters_are_declared_once_and_a_late_bias_is_gated():
    """``brian_equations`` declares every per-neuron parameter as a (constant) group variable unless the model
    declares it itself (Lee et al.'s v_th), and writes the bias through its switch only when it starts late."""
    lif, lee = biosnn.get_spec("lif"), biosnn.get_spec("lee_refractory")
    text = lif.brian_equations("delta", lif.resolve({}, 1e-4))
    assert {line for line in text.splitlines() if "(constant)" in line} == {
        f"{name} : 1 (constant)" for name in ("v_th", "v_reset", "v_rest", "bias")
    }
    assert "bias_gate" not in text
    late = lif.brian_equations("delta", lif.resolve({"bias": 0.2, "bias_onset": 5e-4}, 1e-4))
    assert "(bias * bias_gate(t))" in late and "bias : 1 (constant)" in late
    assert lee.brian_equations(None, lee.resolve({}, 1e-4)).count("v_th : 1 (constant)") == 1
