"""Trace and spike-train comparison metrics (no asserts: callers decide).

Spikes are compared by identity ``(sample, unit, step)``: a spike shifted by one
step is a mismatch, never averaged away (DESIGN.md §4).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .trace import Trace


@dataclass(frozen=True)
class Agreement:
    """How two traces of the same simulation agree."""

    max_abs_dv: float
    max_abs_dstate: dict
    n_spikes_a: int
    n_spikes_b: int
    n_only_a: int
    n_only_b: int
    first_mismatch: tuple | None  # (sample, unit, step, "a"|"b") earliest spike present in one only

    @property
    def spikes_identical(self) -> bool:
        return self.n_only_a == 0 and self.n_only_b == 0

    def passes(self, v_tolerance: float) -> bool:
        return self.spikes_identical and self.max_abs_dv <= v_tolerance and all(
            d <= v_tolerance for d in self.max_abs_dstate.values()
        )

    def as_dict(self) -> dict:
        d = asdict(self)
        d["spikes_identical"] = self.spikes_identical
        return d


def compare_traces(a: Trace, b: Trace) -> Agreement:
    if a.v.shape != b.v.shape:
        raise ValueError(f"traces differ in shape: {a.v.shape} vs {b.v.shape}")
    if not np.isclose(a.dt, b.dt, rtol=1e-12, atol=0):
        raise ValueError(f"traces differ in dt: {a.dt} vs {b.dt}")
    dv = float(np.max(np.abs(a.v - b.v))) if a.v.size else 0.0
    dstate = {k: float(np.max(np.abs(a.states[k] - b.states[k]))) for k in a.states if k in b.states}
    ka, kb = a.spike_keys(), b.spike_keys()
    only_a, only_b = ka - kb, kb - ka
    first = None
    if only_a or only_b:
        tagged = [(s, u, t, "a") for s, u, t in only_a] + [(s, u, t, "b") for s, u, t in only_b]
        first = min(tagged, key=lambda x: (x[2], x[0], x[1]))
    return Agreement(dv, dstate, len(ka), len(kb), len(only_a), len(only_b), first)


def spike_time_shift(reference_times: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Per-spike difference ``times - reference_times`` for equal-length sorted trains."""
    reference_times, times = np.asarray(reference_times), np.asarray(times)
    if reference_times.shape != times.shape:
        raise ValueError(f"spike counts differ: {reference_times.size} vs {times.size}")
    return times - reference_times
