"""The `biosnn` command: simulate with both backends, validate, and clean failures."""

import json
import subprocess
import sys

import numpy as np
import pytest

from biosnn import Trace
from biosnn.cli import main
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import V_TOLERANCE


@pytest.fixture
def files(tmp_path, rng):
    trains = poisson_spike_trains(rng, 4, 300.0, 0.05, 1e-4)
    spikes = tmp_path / "spikes.npz"
    trains.save(spikes)
    weights = tmp_path / "w.npy"
    np.save(weights, rng.uniform(0, 0.6, size=(4, 3)))
    return tmp_path, spikes, weights


def test_simulate_both_backends_agree(files):
    tmp, spikes, weights = files
    outs = {}
    for backend in ("brian2", "torch"):
        out = tmp / f"{backend}.npz"
        code = main(
            [
                "simulate",
                "lif",
                "--input",
                str(spikes),
                "--weights",
                str(weights),
                "--dt",
                "1e-4",
                "--duration",
                "0.05",
                "--backend",
                backend,
                "--param",
                "tau_m=0.01",
                "--reset",
                "subtract",
                "--out",
                str(out),
            ]
        )
        assert code == 0
        outs[backend] = Trace.load(out)
    a, b = outs["brian2"], outs["torch"]
    assert a.v.shape == (500, 3) and a.spike_times.size > 0
    assert np.abs(a.v - b.v).max() < V_TOLERANCE and a.spike_keys() == b.spike_keys()
    assert a.meta["params"]["tau_m"] == 0.01 and a.meta["schedule"]["pathway_slot"] == "before_thresholds"
    with np.load(tmp / "torch.npz") as raw:
        assert {"t", "v", "spike_times", "spike_units", "dt", "meta"} <= set(raw.files)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--param", "tau_m=-1"], "out of range"),
        (["--param", "bogus=1"], "unknown parameter"),
        (["--dt", "0"], "dt: must be a positive time"),
    ],
)
def test_simulate_bad_input_exit_2_and_writes_nothing(files, capsys, args, message):
    tmp, spikes, weights = files
    out = tmp / "never.npz"
    base = [
        "simulate",
        "lif",
        "--input",
        str(spikes),
        "--weights",
        str(weights),
        "--dt",
        "1e-4",
        "--duration",
        "0.05",
        "--backend",
        "torch",
        "--out",
        str(out),
    ]
    code = main(base + args)
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_simulate_missing_input_file(files, capsys):
    tmp, _, weights = files
    code = main(
        [
            "simulate",
            "lif",
            "--input",
            str(tmp / "nope.npz"),
            "--weights",
            str(weights),
            "--dt",
            "1e-4",
            "--duration",
            "0.05",
            "--backend",
            "torch",
            "--out",
            str(tmp / "o.npz"),
        ]
    )
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_validate_writes_report_and_figures(tmp_path):
    out = tmp_path / "report"
    code = main(["validate", "--models", "lee_refractory", "network_default_schedule", "--quiet", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    model = report["models"]["lee_refractory"]
    assert report["passed"] and model["n_cases"] == 2 and model["max_abs_dv"] <= V_TOLERANCE
    assert all(c["agreement"]["spikes_identical"] and c["agreement"]["n_spikes_a"] > 0 for c in model["cases"])
    network = report["networks"]["network_default_schedule"]
    assert network["passed"] and len(network["layers"]) == 2 and network["agreement"]["n_spikes_a"] > 0
    assert (out / "overlay_lee_refractory.png").stat().st_size > 10_000 and (
        out / "overlay_lee_refractory.pdf"
    ).exists()
    text = (out / "report.md").read_text()
    assert "| lee_refractory | PASS |" in text and "| network_default_schedule | PASS |" in text


def test_validate_unknown_model_fails_cleanly(tmp_path, capsys):
    assert main(["validate", "--models", "izhikevich", "--out", str(tmp_path / "r")]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_console_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "biosnn", "models"], capture_output=True, text=True)
    assert result.returncode == 0 and "lif" in result.stdout and "plif" in result.stdout
