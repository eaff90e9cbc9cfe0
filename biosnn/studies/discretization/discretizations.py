"""The discretizations of the mirror the study compares (exact, Euler, spikingjelly's, tau0 = 2 dt).

Part of the discretization study (:mod:`biosnn.studies.discretization`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...core.errors import BiosnnInputError

if TYPE_CHECKING:
    from ...core.spec import ModelSpec


@dataclass(frozen=True)
class Discretization:
    """One way the mirror steps a model: the ``discretization`` it passes to ``biosnn.simulate`` and how it
    feeds spikes and sets time constants."""

    name: str
    mirror: str  # "exact" | "euler"
    description: str
    #: spikes enter as a drive held over their own step, weights scaled by tau_m / dt (spikingjelly)
    spikes_as_held_drive: bool = False
    #: every time constant with a default in steps takes that default at each dt (PLIF's tau0 = 2 dt)
    time_constants_in_steps: bool = False

    def applies_to(self, spec: ModelSpec, synapse: str) -> bool:
        if self.mirror not in spec.discretizations:
            return False
        if self.spikes_as_held_drive:
            return synapse == "delta" and any(s.held for s in spec.synapses.values())
        if self.time_constants_in_steps:
            return any(p.default_steps is not None for p in spec.parameters)
        return True


DISCRETIZATIONS = {
    d.name: d
    for d in (
        Discretization("exact", "exact", "exact propagator over each step (biosnn's default)"),
        Discretization("euler", "euler", "forward Euler, v' = v + (X - (v - v_rest)) dt/tau (spikingjelly's charge)"),
        Discretization(
            "spikingjelly",
            "euler",
            "spikingjelly's convention: Euler charge with decay_input=True, each input spike a drive held "
            "over its own step (weights x tau_m/dt: the charge of a delta synapse), no synaptic latency",
            spikes_as_held_drive=True,
        ),
        Discretization(
            "euler_tau0_2dt",
            "euler",
            "the field's PLIF setting (Fang et al. 2021): Euler with tau_m = tau0 = 2 dt at every dt",
            time_constants_in_steps=True,
        ),
    )
}


def _steps_parameters(spec) -> list:
    return [p for p in spec.parameters if p.default_steps is not None]


def fixed_time_constants(spec: ModelSpec) -> dict[str, float]:
    """Overrides giving a fixed physical value to every parameter the spec defines in steps (PLIF's tau_m):
    the middle of its validation range, the values the equivalence harness draws from."""
    out = {}
    for p in _steps_parameters(spec):
        if p.validation_range is None:
            raise BiosnnInputError(f"{spec.name}: parameter {p.name} has a default in steps and no validation range")
        out[p.name] = float(np.mean(p.validation_range))
    return out


def case_parameters(
    spec: ModelSpec, discretization: Discretization, dt: float, overrides: Mapping[str, float] | None = None
) -> dict:
    """The resolved (SI) parameters of one run: the spec's defaults, a fixed value for parameters defined in
    steps (unless the discretization keeps them in steps), then the case's overrides."""
    chosen = {} if discretization.time_constants_in_steps else fixed_time_constants(spec)
    return spec.resolve({**chosen, **dict(overrides or {})}, dt)
