"""The registry: every registered model has both backends and its tests, and is dispatched by type.

A model added to ``biosnn.models.REGISTRY`` must come with a Brian2 layer
builder for its structure, a torch step (``biosnn/torch/dynamics/<name>.py``)
and model-specific tests; the registry-driven equivalence test
(``tests/brian_vs_torch/test_registry_equivalence.py``) then runs it on every
validation case and target.
"""

import ast
from pathlib import Path

import torch

from biosnn.brian.layers import LAYER_BUILDERS
from biosnn.core.spec import Output, Structure
from biosnn.models import REGISTRY, get_spec
from biosnn.torch.dynamics import dynamics_for
from biosnn.torch.dynamics.base import Dynamics
from biosnn.torch.layer import Layer

ROOT = Path(__file__).resolve().parents[1]


def test_every_registered_model_has_both_backends_and_tests(model):
    spec = get_spec(model)
    assert spec.structure in LAYER_BUILDERS
    assert issubclass(dynamics_for(spec), Dynamics)
    files = dynamics_for(spec).__module__.rsplit(".", 1)[1]  # the spec, its mirror and its tests share it
    assert (ROOT / "biosnn" / "models" / f"{files}.py").exists()
    assert (ROOT / "tests" / "brian_vs_torch" / f"test_{files}.py").exists()
    for synapse in spec.synapses:  # the mirror runs every synapse kind and reset, recording the spec's variables
        for reset in spec.resets:
            layer = Layer(model, dt=1e-4, n_neurons=2, n_inputs=3, synapse=synapse, reset=reset)
            drive = torch.rand((5, 1, 2) if layer.dynamics.drive_ndim == 3 else (5, 1, 3, 2), dtype=torch.float64)
            _, recorded, final = layer.double()(drive, record=True)
            assert set(recorded) == set(spec.recorded_variables(synapse))
            assert all(value.shape == (5, 1, 2) and torch.isfinite(value).all() for value in recorded.values())


def test_every_structure_has_a_builder():
    assert set(LAYER_BUILDERS) == set(Structure)


def test_structures_and_outputs_are_consistent(model):
    spec = get_spec(model)
    assert (spec.cascade is not None) == (spec.structure is Structure.CASCADE)
    assert (spec.threshold is None) == (spec.output is Output.MEMBRANE)


#: generic code: it may dispatch only through typed spec fields and registries
GENERIC = [
    "biosnn/simulation.py",
    "biosnn/models/network.py",
    "biosnn/equivalence/validate.py",
    "biosnn/brian/network.py",
    "biosnn/brian/layers.py",
    "biosnn/brian/components.py",
    "biosnn/brian/integration.py",
    "biosnn/torch/network.py",
    "biosnn/torch/run.py",
    "biosnn/torch/layer.py",
    "biosnn/torch/dynamics/base.py",
    "biosnn/core/spec.py",
    "biosnn/core/schedule.py",
    "biosnn/equivalence/contract.py",
    "biosnn/core/activity.py",
    "biosnn/cli.py",
    "biosnn/training/loop.py",
]
# (biosnn/core/inputs.py is left out: it checks the *type of the user's input*, SpikeTrains or an array.)


def _project_classes() -> set[str]:
    classes = set()
    for path in (ROOT / "biosnn").rglob("*.py"):
        classes |= {node.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)}
    return classes


def test_generic_code_never_dispatches_on_model_names_or_types():
    """No ``isinstance`` against a class of the project, no ``hasattr`` or defaulted ``getattr``, and no
    comparison with a registered model's name in generic code (checking user input's type is allowed)."""
    names, classes = set(REGISTRY), _project_classes()
    for path in GENERIC:
        tree = ast.parse((ROOT / path).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                where = (path, node.lineno)
                assert node.func.id != "hasattr", where
                assert not (node.func.id == "getattr" and len(node.args) == 3), where
                if node.func.id == "isinstance":
                    checked = node.args[1]
                    kinds = checked.elts if isinstance(checked, ast.Tuple) else [checked]
                    assert not any(isinstance(k, ast.Name) and k.id in classes for k in kinds), where
            if isinstance(node, ast.Compare):
                for operand in [node.left, *node.comparators]:
                    items = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
                    assert not any(isinstance(i, ast.Constant) and i.value in names for i in items), (path, node.lineno)


def _biosnn_imports(path: Path) -> set[str]:
    """The biosnn modules a file imports, as dotted names relative to ``biosnn``."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]  # e.g. ("biosnn", "brian")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                found.add(".".join(base + tuple((node.module or "").split("."))))
            elif node.module:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


#: what each layer (a folder of biosnn, or a top-level module) may import besides itself, one line each:
#: a layer never imports one above it, and neither backend imports the other
LAYERS = {
    "core": set(),  # imports nothing of biosnn
    "models": {"core"},  # one spec per model, the network description
    "data": {"core", "models"},  # tasks, datasets, SHD/SSC
    "brian": {"core", "models"},  # the reference: never the mirror
    "torch": {"core", "models"},  # the mirror: never the reference
    "training": {"core", "models", "data", "torch"},  # torch only
    "simulation": {"core", "models", "brian", "torch"},  # the public entry points over both backends
    "equivalence": {"core", "models", "data", "brian", "torch", "simulation"},
    "studies": {"core", "models", "data", "brian", "torch", "training", "simulation", "equivalence"},
    "nir": {"core", "models", "data", "brian", "torch", "simulation", "equivalence"},
    "reporting": {"core", "models", "data", "equivalence", "studies"},  # reads results, never simulates
    "cli": {
        "core",
        "models",
        "data",
        "brian",
        "torch",
        "training",
        "simulation",
        "equivalence",
        "studies",
        "nir",
        "reporting",
    },
    "__main__": {"cli"},
}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return (parts[1] if len(parts) > 1 else None) if parts[0] == "biosnn" else None


def test_every_layer_imports_only_the_layers_below_it():
    """One rule per folder (:data:`LAYERS`), checked on every import of every module of biosnn; the package's
    ``__init__`` (lazy names for users) is exempt. A folder or top-level module missing from the rule fails."""
    broken = []
    for path in sorted((ROOT / "biosnn").rglob("*.py")):
        if path == ROOT / "biosnn" / "__init__.py":
            continue
        layer = path.relative_to(ROOT / "biosnn").with_suffix("").parts[0]
        assert layer in LAYERS, f"{path}: no import rule for {layer!r}"
        for module in _biosnn_imports(path):
            target = _layer(module)
            if target is not None and target != layer and target not in LAYERS[layer]:
                broken.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not broken, "\n".join(broken)
