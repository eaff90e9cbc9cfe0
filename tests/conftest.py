"""Shared fixtures. Brian2 runs on its numpy target unless a test is marked otherwise."""

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

import biosnn


def gpu_available() -> bool:
    if importlib.util.find_spec("brian2cuda") is None or shutil.which("nvidia-smi") is None:
        return False
    import subprocess

    return subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0


def pytest_collection_modifyitems(config, items):
    skip_cuda = pytest.mark.skip(reason="needs brian2cuda and an NVIDIA GPU")
    if not gpu_available():
        for item in items:
            if "cuda" in item.keywords:
                item.add_marker(skip_cuda)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(params=sorted(biosnn.REGISTRY))
def model(request):
    """Every registered model: a model added to the registry cannot go untested."""
    return request.param


@pytest.fixture
def load_script():
    """``load_script(folder, name)``: the module of ``<repo>/<folder>/<name>.py`` (figures/, validation/)."""

    def load(folder: str, name: str):
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """The suite's small models run fastest on one torch thread (biosnn/core/threads.py)."""
    from biosnn.core.threads import set_threads

    set_threads(1)


def pytest_collection_finish(session):
    """Brian2 runs a full garbage collection before every simulation; with torch, Brian2, sympy and
    every test module loaded that costs ~0.2 s a run. Freezing what is loaded after collection
    (``gc.freeze``: those objects are never collected) keeps each collection small."""
    import gc

    import biosnn.brian.network  # noqa: F401  (Brian2 itself)
    import biosnn.torch.run  # noqa: F401  (torch)

    gc.collect()
    gc.freeze()
