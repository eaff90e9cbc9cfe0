"""Spiking Heidelberg Digits / Spiking Speech Commands (Cramer et al. 2020): reading, binning and the
count normalisation of Yu, Sun & Goodman (2025).

**The files** (HDF5, from the authors' site: https://zenkelab.org/datasets/): ``spikes/times``
(one float array of seconds per sample), ``spikes/units`` (one integer array of channels
0..699 per sample), ``labels`` and ``extra/*`` (keys, speaker, ...). SHD: 20 classes, 8156 train and
2264 test samples; SSC: 35 classes, separate train, valid and test files. :func:`read_chunks`
streams them in chunks of samples as flat arrays: no list of ten thousand arrays is ever held.

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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import BiosnnInputError
from ..io import check_output_dir, file_digest, replace_directory
from ..spikes import rank_within

BINNINGS = ("floor", "digitize")
FORMS = ("binned", "continuous")
CHUNK = 512


@dataclass(frozen=True)
class NormalizeConfig:
    theta: int = 2
    epsilon: float = 0.01
    max_removed: int = 2000
    min_class_fraction: float = 0.5
    n_bins: int = 100
    duration: float = 1.4
    binning: str = "floor"
    full_batches: int = 0          # > 0: keep only the first whole batches of this size (the reference: 256)
    n_channels: int = 700
    seed: int = 0

    def __post_init__(self):
        if self.binning not in BINNINGS:
            raise BiosnnInputError(f"binning must be one of {', '.join(BINNINGS)}, got {self.binning!r}")
        for name in ("theta", "max_removed", "n_bins", "full_batches", "n_channels", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (1 if name in (
                    "n_bins", "n_channels") else 0):
                raise BiosnnInputError(f"{name} must be a {'positive' if name in ('n_bins', 'n_channels') else 'non-negative'} "
                                       f"integer, got {value!r}")
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
    import h5py

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise BiosnnInputError(f"spike file {path!r} does not exist")
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise BiosnnInputError(f"spike file {path!r} is not readable HDF5: {err}") from None
    missing = [k for k in ("spikes/times", "spikes/units", "labels") if k not in handle]
    if missing:
        handle.close()
        raise BiosnnInputError(f"spike file {path!r} lacks {', '.join(missing)} (the SHD/SSC layout: spikes/times, "
                               "spikes/units, labels)")
    n = handle["labels"].shape[0]
    if n == 0:
        handle.close()
        raise BiosnnInputError(f"spike file {path!r} holds no samples")
    if handle["spikes/times"].shape != (n,) or handle["spikes/units"].shape != (n,):
        handle.close()
        raise BiosnnInputError(f"spike file {path!r}: {n} labels but spikes/times {handle['spikes/times'].shape} "
                               f"and spikes/units {handle['spikes/units'].shape}")
    return handle


def n_samples(path) -> int:
    with _open(path) as handle:
        return int(handle["labels"].shape[0])


def read_chunks(path, *, chunk: int = CHUNK, n_channels: int = 700):
    """Yield ``(first, times, units, sample, labels)`` per chunk of samples: flat arrays, ``sample``
    relative to ``first``; every chunk checked (finite non-negative times, channels in range)."""
    with _open(path) as handle:
        times_ds, units_ds, labels_ds = handle["spikes/times"], handle["spikes/units"], handle["labels"]
        total = labels_ds.shape[0]
        for first in range(0, total, chunk):
            stop = min(first + chunk, total)
            t_parts, u_parts = times_ds[first:stop], units_ds[first:stop]
            lengths = np.fromiter((len(t) for t in t_parts), np.int64, stop - first)
            if not np.array_equal(lengths, np.fromiter((len(u) for u in u_parts), np.int64, stop - first)):
                bad = first + int(np.flatnonzero(lengths != [len(u) for u in u_parts])[0])
                raise BiosnnInputError(f"{os.fspath(path)!r}: sample {bad} has different numbers of times and units")
            times = np.concatenate(t_parts).astype(np.float64) if lengths.sum() else np.zeros(0)
            units = np.concatenate(u_parts).astype(np.int64) if lengths.sum() else np.zeros(0, np.int64)
            if times.size and (not np.all(np.isfinite(times)) or times.min() < 0):
                raise BiosnnInputError(f"{os.fspath(path)!r}: samples {first}..{stop - 1} hold negative or "
                                       "non-finite spike times")
            if units.size and (units.min() < 0 or units.max() >= n_channels):
                raise BiosnnInputError(f"{os.fspath(path)!r}: samples {first}..{stop - 1} hold channels outside "
                                       f"[0, {n_channels})")
            labels = np.asarray(labels_ds[first:stop])
            if labels.size and (labels.dtype.kind not in "iu" or labels.min() < 0):
                raise BiosnnInputError(f"{os.fspath(path)!r}: samples {first}..{stop - 1} hold labels that are not "
                                       "non-negative integers")
            labels = labels.astype(np.int64)
            yield first, times, units, np.repeat(np.arange(stop - first), lengths), labels


def read_dataset(path, *, duration: float = 1.4, samples=None, name: str | None = None):
    """A :class:`~biosnn.data.dataset.SpikeDataset` of a file in the SHD layout (an original file, or a
    ``continuous_*.h5`` written by :func:`normalize`), spikes at or after ``duration`` (s) dropped and
    counted in ``meta["dropped_spikes"]``; ``samples`` selects sample indices (ascending). The channel
    count is the file's kept channels (normalised files) or 700."""
    from ..spikes import SpikeTrains
    from .dataset import SpikeDataset

    if not (np.isfinite(duration) and duration > 0):
        raise BiosnnInputError(f"duration must be a positive time (s), got {duration!r}")
    with _open(path) as handle:
        n_channels = int(handle["provenance/channels"].shape[0]) if "provenance/channels" in handle else 700
        total = int(handle["labels"].shape[0])
    wanted = np.arange(total) if samples is None else np.asarray(samples, dtype=np.int64)
    if wanted.size and (wanted.min() < 0 or wanted.max() >= total or np.any(np.diff(wanted) <= 0)):
        raise BiosnnInputError(f"samples must be ascending indices in [0, {total})")
    position = np.full(total, -1)
    position[wanted] = np.arange(wanted.size)
    times, units, rows, labels = [], [], [], np.zeros(wanted.size, np.int64)
    dropped = 0
    for first, t, u, s, lab in read_chunks(path, n_channels=n_channels):
        ids = first + np.arange(lab.size)
        keep_sample = position[ids] >= 0
        labels[position[ids[keep_sample]]] = lab[keep_sample]
        inside = keep_sample[s] & (t < duration)
        dropped += int(np.sum(keep_sample[s] & (t >= duration)))
        times.append(t[inside])
        units.append(u[inside])
        rows.append(position[ids[s[inside]]])
    spikes = SpikeTrains.from_unsorted(np.concatenate(times), np.concatenate(units), n_channels, duration,
                                       np.concatenate(rows), int(wanted.size))
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
        key = key[np.r_[True, key[1:] != key[:-1]]] if key.size else key      # sort-based unique: fast on ints
        return key // (cfg.n_channels * cfg.n_bins), (key // cfg.n_bins) % cfg.n_channels, key % cfg.n_bins
    order = np.argsort(sample * cfg.n_channels + units, kind="stable")
    return sample[order], units[order], times[order]


def _chunks(files, cfg: NormalizeConfig, chunk: int):
    """``(global sample ids, times, units, sample within chunk, labels)`` over ``files`` in order."""
    offset = 0
    for path in files:
        for first, times, units, sample, labels in read_chunks(path, chunk=chunk, n_channels=cfg.n_channels):
            yield offset + first + np.arange(labels.size), times, units, sample, labels
        offset += n_samples(path)


def count_events(files, cfg: NormalizeConfig, forms=FORMS, *, chunk: int = CHUNK) -> tuple[dict, np.ndarray]:
    """``({form: c [S, n_channels] int32}, labels [S])`` over ``files`` in order, in one reading."""
    blocks = {form: [] for form in forms}
    all_labels = []
    for ids, times, units, sample, labels in _chunks(files, cfg, chunk):
        for form in forms:
            s, u, _ = _events(times, units, sample, cfg, form)
            block = np.bincount(s * cfg.n_channels + u, minlength=labels.size * cfg.n_channels)
            blocks[form].append(block.reshape(labels.size, cfg.n_channels).astype(np.int32))
        all_labels.append(labels)
    return {form: np.concatenate(b) for form, b in blocks.items()}, np.concatenate(all_labels)


def counts(files, cfg: NormalizeConfig, form: str, *, chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """``(c [S, n_channels] int32, labels [S])`` of one form."""
    c, labels = count_events(files, cfg, (form,), chunk=chunk)
    return c[form], labels


@dataclass(frozen=True)
class Selection:
    samples: np.ndarray        # kept sample ids (global numbering), in order
    removed: np.ndarray        # sample ids removed to rescue channels
    channels: np.ndarray       # kept channels (original indices), ascending
    dropped: np.ndarray        # bad channels dropped
    c_min: np.ndarray          # per kept channel: its minimum count over the kept samples


def select(c: np.ndarray, labels: np.ndarray, cfg: NormalizeConfig) -> Selection:
    """Whole -> part (steps 1-3 of the module docstring) on counts ``c [S, N]``."""
    n = c.shape[0]
    eligible = np.arange(n)
    if cfg.full_batches:
        eligible = eligible[:(n // cfg.full_batches) * cfg.full_batches]
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
    balanced = np.sort(np.concatenate([rng.choice(kept[labels[kept] == k], smallest, replace=False)
                                       for k in np.flatnonzero(sizes)])) if smallest else kept[:0]
    c_min = c[np.ix_(balanced, channels)].min(0) if balanced.size else np.zeros(channels.size, np.int64)
    silent = c_min == 0
    return Selection(balanced, eligible[removed], channels[~silent], np.union1d(dropped, channels[silent]),
                     c_min[~silent].astype(np.int64))


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


class _Output:
    """One output file (a form and a stage) written row block by row block."""

    def __init__(self, path: Path, form: str, sel: Selection, cfg: NormalizeConfig):
        import h5py

        self.form, self.sel, self.cfg = form, sel, cfg
        self.h5 = h5py.File(path, "w")
        n_out = sel.samples.size
        if form == "binned":
            self.x = self.h5.create_dataset("X", (n_out, sel.channels.size, cfg.n_bins), np.uint8,
                                            chunks=(min(max(n_out, 1), 64), max(sel.channels.size, 1), cfg.n_bins))
            self.x.attrs["layout"] = "samples, channels, bins (the published shd_norm layout)"
        else:
            self.times = self.h5.create_dataset("spikes/times", (n_out,), h5py.vlen_dtype(np.float32))
            self.units = self.h5.create_dataset("spikes/units", (n_out,), h5py.vlen_dtype(np.uint16))

    def write(self, rows, channels, values, first_row: int, n_rows: int) -> None:
        """Events of output rows ``first_row .. first_row + n_rows - 1`` (``rows`` absolute, ascending)."""
        if self.form == "binned":
            block = np.zeros((n_rows, self.sel.channels.size, self.cfg.n_bins), np.uint8)
            block[rows - first_row, channels, values.astype(np.int64)] = 1
            self.x[first_row:first_row + n_rows] = block
            return
        order = np.argsort(rows * 2.0 * (values.max(initial=0.0) + 1.0) + values, kind="stable")   # by row, then time
        rows, channels, values = rows[order], channels[order], values[order]
        bounds = np.searchsorted(rows, np.arange(first_row, first_row + n_rows + 1))
        times = np.empty(n_rows, dtype=self.times.dtype)
        units = np.empty(n_rows, dtype=self.units.dtype)
        for k in range(n_rows):
            times[k] = values[bounds[k]:bounds[k + 1]].astype(np.float32)
            units[k] = channels[bounds[k]:bounds[k + 1]].astype(np.uint16)
        # write_direct: assignment would stack rows of equal length (every norm sample) into a 2-D array
        rows_out = np.s_[first_row:first_row + n_rows]
        self.times.write_direct(times, np.s_[0:n_rows], rows_out)
        self.units.write_direct(units, np.s_[0:n_rows], rows_out)

    def close(self, labels, provenance: dict) -> None:
        self.h5.create_dataset("Y" if self.form == "binned" else "labels", data=labels)
        prov = self.h5.create_group("provenance")
        prov.attrs["json"] = json.dumps(provenance, sort_keys=True)
        for name in ("channels", "c_min", "samples", "removed", "dropped"):
            key = {"samples": "kept_samples", "removed": "removed_samples", "dropped": "dropped_channels"}.get(name, name)
            prov.create_dataset(key, data=getattr(self.sel, name))
        self.h5.close()


def _write(out: Path, files, cfg: NormalizeConfig, selections: dict, provenance: dict, chunk: int) -> None:
    """Every form's part and norm files in one reading of the sources."""
    total = sum(n_samples(f) for f in files)
    plan = {}
    for form, sel in selections.items():
        position = np.full(total, -1)
        position[sel.samples] = np.arange(sel.samples.size)
        new_channel = np.full(cfg.n_channels, -1)
        new_channel[sel.channels] = np.arange(sel.channels.size)
        c_min_of_unit = np.zeros(cfg.n_channels, np.int64)
        c_min_of_unit[sel.channels] = sel.c_min
        outputs = {stage: _Output(out / f"{form}_{stage}.h5", form, sel, cfg) for stage in ("part", "norm")}
        plan[form] = (position, new_channel, c_min_of_unit, outputs, np.zeros(sel.samples.size, np.int64))
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
    for form, (_, _, _, outputs, labels_out) in plan.items():
        for stage, output in outputs.items():
            output.close(labels_out, provenance | {"form": form, "stage": stage})


def normalize(files, out_dir, cfg: NormalizeConfig = NormalizeConfig(), *, forms=FORMS, chunk: int = CHUNK,
              progress: bool = False) -> dict:
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
    out = Path(check_output_dir(out_dir, "--out")).resolve()
    for f in files:
        if out == f.resolve().parent or out in f.resolve().parents:
            raise BiosnnInputError(f"--out {str(out_dir)!r} holds the input {str(f)!r}: it is replaced as a whole, so "
                                   "choose a directory of its own")
    if out.is_dir() and any(out.iterdir()) and not (out / "summary.json").exists():
        raise BiosnnInputError(f"--out {str(out_dir)!r} is a directory that biosnn did not write (no summary.json); "
                               "it is replaced as a whole, so choose a new or empty directory")
    total = sum(n_samples(f) for f in files)
    if cfg.full_batches > total:
        raise BiosnnInputError(f"full_batches={cfg.full_batches} is more than the {total} samples: nothing would be kept")
    provenance = dict(parameters=asdict(cfg), sources=[{"file": f.name, "sha256": file_digest(f),
                                                        "samples": n_samples(f)} for f in files])
    summary = {}

    def build(tmp: Path):
        from tqdm import tqdm

        bar = tqdm(total=2, desc="normalize", unit="pass", disable=not progress)
        c, labels = count_events(files, cfg, forms, chunk=chunk)
        bar.update()
        selections = {form: select(c[form], labels, cfg) for form in forms}
        for form, sel in selections.items():
            if not sel.samples.size or not sel.channels.size:
                raise BiosnnInputError(f"{form} form: nothing survives the normalisation ({sel.samples.size} samples, "
                                       f"{sel.channels.size} channels kept with theta={cfg.theta}, "
                                       f"epsilon={cfg.epsilon}); lower theta or raise epsilon")
        _write(tmp, files, cfg, selections, provenance, chunk)
        bar.update()
        bar.close()
        for form, sel in selections.items():
            sizes = np.bincount(labels[sel.samples])
            summary[form] = dict(samples=int(sel.samples.size), channels=int(sel.channels.size),
                                 bins=cfg.n_bins, per_class=int(sizes[sizes > 0].min()) if sel.samples.size else 0,
                                 spikes_per_norm_sample=int(sel.c_min.sum()), removed_samples=int(sel.removed.size),
                                 dropped_channels=int(sel.dropped.size))
        (tmp / "summary.json").write_text(json.dumps(summary | {"provenance": provenance}, indent=1))

    replace_directory(out_dir, build)
    return summary
