"""Unit handling at public boundaries.

biosnn accepts physical quantities in two forms and nothing else:

* a Brian2 ``Quantity`` (``20*ms``), whose dimension is checked, or
* a plain Python/NumPy float, read as SI (seconds for times; state variables
  such as ``v_th`` are dimensionless, as in the papers).

Internally every value is an SI float. :func:`to_si` is the single conversion
point, so a millisecond can never be mistaken for a second silently.

This module does not import Brian2 (a second of start-up): a value can only be
a Brian2 quantity if the caller imported Brian2 first, so :func:`is_quantity`
looks for Brian2's ``Quantity`` among the modules already loaded.
"""

from __future__ import annotations

import math
import sys
from numbers import Real

import numpy as np

from .errors import BiosnnInputError

#: Dimension names accepted by :func:`to_si`.
SECOND = "second"
DIMENSIONLESS_UNIT = "1"
UNITS = (SECOND, DIMENSIONLESS_UNIT)


def is_quantity(value: object) -> bool:
    """Whether ``value`` is a Brian2 ``Quantity`` (without importing Brian2)."""
    module = sys.modules.get("brian2.units.fundamentalunits")
    return module is not None and isinstance(value, module.Quantity)


def _dimension(unit: str):
    from brian2 import second
    from brian2.units.fundamentalunits import DIMENSIONLESS

    return second.dim if unit == SECOND else DIMENSIONLESS


def to_si(value: float | np.ndarray, unit: str, name: str, *, allow_array: bool = False) -> float | np.ndarray:
    """Return ``value`` as an SI float (or float64 array when ``allow_array``).

    Parameters
    ----------
    value : float, numpy array or brian2.Quantity
        The user's value. Floats are SI; quantities must have dimension ``unit``.
    unit : {"second", "1"}
        Expected physical dimension.
    name : str
        Argument name used in error messages.
    """
    if unit not in UNITS:
        raise ValueError(f"internal: unknown unit {unit!r}")
    if is_quantity(value):
        if value.dim is not _dimension(unit):
            raise BiosnnInputError(f"{name}: expected a quantity in {unit}, got {value!r} (dimension {value.dim})")
        raw = np.asarray(value, dtype=np.float64)
    elif isinstance(value, (bool, np.bool_)):
        raise BiosnnInputError(f"{name}: expected a number, got the boolean {value!r}")
    elif isinstance(value, Real):
        raw = np.asarray(float(value), dtype=np.float64)
    elif isinstance(value, np.ndarray) and allow_array:
        if not np.issubdtype(value.dtype, np.number) or np.issubdtype(value.dtype, np.complexfloating):
            raise BiosnnInputError(f"{name}: expected real numbers, got dtype {value.dtype}")
        raw = np.asarray(value, dtype=np.float64)
    else:
        raise BiosnnInputError(
            f"{name}: expected a float (SI units) or a Brian2 quantity, got {type(value).__name__} {value!r}"
        )
    if raw.ndim and not allow_array:
        raise BiosnnInputError(f"{name}: expected a scalar, got shape {raw.shape}")
    if not np.all(np.isfinite(raw)):
        raise BiosnnInputError(f"{name}: must be finite, got {value!r}")
    return float(raw) if raw.ndim == 0 else raw


def positive_time(value: float | np.ndarray, name: str) -> float:
    """A strictly positive time in seconds (dt, duration, time constants)."""
    seconds = to_si(value, SECOND, name)
    if not seconds > 0 or math.isinf(seconds):
        raise BiosnnInputError(f"{name}: must be a positive time, got {value!r}")
    return seconds


def check_count(value: object, name: str, *, minimum: int = 1) -> int:
    """``value`` as an ``int`` when it is an integer (Python or numpy, not a bool) of at least ``minimum``
    (1: a positive count; 0: a non-negative one, such as a seed); else a
    :class:`~biosnn.core.errors.BiosnnInputError` saying ``"<name> must be a positive integer, got ..."``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise BiosnnInputError(f"{name} must be {kind}, got {value!r}")
    return int(value)
