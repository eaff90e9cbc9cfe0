"""The random source in Brian2: ``biosnn_uniform`` and ``biosnn_normal`` for every code-generation target.

The generator, counter layout and guarantees are defined in :mod:`biosnn.core.draws` (Philox4x32-10,
Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"). Two Brian2 :class:`Function`
objects, usable in equations, ``run_regularly`` code, resets and synaptic code::

    biosnn_uniform(seed_lo, seed_hi, stream, element, step)    # (0, 1), bit-identical to numpy/torch
    biosnn_normal(seed_lo, seed_hi, stream, element, step)     # N(0, 1), to NORMAL_MAX_ULP ulp

All five arguments are dimensionless integers (Brian2 refuses a float expression): the seed's two
words ``seed mod 2^32`` and ``seed >> 32`` (:func:`biosnn.core.draws.split_seed`), the stream, the
element (``i`` in a ``NeuronGroup``) and the step. For the step Brian2 offers ``t_in_timesteps``, the
clock's own int64 step counter (``Clock.variables['timestep']``), exact at any run length: use it.
``int(t/dt + 0.5)`` is an int32 in C++ (``int_`` of ``stdint_compat.h``) and overflows after 2^31
steps; ``timestep(t, dt)`` is int64 but rounds a float ``t``. A ``run_regularly(..., dt=...)``
operation has its own clock, and its ``t_in_timesteps`` counts that clock's steps.
:func:`expression` writes a call with the seed and stream as checked integer literals, so that no
namespace name is needed and two layers' calls cannot clash.

Implementations:

* ``numpy``: calls :func:`biosnn.core.draws.uniform` / :func:`~biosnn.core.draws.normal` (the
  arguments are checked there: out-of-range values raise :class:`BiosnnInputError`);
* ``cython`` and ``cpp`` (the latter covers ``cpp_standalone``): one C source, :data:`C_CODE`,
  written from the constants of :mod:`biosnn.core.draws` (never restated here); cython declares it
  through ``cdef extern from *`` verbatim code. Plain C on ``uint32_t``/``uint64_t``, ``static
  inline`` functions (``__host__ __device__`` under nvcc, as brian2cuda's device code would need; no
  ``cuda`` implementation is registered here), the whole source under one include guard with
  ``_biosnn_draws_`` names: two functions, or the same function used by two layers, in one code
  object define it once. Generated code cannot raise: C converts the int64 arguments as casts do
  (``(uint32_t)`` for seed words, stream and element; ``(uint64_t)`` for the step, so ``step < 2^63``
  from Brian2), which is why :func:`expression` checks the seed and stream in Python.

The Brian2 functions are module-level singletons; :data:`FUNCTIONS` maps their names to them for a
group's or run's ``namespace``.
"""

from __future__ import annotations

import numpy as np
from brian2.core.functions import Function

from ..core import draws
from ..core.draws import (
    PHILOX_M0,
    PHILOX_M1,
    PHILOX_ROUNDS,
    PHILOX_W0,
    PHILOX_W1,
    STREAM_BITS,
    TWO_PI,
    UNIFORM_DROP_BITS,
    UNIFORM_OFFSET,
    UNIFORM_SCALE,
    WORD_BITS,
    check_index,
    split_seed,
)
from ..core.errors import BiosnnInputError

__all__ = ["C_CODE", "CYTHON_CODE", "FUNCTIONS", "biosnn_uniform", "biosnn_normal", "expression"]

_ARGUMENTS = ("seed_lo", "seed_hi", "stream", "element", "step")
_C_NAMES = {"biosnn_uniform": "_biosnn_draws_uniform", "biosnn_normal": "_biosnn_draws_normal"}

#: the C source of both functions (cpp and cython targets), formatted from biosnn.core.draws' constants
C_CODE = f"""
#ifndef BIOSNN_DRAWS_PHILOX4X32
#define BIOSNN_DRAWS_PHILOX4X32
/* biosnn's random source: Philox4x32-{PHILOX_ROUNDS} (Salmon et al. 2011), see biosnn/core/draws.py */
#include <stdint.h>
#include <math.h>
#ifdef __CUDACC__
#define _BIOSNN_DRAWS_FN static inline __host__ __device__
#else
#define _BIOSNN_DRAWS_FN static inline
#endif
_BIOSNN_DRAWS_FN void _biosnn_draws_block(int64_t seed_lo, int64_t seed_hi, int64_t stream,
                                          int64_t element, int64_t step, uint32_t c[4])
{{
    uint64_t s = (uint64_t)step;
    uint32_t k0 = (uint32_t)seed_lo, k1 = (uint32_t)seed_hi;
    c[0] = (uint32_t)element;
    c[1] = (uint32_t)s;
    c[2] = (uint32_t)(s >> {WORD_BITS});
    c[3] = (uint32_t)stream;
    for (int r = 0; r < {PHILOX_ROUNDS}; r++) {{
        if (r > 0) {{
            k0 += (uint32_t){PHILOX_W0:#010x}u;
            k1 += (uint32_t){PHILOX_W1:#010x}u;
        }}
        uint64_t p0 = (uint64_t){PHILOX_M0:#010x}u * (uint64_t)c[0];
        uint64_t p1 = (uint64_t){PHILOX_M1:#010x}u * (uint64_t)c[2];
        uint32_t n0 = (uint32_t)(p1 >> {WORD_BITS}) ^ c[1] ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> {WORD_BITS}) ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = (uint32_t)p1;
        c[2] = n2;
        c[3] = (uint32_t)p0;
    }}
}}
_BIOSNN_DRAWS_FN double _biosnn_draws_u01(uint32_t low, uint32_t high)
{{
    uint64_t m = ((uint64_t)high << {WORD_BITS - UNIFORM_DROP_BITS}) | (uint64_t)(low >> {UNIFORM_DROP_BITS});
    return ((double)m + {UNIFORM_OFFSET!r}) * {UNIFORM_SCALE!r};
}}
_BIOSNN_DRAWS_FN double _biosnn_draws_uniform(int64_t seed_lo, int64_t seed_hi, int64_t stream,
                                              int64_t element, int64_t step)
{{
    uint32_t c[4];
    _biosnn_draws_block(seed_lo, seed_hi, stream, element, step, c);
    return _biosnn_draws_u01(c[0], c[1]);
}}
_BIOSNN_DRAWS_FN double _biosnn_draws_normal(int64_t seed_lo, int64_t seed_hi, int64_t stream,
                                             int64_t element, int64_t step)
{{
    uint32_t c[4];
    _biosnn_draws_block(seed_lo, seed_hi, stream, element, step, c);
    double u1 = _biosnn_draws_u01(c[0], c[1]);
    double u2 = _biosnn_draws_u01(c[2], c[3]);
    return sqrt(-2.0 * log(u1)) * cos({TWO_PI!r} * u2);
}}
#endif
"""


def _cython_code(c_name: str) -> str:
    """Cython support code declaring one of :data:`C_CODE`'s functions (the C source verbatim, guarded)."""
    verbatim = "\n".join("    " + line if line else "" for line in C_CODE.strip("\n").splitlines())
    arguments = ", ".join(f"int64_t {name}" for name in _ARGUMENTS)
    return f'cdef extern from *:\n    """\n{verbatim}\n    """\n    double {c_name}({arguments}) nogil\n'


#: the cython support code of each function, by Brian2 name
CYTHON_CODE = {name: _cython_code(c_name) for name, c_name in _C_NAMES.items()}


def _seed(seed_lo, seed_hi) -> np.ndarray:
    low = check_index("seed_lo", seed_lo, WORD_BITS)
    high = check_index("seed_hi", seed_hi, WORD_BITS)
    return low | (high << np.uint64(WORD_BITS))


def _numpy_uniform(seed_lo, seed_hi, stream, element, step):
    return draws.uniform(_seed(seed_lo, seed_hi), stream, element, step)


def _numpy_normal(seed_lo, seed_hi, stream, element, step):
    return draws.normal(_seed(seed_lo, seed_hi), stream, element, step)


def _function(name: str, pyfunc) -> Function:
    function = Function(
        pyfunc,
        arg_units=[1] * len(_ARGUMENTS),
        arg_names=list(_ARGUMENTS),
        return_unit=1,
        arg_types=["integer"] * len(_ARGUMENTS),
        return_type="float",
        stateless=True,  # a pure function of its arguments
    )
    function.implementations.add_implementation("numpy", code=pyfunc)
    function.implementations.add_implementation("cython", code=CYTHON_CODE[name], name=_C_NAMES[name])
    function.implementations.add_implementation("cpp", code=C_CODE, name=_C_NAMES[name])
    return function


#: uniforms in (0, 1): ``biosnn_uniform(seed_lo, seed_hi, stream, element, step)``
biosnn_uniform = _function("biosnn_uniform", _numpy_uniform)
#: standard normals: ``biosnn_normal(seed_lo, seed_hi, stream, element, step)``
biosnn_normal = _function("biosnn_normal", _numpy_normal)
#: the functions by name, for a ``namespace``
FUNCTIONS = {"biosnn_uniform": biosnn_uniform, "biosnn_normal": biosnn_normal}


def expression(kind: str, seed: int, stream: int, element: str = "i", step: str = "t_in_timesteps") -> str:
    """A Brian2 call ``biosnn_<kind>(seed_lo, seed_hi, stream, element, step)`` with checked integer literals.

    ``kind``: ``"uniform"`` or ``"normal"``; ``seed`` (< 2^64) and ``stream`` (< 2^32) are checked here
    (generated code cannot raise); ``element`` and ``step`` are Brian2 expressions (default ``i`` and
    ``t_in_timesteps``). Example: ``expression("normal", 7, 3)`` is
    ``"biosnn_normal(7, 0, 3, i, t_in_timesteps)"``; the group's namespace needs :data:`FUNCTIONS`.
    """
    name = f"biosnn_{kind}"
    if name not in FUNCTIONS:
        raise BiosnnInputError(f"kind must be 'uniform' or 'normal', got {kind!r}")
    low, high = split_seed(seed)
    stream = int(check_index("stream", stream, STREAM_BITS))
    for label, code in (("element", element), ("step", step)):
        if not isinstance(code, str) or not code.strip():
            raise BiosnnInputError(f"{label} must be a Brian2 expression (a string), got {code!r}")
    return f"{name}({low}, {high}, {stream}, {element}, {step})"
