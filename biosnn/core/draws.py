"""One random source for every backend: the counter-based generator Philox4x32-10.

Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers: as easy as 1, 2, 3",
SC'11; the Random123 generator behind cuRAND's ``curand_Philox4x32_10``, JAX and numpy's Philox
family) maps a 128-bit *counter* and a 64-bit *key* to 128 random bits. Nothing is stored: the draw
of any element at any step is recomputed from ``(seed, stream, element, step)``, so Brian2's
generated code, the torch mirror and this numpy reference draw the same numbers in any order and
memory does not grow with network size x steps.

**The block function.** Counter words ``c0..c3`` and key words ``k0, k1`` (all uint32). Ten rounds;
before every round but the first the key is bumped by the Weyl increments,
``k0 += 0x9E3779B9``, ``k1 += 0xBB67AE85`` (mod 2^32). One round, with
``hi:lo = M * c`` the 64-bit product of two 32-bit words::

    hi0:lo0 = 0xD2511F53 * c0        hi1:lo1 = 0xCD9E8D57 * c2
    (c0, c1, c2, c3) <- (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)

The four counter words after the tenth round are the output ``w0..w3``
(:func:`philox4x32`; Random123's known-answer vectors are in ``tests/core/test_draws.py``).

**Counter layout.** ::

    counter = (element, step mod 2^32, step >> 32, stream)        key = (seed mod 2^32, seed >> 32)

* ``seed``: 0 <= seed < 2^64, the experiment's seed;
* ``stream``: 0 <= stream < 2^32, names the use (one stream per noise kind and layer); two uses
  that share a stream draw the same numbers;
* ``element``: 0 <= element < 2^32, the neuron or synapse index;
* ``step``: 0 <= step < 2^64, the time step on the finest grid (Brian2: ``t_in_timesteps``).

**Uniforms** (:func:`uniform`): from ``w = w0 + 2^32 w1`` (the two words as one 64-bit integer,
least significant first), ``u = ((w >> 12) + 1/2) * 2^-52`` -- Random123's ``u01_open_open_64_53``:
52 random bits, offset by half a step, on the grid of 53-bit doubles. Every value
``(m + 1/2) 2^-52`` with ``m < 2^52`` is a double exactly, so ``u`` is computed by integer
arithmetic and two exact floating-point operations: it is bit-identical in every implementation,
and the open interval holds exactly: ``2^-53 <= u <= 1 - 2^-53``, symmetric under ``u -> 1 - u``.
(53 random bits cannot have both: ``(m + 1/2) 2^-53`` with ``m < 2^53`` is not a double for
``m >= 2^52`` and rounds to ``1`` at ``m = 2^53 - 1``.)

**Normals** (:func:`normal`): Box-Muller on the same block, ``u1`` from ``(w0, w1)`` as above and
``u2`` from ``(w2, w3)``: ``z = sqrt(-2 log u1) * cos(2 pi u2)`` with ``2 pi`` the double
:data:`TWO_PI`. The uniforms are bit-identical everywhere; ``log`` and ``cos`` come from each
platform's math library (glibc, numpy's SIMD loops, torch's SLEEF, CUDA's libdevice), which differ by
an ulp or so, so normals agree to :data:`NORMAL_MAX_ULP` ulp of the result (measured and tested
across numpy, torch and Brian2's compiled targets). ``|z| <= sqrt(-2 log 2^-53) ~ 8.57``.
A uniform and a normal of the same ``(seed, stream, element, step)`` share ``u1``: give every use
its own stream.

The constants below are the only copy: the torch implementation (``biosnn/torch/draws.py``) and the
C code of Brian2's targets (``biosnn/brian/draws.py``) are written from them.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import BiosnnInputError

__all__ = [
    "PHILOX_M0",
    "PHILOX_M1",
    "PHILOX_W0",
    "PHILOX_W1",
    "PHILOX_ROUNDS",
    "WORD_BITS",
    "WORD_MASK",
    "SEED_BITS",
    "STREAM_BITS",
    "ELEMENT_BITS",
    "STEP_BITS",
    "UNIFORM_DROP_BITS",
    "UNIFORM_BITS",
    "UNIFORM_OFFSET",
    "UNIFORM_SCALE",
    "TWO_PI",
    "NORMAL_MAX_ULP",
    "philox4x32",
    "uniform",
    "normal",
    "split_seed",
    "check_index",
]

#: Philox4x32 round multipliers (Salmon et al. 2011, table 2; Random123's PHILOX_M4x32_0/1)
PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
#: Weyl key increments: the golden ratio and sqrt(3) - 1 as 32-bit fractions (PHILOX_W32_0/1)
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
#: rounds: Philox4x32-10, the recommended and Crush-resistant count with a safety margin
PHILOX_ROUNDS = 10
WORD_BITS = 32
WORD_MASK = (1 << WORD_BITS) - 1
#: the ranges of the four arguments: 0 <= value < 2**bits
SEED_BITS = 64
STREAM_BITS = 32
ELEMENT_BITS = 32
STEP_BITS = 64
#: uniform: the 64-bit word w0 + 2^32 w1, shifted right by 12, gives m < 2^52; u = (m + 1/2) * 2^-52
UNIFORM_DROP_BITS = 12
UNIFORM_BITS = 2 * WORD_BITS - UNIFORM_DROP_BITS
UNIFORM_OFFSET = 0.5
UNIFORM_SCALE = 2.0**-UNIFORM_BITS
#: 2 pi as a double: 2 * math.pi is exact (a doubling), so every implementation multiplies by this value
TWO_PI = 2.0 * math.pi
#: Box-Muller normals of two implementations differ by at most this many ulp of the result: the
#: uniforms are bit-identical, sqrt and * are correctly rounded, log and cos come from each platform's
#: libm (glibc, numpy's SIMD loops, torch's SLEEF), each within an ulp or two of the truth.
#: Measured on x86-64 (AVX-512): numpy against torch (CPU) 3 ulp at most over 4e6 draws (98.6% identical);
#: numpy against Brian2's cython and cpp_standalone code (gcc -O3 -ffast-math, glibc) 2 ulp at most.
NORMAL_MAX_ULP = 4

_U64 = np.uint64
_MASK = _U64(WORD_MASK)
_SHIFT = _U64(WORD_BITS)


def _bad(name: str, bits: int, detail: str) -> BiosnnInputError:
    return BiosnnInputError(f"{name} must be an integer with 0 <= {name} < 2**{bits}; {detail}")


def check_index(name: str, value, bits: int) -> np.ndarray:
    """``value`` (an integer or an array of integers) as a uint64 array, checked to lie in ``[0, 2**bits)``.

    Integral floats (``3.0``) are accepted; NaN, infinities, fractions, booleans, strings and
    integers out of range are refused with a :class:`BiosnnInputError` naming ``name``.
    """
    limit = 1 << bits
    if isinstance(value, (bool, np.bool_)):
        raise _bad(name, bits, f"got the boolean {value!r}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise _bad(name, bits, f"got {value!r}") from error
    kind = array.dtype.kind
    if kind == "b":
        raise _bad(name, bits, "got a boolean array")
    if kind in "iu":
        if array.size:
            low, high = int(array.min()), int(array.max())
            if low < 0:
                raise _bad(name, bits, f"got {low}")
            if high >= limit:
                raise _bad(name, bits, f"got {high}")
        return array.astype(_U64)
    if kind == "f":
        if array.size:
            finite = np.isfinite(array)
            if not finite.all():
                raise _bad(name, bits, f"got {array[~finite].flat[0]!r}")
            fractional = array != np.floor(array)
            if fractional.any():
                raise _bad(name, bits, f"got the non-integer {array[fractional].flat[0]!r}")
            low, high = float(array.min()), float(array.max())
            if low < 0:
                raise _bad(name, bits, f"got {low!r}")
            if high >= float(limit):
                raise _bad(name, bits, f"got {high!r}")
        return array.astype(_U64)
    if kind == "O":
        flat = array.ravel()
        for item in flat:
            if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
                raise _bad(name, bits, f"got {item!r}")
            if not 0 <= int(item) < limit:
                raise _bad(name, bits, f"got {int(item)}")
        return np.array([int(item) for item in flat], dtype=_U64).reshape(array.shape)
    raise _bad(name, bits, f"got {value!r} (dtype {array.dtype})")


def split_seed(seed: int) -> tuple[int, int]:
    """The two key words ``(seed mod 2^32, seed >> 32)`` of a seed ``0 <= seed < 2^64`` (checked)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise _bad("seed", SEED_BITS, f"got {seed!r}")
    seed = int(seed)
    if not 0 <= seed < 1 << SEED_BITS:
        raise _bad("seed", SEED_BITS, f"got {seed}")
    return seed & WORD_MASK, seed >> WORD_BITS


def _philox(c0, c1, c2, c3, k0, k1):
    """Ten Philox4x32 rounds on uint64 arrays holding uint32 values (the product of two fits in 64 bits)."""
    m0, m1, w0, w1 = _U64(PHILOX_M0), _U64(PHILOX_M1), _U64(PHILOX_W0), _U64(PHILOX_W1)
    for round_ in range(PHILOX_ROUNDS):
        if round_:
            k0 = (k0 + w0) & _MASK
            k1 = (k1 + w1) & _MASK
        p0 = c0 * m0
        p1 = c2 * m1
        c0, c1, c2, c3 = (p1 >> _SHIFT) ^ c1 ^ k0, p1 & _MASK, (p0 >> _SHIFT) ^ c3 ^ k1, p0 & _MASK
    return c0, c1, c2, c3


def philox4x32(counter_words, key_words) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The raw block function Philox4x32-10: four uint32 counter words and two key words -> four uint32 words.

    ``counter_words``: four integers or arrays (broadcast together with the key), each in ``[0, 2^32)``;
    ``key_words``: two. Returns ``(w0, w1, w2, w3)`` as uint32 arrays. Salmon et al. 2011 (module
    docstring): ``hi0:lo0 = M0 c0, hi1:lo1 = M1 c2, c <- (hi1^c1^k0, lo1, hi0^c3^k1, lo0)``, ten rounds,
    the key bumped by ``(W0, W1)`` between rounds.
    """
    if len(counter_words) != 4 or len(key_words) != 2:
        raise BiosnnInputError(
            f"philox4x32 takes 4 counter words and 2 key words, got {len(counter_words)} and {len(key_words)}"
        )
    words = [check_index(f"counter word {n}", word, WORD_BITS) for n, word in enumerate(counter_words)]
    words += [check_index(f"key word {n}", word, WORD_BITS) for n, word in enumerate(key_words)]
    words = _broadcast(words)
    return tuple(word.astype(np.uint32) for word in _philox(*words))


def _broadcast(arrays: list[np.ndarray]) -> list[np.ndarray]:
    try:
        return list(np.broadcast_arrays(*arrays))
    except ValueError as error:
        shapes = ", ".join(str(np.shape(array)) for array in arrays)
        raise BiosnnInputError(f"the index arrays do not broadcast together: shapes {shapes}") from error


def _block(seed, stream, element, step):
    """Validated, broadcast arguments -> the four output words (uint64 arrays holding uint32 values)."""
    seed = check_index("seed", seed, SEED_BITS)
    stream = check_index("stream", stream, STREAM_BITS)
    element = check_index("element", element, ELEMENT_BITS)
    step = check_index("step", step, STEP_BITS)
    seed, stream, element, step = _broadcast([seed, stream, element, step])
    return _philox(element, step & _MASK, step >> _SHIFT, stream, seed & _MASK, seed >> _SHIFT)


def _u01(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``((low + 2^32 high) >> 12 + 1/2) * 2^-52``: exact, in ``[2^-53, 1 - 2^-53]``."""
    m = (high << _U64(WORD_BITS - UNIFORM_DROP_BITS)) | (low >> _U64(UNIFORM_DROP_BITS))
    return (m.astype(np.float64) + UNIFORM_OFFSET) * UNIFORM_SCALE


def uniform(seed, stream, element, step) -> np.ndarray:
    """Uniform draws in the open interval (0, 1), one per broadcast ``(seed, stream, element, step)``.

    ``u = ((w >> 12) + 1/2) * 2^-52`` with ``w = w0 + 2^32 w1`` the first two words of the Philox4x32-10
    block of counter ``(element, step mod 2^32, step >> 32, stream)`` and key
    ``(seed mod 2^32, seed >> 32)``: 52 random bits, bit-identical in every implementation,
    ``2^-53 <= u <= 1 - 2^-53``. Arguments: integers or integer arrays (broadcast), each checked
    against its range (module docstring) before any work. Returns a float64 array.
    """
    w0, w1, _, _ = _block(seed, stream, element, step)
    return _u01(w0, w1)


def normal(seed, stream, element, step) -> np.ndarray:
    """Standard normal draws by Box-Muller, one per broadcast ``(seed, stream, element, step)``.

    ``z = sqrt(-2 log u1) * cos(2 pi u2)``, ``u1`` from words ``(w0, w1)`` and ``u2`` from ``(w2, w3)``
    of the block of :func:`uniform` (so ``u1`` equals that uniform). The uniforms are bit-identical in
    every implementation; the normals agree to :data:`NORMAL_MAX_ULP` ulp (libm's ``log`` and ``cos``
    differ). Returns a float64 array.
    """
    w0, w1, w2, w3 = _block(seed, stream, element, step)
    u1, u2 = _u01(w0, w1), _u01(w2, w3)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(TWO_PI * u2)
