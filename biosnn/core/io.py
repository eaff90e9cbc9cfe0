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
  in, so a directory holds the files of one run only. It replaces only a
  directory the same command wrote (its :data:`OWNER_MARKER` names the command),
  or an empty one: never a user's folder.
* :func:`check_input_file` is the one gate every file a command reads passes
  before it is opened: it exists, is a regular file (a FIFO, a device or a
  socket would hang or never end; a symlink is judged by its target), and is
  no larger than the memory a whole read could take. :func:`check_distinct`
  refuses an output that would replace one of the command's inputs (the same
  file under any name, hard links included) or a directory output that holds
  one.
* A write that fails for lack of space (``ENOSPC``, ``EDQUOT``), on a read-only
  file system or for permissions, is a :class:`~biosnn.core.errors.BiosnnInputError`
  naming the output and the reason (exit 2 from the command line) after the partial file is removed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import BiosnnInputError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    import h5py

#: the file :func:`replace_directory` writes into every directory it owns: the command that wrote it
OWNER_MARKER = ".biosnn-output"
#: write failures that are the user's to fix (a full disk, a quota, a read-only mount, permissions), reported
#: as bad input rather than a traceback
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def write_failure(err: OSError, path: Path | str) -> BiosnnInputError:
    """The clear error of a failed write to ``path`` (a full disk, a read-only file system, ...)."""
    reason = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "read-only file system",
        errno.EFBIG: "file too large for this file system",
    }.get(err.errno, os.strerror(err.errno) if err.errno else str(err))
    return BiosnnInputError(f"cannot write {str(path)!r}: {reason}; nothing partial was left")


def is_write_failure(err: BaseException) -> bool:
    return isinstance(err, OSError) and err.errno in _WRITE_ERRNOS


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


def check_output_file(path: Path | str, what: str = "output") -> Path:
    """An output file that can be written: not a directory, a device, a FIFO or a socket (an atomic write
    would replace the node itself: as root, ``--out /dev/null`` would delete the device), in a writable
    (or creatable) directory, and not inside a directory another command owns (:data:`OWNER_MARKER`:
    that command replaces its directory as a whole, and the file would be lost, or replace its files)."""
    path = Path(path)
    if path.is_dir():
        raise BiosnnInputError(f"{what} {str(path)!r} is a directory; give a file name")
    if path.exists() and not path.is_file():
        raise BiosnnInputError(f"{what} {str(path)!r} is {_file_kind(os.stat(path).st_mode)}; give a regular file name")
    parent = path.parent if str(path.parent) else Path(".")
    if (parent / OWNER_MARKER).exists() or (parent / OWNER_MARKER).is_symlink():
        raise BiosnnInputError(
            f"{what} {str(path)!r} is inside a directory written (and replaced as a whole) by "
            "another biosnn command; write it elsewhere"
        )
    _check_creatable(path, parent, what)
    if path.exists() and not os.access(path, os.W_OK):
        raise BiosnnInputError(f"{what} {str(path)!r} exists and is not writable")
    return path


def check_output_dir(path: Path | str, what: str = "output directory") -> Path:
    """An output directory that can be created or written."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise BiosnnInputError(f"{what} {str(path)!r} is a file, not a directory")
    _check_creatable(path, path, what)
    return path


@contextlib.contextmanager
def atomic_path(path: Path | str, suffix: str = "") -> Iterator[Path]:
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
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if is_write_failure(err):
            raise write_failure(err, path) from None
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


def check_owned_dir(path: Path | str, owner: str, what: str = "output directory") -> Path:
    """An output directory that :func:`replace_directory` may replace for command ``owner``: missing,
    empty, or written by the same command (its :data:`OWNER_MARKER` says so). Anything else is a user's
    folder (or another command's output) and is refused, never replaced."""
    path = check_output_dir(path, what)
    if path.is_symlink():
        raise BiosnnInputError(
            f"{what} {str(path)!r} is a symbolic link; it would be replaced as a whole: give the directory itself"
        )
    if path.is_dir():
        names = sorted(os.listdir(path))
        if names:
            marker = path / OWNER_MARKER
            found = None
            if marker.is_file() and not marker.is_symlink():
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    found = marker.read_text()[:200].strip()
            if found != owner:
                held = ", ".join(n for n in names[:5] if n != OWNER_MARKER) or "no files"
                by = f"written by `{found}`" if found else "not written by this command"
                raise BiosnnInputError(
                    f"{what} {str(path)!r} exists and is {by} (it holds {held}); it would be "
                    "replaced as a whole: choose a new or empty directory"
                )
    return path


def replace_directory(path: Path | str, build: Callable[[Path], object], owner: str) -> None:
    """Build a directory with ``build(tmp_dir)`` beside ``path`` and swap it in when ``build`` returns.

    ``path`` must be missing, empty, or an earlier output of the same command ``owner``
    (:func:`check_owned_dir`); the new directory carries the marker naming ``owner``.
    The directory then holds the files of this run only; an interrupted run leaves the previous
    directory as it was (or, killed between the swap's two renames, set aside and restored by the
    next run), and its temporary directory is removed by the next run.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _recover_previous(path)
    check_owned_dir(path, owner)
    remove_stale(path.parent, path.name)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent))
    except OSError as err:
        if is_write_failure(err):
            raise write_failure(err, path) from None
        raise
    try:
        build(tmp)
        (tmp / OWNER_MARKER).write_text(owner + "\n")
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".old", dir=path.parent))
            old.rmdir()
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_write_failure(err):
            raise write_failure(err, path) from None
        raise


def atomic_save_npz(path: Path | str, arrays: dict) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def atomic_write_text(path: Path | str, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_json(path: Path | str, obj: object) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def check_input_file(path: Path | str | None, what: str, *, max_bytes: int | None = None) -> Path:
    """The one gate of every file a command reads, passed before the file is opened.

    The file exists and is a regular file (judged after following symlinks, so a link to
    ``/dev/zero`` is a character device: refused; a FIFO would block the reader forever) that this
    process can read, of at most ``max_bytes`` bytes (default: what the machine's memory can hold,
    :func:`biosnn.core.resources.memory_limit`; readers that read lazily, HDF5 and SQLite, bound what they
    read themselves). Returns the path; raises :class:`~biosnn.core.errors.BiosnnInputError` naming ``what``.
    """
    from .resources import memory_limit

    if path is None or str(path) == "":
        raise BiosnnInputError(f"{what}: no file given")
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise BiosnnInputError(f"{what} file {str(path)!r} is a broken symbolic link") from None
        raise BiosnnInputError(f"{what} file {str(path)!r} does not exist") from None
    except OSError as err:  # a loop of links, a name too long, a path through a file
        raise BiosnnInputError(f"{what} file {str(path)!r} cannot be read: {err.strerror or err}") from None
    if not stat.S_ISREG(info.st_mode):
        raise BiosnnInputError(f"{what} file {str(path)!r} is {_file_kind(info.st_mode)}; give a regular file")
    if not os.access(path, os.R_OK):
        raise BiosnnInputError(f"{what} file {str(path)!r} is not readable (permissions)")
    limit = memory_limit() if max_bytes is None else max_bytes
    if info.st_size > limit:
        raise BiosnnInputError(
            f"{what} file {str(path)!r} holds {info.st_size} bytes, more than the {limit} this command reads"
        )
    return path


def _identity(path: Path):
    """``(device, inode)`` of an existing file (the same file under any name), else its resolved path."""
    try:
        info = os.stat(path)
        return (info.st_dev, info.st_ino)
    except OSError:
        return Path(os.path.abspath(path)).resolve()


def check_distinct(
    outputs: Iterable[tuple[Path | str | None, str]], inputs: Iterable[tuple[Path | str | None, str]]
) -> None:
    """No output replaces an input: ``outputs`` and ``inputs`` are ``(path, what)`` pairs (None paths are
    skipped). An output may not be an input file under any name (symlinks and hard links included), and
    an output that is or will be a directory may not hold an input (directories are replaced as a whole)."""
    ins = [(Path(p), w) for p, w in inputs if p is not None]
    for out, out_what in outputs:
        if out is None:
            continue
        out = Path(out)
        out_id, out_resolved = _identity(out), Path(os.path.abspath(out)).resolve()
        for given, what in ins:
            if _identity(given) == out_id:
                raise BiosnnInputError(
                    f"{out_what} {str(out)!r} is the {what} {str(given)!r} this command reads; "
                    "an output never replaces an input: choose another name"
                )
            resolved = Path(os.path.abspath(given)).resolve()
            if out_resolved in resolved.parents and (out.is_dir() or not out.exists()):
                raise BiosnnInputError(
                    f"{out_what} {str(out)!r} holds the {what} {str(given)!r} this command "
                    "reads; the output is replaced as a whole: choose a directory of its own"
                )


def _npy_member_bytes(archive: zipfile.ZipFile, name: str) -> int:
    """Bytes an ``.npy`` member of an archive will take once read (from its header alone)."""
    with archive.open(name) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    return int(np.prod(shape, dtype=object)) * dtype.itemsize


def load_npz(path: Path | str, what: str) -> dict:
    """Every array of an ``.npz`` (no pickles); a missing, non-regular or corrupt file, or one whose
    arrays would not fit in memory once read (a small compressed file can declare a huge array),
    raises a :class:`~biosnn.core.errors.BiosnnInputError` naming ``what`` the file should hold."""
    from .resources import FILE_HINT, check_fits

    path = os.fspath(check_input_file(path, what))
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(_npy_member_bytes(archive, name) for name in archive.namelist() if name.endswith(".npy"))
    except zipfile.BadZipFile:
        declared = 0  # not an archive: np.load says what it is
    except (OSError, ValueError, EOFError, SyntaxError, KeyError) as err:
        raise BiosnnInputError(f"{what} file {path!r} is not a readable .npz: {err}") from None
    check_fits(declared, f"reading the {what} file {path!r}", FILE_HINT)
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except TypeError:  # np.load gave a plain array: an .npy file
        raise BiosnnInputError(f"{what} file {path!r} is a .npy array, not an .npz archive") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, AttributeError) as err:
        raise BiosnnInputError(f"{what} file {path!r} is not a readable .npz: {err}") from None


def load_npy(path: Path | str, what: str) -> np.ndarray:
    """One ``.npy`` array (no pickles), its declared size checked against memory before it is read."""
    from .resources import FILE_HINT, check_fits

    path = os.fspath(check_input_file(path, what))
    try:
        with open(path, "rb") as handle:
            if handle.read(6) == b"\x93NUMPY":
                handle.seek(0)
                version = np.lib.format.read_magic(handle)
                read_header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(handle)
                check_fits(
                    int(np.prod(shape, dtype=object)) * dtype.itemsize, f"reading the {what} file {path!r}", FILE_HINT
                )
        value = np.load(path, allow_pickle=False)
    except BiosnnInputError:
        raise
    except (OSError, ValueError, EOFError, SyntaxError) as err:
        raise BiosnnInputError(f"{what} file {path!r} is not a readable .npy: {err}") from None
    if not isinstance(value, np.ndarray):  # an .npz archive
        value.close()
        raise BiosnnInputError(f"{what} file {path!r} is an .npz archive; expected a .npy array")
    return value


@contextlib.contextmanager
def expected_layout(source: object) -> Iterator[None]:
    """Reading results: content without the layout the reader expects (a missing key, a list where a table
    should be) is bad input naming ``source`` (a path, or a description of the files), not a traceback."""
    try:
        yield
    except BiosnnInputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise BiosnnInputError(
            f"{str(source)!r} does not have the layout of its results ({type(err).__name__}: {err})"
        ) from None


def check_hdf5(handle: h5py.Group, path: Path | str, what: str) -> None:
    """Refuse an open HDF5 file (h5py) that could read other files or declare more than memory holds.

    Every link is walked without being followed: an external link (a name pointing into another file),
    a dataset with external storage (its bytes kept in another file, any file the user can read) or a
    virtual dataset (mapped from other files) is refused, since a crafted file would otherwise pull a
    local file's contents into an output. Fixed-size datasets whose declared size, together, exceeds
    :func:`biosnn.core.resources.memory_limit` are refused before any is read (a few kB of HDF5 can declare
    terabytes)."""
    import h5py

    from .resources import memory_limit

    declared, seen, stack = 0, set(), [("/", handle)]
    while stack:
        prefix, group = stack.pop()
        if group.id in seen:  # hard links can make a group its own member
            continue
        seen.add(group.id)
        for name in group:
            link = group.get(name, getlink=True)
            full = f"{prefix.rstrip('/')}/{name}"
            if isinstance(link, h5py.ExternalLink):
                raise BiosnnInputError(
                    f"{what} file {str(path)!r}: {full} is an external link (to "
                    f"{link.filename!r}); biosnn reads no file through another one"
                )
            if isinstance(link, h5py.SoftLink):
                continue  # a name for an object of this file: reached through its own path
            item = group.get(name)
            if isinstance(item, h5py.Group):
                stack.append((full, item))
            elif isinstance(item, h5py.Dataset):
                if item.external:
                    raise BiosnnInputError(
                        f"{what} file {str(path)!r}: dataset {full} keeps its data in external "
                        f"files ({item.external[0][0]!r}, ...); biosnn reads no such dataset"
                    )
                if item.is_virtual:
                    raise BiosnnInputError(
                        f"{what} file {str(path)!r}: dataset {full} is a virtual dataset (mapped "
                        "from other files); biosnn reads no such dataset"
                    )
                if item.dtype.kind != "O":
                    declared += int(np.prod(item.shape or (1,), dtype=object)) * item.dtype.itemsize
    limit = memory_limit()
    if declared > limit:
        raise BiosnnInputError(
            f"{what} file {str(path)!r} declares {declared} bytes of data, more than the {limit} this machine can hold"
        )


#: the most digits an integer in a results file may have (int64 has 19; a 401-digit one is hostile or corrupt)
JSON_MAX_INT_DIGITS = 40
#: the deepest nesting a results file may have (biosnn writes fewer than 10 levels)
JSON_MAX_DEPTH = 64


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > JSON_MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits")
    return int(text)


def _json_depth(text: str) -> int:
    """The deepest nesting of brackets outside strings (checked before parsing: a 100,000-deep file
    would exhaust the parser's recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load_json(path: Path | str, what: str) -> dict:
    """A JSON results file; a missing file gives ``{}``, a corrupt or hostile one (not a regular file,
    larger than memory, nested deeper than :data:`JSON_MAX_DEPTH`, integers longer than
    :data:`JSON_MAX_INT_DIGITS` digits, NaN spelled out) a clear error."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return {}
    check_input_file(path, what)
    try:
        text = path.read_text()
        if _json_depth(text) > JSON_MAX_DEPTH:
            raise ValueError(f"nested deeper than {JSON_MAX_DEPTH} levels")
        return json.loads(text, parse_int=_json_int)
    except (OSError, ValueError, RecursionError) as err:
        raise BiosnnInputError(f"{what} {str(path)!r} is not readable JSON: {err}") from None


def file_digest(path: Path | str) -> str:
    """SHA-256 of a file's contents (read in 1 MiB blocks): what binds a name or a result to its source."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
