"""Small results files in the layouts `biosnn report` reads (tests/reporting/test_report.py, tests/reporting/test_report_browser.py)."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from biosnn.core.results import StudyResults
from biosnn.studies.perturbation.table import COLUMNS, SweepTable


def write_png(path: Path, width: int = 24, height: int = 16, colour=(40, 90, 200)) -> Path:
    """A plain RGB PNG (no plotting library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


def _case(label: str, dv: float, spikes: int) -> dict:
    agreement = dict(
        max_abs_dv=dv,
        max_abs_dstate={},
        n_spikes_a=spikes,
        n_spikes_b=spikes,
        n_only_a=0,
        n_only_b=0,
        first_mismatch=None,
        spikes_identical=True,
    )
    return dict(
        label=label,
        passed=True,
        agreement=agreement,
        brian2_seconds=0.3,
        torch_seconds=0.1,
        float32=dict(max_abs_dv=7e-5, spikes_only_brian2=0, spikes_only_torch=0),
    )


def write_validation(root: Path) -> Path:
    """A ``report.json`` in the layout of ``biosnn validate`` (one model of two cases, one network)."""
    agreement = dict(
        max_abs_dv=2e-15,
        max_abs_dstate={},
        n_spikes_a=40,
        n_spikes_b=40,
        n_only_a=0,
        n_only_b=0,
        first_mismatch=None,
        spikes_identical=True,
    )
    report = dict(
        command="biosnn validate --models lif network_gamma --target numpy --seed 0 --out demo-report",
        target="numpy",
        v_tolerance=1e-9,
        seed=0,
        python="3.12.0",
        versions={"brian2": "2.10.1"},
        models={
            "lif": dict(
                passed=True,
                max_abs_dv=3.5e-15,
                n_cases=2,
                n_spikes=91,
                citation="Gerstner 2014",
                cases=[_case("delta-hard", 3.5e-15, 50), _case("delta-subtract", 1e-15, 41)],
            )
        },
        networks={
            "network_gamma": dict(
                description="lif -> gamma",
                schedule="exact",
                passed=True,
                agreement=agreement,
                layers=[dict(model="lif", n=8, passed=True, agreement=agreement)],
            )
        },
        passed=True,
        wall_seconds=1.5,
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / "report.json").write_text(json.dumps(report))
    return root / "report.json"


def write_discretization(root: Path) -> Path:
    data = {
        "command": "python validation/discretization_study.py --out results/discretization.json",
        "rows": [{"model": "lif", "dt": dt, "error": 0.5 * dt} for dt in (1e-3, 5e-4)],
        "orders": [
            {
                "model": "lif",
                "scenario": "off_grid",
                "discretization": "euler",
                "reference": "exact",
                "measure": "max |dv|",
                "declared_order": 1,
                "measured_order": 0.998,
            },
            {
                "model": "plif",
                "scenario": "off_grid",
                "discretization": "euler",
                "reference": "exact",
                "measure": "max |dv|",
                "declared_order": 1,
                "measured_order": 1.004,
            },
        ],
        "conventions": [{"name": "held input", "description": "decay_input=True", "max_abs_dv": 1.2e-16}],
    }
    (root / "discretization.json").write_text(json.dumps(data))
    return root / "discretization.json"


def write_studies(root: Path) -> list[Path]:
    """lee_convergence.json (no recorded command), gamma_dt_table.json (StudyResults), timing/training.json,
    timing/sweep.sqlite and scaling.json."""
    convergence = {
        "study": "lee_wta_convergence",
        "dts": [4e-4, 1e-4],
        "timing_order": 0.93,
        "mismatch_order": 0.72,
        "runs": [
            {
                "seed": s,
                "timing_order": 0.9 + s / 100,
                "mismatch_order": 0.7,
                "rows": [{"dt": dt, "mean_timing_error_s": dt / 2, "unmatched": 3 - s} for dt in (4e-4, 1e-4)],
            }
            for s in (0, 1)
        ],
    }
    (root / "lee_convergence.json").write_text(json.dumps(convergence))
    gamma = StudyResults(
        root / "gamma_dt_table.json",
        "gamma_dt_table",
        {"n_hidden": 0},
        command="python validation/gamma_dt_table.py --out results/gamma_dt_table.json",
    )
    for seed, accuracy in ((0, 0.96), (1, 0.91)):
        gamma.add(
            {
                "config": {"objective": "bptt", "seed": seed, "epochs": 30},
                "train_seconds": 4.5 + seed,
                "loss_history": [1.0 / (k + 1) for k in range(30)],
                "dt_table": [
                    {
                        "dt": 1e-3 / f,
                        "accuracy_torch": accuracy,
                        "accuracy_brian2": accuracy,
                        "spikes_per_sample_per_layer": [12.5],
                    }
                    for f in (1, 2, 4)
                ],
            },
            f"key{seed}",
        )
    training = StudyResults(
        root / "timing" / "training.json",
        "timing_tasks",
        {"quick": True},
        command="python validation/timing_study.py --out results/timing --quick",
    )
    training.add({"name": "isi-sgd-s0", "test_accuracy_torch": 0.871, "loss": [0.5] * 20}, "isi")
    table = SweepTable(root / "timing" / "sweep.sqlite")
    names = [name for name, _ in COLUMNS]
    for strength, accuracy in ((0.0, 0.87), (0.5, 0.78), (1.0, 0.746)):
        for backend, dt in (("torch", 1e-3), ("brian2", 1e-3), ("brian2", 2.5e-4)):
            row = dict(
                network="isi-sgd-s0",
                dataset="isi",
                kind="random_replacement",
                strength=strength,
                seed=0,
                backend=backend,
                dt=dt,
                accuracy=accuracy,
                n_samples=256,
                agreement=None,
                input_spikes=100,
                lost_spikes=0,
                binned=0,
                seconds=1.0,
                code_version="test",
            )
            table.write_point([{name: row[name] for name in names}])
    table.close()
    scaling = {
        "machine": {"platform": "Linux", "device": "cpu"},
        "n_inputs": 100,
        "dt": 1e-4,
        "points": [
            {"n": n, "steps": 100, "torch_inference": n * 1e-6, "brian2_run": n * 3e-6} for n in (1000, 200000, 30000)
        ],
    }  # numeric and text order differ
    (root / "scaling.json").write_text(json.dumps(scaling))
    return [
        root / name
        for name in (
            "lee_convergence.json",
            "gamma_dt_table.json",
            "timing/training.json",
            "timing/sweep.sqlite",
            "scaling.json",
        )
    ]


def write_figures(directory: Path) -> list[Path]:
    """A registered figure's PNG (lee_convergence), an unregistered one, and a PDF (not embedded)."""
    written = [
        write_png(directory / "lee_convergence.png"),
        write_png(directory / "my_extra_plot.png", colour=(200, 60, 40)),
    ]
    (directory / "lee_convergence.pdf").write_bytes(b"%PDF-1.4\n")
    return written
