"""The orders each case declares, with the reason, and how far a measured order may stray.

Part of the discretization study (:mod:`biosnn.studies.discretization`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Expectation:
    """What a case declares for one measure: an order of convergence, a range of orders where two mechanisms
    of different order add up, or ``exact`` (rounding level)."""

    order: float | None  # None: exact
    reason: str
    order_high: float | None = None

    @property
    def exact(self) -> bool:
        return self.order is None

    def declared(self) -> str | float | list[float]:
        if self.exact:
            return "exact"
        return self.order if self.order_high is None else [self.order, self.order_high]

    def distance(self, measured: float) -> float:
        """How far ``measured`` lies outside the declared order (or range); NaN counts as infinitely far."""
        if not math.isfinite(measured):
            return math.inf
        high = self.order if self.order_high is None else self.order_high
        return max(self.order - measured, measured - high, 0.0)


EXACT = Expectation(None, "the exact propagator of a linear system with inputs on the grid")
EULER = Expectation(1.0, "forward Euler: local error O(dt^2), O(1/dt) steps")
STEPS = Expectation(0.0, "tau = 2 dt: the model changes with dt, each step has the same relative error")
ROUNDING = Expectation(1.0, "the grid moves every off-grid input to the start of its step, by up to dt")
ROUNDING_VAN_ROSSUM = Expectation(0.5, "D^2 ~ sum of spike shifts / tau and of flipped spikes, both O(dt)")
GRAZING = Expectation(
    1.0,
    "input rounding flips spikes (order 1); the threshold is tested at the end of each "
    "step, so an excursion above it shorter than a step is missed (height O(dt^2): order 2)",
    order_high=2.0,
)
