"""Every snippet of the README runs as written: the Python blocks, and the console block's commands."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import biosnn
from biosnn.cli import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
PYTHON = re.findall(r"```python\n(.*?)```", README, re.S)
CONSOLE = re.findall(r"```console\n(.*?)```", README, re.S)


def test_the_readme_has_snippets():
    assert len(PYTHON) >= 2 and len(CONSOLE) >= 1


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_python_snippet_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(PYTHON[index], f"README python block {index}", "exec"), {"__name__": "__readme__"})


def _commands(block: str) -> list[str]:
    return [line[2:] for line in block.replace("\\\n", " ").splitlines() if line.startswith("$ ")]


@pytest.mark.parametrize("index", range(len(CONSOLE)))
def test_console_snippet_runs(index, tmp_path, monkeypatch, capsys):
    """Each ``$ biosnn ...`` line, run by the command's own entry point (``biosnn.cli.main``) in a
    directory holding the files the README names."""
    biosnn.SpikeTrains.from_unsorted(np.random.default_rng(0).uniform(0, 0.05, 40), np.arange(40) % 2, 2, 0.05).save(
        tmp_path / "spikes.npz"
    )
    np.save(tmp_path / "W.npy", np.full((2, 3), 0.6))
    monkeypatch.chdir(tmp_path)
    for command in _commands(CONSOLE[index]):
        argv = shlex.split(command)
        assert argv[0] == "biosnn"
        try:
            code = main(argv[1:])
        except SystemExit as err:  # --version exits through argparse
            code = err.code
        assert code in (0, None), (command, capsys.readouterr().err[-2000:])


def test_the_console_entry_point_is_installed():
    result = subprocess.run([str(Path(sys.executable).parent / "biosnn"), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("biosnn ")
