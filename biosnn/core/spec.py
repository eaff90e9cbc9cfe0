"""Declarative model specifications: the single source of truth for each model.

A :class:`ModelSpec` holds what a neuroscientist reads next to the paper: the
membrane equation in Brian2 syntax (units checked by Brian2), the threshold
condition, the reset variants, the synapse variants, every parameter with its
default, unit and allowed range, the initial state, the recorded variables and
the citation. The specs themselves live in the top-level ``biosnn/models/`` folder
(installed as ``biosnn.models``); both backends read them, neither restates
a constant, and neither backend imports the other: what both need (circuits,
bucket-weight layouts) is a structural helper here or in the model's spec file,
tested on its own (``tests/core/test_spec.py``).

What a backend needs to know about a model is a typed field, never its name:

* :attr:`ModelSpec.structure` (:class:`Structure`) says how the Brian2 layer is
  built (point neurons, or per-source cascades read by a summed variable);
* :attr:`ModelSpec.output` (:class:`Output`) says what a layer passes on
  (spikes, charged spikes read through the sender's own cascade, or nothing:
  a non-spiking readout whose state is the output);
* :attr:`ModelSpec.recorded` names the state variables both backends record
  (the first is ``Trace.v``), :attr:`ModelSpec.initial_state` their initial
  values, :attr:`ModelSpec.floor` the lower bound, :attr:`ModelSpec.lateral`
  the within-layer circuit.

Conventions: state variables are dimensionless (threshold 1 by default, as in
the papers); times are in seconds. Parameter defaults are Brian2 quantities;
resolved parameter sets (:meth:`ModelSpec.resolve`) are SI floats. The
membrane equation is a template with a ``{drive}`` slot that the chosen
:class:`SynapseSpec` fills (``''`` for delta synapses, ``' + I'`` for current
synapses, ``' + I_held'`` for held input).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from .errors import BiosnnInputError
from .schedule import DISCRETIZATIONS, SCHEDULES, is_whole_steps, whole_steps
from .units import DIMENSIONLESS_UNIT, SECOND, is_quantity, to_si

if TYPE_CHECKING:
    from typing import Any


class Structure(enum.Enum):
    """How the Brian2 reference builds a layer of the model (``biosnn/brian/layers.py``)."""

    #: one NeuronGroup of point neurons; each input spike runs the synapse's ``on_pre``
    POINT = "point"
    #: every spike source feeds a cascade of buckets, read by a summed variable
    CASCADE = "cascade"


class Output(enum.Enum):
    """What a layer of the model passes to the next layer."""

    #: 0/1 spikes
    SPIKES = "spikes"
    #: spikes carrying a charge (the sender's threshold), read through the sender's own cascade
    CHARGES = "charges"
    #: nothing: a non-spiking readout, whose main state variable is the output
    MEMBRANE = "membrane"


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    ``default`` is an SI float (seconds for times); ``default_steps`` instead gives a
    default in multiples of ``dt`` (PLIF's ``tau0 = 2 dt``). ``lower`` /
    ``upper`` bound the SI value; ``*_inclusive`` says whether the bound itself
    is allowed. ``per_neuron`` parameters (Lee et al.'s thresholds) accept a
    scalar or a 1-D array with one value per neuron; Brian2 stores them as
    ``(constant)`` group variables (a per-neuron time constant only when it is an
    array: :meth:`ModelSpec.group_parameters`), the mirror as a tensor of shape ``[N]``.
    ``time_constant`` marks a time constant of the ODE (forward Euler needs
    ``dt`` below it). ``validation_range`` is the interval the equivalence
    harness draws the parameter from (``biosnn/equivalence/validate.py``).
    """

    name: str
    unit: str
    description: str
    default: float | tuple | None = None
    default_steps: float | None = None
    lower: float | None = None
    lower_inclusive: bool = True
    upper: float | None = None
    upper_inclusive: bool = True
    per_neuron: bool = False
    #: a structural vector (e.g. one time constant per bucket): always a 1-D array
    vector: bool = False
    #: an array whose layout the model's structure defines (the gamma cascade's bucket
    #: weights, checked by its :class:`CascadeSpec`); not a plain per-neuron group variable
    structural: bool = False
    #: largest number of array dimensions accepted (3: per synapse and per bucket)
    array_ndim: int = 1
    time_constant: bool = False
    validation_range: tuple[float, float] | None = None

    def default_si(self, dt: float) -> float | np.ndarray:
        if self.default_steps is not None:
            return self.default_steps * dt
        if self.vector:
            value = np.asarray(self.default, np.float64)
            return np.atleast_1d(to_si(value, self.unit, self.name, allow_array=True))
        return to_si(self.default, self.unit, self.name)

    def format(self, value: float | np.ndarray) -> str:
        """``value`` (SI) with its unit, for reports: ``12 ms``, ``0.5``."""
        if self.unit == SECOND:
            return ",".join(f"{v * 1e3:g}" for v in np.atleast_1d(value)) + " ms"
        return ",".join(f"{v:g}" for v in np.atleast_1d(value))

    def check(self, value: float | np.ndarray, model: str) -> None:
        arr = np.asarray(value, dtype=np.float64)
        if self.vector and arr.size == 0:
            raise BiosnnInputError(f"{model}: parameter {self.name} needs at least one value ({self.description})")
        bad = np.zeros(arr.shape, dtype=bool)
        if self.lower is not None:
            bad |= arr < self.lower if self.lower_inclusive else arr <= self.lower
        if self.upper is not None:
            bad |= arr > self.upper if self.upper_inclusive else arr >= self.upper
        if np.any(bad):
            if arr.ndim:
                value = float(arr[np.unravel_index(np.flatnonzero(bad.ravel())[0], arr.shape)])
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
class ConstantInput:
    """A model's constant input: the per-neuron parameter ``bias`` (entering where the synapse's input enters,
    in the equations the spec writes), on from the time ``onset`` (whole steps; 0 by default).

    An onset after 0 is what reproduces a framework's step alignment (``biosnn/nir``: a framework starts every
    layer at its own step 0, with its bias; biosnn's layer l receives its first input some steps later, the
    exact schedule's one-step latency per hop, and switches its bias on with it). Brian2 reads the switch from
    the ``TimedArray`` :attr:`gate` (``bias -> bias * bias_gate(t)``, constant over each step: the integrator
    keeps its exact propagator); the mirror from the step index.
    """

    bias: str = "bias"
    onset: str = "bias_onset"
    #: name of the Brian2 TimedArray switching the bias on (1.0 from the onset)
    gate: str = "bias_gate"

    def parameters(
        self, bias_description: str, validation_range: tuple[float, float] | None
    ) -> tuple[Parameter, Parameter]:
        return (
            scalar_parameter(self.bias, bias_description, 0.0, per_neuron=True, validation_range=validation_range),
            time_parameter(self.onset, "time the constant input switches on (whole steps of dt)", 0.0, lower=0.0),
        )

    def constraint(self) -> Constraint:
        return Constraint(
            f"{self.onset} is a whole number of steps of dt", lambda p: is_whole_steps(p[self.onset], p["dt"])
        )

    def onset_steps(self, params: Mapping, dt: float) -> int:
        return whole_steps(params[self.onset], dt, self.onset)

    def gated(self, params: Mapping) -> bool:
        """Whether the input switches on after t = 0 (a non-zero bias and onset: the gate is needed)."""
        return bool(np.any(np.asarray(params[self.bias]) != 0.0)) and params[self.onset] > 0.0


@dataclass(frozen=True)
class MembraneNoiseSpec:
    """Where membrane white noise (``biosnn/core/noise.py``) enters a model: the state ``variable`` and the
    parameter holding its leak's time constant (None: no leak, the noise path is a Wiener process)."""

    variable: str = "v"
    time_constant: str | None = "tau_m"


@dataclass(frozen=True)
class SynapseSpec:
    """How input reaches the membrane.

    ``drive`` fills the membrane template; ``equations`` are extra Brian2
    equations of the target group; ``on_pre`` is the Brian2 statement run for
    each presynaptic spike (``None`` for held input, which has no spikes and
    enters the state update of its own step). ``parameters`` lists the spec
    parameters only this variant uses; ``state_variables`` the state variables it
    adds (recorded by both backends).
    """

    name: str
    description: str
    drive: str
    equations: str = ""
    on_pre: str | None = None
    parameters: tuple[str, ...] = ()
    state_variables: tuple[str, ...] = ()
    #: input weights the equivalence harness draws (uniform), chosen so that neurons fire at moderate rates
    validation_weights: tuple[float, float] = (-0.2, 0.6)
    #: the model's constant input enters through this synapse's state (the current ``I``, filtered by
    #: ``tau_s``) rather than the membrane (NEST's ``I_e``)
    bias_through_synapse: bool = False

    @property
    def held(self) -> bool:
        """A drive held constant over each step (no presynaptic spikes)."""
        return self.on_pre is None


def circuit_ids(n: int, circuit_size: int) -> np.ndarray:
    """Circuit index of each of ``n`` neurons: consecutive blocks of ``circuit_size``
    (0: one circuit holding the whole layer). The size must divide ``n``."""
    size = int(circuit_size)
    if size != circuit_size or size < 0:
        raise BiosnnInputError(f"circuit_size must be a non-negative integer, got {circuit_size!r}")
    if size == 0:
        return np.zeros(n, dtype=np.int64)
    if n % size:
        raise BiosnnInputError(f"circuit_size={size} does not divide the layer's {n} neurons")
    return np.arange(n, dtype=np.int64) // size


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

    def circuits(self, n: int, params: Mapping) -> np.ndarray:
        """Circuit index of each neuron of a layer of ``n``."""
        return circuit_ids(n, params[self.circuit_parameter])

    def pairs(self, n: int, params: Mapping) -> tuple[np.ndarray, np.ndarray]:
        """``(pre, post)``: every ordered pair of distinct neurons sharing a circuit."""
        circuit = self.circuits(n, params)
        same = (circuit[:, None] == circuit[None, :]) & ~np.eye(n, dtype=bool)
        return np.nonzero(same)


@dataclass(frozen=True)
class CascadeSpec:
    """The structural helpers of a :attr:`Structure.CASCADE` model (the gamma cascade).

    Every spike source feeds a cascade of K buckets (``source_equations``); the
    neurons read every bucket of every source through a summed variable
    (``reader_equations``, summing into ``summed_variable``), weighted by the
    synaptic weight and the read weights (``read_weights``: ``[N, K]`` per neuron,
    or ``[N_in, N, K]`` per synapse, stored in the Brian2 variables
    ``read_weight_names``). ``time_constants`` are the K bucket time constants
    both backends use, ``symbols`` the Brian2 names the equations give them.
    """

    source_equations: Callable[[Mapping], str]
    reader_equations: Callable[[Mapping], str]
    time_constants: Callable[[Mapping], np.ndarray]
    symbols: Callable[[Mapping], Mapping[str, float]]
    read_weights: Callable[[Mapping, int, int | None], np.ndarray]
    read_weight_names: Callable[[Mapping], tuple[str, ...]]
    summed_variable: str = "x"


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
    #: Brian2 statement applied after every slot with arrivals (Lee et al.'s lower bound).
    floor: str | None = None
    lateral: LateralSpec | None = None
    #: initial value of each state variable: an SI float, or the name of the parameter holding it
    initial_state: Mapping[str, float | str] = field(default_factory=dict)
    #: state variables both backends record at the start of every step; the first is ``Trace.v``
    recorded: tuple[str, ...] = ("v",)
    structure: Structure = Structure.POINT
    #: the structural helpers of a cascade model (``structure`` is ``Structure.CASCADE``)
    cascade: CascadeSpec | None = None
    output: Output = Output.SPIKES
    #: the model's constant input (``bias``, ``bias_onset``) and its switch; None: the model has none
    constant_input: ConstantInput | None = None
    #: Brian2 equations built from the parameters, for structures whose size is a
    #: parameter (the gamma cascade's K buckets); ``None``: ``membrane_equation``
    equations_builder: Callable[[Mapping], str] | None = None
    discretizations: tuple[str, ...] = DISCRETIZATIONS
    schedules: tuple[str, ...] = SCHEDULES
    #: parameter overrides the equivalence harness runs for every synapse x reset
    validation_cases: tuple[Mapping[str, object], ...] = ({},)
    #: where membrane white noise enters (a layer's ``noise``); None: the model takes none
    membrane_noise: MembraneNoiseSpec | None = None
    #: the threshold condition as a distance ``x`` (Brian2 expression; the spike is ``x >= 0``): what escape
    #: noise's hazard reads (``biosnn/core/noise.py``); None: the model takes no escape noise
    threshold_distance: str | None = None
    notes: str = ""

    # -- parameters -----------------------------------------------------
    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise BiosnnInputError(f"{self.name}: unknown parameter {name!r}; known: {', '.join(self.parameter_names)}")

    def resolve(self, overrides: Mapping[str, object] | None, dt: float) -> dict[str, float]:
        """Defaults overlaid with ``overrides``, converted to SI and validated.

        ``overrides`` values may be Brian2 quantities or SI floats. Unknown names,
        out-of-range values and violated constraints raise
        :class:`~biosnn.core.errors.BiosnnInputError`. Values are never changed: equal and
        near-equal time constants are simulated as given (``docs/models.md``).
        """
        overrides = dict(overrides or {})
        resolved: dict[str, float] = {}
        for p in self.parameters:
            if p.name in overrides:
                resolved[p.name] = self._convert(p, overrides.pop(p.name))
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
        return resolved

    def _convert(self, p: Parameter, value):
        if not (is_quantity(value) or isinstance(value, (np.ndarray, float, int, np.number, list, tuple))):
            try:  # e.g. a torch tensor without gradient
                value = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError, RuntimeError):
                raise BiosnnInputError(
                    f"{self.name}.{p.name}: expected a float (SI), an array or a Brian2 quantity, "
                    f"got {type(value).__name__} (detach tensors first)"
                ) from None
        if (p.per_neuron or p.vector or p.structural) and np.ndim(value) > 0:
            value = to_si(
                value if is_quantity(value) else np.asarray(value), p.unit, f"{self.name}.{p.name}", allow_array=True
            )
            if not 1 <= np.ndim(value) <= p.array_ndim:
                raise BiosnnInputError(
                    f"{self.name}.{p.name}: expected a scalar or an array of at most {p.array_ndim} "
                    f"dimension(s), got shape {np.shape(value)}"
                )
            return np.asarray(value, dtype=np.float64)
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        return to_si(value, p.unit, f"{self.name}.{p.name}")

    def initial_values(self, params: Mapping) -> dict[str, object]:
        """Initial value of each state variable in :attr:`initial_state` (SI)."""
        return {var: params[value] if isinstance(value, str) else value for var, value in self.initial_state.items()}

    def initial_group_variable(self, var: str) -> str | None:
        """The per-neuron parameter (a group variable in Brian2) holding ``var``'s initial value, or None."""
        source = self.initial_state.get(var)
        if isinstance(source, str) and self.parameter(source).per_neuron:
            return source
        return None

    # -- options --------------------------------------------------------
    @property
    def default_synapse(self) -> str:
        return next(iter(self.synapses))

    @property
    def default_reset(self) -> str:
        return next(iter(self.resets))

    def check_reset(self, reset: str | None) -> str:
        reset = self.default_reset if reset is None else reset
        if reset not in self.resets:
            raise BiosnnInputError(f"{self.name}: unknown reset {reset!r}; choose one of {', '.join(self.resets)}")
        return reset

    def synapse(self, name: str | None) -> SynapseSpec:
        name = self.default_synapse if name is None else name
        if name not in self.synapses:
            raise BiosnnInputError(
                f"{self.name}: unknown synapse kind {name!r}; choose one of {', '.join(self.synapses)}"
            )
        return self.synapses[name]

    def check_discretization(self, discretization: str) -> str:
        if discretization not in DISCRETIZATIONS:
            raise BiosnnInputError(
                f"unknown discretization {discretization!r}; choose one of {', '.join(DISCRETIZATIONS)}"
            )
        if discretization not in self.discretizations:
            raise BiosnnInputError(
                f"{self.name}: only the {', '.join(self.discretizations)} discretization is "
                f"defined, not {discretization!r}"
            )
        return discretization

    def check_schedule(self, schedule: str) -> str:
        if schedule not in SCHEDULES:
            raise BiosnnInputError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
        if schedule not in self.schedules:
            raise BiosnnInputError(
                f"{self.name}: only the {', '.join(self.schedules)} schedule is defined, not {schedule!r}"
            )
        return schedule

    def recorded_variables(self, synapse: str | None) -> tuple[str, ...]:
        """State variables recorded by both backends with this synapse kind (the first is ``Trace.v``)."""
        return self.recorded + self.synapse(synapse).state_variables

    @property
    def main_variable(self) -> str:
        return self.recorded[0]

    def parameters_used(self, synapse: str | None) -> tuple[Parameter, ...]:
        """The parameters a layer with this synapse kind uses (other kinds' own parameters left out)."""
        others = {
            name for syn in self.synapses.values() if syn.name != self.synapse(synapse).name for name in syn.parameters
        } - set(self.synapse(synapse).parameters)
        return tuple(p for p in self.parameters if p.name not in others)

    # -- Brian2 text ----------------------------------------------------
    def brian_equations(self, synapse: str | None, params: Mapping[str, float]) -> str:
        """Full Brian2 equation string for ``synapse`` with ``params`` resolved."""
        syn = self.synapse(synapse)
        if self.equations_builder is not None:
            return self.equations_builder(params)
        text = self.membrane_equation.format(drive=syn.drive)
        if syn.equations:
            text += "\n" + syn.equations
        ci = self.constant_input
        if ci is not None and ci.gated(params):
            text = re.sub(rf"\b{ci.bias}\b", f"({ci.bias} * {ci.gate}(t))", text)
        # per-neuron parameters are (constant) group variables; declared here unless the model declares them
        for p in self.group_parameters(params):
            if not re.search(rf"^\s*{p.name}\s*:", text, flags=re.MULTILINE):
                text += f"\n{p.name} : {'second' if p.unit == SECOND else '1'} (constant)"
        return text

    def group_parameters(self, params: Mapping[str, object]) -> tuple[Parameter, ...]:
        """The per-neuron parameters Brian2 holds as ``(constant)`` group variables: every one, except a time
        constant given as one value, which stays a constant of the namespace (its propagator a literal,
        ``biosnn/brian/integration.py``)."""
        return tuple(p for p in self.parameters if p.per_neuron and (not p.time_constant or np.ndim(params[p.name])))

    def check_euler_stable(self, params: Mapping[str, float], dt: float, synapse: str | None) -> None:
        """Forward Euler overshoots once dt exceeds a time constant: refuse it.

        ``v' = v + dt/tau (...)`` flips sign for ``dt > tau`` (and diverges past
        ``2 tau``); the exact propagator has no such limit.
        """
        for p in self.parameters_used(synapse):
            if p.time_constant and dt > np.min(params[p.name]):
                value = float(np.min(params[p.name]))
                smallest = "the smallest " if np.ndim(params[p.name]) else ""
                raise BiosnnInputError(
                    f"{self.name}: euler needs dt <= {p.name} (dt={dt!r}s, {smallest}{p.name}={value!r}s): the "
                    "forward-Euler step overshoots; use discretization='exact' or a smaller dt"
                )

    def derive(self, **changes: Any) -> ModelSpec:
        """A new spec sharing this one's equations (PLIF derives from LIF)."""
        return replace(self, **changes)


def time_parameter(name: str, description: str, default: float | tuple | None = None, **kw: Any) -> Parameter:
    return Parameter(name=name, unit=SECOND, description=description, default=default, **kw)


def time_constant(name: str, description: str, default: float | tuple | None = None, **kw: Any) -> Parameter:
    """A strictly positive time constant of the model's ODE."""
    return Parameter(
        name=name,
        unit=SECOND,
        description=description,
        default=default,
        lower=0.0,
        lower_inclusive=False,
        time_constant=True,
        **kw,
    )


def scalar_parameter(name: str, description: str, default: float | tuple | None = None, **kw: Any) -> Parameter:
    return Parameter(name=name, unit=DIMENSIONLESS_UNIT, description=description, default=default, **kw)
