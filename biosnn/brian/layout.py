"""Where each sample of a batch runs in one Brian2 simulation: copies side by side, windows one after another.

A batch of B samples runs on ``copies`` independent copies of the network
(every synapse replicated per copy, as in ``biosnn/brian/components.py``) for
``windows = ceil(B / copies)`` windows of time. Sample ``b`` runs on copy
``b % copies`` in window ``b // copies``::

    window k:  [ gap: every state variable held at its initial value | the sample's T steps ]

``copies = B`` (the default) is one window and no gap: every sample side by
side, memory growing as ``B x synapses``. Fewer copies *time-multiplex* the
samples through the same synapses: memory is ``copies x synapses`` whatever B,
for ``windows x (T + gap)`` steps. The gap makes each window a fresh start:
during it a clamp sets every state variable of every layer back to its initial
value in ``before_thresholds`` after the arrivals (so no neuron can fire in the
gap, and spikes still in flight from the previous sample arrive in the gap and
are wiped), and it lasts at least two steps more than the longest axonal delay
and the longest refractory period (so nothing arrives after it and nobody is
refractory when the sample starts). A sample's result is therefore the result
of its own simulation from the initial state, on the same grid and schedule:
``tests/brian/test_layout.py`` checks identical spikes and states against the
side-by-side layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import BiosnnInputError
from ..core.units import check_count

#: steps the gap lasts beyond the longest delay and refractory period (arrivals in the default
#: schedule's ``synapses`` slot come after the clamp of their step: one more step wipes them)
GAP_MARGIN_STEPS = 2


@dataclass(frozen=True)
class Layout:
    """``batch`` samples of ``n_steps`` steps on ``copies`` copies, separated by ``gap`` clamped steps."""

    batch: int
    copies: int
    n_steps: int
    gap: int = 0

    @classmethod
    def of(
        cls,
        batch: int,
        n_steps: int,
        copies: int | None,
        *,
        longest_delay_steps: int = 0,
        longest_refractory_steps: int = 0,
    ) -> Layout:
        copies = batch if copies is None else max(1, min(int(copies), batch))
        windows = -(-batch // copies)
        gap = 0 if windows == 1 else GAP_MARGIN_STEPS + max(longest_delay_steps, longest_refractory_steps)
        return cls(batch, copies, n_steps, gap)

    @property
    def windows(self) -> int:
        return -(-self.batch // self.copies)

    @property
    def window_steps(self) -> int:
        return self.gap + self.n_steps

    @property
    def total_steps(self) -> int:
        return self.windows * self.window_steps

    @property
    def multiplexed(self) -> bool:
        return self.windows > 1

    # -- into the simulation ------------------------------------------------------
    def place(self, samples: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(copy, global step)`` of events of ``samples`` at their own ``steps``."""
        samples = np.asarray(samples, dtype=np.int64)
        return samples % self.copies, (samples // self.copies) * self.window_steps + self.gap + np.asarray(steps)

    def held(self, drive: np.ndarray) -> np.ndarray:
        """A held drive ``[T, B, N]`` laid out as ``[total_steps, copies, N]`` (zero in the gaps and unused copies)."""
        T, B, N = drive.shape
        out = np.zeros((self.windows, self.window_steps, self.copies, N))
        padded = np.zeros((T, self.windows * self.copies, N))
        padded[:, :B] = drive
        out[:, self.gap :] = padded.reshape(T, self.windows, self.copies, N).transpose(1, 0, 2, 3)
        return out.reshape(self.total_steps, self.copies, N)

    def onset_flags(self, onset_steps: int) -> np.ndarray:
        """0.0 before each sample's step ``onset_steps`` (gaps included), 1.0 from it: ``[total_steps]``."""
        flags = np.zeros((self.windows, self.window_steps))
        flags[:, self.gap + onset_steps :] = 1.0
        return flags.ravel()

    def gap_flags(self) -> np.ndarray:
        """1.0 in every gap step, 0.0 in every sample step: ``[total_steps]``."""
        flags = np.zeros((self.windows, self.window_steps))
        flags[:, : self.gap] = 1.0
        return flags.ravel()

    # -- out of the simulation ----------------------------------------------------
    def spikes(self, index: np.ndarray, step: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(steps, units, samples)`` of spikes of a group of ``n`` per copy, at global ``index``/``step``;
        spikes of unused copies of the last window are dropped (none can fall in a gap: the clamp)."""
        index, step = np.asarray(index, dtype=np.int64), np.asarray(step, dtype=np.int64)
        window, local = np.divmod(step, self.window_steps)
        samples = window * self.copies + index // n
        keep = samples < self.batch
        if np.any(local[keep] < self.gap):
            raise RuntimeError("a neuron fired during a clamped gap between samples")
        return local[keep] - self.gap, index[keep] % n, samples[keep]

    def states(self, values: np.ndarray, n: int) -> np.ndarray:
        """Per-step values ``[total_steps, copies * n]`` as ``[T, batch, n]``."""
        v = values.reshape(self.windows, self.window_steps, self.copies, n)[:, self.gap :]
        return v.transpose(1, 0, 2, 3).reshape(self.n_steps, self.windows * self.copies, n)[:, : self.batch]

    def finals(self, window_starts: np.ndarray | None, last: np.ndarray, n: int) -> np.ndarray:
        """Each sample's state after its last step ``[batch, n]``: the values recorded at the start of
        windows 1.. (``window_starts [windows, copies * n]``, recorded from window 0) and ``last``, the
        state after the run (the last window's)."""
        rows = [last] if window_starts is None else list(window_starts[1 : self.windows]) + [last]
        return np.asarray(rows).reshape(self.windows * self.copies, n)[: self.batch]


def check_copies(copies: int | None, backend: str) -> int | None:
    """``copies``: None or a positive integer, for the Brian2 backend only."""
    if copies is None:
        return None
    if backend != "brian2":
        raise BiosnnInputError("copies applies to the Brian2 backend (the torch mirror holds one copy per batch)")
    return check_count(copies, "copies")
