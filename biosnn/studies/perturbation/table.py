"""The results of perturbation sweeps: one SQLite database, one row per evaluated point.

A row is one (network, dataset, kind, strength, seed, backend, dt) — the
primary key — with its accuracy and what produced it. All rows of a point are
written in one transaction, so a sweep killed at any moment (SIGKILL
included) leaves whole points only: rerunning the sweep skips them and
computes the rest, never duplicating a row. The networks and datasets are
registered by name with a SHA-256 of their file contents: a name reused for a
different file is refused rather than mixed into the same curves.

Opening a database checks it before anything is read from it: a regular file,
SQLite's ``PRAGMA quick_check`` (a corrupt page is an error, never read as
"already stored"), and the tables' schema itself — column names, declared
types, NOT NULL and the primary key (``PRAGMA table_info``), tables rather
than views, no triggers — so a table that would let a rerun insert a point
twice is refused. The read-only reader :func:`read_points` checks the same.

Several sweeps may write one database at once. A row whose key is already
stored is compared with the stored one on :data:`RESULT_COLUMNS`: the same
result is skipped, another result is an error naming the key. A database
another writer keeps locked longer than :data:`BUSY_TIMEOUT_S` does not stop
the sweep: its points stay in memory and are retried after each point and, at
the end, with backoff for :data:`LOCK_RETRY_S`; rows still unsaved then (or
when the sweep stops early on an error or Ctrl-C) go to a JSON file beside the
database (``<db>.unsaved-<pid>-<time>.json``), which the next sweep on that
database imports (:meth:`SweepTable.import_unsaved`) before it decides what to
compute.

SQLite (Python's ``sqlite3``) is the store: one file, transactional, readable by
any tool. :meth:`SweepTable.export` writes CSV, or Parquet when ``pyarrow`` is
installed (``pip install biosnn[parquet]``).
"""

from __future__ import annotations

import csv
import glob
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ...core.errors import BiosnnInputError
from ...core.io import atomic_path, atomic_write_json, check_input_file, check_output_file, load_json

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

COLUMNS = (
    ("network", "TEXT NOT NULL"),
    ("dataset", "TEXT NOT NULL"),
    ("kind", "TEXT NOT NULL"),
    ("strength", "REAL NOT NULL"),
    ("seed", "INTEGER NOT NULL"),
    ("backend", "TEXT NOT NULL"),
    ("dt", "REAL NOT NULL"),
    ("accuracy", "REAL NOT NULL"),  # fraction of samples classified correctly
    ("n_samples", "INTEGER NOT NULL"),
    ("agreement", "REAL"),  # fraction of samples predicted as torch predicts (NULL for torch)
    ("input_spikes", "INTEGER NOT NULL"),  # spikes after the perturbation, before merging
    ("lost_spikes", "INTEGER NOT NULL"),  # spikes the grid cannot carry (biosnn.core.spikes.SpikeTrains.one_per_step)
    ("binned", "INTEGER NOT NULL"),  # 1: perturbed on the training grid (temporal-shd compat)
    ("seconds", "REAL NOT NULL"),  # wall time of this backend's evaluation
    ("code_version", "TEXT NOT NULL"),
)
KEY = ("network", "dataset", "kind", "strength", "seed", "backend", "dt")  # kind: <name>[:temporal-shd]
SOURCES = (("kind", "TEXT NOT NULL"), ("name", "TEXT NOT NULL"), ("sha256", "TEXT NOT NULL"))
SOURCE_KEY = ("kind", "name")
SOURCE_COLUMNS = tuple(name for name, _ in SOURCES)
#: what two computations of one key must agree on to be the same result: every column but the key,
#: ``seconds`` (wall time, never the same twice) and ``code_version`` (provenance: which checkout
#: computed it; the row stored first keeps its own)
RESULT_COLUMNS = tuple(name for name, _ in COLUMNS if name not in KEY + ("seconds", "code_version"))

#: seconds SQLite waits for another writer's lock before one attempt to write gives up (sqlite3's default)
BUSY_TIMEOUT_S = 5.0
#: seconds a sweep keeps retrying a locked database at its end before it saves its rows beside it
LOCK_RETRY_S = 120.0
#: the first pause between two of those retries (doubled after each, up to RETRY_MAX_PAUSE_S)
RETRY_FIRST_PAUSE_S = 0.1
#: the longest pause between two retries: a lock released is noticed within this
RETRY_MAX_PAUSE_S = 5.0
#: the largest database opened: SQLite reads pages lazily, so the bound is on absurd inputs, not memory
MAX_DATABASE_BYTES = 1 << 40
#: the most problems ``PRAGMA quick_check`` lists in an error (the first few locate the damage)
QUICK_CHECK_ERRORS = 5
#: SQLite's primary result codes of a database another connection holds
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_SQLITE_TYPES = {"TEXT": str, "REAL": (int, float), "INTEGER": int}


def is_locked(err: BaseException) -> bool:
    """``err`` says another connection holds the database (SQLITE_BUSY / SQLITE_LOCKED)."""
    code = getattr(err, "sqlite_errorcode", None)
    return (
        isinstance(err, sqlite3.OperationalError) and code is not None and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    )


def _schema(columns, key) -> list[tuple]:
    """The ``PRAGMA table_info`` a table of ``columns`` and primary ``key`` has: (name, type, notnull, pk)."""
    return [
        (name, declared.split()[0], int("NOT NULL" in declared), key.index(name) + 1 if name in key else 0)
        for name, declared in columns
    ]


_TABLES = {"points": (COLUMNS, KEY), "sources": (SOURCES, SOURCE_KEY)}


def _create_sql(table: str) -> str:
    columns, key = _TABLES[table]
    body = ", ".join(f"{name} {declared}" for name, declared in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} ({body}, PRIMARY KEY ({', '.join(key)}))"


def _quick_check(connection, path, what: str) -> None:
    """SQLite's ``PRAGMA quick_check``: a damaged page or index is an error, before any row is read."""
    try:
        found = [row[0] for row in connection.execute(f"PRAGMA quick_check({QUICK_CHECK_ERRORS})")]
    except sqlite3.DatabaseError as err:
        if is_locked(err):
            raise
        found = [str(err)]
    if found != ["ok"]:
        raise BiosnnInputError(
            f"{what} {str(path)!r} is not usable: it is corrupt (SQLite quick_check: "
            f"{'; '.join(found)}); restore it from a copy or write to another file"
        )


def _check_tables(connection, path, *, missing_ok: bool) -> list[str]:
    """Refuse tables of another schema than this biosnn's (see the module docstring); returns the names of
    the missing ones (an error unless ``missing_ok``)."""
    missing = []
    for table, (columns, key) in _TABLES.items():
        kinds = [row[0] for row in connection.execute("SELECT type FROM sqlite_master WHERE name = ?", (table,))]
        triggers = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
            )
        ]
        if not kinds:
            missing.append(table)
            continue
        if kinds != ["table"] or triggers:
            what = f"a {kinds[0]}" if kinds != ["table"] else f"a table with triggers ({', '.join(triggers)})"
            raise BiosnnInputError(
                f"results database {str(path)!r}: {table!r} is {what}, not this biosnn's table; write to another file"
            )
        found = [
            (name, kind.upper(), notnull, pk)
            for _, name, kind, notnull, _, pk in connection.execute(f"PRAGMA table_info({table})")
        ]
        expected = _schema(columns, key)
        if found != expected:
            differ = [
                f"{e[0]}: {f[1:] if f else 'missing'} instead of {e[1:]}"
                for e, f in zip(expected, found + [None] * len(expected))
                if e != f
            ][:3]
            differ += [f"{f[0]}: not expected" for f in found[len(expected) :]][:1]
            raise BiosnnInputError(
                f"results database {str(path)!r} has tables of another layout ({table}: "
                f"{'; '.join(differ)} as (type, not null, primary key position)), not this "
                "biosnn's; write to another file"
            )
    if missing and not missing_ok:
        raise BiosnnInputError(f"{str(path)!r} is not a perturbation sweep table: no table {', '.join(missing)}")
    return missing


def _check_sqlite_file(path: Path, what: str) -> None:
    """An existing database: a regular readable file (not a FIFO or device, which would block or never end)
    that starts as SQLite files do (an empty file is a new database)."""
    check_input_file(path, what, max_bytes=MAX_DATABASE_BYTES)
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head and head != b"SQLite format 3\x00":
        raise BiosnnInputError(f"{what} {str(path)!r} is not an SQLite file")


def read_points(path: Path | str, columns: Sequence[str] = tuple(name for name, _ in COLUMNS)) -> list[dict]:
    """The rows of a sweep table, ``columns`` of each, opened read-only (nothing written beside a table in
    rollback-journal mode; the stored tables are); a missing file, a corrupt one or another layout is a
    clear error."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise BiosnnInputError(f"sweep table {str(path)!r} does not exist: run the sweep first")
    unknown = [c for c in columns if c not in dict(COLUMNS)]
    if unknown:
        raise BiosnnInputError(f"sweep tables have no column {', '.join(map(repr, unknown))}")
    _check_sqlite_file(path, "sweep table")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)  # as_uri escapes '#', '?', '%'
        try:
            _quick_check(db, path, "sweep table")
            _check_tables(db, path, missing_ok=False)
            cursor = db.execute(f"SELECT {', '.join(columns)} FROM points ORDER BY {', '.join(KEY)}")
            return [dict(zip(columns, row)) for row in cursor]
        finally:
            db.close()
    except sqlite3.Error as err:
        raise BiosnnInputError(f"{str(path)!r} is not a perturbation sweep table: {err}") from None


def _check_row(row, where: str) -> tuple:
    """A row read from an unsaved-rows file: every column, of its type; returns it in column order."""
    if not isinstance(row, dict) or sorted(row) != sorted(name for name, _ in COLUMNS):
        raise BiosnnInputError(f"{where}: a row must have exactly the columns {[name for name, _ in COLUMNS]}")
    for name, declared in COLUMNS:
        value = row[name]
        if value is None and "NOT NULL" not in declared:
            continue
        if isinstance(value, bool) or not isinstance(value, _SQLITE_TYPES[declared.split()[0]]):
            raise BiosnnInputError(f"{where}: column {name!r} holds {value!r}, expected {declared}")
    return tuple(row[name] for name, _ in COLUMNS)


class SweepTable:
    """The sweep database at ``path`` (created when missing; see the module docstring for the checks)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.pending: list[list[dict]] = []  # evaluated points not yet stored (the database was locked)
        if self.path.exists() or self.path.is_symlink():
            _check_sqlite_file(self.path, "results database")
            if not os.access(self.path, os.W_OK):
                raise BiosnnInputError(f"results database {str(self.path)!r} exists and is not writable")
        else:
            check_output_file(self.path, "results database")
        try:
            self.connection = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as err:
            raise BiosnnInputError(f"results database {str(self.path)!r} is not usable: {err}") from None
        try:
            self._retrying(self._open, "open")
        except BaseException:
            self.connection.close()
            raise

    def _open(self) -> None:
        """Check the file and its tables, create the missing ones, switch to WAL (readers beside one writer)."""
        try:
            _quick_check(self.connection, self.path, "results database")
            if _check_tables(self.connection, self.path, missing_ok=True):
                with self:
                    for table in _check_tables(self.connection, self.path, missing_ok=True):
                        self.connection.execute(_create_sql(table))
                _check_tables(self.connection, self.path, missing_ok=False)
            self.connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as err:
            if is_locked(err):
                raise
            raise BiosnnInputError(f"results database {str(self.path)!r} is not usable: {err}") from None

    def _retrying(self, action, what: str):
        """``action()``, retried with backoff while another writer holds the database, for at most
        :data:`LOCK_RETRY_S`; then a clear error."""
        deadline, pause = time.monotonic() + LOCK_RETRY_S, RETRY_FIRST_PAUSE_S
        while True:
            try:
                return action()
            except sqlite3.OperationalError as err:
                if not is_locked(err) or time.monotonic() + pause > deadline:
                    if is_locked(err):
                        raise BiosnnInputError(self._locked_message(what)) from None
                    raise
            time.sleep(pause)
            pause = min(2 * pause, RETRY_MAX_PAUSE_S)

    def _locked_message(self, what: str) -> str:
        return (
            f"results database {str(self.path)!r} stayed locked by another writer for {LOCK_RETRY_S:g} s "
            f"(could not {what}); retry when the other sweep is done"
        )

    def __enter__(self) -> SweepTable:
        self.connection.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is None:
            try:
                self.connection.execute("COMMIT")
                return
            except BaseException:
                if self.connection.in_transaction:  # a COMMIT that failed (busy) leaves the transaction open
                    self.connection.execute("ROLLBACK")
                raise
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")

    def close(self) -> None:
        self.connection.close()

    def register(self, name: str, kind: str, digest: str) -> None:
        """Bind the ``kind`` (network, dataset, ...) ``name`` to a file's digest; a name already bound to
        another file of that kind is refused."""
        self._retrying(lambda: self._register(name, kind, digest), f"register {kind} {name!r}")

    def _register(self, name: str, kind: str, digest: str) -> None:
        with self:
            row = self.connection.execute(
                "SELECT sha256 FROM sources WHERE kind = ? AND name = ?", (kind, name)
            ).fetchone()
            if row is None:
                self.connection.execute("INSERT INTO sources VALUES (?, ?, ?)", (kind, name, digest))
            elif row[0] != digest:
                raise BiosnnInputError(
                    f"{str(self.path)!r} already holds results of another {kind} named {name!r} "
                    f"(sha256 {row[0][:12]}..., now {digest[:12]}...); rename it or use another database"
                )

    def stored(self) -> set[tuple]:
        """The keys ``(network, dataset, kind, strength, seed, backend, dt)`` already stored."""
        return set(self.connection.execute(f"SELECT {', '.join(KEY)} FROM points"))

    def write_point(self, rows: list[dict]) -> int:
        """All rows of one point, in one transaction; returns how many were new. A row whose key is stored
        already (another sweep on this database computed it meanwhile) is skipped when it is the same result
        (:data:`RESULT_COLUMNS`), and an error naming the key when it is not. Raises ``sqlite3.OperationalError``
        when another writer keeps the database locked longer than :data:`BUSY_TIMEOUT_S` (:func:`is_locked`)."""
        names = [name for name, _ in COLUMNS]
        with self:
            new = [row for row in rows if self._is_new(row)]
            self.connection.executemany(
                f"INSERT INTO points VALUES ({', '.join('?' * len(names))})",
                [tuple(row[name] for name in names) for row in new],
            )
        return len(new)

    def _is_new(self, row: dict) -> bool:
        """``row``'s key is not stored; stored with the same result: False; with another: an error."""
        found = self.connection.execute(
            f"SELECT {', '.join(RESULT_COLUMNS)} FROM points WHERE {' AND '.join(f'{k} = ?' for k in KEY)}",
            tuple(row[k] for k in KEY),
        ).fetchone()
        if found is None:
            return True
        stored = dict(zip(RESULT_COLUMNS, found))
        differ = {name: (stored[name], row[name]) for name in RESULT_COLUMNS if stored[name] != row[name]}
        if differ:
            raise BiosnnInputError(
                f"{str(self.path)!r} already holds the point {dict((k, row[k]) for k in KEY)} with another result ("
                + ", ".join(f"{name}: stored {a!r}, now {b!r}" for name, (a, b) in differ.items())
                + "): another network, dataset or code under the same names; use another database"
            )
        return False

    def save_point(self, rows: list[dict]) -> None:
        """Store one point (:meth:`write_point`), or keep it in :attr:`pending` while another writer holds
        the database; every pending point is retried first."""
        self.pending.append(rows)
        self.flush()

    def flush(self) -> bool:
        """Write the pending points, oldest first; False when the database is still locked. A point of
        another result (:meth:`_is_new`) is dropped from :attr:`pending` and its error raised."""
        while self.pending:
            try:
                self.write_point(self.pending[0])
            except sqlite3.OperationalError as err:
                if not is_locked(err):
                    raise
                return False
            except BiosnnInputError:
                self.pending.pop(0)
                raise
            self.pending.pop(0)
        return True

    def finish(self) -> None:
        """Write every pending point, retrying with backoff for :data:`LOCK_RETRY_S` while the database is
        locked; then save them beside it (:meth:`save_unsaved`) and raise an error naming that file."""
        deadline, pause = time.monotonic() + LOCK_RETRY_S, RETRY_FIRST_PAUSE_S
        while not self.flush():
            if time.monotonic() + pause > deadline:
                saved = self.save_unsaved()
                raise BiosnnInputError(
                    f"{self._locked_message('store the last points')}: the {len(saved[1])} "
                    f"points evaluated but not stored are in {str(saved[0])!r}, which the next "
                    "sweep on this database imports"
                )
            time.sleep(pause)
            pause = min(2 * pause, RETRY_MAX_PAUSE_S)

    def unsaved_files(self) -> list[Path]:
        """The unsaved-rows files beside this database (:meth:`save_unsaved`), oldest name first."""
        pattern = f"{glob.escape(self.path.name)}.unsaved-*.json"
        return sorted(Path(p) for p in glob.glob(os.path.join(glob.escape(str(self.path.parent)), pattern)))

    def save_unsaved(self) -> tuple[Path, list]:
        """Write :attr:`pending` to a new JSON file beside the database (atomically) and empty it; returns
        the file and the points it holds."""
        points, self.pending = self.pending, []
        path = self.path.with_name(f"{self.path.name}.unsaved-{os.getpid()}-{time.time_ns()}.json")
        atomic_write_json(
            path, {"database": self.path.name, "columns": [name for name, _ in COLUMNS], "points": points}
        )
        return path, points

    def import_unsaved(self) -> int:
        """Store the points of every unsaved-rows file beside the database (as :meth:`write_point`: a point
        stored meanwhile is skipped, another result is an error naming the file) and remove the file;
        returns how many points were read."""
        count = 0
        for path in self.unsaved_files():
            content = load_json(path, "unsaved sweep rows")
            points = content.get("points") if isinstance(content, dict) else None
            if not isinstance(points, list) or not all(isinstance(p, list) for p in points):
                raise BiosnnInputError(f"unsaved sweep rows {str(path)!r}: expected {{'points': [[row, ...], ...]}}")
            for rows in points:
                for row in rows:
                    _check_row(row, f"unsaved sweep rows {str(path)!r}")
            try:
                for rows in points:
                    self._retrying(lambda rows=rows: self.write_point(rows), f"import {path.name}")
            except BiosnnInputError as err:
                raise BiosnnInputError(f"{err} (importing {str(path)!r}: remove it to discard its rows)") from None
            path.unlink(missing_ok=True)
            count += len(points)
        return count

    def rows(self) -> list[dict]:
        cursor = self.connection.execute(f"SELECT * FROM points ORDER BY {', '.join(KEY)}")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def export(self, path: Path | str) -> Path:
        """Write every row to ``path``: ``.csv``, or ``.parquet`` (needs pyarrow); atomically."""
        path = check_output_file(path, "export file")
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise BiosnnInputError(f"export file {str(path)!r}: use a .csv or .parquet name")
        rows = self.rows()
        names = [name for name, _ in COLUMNS]
        if suffix == ".parquet":
            try:
                import pyarrow
                import pyarrow.parquet
            except ImportError:
                raise BiosnnInputError("Parquet export needs pyarrow: pip install 'biosnn[parquet]'") from None
            table = pyarrow.table({name: [row[name] for row in rows] for name in names})
            with atomic_path(path, suffix=".parquet") as tmp:
                pyarrow.parquet.write_table(table, tmp)
        else:
            with atomic_path(path, suffix=".csv") as tmp:
                with open(tmp, "w", newline="") as handle:
                    writer = csv.DictWriter(handle, fieldnames=names)
                    writer.writeheader()
                    writer.writerows(rows)
        return path
