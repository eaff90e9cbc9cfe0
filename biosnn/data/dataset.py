"""A labelled batch of spike trains: what a task generator returns and a sweep evaluates.

On disk (``.npz``, written atomically): the batched :class:`~biosnn.core.spikes.SpikeTrains`
arrays, ``labels`` (int64 ``[S]``), ``n_classes`` and a JSON ``meta`` (the
generator, its parameters and seed: how to make the file again).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import BiosnnInputError
from ..core.io import atomic_save_npz, load_npz
from ..core.spikes import SpikeTrains

if TYPE_CHECKING:
    from pathlib import Path

    import numpy.typing as npt


@dataclass(frozen=True)
class SpikeDataset:
    spikes: SpikeTrains  # batched: sample s is spikes.samples == s
    labels: np.ndarray  # [S] int64 in [0, n_classes)
    n_classes: int
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.spikes, SpikeTrains) or not self.spikes.is_batched:
            raise BiosnnInputError("a dataset holds batched SpikeTrains (with samples)")
        labels = np.asarray(self.labels)
        if labels.shape != (self.spikes.n_samples,):
            raise BiosnnInputError(f"{labels.shape} labels for {self.spikes.n_samples} samples")
        if labels.size and (labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= self.n_classes):
            raise BiosnnInputError(f"labels must be integers in [0, {self.n_classes})")
        object.__setattr__(self, "labels", labels.astype(np.int64))

    def __len__(self) -> int:
        return int(self.labels.size)

    @property
    def n_inputs(self) -> int:
        return self.spikes.n_units

    @property
    def duration(self) -> float:
        return self.spikes.duration

    def counts(self) -> np.ndarray:
        """Spikes per sample and channel ``[S, N]``: all a rate code can read."""
        return self.spikes.counts()

    def subset(self, index: npt.ArrayLike) -> SpikeDataset:
        """The samples ``index`` (renumbered 0..len(index)-1, in that order)."""
        index = np.asarray(index)
        if index.ndim != 1 or (index.size and index.dtype.kind not in "iu"):
            raise BiosnnInputError(f"subset: expected a 1-D array of sample indices, got {index!r}")
        index = index.astype(np.int64)
        if index.size and (index.min() < 0 or index.max() >= len(self)):
            raise BiosnnInputError(f"subset: indices must lie in [0, {len(self)})")
        if np.unique(index).size != index.size:
            raise BiosnnInputError("subset: an index appears twice (a sample can be taken once)")
        position = np.full(len(self), -1)
        position[index] = np.arange(index.size)
        keep = position[self.spikes.samples] >= 0
        spikes = SpikeTrains(
            self.spikes.times[keep],
            self.spikes.units[keep],
            self.n_inputs,
            self.duration,
            position[self.spikes.samples[keep]],
            int(index.size),
        )
        return SpikeDataset(spikes, self.labels[index], self.n_classes, self.meta)

    def save(self, path: Path | str) -> None:
        s = self.spikes
        atomic_save_npz(
            path,
            dict(
                times=s.times,
                units=s.units,
                samples=s.samples,
                n_units=np.int64(s.n_units),
                n_samples=np.int64(s.n_samples),
                duration=np.float64(s.duration),
                labels=self.labels,
                n_classes=np.int64(self.n_classes),
                meta=np.str_(json.dumps(self.meta, sort_keys=True)),
            ),
        )

    @classmethod
    def load(cls, path: Path | str) -> SpikeDataset:
        path = os.fspath(path)
        content = load_npz(path, "dataset")
        missing = [
            k
            for k in ("times", "units", "samples", "n_units", "n_samples", "duration", "labels", "n_classes")
            if k not in content
        ]
        if missing:
            raise BiosnnInputError(f"dataset file {path!r} lacks {', '.join(missing)}")
        try:
            meta = json.loads(str(content.get("meta", "{}")))
        except ValueError as err:
            raise BiosnnInputError(f"dataset file {path!r}: unreadable meta ({err})") from None
        try:
            spikes = SpikeTrains(
                content["times"],
                content["units"],
                int(content["n_units"]),
                float(content["duration"]),
                content["samples"],
                int(content["n_samples"]),
            )
            return cls(spikes, content["labels"], int(content["n_classes"]), meta)
        except BiosnnInputError as err:
            raise BiosnnInputError(f"dataset file {path!r}: {err}") from None
