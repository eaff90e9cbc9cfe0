"""The figure scripts regenerate their figures from results files (no simulation inside)."""

import json
from pathlib import Path

import pytest


@pytest.fixture
def run_figure(load_script):
    """``run_figure(name, *argv)``: run ``figures/<name>.py`` with these arguments; its exit code."""
    return lambda name, *argv: load_script("figures", name).main(list(argv))


def _check(paths_dir: Path, stem: str):
    png, pdf = paths_dir / f"{stem}.png", paths_dir / f"{stem}.pdf"
    assert png.stat().st_size > 10_000 and pdf.read_bytes()[:4] == b"%PDF"


def test_fig_lee_convergence(tmp_path, run_figure):
    rows = [dict(dt=dt, mean_timing_error_s=dt / 2, unmatched_fraction=dt * 1e3) for dt in (4e-4, 2e-4, 1e-4)]
    results = tmp_path / "conv.json"
    results.write_text(json.dumps({"runs": [{"rows": rows}], "timing_order": 1.0, "mismatch_order": 1.0}))
    assert run_figure("fig_lee_convergence", "--results", str(results), "--out", str(tmp_path)) == 0
    _check(tmp_path, "lee_convergence")


def test_fig_lee_digits_mu(tmp_path, run_figure):
    runs = [dict(config=dict(rule=rule, mu_hidden=mu), accuracy_torch=0.9 + mu / 10, accuracy_brian2=0.9 + mu / 10)
            for rule in ("lee", "surrogate") for mu in (0.0, -0.5, -1.0)]
    results = tmp_path / "digits.json"
    results.write_text(json.dumps({"runs": runs}))
    assert run_figure("fig_lee_digits_mu", "--results", str(results), "--out", str(tmp_path)) == 0
    _check(tmp_path, "lee_digits_mu")


def test_fig_equivalence_from_a_validation_run(tmp_path, run_figure):
    from biosnn.cli import main

    assert main(["validate", "--models", "li", "--quiet", "--out", str(tmp_path / "report")]) == 0
    assert run_figure("fig_equivalence", "--results", str(tmp_path / "report"), "--out", str(tmp_path)) == 0
    _check(tmp_path, "overlay_li")
    with pytest.raises(SystemExit):
        run_figure("fig_equivalence", "--results", str(tmp_path / "empty"), "--out", str(tmp_path))


def test_fig_gamma_dt(tmp_path, run_figure):
    table = [dict(dt=dt, accuracy_torch=0.95, accuracy_brian2=0.95, spikes_per_sample=20 + dt * 1e3)
             for dt in (1e-3, 5e-4, 2.5e-4)]
    runs = [dict(config=dict(objective=objective, n_hidden=hidden), dt_table=table)
            for objective, hidden in (("bptt", 0), ("online", 0), ("bptt", 8))]
    results = tmp_path / "gamma.json"
    results.write_text(json.dumps({"runs": runs}))
    assert run_figure("fig_gamma_dt", "--results", str(results), "--out", str(tmp_path)) == 0
    _check(tmp_path, "gamma_dt")


def test_fig_scaling(tmp_path, run_figure):
    """Seconds against N (at T = 100) and against T (at N = 1e4), from a scaling.json; a failed point is
    left out, and a file with no measured point is refused."""
    def point(n, steps):
        scale = n * steps * 1e-8
        return dict(n=n, steps=steps, torch_inference=scale, torch_train=3 * scale, brian2_run=5 * scale,
                    brian2_loop=2 * scale, brian2_build=20.0)

    points = [point(n, 100) for n in (1000, 10000, 100000)] + [point(10000, t) for t in (1000, 10000)]
    points.append(dict(n=1000000, steps=100, error="MemoryError"))
    (tmp_path / "scaling.json").write_text(json.dumps({"points": points}))
    assert run_figure("fig_scaling", "--results", str(tmp_path), "--out", str(tmp_path)) == 0
    _check(tmp_path, "scaling")
    (tmp_path / "scaling.json").write_text(json.dumps({"points": points[-1:]}))
    with pytest.raises(SystemExit):
        run_figure("fig_scaling", "--results", str(tmp_path), "--out", str(tmp_path))
