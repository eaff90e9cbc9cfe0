"""The random source in torch: Philox4x32-10 draws equal to ``biosnn.core.draws``'s, on any device.

The generator, counter layout and guarantees are defined in :mod:`biosnn.core.draws` (Salmon et al.
2011, "Parallel random numbers: as easy as 1, 2, 3"); every constant is imported from there. Torch has
no uint32 arithmetic on every device, so the words are held in int64 tensors and reduced with
``& 0xFFFFFFFF``. The 64-bit product of two uint32 values ``M * c`` can exceed int64's signed range;
torch's int64 multiplication wraps modulo 2^64 (two's complement), so its bits are the unsigned product's::

    P = M * c (int64, wrapped),   lo = P & 0xFFFFFFFF,   hi = (P >> 32) & 0xFFFFFFFF

(the mask removes the sign bits of the arithmetic shift). Random123's known answers and the bit identity
with numpy's unsigned arithmetic (``tests/core/test_draws.py``) hold it to that on every run.

Uniforms are bit-identical to the numpy reference; normals agree to
:data:`biosnn.core.draws.NORMAL_MAX_ULP` ulp (torch's ``log``/``cos`` against numpy's and libm's).

Indices are int64 tensors (or Python integers), so ``step < 2^63`` here (``2^64`` in numpy); ``seed``
may be a Python integer below ``2^64`` or an int64 tensor. Range checks (``validate=True``) read the
minimum and maximum of each index tensor, which synchronises a CUDA stream once per call; a hot loop
whose indices are known to be in range passes ``validate=False`` (dtypes are always checked).
"""

from __future__ import annotations

import numbers

import torch

from ..core.draws import (
    ELEMENT_BITS,
    PHILOX_M0,
    PHILOX_M1,
    PHILOX_ROUNDS,
    PHILOX_W0,
    PHILOX_W1,
    SEED_BITS,
    STEP_BITS,
    STREAM_BITS,
    TWO_PI,
    UNIFORM_DROP_BITS,
    UNIFORM_OFFSET,
    UNIFORM_SCALE,
    WORD_BITS,
    WORD_MASK,
    split_seed,
)
from ..core.errors import BiosnnInputError

__all__ = ["philox4x32", "uniform", "normal"]

_INT64_LIMIT_BITS = 63


def _mulhilo(multiplier: int, word: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(hi, lo)`` of the 64-bit product ``multiplier * word`` of two uint32 values held in int64.

    The product may exceed int64's range; torch's int64 multiplication wraps modulo 2^64 (two's complement,
    on CPU and CUDA), so its 64 bits are the unsigned product's, and the arithmetic shift's sign bits are
    masked off. The known-answer and bit-identity tests (``tests/core/test_draws.py``) hold it to numpy's
    unsigned arithmetic."""
    product = word * multiplier
    return (product >> WORD_BITS) & WORD_MASK, product & WORD_MASK


def _philox(c0, c1, c2, c3, k0, k1):
    for round_ in range(PHILOX_ROUNDS):
        if round_:
            k0 = (k0 + PHILOX_W0) & WORD_MASK
            k1 = (k1 + PHILOX_W1) & WORD_MASK
        hi0, lo0 = _mulhilo(PHILOX_M0, c0)
        hi1, lo1 = _mulhilo(PHILOX_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


def _device_of(values) -> torch.device:
    for value in values:
        if isinstance(value, torch.Tensor):
            return value.device
    return torch.device("cpu")


def _index(name: str, value, bits: int, device: torch.device, validate: bool) -> torch.Tensor:
    """``value`` as an int64 tensor on ``device``, checked to lie in ``[0, 2**bits)`` (``bits <= 63`` here)."""
    bits = min(bits, _INT64_LIMIT_BITS)
    limit = 1 << bits
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bool or value.dtype.is_floating_point or value.dtype.is_complex:
            raise BiosnnInputError(
                f"{name} must be an integer tensor with 0 <= {name} < 2**{bits}; got dtype {value.dtype}"
            )
        tensor = value.to(device=device, dtype=torch.int64)
        if validate and tensor.numel():
            low, high = int(tensor.min()), int(tensor.max())
            if low < 0 or high >= limit:
                raise BiosnnInputError(f"{name} must be in 0 <= {name} < 2**{bits}; got {low if low < 0 else high}")
        return tensor
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise BiosnnInputError(
            f"{name} must be an integer with 0 <= {name} < 2**{bits} or an int64 tensor; got {value!r}"
        )
    if not 0 <= int(value) < limit:
        raise BiosnnInputError(f"{name} must be in 0 <= {name} < 2**{bits}; got {int(value)}")
    return torch.tensor(int(value), dtype=torch.int64, device=device)


def _key(seed, device: torch.device, validate: bool) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(seed, torch.Tensor):
        seed = _index("seed", seed, SEED_BITS, device, validate)
        return seed & WORD_MASK, seed >> WORD_BITS
    low, high = split_seed(seed)
    return torch.tensor(low, dtype=torch.int64, device=device), torch.tensor(high, dtype=torch.int64, device=device)


def _block(seed, stream, element, step, validate: bool):
    device = _device_of((element, step, stream, seed))
    k0, k1 = _key(seed, device, validate)
    stream = _index("stream", stream, STREAM_BITS, device, validate)
    element = _index("element", element, ELEMENT_BITS, device, validate)
    step = _index("step", step, STEP_BITS, device, validate)
    try:
        k0, k1, stream, element, step = torch.broadcast_tensors(k0, k1, stream, element, step)
    except RuntimeError as error:
        shapes = ", ".join(str(tuple(t.shape)) for t in (k0, stream, element, step))
        raise BiosnnInputError(f"the index tensors do not broadcast together: shapes {shapes}") from error
    return _philox(element, step & WORD_MASK, step >> WORD_BITS, stream, k0, k1)


def philox4x32(counter_words, key_words) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The Philox4x32-10 block function on int64 tensors holding uint32 words (see :mod:`biosnn.core.draws`).

    ``counter_words``: four integers or integer tensors in ``[0, 2^32)``; ``key_words``: two. Returns four
    int64 tensors holding the uint32 output words.
    """
    if len(counter_words) != 4 or len(key_words) != 2:
        raise BiosnnInputError(
            f"philox4x32 takes 4 counter words and 2 key words, got {len(counter_words)} and {len(key_words)}"
        )
    device = _device_of((*counter_words, *key_words))
    words = [_index(f"counter word {n}", w, WORD_BITS, device, True) for n, w in enumerate(counter_words)]
    words += [_index(f"key word {n}", w, WORD_BITS, device, True) for n, w in enumerate(key_words)]
    return _philox(*torch.broadcast_tensors(*words))


def _u01(low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    m = (high << (WORD_BITS - UNIFORM_DROP_BITS)) | (low >> UNIFORM_DROP_BITS)
    return (m.to(torch.float64) + UNIFORM_OFFSET) * UNIFORM_SCALE


def uniform(seed, stream, element, step, *, dtype: torch.dtype = torch.float64, validate: bool = True) -> torch.Tensor:
    """Uniforms in (0, 1), bit-identical to :func:`biosnn.core.draws.uniform` (computed in float64, then cast).

    ``seed``: a Python integer < 2^64 (or an int64 tensor); ``stream``, ``element``, ``step``: integers or
    integer tensors, broadcast together, on the device of the first tensor given.
    """
    w0, w1, _, _ = _block(seed, stream, element, step, validate)
    return _u01(w0, w1).to(dtype)


def normal(seed, stream, element, step, *, dtype: torch.dtype = torch.float64, validate: bool = True) -> torch.Tensor:
    """Box-Muller normals ``sqrt(-2 log u1) cos(2 pi u2)`` as :func:`biosnn.core.draws.normal` (to a few ulp)."""
    w0, w1, w2, w3 = _block(seed, stream, element, step, validate)
    u1, u2 = _u01(w0, w1), _u01(w2, w3)
    return (torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(TWO_PI * u2)).to(dtype)
