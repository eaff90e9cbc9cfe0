"""Curves over seeds (biosnn.reporting.bands) and the study figures drawn with them: each seed faint, the mean
over seeds as the set-up's line, the bootstrap 95% interval of the mean (biosnn.studies.statistics.summarize)
as a band, and a set-up with one seed as its line alone."""

import json

import numpy as np
import pytest

from biosnn.reporting import bands
from biosnn.reporting.figures import by_module, module_of
from biosnn.studies.statistics import summarize

#: the band is summarize()'s interval times the drawing scale: one float multiplication on both sides
EXACT = 1e-12
#: the mean line is the mean of the same floats, summed in the same order (nanmean against mean)
MEAN_RTOL = 1e-12
INTERVAL_LABEL = "mean, 95% interval (5 seeds)"
#: five training seeds, one not in numeric order as text (10 sorts before 2)
SEEDS = (0, 1, 2, 3, 10)


def _axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    return fig, ax


def _expected(per_seed_values, scale=1.0):
    """(mean, low, high) per x of ``[seeds, x]`` values, as summarize gives them, times ``scale``."""
    columns = np.asarray(per_seed_values, dtype=float).T
    summaries = [summarize(column) for column in columns]
    return (
        np.array([np.mean(c) for c in columns]) * scale,
        np.array([s.low for s in summaries]) * scale,
        np.array([s.high for s in summaries]) * scale,
    )


def _check_band(band, per_seed_values, scale=1.0):
    mean, low, high = _expected(per_seed_values, scale)
    assert band.n == len(per_seed_values)
    np.testing.assert_allclose(band.mean, mean, rtol=MEAN_RTOL)
    np.testing.assert_allclose(band.low, low, rtol=EXACT)
    np.testing.assert_allclose(band.high, high, rtol=EXACT)
    assert np.all(band.low < band.mean) and np.all(band.mean < band.high)  # the values below have a spread


# -- the helper ---------------------------------------------------------------------------------------


def test_seed_band_draws_each_seed_the_mean_and_the_interval():
    import matplotlib.pyplot as plt

    x = np.array([1.0, 2.0, 4.0])
    values = np.array(
        [[0.90, 0.91, 0.85], [0.95, 0.93, 0.90], [0.80, 0.86, 0.84], [0.88, 0.90, 0.91], [0.93, 0.97, 0.79]]
    )
    fig, ax = _axes()
    band = bands.seed_band(ax, x, values, "#D55E00", "torch", scale=100, marker="s")
    _check_band(band, values, scale=100)
    np.testing.assert_array_equal(band.x, x)
    # what is on the axes: five faint seed lines, the band's polygon, the mean line (labelled)
    faint = [line for line in ax.get_lines() if line.get_alpha() == bands.SEED_ALPHA]
    assert len(faint) == 5
    for line, row in zip(faint, values):
        np.testing.assert_allclose(line.get_ydata(), row * 100, rtol=EXACT)
    assert band.line.get_label() == "torch" and band.line.get_marker() == "s"
    np.testing.assert_allclose(band.line.get_ydata(), band.mean, rtol=EXACT)
    (polygon,) = ax.collections
    assert polygon.get_alpha() == bands.BAND_ALPHA
    vertices = polygon.get_paths()[0].vertices
    for xj, lo, hi in zip(x, band.low, band.high):
        ys = vertices[np.isclose(vertices[:, 0], xj), 1]
        assert np.isclose(ys, lo, rtol=EXACT).any() and np.isclose(ys, hi, rtol=EXACT).any(), (xj, ys)
    assert vertices[:, 1].min() == pytest.approx(band.low.min(), rel=EXACT)
    assert vertices[:, 1].max() == pytest.approx(band.high.max(), rel=EXACT)
    # the legend: the set-up once, the interval once, no seed
    handles, labels = bands.legend_items(ax, [band])
    assert labels == ["torch", INTERVAL_LABEL]
    plt.close(fig)


def test_one_seed_is_its_line_alone_and_says_so_beside_a_band():
    import matplotlib.pyplot as plt

    fig, ax = _axes()
    alone = bands.seed_band(ax, [1, 2, 3], [[0.5, 0.6, 0.7]], "C0", "old run", scale=100)
    assert alone.n == 1 and alone.low is None and alone.high is None
    np.testing.assert_allclose(alone.mean, [50, 60, 70])
    assert not ax.collections and len(ax.get_lines()) == 1
    assert bands.legend_items(ax, [alone])[1] == ["old run"]  # no interval anywhere: no interval entry
    spread = bands.seed_band(ax, [1, 2, 3], [[0.5, 0.6, 0.7], [0.6, 0.6, 0.9], [0.4, 0.7, 0.8]], "C1", "new")
    assert bands.legend_items(ax, [alone, spread])[1] == [
        "old run (1 seed)",
        "new",
        "mean, 95% interval (3 seeds)",
    ]
    plt.close(fig)


def test_gaps_one_x_and_uneven_seed_counts():
    """A point fewer than two seeds have: mean of those present, no band there; a curve of one x: a bar;
    set-ups with different seed counts: the range in the legend."""
    import matplotlib.pyplot as plt

    x, values = bands.per_seed([(0, 1, 0.5), (0, 2, 0.6), (1, 1, 0.7), (2, 1, 0.9)])  # x = 2: seed 0 only
    np.testing.assert_array_equal(x, [1, 2])
    assert np.isnan(values[1:, 1]).all()
    fig, ax = _axes()
    band = bands.seed_band(ax, x, values, "C0", "gappy")
    _, first_low, first_high = _expected(values[:, :1])  # x = 1: all three seeds
    assert (band.low[0], band.high[0]) == (
        pytest.approx(first_low[0], rel=EXACT),
        pytest.approx(first_high[0], rel=EXACT),
    )
    assert np.isnan(band.low[1]) and np.isnan(band.high[1])
    assert band.mean[1] == 0.6
    bar = bands.seed_band(ax, [0.0], [[0.1], [0.3], [0.2], [0.4], [0.25]], "C1", "one strength")
    _check_band(bar, [[0.1], [0.3], [0.2], [0.4], [0.25]])
    segments = ax.collections[-1].get_segments()  # the bar drawn instead of a band of zero width
    np.testing.assert_allclose(segments[0][:, 1], [bar.low[0], bar.high[0]], rtol=EXACT)
    assert bands.legend_items(ax, [band, bar])[1][-1] == "mean, 95% interval (3-5 seeds)"
    plt.close(fig)


def test_per_seed_orders_seeds_by_number_and_averages_repeats():
    x, values = bands.per_seed([(10, 0.5, 0.2), (2, 0.5, 0.4), (2, 0.5, 0.6), (2, 0.0, 1.0), (10, 0.0, 0.9)])
    np.testing.assert_array_equal(x, [0.0, 0.5])
    np.testing.assert_allclose(values, [[1.0, 0.5], [0.9, 0.2]])  # seed 2 before seed 10


# -- the figures --------------------------------------------------------------------------------------


@pytest.fixture
def drawn(monkeypatch):
    """Render a figure module, recording every band it draws and the figure it saves."""

    def render(name, root, out):
        module = module_of(by_module(name))
        record = {"bands": [], "figure": None}

        def recording(ax, x, values, colour, label=None, **line):
            band = bands.seed_band(ax, x, values, colour, label, **line)
            record["bands"].append((ax, label, band))
            return band

        real_save = module.save_figure

        def capture(fig, stem, **kwargs):
            record["figure"] = fig
            record["legend"] = [t.get_text() for legend in fig.legends for t in legend.get_texts()] + [
                t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
            ]
            return real_save(fig, stem, **kwargs)

        monkeypatch.setattr(module, "seed_band", recording)
        monkeypatch.setattr(module, "save_figure", capture)
        written = module.render([root], out)
        assert sorted(p.suffix for p in written) == [".pdf", ".png"]
        return record

    return render


#: per seed (in SEEDS order) and evaluation dt (dt, dt/2, dt/4): accuracies of one set-up, and its spikes
GAMMA_ACCURACY = ((0.97, 0.96, 0.95), (0.99, 0.99, 0.98), (0.93, 0.95, 0.90), (0.96, 0.93, 0.97), (0.98, 0.97, 0.92))
GAMMA_SPIKES = ((20.0, 22.0, 23.0), (18.0, 19.5, 21.0), (25.0, 26.0, 26.5), (21.0, 23.0, 22.0), (19.0, 20.0, 24.0))


def test_fig_gamma_dt_draws_the_mean_and_interval_over_seeds(tmp_path, drawn):
    """Five seeds of bptt (stored out of seed order: drawn in seed order, as the numbers are quoted), one of
    online: the accuracy and spike bands of bptt are summarize()'s, online has no band."""

    def run(objective, seed, accuracy, spikes):
        table = [
            dict(dt=1e-3 / f, accuracy_torch=a, accuracy_brian2=a - 0.01, spikes_per_sample=s)
            for f, a, s in zip((1, 2, 4), accuracy, spikes)
        ]
        return dict(config=dict(objective=objective, n_hidden=0, dt=1e-3, seed=seed), dt_table=table)

    order = [4, 0, 3, 1, 2]
    runs = [run("bptt", SEEDS[i], GAMMA_ACCURACY[i], GAMMA_SPIKES[i]) for i in order]
    runs.append(run("online", 0, (0.9, 0.8, 0.7), (10.0, 11.0, 12.0)))
    (tmp_path / "gamma_dt_table.json").write_text(json.dumps({"runs": runs}))
    record = drawn("fig_gamma_dt", tmp_path, tmp_path)
    (acc_ax, bptt, accuracy), (spike_ax, _, spikes), (_, online, alone), (_, _, alone_spikes) = record["bands"]
    assert bptt == "bptt, trained at 1 ms" and online == "online, trained at 1 ms"
    assert acc_ax is record["figure"].axes[0] and spike_ax is record["figure"].axes[1]
    np.testing.assert_array_equal(accuracy.x, [1, 2, 4])
    _check_band(accuracy, GAMMA_ACCURACY, scale=100)
    _check_band(spikes, GAMMA_SPIKES)
    assert alone.low is None and alone_spikes.low is None
    np.testing.assert_allclose(alone.mean, [90, 80, 70])
    # Brian2: open circles at its mean over seeds
    circles = [
        line
        for line in acc_ax.get_lines()
        if line.get_marker() == "o" and line.get_color() == accuracy.line.get_color()
    ]
    np.testing.assert_allclose(circles[0].get_ydata(), np.mean(np.array(GAMMA_ACCURACY) - 0.01, axis=0) * 100)
    assert record["legend"].count(INTERVAL_LABEL) == 1 and "online, trained at 1 ms (1 seed)" in record["legend"]


def test_fig_lee_digits_mu_draws_the_mean_and_interval_over_seeds(tmp_path, drawn):
    mus = (0.0, -0.4, -0.8)
    accuracy = {s: [0.90 - 0.02 * k + 0.013 * ((s * 7 + k * 3) % 5) for k in range(3)] for s in SEEDS}
    runs = [
        dict(
            config=dict(rule="lee", mu_hidden=mu, seed=s), accuracy_torch=accuracy[s][k], accuracy_brian2=accuracy[s][k]
        )
        for s in reversed(SEEDS)
        for k, mu in enumerate(mus)
    ]
    runs += [
        dict(config=dict(rule="surrogate", mu_hidden=mu, seed=0), accuracy_torch=0.8, accuracy_brian2=0.8) for mu in mus
    ]
    (tmp_path / "lee_digits.json").write_text(json.dumps({"runs": runs}))
    record = drawn("fig_lee_digits_mu", tmp_path, tmp_path)
    (_, lee, band), (_, surrogate, alone) = record["bands"]
    assert (lee, surrogate) == ("Lee et al. rule (torch)", "surrogate gradient (torch)")
    np.testing.assert_array_equal(band.x, sorted(mus))
    per_seed = [[accuracy[s][mus.index(mu)] for mu in sorted(mus)] for s in SEEDS]
    _check_band(band, per_seed, scale=100)
    assert alone.low is None
    assert record["legend"].count(INTERVAL_LABEL) == 1


def _sweep(root, rows):
    from biosnn.studies.perturbation.table import COLUMNS, SweepTable

    (root / "timing").mkdir(parents=True, exist_ok=True)
    table = SweepTable(root / "timing" / "sweep.sqlite")
    names = [name for name, _ in COLUMNS]
    defaults = dict(
        dataset="isi",
        n_samples=256,
        agreement=None,
        input_spikes=100,
        lost_spikes=0,
        binned=0,
        seconds=1.0,
        code_version="test",
    )
    for row in rows:
        table.write_point([{name: (row | defaults)[name] for name in names}])
    table.close()


def test_fig_perturbation_accuracy_draws_families_over_training_seeds(tmp_path, drawn):
    """Networks net-seed<N> form one family (one row of panels); each network's accuracy is first averaged over
    its two perturbation seeds; the band is summarize() over the five networks, in seed order (as
    aggregate() quotes it); a network without a seed suffix is a family of one: no band, never a crash."""
    strengths = (0.0, 0.5, 1.0)

    def accuracy(seed, strength, perturbation_seed, backend):
        return 0.9 - 0.3 * strength + 0.02 * ((seed * 3 + perturbation_seed) % 4) - (0.05 if backend != "torch" else 0)

    backends = (("torch", 1e-3), ("brian2", 1e-3), ("brian2", 2.5e-4), ("rate_mlp", 1e-3))
    rows = [
        dict(
            network=f"net-seed{s}",
            kind="deletion",
            strength=strength,
            seed=p,
            backend=backend,
            dt=dt,
            accuracy=accuracy(s, strength, p, backend),
        )
        for s in SEEDS
        for strength in strengths
        for p in (0, 1)
        for backend, dt in backends
    ]
    rows += [
        dict(
            network=f"net-seed{s}", kind="time_reversal", strength=1.0, seed=0, backend=b, dt=dt, accuracy=0.5 + s / 100
        )
        for s in SEEDS
        for b, dt in backends
    ]
    rows += [
        dict(network="solo", kind="deletion", strength=strength, seed=0, backend=b, dt=dt, accuracy=0.6)
        for strength in strengths
        for b, dt in backends
    ]
    _sweep(tmp_path, rows)
    record = drawn("fig_perturbation_accuracy", tmp_path, tmp_path)
    axes = record["figure"].axes  # row-major: (net, deletion), (net, time reversal), (solo, ...)
    by_panel = {(axes.index(ax), label): band for ax, label, band in record["bands"]}
    assert set(by_panel) == {
        (panel, label) for panel in (0, 1, 2) for label in ("torch, 1 ms", "Brian2, 0.25 ms", "rate-only, MLP")
    }
    for label, backend in (("torch, 1 ms", "torch"), ("Brian2, 0.25 ms", "brian2"), ("rate-only, MLP", "rate_mlp")):
        per_network = [[np.mean([accuracy(s, x, p, backend) for p in (0, 1)]) for x in strengths] for s in SEEDS]
        _check_band(by_panel[0, label], per_network, scale=100)
        _check_band(by_panel[1, label], [[0.5 + s / 100] for s in SEEDS], scale=100)  # one strength: a bar
        assert by_panel[2, label].low is None  # "solo": one seed
    assert record["legend"].count(INTERVAL_LABEL) == 1


def test_fig_plif_tau_draws_tau_over_seeds_per_initial_tau(tmp_path, drawn):
    """Five seeds at initial tau 20 ms, tau learned and fixed (stored out of seed order, named unlike their
    configs: grouped by config), one learned seed at 2 ms: the tau and accuracy bands are summarize()'s, the
    fixed runs' accuracy dashed in the learned runs' colour, the 2 ms set-up a line without a band."""

    def run(tau, learn, seed, taus, accuracy):
        config = dict(task="coincidence", tau_hidden=tau, learn_tau=learn, seed=seed, epochs=2, dt=1e-3)
        return dict(
            name=f"misleading-seed{99 - seed}",  # the figure must not parse names
            config=config,
            loss=[1.0, 0.5],
            tau_m_history=[[t] for t in taus],
            test_accuracy_history=accuracy,
            test_accuracy_torch=accuracy[-1],
        )

    tau = {s: [0.02, 0.021 + 0.0003 * (s % 4), 0.023 + 0.0005 * ((s * 3) % 5)] for s in SEEDS}
    # before training (epoch 0) a seed's two networks are one network: the same accuracy
    learned = {s: [0.3 + 0.01 * s, 0.6 + 0.02 * (s % 3), 0.8 + 0.01 * ((s * 3) % 5)] for s in SEEDS}
    fixed = {s: [0.3 + 0.01 * s, 0.5 + 0.03 * (s % 3), 0.7 + 0.02 * (s % 4)] for s in SEEDS}
    runs = [run(0.02, True, s, tau[s], learned[s]) for s in reversed(SEEDS)]
    runs += [run(0.02, False, s, [0.02] * 3, fixed[s]) for s in reversed(SEEDS)]
    runs.append(run(0.002, True, 0, [0.002, 0.0015, 0.0012], [0.3, 0.5, 0.6]))
    (tmp_path / "plif_tau.json").write_text(json.dumps({"study": "plif_tau", "runs": runs}))
    record = drawn("fig_plif_tau", tmp_path, tmp_path)
    left, right = record["figure"].axes
    by_panel = {(ax is left, label): band for ax, label, band in record["bands"]}
    assert set(by_panel) == {
        (True, "initial tau_m 2 ms"),
        (False, "initial tau_m 2 ms, tau learned"),
        (True, "initial tau_m 20 ms"),
        (False, "initial tau_m 20 ms, tau learned"),
        (False, "initial tau_m 20 ms, tau fixed"),
    }  # no fixed 2 ms run: none drawn; the tau panel holds learned runs only
    taus = by_panel[True, "initial tau_m 20 ms"]
    np.testing.assert_array_equal(taus.x, [0, 1, 2])
    mean, low, high = _expected([tau[s][1:] for s in SEEDS], scale=1e3)
    np.testing.assert_allclose(taus.mean, [20.0, *mean], rtol=MEAN_RTOL)
    np.testing.assert_allclose(taus.low[1:], low, rtol=EXACT)
    np.testing.assert_allclose(taus.high[1:], high, rtol=EXACT)
    assert taus.low[0] == taus.high[0] == pytest.approx(20.0)  # every seed starts at 20 ms: no spread
    assert left.get_yscale() == "log"
    _check_band(by_panel[False, "initial tau_m 20 ms, tau learned"], [learned[s] for s in SEEDS], scale=100)
    _check_band(by_panel[False, "initial tau_m 20 ms, tau fixed"], [fixed[s] for s in SEEDS], scale=100)
    lines = {label: band.line for (_, label), band in by_panel.items()}
    assert lines["initial tau_m 20 ms, tau fixed"].get_linestyle() == "--"
    assert lines["initial tau_m 20 ms, tau learned"].get_linestyle() == "-"
    assert lines["initial tau_m 20 ms, tau fixed"].get_color() == lines["initial tau_m 20 ms, tau learned"].get_color()
    assert lines["initial tau_m 20 ms"].get_color() == lines["initial tau_m 20 ms, tau learned"].get_color()
    assert lines["initial tau_m 2 ms"].get_color() != lines["initial tau_m 20 ms"].get_color()
    assert (
        by_panel[True, "initial tau_m 2 ms"].low is None
        and by_panel[False, "initial tau_m 2 ms, tau learned"].low is None
    )
    assert record["legend"].count(INTERVAL_LABEL) == 1
    assert "initial tau_m 2 ms (1 seed)" in record["legend"] and "accuracy, tau_m fixed (LIF)" in record["legend"]
