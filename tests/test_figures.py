"""The figure scripts regenerate their figures from results files (no simulation inside)."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "figures" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check(paths_dir: Path, stem: str):
    png, pdf = paths_dir / f"{stem}.png", paths_dir / f"{stem}.pdf"
    assert png.stat().st_size > 10_000 and pdf.read_bytes()[:4] == b"%PDF"


def test_fig_lee_convergence(tmp_path):
    rows = [dict(dt=dt, mean_timing_error_s=dt / 2, unmatched_fraction=dt * 1e3) for dt in (4e-4, 2e-4, 1e-4)]
    results = tmp_path / "conv.json"
    results.write_text(json.dumps({"runs": [{"rows": rows}], "timing_order": 1.0, "mismatch_order": 1.0}))
    assert _script("fig_lee_convergence").main(["--results", str(results), "--out", str(tmp_path)]) == 0
    _check(tmp_path, "lee_convergence")


def test_fig_lee_digits_mu(tmp_path):
    runs = [dict(config=dict(rule=rule, mu_hidden=mu), accuracy_torch=0.9 + mu / 10, accuracy_brian2=0.9 + mu / 10)
            for rule in ("lee", "surrogate") for mu in (0.0, -0.5, -1.0)]
    results = tmp_path / "digits.json"
    results.write_text(json.dumps({"runs": runs}))
    assert _script("fig_lee_digits_mu").main(["--results", str(results), "--out", str(tmp_path)]) == 0
    _check(tmp_path, "lee_digits_mu")


def test_fig_equivalence_from_a_validation_run(tmp_path):
    from biosnn.cli import main

    assert main(["validate", "--models", "li", "--quiet", "--out", str(tmp_path / "report")]) == 0
    assert _script("fig_equivalence").main(["--results", str(tmp_path / "report"), "--out", str(tmp_path)]) == 0
    _check(tmp_path, "overlay_li")
    with pytest.raises(SystemExit):
        _script("fig_equivalence").main(["--results", str(tmp_path / "empty"), "--out", str(tmp_path)])


def test_fig_gamma_dt(tmp_path):
    table = [dict(dt=dt, accuracy_torch=0.95, accuracy_brian2=0.95, spikes_per_sample=20 + dt * 1e3)
             for dt in (1e-3, 5e-4, 2.5e-4)]
    runs = [dict(config=dict(objective=objective, n_hidden=hidden), dt_table=table)
            for objective, hidden in (("bptt", 0), ("online", 0), ("bptt", 8))]
    results = tmp_path / "gamma.json"
    results.write_text(json.dumps({"runs": runs}))
    assert _script("fig_gamma_dt").main(["--results", str(results), "--out", str(tmp_path)]) == 0
    _check(tmp_path, "gamma_dt")
