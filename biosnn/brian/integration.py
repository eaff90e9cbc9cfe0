"""Brian2 state updaters whose code is derived once per model structure, not once per run.

Brian2 derives a group's state-update code from its equations every time a
network is built (for ``exact``, a symbolic matrix exponential with sympy: up
to seconds for three coupled variables with a refractory flag). Its own cache
is keyed on the parameter *values*, so a sweep over time constants derives the
same code again at every point. The derived code is symbolic in the parameters
(they stay names, resolved when the code is generated), so it depends only on
the equations, on what each identifier is (a constant, a state variable, a
function) and on ``dt``: :class:`CachedStateUpdater` keys its cache on exactly
that, and returns Brian2's own state updater's result (tested to be identical
for different values in ``tests/test_brian_integration.py``).
"""

from __future__ import annotations

from brian2.core.functions import Function
from brian2.core.variables import Constant, Variable
from brian2.input.timedarray import TimedArray
from brian2.stateupdaters.base import StateUpdateMethod

_CACHE: dict[tuple, str] = {}


def _kind(value) -> tuple:
    """What an identifier is, without its value (a constant's value stays a name in the code)."""
    if isinstance(value, Constant):
        return ("constant", str(value.dim))
    if isinstance(value, Variable):
        return (type(value).__name__, str(value.dim), str(value.dtype), value.scalar, value.constant,
                value.read_only)
    if isinstance(value, TimedArray):  # whether it is constant over a step depends on its own dt
        return ("timedarray", float(value.dt))
    if isinstance(value, Function):
        return ("function", repr(value))
    return (type(value).__name__, repr(value))


class CachedStateUpdater:
    """Brian2's state updater ``name`` (``"exact"``, ``"euler"``) with its derived code cached."""

    def __init__(self, name: str):
        self.name = self.__name__ = name

    def __call__(self, equations, variables=None, method_options=None):
        variables = variables or {}
        dt = variables["dt"].get_value().item() if "dt" in variables else None
        key = (self.name, str(equations), repr(method_options), dt,
               tuple(sorted((name, _kind(value)) for name, value in variables.items())))
        if key not in _CACHE:
            _CACHE[key] = StateUpdateMethod.stateupdaters[self.name](equations, variables, method_options)
        return _CACHE[key]

    def __repr__(self) -> str:
        return f"CachedStateUpdater({self.name!r})"


#: the state updater of each discretization
METHODS = {name: CachedStateUpdater(name) for name in ("exact", "euler")}
