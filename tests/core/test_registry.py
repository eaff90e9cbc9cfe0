"""The registry: every registered model has both backends and its tests, and is dispatched by type.

A model added to ``biosnn.models.REGISTRY`` must come with a Brian2 layer
builder for its structure, a torch step (``biosnn/torch/dynamics/<name>.py``)
and model-specific tests; the registry-driven equivalence test
(``tests/brian_vs_torch/test_registry_equivalence.py``) then runs it on every
validation case and target.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import torch

from biosnn.brian.layers import LAYER_BUILDERS
from biosnn.core.spec import Output, Structure
from biosnn.models import REGISTRY, get_spec
from biosnn.torch.dynamics import dynamics_for
from biosnn.torch.dynamics.base import Dynamics
from biosnn.torch.layer import Layer

ROOT = Path(__file__).resolve().parents[2]


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


#: a string naming a module: a relative one (``".layer"``, in ``_LAZY`` tables) or an absolute one
_MODULE_STRING = re.compile(r"^(\.+|biosnn\.)[a-z_][a-z_.]*$")


def _module_strings(node) -> list[str]:
    """Module names a node loads by string: ``import_module("...")`` and the values of a ``_LAZY`` table."""
    texts = []
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "import_module":
            texts.append(node.args[0].value)
    if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets):
        if isinstance(node.value, ast.Dict):
            texts += [v.value for v in node.value.values if isinstance(v, ast.Constant)]
    return [t for t in texts if isinstance(t, str) and _MODULE_STRING.match(t)]


def _biosnn_imports(path: Path) -> set[str]:
    """The biosnn modules a file imports, as absolute dotted names: ``import`` and ``from ... import``
    statements anywhere (inside functions too), each imported name of ``from X import name`` as ``X.name``
    (it may be a module), and the module names written as strings (``import_module``, lazy tables). A bare
    ``biosnn`` (``import biosnn``, ``from biosnn import simulate``) is recorded as ``biosnn``: it reaches
    every layer."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]  # e.g. ("biosnn", "brian")
    if path.name == "__init__.py":
        package = path.relative_to(ROOT).parts[:-1]

    def absolute(level: int, module: str | None) -> str:
        if not level:
            return module or ""
        base = package[: len(package) - level + 1]
        return ".".join(base + ((module,) if module else ()))

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            source = absolute(node.level, node.module)
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        for text in _module_strings(node):
            dots = len(text) - len(text.lstrip("."))
            found.add(absolute(dots, text[dots:]) if dots else text)
    return {module for module in found if module == "biosnn" or module.startswith("biosnn.")}


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
#: modules of the reporting layer may read results from these studies' modules only (they import no backend)
REPORTING_READS = (
    "biosnn.studies.perturbation",
    "biosnn.studies.perturbation.table",
    "biosnn.studies.perturbation.aggregate",
    "biosnn.studies.perturbation.network",  # the network kinds' registry: what each strength means
    "biosnn.studies.statistics",
)


def _layer(module: str) -> str | None:
    """The layer of a biosnn module; ``"biosnn"`` itself for the package (its lazy names reach every layer)."""
    parts = module.split(".")
    if parts[0] != "biosnn":
        return None
    return parts[1] if len(parts) > 1 else "biosnn"


def test_every_layer_imports_only_the_layers_below_it():
    """One rule per folder (:data:`LAYERS`), checked on every import of every module of biosnn, lazy ones and
    module names in strings included; the package's ``__init__`` (lazy names for users) is exempt, and no layer
    imports the package itself (``from biosnn import simulate`` would reach every layer). A folder or top-level
    module missing from the rule fails."""
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


def test_reporting_reads_results_and_never_simulates():
    """Importing every module of biosnn.reporting (the figures and the report) imports neither torch nor Brian2,
    and reporting imports of studies are the result readers only."""
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "biosnn" / "reporting").rglob("*.py")
    )
    for path in (ROOT / "biosnn" / "reporting").rglob("*.py"):
        studies = {m for m in _biosnn_imports(path) if _layer(m) == "studies"}
        assert studies <= set(REPORTING_READS) | {
            f"{r}.{n}"
            for r in REPORTING_READS
            for n in (
                "PERTURBATIONS",
                "NETWORK_PERTURBATIONS",
                "perturb",
                "read_points",
                "table",
                "get_perturbation",
                "summarize",
                "compare",
                "paired_values",
                "check_seeds",
                "holm",
                "family_and_seed",
                "aggregate",
            )
        }, (path, studies)
    code = (
        "import sys, importlib\n"
        + "".join(f"importlib.import_module({m!r})\n" for m in modules)
        + ("print(sorted(m for m in ('torch', 'brian2') if m in sys.modules))")
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
