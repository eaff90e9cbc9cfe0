"""Spiking Heidelberg Digits / Spiking Speech Commands (Cramer et al. 2020): reading, binning and the
count normalisation of Yu, Sun & Goodman (2025).

**The files** (HDF5, from the authors' site: https://zenkelab.org/datasets/): ``spikes/times``
(one float array of seconds per sample), ``spikes/units`` (one integer array of channels
0..699 per sample), ``labels`` and ``extra/*`` (keys, speaker, ...). SHD: 20 classes, 8156 train and
2264 test samples; SSC: 35 classes, separate train, valid and test files. :func:`read_chunks`
streams them in chunks of samples as flat arrays: no list of ten thousand arrays is ever held.

**Hostile or malformed files** are refused before a value is read (:func:`_open`): a spike file must be
a regular file holding no external link, external storage or virtual dataset (``biosnn.core.io.check_hdf5``:
those would read another local file's bytes into the output), in the layout above (:func:`_check_layout`:
1-D integer labels, one variable-length row of numbers per label). Each chunk is checked as it is read
(:func:`_check_chunk`): whole channel ids in range (3.0 accepted, 3.5 refused), labels below
:data:`MAX_CLASSES`, times in seconds (a time :data:`MS_SUSPECT_RATIO` times past the duration is a file in
milliseconds). :func:`normalize` refuses a file given twice, and, from the sizes alone, a run whose arrays
would not fit in memory (:func:`normalize_bytes`) or whose files would not fit in memory or on the disk
(:func:`_output_bytes`); it builds each file in memory and copies it out with an ordinary write, so a disk
that fills meanwhile is a clean error with nothing left behind, never a crash inside HDF5.

**Binning** (:func:`bin_index`): ``floor(t / bin_width)`` over ``n_bins`` bins by default (spikes at
or after ``n_bins * bin_width`` are dropped); ``binning="digitize"`` reproduces the reference
code: ``np.digitize(t, np.linspace(0, duration, n_bins))`` clipped to the last bin, which leaves
bin 0 unused and lumps everything after ``duration (n_bins - 2) / (n_bins - 1)`` (about 1.386 s of
1.4 s) into the last bin. Rasters are binary: two spikes in a bin become one.

**Whole -> part -> norm** (:func:`select`), on per-sample, per-channel counts ``c[s, i]``
(active bins of the binary raster, or spikes for the continuous form):

1. a channel is *bad* when ``min_s c[s, i] < theta`` (2);
2. a bad channel whose low-count samples are at most ``epsilon`` (1%; SSC 2%) of all samples
   keeps its place and those samples are removed instead, cheapest channels first, as long as the
   total removed stays within ``max_removed`` (2000 for SHD) and every class keeps at least
   ``min_class_fraction`` (50%) of its samples; the other bad channels are dropped;
3. classes are balanced to the smallest class (a seeded random choice): the *part* set;
4. *norm*: every kept channel is subsampled in every sample to exactly its minimum count over the
   part set, ``c_min,i`` (spikes, or active bins, chosen uniformly at random, seeded per sample);
   channels with ``c_min,i = 0`` are dropped. Every norm sample then holds ``sum_i c_min,i`` spikes:
   spike counts carry no information, timing all of it.

The reference code applies this to SHD's train and test sets together after keeping only full
batches of 256 (9984 of 10420 samples; ``full_batches=256``), and publishes SHD part/norm of shape
(5460, 224, 100), 273 per class, exactly 471 spikes per norm sample; SSC-norm (40390, 285, 100),
35 x 1154.

:func:`normalize` writes both stages in the chosen forms as HDF5 with provenance (parameters,
seed, source files' SHA-256, kept channels, removed and kept sample ids): ``continuous_*.h5`` keep
the source layout (``spikes/times``, ``spikes/units``, ``labels``) so Brian2 sees the true times;
``binned_*.h5`` hold ``X`` (samples, channels, bins) uint8 as the published shd_norm, and ``Y``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import BiosnnInputError
from ..core.io import check_distinct, check_hdf5, check_input_file, check_owned_dir, file_digest, replace_directory
from ..core.resources import FILE_HINT, check_fits
from ..core.spikes import rank_within

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from .dataset import SpikeDataset

#: what to change when a normalisation does not fit in memory
NORMALIZE_HINT = (
    "use fewer bins or channels (--bins, --channels), one form (--forms), or check the files' sample counts"
)

#: the command a normalised directory belongs to (``biosnn.core.io.OWNER_MARKER``): only its own output is replaced
NORMALIZE_OWNER = "biosnn data normalize"

BINNINGS = ("floor", "digitize")
FORMS = ("binned", "continuous")
CHUNK = 512

#: SHD/SSC files are read a chunk of samples at a time, so their size on disk bounds no allocation (SSC's
#: training file is larger than many machines' memory); what they declare is bounded by ``check_hdf5`` and
#: :func:`normalize_bytes` instead of ``check_input_file``'s whole-file bound
SPIKE_FILE_MAX_BYTES = sys.maxsize
#: the most classes labels may name (labels are uint16 in the published files; SHD has 20 classes, SSC 35):
#: a label is a class index that sizes per-class tallies and a readout layer, so a larger one is corruption
MAX_CLASSES = 1 << 16
#: spike times beyond this multiple of the binned duration are not late spikes of a file in seconds (SHD's
#: last spikes are at ~1.4 s, SSC's at ~1 s) but a file in milliseconds (1000 times larger): refused, never
#: silently dropped as "after the window"
MS_SUSPECT_RATIO = 100
#: the layout every spike file must have (the published SHD/SSC files, and the continuous files biosnn writes)
SHD_LAYOUT = (
    "the SHD/SSC layout: spikes/times and spikes/units, one variable-length array per sample, and "
    "labels, one integer per sample"
)
#: bytes an HDF5 output file holds besides its data (superblock, object headers, chunk index, provenance
#: attributes; 12-40 kB measured on the files of tests/data/test_hostile_files.py)
H5_FILE_OVERHEAD = 64 * 1024
#: bytes a variable-length row costs besides its values, per dataset: its 16-byte descriptor, the 16-byte
#: header of its global-heap object and up to 8 bytes of alignment; 80 per sample for spikes/times and
#: spikes/units together
VLEN_ROW_BYTES = 80
#: bytes per value of the int64 arrays normalize holds per sample or channel (positions, labels, channel maps)
INDEX_BYTES = 8
#: bytes per count of the [samples, channels] int32 count matrices
COUNT_BYTES = 4
#: bytes of one spike in a continuous output: its float32 time and uint16 channel
SPIKE_OUT_BYTES = 6
#: HDF5 refuses a chunk of 4 GiB or more: a binned raster is chunked below this (64 samples of SHD: 4.5 MB)
RASTER_CHUNK_BYTES = 1 << 28


@dataclass(frozen=True)
class NormalizeConfig:
    theta: int = 2
    epsilon: float = 0.01
    max_removed: int = 2000
    min_class_fraction: float = 0.5
    n_bins: int = 100
    duration: float = 1.4
    binning: str = "floor"
    full_batches: int = 0  # > 0: keep only the first whole batches of this size (the reference: 256)
    n_channels: int = 700
    seed: int = 0

    def __post_init__(self) -> None:
        if self.binning not in BINNINGS:
            raise BiosnnInputError(f"binning must be one of {', '.join(BINNINGS)}, got {self.binning!r}")
        for name in ("theta", "max_removed", "n_bins", "full_batches", "n_channels", "seed"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, np.integer))
                or value < (1 if name in ("n_bins", "n_channels") else 0)
            ):
                raise BiosnnInputError(
                    f"{name} must be a {'positive' if name in ('n_bins', 'n_channels') else 'non-negative'} "
                    f"integer, got {value!r}"
                )
        if not 0 <= self.epsilon < 1:
            raise BiosnnInputError(f"epsilon must lie in [0, 1), got {self.epsilon!r}")
        if not 0 <= self.min_class_fraction <= 1:
            raise BiosnnInputError(f"min_class_fraction must lie in [0, 1], got {self.min_class_fraction!r}")
        if not (np.isfinite(self.duration) and self.duration > 0):
            raise BiosnnInputError(f"duration must be a positive time (s), got {self.duration!r}")

    @property
    def bin_width(self) -> float:
        return self.duration / self.n_bins


def bin_index(times: np.ndarray, cfg: NormalizeConfig) -> np.ndarray:
    """Bin of each spike, or -1 when it falls outside the raster (``floor`` binning only)."""
    if cfg.binning == "digitize":
        return np.minimum(np.digitize(times, np.linspace(0.0, cfg.duration, cfg.n_bins)), cfg.n_bins - 1)
    # t / bin_width may round up to n_bins just below the end, or down to n_bins - 1 at t = duration
    bins = np.minimum(np.floor(times / cfg.bin_width).astype(np.int64), cfg.n_bins - 1)
    return np.where((times >= 0) & (times < cfg.duration), bins, -1)


# -- reading -------------------------------------------------------------------------------------------
def _open(path):
    """The HDF5 file at ``path``, open for reading, once it passed every check before a value is read: a
    regular file (``check_input_file``), no external link, external storage or virtual dataset and no
    fixed-size data larger than memory (``check_hdf5``), and the SHD/SSC layout (:func:`_check_layout`).
    The handle is closed on every error; the caller closes it (``with _open(path) as handle``)."""
    import h5py

    path = os.fspath(check_input_file(path, "spike", max_bytes=SPIKE_FILE_MAX_BYTES))
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise BiosnnInputError(f"spike file {path!r} is not readable HDF5: {err}") from None
    try:
        check_hdf5(handle, path, "spike")
        _check_layout(handle, path)
    except BiosnnInputError:
        handle.close()
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as err:  # a corrupt object header
        handle.close()
        raise BiosnnInputError(f"spike file {path!r} is not readable HDF5: {err}") from None
    except BaseException:
        handle.close()
        raise
    return handle


def _dataset(handle, key: str, path: str):
    """``handle[key]``, which must be a dataset."""
    import h5py

    item = handle.get(key)
    if not isinstance(item, h5py.Dataset):
        kind = {"Group": "a group", "Datatype": "a named datatype"}.get(type(item).__name__, type(item).__name__)
        raise BiosnnInputError(f"spike file {path!r}: {key} is {kind}, not a dataset ({SHD_LAYOUT})")
    return item


def _check_layout(handle, path: str) -> None:
    """The SHD/SSC layout, from the declared shapes and types alone (nothing is read): ``labels`` a 1-D integer
    dataset of at least one sample; ``spikes/times`` and ``spikes/units`` one variable-length row of numbers per
    label. Units may be stored as floats (converted files do); each chunk is then checked to hold whole numbers
    (:func:`read_chunks`)."""
    import h5py

    missing = [k for k in ("spikes/times", "spikes/units", "labels") if handle.get(k) is None]
    if missing:
        raise BiosnnInputError(f"spike file {path!r} lacks {', '.join(missing)} ({SHD_LAYOUT})")
    labels = _dataset(handle, "labels", path)
    if labels.ndim != 1:
        raise BiosnnInputError(
            f"spike file {path!r}: labels has shape {labels.shape}; expected one label per sample, a 1-D dataset"
        )
    if labels.dtype.kind not in "iu":
        raise BiosnnInputError(
            f"spike file {path!r}: labels are of type {labels.dtype}; expected integer class indices"
        )
    n = labels.shape[0]
    if n == 0:
        raise BiosnnInputError(f"spike file {path!r} holds no samples")
    for key in ("spikes/times", "spikes/units"):
        data = _dataset(handle, key, path)
        values = h5py.check_vlen_dtype(data.dtype)
        values = None if values is None else np.dtype(values)  # variable-length text: str or bytes
        if data.ndim != 1 or values is None:
            raise BiosnnInputError(
                f"spike file {path!r}: {key} is a fixed-size {data.dtype} dataset of shape "
                f"{data.shape}; expected one variable-length array per sample ({SHD_LAYOUT})"
            )
        if data.shape[0] != n:
            raise BiosnnInputError(f"spike file {path!r}: {n} labels but {key} holds {data.shape[0]} samples")
        if values.kind not in "fiu":
            raise BiosnnInputError(f"spike file {path!r}: {key} holds values of type {values}; expected numbers")


def n_samples(path: Path | str) -> int:
    with _open(path) as handle:
        return int(handle["labels"].shape[0])


def _check_whole_units(units: np.ndarray, where: str) -> None:
    """Channel ids stored as floats (converted files do) are accepted when every one is a whole number: 3.0
    names channel 3 unambiguously. 3.5 or NaN names no channel and is refused, never truncated to one."""
    if units.dtype.kind == "f":
        bad = ~np.isfinite(units) | (units != np.floor(units))
        if np.any(bad):
            raise BiosnnInputError(
                f"{where} hold channel id {units[np.argmax(bad)].item()!r}; channel ids are whole numbers"
            )


def _check_chunk(times, units, labels, where: str, n_channels: int, duration: float | None) -> None:
    """A chunk's values: finite non-negative times (in seconds: not ``MS_SUSPECT_RATIO`` times past
    ``duration``), whole channel ids in ``[0, n_channels)``, labels in ``[0, MAX_CLASSES)``."""
    if times.size and (not np.all(np.isfinite(times)) or times.min() < 0):
        raise BiosnnInputError(f"{where} hold negative or non-finite spike times")
    if duration is not None and times.size and times.max() > MS_SUSPECT_RATIO * duration:
        raise BiosnnInputError(
            f"{where} hold spike times up to {times.max():g}, more than {MS_SUSPECT_RATIO} times "
            f"the {duration:g} s binned: they look like milliseconds, and SHD/SSC times are "
            "seconds; convert them to seconds (or give the duration they span)"
        )
    _check_whole_units(units, where)
    if units.size and (units.min() < 0 or units.max() >= n_channels):
        raise BiosnnInputError(f"{where} hold channels outside [0, {n_channels})")
    if labels.size and (labels.min() < 0 or labels.max() >= MAX_CLASSES):
        raise BiosnnInputError(
            f"{where} hold labels that are not non-negative integers below {MAX_CLASSES} "
            f"(class indices; found {labels.min()} .. {labels.max()})"
        )


def read_chunks(
    path: Path | str, *, chunk: int = CHUNK, n_channels: int = 700, duration: float | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(first, times, units, sample, labels)`` per chunk of samples: flat arrays, ``sample``
    relative to ``first``; every chunk checked (:func:`_check_chunk`: finite non-negative times, and with
    ``duration`` given, times in seconds; channels in range; labels class indices)."""
    with _open(path) as handle:
        times_ds, units_ds, labels_ds = handle["spikes/times"], handle["spikes/units"], handle["labels"]
        total = labels_ds.shape[0]
        for first in range(0, total, chunk):
            stop = min(first + chunk, total)
            where = f"{os.fspath(path)!r}: samples {first}..{stop - 1}"
            try:
                t_parts, u_parts = times_ds[first:stop], units_ds[first:stop]
                labels = np.asarray(labels_ds[first:stop])
            except (OSError, RuntimeError, ValueError) as err:  # a damaged chunk or heap
                raise BiosnnInputError(f"{where} cannot be read: {err}") from None
            lengths = np.fromiter((len(t) for t in t_parts), np.int64, stop - first)
            if not np.array_equal(lengths, np.fromiter((len(u) for u in u_parts), np.int64, stop - first)):
                bad = first + int(np.flatnonzero(lengths != [len(u) for u in u_parts])[0])
                raise BiosnnInputError(f"{os.fspath(path)!r}: sample {bad} has different numbers of times and units")
            times = np.concatenate(t_parts).astype(np.float64) if lengths.sum() else np.zeros(0)
            units = np.concatenate(u_parts) if lengths.sum() else np.zeros(0, np.int64)
            _check_chunk(times, units, labels, where, n_channels, duration)
            yield (
                first,
                times,
                units.astype(np.int64),
                np.repeat(np.arange(stop - first), lengths),
                labels.astype(np.int64),
            )


def _n_channels(handle, path) -> int:
    """The channels of a file: a normalised file's kept channels (``provenance/channels``), else SHD's 700."""
    if "provenance/channels" not in handle:
        return 700
    channels = _dataset(handle, "provenance/channels", os.fspath(path))
    if channels.ndim != 1 or not channels.shape[0]:
        raise BiosnnInputError(
            f"spike file {os.fspath(path)!r}: provenance/channels has shape {channels.shape}; "
            "expected the kept channels, a non-empty 1-D dataset"
        )
    return int(channels.shape[0])


def read_dataset(
    path: Path | str,
    *,
    duration: float = 1.4,
    samples: Sequence[int] | np.ndarray | None = None,
    name: str | None = None,
) -> SpikeDataset:
    """A :class:`~biosnn.data.dataset.SpikeDataset` of a file in the SHD layout (an original file, or a
    ``continuous_*.h5`` written by :func:`normalize`), spikes at or after ``duration`` (s) dropped and
    counted in ``meta["dropped_spikes"]``; ``samples`` selects sample indices (ascending). The channel
    count is the file's kept channels (normalised files) or 700."""
    from ..core.spikes import SpikeTrains
    from .dataset import SpikeDataset

    if not (np.isfinite(duration) and duration > 0):
        raise BiosnnInputError(f"duration must be a positive time (s), got {duration!r}")
    with _open(path) as handle:
        n_channels = _n_channels(handle, path)
        total = int(handle["labels"].shape[0])
    # the position of every sample, the ids of a chunk's samples and the labels: int64 per sample
    check_fits(3 * total * INDEX_BYTES, f"reading the {total} samples of {os.fspath(path)!r}", FILE_HINT)
    wanted = np.arange(total) if samples is None else np.asarray(samples, dtype=np.int64)
    if wanted.size and (wanted.min() < 0 or wanted.max() >= total or np.any(np.diff(wanted) <= 0)):
        raise BiosnnInputError(f"samples must be ascending indices in [0, {total})")
    position = np.full(total, -1)
    position[wanted] = np.arange(wanted.size)
    times, units, rows, labels = [], [], [], np.zeros(wanted.size, np.int64)
    dropped = 0
    for first, t, u, s, lab in read_chunks(path, n_channels=n_channels, duration=duration):
        ids = first + np.arange(lab.size)
        keep_sample = position[ids] >= 0
        labels[position[ids[keep_sample]]] = lab[keep_sample]
        inside = keep_sample[s] & (t < duration)
        dropped += int(np.sum(keep_sample[s] & (t >= duration)))
        times.append(t[inside])
        units.append(u[inside])
        rows.append(position[ids[s[inside]]])
    spikes = SpikeTrains.from_unsorted(
        np.concatenate(times), np.concatenate(units), n_channels, duration, np.concatenate(rows), int(wanted.size)
    )
    n_classes = int(labels.max()) + 1 if labels.size else 1
    meta = dict(source=os.path.basename(os.fspath(path)), name=name, dropped_spikes=dropped, duration=duration)
    return SpikeDataset(spikes, labels, n_classes, meta)


# -- counting and selection -----------------------------------------------------------------------------
def _events(times, units, sample, cfg: NormalizeConfig, form: str):
    """The events counted in ``form``: spikes inside the raster's time span (continuous) or unique active
    bins (binned); returns ``(sample, unit, time_or_bin)`` grouped by (sample, unit)."""
    bins = bin_index(times, cfg)
    inside = bins >= 0
    sample, units, times, bins = sample[inside], units[inside], times[inside], bins[inside]
    if form == "binned":
        key = np.sort((sample * cfg.n_channels + units) * cfg.n_bins + bins)
        key = key[np.r_[True, key[1:] != key[:-1]]] if key.size else key  # sort-based unique: fast on ints
        return key // (cfg.n_channels * cfg.n_bins), (key // cfg.n_bins) % cfg.n_channels, key % cfg.n_bins
    order = np.argsort(sample * cfg.n_channels + units, kind="stable")
    return sample[order], units[order], times[order]


def _chunks(files, cfg: NormalizeConfig, chunk: int):
    """``(global sample ids, times, units, sample within chunk, labels)`` over ``files`` in order."""
    offset = 0
    for path in files:
        for first, times, units, sample, labels in read_chunks(
            path, chunk=chunk, n_channels=cfg.n_channels, duration=cfg.duration
        ):
            yield offset + first + np.arange(labels.size), times, units, sample, labels
        offset += n_samples(path)


# -- memory and disk: sizes known before the work ---------------------------------------------------------
def _sizes_text(n_total: int, cfg: NormalizeConfig) -> str:
    return (
        f"{n_total} samples x {cfg.n_channels} channels (--channels) x {cfg.n_bins} bins (--bins) (lower "
        "--channels or --bins, or give fewer samples)"
    )


def _counting_bytes(n_total: int, cfg: NormalizeConfig, forms, chunk: int) -> int:
    """Peak bytes of :func:`count_events`: every form's blocks of counts and their concatenation ([S, channels]
    int32, twice), one chunk's bincount (int64) and its int32 copy, the labels and their blocks (int64)."""
    rows, channels = min(chunk, n_total), cfg.n_channels
    return (
        2 * len(forms) * n_total * channels * COUNT_BYTES
        + rows * channels * (INDEX_BYTES + COUNT_BYTES)
        + 2 * n_total * INDEX_BYTES
    )


def _writing_bytes(n_total: int, cfg: NormalizeConfig, forms, chunk: int) -> int:
    """Bytes :func:`_write` allocates besides the files it builds: per form the output position of every sample
    and two channel maps (int64), the labels, and one chunk's binary raster [rows, channels, bins] (uint8)."""
    rows = min(chunk, n_total)
    raster = rows * cfg.n_channels * cfg.n_bins if "binned" in forms else 0
    return len(forms) * (n_total + 2 * cfg.n_channels) * INDEX_BYTES + 2 * n_total * INDEX_BYTES + raster


def normalize_bytes(n_total: int, cfg: NormalizeConfig, forms: Sequence[str] = FORMS, chunk: int = CHUNK) -> int:
    """Bytes :func:`normalize` holds at its peak, from the sizes alone (before a spike is read): the largest of
    counting (:func:`_counting_bytes`), selecting (every form's counts held, then :func:`select`'s copy of one
    form's counts, its two boolean masks and the kept block) and writing (:func:`_writing_bytes`), plus
    ``digitize``'s bin edges. The normalised files, built in memory, are checked once their size is known
    (after the selection: :func:`_output_bytes`)."""
    counts = n_total * cfg.n_channels * COUNT_BYTES
    held = len(forms) * counts + 2 * n_total * INDEX_BYTES
    selecting = held + 2 * counts + 2 * n_total * cfg.n_channels
    edges = cfg.n_bins * INDEX_BYTES if cfg.binning == "digitize" else 0
    return (
        max(_counting_bytes(n_total, cfg, forms, chunk), selecting, held + _writing_bytes(n_total, cfg, forms, chunk))
        + edges
    )


def _output_bytes(form: str, sel: Selection, c: np.ndarray, cfg: NormalizeConfig) -> dict:
    """``{stage: bytes}`` of a form's part and norm files: their data (``X``, or the spikes of the kept samples
    and channels, from the counts ``c`` of the form) and provenance, and HDF5's own (:data:`H5_FILE_OVERHEAD`,
    :data:`VLEN_ROW_BYTES`)."""
    n_out, kept = int(sel.samples.size), int(sel.channels.size)
    fixed = H5_FILE_OVERHEAD + INDEX_BYTES * (2 * n_out + 2 * kept + sel.removed.size + sel.dropped.size)
    if form == "binned":
        return {stage: fixed + n_out * kept * cfg.n_bins for stage in ("part", "norm")}
    part = int(c[np.ix_(sel.samples, sel.channels)].sum(dtype=np.int64))
    return {
        stage: fixed + n_out * VLEN_ROW_BYTES + spikes * SPIKE_OUT_BYTES
        for stage, spikes in (("part", part), ("norm", n_out * int(sel.c_min.sum())))
    }


def _check_room(directory: Path, n_bytes: int, out_dir) -> None:
    """Refuse, before a file is written, to write ``n_bytes`` where the file system of ``directory`` has less
    free space (a write that fails anyway, the space taken meanwhile, is still a clean error: :meth:`_Output.close`)."""
    free = shutil.disk_usage(directory).free
    if n_bytes > free:
        raise BiosnnInputError(
            f"--out {str(out_dir)!r}: the normalised files need about {n_bytes / 2**20:.3g} MiB "
            f"and its file system has {free / 2**20:.3g} MiB free (no space left on the device); "
            "nothing was written"
        )


def _check_repeated(files) -> None:
    """Each spike file once: the same file given twice (as --train and --test, under another name, a hard link or
    a symbolic link) would count every one of its samples twice."""
    seen = {}
    for path in files:
        info = os.stat(path)
        key = (info.st_dev, info.st_ino)
        if key in seen:
            raise BiosnnInputError(
                f"spike file {str(path)!r} is the same file as {str(seen[key])!r} (given twice, "
                "or under another name or a link): its samples would be counted twice; give each "
                "set (train, test, valid) once"
            )
        seen[key] = path


def count_events(
    files: Sequence[Path | str], cfg: NormalizeConfig, forms: Sequence[str] = FORMS, *, chunk: int = CHUNK
) -> tuple[dict, np.ndarray]:
    """``({form: c [S, n_channels] int32}, labels [S])`` over ``files`` in order, in one reading (refused before
    it starts when the counts would not fit in memory)."""
    n_total = sum(n_samples(f) for f in files)
    check_fits(_counting_bytes(n_total, cfg, forms, chunk), f"counting {_sizes_text(n_total, cfg)}", NORMALIZE_HINT)
    blocks = {form: [] for form in forms}
    all_labels = []
    for _ids, times, units, sample, labels in _chunks(files, cfg, chunk):
        for form in forms:
            s, u, _ = _events(times, units, sample, cfg, form)
            block = np.bincount(s * cfg.n_channels + u, minlength=labels.size * cfg.n_channels)
            blocks[form].append(block.reshape(labels.size, cfg.n_channels).astype(np.int32))
        all_labels.append(labels)
    return {form: np.concatenate(b) for form, b in blocks.items()}, np.concatenate(all_labels)


def counts(
    files: Sequence[Path | str], cfg: NormalizeConfig, form: str, *, chunk: int = CHUNK
) -> tuple[np.ndarray, np.ndarray]:
    """``(c [S, n_channels] int32, labels [S])`` of one form."""
    c, labels = count_events(files, cfg, (form,), chunk=chunk)
    return c[form], labels


@dataclass(frozen=True)
class Selection:
    samples: np.ndarray  # kept sample ids (global numbering), in order
    removed: np.ndarray  # sample ids removed to rescue channels
    channels: np.ndarray  # kept channels (original indices), ascending
    dropped: np.ndarray  # bad channels dropped
    c_min: np.ndarray  # per kept channel: its minimum count over the kept samples


def select(c: np.ndarray, labels: np.ndarray, cfg: NormalizeConfig) -> Selection:
    """Whole -> part (steps 1-3 of the module docstring) on counts ``c [S, N]``."""
    n = c.shape[0]
    if labels.size and (labels.min() < 0 or labels.max() >= MAX_CLASSES):
        raise BiosnnInputError(
            f"labels must be class indices in [0, {MAX_CLASSES}), got {labels.min()} .. {labels.max()}"
        )
    eligible = np.arange(n)
    if cfg.full_batches:
        eligible = eligible[: (n // cfg.full_batches) * cfg.full_batches]
    c_e = c[eligible]
    low = c_e < cfg.theta
    bad = np.flatnonzero(low.any(0))
    n_low = low[:, bad].sum(0)
    class_sizes = np.bincount(labels[eligible])
    removed = np.zeros(eligible.size, bool)
    rescued = []
    for j in np.argsort(n_low, kind="stable"):
        if n_low[j] > cfg.epsilon * eligible.size:
            break
        trial = removed | low[:, bad[j]]
        lost = np.bincount(labels[eligible][trial], minlength=class_sizes.size)
        if trial.sum() > cfg.max_removed or np.any(lost > (1 - cfg.min_class_fraction) * class_sizes):
            continue
        removed = trial
        rescued.append(bad[j])
    dropped = np.setdiff1d(bad, rescued)
    channels = np.setdiff1d(np.arange(c.shape[1]), dropped)
    kept = eligible[~removed]
    sizes = np.bincount(labels[kept], minlength=class_sizes.size)
    present = sizes[sizes > 0]
    smallest = int(present.min()) if present.size else 0
    rng = np.random.default_rng([cfg.seed, 0])
    balanced = (
        np.sort(
            np.concatenate(
                [rng.choice(kept[labels[kept] == k], smallest, replace=False) for k in np.flatnonzero(sizes)]
            )
        )
        if smallest
        else kept[:0]
    )
    c_min = c[np.ix_(balanced, channels)].min(0) if balanced.size else np.zeros(channels.size, np.int64)
    silent = c_min == 0
    return Selection(
        balanced,
        eligible[removed],
        channels[~silent],
        np.union1d(dropped, channels[silent]),
        c_min[~silent].astype(np.int64),
    )


# -- writing -------------------------------------------------------------------------------------------
def _subsample(s, u, sample_ids, c_min_of_unit, cfg):
    """Keep ``c_min`` events of every (sample, channel), chosen uniformly, seeded per sample: the result
    depends on the seed and the sample's id only (not on the chunking). Events are grouped by sample."""
    keep = np.zeros(s.size, bool)
    if not s.size:
        return keep
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    ends = np.r_[starts[1:], s.size]
    for a, b in zip(starts, ends):
        rng = np.random.default_rng([cfg.seed, 1, int(sample_ids[s[a]])])
        rank = rank_within(u[a:b], rng.random(b - a))
        keep[a:b] = rank < c_min_of_unit[u[a:b]]
    return keep


def _raster_chunks(n_out: int, n_channels: int, n_bins: int) -> tuple:
    """HDF5 chunks of a binned raster: 64 samples of every channel and bin (as published), fewer samples, channels
    or bins where a chunk would exceed :data:`RASTER_CHUNK_BYTES` (HDF5 refuses chunks of 4 GiB)."""
    bins = min(n_bins, RASTER_CHUNK_BYTES)
    channels = max(1, min(n_channels, RASTER_CHUNK_BYTES // bins))
    return max(1, min(n_out, 64, RASTER_CHUNK_BYTES // (channels * bins))), channels, bins


class _Output:
    """One output file (a form and a stage) written row block by row block.

    The file is built in memory (HDF5's core driver, no backing store) and written to ``path`` by an ordinary
    write when it is complete (:meth:`close`): a full disk is then an ``OSError`` (``ENOSPC``) raised by Python,
    never a failed write inside HDF5, which leaves its files unclosable and crashes the interpreter
    (a segmentation fault) as they are freed."""

    def __init__(self, path: Path, form: str, sel: Selection, cfg: NormalizeConfig):
        import h5py

        self.path, self.form, self.sel, self.cfg = path, form, sel, cfg
        self.h5 = h5py.File(path, "w", driver="core", backing_store=False)
        n_out = sel.samples.size
        if form == "binned":
            self.x = self.h5.create_dataset(
                "X",
                (n_out, sel.channels.size, cfg.n_bins),
                np.uint8,
                chunks=_raster_chunks(max(n_out, 1), max(sel.channels.size, 1), cfg.n_bins),
            )
            self.x.attrs["layout"] = "samples, channels, bins (the published shd_norm layout)"
        else:
            self.times = self.h5.create_dataset("spikes/times", (n_out,), h5py.vlen_dtype(np.float32))
            self.units = self.h5.create_dataset("spikes/units", (n_out,), h5py.vlen_dtype(np.uint16))

    def write(self, rows, channels, values, first_row: int, n_rows: int) -> None:
        """Events of output rows ``first_row .. first_row + n_rows - 1`` (``rows`` absolute, ascending)."""
        if self.form == "binned":
            block = np.zeros((n_rows, self.sel.channels.size, self.cfg.n_bins), np.uint8)
            block[rows - first_row, channels, values.astype(np.int64)] = 1
            self.x[first_row : first_row + n_rows] = block
            return
        order = np.argsort(rows * 2.0 * (values.max(initial=0.0) + 1.0) + values, kind="stable")  # by row, then time
        rows, channels, values = rows[order], channels[order], values[order]
        bounds = np.searchsorted(rows, np.arange(first_row, first_row + n_rows + 1))
        times = np.empty(n_rows, dtype=self.times.dtype)
        units = np.empty(n_rows, dtype=self.units.dtype)
        for k in range(n_rows):
            times[k] = values[bounds[k] : bounds[k + 1]].astype(np.float32)
            units[k] = channels[bounds[k] : bounds[k + 1]].astype(np.uint16)
        # write_direct: assignment would stack rows of equal length (every norm sample) into a 2-D array
        rows_out = np.s_[first_row : first_row + n_rows]
        self.times.write_direct(times, np.s_[0:n_rows], rows_out)
        self.units.write_direct(units, np.s_[0:n_rows], rows_out)

    def close(self, labels, provenance: dict) -> None:
        self.h5.create_dataset("Y" if self.form == "binned" else "labels", data=labels)
        prov = self.h5.create_group("provenance")
        prov.attrs["json"] = json.dumps(provenance, sort_keys=True)
        for name in ("channels", "c_min", "samples", "removed", "dropped"):
            key = {"samples": "kept_samples", "removed": "removed_samples", "dropped": "dropped_channels"}.get(
                name, name
            )
            prov.create_dataset(key, data=getattr(self.sel, name))
        self.h5.flush()
        image = self.h5.id.get_file_image()
        self.h5.close()
        with open(self.path, "wb") as handle:  # a full disk: OSError (ENOSPC), the directory then removed
            handle.write(image)

    def discard(self) -> None:
        """Drop the file (built in memory: nothing was written)."""
        if self.h5:
            self.h5.close()


def _write(out: Path, files, cfg: NormalizeConfig, selections: dict, provenance: dict, chunk: int) -> None:
    """Every form's part and norm files in one reading of the sources."""
    total = sum(n_samples(f) for f in files)
    plan = {}
    try:
        for form, sel in selections.items():
            position = np.full(total, -1)
            position[sel.samples] = np.arange(sel.samples.size)
            new_channel = np.full(cfg.n_channels, -1)
            new_channel[sel.channels] = np.arange(sel.channels.size)
            c_min_of_unit = np.zeros(cfg.n_channels, np.int64)
            c_min_of_unit[sel.channels] = sel.c_min
            outputs = {stage: _Output(out / f"{form}_{stage}.h5", form, sel, cfg) for stage in ("part", "norm")}
            plan[form] = (position, new_channel, c_min_of_unit, outputs, np.zeros(sel.samples.size, np.int64))
        _fill(plan, files, cfg, chunk)
        for form, (_, _, _, outputs, labels_out) in plan.items():
            for stage, output in outputs.items():
                output.close(labels_out, provenance | {"form": form, "stage": stage})
    finally:
        for *_, outputs, _ in plan.values():
            for output in outputs.values():
                output.discard()


def _fill(plan: dict, files, cfg: NormalizeConfig, chunk: int) -> None:
    """Every output's rows, in one reading of the sources."""
    for ids, times, units, sample, labels in _chunks(files, cfg, chunk):
        for form, (position, new_channel, c_min_of_unit, outputs, labels_out) in plan.items():
            kept_rows = position[ids][position[ids] >= 0]
            if not kept_rows.size:
                continue
            # kept samples are in ascending id order, so a chunk's kept samples are consecutive output rows
            first_row, n_rows = int(kept_rows.min()), int(kept_rows.size)
            labels_out[kept_rows] = labels[position[ids] >= 0]
            s, u, t = _events(times, units, sample, cfg, form)
            mask = (position[ids[s]] >= 0) & (new_channel[u] >= 0)
            s, u, t = s[mask], u[mask], t[mask]
            outputs["part"].write(position[ids[s]], new_channel[u], t, first_row, n_rows)
            keep = _subsample(s, u, ids, c_min_of_unit, cfg)
            outputs["norm"].write(position[ids[s[keep]]], new_channel[u[keep]], t[keep], first_row, n_rows)


def normalize(
    files: Sequence[Path | str],
    out_dir: Path | str,
    cfg: NormalizeConfig = NormalizeConfig(),
    *,
    forms: Sequence[str] = FORMS,
    chunk: int = CHUNK,
    progress: bool = False,
) -> dict:
    """Whole -> part -> norm over ``files`` (train, test[, valid], in that order) into ``out_dir``
    (replaced as a whole when done); returns a summary per form. ``chunk`` samples are read at a time
    (the result does not depend on it)."""
    files = [Path(f) for f in files]
    if not files:
        raise BiosnnInputError("normalize: give at least one spike file")
    unknown = [f for f in forms if f not in FORMS]
    if unknown or not forms:
        raise BiosnnInputError(f"forms must be among {', '.join(FORMS)}, got {list(forms)}")
    for f in files:
        with _open(f):
            pass
    _check_repeated(files)
    check_distinct([(out_dir, "--out")], [(f, "spike file") for f in files])
    check_owned_dir(out_dir, NORMALIZE_OWNER, "--out")
    total = sum(n_samples(f) for f in files)
    if cfg.full_batches > total:
        raise BiosnnInputError(
            f"full_batches={cfg.full_batches} is more than the {total} samples: nothing would be kept"
        )
    check_fits(normalize_bytes(total, cfg, forms, chunk), f"normalising {_sizes_text(total, cfg)}", NORMALIZE_HINT)
    provenance = dict(
        parameters=asdict(cfg),
        sources=[{"file": f.name, "sha256": file_digest(f), "samples": n_samples(f)} for f in files],
    )
    summary = {}

    def build(tmp: Path):
        from tqdm import tqdm

        bar = tqdm(total=2, desc="normalize", unit="pass", disable=not progress)
        c, labels = count_events(files, cfg, forms, chunk=chunk)
        bar.update()
        selections = {form: select(c[form], labels, cfg) for form in forms}
        for form, sel in selections.items():
            if not sel.samples.size or not sel.channels.size:
                raise BiosnnInputError(
                    f"{form} form: nothing survives the normalisation ({sel.samples.size} samples, "
                    f"{sel.channels.size} channels kept with theta={cfg.theta}, "
                    f"epsilon={cfg.epsilon}); lower theta or raise epsilon"
                )
        sizes = [n for form, sel in selections.items() for n in _output_bytes(form, sel, c[form], cfg).values()]
        del c  # the files are built in memory: the counts are done with
        check_fits(
            _writing_bytes(total, cfg, forms, chunk) + sum(sizes) + max(sizes),  # + one file's copy
            f"building the normalised files ({sum(sizes) / 2**20:.3g} MiB) in memory",
            NORMALIZE_HINT,
        )
        _check_room(tmp, sum(sizes), out_dir)
        _write(tmp, files, cfg, selections, provenance, chunk)
        bar.update()
        bar.close()
        for form, sel in selections.items():
            sizes = np.bincount(labels[sel.samples])
            summary[form] = dict(
                samples=int(sel.samples.size),
                channels=int(sel.channels.size),
                bins=cfg.n_bins,
                per_class=int(sizes[sizes > 0].min()) if sel.samples.size else 0,
                spikes_per_norm_sample=int(sel.c_min.sum()),
                removed_samples=int(sel.removed.size),
                dropped_channels=int(sel.dropped.size),
            )
        (tmp / "summary.json").write_text(json.dumps(summary | {"provenance": provenance}, indent=1))

    replace_directory(out_dir, build, NORMALIZE_OWNER)
    return summary
