"""The ``biosnn perturb`` command line the sweep tests run as a subprocess, and the points its table holds."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path


def perturb_command(folder: Path, db: Path, dt: float, grids: list[str], *extra: str) -> list[str]:
    """``python -m biosnn perturb`` of ``folder``'s ``net.npz`` on its ``data.npz`` into ``db``: torch at
    ``dt`` and Brian2 at the same ``dt``, each ``--grid`` of ``grids``, seeds 0 and 1, then ``extra``."""
    command = [
        sys.executable,
        "-m",
        "biosnn",
        "perturb",
        "--network",
        str(folder / "net.npz"),
        "--data",
        str(folder / "data.npz"),
        "--train-dt",
        str(dt),
        "--db",
        str(db),
        "--brian-dt",
        str(dt),
    ]
    for grid in grids:
        command += ["--grid", grid]
    return [*command, "--seeds", "0", "1", "--quiet", *extra]


def stored_points(db: Path, timeout: float = 5.0) -> int:
    """Distinct (kind, strength, seed) points stored in ``db`` (0 while it cannot be read); ``timeout``: how
    long to wait for a writer's lock."""
    try:
        with sqlite3.connect(db, timeout=timeout) as connection:
            return connection.execute("SELECT COUNT(DISTINCT kind || strength || seed) FROM points").fetchone()[0]
    except sqlite3.Error:
        return 0
