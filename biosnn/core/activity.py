"""LayerActivity: what one layer of a network did in one run, the same for both backends.

Both network runners (``biosnn/brian/network.py`` and ``biosnn/torch/run.py``)
return one :class:`LayerActivity` per layer, so that everything downstream
(comparison, readouts, the single-layer :class:`~biosnn.core.trace.Trace`) is
backend-neutral.

Fields
------
n, batch : int                 neurons of the layer, samples of the batch
spike_steps, spike_units, spike_samples : int64 [S]
                               every spike's step label (start of the step), neuron
                               and sample, sorted by (step, sample, unit)
states : dict name -> [T, B, N]
                               the spec's recorded variables at the start of every
                               step (empty when the run did not record)
final : dict name -> [B, N]    the same variables after the last step (the membrane
                               readout of a non-spiking last layer)
main : str                     the spec's main variable (``v``; ``y`` for gamma cascades)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .trace import Trace


@dataclass
class LayerActivity:
    n: int
    batch: int
    spike_steps: np.ndarray
    spike_units: np.ndarray
    spike_samples: np.ndarray
    main: str
    states: dict = field(default_factory=dict)
    final: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        steps = np.asarray(self.spike_steps, dtype=np.int64)
        units = np.asarray(self.spike_units, dtype=np.int64)
        samples = np.asarray(self.spike_samples, dtype=np.int64)
        order = np.lexsort((units, samples, steps))
        self.spike_steps, self.spike_units, self.spike_samples = steps[order], units[order], samples[order]

    @property
    def v(self) -> np.ndarray | None:
        """The main variable ``[T, B, N]`` at the start of each step (None when not recorded)."""
        return self.states.get(self.main)

    @property
    def final_v(self) -> np.ndarray:
        """The main variable ``[B, N]`` after the last step."""
        return self.final[self.main]

    def counts(self) -> np.ndarray:
        """Spike counts ``[B, N]``."""
        out = np.zeros((self.batch, self.n), dtype=np.int64)
        np.add.at(out, (self.spike_samples, self.spike_units), 1)
        return out

    def keys(self) -> set[tuple[int, int, int]]:
        """``{(sample, unit, step)}``: the identity of every spike."""
        return set(zip(self.spike_samples.tolist(), self.spike_units.tolist(), self.spike_steps.tolist()))

    def to_trace(
        self, *, t: np.ndarray, dt: float, batched: bool, backend: str, target: str | None, meta: dict
    ) -> Trace:
        """The single-layer result as a :class:`~biosnn.core.trace.Trace` (``[T, N]`` when not ``batched``)."""
        states = {name: value if batched else value[:, 0] for name, value in self.states.items()}
        v = states.pop(self.main)
        return Trace.from_spike_steps(
            t=t,
            v=v,
            steps=self.spike_steps,
            units=self.spike_units,
            samples=self.spike_samples,
            dt=dt,
            backend=backend,
            target=target,
            states=states,
            meta=meta,
        )
