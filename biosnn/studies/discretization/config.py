"""The study's configuration: the dt ladder, sizes and windows (:class:`StudyConfig`), the full run and the quick one.

Part of the discretization study (:mod:`biosnn.studies.discretization`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ...core.errors import BiosnnInputError
from ...core.schedule import is_whole_steps
from ...models import REGISTRY
from .measures import DTS, FINE_FACTOR, FIRST_INPUT, MATCH_WINDOW, VAN_ROSSUM_TAU, check_dts


@dataclass(frozen=True)
class StudyConfig:
    """Sizes of the study (SI). :data:`FULL` is the stored run; tests use smaller ones."""

    dts: tuple[float, ...] = DTS
    seed: int = 0
    n_samples: int = 64
    n_inputs: int = 20
    n_neurons: int = 4
    duration: float = 0.05
    input_rate: float = 40.0
    probe_duration: float = 0.02
    probe_segment: float = 5e-3
    fine_factor: int = FINE_FACTOR
    match_window: float = MATCH_WINDOW
    van_rossum_tau: float = VAN_ROSSUM_TAU
    models: tuple[str, ...] = ()  # () : every registered model

    def checked(self) -> StudyConfig:
        dts = check_dts(self.dts)
        for name in ("n_samples", "n_inputs", "n_neurons", "fine_factor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise BiosnnInputError(f"{name}: expected a positive integer, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise BiosnnInputError(f"seed: expected a non-negative integer, got {self.seed!r}")
        for name in ("duration", "input_rate", "probe_duration", "probe_segment", "match_window", "van_rossum_tau"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise BiosnnInputError(f"{name}: expected a positive number, got {value!r}")
        for name in ("duration", "probe_duration", "probe_segment"):
            if not is_whole_steps(getattr(self, name), dts[0]):
                raise BiosnnInputError(
                    f"{name}={getattr(self, name)!r}s is not a whole number of the coarsest step {dts[0]!r}s"
                )
        if self.duration <= FIRST_INPUT + 4 * dts[0]:
            raise BiosnnInputError(f"duration={self.duration!r}s leaves no room for inputs")
        unknown = [m for m in self.models if m not in REGISTRY]
        if unknown:
            raise BiosnnInputError(f"unknown model(s) {', '.join(unknown)}; registered: {', '.join(sorted(REGISTRY))}")
        return replace(self, dts=dts, models=tuple(self.models) or tuple(REGISTRY))


FULL = StudyConfig()
#: a small study for tests and trials: a factor 8 in dt, 24 trials of 30 ms (a fifth of the spikes)
QUICK = StudyConfig(dts=DTS[1:5], n_samples=24, duration=0.03, probe_duration=0.01)
