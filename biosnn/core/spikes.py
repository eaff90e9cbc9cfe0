"""SpikeTrains: the one container for input and output spikes.

Times are SI seconds (float64), units are int64 indices in ``[0, n_units)``,
and an optional ``samples`` array (int64 in ``[0, n_samples)``) assigns each
spike to one sample of a batch. Spikes must lie in ``[0, duration)`` and be
sorted by time (use :meth:`SpikeTrains.from_unsorted` to sort explicitly).

On disk (``.npz``): ``times``, ``units``, ``n_units``, ``duration`` and, for
batches, ``samples`` and ``n_samples``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import BiosnnInputError
from .io import atomic_save_npz, load_npz
from .schedule import timestep
from .units import SECOND, is_quantity, positive_time, to_si

if TYPE_CHECKING:
    from pathlib import Path

    import numpy.typing as npt


def _as_int_array(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values)
    except ValueError:
        raise BiosnnInputError(f"{name}: expected a 1-D array of integers, got a ragged sequence") from None
    if arr.ndim != 1:
        raise BiosnnInputError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            pass
        else:
            raise BiosnnInputError(f"{name}: expected integer indices, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def rank_within(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The rank of each value among the values of its key (0 for the smallest; ``values`` in [0, 1))."""
    order = np.argsort(keys + values, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) if keys.size else np.zeros(0, np.int64)
    rank = np.empty(keys.size, np.int64)
    rank[order] = np.arange(keys.size) - np.repeat(starts, np.diff(np.r_[starts, keys.size]))
    return rank


@dataclass(frozen=True)
class SpikeTrains:
    """Spike times (s) and unit indices, optionally for a batch of samples."""

    times: np.ndarray
    units: np.ndarray
    n_units: int
    duration: float
    samples: np.ndarray | None = None
    n_samples: int | None = None

    def __init__(
        self,
        times: npt.ArrayLike,
        units: npt.ArrayLike,
        n_units: int,
        duration: float,
        samples: npt.ArrayLike | None = None,
        n_samples: int | None = None,
    ) -> None:
        if not is_quantity(times):
            try:
                times = np.asarray(times, dtype=np.float64)
            except (TypeError, ValueError):
                raise BiosnnInputError(f"spike times: expected numbers (seconds), got {times!r}") from None
        t = to_si(times, SECOND, "spike times", allow_array=True)
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if t.ndim != 1:
            raise BiosnnInputError(f"spike times: expected a 1-D array, got shape {t.shape}")
        u = _as_int_array(units, "spike units")
        if u.shape != t.shape:
            raise BiosnnInputError(f"spike units: shape {u.shape} does not match spike times {t.shape}")
        if isinstance(n_units, (bool, np.bool_)) or not isinstance(n_units, (int, np.integer)) or n_units < 1:
            raise BiosnnInputError(f"n_units: expected a positive integer, got {n_units!r}")
        dur = positive_time(duration, "duration")
        if t.size:
            if t.min() < 0 or t.max() >= dur:
                bad = int(np.flatnonzero((t < 0) | (t >= dur))[0])
                raise BiosnnInputError(f"spike {bad} at t={float(t[bad])!r}s lies outside the window [0, {dur!r}) s")
            if u.min() < 0 or u.max() >= n_units:
                bad = int(np.flatnonzero((u < 0) | (u >= n_units))[0])
                raise BiosnnInputError(f"spike {bad}: unit index {u[bad]} outside [0, {n_units})")
            order_bad = np.flatnonzero(np.diff(t) < 0)
            if order_bad.size:
                i = int(order_bad[0])
                raise BiosnnInputError(
                    f"spike times are not sorted: t[{i}]={float(t[i])!r} > t[{i + 1}]={float(t[i + 1])!r}; "
                    "use SpikeTrains.from_unsorted to sort them"
                )
        s = None
        ns = None
        if samples is not None or n_samples is not None:
            if samples is None:
                samples = np.zeros(t.shape, dtype=np.int64)
            s = _as_int_array(samples, "spike samples")
            if s.shape != t.shape:
                raise BiosnnInputError(f"spike samples: shape {s.shape} does not match spike times {t.shape}")
            if n_samples is not None and (
                isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, (int, np.integer))
            ):
                raise BiosnnInputError(f"n_samples: expected a positive integer, got {n_samples!r}")
            ns = int(n_samples) if n_samples is not None else (int(s.max()) + 1 if s.size else 1)
            if ns < 1:
                raise BiosnnInputError(f"n_samples: expected a positive integer, got {n_samples!r}")
            if s.size and (s.min() < 0 or s.max() >= ns):
                bad = int(np.flatnonzero((s < 0) | (s >= ns))[0])
                raise BiosnnInputError(f"spike {bad}: sample index {s[bad]} outside [0, {ns})")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "units", u)
        object.__setattr__(self, "n_units", int(n_units))
        object.__setattr__(self, "duration", dur)
        object.__setattr__(self, "samples", s)
        object.__setattr__(self, "n_samples", ns)

    # -- construction -------------------------------------------------
    @classmethod
    def from_unsorted(
        cls,
        times: npt.ArrayLike,
        units: npt.ArrayLike,
        n_units: int,
        duration: float,
        samples: npt.ArrayLike | None = None,
        n_samples: int | None = None,
    ) -> SpikeTrains:
        """Sort spikes by time (stable), then construct."""
        t = np.asarray(times, dtype=np.float64)
        order = np.argsort(t, kind="stable")
        return cls(
            t[order],
            np.asarray(units)[order],
            n_units,
            duration,
            None if samples is None else np.asarray(samples)[order],
            n_samples,
        )

    @classmethod
    def from_raster(cls, raster: np.ndarray, dt: float, *, batched: bool = True) -> SpikeTrains:
        """Spikes at the start of each active step of a ``[T, B, N]`` raster (counts > 1 are refused)."""
        raster = np.asarray(raster)
        if raster.ndim != 3:
            raise BiosnnInputError(f"raster: expected [T, B, N], got shape {raster.shape}")
        if raster.size and not np.isin(raster, (0, 1)).all():
            raise BiosnnInputError("raster: expected 0/1 entries (at most one spike per unit and step)")
        if not batched and raster.shape[1] != 1:
            raise BiosnnInputError(f"raster: batched=False needs one sample, got {raster.shape[1]}")
        steps, samples, units = np.nonzero(raster)
        order = np.lexsort((units, samples, steps))
        return cls(
            steps[order] * dt,
            units[order],
            raster.shape[2],
            raster.shape[0] * dt,
            samples[order] if batched else None,
            raster.shape[1] if batched else None,
        )

    @property
    def batch_size(self) -> int:
        return 1 if self.n_samples is None else self.n_samples

    @property
    def is_batched(self) -> bool:
        return self.n_samples is not None

    def sample_indices(self) -> np.ndarray:
        return np.zeros(self.times.shape, np.int64) if self.samples is None else self.samples

    def __len__(self) -> int:
        return int(self.times.size)

    # -- the grid -----------------------------------------------------
    def steps(self, dt: float) -> np.ndarray:
        """Step index of each spike, ``timestep(t, dt)``."""
        return timestep(self.times, dt)

    def check_one_per_step(self, dt: float) -> None:
        """Brian2's SpikeGeneratorGroup takes at most one spike per unit and step."""
        if not len(self):
            return
        key = (self.sample_indices() * self.n_units + self.units) * (timestep(self.duration, dt) + 1) + self.steps(dt)
        uniq, counts = np.unique(key, return_counts=True)
        if np.any(counts > 1):
            k = int(np.flatnonzero(np.isin(key, uniq[counts > 1]))[0])
            raise BiosnnInputError(
                f"unit {self.units[k]} (sample {self.sample_indices()[k]}) has more than one spike in "
                f"step {self.steps(dt)[k]} (t={float(self.times[k])!r}s, dt={dt!r}s); Brian2 allows one per step: "
                "use a smaller dt"
            )

    def counts(self) -> np.ndarray:
        """Spikes per sample and unit ``[B, N]``."""
        out = np.zeros((self.batch_size, self.n_units))
        np.add.at(out, (self.sample_indices(), self.units), 1)
        return out

    def one_per_step(self, dt: float) -> tuple[SpikeTrains, int]:
        """The spikes a grid of step ``dt`` can carry, and how many it cannot.

        Keeps the first spike of each unit in each step (Brian2's SpikeGeneratorGroup takes one) and
        drops spikes within ``1e-3 dt`` of the end, which ``timestep()`` puts in the step after the
        last. Perturbed trains need this before both backends see them, so that both see the same
        input."""
        if not len(self):
            return self, 0
        n_steps = int(timestep(self.duration, dt))
        steps = self.steps(dt)
        key = (self.sample_indices() * self.n_units + self.units) * (n_steps + 1) + steps
        _, first = np.unique(key, return_index=True)
        keep = np.zeros(key.size, bool)
        keep[first] = True
        keep &= steps < n_steps
        lost = int(key.size - keep.sum())
        if not lost:
            return self, 0
        return SpikeTrains(
            self.times[keep],
            self.units[keep],
            self.n_units,
            self.duration,
            None if self.samples is None else self.samples[keep],
            self.n_samples,
        ), lost

    def to_raster(self, dt: float, n_steps: int, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
        """Dense counts ``[n_steps, batch, n_units]`` on the grid (time-major)."""
        raster = np.zeros((n_steps, self.batch_size, self.n_units), dtype=dtype)
        steps = self.steps(dt)
        if np.any(steps >= n_steps):
            k = int(np.flatnonzero(steps >= n_steps)[0])
            raise BiosnnInputError(f"spike at t={self.times[k]!r}s falls in step {steps[k]} >= n_steps={n_steps}")
        np.add.at(raster, (steps, self.sample_indices(), self.units), 1)
        return raster

    # -- files --------------------------------------------------------
    def save(self, path: Path | str) -> None:
        """Write the ``.npz`` layout atomically (a crash leaves no partial file)."""
        arrays = dict(
            times=self.times, units=self.units, n_units=np.int64(self.n_units), duration=np.float64(self.duration)
        )
        if self.is_batched:
            arrays.update(samples=self.samples, n_samples=np.int64(self.n_samples))
        atomic_save_npz(path, arrays)

    @classmethod
    def load(cls, path: Path | str) -> SpikeTrains:
        """Read a spike ``.npz``; missing keys or a corrupt file raise a clear error."""
        path = os.fspath(path)
        content = load_npz(path, "spike")
        missing = [k for k in ("times", "units", "n_units", "duration") if k not in content]
        if missing:
            raise BiosnnInputError(
                f"spike file {path!r} lacks {', '.join(missing)} (needs times, units, n_units, duration)"
            )
        if content["times"].dtype.kind != "f":
            raise BiosnnInputError(f"spike file {path!r}: times must be float seconds, got {content['times'].dtype}")
        n_units = content["n_units"]
        if n_units.shape != () or n_units.dtype.kind not in "iu":
            raise BiosnnInputError(f"spike file {path!r}: n_units must be an integer scalar")
        return cls(
            content["times"],
            content["units"],
            int(n_units),
            float(content["duration"]),
            content.get("samples"),
            int(content["n_samples"]) if "n_samples" in content else None,
        )
