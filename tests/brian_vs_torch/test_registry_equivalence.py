"""The equivalence contract over the registry: every model x validation case x target, and every network.

A model added to ``biosnn.models.REGISTRY`` is run here on every synapse
kind, reset and validation case of its spec (``biosnn.equivalence.validate.default_cases``)
on Brian2's numpy target, and on one representative case per compiled target
(marked ``cython``, ``cpp_standalone``; ``cuda`` skips without a GPU). The
networks of ``biosnn.equivalence.validate.NETWORKS`` (multi-layer transfer, per-neuron and
per-synapse delays, gamma stacks, Brian2's default schedule) are checked layer
by layer the same way. Contract: ``docs/contract.md``.
"""

import pytest

from biosnn.core.spec import Output
from biosnn.equivalence.validate import NETWORKS, default_cases, is_representative, run_case, run_network_case
from biosnn.models import REGISTRY, get_spec

CASES = [case for model in sorted(REGISTRY) for case in default_cases(model)]
REPRESENTATIVE = [case for case in CASES if is_representative(case)]

COMPILED = [
    pytest.param("cython", marks=pytest.mark.cython),
    pytest.param("cpp_standalone", marks=pytest.mark.cpp_standalone),
    pytest.param("cuda_standalone", marks=pytest.mark.cuda),
]


def _check(result, model):
    assert result["passed"], result["agreement"]
    if get_spec(model).output is not Output.MEMBRANE:
        assert result["agreement"]["n_spikes_a"] > 0, "the case must exercise threshold and reset"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.model}-{c.label}")
def test_brian_equals_torch(case):
    result, _, _ = run_case(case, "numpy", float32=False)
    _check(result, case.model)


@pytest.mark.parametrize("target", COMPILED)
@pytest.mark.parametrize("case", REPRESENTATIVE, ids=lambda c: f"{c.model}-{c.label}")
def test_brian_equals_torch_compiled(case, target):
    """Generated C++ (or CUDA) == numpy == torch, one case per model and target."""
    result, ref, _ = run_case(case, target, float32=False)
    assert ref.target == target
    _check(result, case.model)


@pytest.mark.parametrize("target", ["numpy"] + COMPILED)
@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_network_brian_equals_torch(name, target):
    result = run_network_case(NETWORKS[name], target=target)
    assert result["passed"], result["layers"]
    for layer in result["layers"]:
        if get_spec(layer["model"]).output is not Output.MEMBRANE:
            assert layer["agreement"]["n_spikes_a"] > 20, layer
