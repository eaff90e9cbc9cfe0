"""The time grid: written once, imported by both backends.

Step ``n`` covers ``[t_n, t_{n+1})`` with ``t_n = n dt``. Within a step Brian2
runs its slots in this order (``Network.scheduling_summary()``)::

    start       StateMonitor records v(t_n)                     -> Trace.v[n]
    groups      state update: integrate v (and I) over the step -> value at t_{n+1}
    before_thresholds  delta/current pathways (EXACT schedule) -- input spikes of step n-1
    thresholds  test v >= v_th; a spike is labelled t_n (START of the step; NEST labels the end)
    synapses    pathways in Brian2's DEFAULT slot                -- input spikes of step n
    resets      v = v_reset or v -= v_th

Conventions (each tested in ``tests/test_schedule.py`` and the equivalence suite):

* **Event rounding.** An event at time ``t`` belongs to step
  ``timestep(t, dt) = int((t + 1e-3 dt) / dt)`` (Brian2's ``timestep()``), for
  input spikes, refractory periods and durations alike. Never place an event
  exactly on a half step; events within ``1e-3 dt`` below a grid point round up.
* **Exact schedule** (``schedule="exact"``, biosnn's reference). Synaptic
  pathways run in ``before_thresholds``: a presynaptic spike of step ``k`` is
  added at step ``k + 1`` after the state update and *before* the threshold
  test, so a jump that crosses threshold is always seen. In continuous time
  this is the exact event-driven solution with every input delivered
  ``2 dt`` after its spike label, and output spikes labelled ``dt`` before the
  crossing: an immediate response is labelled one step after its input
  (:data:`SYNAPTIC_LATENCY_STEPS`), i.e. every synaptic hop costs one ``dt``.
* **Brian2 default schedule** (``schedule="brian2_default"``, what most Brian2
  users run). Pathways in the ``synapses`` slot, after the threshold test: the
  jump decays for one step before it is tested, so a delta input that crosses
  threshold by less than the one-step decay is lost (DESIGN.md §2). Kept for the
  discretization study.
* **Held input** (a drive piecewise constant over each step) enters the state
  update of its own step: no latency.
* **Refractoriness.** ``R = timestep(t_ref, dt)``. A neuron labelled as spiking
  at step ``n`` is clamped (no integration, delta inputs discarded, no threshold
  test) during steps ``n+1 .. n+R`` and integrates again from step ``n+R+1``:
  clamped from the detected crossing ``t_{n+1}`` to ``t_{n+1} + R dt``, the
  exact absolute refractory period. Brian2 measures refractoriness from the
  spike *label* with ``timestep(t - lastspike) >= timestep(refractory)``, so the
  Brian2 backend passes ``refractory = (R + 1) dt`` (:func:`brian2_refractory`).
* **Delays.** A synaptic (axonal) delay d becomes ``int(d / dt + 0.5)`` whole
  steps (Brian2's rounding; :func:`delay_steps`), added to the one-step latency.
* **Recording.** ``Trace.v[n]`` is ``v(t_n)``, recorded at the start of step
  ``n`` (after step ``n-1``'s reset); ``Trace.t[n] = n dt``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import BiosnnInputError
from .units import positive_time

#: Fraction of dt by which event times are shifted before flooring (Brian2).
TIMESTEP_SHIFT = 1e-3

#: Schedules understood by both backends.
SCHEDULES = ("exact", "brian2_default")

#: Brian2 ``when`` slot of synaptic pathways under each schedule.
PATHWAY_SLOT = {"exact": "before_thresholds", "brian2_default": "synapses"}

#: Steps between a presynaptic spike's label and the earliest postsynaptic
#: spike label it can cause, under the exact schedule.
SYNAPTIC_LATENCY_STEPS = 1


def timestep(t, dt: float):
    """Brian2's ``timestep()``: the step index holding time ``t`` (seconds)."""
    steps = np.asarray((np.asarray(t, dtype=np.float64) + TIMESTEP_SHIFT * dt) / dt)
    out = np.floor(steps).astype(np.int64)
    return out.item() if out.ndim == 0 else out


def n_steps(duration: float, dt: float) -> int:
    """Number of steps Brian2 runs for ``duration``; at least one is required."""
    steps = timestep(duration, dt)
    if steps < 1:
        raise BiosnnInputError(f"duration={duration!r}s is shorter than one time step dt={dt!r}s")
    return int(steps)


def refractory_steps(t_ref: float, dt: float) -> int:
    """``R = timestep(t_ref, dt)``: clamped steps after each spike."""
    return int(timestep(t_ref, dt))


def brian2_refractory(t_ref: float, dt: float) -> float:
    """The ``refractory`` value (seconds) Brian2 needs to clamp exactly R steps."""
    return (refractory_steps(t_ref, dt) + 1) * dt


def delay_steps(delay, dt: float):
    """Whole steps of a synaptic delay, as Brian2 rounds it: ``int(d / dt + 0.5)``."""
    steps = np.floor(np.asarray(delay, dtype=np.float64) / dt + 0.5).astype(np.int64)
    return steps.item() if steps.ndim == 0 else steps


def check_schedule(schedule: str) -> str:
    if schedule not in SCHEDULES:
        raise BiosnnInputError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
    return schedule


@dataclass(frozen=True)
class TimeGrid:
    """dt, number of steps and schedule of one simulation (SI seconds)."""

    dt: float
    n_steps: int
    schedule: str = "exact"

    @classmethod
    def from_duration(cls, dt, duration, schedule: str = "exact") -> "TimeGrid":
        dt_s = positive_time(dt, "dt")
        duration_s = positive_time(duration, "duration")
        return cls(dt=dt_s, n_steps=n_steps(duration_s, dt_s), schedule=check_schedule(schedule))

    @property
    def duration(self) -> float:
        return self.n_steps * self.dt

    @property
    def times(self) -> np.ndarray:
        """``t_n = n dt`` for every recorded step."""
        return np.arange(self.n_steps, dtype=np.float64) * self.dt

    @property
    def pathway_slot(self) -> str:
        return PATHWAY_SLOT[self.schedule]

    @property
    def input_latency_steps(self) -> int:
        """Index shift from an input spike's step to the step it is added in."""
        return 1 if self.schedule == "exact" else 0

    def describe(self) -> dict:
        d = asdict(self)
        d.update(
            pathway_slot=self.pathway_slot,
            spike_label="start of step (t_n)",
            event_rounding="int((t + 1e-3*dt)/dt)",
            input_latency_steps=self.input_latency_steps,
            record_slot="start",
        )
        return d
