"""Files: outputs checked before any work, written atomically, cleaned up after a crash.

* :func:`check_output_file` / :func:`check_output_dir` refuse, before a simulation
  starts, an output that cannot be written (a directory where a file is wanted,
  a file where a directory is wanted, no write permission).
* Every writer writes to a hidden temporary file beside the target
  (``.<name>.<pid>.<random>.tmp``), flushes it to disk, then ``os.replace``-s it
  over the target (atomic on POSIX): an interrupted run never leaves a
  half-written result. A temporary file left by a killed process (its pid no
  longer running) is removed the next time the same target is written.
* Files get the permissions of the user's umask (``tempfile.mkstemp`` alone
  would leave them 0600).
* :func:`replace_directory` builds a whole output directory aside and swaps it
  in, so a directory holds the files of one run only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import BiosnnInputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permissions of a new file under the user's (current) umask."""
    return 0o666 & ~_umask()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _leftovers(directory: Path, name: str, kind: str):
    """``(path, pid)`` of every ``.<name>.<pid>.<random>[.<suffix>].<kind>`` in ``directory``: exactly the
    names :func:`atomic_path` and :func:`replace_directory` create for target ``name``, nothing else."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.(\d+)\.[A-Za-z0-9_]{{8}}(\.[A-Za-z0-9]+)?\.{kind}$")
    if not directory.is_dir():
        return
    for entry in os.listdir(directory):
        match = pattern.match(entry)
        if match:
            yield directory / entry, int(match.group(1))


def remove_stale(directory: Path, name: str) -> list[Path]:
    """Remove the temporary files and directories of target ``name`` left by processes no longer running."""
    removed = []
    for path, pid in _leftovers(directory, name, "tmp"):
        if pid == os.getpid() or _pid_alive(pid):
            continue  # a write in progress
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        removed.append(path)
    return removed


def _writable(directory: Path) -> bool:
    """Whether a file can be created in ``directory`` (tried, not inferred from permission bits)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=f".biosnn-probe.{os.getpid()}.", suffix=".tmp", dir=directory)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


def _check_creatable(path: Path, directory: Path, what: str) -> None:
    """``directory`` (the nearest existing one at or above it) is a directory we can write in."""
    existing = directory
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise BiosnnInputError(f"{what} {str(path)!r}: {str(existing)!r} is a file, not a directory")
    if not _writable(existing):
        raise BiosnnInputError(f"{what} {str(path)!r}: cannot write in {str(existing)!r}")


def check_output_file(path, what: str = "output") -> Path:
    """An output file that can be written: not a directory, in a writable (or creatable) directory."""
    path = Path(path)
    if path.is_dir():
        raise BiosnnInputError(f"{what} {str(path)!r} is a directory; give a file name")
    _check_creatable(path, path.parent if str(path.parent) else Path("."), what)
    if path.exists() and not os.access(path, os.W_OK):
        raise BiosnnInputError(f"{what} {str(path)!r} exists and is not writable")
    return path


def check_output_dir(path, what: str = "output directory") -> Path:
    """An output directory that can be created or written."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise BiosnnInputError(f"{what} {str(path)!r} is a file, not a directory")
    _check_creatable(path, path, what)
    return path


@contextlib.contextmanager
def atomic_path(path, suffix: str = ""):
    """Yield a temporary path beside ``path``; move it into place on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _recover_previous(path: Path) -> None:
    """A swap killed between its two renames leaves ``path`` missing and the previous directory as
    ``.<name>.<pid>.<random>.old``: put it back. Set-aside directories of finished swaps are removed."""
    for old, pid in _leftovers(path.parent, path.name, "old"):
        if pid == os.getpid() or _pid_alive(pid):
            continue
        if not path.exists():
            os.replace(old, path)
        else:
            shutil.rmtree(old, ignore_errors=True)


def replace_directory(path, build) -> None:
    """Build a directory with ``build(tmp_dir)`` beside ``path`` and swap it in when ``build`` returns.

    The directory then holds the files of this run only; an interrupted run leaves the previous
    directory as it was (or, killed between the swap's two renames, set aside and restored by the
    next run), and its temporary directory is removed by the next run.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _recover_previous(path)
    remove_stale(path.parent, path.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent))
    try:
        build(tmp)
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".old", dir=path.parent))
            old.rmdir()
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_save_npz(path, arrays: dict) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def atomic_write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_json(path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def load_npz(path, what: str) -> dict:
    """Every array of an ``.npz`` (no pickles); a missing or corrupt file raises a
    :class:`~biosnn.errors.BiosnnInputError` naming ``what`` the file should hold."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise BiosnnInputError(f"{what} file {path!r} does not exist")
    if os.path.isdir(path):
        raise BiosnnInputError(f"{what} file {path!r} is a directory")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except TypeError:  # np.load gave a plain array: an .npy file
        raise BiosnnInputError(f"{what} file {path!r} is a .npy array, not an .npz archive") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, AttributeError) as err:
        raise BiosnnInputError(f"{what} file {path!r} is not a readable .npz: {err}") from None


@contextlib.contextmanager
def expected_layout(source):
    """Reading results: content without the layout the reader expects (a missing key, a list where a table
    should be) is bad input naming ``source`` (a path, or a description of the files), not a traceback."""
    try:
        yield
    except BiosnnInputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise BiosnnInputError(f"{str(source)!r} does not have the layout of its results "
                               f"({type(err).__name__}: {err})") from None


def load_json(path, what: str) -> dict:
    """A JSON results file; a missing file gives ``{}``, a corrupt one a clear error."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise BiosnnInputError(f"{what} {str(path)!r} is not readable JSON: {err}") from None


def file_digest(path) -> str:
    """SHA-256 of a file's contents (read in 1 MiB blocks): what binds a name or a result to its source."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
