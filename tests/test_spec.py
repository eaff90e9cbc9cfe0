"""Model specs: the single source of truth, read by both backends."""

import inspect
from pathlib import Path

import pytest
from brian2 import Equations, ms

import biosnn
from biosnn.torch.module import MODULES

ROOT = Path(__file__).resolve().parents[1]


def test_every_registered_model_has_mirror_and_tests(model):
    """equations/<m>.py -> biosnn/torch/functional/<m>.py -> tests/brian_vs_torch/test_<m>.py."""
    assert (ROOT / "equations" / f"{model}.py").exists()
    assert (ROOT / "biosnn" / "torch" / "functional" / f"{model}.py").exists()
    assert (ROOT / "tests" / "brian_vs_torch" / f"test_{model}.py").exists()
    assert model in MODULES


def test_equations_parse_in_brian2_for_every_synapse(model):
    spec = biosnn.get_spec(model)
    params = spec.resolve(None, 1e-4)
    for synapse in spec.synapses:
        eqs = Equations(spec.brian_equations(synapse, params))
        assert eqs.diff_eq_names


def test_resolve_defaults_and_units():
    spec = biosnn.get_spec("lif")
    p = spec.resolve({"tau_m": 10 * ms}, 1e-4)
    assert p["tau_m"] == pytest.approx(0.01) and p["v_th"] == 1.0 and p["t_ref"] == 0.0
    plif = biosnn.get_spec("plif").resolve(None, 1e-3)
    assert plif["tau_m"] == pytest.approx(2e-3)  # tau0 = 2 dt


def test_near_equal_time_constants_are_merged_symbolically():
    spec = biosnn.get_spec("lif")
    p = spec.resolve({"tau_m": 10e-3, "tau_s": 10e-3 * (1 + 1e-6)}, 1e-4)
    assert p["tau_s"] == p["tau_m"]
    assert "dI/dt = -I / tau_m" in spec.brian_equations("current", p)
    q = spec.resolve({"tau_m": 10e-3, "tau_s": 5e-3}, 1e-4)
    assert "tau_s" in spec.brian_equations("current", q)


def test_no_default_is_restated_in_the_mirror():
    """The torch modules read defaults from the spec; no literal 20 ms / threshold in their source."""
    import biosnn.torch.functional.lif as f
    import biosnn.torch.module.lif as m

    for module in (f, m):
        src = inspect.getsource(module)
        assert "20e-3" not in src and "0.02" not in src and "v_th=1" not in src
