"""The results of perturbation sweeps: one SQLite database, one row per evaluated point.

A row is one (network, dataset, kind, strength, seed, backend, dt) — the
primary key — with its accuracy and what produced it. All rows of a point are
written in one transaction, so a sweep killed at any moment (SIGKILL
included) leaves whole points only: rerunning the sweep skips them and
computes the rest, never duplicating a row. The networks and datasets are
registered by name with a SHA-256 of their file contents: a name reused for a
different file is refused rather than mixed into the same curves.

SQLite (Python's ``sqlite3``) is the store: one file, transactional, readable by
any tool. :meth:`SweepTable.export` writes CSV, or Parquet when ``pyarrow`` is
installed (``pip install biosnn[parquet]``).
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from .errors import BiosnnInputError
from .io import atomic_path, check_output_file

COLUMNS = (
    ("network", "TEXT NOT NULL"), ("dataset", "TEXT NOT NULL"), ("kind", "TEXT NOT NULL"),
    ("strength", "REAL NOT NULL"), ("seed", "INTEGER NOT NULL"), ("backend", "TEXT NOT NULL"),
    ("dt", "REAL NOT NULL"),
    ("accuracy", "REAL NOT NULL"),              # fraction of samples classified correctly
    ("n_samples", "INTEGER NOT NULL"),
    ("agreement", "REAL"),                      # fraction of samples predicted as torch predicts (NULL for torch)
    ("input_spikes", "INTEGER NOT NULL"),       # spikes after the perturbation, before merging
    ("lost_spikes", "INTEGER NOT NULL"),        # spikes the grid cannot carry (biosnn.spikes.SpikeTrains.one_per_step)
    ("binned", "INTEGER NOT NULL"),             # 1: perturbed on the training grid (temporal-shd compat)
    ("seconds", "REAL NOT NULL"),               # wall time of this backend's evaluation
    ("code_version", "TEXT NOT NULL"),
)
SOURCE_COLUMNS = ("kind", "name", "sha256")
KEY = ("network", "dataset", "kind", "strength", "seed", "backend", "dt")   # kind: <name>[:temporal-shd]


def read_points(path, columns=tuple(name for name, _ in COLUMNS)) -> list[dict]:
    """The rows of a sweep table, ``columns`` of each, opened read-only (nothing written beside a table in
    rollback-journal mode; the stored tables are); a missing file or another layout is a clear error."""
    path = Path(path)
    if not path.is_file():
        raise BiosnnInputError(f"sweep table {str(path)!r} does not exist: run the sweep first")
    unknown = [c for c in columns if c not in dict(COLUMNS)]
    if unknown:
        raise BiosnnInputError(f"sweep tables have no column {', '.join(map(repr, unknown))}")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)  # as_uri escapes '#', '?', '%'
        try:
            cursor = db.execute(f"SELECT {', '.join(columns)} FROM points ORDER BY {', '.join(KEY)}")
            return [dict(zip(columns, row)) for row in cursor]
        finally:
            db.close()
    except sqlite3.Error as err:
        raise BiosnnInputError(f"{str(path)!r} is not a perturbation sweep table: {err}") from None


class SweepTable:
    """The sweep database at ``path`` (created when missing)."""

    def __init__(self, path):
        self.path = Path(path)
        if self.path.exists():
            if self.path.is_dir():
                raise BiosnnInputError(f"results database {str(self.path)!r} is a directory")
            with open(self.path, "rb") as handle:
                head = handle.read(16)
            if head and head != b"SQLite format 3\x00":
                raise BiosnnInputError(f"results database {str(self.path)!r} is not an SQLite file")
        else:
            check_output_file(self.path, "results database")
        try:
            self.connection = sqlite3.connect(self.path, isolation_level=None)
            self.connection.execute("PRAGMA journal_mode=WAL")
            columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
            with self:
                self.connection.execute(f"CREATE TABLE IF NOT EXISTS points ({columns}, PRIMARY KEY ({', '.join(KEY)}))")
                self.connection.execute("CREATE TABLE IF NOT EXISTS sources (kind TEXT NOT NULL, name TEXT NOT NULL, "
                                        "sha256 TEXT NOT NULL, PRIMARY KEY (kind, name))")
            found = [row[1] for row in self.connection.execute("PRAGMA table_info(points)")]
            found_sources = [row[1] for row in self.connection.execute("PRAGMA table_info(sources)")]
        except sqlite3.DatabaseError as err:
            raise BiosnnInputError(f"results database {str(self.path)!r} is not usable: {err}") from None
        if found != [name for name, _ in COLUMNS] or found_sources != list(SOURCE_COLUMNS):
            raise BiosnnInputError(f"results database {str(self.path)!r} has tables of another layout (points: "
                                   f"{found}; sources: {found_sources}), not this biosnn's; write to another file")

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, kind, value, traceback):
        self.connection.execute("COMMIT" if kind is None else "ROLLBACK")

    def close(self) -> None:
        self.connection.close()

    def register(self, name: str, kind: str, digest: str) -> None:
        """Bind the ``kind`` (network, dataset, ...) ``name`` to a file's digest; a name already bound to
        another file of that kind is refused."""
        with self:
            row = self.connection.execute("SELECT sha256 FROM sources WHERE kind = ? AND name = ?",
                                          (kind, name)).fetchone()
            if row is None:
                self.connection.execute("INSERT INTO sources VALUES (?, ?, ?)", (kind, name, digest))
            elif row[0] != digest:
                raise BiosnnInputError(f"{str(self.path)!r} already holds results of another {kind} named {name!r} "
                                       f"(sha256 {row[0][:12]}..., now {digest[:12]}...); rename it or use another database")

    def stored(self) -> set[tuple]:
        """The keys ``(network, dataset, kind, strength, seed, backend, dt)`` already stored."""
        return set(self.connection.execute(f"SELECT {', '.join(KEY)} FROM points"))

    def write_point(self, rows: list[dict]) -> None:
        """All rows of one point, in one transaction."""
        names = [name for name, _ in COLUMNS]
        with self:
            self.connection.executemany(f"INSERT INTO points VALUES ({', '.join('?' * len(names))})",
                                        [tuple(row[name] for name in names) for row in rows])

    def rows(self) -> list[dict]:
        cursor = self.connection.execute(f"SELECT * FROM points ORDER BY {', '.join(KEY)}")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def export(self, path) -> Path:
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

