"""The ``biosnn perturb`` command line the sweep tests run as a subprocess, the points its table holds, and the
small network and test set the sweep tests share."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import numpy as np


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


def small_isi_case(folder: Path, n_samples: int, dt: float):
    """A small untrained ISI network (PLIF 12 -> LI 2, with axonal delays) and ``n_samples`` test samples of
    0.15 s on the grid ``dt``, saved in ``folder`` as ``net.npz`` and ``data.npz``: ``(folder, net, data)``."""
    from biosnn.data.tasks import isi_task
    from biosnn.studies.timing_tasks import TimingTaskConfig, build

    data = isi_task(np.random.default_rng(0), n_samples, duration=0.15, isi_range=(1e-3, 40e-3), rate_range=(5, 30))
    data = type(data)(data.spikes.one_per_step(dt)[0], data.labels, data.n_classes, data.meta)
    cfg = TimingTaskConfig(task="isi", hidden=12, delays=True, d_max=10e-3, seed=3)
    net = build(cfg, data.n_inputs, data.n_classes, data.duration).export()
    net.save(folder / "net.npz")
    data.save(folder / "data.npz")
    return folder, net, data
