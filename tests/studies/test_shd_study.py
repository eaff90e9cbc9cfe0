"""The SHD study runs end to end on a small file in the SHD layout: 2 hidden PLIF layers with delays
(slow: it trains; `make test-all`)."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from shd_layout import random_shd_samples, write_shd_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_shd_study_trains_two_delay_layers_and_sweeps_both_backends(tmp_path):
    rng = np.random.default_rng(0)
    samples, labels = random_shd_samples(rng, 40, n_classes=4, rate=np.full(700, 0.5))
    write_shd_file(tmp_path / "shd.h5", samples, labels)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "validation" / "shd_study.py"),
            "--train",
            str(tmp_path / "shd.h5"),
            "--out",
            str(tmp_path / "out"),
            "--hidden",
            "6",
            "5",
            "--epochs",
            "1",
            "--n-eval",
            "6",
            "--fine-factor",
            "2",
            "--quick",
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[0])
    assert summary["name"] == "shd-sgd_delay-seed0"
    with np.load(tmp_path / "out" / "networks" / "shd-sgd_delay-seed0.npz") as net:
        assert net["weights_0"].shape == (700, 6) and net["weights_1"].shape == (6, 5)
        assert net["weights_2"].shape == (5, 4) and "delays_0" in net and "delays_2" in net
    with sqlite3.connect(tmp_path / "out" / "sweep.sqlite") as db:
        rows = db.execute("SELECT backend, dt, agreement, n_samples FROM points").fetchall()
    assert len(rows) == 3 * 5 and {n for *_, n in rows} == {6}  # 40 samples: test = samples 30..35
    assert all(a == 1.0 for b, dt, a, _ in rows if b == "brian2" and dt == 0.014)
