"""Trace: the result of one simulation, identical in layout for both backends.

Fields
------
t : float64 [T]            step start times ``n dt`` (s)
v : [T, N] or [T, B, N]    membrane potential ``v(t_n)`` recorded at the start of
                           step n (``[T, B, N]`` when the input was a batch)
spike_times : float64 [S]  spike labels (start of the step, s), sorted by
                           (time, sample, unit)
spike_units : int64 [S]
spike_samples : int64 [S]  sample index of each spike (all 0 without a batch)
dt : float                 time step (s)
backend, target : str      e.g. ``"brian2"``, ``"cython"``
states : dict              other recorded state variables (``I`` for current
                           synapses), same layout as ``v``
meta : dict                model, parameters, schedule (see biosnn.core.schedule)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .io import _json_default, atomic_save_npz, load_npz

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


@dataclass
class Trace:
    t: np.ndarray
    v: np.ndarray
    spike_times: np.ndarray
    spike_units: np.ndarray
    spike_samples: np.ndarray
    dt: float
    backend: str
    target: str | None = None
    states: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    @property
    def batched(self) -> bool:
        return self.v.ndim == 3

    @property
    def spike_steps(self) -> np.ndarray:
        """Integer step of each spike label (exact: labels are ``step * dt``)."""
        return np.rint(self.spike_times / self.dt).astype(np.int64)

    @classmethod
    def from_spike_steps(
        cls,
        *,
        t: np.ndarray,
        v: np.ndarray,
        steps: np.ndarray,
        units: np.ndarray,
        samples: np.ndarray,
        dt: float,
        **kw: Any,
    ) -> Trace:
        steps = np.asarray(steps, dtype=np.int64)
        units = np.asarray(units, dtype=np.int64)
        samples = np.asarray(samples, dtype=np.int64)
        order = np.lexsort((units, samples, steps))
        return cls(
            t=t, v=v, spike_times=steps[order] * dt, spike_units=units[order], spike_samples=samples[order], dt=dt, **kw
        )

    def spike_keys(self) -> set[tuple[int, int, int]]:
        """``{(sample, unit, step)}``: the identity of every spike."""
        return set(zip(self.spike_samples.tolist(), self.spike_units.tolist(), self.spike_steps.tolist()))

    def save(self, path: Path | str) -> None:
        """Write ``.npz`` with ``t, v, spike_times, spike_units, spike_samples, dt``,
        ``state_<name>`` arrays and ``meta`` (JSON: model, parameters, schedule)."""
        arrays = dict(
            t=self.t,
            v=self.v,
            spike_times=self.spike_times,
            spike_units=self.spike_units,
            spike_samples=self.spike_samples,
            dt=np.float64(self.dt),
            backend=np.str_(self.backend),
            target=np.str_(self.target or ""),
            meta=np.str_(json.dumps(self.meta, default=_json_default)),
        )
        for name, value in self.states.items():
            arrays[f"state_{name}"] = value
        atomic_save_npz(path, arrays)

    @classmethod
    def load(cls, path: Path | str) -> Trace:
        d = load_npz(path, "trace")
        states = {k[len("state_") :]: d[k] for k in d if k.startswith("state_")}
        return cls(
            t=d["t"],
            v=d["v"],
            spike_times=d["spike_times"],
            spike_units=d["spike_units"],
            spike_samples=d["spike_samples"],
            dt=float(d["dt"]),
            backend=str(d["backend"]),
            target=str(d["target"]) or None,
            states=states,
            meta=json.loads(str(d["meta"])),
        )
