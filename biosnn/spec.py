"""Declarative model specifications: the single source of truth for each model.

A :class:`ModelSpec` holds what a neuroscientist reads next to the paper: the
membrane equation in Brian2 syntax (units checked by Brian2), the threshold
condition, the reset variants, the synapse variants, every parameter with its
default, unit and allowed range, and the citation. The specs themselves live in
the top-level ``equations/`` folder (installed as ``biosnn.equations``); both
backends read them and neither restates a constant.

Conventions
-----------
* State variables are dimensionless (threshold 1 by default, as in the papers);
  times are in seconds. Parameter defaults are Brian2 quantities; resolved
  parameter sets (:meth:`ModelSpec.resolve`) are SI floats.
* The membrane equation is a template with a ``{drive}`` slot that the chosen
  :class:`SynapseSpec` fills (``''`` for delta synapses, ``' + I'`` for
  current synapses, ``' + I_held'`` for held input).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

import numpy as np
from brian2.units.fundamentalunits import Quantity

from .errors import BiosnnInputError
from .units import DIMENSIONLESS_UNIT, SECOND, to_si


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    ``default`` is a Brian2 quantity or float; ``default_steps`` instead gives a
    default in multiples of ``dt`` (PLIF's ``tau0 = 2 dt``). ``lower`` /
    ``upper`` bound the SI value; ``*_inclusive`` says whether the bound itself
    is allowed. ``per_neuron`` parameters (Lee et al.'s thresholds) accept a
    scalar or a 1-D array with one value per neuron; Brian2 stores them as
    ``(constant)`` group variables, the mirror as a tensor of shape ``[N]``.
    """

    name: str
    unit: str
    description: str
    default: Quantity | float | None = None
    default_steps: float | None = None
    lower: float | None = None
    lower_inclusive: bool = True
    upper: float | None = None
    upper_inclusive: bool = True
    per_neuron: bool = False
    #: a structural vector (e.g. one time constant per bucket): always a 1-D array
    vector: bool = False
    #: largest number of array dimensions accepted (2: per neuron and per bucket)
    array_ndim: int = 1

    def default_si(self, dt: float):
        if self.default_steps is not None:
            return self.default_steps * dt
        if self.vector:
            return np.atleast_1d(to_si(np.asarray(self.default, dtype=np.float64) if not isinstance(
                self.default, Quantity) else self.default, self.unit, self.name, allow_array=True))
        return to_si(self.default, self.unit, self.name)

    def check(self, value, model: str) -> None:
        arr = np.asarray(value, dtype=np.float64)
        bad = np.zeros(arr.shape, dtype=bool)
        if self.lower is not None:
            bad |= arr < self.lower if self.lower_inclusive else arr <= self.lower
        if self.upper is not None:
            bad |= arr > self.upper if self.upper_inclusive else arr >= self.upper
        if np.any(bad):
            if arr.ndim:
                value = float(arr[np.flatnonzero(bad.ravel())[0]])
            lo = "" if self.lower is None else ("[" if self.lower_inclusive else "(") + f"{self.lower:g}"
            hi = "" if self.upper is None else f"{self.upper:g}" + ("]" if self.upper_inclusive else ")")
            unit = "s" if self.unit == SECOND else ""
            raise BiosnnInputError(
                f"{model}: parameter {self.name}={value!r}{unit} is out of range; "
                f"allowed {lo or '(-inf'}, {hi or 'inf)'} ({self.description})"
            )


@dataclass(frozen=True)
class Constraint:
    """A relation between parameters (and ``dt``), e.g. ``v_th > v_reset``."""

    text: str
    holds: Callable[[Mapping[str, float]], bool]


@dataclass(frozen=True)
class SynapseSpec:
    """How input reaches the membrane.

    ``drive`` fills the membrane template; ``equations`` are extra Brian2
    equations of the target group; ``on_pre`` is the Brian2 statement run for
    each presynaptic spike (``None`` for held input, which has no spikes).
    ``parameters`` lists the spec parameters this variant uses.
    """

    name: str
    description: str
    drive: str
    equations: str = ""
    on_pre: str | None = None
    parameters: tuple[str, ...] = ()
    state_variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class LateralSpec:
    """Lateral (within-layer) connections, e.g. a winner-take-all circuit.

    ``on_pre`` runs on every other neuron of the firing neuron's circuit, in the
    Brian2 slot ``slot``; ``circuit_parameter`` names the parameter giving the
    circuit size (0: the whole layer).
    """

    description: str
    on_pre: str
    parameters: tuple[str, ...]
    circuit_parameter: str = "circuit_size"
    slot: str = "synapses"
    #: whether the circuit has any effect for these parameters; an inactive circuit
    #: is not built at all (a zero-strength connection is no connection)
    active: Callable[[Mapping[str, float]], bool] = lambda params: True


@dataclass(frozen=True)
class ModelSpec:
    """Frozen declarative description of one neuron model."""

    name: str
    title: str
    citation: str
    membrane_equation: str
    threshold: str | None
    resets: Mapping[str, str]
    synapses: Mapping[str, SynapseSpec]
    parameters: tuple[Parameter, ...]
    constraints: tuple[Constraint, ...] = ()
    refractory_parameter: str | None = "t_ref"
    #: Pairs (a, b) of time constants that Brian2's exact integrator cannot take
    #: equal (its closed form divides by a - b). When |a - b| <= merge_rtol * b
    #: both backends use b for a; see :meth:`resolve`.
    merged_time_constants: tuple[tuple[str, str], ...] = ()
    merge_rtol: float = 1e-4
    #: Brian2 statement applied after every arrival slot (Lee et al.'s lower bound).
    floor: str | None = None
    lateral: LateralSpec | None = None
    #: initial values of extra state variables (SI floats), e.g. {"t_r": -1e4}
    initial_state: Mapping[str, float] = field(default_factory=dict)
    #: parameter overrides the equivalence harness runs for every synapse x reset
    validation_cases: tuple[Mapping[str, float], ...] = ({},)
    notes: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)

    # -- parameters -----------------------------------------------------
    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise BiosnnInputError(
            f"{self.name}: unknown parameter {name!r}; known: {', '.join(self.parameter_names)}"
        )

    def resolve(self, overrides: Mapping[str, object] | None, dt: float) -> dict[str, float]:
        """Defaults overlaid with ``overrides``, converted to SI and validated.

        ``overrides`` values may be Brian2 quantities or SI floats. Unknown names,
        out-of-range values and violated constraints raise
        :class:`~biosnn.errors.BiosnnInputError`. Near-equal time constants listed in
        ``merged_time_constants`` are made exactly equal (the returned dict says
        so under ``"merged"``-free keys: the value itself is replaced).
        """
        overrides = dict(overrides or {})
        resolved: dict[str, float] = {}
        for p in self.parameters:
            if p.name in overrides:
                value = overrides.pop(p.name)
                if (p.per_neuron or p.vector) and not np.isscalar(value) and not getattr(value, "shape", None) == ():
                    if hasattr(value, "detach"):
                        value = value.detach().cpu().numpy()
                    value = to_si(np.asarray(value) if not isinstance(value, Quantity) else value, p.unit,
                                  f"{self.name}.{p.name}", allow_array=True)
                    if not 1 <= np.ndim(value) <= p.array_ndim:
                        raise BiosnnInputError(
                            f"{self.name}.{p.name}: expected a scalar or an array of at most {p.array_ndim} "
                            f"dimension(s), got shape {np.shape(value)}"
                        )
                    resolved[p.name] = np.asarray(value, dtype=np.float64)
                else:
                    resolved[p.name] = to_si(value, p.unit, f"{self.name}.{p.name}")
            else:
                resolved[p.name] = p.default_si(dt)
        if overrides:
            unknown = ", ".join(sorted(overrides))
            raise BiosnnInputError(
                f"{self.name}: unknown parameter(s) {unknown}; known: {', '.join(self.parameter_names)}"
            )
        for p in self.parameters:
            p.check(resolved[p.name], self.name)
        context = {**resolved, "dt": dt}
        for c in self.constraints:
            if not np.all(c.holds(context)):
                values = ", ".join(f"{k}={context[k]!r}" for k in context if re.search(rf"\b{k}\b", c.text))
                raise BiosnnInputError(f"{self.name}: constraint {c.text} violated ({values})")
        for a, b in self.merged_time_constants:
            if a in resolved and b in resolved and math.isclose(
                resolved[a], resolved[b], rel_tol=self.merge_rtol, abs_tol=0.0
            ):
                resolved[a] = resolved[b]
        return resolved

    # -- options --------------------------------------------------------
    def check_reset(self, reset: str) -> str:
        if reset not in self.resets:
            raise BiosnnInputError(
                f"{self.name}: unknown reset {reset!r}; choose one of {', '.join(self.resets)}"
            )
        return reset

    def synapse(self, name: str) -> SynapseSpec:
        if name not in self.synapses:
            raise BiosnnInputError(
                f"{self.name}: unknown synapse kind {name!r}; choose one of {', '.join(self.synapses)}"
            )
        return self.synapses[name]

    # -- Brian2 text ----------------------------------------------------
    def brian_equations(self, synapse: str, params: Mapping[str, float]) -> str:
        """Full Brian2 equation string for ``synapse`` with ``params`` resolved.

        Merged time constants (see :meth:`resolve`) are substituted textually, so
        Brian2's exact integrator sees a single symbol and uses the limit formula.
        """
        syn = self.synapse(synapse)
        if "equations" in self.extra:  # structural models (gamma_cascade: K buckets) build their text
            return self.extra["equations"](params)
        text = self.membrane_equation.format(drive=syn.drive)
        if syn.equations:
            text += "\n" + syn.equations
        for a, b in self.merged_time_constants:
            if a in params and b in params and params[a] == params[b]:
                text = re.sub(rf"\b{a}\b", b, text)
        return text

    def check_euler_stable(self, params: Mapping[str, float], dt: float, synapse: str) -> None:
        """Forward Euler overshoots once dt exceeds a time constant: refuse it.

        ``v' = v + dt/tau (...)`` flips sign for ``dt > tau`` (and diverges past
        ``2 tau``); the exact propagator has no such limit.
        """
        names = ["tau_m"] + [n for n in self.synapse(synapse).parameters if n.startswith("tau")]
        for name in names:
            if name in params and dt > params[name]:
                raise BiosnnInputError(
                    f"{self.name}: euler needs dt <= {name} (dt={dt!r}s, {name}={params[name]!r}s): the "
                    "forward-Euler step overshoots; use discretization='exact' or a smaller dt"
                )

    def derive(self, **changes) -> "ModelSpec":
        """A new spec sharing this one's equations (PLIF derives from LIF)."""
        return replace(self, **changes)


def time_parameter(name, description, default=None, **kw) -> Parameter:
    return Parameter(name=name, unit=SECOND, description=description, default=default, **kw)


def scalar_parameter(name, description, default=None, **kw) -> Parameter:
    return Parameter(name=name, unit=DIMENSIONLESS_UNIT, description=description, default=default, **kw)
