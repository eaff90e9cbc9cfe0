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
import sympy as sp
from brian2.core.functions import Function
from brian2.core.variables import Constant, Variable
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
        switches = {
            atom for atom in (matrix.atoms(sp.Function) | constants.atoms(sp.Function)) if atom.func.__name__ == "int_"
        }
        if len(switches) > 1:
            raise UnsupportedEquationsException(f"more than one switch in the rates: {switches}")
        values = {}
        for symbol in matrix.free_symbols:
            value = variables.get(str(symbol))
            if isinstance(value, Constant):
                values[symbol] = sp.Float(value.value, PRECISION_DIGITS + 10)
        dt = self.dt
        cases = [{}] if not switches else [{next(iter(switches)): 1}, {next(iter(switches)): 0}]
        rows = []
        for case in cases:
            numeric = matrix.subs(case).subs(values)
            if numeric.free_symbols:
                raise UnsupportedEquationsException(
                    f"rates that are not constants of the group: {sorted(map(str, numeric.free_symbols))}"
                )
            P, Phi = propagators(numeric, dt)
            b = constants.subs(case)
            rows.append([self._row(i, names, P, Phi, b) for i in range(len(names))])
        code = []
        for i, variable in enumerate(names):
            if len(rows) == 1 or rows[0][i] == rows[1][i]:
                code.append(f"_{variable} = {rows[0][i]}")
            else:
                flag = sympy_to_str(next(iter(switches)))
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

    def __repr__(self) -> str:
        return f"HighPrecisionExact(dt={self.dt!r})"


_EULER = CachedStateUpdater("euler")


def state_updater(discretization: str, dt: float) -> HighPrecisionExact | CachedStateUpdater:
    """The Brian2 state updater of ``discretization`` (``exact`` or ``euler``) for a group stepped by ``dt``."""
    return HighPrecisionExact(dt) if discretization == "exact" else _EULER
