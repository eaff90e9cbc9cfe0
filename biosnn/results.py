"""A study's results file: runs keyed by everything that determines them, written atomically.

Each run is stored with its ``run_key``: a hash of its configuration (every
field that determines the result, the data's seed and sizes included) and of
biosnn's version. A rerun of the study skips the runs whose key is already in
the file and recomputes the others, so an interrupted sweep loses at most the
run in progress, a changed configuration (more epochs, another model variant)
is never mistaken for a finished run, and a new version of the code reruns
everything. The file is rewritten atomically after every run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .errors import BiosnnInputError
from .io import atomic_write_json, check_output_file, load_json


def run_key(config: dict) -> str:
    """A short hash of ``config`` (JSON-serialisable) and biosnn's version."""
    from . import __version__

    text = json.dumps({"config": config, "version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class StudyResults:
    """The runs of study ``study`` in the JSON file ``path`` (created on the first :meth:`add`)."""

    def __init__(self, path, study: str):
        self.path = check_output_file(path, "results file")
        self.study = study
        content = load_json(self.path, "results file")
        if content and content.get("study") != study:
            raise BiosnnInputError(f"results file {str(self.path)!r} holds the study {content.get('study')!r}, "
                                   f"not {study!r}; choose another file")
        self.runs = list(content.get("runs", []))

    def done(self, key: str) -> dict | None:
        """The stored run of ``key``, or None."""
        return next((run for run in self.runs if run.get("run_key") == key), None)

    def add(self, run: dict, key: str) -> None:
        self.runs = [r for r in self.runs if r.get("run_key") != key] + [{**run, "run_key": key}]
        atomic_write_json(self.path, {"study": self.study, "runs": self.runs})


def seed(text: str) -> int:
    """argparse type of a seed: a non-negative integer (every study's ``--seeds`` is a list of them)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a non-negative integer, got {value}")
    return value
