"""How the Brian2 reference integrates a step: the exact propagator, computed in high precision.

Every model biosnn simulates is linear between events: ``dX/dt = M X + b`` with
M constant over a step (``b`` may hold a held drive or a rest potential). The
exact solution over one step is

    X(t + dt) = P X(t) + Phi b,    P = e^{M dt},    Phi = int_0^dt e^{M s} ds

Brian2's own ``exact`` state updater derives P symbolically with sympy: its
closed form divides by differences of the time constants, so it cancels
catastrophically when two of them are close (a 4-bucket gamma cascade with
rates 1.5e-4 apart is wrong by O(10), 5e-4 apart NaN; the LIF with a current
synapse loses digits within 1e-3 of tau_m == tau_s) and it takes minutes for
a cascade of 5 or 6 distinct rates. :class:`HighPrecisionExact` computes the
same P and Phi numerically, from the parameter values, with mpmath at
:data:`PRECISION_DIGITS` digits (``Phi`` as a block of the exponential of the
augmented matrix ``[[M, I], [0, 0]]``), and writes them into the generated code
as float64 literals: exact to the last bit of float64 whatever the time
constants (equal, near-equal, chains) and the size of the system. The model's
``(unless refractory)`` flag (Brian2 multiplies the rates by
``int(not_refractory)``) gives two propagators, selected per neuron at run time.
``tests/equivalence/test_oracle.py`` checks it against closed forms evaluated in high
precision.

A time constant given per neuron (a ``(constant)`` group variable, ``ModelSpec.group_parameters``) makes the
rates differ between neurons: every neuron then has its own P and Phi, computed the same way (one high-precision
exponential per distinct set of values, :func:`per_neuron_propagators`) and held in ``(constant)`` group
variables (:func:`propagator_variable`) that the layer declares (:func:`propagator_declarations`) and fills; the
generated code reads them per neuron. Nothing is approximated for near-equal or extreme time constants
(``tests/brian_vs_torch/test_per_neuron_time_constants.py`` checks it down to ``tau_m = dt / 2000`` and up to ``1e4 dt``).

Forward Euler stays Brian2's own state updater (the discretization study
compares it with the mirror's Euler step). The symbolic part of both (the
linear system of the equations, or Brian2's Euler code) depends only on the
equations and on what each identifier is, not on parameter values, and is
derived once per model structure (:func:`_structure_key`).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import mpmath
import numpy as np
import sympy as sp
from brian2.core.functions import Function
from brian2.core.variables import ArrayVariable, Constant, Variable
from brian2.input.timedarray import TimedArray
from brian2.parsing.sympytools import sympy_to_str
from brian2.stateupdaters.base import StateUpdateMethod, UnsupportedEquationsException
from brian2.stateupdaters.exact import get_linear_system, is_constant_over_dt

if TYPE_CHECKING:
    from collections.abc import Mapping

    from brian2.equations.equations import Equations

#: mpmath's working precision for the propagators: far beyond float64, so the float64 literal
#: written into the code is the correctly rounded exact value
PRECISION_DIGITS = 40

_CACHE: dict[tuple, object] = {}


def _kind(value) -> tuple:
    """What an identifier is, without its value."""
    if isinstance(value, Constant):
        return ("constant", str(value.dim))
    if isinstance(value, Variable):
        return (type(value).__name__, str(value.dim), str(value.dtype), value.scalar, value.constant, value.read_only)
    if isinstance(value, TimedArray):  # whether it is constant over a step depends on its own dt
        return ("timedarray", float(value.dt))
    if isinstance(value, Function):
        return ("function", repr(value))
    return (type(value).__name__, repr(value))


def _structure_key(name: str, equations, variables, method_options) -> tuple:
    dt = variables["dt"].get_value().item() if "dt" in variables else None
    return (
        name,
        str(equations),
        repr(method_options),
        dt,
        tuple(sorted((identifier, _kind(value)) for identifier, value in variables.items())),
    )


def _cached(key, compute):
    if key not in _CACHE:
        _CACHE[key] = compute()
    return _CACHE[key]


class CachedStateUpdater:
    """Brian2's own state updater ``name`` (``"euler"``) with its derived code cached per structure."""

    def __init__(self, name: str) -> None:
        self.name = self.__name__ = name

    def __call__(
        self,
        equations: Equations,
        variables: Mapping[str, Variable] | None = None,
        method_options: Mapping[str, object] | None = None,
    ) -> str:
        variables = variables or {}
        return _cached(
            _structure_key(self.name, equations, variables, method_options),
            lambda: StateUpdateMethod.stateupdaters[self.name](equations, variables, method_options),
        )

    def __repr__(self) -> str:
        return f"CachedStateUpdater({self.name!r})"


def propagators(matrix: sp.Matrix, dt: float, digits: int = PRECISION_DIGITS) -> tuple[mpmath.matrix, mpmath.matrix]:
    """``(P, Phi)`` of ``dX/dt = M X + b`` over ``dt`` for a numeric matrix, as mpmath matrices."""
    n = matrix.shape[0]
    with mpmath.workdps(digits):
        augmented = mpmath.zeros(2 * n, 2 * n)
        for i in range(n):
            for j in range(n):
                augmented[i, j] = mpmath.mpf(sp.Float(matrix[i, j], digits + 10)) * mpmath.mpf(dt)
            augmented[i, n + i] = mpmath.mpf(dt)
        full = mpmath.expm(augmented)
        P = full[:n, :n]
        Phi = full[:n, n:]
    return P, Phi


def _literal(x) -> str:
    return repr(float(x))


def propagator_variable(kind: str, case: int, row: str, column: str) -> str:
    """The group variable holding entry ``(row, column)`` of a per-neuron ``P`` (``kind`` ``"P"``) or ``Phi``
    (``"Phi"``) in ``case`` 0 (integrating) or 1 (refractory: the ``(unless refractory)`` rates switched off)."""
    return f"exact{kind}{case}_{row}_{column}"


def propagator_declarations(equations: str, refractory: bool) -> str:
    """Brian2 declarations of every per-neuron propagator variable the equations can need (P dimensionless,
    Phi in seconds), in both cases when an equation is ``(unless refractory)`` and the group is refractory."""
    from brian2 import Equations

    eqs = Equations(equations)
    names = sorted(eqs.diff_eq_names)
    switched = refractory and any("unless refractory" in eq.flags for eq in eqs.values())
    return "\n".join(
        f"{propagator_variable(kind, case, row, column)} : {unit} (constant)"
        for case in range(2 if switched else 1)
        for kind, unit in (("P", "1"), ("Phi", "second"))
        for row in names
        for column in names
    )


def _system_cases(matrix: sp.Matrix, constants: sp.Matrix) -> tuple[sp.Basic | None, list[dict]]:
    """The rate switch (Brian2's ``int(not_refractory)``) and the cases it gives: integrating first."""
    switches = {
        atom for atom in (matrix.atoms(sp.Function) | constants.atoms(sp.Function)) if atom.func.__name__ == "int_"
    }
    if len(switches) > 1:
        raise UnsupportedEquationsException(f"more than one switch in the rates: {switches}")
    if not switches:
        return None, [{}]
    switch = next(iter(switches))
    return switch, [{switch: 1}, {switch: 0}]


def _constant_values(matrix: sp.Matrix, variables: Mapping[str, Variable]) -> dict:
    """The Brian2 constants among the rates' symbols, in high precision."""
    return {
        symbol: sp.Float(variables[str(symbol)].value, PRECISION_DIGITS + 10)
        for symbol in matrix.free_symbols
        if isinstance(variables.get(str(symbol)), Constant)
    }


def _per_neuron_symbols(matrix: sp.Matrix, variables: Mapping[str, Variable]) -> list[sp.Symbol]:
    """The rates' symbols that are per-neuron constants of the group (a time constant given per neuron)."""
    return sorted(
        (
            symbol
            for symbol in matrix.free_symbols
            if isinstance(variables.get(str(symbol)), ArrayVariable)
            and variables[str(symbol)].constant
            and not variables[str(symbol)].scalar
        ),
        key=str,
    )


def _reachable(numeric: sp.Matrix) -> list[list[bool]]:
    """``[i][j]``: whether ``P[i, j]`` (and ``Phi[i, j]``) can be non-zero: j is reached from i through the
    non-zero rates (or i == j)."""
    n = numeric.shape[0]
    reach = [[i == j or numeric[i, j] != 0 for j in range(n)] for i in range(n)]
    for k in range(n):
        for i in range(n):
            if reach[i][k]:
                reach[i] = [reach[i][j] or reach[k][j] for j in range(n)]
    return reach


def per_neuron_propagators(group, values: Mapping[str, np.ndarray], dt: float) -> dict[str, np.ndarray]:
    """Every per-neuron propagator variable of ``group`` (:func:`propagator_declarations`): ``P`` and ``Phi`` of
    each neuron, from ``values`` (the per-neuron time constants, SI, one per neuron of the group), computed as
    :func:`propagators` does, once per distinct set of values. Zero where the equations need no entry."""
    equations = group.equations
    variables = group.resolve_all(
        set(equations.names) | set(equations.identifiers) | {"dt"}, run_namespace={}, user_identifiers=set()
    )
    names, matrix, constants = _cached(
        _structure_key("linear", equations, variables, None), lambda: _checked_linear_system(equations, variables)
    )
    symbols = _per_neuron_symbols(matrix, variables)
    _, cases = _system_cases(matrix, constants)
    size = len(group)
    columns = np.stack([np.broadcast_to(np.asarray(values[str(s)], np.float64), (size,)) for s in symbols], axis=1)
    distinct, which = np.unique(columns, axis=0, return_inverse=True)
    out = {}
    for c, case in enumerate(cases):
        numeric = matrix.subs(case).subs(_constant_values(matrix, variables))
        rates = sp.lambdify(symbols, numeric, modules="mpmath")
        n = len(names)
        P = np.zeros((len(distinct), n, n))
        Phi = np.zeros((len(distinct), n, n))
        for k, row in enumerate(distinct):
            with mpmath.workdps(PRECISION_DIGITS):
                m = rates(*(mpmath.mpf(float(x)) for x in row))
                p, phi = propagators(sp.Matrix(m.tolist()), dt)
            P[k] = np.array(p.tolist(), dtype=np.float64)
            Phi[k] = np.array(phi.tolist(), dtype=np.float64)
        for i, row_name in enumerate(names):
            for j, column_name in enumerate(names):
                out[propagator_variable("P", c, row_name, column_name)] = P[which.ravel(), i, j]
                out[propagator_variable("Phi", c, row_name, column_name)] = Phi[which.ravel(), i, j]
    return out


def _checked_linear_system(equations, variables):
    """Brian2's linear system of the equations, refused (as Brian2's own ``exact`` refuses it) unless
    every coefficient and constant term is constant over a step (a function of t, or a TimedArray
    whose own dt is not a multiple of the group's, is not)."""
    names, matrix, constants = get_linear_system(equations, variables)
    dt = variables["dt"].get_value().item() if "dt" in variables else None
    for entry in itertools.chain(matrix, constants):
        if not is_constant_over_dt(entry, variables, dt):
            raise UnsupportedEquationsException(f"'{sympy_to_str(entry)}' is not constant over a time step")
    return names, matrix, constants


class HighPrecisionExact:
    """Brian2 state updater: the exact propagator of a linear system over ``dt``, computed in high precision.

    The step ``dt`` is part of the updater's identity: Brian2 caches derived code keyed on the
    equations, the parameter values and the state updater, but not on the clock's dt, which its
    own (symbolic) updaters leave as a name; these propagators are numbers that depend on it.
    A group is therefore built for one dt: changing the clock of an existing network would keep
    the propagators of the old step (biosnn builds its groups afresh for every run).
    """

    __name__ = "exact (high precision)"

    def __init__(self, dt: float) -> None:
        self.dt = float(dt)

    def __eq__(self, other: object) -> bool:
        return type(other) is HighPrecisionExact and other.dt == self.dt

    def __hash__(self) -> int:
        return hash((HighPrecisionExact, self.dt))

    def __call__(
        self,
        equations: Equations,
        variables: Mapping[str, Variable] | None = None,
        method_options: Mapping[str, object] | None = None,
    ) -> str:
        variables = variables or {}
        if variables["dt"].get_value().item() != self.dt:
            raise UnsupportedEquationsException(
                f"the group's dt {variables['dt'].get_value().item()!r} s is not this updater's {self.dt!r} s"
            )
        names, matrix, constants = _cached(
            _structure_key("linear", equations, variables, None), lambda: _checked_linear_system(equations, variables)
        )
        if not names:
            return ""
        switch, cases = _system_cases(matrix, constants)
        values = _constant_values(matrix, variables)
        per_neuron = _per_neuron_symbols(matrix, variables)
        rows = []
        for c, case in enumerate(cases):
            numeric = matrix.subs(case).subs(values)
            if numeric.free_symbols - set(per_neuron):
                raise UnsupportedEquationsException(
                    "rates that are not constants of the group: "
                    f"{sorted(map(str, numeric.free_symbols - set(per_neuron)))}"
                )
            b = constants.subs(case)
            if per_neuron:
                rows.append([self._per_neuron_row(i, names, numeric, b, c, variables) for i in range(len(names))])
            else:
                P, Phi = propagators(numeric, self.dt)
                rows.append([self._row(i, names, P, Phi, b) for i in range(len(names))])
        code = []
        for i, variable in enumerate(names):
            if len(rows) == 1 or rows[0][i] == rows[1][i]:
                code.append(f"_{variable} = {rows[0][i]}")
            else:
                flag = sympy_to_str(switch)
                code.append(f"_{variable} = {flag}*({rows[0][i]}) + (1 - {flag})*({rows[1][i]})")
        code += [f"{variable} = _{variable}" for variable in names]
        return "\n".join(code)

    @staticmethod
    def _row(i, names, P, Phi, b) -> str:
        terms = [f"{_literal(P[i, j])}*{name}" for j, name in enumerate(names) if P[i, j] != 0]
        terms += [
            f"{_literal(Phi[i, j])}*({sympy_to_str(b[j])})" for j in range(len(names)) if Phi[i, j] != 0 and b[j] != 0
        ]
        return " + ".join(terms) if terms else "0"

    @staticmethod
    def _per_neuron_row(i, names, numeric, b, case, variables) -> str:
        """Row ``i`` reading each neuron's own P and Phi (:func:`per_neuron_propagators`)."""
        reach = _reachable(numeric)[i]
        entries = [(j, name) for j, name in enumerate(names) if reach[j]]
        needed = [propagator_variable("P", case, names[i], name) for _, name in entries]
        missing = [name for name in needed if name not in variables]
        if missing:
            raise UnsupportedEquationsException(
                f"time constants per neuron need the per-neuron propagators {missing} declared as group variables "
                "(biosnn.brian.integration.propagator_declarations)"
            )
        terms = [f"{propagator_variable('P', case, names[i], name)}*{name}" for _, name in entries]
        terms += [
            f"{propagator_variable('Phi', case, names[i], name)}*({sympy_to_str(b[j])})"
            for j, name in entries
            if b[j] != 0
        ]
        return " + ".join(terms)

    def __repr__(self) -> str:
        return f"HighPrecisionExact(dt={self.dt!r})"


_EULER = CachedStateUpdater("euler")


def state_updater(discretization: str, dt: float) -> HighPrecisionExact | CachedStateUpdater:
    """The Brian2 state updater of ``discretization`` (``exact`` or ``euler``) for a group stepped by ``dt``."""
    return HighPrecisionExact(dt) if discretization == "exact" else _EULER
