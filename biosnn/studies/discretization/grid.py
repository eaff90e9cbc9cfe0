"""The grid's estimates of continuous quantities: the delivery lag of inputs, spike times from labels.

Part of the discretization study (:mod:`biosnn.studies.discretization`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.errors import BiosnnInputError
from ...core.schedule import arrival_slot, hop_latency_steps, is_whole_steps


def delivery_lag_steps(*, held: bool, spikes: bool, schedule: str = "exact") -> int:
    """Steps between an input (spike or drive) at the start of step k and the recorded sample that first
    holds its whole effect.

    A spike of step k arrives in the slot of its pathway, after that step's state update
    (``hop_latency_steps``: 1 under the exact schedule), so it is in ``v`` from the start of step
    ``k + 1 + 1``: lag 2. A spike fed as a drive held over its own step (spikingjelly) is fully in at
    the end of step k: lag 1. A held drive (a current, not a spike) has no lag.
    """
    latency = hop_latency_steps(arrival_slot(schedule, held=held))
    return latency + (1 if spikes else 0)


def estimated_spike_times(labels: np.ndarray, dt: float, lag_steps: int) -> np.ndarray:
    """The continuous spike time a label estimates: the crossing is detected at the end of the labelled
    step (``label + dt``) on a time axis delayed by the input lag (``lag_steps dt``)."""
    return np.asarray(labels, np.float64) + (1 - lag_steps) * dt


@dataclass(frozen=True)
class GridState:
    """A state recorded on a grid, ``values[m]`` at ``(m - lag_steps) dt`` on the continuous time axis."""

    values: np.ndarray  # [M, B, N]
    dt: float
    lag_steps: int = 0

    def at(self, times: np.ndarray) -> np.ndarray:
        """``[len(times), B, N]``; NaN outside the record. Times must lie on the grid (``is_whole_steps``)."""
        index = np.rint(np.asarray(times, np.float64) / self.dt).astype(np.int64)
        if not is_whole_steps(times, self.dt):
            raise BiosnnInputError(f"state sampled between grid points of dt={self.dt!r}s")
        index = index + self.lag_steps
        out = np.full((index.size,) + self.values.shape[1:], np.nan)
        ok = (index >= 0) & (index < self.values.shape[0])
        out[ok] = self.values[index[ok]]
        return out
