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
