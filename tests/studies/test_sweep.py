"""Perturbation sweeps into SQLite: rows, backend agreement, kill-and-resume, parallel jobs, bad input."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from sweep_commands import perturb_command, small_isi_case, stored_points

from biosnn.core.errors import BiosnnInputError
from biosnn.data.dataset import SpikeDataset
from biosnn.data.tasks import isi_task
from biosnn.models.network import FeedForwardNet
from biosnn.studies.perturbation.sweep import SweepSpec, point_seed, run_sweep
from biosnn.studies.perturbation.table import KEY, SweepTable

DT = 1e-3
GRID = [
    ("random_replacement", 0.0),
    ("random_replacement", 0.5),
    ("spike_jitter", 2e-3),
    ("deletion", 0.5),
    ("time_reversal", 1),
]
#: what differs between two runs of the same point: the wall time
VOLATILE = ("seconds",)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """A small untrained ISI network (PLIF 12 -> LI 2, with axonal delays) and 24 test samples of 0.15 s."""
    return small_isi_case(tmp_path_factory.mktemp("sweep"), 24, DT)


def stable(rows):
    return [{k: v for k, v in row.items() if k not in VOLATILE} for row in rows]


def test_every_point_backend_and_dt_gets_one_row_and_brian2_agrees_on_the_training_grid(case, tmp_path):
    folder, net, data = case
    table = SweepTable(tmp_path / "s.sqlite")
    spec = SweepSpec("net", "data", DT, brian_dts=(DT, DT / 2))
    summary = run_sweep(table, net, data, spec, GRID, [0], progress=False)
    rows = table.rows()
    assert summary["points"] == 5 and len(rows) == 5 * 3
    assert len({tuple(r[k] for k in KEY) for r in rows}) == len(rows)
    on_grid = [r for r in rows if r["backend"] == "brian2" and r["dt"] == DT]
    assert all(r["agreement"] == 1.0 for r in on_grid)  # the exact twin predicts what torch predicts
    torch_rows = {(r["kind"], r["strength"], r["seed"]): r for r in rows if r["backend"] == "torch"}
    for r in on_grid:
        assert r["accuracy"] == torch_rows[(r["kind"], r["strength"], r["seed"])]["accuracy"]
    identity = [r for r in rows if r["kind"] == "random_replacement" and r["strength"] == 0.0]
    assert len({r["input_spikes"] for r in identity}) == 1 and identity[0]["input_spikes"] == len(data.spikes)
    again = run_sweep(table, net, data, spec, GRID, [0], progress=False)
    assert again["points"] == 0 and again["skipped"] == 5 and len(table.rows()) == 15


def test_a_point_draws_the_same_spikes_in_any_order_and_process(case, tmp_path):
    folder, net, data = case
    spec = SweepSpec("net", "data", DT, backends=("torch",))
    one, two = SweepTable(tmp_path / "a.sqlite"), SweepTable(tmp_path / "b.sqlite")
    run_sweep(one, net, data, spec, GRID, [0], progress=False)
    run_sweep(two, net, data, spec, list(reversed(GRID)), [0], jobs=2, progress=False)
    assert stable(one.rows()) == stable(two.rows())
    assert point_seed("deletion", 0.5, 0).entropy != point_seed("deletion", 0.5, 1).entropy


def test_binned_rows_perturb_on_the_training_grid(case, tmp_path):
    folder, net, data = case
    table = SweepTable(tmp_path / "s.sqlite")
    run_sweep(
        table, net, data, SweepSpec("net", "data", DT, binned=True), [("spike_jitter", 3e-3)], [0], progress=False
    )
    rows = table.rows()
    assert {r["binned"] for r in rows} == {1}
    assert [r["agreement"] for r in rows if r["backend"] == "brian2"] == [1.0]


def _perturb_cli(folder, db, *extra):
    return perturb_command(folder, db, DT, ["random_replacement=0,0.5,1", "deletion=0.5"], *extra)


def _points(db) -> int:
    return stored_points(db)


def test_a_sweep_killed_mid_way_completes_with_exactly_the_expected_rows(case, tmp_path):
    folder, _, _ = case
    killed = tmp_path / "killed.sqlite"
    process = subprocess.Popen(_perturb_cli(folder, killed), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while _points(killed) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the sweep ended before it could be killed: make the grid longer"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stored = _points(killed)
    assert 2 <= stored < 8
    rerun = subprocess.run(
        _perturb_cli(folder, killed, "--export", str(tmp_path / "all.csv")), capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{8 - stored} points evaluated, {stored} already stored" in rerun.stdout
    whole = SweepTable(tmp_path / "whole.sqlite")  # the same sweep, uninterrupted, in process
    run_sweep(
        whole,
        FeedForwardNet.load(folder / "net.npz"),
        SpikeDataset.load(folder / "data.npz"),
        SweepSpec("net", "data", DT),
        [("random_replacement", f) for f in (0, 0.5, 1)] + [("deletion", 0.5)],
        [0, 1],
        progress=False,
    )
    a = SweepTable(killed)
    assert len(a.rows()) == 8 * 2
    assert stable(a.rows()) == stable(whole.rows())  # same rows, same values, none twice
    assert (tmp_path / "all.csv").read_text().count("\n") == 8 * 2 + 1


def test_a_name_bound_to_another_file_is_refused(case, tmp_path):
    folder, net, data = case
    table = SweepTable(tmp_path / "s.sqlite")
    table.register("net", "network", "a" * 64)
    with pytest.raises(BiosnnInputError, match="another network named 'net'"):
        table.register("net", "network", "b" * 64)


@pytest.mark.parametrize(
    "content, message",
    [(b"not a database at all", "not an SQLite file"), (b"SQLite format 3\x00" + b"\x00" * 200, "not usable")],
)
def test_a_corrupt_database_is_refused(tmp_path, content, message):
    path = tmp_path / "bad.sqlite"
    path.write_bytes(content)
    with pytest.raises(BiosnnInputError, match=message):
        SweepTable(path)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--grid", "shuffle=0.1"], "unknown perturbation"),
        (["--grid", "deletion=-0.5"], ">= 0"),
        (["--grid", "deletion=1.5"], r"\[0, 1\]"),
        (["--grid", "deletion"], "KIND=S1"),
        (["--train-dt", "0"], "positive"),
        (["--export", "out.txt"], ".csv or .parquet"),
    ],
)
def test_cli_bad_input_fails_before_any_point(case, tmp_path, args, message):
    folder, _, _ = case
    db = tmp_path / "s.sqlite"
    base = [
        "perturb",
        "--network",
        str(folder / "net.npz"),
        "--data",
        str(folder / "data.npz"),
        "--train-dt",
        str(DT),
        "--db",
        str(db),
        "--grid",
        "deletion=0.2",
        "--quiet",
        "--backends",
        "torch",
    ]
    if args[0] in base:
        i = base.index(args[0])
        base[i + 1] = args[1]
        args = args[2:]
    result = subprocess.run(
        [sys.executable, "-m", "biosnn", *base, *args], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert message.replace("\\", "") in result.stderr or message in result.stderr
    assert _points(db) == 0


def test_rate_classifiers_are_evaluated_beside_both_backends(case, tmp_path):
    from biosnn.data.tasks import rate_baseline

    folder, net, data = case
    train = isi_task(np.random.default_rng(9), 200, duration=0.15, isi_range=(1e-3, 40e-3), rate_range=(5, 30))
    train = type(train)(train.spikes.one_per_step(DT)[0], train.labels, train.n_classes, train.meta)
    table = SweepTable(tmp_path / "s.sqlite")
    spec = SweepSpec("net", "data", DT, backends=("torch", "rate_logistic"))
    run_sweep(table, net, data, spec, [("deletion", 0.0), ("deletion", 0.9)], [0], train=train, progress=False)
    rate = {r["strength"]: r for r in table.rows() if r["backend"] == "rate_logistic"}
    assert rate[0.0]["accuracy"] == rate_baseline(train, data)  # unperturbed: the baseline itself
    assert rate[0.0]["agreement"] is not None and rate[0.9]["input_spikes"] < rate[0.0]["input_spikes"]
    with pytest.raises(BiosnnInputError, match="training set"):
        run_sweep(SweepTable(tmp_path / "t.sqlite"), net, data, spec, [("deletion", 0.5)], [0], progress=False)


def test_a_backend_added_later_is_computed_alone(case, tmp_path):
    folder, net, data = case
    table = SweepTable(tmp_path / "s.sqlite")
    run_sweep(table, net, data, SweepSpec("net", "data", DT, backends=("torch",)), GRID[:2], [0], progress=False)
    before = {(r["kind"], r["strength"]): r for r in table.rows()}
    summary = run_sweep(table, net, data, SweepSpec("net", "data", DT), GRID[:2], [0], progress=False)
    assert summary["points"] == 2
    rows = table.rows()
    assert len(rows) == 4
    for r in rows:
        if r["backend"] == "torch":
            assert r == before[(r["kind"], r["strength"])]  # not recomputed, not rewritten
        else:
            assert r["agreement"] == 1.0


def test_repeated_entries_are_evaluated_once_and_binned_rows_are_their_own_kind(case, tmp_path):
    folder, net, data = case
    table = SweepTable(tmp_path / "s.sqlite")
    grid = [("deletion", 0.5), ("deletion", 0.5)]
    run_sweep(table, net, data, SweepSpec("net", "data", DT, backends=("torch",)), grid, [0, 0], progress=False)
    run_sweep(
        table, net, data, SweepSpec("net", "data", DT, backends=("torch",), binned=True), grid, [0], progress=False
    )
    assert sorted(r["kind"] for r in table.rows()) == ["deletion", "deletion:temporal-shd"]


def test_names_are_registered_only_after_the_inputs_are_checked(case, tmp_path):
    folder, net, data = case
    table = SweepTable(tmp_path / "s.sqlite")
    wrong = data.subset(np.arange(4))
    wrong = type(wrong)(
        type(wrong.spikes)(wrong.spikes.times, wrong.spikes.units, 20, wrong.duration, wrong.spikes.samples, 4),
        wrong.labels,
        2,
    )
    with pytest.raises(BiosnnInputError, match="inputs"):
        run_sweep(
            table,
            net,
            wrong,
            SweepSpec("net", "data", DT),
            GRID,
            [0],
            sources=[("dataset", "data", "a" * 64)],
            progress=False,
        )
    run_sweep(
        table,
        net,
        data,
        SweepSpec("net", "data", DT, backends=("torch",)),
        GRID[:1],
        [0],
        sources=[("dataset", "data", "b" * 64), ("network", "data", "c" * 64)],
        progress=False,
    )
    assert len(table.rows()) == 1  # a network and a dataset may share a name


def test_a_database_of_another_layout_is_refused(tmp_path):
    path = tmp_path / "old.sqlite"
    SweepTable(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE sources")
        db.execute("CREATE TABLE sources (name TEXT PRIMARY KEY, kind TEXT NOT NULL, sha256 TEXT NOT NULL)")
    with pytest.raises(BiosnnInputError, match="another layout"):
        SweepTable(path)


def test_export_to_parquet_reads_back_the_same_rows(case, tmp_path):
    pyarrow_parquet = pytest.importorskip(
        "pyarrow.parquet", reason="pyarrow is a test extra (pip install -e '.[test]')"
    )
    folder, net, data = case
    table = SweepTable(tmp_path / "s.sqlite")
    run_sweep(table, net, data, SweepSpec("net", "data", DT, backends=("torch",)), GRID[:3], [0], progress=False)
    table.export(tmp_path / "rows.parquet")
    back = pyarrow_parquet.read_table(tmp_path / "rows.parquet").to_pylist()
    assert back == table.rows()


@pytest.mark.slow
def test_a_dask_worker_killed_mid_sweep_loses_and_duplicates_nothing(case, tmp_path):
    """A LocalCluster of 2 workers; one is killed (SIGKILL) once points are stored: its tasks are
    recomputed on the other (or its restarted self), and every point is written exactly once."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is a test extra (biosnn[cluster])")
    folder, net, data = case
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        db = tmp_path / "cluster.sqlite"
        process = subprocess.Popen(
            _perturb_cli(folder, db, "--scheduler", cluster.scheduler_address),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 300
        while _points(db) < 1 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the sweep ended before a worker could be killed"
        victim = sorted(client.run(os.getpid).values())[0]
        os.kill(victim, signal.SIGKILL)
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert "8 points evaluated, 0 already stored" in out
    finally:
        client.close()
        cluster.close()
    whole = SweepTable(tmp_path / "whole.sqlite")
    run_sweep(
        whole,
        FeedForwardNet.load(folder / "net.npz"),
        SpikeDataset.load(folder / "data.npz"),
        SweepSpec("net", "data", DT),
        [("random_replacement", f) for f in (0, 0.5, 1)] + [("deletion", 0.5)],
        [0, 1],
        progress=False,
    )
    assert stable(SweepTable(db).rows()) == stable(whole.rows())


def test_dts_that_differ_by_rounding_are_one_grid():
    spec = SweepSpec("n", "d", 1e-3, brian_dts=(3e-4, 1e-4 * 3, 1e-3 / 4, 2.5e-4))
    assert spec.runs() == [("torch", 1e-3), ("brian2", 3e-4), ("brian2", 2.5e-4)]


def test_an_unfittable_rate_classifier_is_refused_before_anything_is_registered(case, tmp_path):
    folder, net, data = case
    one_class = type(data)(data.spikes, np.zeros(len(data), np.int64), 2)
    table = SweepTable(tmp_path / "s.sqlite")
    with pytest.raises(BiosnnInputError, match="cannot be fitted"):
        run_sweep(
            table,
            net,
            data,
            SweepSpec("net", "data", DT, backends=("torch", "rate_logistic")),
            GRID[:1],
            [0],
            train=one_class,
            sources=[("network", "net", "a" * 64)],
            progress=False,
        )
    assert table.connection.execute("SELECT COUNT(*) FROM sources").fetchone()[0] == 0


def test_a_malformed_scheduler_address_is_a_clear_error(case, tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed is a test extra (biosnn[cluster])")
    folder, net, data = case
    with pytest.raises(BiosnnInputError, match="no dask scheduler"):
        run_sweep(
            SweepTable(tmp_path / "s.sqlite"),
            net,
            data,
            SweepSpec("net", "data", DT, backends=("torch",)),
            GRID[:1],
            [0],
            scheduler="localhost",
            progress=False,
        )


def test_time_multiplexed_copies_give_the_same_rows(case, tmp_path):
    """Brian2 on 5 copies of the network (24 samples time-multiplexed) stores what one copy per sample
    stores: the same accuracy and agreement at every point."""
    folder, net, data = case
    rows = []
    for copies in (None, 5):
        table = SweepTable(tmp_path / f"c{copies}.sqlite")
        run_sweep(table, net, data, SweepSpec("net", "data", DT, copies=copies), GRID[1:3], [0], progress=False)
        rows.append([{k: r[k] for k in ("kind", "strength", "backend", "accuracy", "agreement")} for r in table.rows()])
    assert rows[0] == rows[1] and all(r["agreement"] in (None, 1.0) for r in rows[1])


@pytest.mark.cpp_standalone
def test_cpp_standalone_sweep_builds_once_per_process(case, tmp_path, monkeypatch):
    """Every point of a cpp_standalone sweep reuses one compiled program; Brian2 predicts as torch does;
    after the sweep Brian2 is back on its runtime device (another simulation runs)."""
    import brian2

    from biosnn import simulate_network
    from biosnn.studies.perturbation import sweep as sweep_module

    folder, net, data = case
    used = []
    compiled = sweep_module._compiled
    monkeypatch.setattr(sweep_module, "_compiled", lambda *args: used.append(compiled(*args)) or used[-1])
    table = SweepTable(tmp_path / "s.sqlite")
    run_sweep(
        table, net, data, SweepSpec("net", "data", DT, target="cpp_standalone", copies=8), GRID, [0], progress=False
    )
    assert len(used) == len(GRID) and all(c is used[0] for c in used) and used[0].build_seconds is not None
    assert not sweep_module._COMPILED and type(brian2.get_device()).__name__ == "RuntimeDevice"
    brian_rows = [r for r in table.rows() if r["backend"] == "brian2"]
    assert len(brian_rows) == len(GRID) and all(r["agreement"] == 1.0 for r in brian_rows)
    simulate_network(net, data.spikes, backend="brian2", dt=DT, duration=data.duration)  # the device is free


def test_sweep_tables_are_read_read_only_whatever_their_path(tmp_path):
    """A '#' or '?' in the path is part of the file name (the URI is escaped), nothing is written beside
    the table, and a missing table or unknown column is a clear error."""
    from biosnn.studies.perturbation.table import SweepTable, read_points

    folder = tmp_path / "a#b?c"
    folder.mkdir()
    table = SweepTable(folder / "sweep.sqlite")
    table.connection.execute("PRAGMA journal_mode=DELETE")
    table.write_point(
        [
            dict(
                network="n",
                dataset="d",
                kind="deletion",
                strength=0.5,
                seed=0,
                backend="torch",
                dt=1e-3,
                accuracy=0.75,
                n_samples=4,
                agreement=None,
                input_spikes=9,
                lost_spikes=0,
                binned=0,
                seconds=0.1,
                code_version="v",
            )
        ]
    )
    table.close()
    before = sorted(p.name for p in folder.iterdir())
    assert read_points(folder / "sweep.sqlite", ("kind", "accuracy")) == [{"kind": "deletion", "accuracy": 0.75}]
    assert sorted(p.name for p in folder.iterdir()) == before == ["sweep.sqlite"]
    assert not (tmp_path / "a").exists()
    with pytest.raises(BiosnnInputError, match="does not exist"):
        read_points(tmp_path / "none.sqlite")
    with pytest.raises(BiosnnInputError, match="no column 'bogus'"):
        read_points(folder / "sweep.sqlite", ("bogus",))
