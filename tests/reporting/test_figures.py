"""The figure set: every registered figure regenerates from stored results (no simulation inside)."""

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from biosnn import BiosnnInputError
from biosnn.reporting.figures import FIGURES, STORED_RESULTS, by_module, module_of, render_all
from biosnn.reporting.style import PNG_DPI

#: a 300 dpi PNG of a real figure is far above this; an empty canvas at 300 dpi is not
MIN_PNG_BYTES = 20_000


def _check(out: Path, stem: str):
    from PIL import Image

    png, pdf = out / f"{stem}.png", out / f"{stem}.pdf"
    assert png.stat().st_size > MIN_PNG_BYTES, png
    with Image.open(png) as image:
        assert [round(d) for d in image.info["dpi"]] == [PNG_DPI, PNG_DPI], png
    pdf_bytes = pdf.read_bytes()
    assert pdf_bytes[:4] == b"%PDF" and b"/FontFile2" in pdf_bytes  # vector, TrueType fonts embedded


def _render(name, root, out):
    return module_of(by_module(name)).render([root], out)


@pytest.fixture(scope="module")
def li_report(tmp_path_factory):
    """A real `biosnn validate` report (one model): the overlay figure's input."""
    from biosnn.cli import main

    out = tmp_path_factory.mktemp("report")
    assert main(["validate", "--models", "li", "--quiet", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("figure", FIGURES, ids=lambda f: f.module)
def test_every_registered_figure_from_the_stored_results(figure, tmp_path, li_report, capsys, monkeypatch):
    """`biosnn figures --only <figure>` on the results shipped in biosnn/reporting/figures/results and a validate report
    writes a non-empty PDF (fonts embedded) and a 300 dpi PNG for each of the figure's outputs, and
    simulates nothing (every simulation entry point raises while it draws)."""
    import brian2

    import biosnn
    import biosnn.simulation
    from biosnn.cli import main
    from biosnn.torch.layer import Layer
    from biosnn.torch.network import FeedForward

    def no_simulation(*args, **kwargs):
        raise AssertionError("a figure script simulated")

    for owner, name in (
        (biosnn, "simulate"),
        (biosnn, "simulate_network"),
        (biosnn.simulation, "simulate"),
        (biosnn.simulation, "simulate_network"),
        (brian2.Network, "run"),
        (FeedForward, "forward"),
        (Layer, "forward"),
    ):
        monkeypatch.setattr(owner, name, no_simulation)

    out = tmp_path / "figs"
    assert (
        main(
            [
                "figures",
                "--results",
                str(STORED_RESULTS),
                str(li_report),
                "--out",
                str(out),
                "--quiet",
                "--only",
                figure.module,
            ]
        )
        == 0
    )
    stems = sorted({p.with_suffix("") for p in out.glob(figure.outputs + ".png")})
    assert stems, figure.module
    for stem in stems:
        _check(out, stem.name)
    assert "of 1 figures written" in capsys.readouterr().out


def test_the_stored_results_feed_every_figure(li_report):
    """Nothing is missing: every registered figure finds all its inputs in biosnn/reporting/figures/results (and a report)."""
    from biosnn.reporting.figures import missing_inputs

    assert {f.module: missing_inputs(f, [STORED_RESULTS, li_report]) for f in FIGURES} == {
        f.module: [] for f in FIGURES
    }


def test_missing_results_are_named_before_anything_is_drawn(tmp_path):
    (tmp_path / "lee_convergence.json").write_text("{}")
    with pytest.raises(BiosnnInputError, match=r"fig_equivalence: no traces/\*_brian2.npz") as err:
        render_all([tmp_path], tmp_path / "out", progress=False)
    assert "fig_lee_convergence" not in str(err.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(BiosnnInputError, match="does not exist"):
        render_all([tmp_path / "nowhere"], tmp_path / "out", progress=False)
    with pytest.raises(BiosnnInputError, match="no figure 'fig_nothing'"):
        render_all([tmp_path], tmp_path / "out", only=["fig_nothing"], progress=False)


def test_results_without_the_expected_layout_are_bad_input(tmp_path):
    """Well-formed JSON of another layout names the figure and its file, never a traceback."""
    (tmp_path / "lee_convergence.json").write_text(json.dumps({"runs": [{"rows": [{"dt": 1e-4}]}]}))
    with pytest.raises(BiosnnInputError, match=r"fig_lee_convergence reading .*lee_convergence.json.*KeyError"):
        render_all([tmp_path], tmp_path / "out", only=["fig_lee_convergence"], progress=False)
    (tmp_path / "lee_convergence.json").write_text("[]")
    with pytest.raises(BiosnnInputError, match="does not have the layout"):
        render_all([tmp_path], tmp_path / "out", only=["fig_lee_convergence"], progress=False)
    (tmp_path / "file").write_text("")
    with pytest.raises(BiosnnInputError, match="is a file"):
        render_all([tmp_path], tmp_path / "file", only=["fig_lee_convergence"], progress=False)


def test_results_are_looked_up_in_the_first_root_that_has_them(tmp_path):
    from biosnn.reporting.figures import locate

    first, second = tmp_path / "a", tmp_path / "b"
    (first / "traces").mkdir(parents=True)
    (second / "traces").mkdir(parents=True)
    (second / "traces" / "x_brian2.npz").write_bytes(b"")
    (second / "scaling.json").write_text("{}")
    (first / "scaling.json").write_text("{}")
    assert locate([first, second], "traces/*_brian2.npz") == [second / "traces" / "x_brian2.npz"]
    assert locate([first, second], "scaling.json") == [first / "scaling.json"]
    assert locate([first, second], "nothing.json") == []


def test_fig_lee_convergence(tmp_path):
    rows = [dict(dt=dt, mean_timing_error_s=dt / 2, unmatched_fraction=dt * 1e3) for dt in (4e-4, 2e-4, 1e-4)]
    (tmp_path / "lee_convergence.json").write_text(
        json.dumps({"runs": [{"seed": 0, "rows": rows}], "timing_order": 1.0, "mismatch_order": 1.0})
    )
    _render("fig_lee_convergence", tmp_path, tmp_path)
    _check(tmp_path, "lee_convergence")


def test_fig_gamma_dt_reads_every_table(tmp_path):
    table = [
        dict(dt=dt, accuracy_torch=0.95, accuracy_brian2=0.95, spikes_per_sample=20 + dt * 1e3)
        for dt in (1e-3, 5e-4, 2.5e-4)
    ]
    for name, hidden in (("gamma_dt_table.json", 0), ("gamma_dt_table_hidden.json", 8)):
        runs = [
            dict(config=dict(objective=objective, n_hidden=hidden, dt=1e-3), dt_table=table)
            for objective in ("bptt", "online")
        ]
        (tmp_path / name).write_text(json.dumps({"runs": runs}))
    _render("fig_gamma_dt", tmp_path, tmp_path)
    _check(tmp_path, "gamma_dt")
    (tmp_path / "gamma_dt_table.json").write_text(json.dumps({"runs": []}))
    (tmp_path / "gamma_dt_table_hidden.json").unlink()
    with pytest.raises(BiosnnInputError, match="no runs"):
        _render("fig_gamma_dt", tmp_path, tmp_path)


def test_fig_scaling_leaves_failed_points_out(tmp_path):
    def point(n, steps):
        scale = n * steps * 1e-8
        return dict(
            n=n,
            steps=steps,
            torch_inference=scale,
            torch_train=3 * scale,
            brian2_run=5 * scale,
            brian2_loop=2 * scale,
            brian2_build=20.0,
        )

    points = [point(n, 100) for n in (1000, 10000, 100000)] + [point(10000, t) for t in (1000, 10000)]
    points.append(dict(n=1000000, steps=100, error="MemoryError"))
    (tmp_path / "scaling.json").write_text(json.dumps({"points": points}))
    _render("fig_scaling", tmp_path, tmp_path)
    _check(tmp_path, "scaling")
    (tmp_path / "scaling.json").write_text(json.dumps({"points": points[-1:]}))
    with pytest.raises(BiosnnInputError, match="no measured point"):
        _render("fig_scaling", tmp_path, tmp_path)


def test_fig_perturbation_accuracy_reads_the_sweep_table(tmp_path):
    """Mean accuracy over perturbation seeds per (family, kind, backend, dt, training seed, strength); a network
    without a ``-seed<N>`` suffix is its own family on seed 0; an empty table is refused."""
    from biosnn.studies.perturbation.table import SweepTable

    (tmp_path / "timing").mkdir()
    figure = module_of(by_module("fig_perturbation_accuracy"))
    table = SweepTable(tmp_path / "timing" / "sweep.sqlite")
    table.close()
    with pytest.raises(BiosnnInputError, match="holds no points"):
        figure.render([tmp_path], tmp_path)
    with sqlite3.connect(tmp_path / "timing" / "sweep.sqlite") as db:
        for seed, accuracy in ((0, 0.5), (1, 0.7)):
            for backend, dt in (("torch", 1e-3), ("brian2", 1e-3), ("brian2", 2.5e-4), ("rate_mlp", 1e-3)):
                db.execute(
                    "INSERT INTO points (network, dataset, kind, strength, seed, backend, dt, accuracy, "
                    "n_samples, input_spikes, lost_spikes, binned, seconds, code_version) VALUES "
                    "('net', 'data', 'deletion', 0.5, ?, ?, ?, ?, 10, 100, 0, 0, 1.0, 'x')",
                    (seed, backend, dt, accuracy),
                )
    points = figure.accuracy_table(tmp_path / "timing" / "sweep.sqlite")
    assert points["net"]["deletion"][("brian2", 2.5e-4)] == {0: [(0.5, pytest.approx(0.6))]}
    figure.render([tmp_path], tmp_path)
    _check(tmp_path, "perturbation_accuracy")


def test_fig_plif_tau_needs_a_tau_history(tmp_path):
    def run(learn):
        config = dict(tau_hidden=0.02, learn_tau=learn, seed=0, epochs=3)
        taus = [[0.02], [0.021], [0.024], [0.03]] if learn else [[0.02]] * 4
        return dict(name="x", config=config, tau_m_history=taus, test_accuracy_history=[0.3, 0.5, 0.6, 0.7])

    (tmp_path / "plif_tau.json").write_text(json.dumps({"runs": [run(True), run(False)]}))
    _render("fig_plif_tau", tmp_path, tmp_path)
    _check(tmp_path, "plif_tau")
    (tmp_path / "plif_tau.json").write_text(json.dumps({"runs": [run(True), run(True)]}))
    with pytest.raises(BiosnnInputError, match="two runs of initial tau_m 20 ms, tau learned, seed 0"):
        _render("fig_plif_tau", tmp_path, tmp_path)
    (tmp_path / "plif_tau.json").write_text(json.dumps({"runs": [dict(name="old", config={}, loss=[1.0])]}))
    with pytest.raises(BiosnnInputError, match="no run with a tau_m_history"):
        _render("fig_plif_tau", tmp_path, tmp_path)


def test_fig_perturbation_rasters_draws_each_kind(tmp_path):
    """One sample of a stored test set, unperturbed and under every registered perturbation."""
    from biosnn.core.spikes import SpikeTrains
    from biosnn.data.dataset import SpikeDataset

    rng = np.random.default_rng(0)
    times = np.sort(rng.uniform(0, 0.1, 200))
    spikes = SpikeTrains.from_unsorted(times, rng.integers(0, 10, 200), 10, 0.1, np.zeros(200, int), 1)
    (tmp_path / "timing" / "data").mkdir(parents=True)
    SpikeDataset(spikes, np.array([0]), 2).save(tmp_path / "timing" / "data" / "net-test.npz")
    _render("fig_perturbation_rasters", tmp_path, tmp_path)
    _check(tmp_path, "perturbation_rasters")


def test_a_non_spiking_overlay_has_no_raster_panel(li_report, tmp_path):
    """li's overlay: membrane and |dv| only (no empty raster); the same traces drawn as a spiking model's get
    the raster panel, a figure 1 inch taller (1380 against 1080 pixels at 300 dpi)."""
    from PIL import Image

    from biosnn.core.trace import Trace
    from biosnn.reporting.overlay import plot_equivalence

    _render("fig_equivalence", li_report, tmp_path)
    ref, mirror = (Trace.load(li_report / "traces" / f"li_{b}.npz") for b in ("brian2", "torch"))
    spiking = plot_equivalence(ref, mirror, tmp_path / "as_spiking", spiking=True)
    drawn = (tmp_path / "overlay_li.png", next(p for p in spiking if p.suffix == ".png"))
    heights = [Image.open(p).size[1] for p in drawn]
    assert heights == [1080, 1380]


def test_figures_are_byte_reproducible(tmp_path, monkeypatch):
    """The same figure saved at two different times gives identical PDF and PNG bytes: no creation date
    is written (matplotlib would stamp the PDF with the time, or with $SOURCE_DATE_EPOCH, set here to two
    different days so the test does not depend on the clock ticking between the saves)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from biosnn.reporting.save import save_figure

    written = []
    for day, epoch in enumerate(("1700000000", "1800000000")):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        written.append(save_figure(fig, tmp_path / str(day) / "line"))
    for first, second in zip(*written):
        assert first.read_bytes() == second.read_bytes(), first.name
    assert b"/CreationDate" not in written[0][1].read_bytes()
