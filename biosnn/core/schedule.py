"""The time grid and the order of operations within a step: written once, applied by both backends.

Step ``n`` covers ``[t_n, t_{n+1})`` with ``t_n = n dt``. Within a step Brian2
runs its slots in this order (``Network.scheduling_summary()``); the torch
layer template (``biosnn/torch/layer.py``) runs the phases of
:func:`step_phases` in the same order::

    start              StateMonitor records the state at t_n            -> Trace.v[n]
    (before_groups)    not a Brian2 slot: the charges a gamma-cascade sender emitted in
                       step n-1 (added to its own cascade by its reset, read by its
                       receivers) are propagated from here on
    groups             state update: integrate over the step (held input enters here)
    before_thresholds  pathways of the EXACT schedule -- input spikes of step n-1;
                       then summed variables (the gamma cascade's read x)
    thresholds         test the threshold; a spike is labelled t_n (START of the step)
    synapses           lateral circuits (WTA), then pathways of Brian2's DEFAULT schedule
                       -- input spikes of step n
    resets             reset of the neurons that fired

After every slot in which input arrived, a lateral circuit acted or neurons
were reset, the model's lower bound (``spec.floor``) is applied once: it holds
after every update that can lower v.

Conventions (each tested in ``tests/core/test_schedule.py`` and the equivalence suite;
``docs/time_grid.md`` explains them at length):

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
  users run). Pathways in the ``synapses`` slot of the spike's own step, after
  the threshold test: the jump decays for one step before it is tested, so a
  delta input that crosses threshold by less than the one-step decay is lost
  (``validation/brian2_schedule_exactness.py`` measures it). Kept for the
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
  A neuron that fired is refractory for the rest of its step, so under the
  default schedule its delta input of that step is discarded.
* **Delays.** A synaptic (axonal) delay d becomes ``timestep(d, dt)`` whole
  steps (:func:`delay_steps`: the same rule as for every other time), added to
  the hop's latency; Brian2 is given exactly that many steps.
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

#: Discretizations of the state update: the exact propagator, or forward Euler.
DISCRETIZATIONS = ("exact", "euler")

#: Brian2's slots within one step, in order ("before_groups" is where a gamma
#: sender's charge of the previous step becomes visible to its receivers).
SLOTS = ("start", "before_groups", "groups", "before_thresholds", "thresholds", "synapses", "resets")

#: Brian2 ``when`` slot of synaptic pathways under each schedule.
PATHWAY_SLOT = {"exact": "before_thresholds", "brian2_default": "synapses"}

#: Slot in which a held drive enters (the state update of its own step).
HELD_SLOT = "groups"

#: Slot in which the charges of a cascade sender reach its receivers (they read
#: the sender's own cascade, to which its reset added the charge).
SENDER_CASCADE_SLOT = "before_groups"

#: Steps between a presynaptic spike's label and the earliest postsynaptic
#: spike label it can cause, under the exact schedule.
SYNAPTIC_LATENCY_STEPS = 1


#: the most steps any time quantity may span (int64 arithmetic of step indices stays exact)
MAX_STEPS = 2**62


def timestep(t: float | np.ndarray, dt: float) -> int | np.ndarray:
    """Brian2's ``timestep()``: the step index holding time ``t`` (seconds)."""
    steps = np.asarray((np.asarray(t, dtype=np.float64) + TIMESTEP_SHIFT * dt) / dt)
    if not np.all(np.abs(steps) < MAX_STEPS):
        bad = float(np.asarray(t, dtype=np.float64).flat[int(np.flatnonzero(~(np.abs(steps) < MAX_STEPS).ravel())[0])])
        raise BiosnnInputError(f"time {bad!r}s spans more than {MAX_STEPS:.3g} steps of dt={dt!r}s")
    out = np.floor(steps).astype(np.int64)
    return out.item() if out.ndim == 0 else out


#: how far a quotient ``x / dt`` may sit from a whole number and still be that many steps, relative to it
#: (at least one step): the float64 rounding of the quotient only (4.9e-3 / 1e-4 = 48.99999999999999 and
#: 0.3e-3 / 1e-4 = 2.9999999999999996 are a few ulps, 4e-16 relative, off); anything further is not whole
WHOLE_STEPS_RTOL = 1e-9


def is_whole_steps(x: float | np.ndarray, dt: float) -> bool:
    """Whether ``x / dt`` (seconds over seconds; arrays: every element) is a whole number of steps, to
    :data:`WHOLE_STEPS_RTOL`: the grid's one test of "a whole number of steps"."""
    steps = np.asarray(x, dtype=np.float64) / dt
    return bool(np.all(np.abs(steps - np.rint(steps)) <= WHOLE_STEPS_RTOL * np.maximum(1.0, np.abs(steps))))


def whole_steps(x: float, dt: float, what: str) -> int:
    """``x / dt`` as a whole number of steps, or a :class:`~biosnn.core.errors.BiosnnInputError` naming
    ``what`` (never rounded silently; :func:`is_whole_steps`)."""
    if not is_whole_steps(x, dt):
        steps = float(x) / dt
        raise BiosnnInputError(
            f"{what}={x!r}s is not a whole number of steps of dt={dt!r}s ({steps:.6g} steps); "
            f"use {int(np.floor(steps))} or {int(np.floor(steps)) + 1} steps"
        )
    return int(np.rint(float(x) / dt))


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


def delay_steps(delay: float | np.ndarray, dt: float) -> int | np.ndarray:
    """Whole steps of a synaptic delay: ``timestep(d, dt)``, the grid's one rounding rule (as for spike
    times and refractory periods). Brian2 is given exactly that many steps (its own rounding,
    ``int(d / dt + 0.5)``, leaves a whole number of steps unchanged)."""
    return timestep(delay, dt)


def check_schedule(schedule: str) -> str:
    if schedule not in SCHEDULES:
        raise BiosnnInputError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
    return schedule


def arrival_slot(schedule: str, *, held: bool = False, from_sender_cascade: bool = False) -> str:
    """The slot in which a hop's input enters the receiving layer."""
    if held:
        return HELD_SLOT
    if from_sender_cascade:
        return SENDER_CASCADE_SLOT
    return PATHWAY_SLOT[check_schedule(schedule)]


def hop_latency_steps(slot: str) -> int:
    """Steps from a sender's spike label to the step its input arrives in.

    An input arriving in a slot before ``thresholds`` cannot be seen by the
    sender's own step (its spike is decided there): it arrives one step later.
    A held drive is not a spike: the drive of step n is used in step n.
    """
    if slot == HELD_SLOT:
        return 0
    return 1 if SLOTS.index(slot) < SLOTS.index("thresholds") else 0


def step_phases(
    *, arrival: str, spiking: bool, lateral_slot: str | None = None, floor: bool = False
) -> tuple[str, ...]:
    """The phases of one step in Brian2's slot order, for the torch layer template.

    ``integrate`` (groups), ``arrive`` (the hop's ``arrival`` slot), ``sum``
    (summed variables, end of ``before_thresholds``), ``fire`` (thresholds),
    ``lateral`` (its slot, before the pathways sharing it), ``reset`` (resets),
    and ``floor`` once after every slot in which input arrived, a lateral
    circuit acted or neurons were reset, when the model has a lower bound.
    """
    phases: list[str] = []
    for slot in SLOTS:
        in_slot = []
        if slot == "groups":
            in_slot.append("integrate")
        if slot == "thresholds" and spiking:
            in_slot.append("fire")
        if slot == lateral_slot and spiking:
            in_slot.append("lateral")
        if slot == arrival and slot != HELD_SLOT:
            in_slot.append("arrive")
        if slot == "before_thresholds":
            in_slot.append("sum")
        if slot == "resets" and spiking:
            in_slot.append("reset")
        if floor and {"arrive", "lateral", "reset"} & set(in_slot):
            in_slot.insert(in_slot.index("sum") if "sum" in in_slot else len(in_slot), "floor")
        phases += in_slot
    return tuple(phases)


@dataclass(frozen=True)
class TimeGrid:
    """dt, number of steps and schedule of one simulation (SI seconds)."""

    dt: float
    n_steps: int
    schedule: str = "exact"

    @classmethod
    def from_duration(cls, dt: float | np.ndarray, duration: float | np.ndarray, schedule: str = "exact") -> TimeGrid:
        """The grid of ``duration`` in steps of ``dt``, which must divide it (:func:`whole_steps`): a
        duration is never cut to whole steps silently."""
        dt_s = positive_time(dt, "dt")
        duration_s = positive_time(duration, "duration")
        steps = n_steps(duration_s, dt_s)  # at least one step (and within MAX_STEPS)
        whole_steps(duration_s, dt_s, "duration")
        return cls(dt=dt_s, n_steps=steps, schedule=check_schedule(schedule))

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
        return hop_latency_steps(self.pathway_slot)

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
