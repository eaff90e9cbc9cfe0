"""Sweep tables under faults: foreign schemas and corrupt pages, concurrent and locked writers, inputs
refused before any work, and a sweep killed (SIGKILL) or interrupted (Ctrl-C) with its worker processes."""

import os
import signal
import sqlite3
import subprocess
import threading
import time

import numpy as np
import pytest
from sweep_commands import perturb_command, small_isi_case, stored_points

from biosnn.core.errors import BiosnnInputError
from biosnn.studies.perturbation import table as sweep_table
from biosnn.studies.perturbation.sweep import SweepSpec, run_sweep
from biosnn.studies.perturbation.table import COLUMNS, KEY, SweepTable, read_points

pytestmark = pytest.mark.faults

DT = 1e-3
GRID = [("deletion", 0.0), ("deletion", 0.5), ("spike_jitter", 2e-3)]
#: what may differ between two computations of the same point: the wall time, and the code's hash (the
#: working tree may change between two runs of one test; sweep_table.RESULT_COLUMNS ignores both too)
VOLATILE = ("seconds", "code_version")
#: the strengths of the process-level sweeps: x 2 seeds, enough points that a signal lands mid-way
STRENGTHS = (0, 0.2, 0.4, 0.6, 0.8, 1)
#: seconds a whole CLI sweep may take here (imports included) before a test gives up on it
SWEEP_S = 300
#: seconds an interrupted sweep may take to exit (a point of this tiny network takes well under one)
STOP_S = 10
#: seconds a killed sweep's processes may take to disappear
ORPHAN_S = 10


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """A small untrained ISI network (PLIF 12 -> LI 2, with axonal delays) and 24 test samples of 0.15 s."""
    return small_isi_case(tmp_path_factory.mktemp("faults"), 24, DT)


def stable(rows):
    return [{k: v for k, v in row.items() if k not in VOLATILE} for row in rows]


def row(**changes) -> dict:
    base = dict(
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
    return {**base, **changes}


def torch_spec() -> SweepSpec:
    return SweepSpec("net", "data", DT, backends=("torch",))


# ---------------------------------------------------------------- schema, corruption, file kinds

POINTS_SQL = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
SOURCES_OK = (
    "CREATE TABLE sources (kind TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (kind, name))"
)
POINTS_OK = f"CREATE TABLE points ({POINTS_SQL}, PRIMARY KEY ({', '.join(KEY)}))"


@pytest.mark.parametrize(
    "script, message",
    [
        ([f"CREATE TABLE points ({POINTS_SQL})", SOURCES_OK], "another layout"),  # no primary key
        ([POINTS_OK.replace("accuracy REAL", "accuracy TEXT"), SOURCES_OK], "another layout"),  # a type
        ([POINTS_OK.replace("seed INTEGER NOT NULL", "seed INTEGER"), SOURCES_OK], "another layout"),  # NOT NULL
        ([POINTS_OK.replace(", dt))", "))"), SOURCES_OK], "another layout"),  # a shorter key
        (
            [
                POINTS_OK.replace("CREATE TABLE points", "CREATE TABLE stored"),
                "CREATE VIEW points AS SELECT * FROM stored",
                SOURCES_OK,
            ],
            "is a view",
        ),
        (
            [
                POINTS_OK,
                SOURCES_OK.replace("CREATE TABLE sources", "CREATE TABLE s"),
                "CREATE VIEW sources AS SELECT * FROM s",
            ],
            "is a view",
        ),
        ([POINTS_OK, SOURCES_OK, "CREATE TRIGGER t AFTER INSERT ON points BEGIN DELETE FROM points; END"], "triggers"),
        (
            [POINTS_OK, "CREATE TABLE sources (kind TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL)"],
            "another layout",
        ),
    ],
)
def test_a_table_of_another_schema_is_refused_by_the_writer_and_the_reader(tmp_path, script, message):
    """Right column names are not enough: the primary key (without it a rerun stores a point twice),
    declared types, NOT NULL, tables rather than views, no triggers."""
    path = tmp_path / "foreign.sqlite"
    with sqlite3.connect(path) as db:
        for statement in script:
            db.execute(statement)
    db.close()
    with pytest.raises(BiosnnInputError, match=message):
        SweepTable(path)
    with pytest.raises(BiosnnInputError, match=message):
        read_points(path)


def test_the_schema_this_biosnn_writes_is_accepted_by_the_reader_and_a_missing_table_is_not(tmp_path):
    path = tmp_path / "s.sqlite"
    table = SweepTable(path)
    table.write_point([row()])
    table.close()
    assert read_points(path, ("accuracy",)) == [{"accuracy": 0.75}]
    SweepTable(path).close()  # reopened: the same schema
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE sources")
    db.close()
    with pytest.raises(BiosnnInputError, match="no table sources"):
        read_points(path)


def _corrupt(path, n_rows=400):
    """A database of ``n_rows`` rows over many pages, one page in its middle overwritten with garbage."""
    table = SweepTable(path)
    table.connection.execute("PRAGMA journal_mode=DELETE")  # every row in the main file, no -wal
    table.write_point([row(seed=s) for s in range(n_rows)])
    table.close()
    size = path.stat().st_size
    assert size > 10 * 4096
    with open(path, "r+b") as handle:
        page = 4096 * ((size // 4096) // 2)
        handle.seek(page)
        handle.write(bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8)))


def test_a_corrupt_page_is_an_error_never_read_as_already_stored(tmp_path):
    path = tmp_path / "corrupt.sqlite"
    _corrupt(path)
    with pytest.raises(BiosnnInputError, match="corrupt"):
        SweepTable(path)
    with pytest.raises(BiosnnInputError, match="corrupt"):
        read_points(path)


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_database_path_that_is_not_a_regular_file_is_refused_before_opening(tmp_path, kind):
    """A FIFO would block the reader forever (a helper thread opens its other end after a few seconds, so
    a regression fails here instead of hanging); a link to /dev/null is a character device."""
    path = tmp_path / "db.sqlite"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/null")
    done = threading.Event()

    def release_a_blocked_reader():
        while not done.wait(0.5):
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # only succeeds while a reader waits
            except OSError:
                pass

    if kind == "fifo":
        threading.Thread(target=release_a_blocked_reader, daemon=True).start()
    try:
        with pytest.raises(BiosnnInputError, match="FIFO|character device"):
            SweepTable(path)
        with pytest.raises(BiosnnInputError, match="FIFO|character device"):
            read_points(path)
    finally:
        done.set()


# ---------------------------------------------------------------- concurrent writers


def test_a_row_stored_meanwhile_by_another_writer_is_skipped_when_it_is_the_same_result(tmp_path):
    """Two connections write one key: the same result (``seconds`` and ``code_version`` may differ) is
    skipped and the first row kept; another accuracy is an error naming the key."""
    one, two = SweepTable(tmp_path / "s.sqlite"), SweepTable(tmp_path / "s.sqlite")
    assert one.write_point([row()]) == 1
    assert two.write_point([row(seconds=9.5, code_version="other"), row(seed=1)]) == 1
    assert [(r["seed"], r["seconds"], r["code_version"]) for r in one.rows()] == [(0, 0.1, "v"), (1, 0.1, "v")]
    with pytest.raises(BiosnnInputError, match=r"'seed': 0.*accuracy: stored 0.75, now 0.5"):
        two.write_point([row(seed=2), row(accuracy=0.5)])
    assert len(one.rows()) == 2  # the whole point rolled back, seed 2 included


def test_two_sweeps_that_computed_the_same_points_both_finish(case, tmp_path):
    """The second sweep read the table before the first stored its points (a stale snapshot, as when two
    sweeps start together): its identical rows are skipped, not an IntegrityError losing its points."""
    folder, net, data = case
    first, second = SweepTable(tmp_path / "s.sqlite"), SweepTable(tmp_path / "s.sqlite")
    run_sweep(first, net, data, torch_spec(), GRID, [0], progress=False)
    stored = first.rows()
    second.stored = lambda: set()  # what it saw before the first sweep wrote
    summary = run_sweep(second, net, data, torch_spec(), GRID, [0], progress=False)
    assert summary["points"] == len(GRID)
    assert second.rows() == stored  # the first computation of each row kept, seconds included


class Locker:
    """Another connection holding the write lock (``BEGIN IMMEDIATE``) from a thread until ``release``
    (or for ``seconds``)."""

    def __init__(self, path, seconds=None):
        self.taken, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(path, seconds), daemon=True)
        self.thread.start()
        assert self.taken.wait(10)

    def _hold(self, path, seconds):
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        self.taken.set()
        self.done.wait(seconds)
        db.execute("COMMIT")
        db.close()

    def release(self):
        self.done.set()
        self.thread.join(10)


@pytest.fixture
def short_lock_waits(monkeypatch):
    """Lock waits of a test's length: SQLite gives up after 0.2 s, retries start at 0.05 s."""
    monkeypatch.setattr(sweep_table, "BUSY_TIMEOUT_S", 0.2)
    monkeypatch.setattr(sweep_table, "RETRY_FIRST_PAUSE_S", 0.05)
    monkeypatch.setattr(sweep_table, "RETRY_MAX_PAUSE_S", 0.2)


def _spy_flushes(monkeypatch) -> list:
    results, flush = [], SweepTable.flush
    monkeypatch.setattr(SweepTable, "flush", lambda self: results.append(flush(self)) or results[-1])
    return results


def test_a_database_locked_for_a_while_keeps_the_points_and_stores_them_when_released(
    case, tmp_path, monkeypatch, short_lock_waits
):
    folder, net, data = case
    monkeypatch.setattr(sweep_table, "LOCK_RETRY_S", 30.0)
    flushes = _spy_flushes(monkeypatch)
    table = SweepTable(tmp_path / "s.sqlite")
    Locker(table.path, seconds=1.5)  # longer than SQLite's wait, shorter than the retries
    run_sweep(table, net, data, torch_spec(), GRID, [0], progress=False)
    assert False in flushes  # the points waited in memory
    assert len(table.rows()) == len(GRID) and not table.pending and not table.unsaved_files()


def test_a_database_locked_too_long_saves_the_points_beside_it_and_the_next_sweep_imports_them(
    case, tmp_path, monkeypatch, short_lock_waits
):
    folder, net, data = case
    monkeypatch.setattr(sweep_table, "LOCK_RETRY_S", 0.5)
    table = SweepTable(tmp_path / "s.sqlite")
    lock = Locker(table.path)
    try:
        with pytest.raises(
            BiosnnInputError,
            match=r"stayed locked.*3 points evaluated but not stored are in "
            r"'.*s\.sqlite\.unsaved-\d+-\d+\.json'",
        ):
            run_sweep(table, net, data, torch_spec(), GRID, [0], progress=False)
    finally:
        lock.release()
    assert table.rows() == [] and len(table.unsaved_files()) == 1
    summary = run_sweep(SweepTable(table.path), net, data, torch_spec(), GRID, [0], progress=False)
    assert summary == dict(summary, points=0, skipped=len(GRID))  # imported, not recomputed
    assert not table.unsaved_files()
    whole = SweepTable(tmp_path / "whole.sqlite")
    run_sweep(whole, net, data, torch_spec(), GRID, [0], progress=False)
    assert stable(table.rows()) == stable(whole.rows())


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "not readable JSON"),
        ('{"points": {}}', "expected"),
        ('{"points": [[{"network": "n"}]]}', "exactly the columns"),
        ('{"points": [[%s]]}', "column 'seed' holds '0'"),
    ],
)
def test_a_malformed_unsaved_rows_file_is_refused_naming_it(case, tmp_path, content, message):
    import json

    folder, net, data = case
    table = SweepTable(tmp_path / "s.sqlite")
    if "%s" in content:
        content = content % json.dumps(row(seed="0"))
    (tmp_path / "s.sqlite.unsaved-1-2.json").write_text(content)
    with pytest.raises(BiosnnInputError, match=message) as error:
        run_sweep(table, net, data, torch_spec(), GRID, [0], progress=False)
    assert "s.sqlite.unsaved-1-2.json" in str(error.value) and table.rows() == []


def test_an_unsaved_row_of_another_result_is_refused_and_its_file_kept(case, tmp_path):
    import json

    table = SweepTable(tmp_path / "s.sqlite")
    table.write_point([row()])
    unsaved = tmp_path / "s.sqlite.unsaved-1-2.json"
    unsaved.write_text(json.dumps({"points": [[row(seed=1)], [row(accuracy=0.25)]]}))
    with pytest.raises(BiosnnInputError, match="another result.*remove it to discard"):
        table.import_unsaved()
    assert unsaved.exists() and len(table.rows()) == 2


# ---------------------------------------------------------------- inputs refused before any work


def test_a_readout_with_fewer_outputs_than_classes_is_refused_before_any_work(case, tmp_path):
    folder, net, data = case
    five = type(data)(data.spikes, data.labels, 5)
    table = SweepTable(tmp_path / "s.sqlite")
    with pytest.raises(BiosnnInputError, match="2 outputs, fewer than the dataset's 5 classes"):
        run_sweep(table, net, five, torch_spec(), GRID, [0], sources=[("network", "net", "a" * 64)], progress=False)
    assert table.rows() == [] and table.connection.execute("SELECT COUNT(*) FROM sources").fetchone()[0] == 0


def test_seeds_beyond_sqlite_integers_are_refused_before_any_work_and_the_largest_is_stored(case, tmp_path):
    folder, net, data = case
    table = SweepTable(tmp_path / "s.sqlite")
    for seeds in ([2**63], [0, np.uint64(2**64 - 1)]):
        with pytest.raises(BiosnnInputError, match=r"at most 2\*\*63-1"):
            run_sweep(table, net, data, torch_spec(), GRID, seeds, progress=False)
    assert table.rows() == []
    run_sweep(table, net, data, torch_spec(), GRID[:1], [2**63 - 1], progress=False)
    assert [r["seed"] for r in table.rows()] == [2**63 - 1]


# ---------------------------------------------------------------- killed and interrupted sweeps


def _perturb_cli(folder, db, *extra):
    return perturb_command(folder, db, DT, [f"random_replacement={','.join(map(str, STRENGTHS))}"], *extra)


def _points(db) -> int:
    return stored_points(db, timeout=0.1)


def _session(sid: int) -> dict:
    """The live processes (not zombies) of session ``sid``: pid -> command line; read from /proc, so
    processes reparented after their parent died are still found."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                stat = handle.read()
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")[:120]
        except OSError:
            continue
        state, _, _, session = stat[stat.rindex(")") + 2 :].split()[:4]
        if int(session) == sid and state != "Z":
            found[int(name)] = command
    return found


def _wait_gone(sid: int, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while (left := _session(sid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _start(command, until) -> subprocess.Popen:
    """``command`` in a session of its own (its workers too), once ``until()`` holds; fails if it ended first."""
    process = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + SWEEP_S
    while not until() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if process.poll() is not None:
        out, err = process.communicate()
        pytest.fail(f"the sweep ended before the signal: make the grid longer\n{err}")
    return process


def _cleanup(sid: int) -> None:
    for pid in _session(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


MODES = {"in-process": (), "jobs-2": ("--jobs", "2"), "scheduler-local": ("--jobs", "2", "--scheduler", "local")}


@pytest.fixture(scope="module")
def uninterrupted(case, tmp_path_factory):
    """The rows of the process-level sweep, uninterrupted, in process."""
    folder, net, data = case
    table = SweepTable(tmp_path_factory.mktemp("whole") / "whole.sqlite")
    run_sweep(
        table,
        net,
        data,
        SweepSpec("net", "data", DT, brian_dts=(DT,)),
        [("random_replacement", s) for s in STRENGTHS],
        [0, 1],
        progress=False,
    )
    return stable(table.rows())


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["jobs-2", "scheduler-local"])
def test_a_killed_sweep_leaves_no_worker_behind(case, tmp_path, mode):
    """SIGKILL of the sweep alone (not its group): its workers, and multiprocessing's resource tracker,
    go within seconds instead of holding their memory and the caller's pipes for minutes."""
    if mode == "scheduler-local":
        pytest.importorskip("distributed", reason="dask.distributed is a test extra (biosnn[cluster])")
    folder, _, _ = case
    db = tmp_path / "s.sqlite"
    process = _start(_perturb_cli(folder, db, *MODES[mode]), lambda: _points(db) >= 1)
    try:
        assert len(_session(process.pid)) >= 3, _session(process.pid)  # the sweep and its two workers
        process.kill()
        process.communicate(timeout=ORPHAN_S)  # the pipes close once every process holding them is gone
        assert _wait_gone(process.pid, ORPHAN_S) == {}
    finally:
        _cleanup(process.pid)


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(MODES))
def test_ctrl_c_stops_promptly_stores_whole_points_only_and_the_rerun_completes_the_table(
    case, tmp_path, uninterrupted, mode
):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) once a point is stored: exit
    status 130 within seconds, every stored row as an uninterrupted sweep stores it, no process left; the
    rerun (in process, the quickest) computes the rest."""
    if mode == "scheduler-local":
        pytest.importorskip("distributed", reason="dask.distributed is a test extra (biosnn[cluster])")
    folder, _, _ = case
    db = tmp_path / "s.sqlite"
    command = _perturb_cli(folder, db, *MODES[mode])
    process = _start(command, lambda: _points(db) >= 1)
    try:
        start = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=SWEEP_S)
        seconds = time.monotonic() - start
        left = _wait_gone(process.pid, ORPHAN_S)
    finally:
        _cleanup(process.pid)
    stored = SweepTable(db).rows()
    print(
        f"{mode}: exit {process.returncode}, {len(stored)} rows ({_points(db)} points) stored, "
        f"{seconds:.2f} s from SIGINT to exit"
    )
    assert process.returncode == 130, err
    assert seconds < STOP_S and left == {}
    assert 1 <= _points(db) < len(STRENGTHS) * 2
    assert all(r in uninterrupted for r in stable(stored))  # whole points, right values
    assert len(stored) == 2 * _points(db)  # torch and brian2 of every point
    rerun = subprocess.run(_perturb_cli(folder, db), capture_output=True, text=True, timeout=SWEEP_S)  # in process
    assert rerun.returncode == 0, rerun.stderr
    assert stable(SweepTable(db).rows()) == uninterrupted


@pytest.mark.slow
def test_two_sweeps_started_together_on_one_database_both_finish(case, tmp_path):
    folder, net, data = case
    db = tmp_path / "s.sqlite"
    command = [*_perturb_cli(folder, db), "--backends", "torch"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=SWEEP_S) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err for _, err in results]
    whole = SweepTable(tmp_path / "whole.sqlite")
    run_sweep(whole, net, data, torch_spec(), [("random_replacement", s) for s in STRENGTHS], [0, 1], progress=False)
    assert stable(SweepTable(db).rows()) == stable(whole.rows())


def _spawned_children() -> list[int]:
    """This process's live spawned worker processes (multiprocessing's spawn_main), from /proc."""
    found = []
    for pid, command in _session(os.getsid(0)).items():
        try:
            with open(f"/proc/{pid}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == os.getpid() and "spawn_main" in command:
            found.append(pid)
    return found


#: seconds an interrupted jobs=2 sweep may take to return: terminating its workers is immediate, while
#: waiting for the queue (the 15 points left, both backends, on two workers) takes several seconds
POOL_STOP_S = 1.5


@pytest.mark.slow
def test_an_interrupted_pool_sweep_cancels_the_queue_and_ends_its_workers(case, tmp_path, monkeypatch):
    """Ctrl-C while the parent stores the first point (KeyboardInterrupt in the consumer of the pool's
    results): run_sweep returns at once instead of evaluating the queued points, and leaves no worker."""
    folder, net, data = case
    table = SweepTable(tmp_path / "s.sqlite")
    interrupted_at = []

    def interrupt(rows):
        interrupted_at.append(time.monotonic())
        raise KeyboardInterrupt

    monkeypatch.setattr(table, "save_point", interrupt)
    grid = [("random_replacement", s) for s in np.linspace(0, 1, 8)]
    with pytest.raises(KeyboardInterrupt):
        run_sweep(table, net, data, SweepSpec("net", "data", DT), grid, [0, 1], jobs=2, progress=False)
    seconds = time.monotonic() - interrupted_at[0]
    print(f"interrupted pool sweep returned {seconds:.2f} s after the interrupt")
    assert _spawned_children() == [] and table.rows() == []
    assert seconds < POOL_STOP_S
