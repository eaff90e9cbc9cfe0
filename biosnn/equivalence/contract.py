"""The equivalence contract and the metrics that check it (no asserts: callers decide).

The contract (``docs/contract.md``): same inputs, weights, parameters, dt and
schedule into both backends, float64, the exact discretization: every recorded
state variable within :data:`V_TOLERANCE` and identical spikes. Spikes are
compared by identity ``(sample, unit, step)``: a spike shifted by one step is a
mismatch, never averaged away.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..core.activity import LayerActivity
from ..core.trace import Trace

if TYPE_CHECKING:
    from collections.abc import Iterable

#: The float64 contract: both backends evaluate the same closed-form propagators, so
#: only rounding (~1e-16 per operation, accumulated over <= 1e5 steps) separates them.
V_TOLERANCE = 1e-9


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
        return (
            self.spikes_identical
            and self.max_abs_dv <= v_tolerance
            and all(d <= v_tolerance for d in self.max_abs_dstate.values())
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
    if set(a.states) != set(b.states):
        raise ValueError(f"traces record different variables: {sorted(a.states)} vs {sorted(b.states)}")
    dstate = {k: max_abs_difference(a.states[k], b.states[k]) for k in a.states}
    return _agreement(max_abs_difference(a.v, b.v), dstate, a.spike_keys(), b.spike_keys())


def compare_activities(a: LayerActivity, b: LayerActivity) -> Agreement:
    """One layer of two runs of the same network: every recorded variable (at each step start,
    where both recorded them, and after the last step) and the spikes."""
    if set(a.final) != set(b.final) or a.main != b.main:
        raise ValueError(f"activities record different variables: {sorted(a.final)} vs {sorted(b.final)}")
    diffs = {}
    for name in a.final:
        d = max_abs_difference(a.final[name], b.final[name])
        if name in a.states and name in b.states:
            d = max(d, max_abs_difference(a.states[name], b.states[name]))
        diffs[name] = d
    return _agreement(diffs.pop(a.main), diffs, a.keys(), b.keys())


def max_abs_difference(a: np.ndarray, b: np.ndarray) -> float:
    """``max |a - b|``; infinite when either holds a NaN or an infinity (never a pass)."""
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    return float(np.max(np.abs(a - b), initial=0.0))


def _agreement(dv: float, dstate: dict, ka: set, kb: set) -> Agreement:
    only_a, only_b = ka - kb, kb - ka
    first = None
    if only_a or only_b:
        tagged = [(s, u, t, "a") for s, u, t in only_a] + [(s, u, t, "b") for s, u, t in only_b]
        first = min(tagged, key=lambda x: (x[2], x[0], x[1]))
    return Agreement(dv, dstate, len(ka), len(kb), len(only_a), len(only_b), first)


def combine(agreements: Iterable[Agreement]) -> Agreement:
    """The agreement of several layers (or cases) taken together: worst differences, all spikes."""
    agreements = list(agreements)
    dstate: dict = {}
    for a in agreements:
        for k, d in a.max_abs_dstate.items():
            dstate[k] = max(dstate.get(k, 0.0), d)
    firsts = [a.first_mismatch for a in agreements if a.first_mismatch is not None]
    return Agreement(
        max(a.max_abs_dv for a in agreements),
        dstate,
        sum(a.n_spikes_a for a in agreements),
        sum(a.n_spikes_b for a in agreements),
        sum(a.n_only_a for a in agreements),
        sum(a.n_only_b for a in agreements),
        firsts[0] if firsts else None,
    )


def spike_time_shift(reference_times: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Per-spike difference ``times - reference_times`` for equal-length sorted trains."""
    reference_times, times = np.asarray(reference_times), np.asarray(times)
    if reference_times.shape != times.shape:
        raise ValueError(f"spike counts differ: {reference_times.size} vs {times.size}")
    return times - reference_times
