"""The package as users install it: the wheel holds every package and data file of the source tree.

`make test-wheel` (CI) goes further: it installs the wheel into a fresh virtual environment and runs its
commands. Here the wheel is built from a copy of the tracked files (no build output left in the tree)
without build isolation (offline) and its file list compared with the source tree's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import biosnn

ROOT = Path(__file__).resolve().parents[2]
#: files of the package directory that are not shipped: compiled caches only
NOT_SHIPPED = re.compile(r"(__pycache__/|\.pyc$)")


def _tracked() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout (the tracked files are what a wheel must hold)")
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    for name in _tracked():
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = dist.glob("biosnn-*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_holds_every_file_of_the_package(wheel):
    """Every tracked file under biosnn/ (modules, py.typed, the stored results the figures read) is in the
    wheel, under the same path: a package left out of setup.cfg (biosnn.perturb was) fails here."""
    shipped = set(wheel.namelist())
    package = [name for name in _tracked() if name.startswith("biosnn/") and not NOT_SHIPPED.search(name)]
    assert package and "biosnn/py.typed" in package
    assert sorted(set(package) - shipped) == []
    assert sorted(name for name in shipped if name.startswith("biosnn/")) == sorted(package)  # nothing extra
    assert not [name for name in shipped if not name.startswith(("biosnn/", "biosnn-"))]


def test_the_wheel_declares_the_version_and_licence(wheel):
    metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    text = wheel.read(metadata).decode()
    assert f"\nVersion: {biosnn.__version__}\n" in text
    assert any(n.endswith("LICENSE") for n in wheel.namelist())


def test_the_citation_names_this_version():
    """CITATION.cff states the version users cite: the package's own (written once, in biosnn/core/version.py)."""
    text = (ROOT / "CITATION.cff").read_text()
    assert re.search(r"^version: (\S+)$", text, re.M).group(1) == biosnn.__version__
