"""The one documented command of the timing study trains, sweeps both backends into SQLite, and resumes
(slow: it trains; `make test-all`)."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_study(out):
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "validation" / "timing_study.py"),
            "--out",
            str(out),
            "--quick",
            "--tasks",
            "coincidence",
            "--setups",
            "sgd",
            "--seeds",
            "0",
            "--phase-seeds",
            "0",
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_the_study_trains_sweeps_both_backends_and_resumes(tmp_path):
    first = run_study(tmp_path / "study")
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert lines[0]["name"] == "coincidence-sgd-seed0" and "rate_baseline_mlp" in lines[0]
    assert (
        lines[0]["time_loop"] == "fused" and len(lines[0]["test_accuracy_history"]) == 2
    )  # before and after the epoch
    assert lines[1]["points"] == 4 and lines[1]["skipped"] == 0
    # the same run on the phase loop, trained and tested beside it (not swept)
    assert lines[2]["name"] == "coincidence-sgd-phase-seed0" and lines[2]["time_loop"] == "phase"
    assert len(lines) == 3
    with sqlite3.connect(tmp_path / "study" / "sweep.sqlite") as db:
        rows = db.execute("SELECT backend, dt, agreement FROM points").fetchall()
    # per point: torch at dt, Brian2 at dt and dt/4, the two rate classifiers
    assert sorted({(b, dt) for b, dt, _ in rows}) == [
        ("brian2", 0.00025),
        ("brian2", 0.001),
        ("rate_logistic", 0.001),
        ("rate_mlp", 0.001),
        ("torch", 0.001),
    ]
    assert len(rows) == 4 * 5
    assert all(a == 1.0 for b, dt, a in rows if b == "brian2" and dt == 0.001)
    again = run_study(tmp_path / "study")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.splitlines()[-1])["points"] == 0  # nothing recomputed, nothing duplicated
    assert (tmp_path / "study" / "sweep.csv").read_text().count("\n") == 4 * 5 + 1
    report = subprocess.run(
        [sys.executable, str(ROOT / "validation" / "timing_report.py"), "--study", str(tmp_path / "study")],
        capture_output=True,
        text=True,
    )
    assert report.returncode == 0, report.stderr
    assert "## coincidence-sgd-seed0" in report.stdout and "brian2 0.25 ms" in report.stdout
    assert report.stdout.count("| random_replacement |") == 2
