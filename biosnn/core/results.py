"""A study's results file: runs keyed by everything that determines them, written atomically.

A results file belongs to one study with one set of *settings* (what is fixed
across its runs: epochs, targets, learning rates) and one version of the code
(:func:`code_version`: biosnn's version and a hash of its source). Each run is
stored with its ``run_key``: a hash of its configuration (every field that
determines the result, seeds included). A rerun of the study skips the runs
whose key is already in the file and computes the others, so an interrupted
sweep loses at most the run in progress; a file written with other settings or
by other code is refused with a clear message (never mixed with new runs, which
figures would then average). The file is rewritten atomically after every run;
one process writes one results file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import BiosnnInputError
from .io import atomic_write_json, check_output_file, load_json

if TYPE_CHECKING:
    from collections.abc import Sequence


@functools.cache
def code_version() -> str:
    """biosnn's version and a hash of every source file of the package and its model specs: any
    change of the code that computes a result changes it."""
    from .version import __version__

    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]  # the biosnn package, its model specs included
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return f"{__version__}+{h.hexdigest()[:12]}"


def fingerprint(*arrays: np.ndarray) -> str:
    """A short hash of arrays (shape, dtype and contents): identifies a dataset."""
    h = hashlib.sha256()
    for array in arrays:
        array = np.asarray(array)
        h.update(f"{array.shape}{array.dtype}".encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:16]


def run_key(config: dict) -> str:
    """A short hash of ``config`` (JSON-serialisable) and of the code (:func:`code_version`)."""
    text = json.dumps({"config": config, "version": code_version()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class StudyResults:
    """The runs of study ``study`` with ``settings`` in the JSON file ``path`` (created on the first :meth:`add`)."""

    def __init__(self, path: Path | str, study: str, settings: dict | None = None, command: str | None = None) -> None:
        self.path = check_output_file(path, "results file")
        self.study, self.settings, self.version = study, json.loads(json.dumps(settings or {})), code_version()
        self.command = command or command_line()  # recorded in the file: the command that made its runs
        content = load_json(self.path, "results file")
        if content:
            found = {key: content.get(key) for key in ("study", "settings", "version")}
            wanted = {"study": study, "settings": self.settings, "version": self.version}
            differs = [key for key in wanted if found[key] != wanted[key]]
            if differs:
                raise BiosnnInputError(
                    f"results file {str(self.path)!r} was written for another {' and '.join(differs)} "
                    f"({', '.join(f'{k}={found[k]!r}' for k in differs)}; now {', '.join(f'{k}={wanted[k]!r}' for k in differs)}); "
                    "write to another file, or remove it to start afresh"
                )
        self.runs = list(content.get("runs", []))

    def done(self, key: str) -> dict | None:
        """The stored run of ``key``, or None."""
        return next((run for run in self.runs if run.get("run_key") == key), None)

    def add(self, run: dict, key: str) -> None:
        self.runs = [r for r in self.runs if r.get("run_key") != key] + [{**run, "run_key": key}]
        atomic_write_json(
            self.path,
            {
                "study": self.study,
                "settings": self.settings,
                "version": self.version,
                "command": self.command,
                "runs": self.runs,
            },
        )


def command_line(argv: Sequence[str] | None = None) -> str:
    """The running command as one shell line (``biosnn report`` links every number to it): a script as
    ``python <path relative to the working directory>``, a console script by its name."""
    argv = list(sys.argv if argv is None else argv)
    program = argv[0] if argv else "python"
    if program.endswith(".py"):
        relative = os.path.relpath(os.path.abspath(program))
        head = ["python", program if relative.startswith("..") else relative]
    else:
        head = [Path(program).name]
    return " ".join(shlex.quote(a) for a in head + argv[1:])


#: the largest seed: SQLite stores integers in 64 bits, and every seed lands in a results table
MAX_SEED = 2**63 - 1


def seed(text: str) -> int:
    """argparse type of a seed: a non-negative integer up to :data:`MAX_SEED` (every study's ``--seeds``
    is a list of them)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is a non-negative integer, got {text!r}") from None
    if value < 0 or value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed is a non-negative integer below 2**63, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type of a count (copies, bins): a positive integer."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def worker_count(text: str) -> int:
    """argparse type of threads or worker processes: a positive integer, at most
    :func:`biosnn.core.threads.max_threads` (a few per core)."""
    import argparse

    from .threads import max_threads

    value = positive_int(text)
    if value > max_threads():
        raise argparse.ArgumentTypeError(f"{value} is more than this machine's {max_threads()} (a few per core)")
    return value
