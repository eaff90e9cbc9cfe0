"""The random source (biosnn/core/draws.py, biosnn/torch/draws.py): Philox4x32-10 against Random123's
known answers, numpy against torch bit for bit, the uniforms' open interval, the statistics, and bad input.

No package installed here offers an independent Philox4x32 (numpy's ``Philox`` is Philox4x64, there is no
jax or randomgen; torch's Philox is internal), so the truth is Random123's kat_vectors and a scalar
transcription of the paper's round in plain Python integers (:func:`_reference_block`).
The statistical checks are deterministic (fixed seeds); each threshold is one a true uniform or normal
source passes with probability >= 1 - 6e-7 (5 standard errors) or 1 - 1e-3 (the KS test).
"""

import math

import numpy as np
import pytest
import scipy.stats
import torch

from biosnn.core import draws
from biosnn.core.errors import BiosnnInputError
from biosnn.torch import draws as torch_draws

MASK = 2**32 - 1
#: Random123 kat_vectors, philox4x32_10: (counter, key) -> output words
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((MASK,) * 4, (MASK, MASK), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]
#: indices on both sides of every word boundary: 2^31 (int32), 2^32 (the step's two words), 2^63 (int64)
ELEMENTS = np.array([0, 1, 2, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1], dtype=np.int64)
STEPS_INT64 = np.array(
    [0, 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**33 + 5, 2**62, 2**63 - 1], dtype=np.int64
)
STEPS = np.concatenate([STEPS_INT64.astype(np.uint64), np.array([2**63, 2**64 - 2, 2**64 - 1], dtype=np.uint64)])
SEEDS = [0, 1, 2**32 - 1, 2**32, 0xFEDCBA9876543210, 2**64 - 1]
STREAMS = [0, 1, 2**31, 2**32 - 1]
N = 1_000_000
#: a statistic within this many standard errors of its expectation
STANDARD_ERRORS = 5
#: the Kolmogorov-Smirnov test's p-value above this
KS_P = 1e-3


def _reference_block(counter, key):
    """Philox4x32-10 for one counter, transcribed from Salmon et al. 2011 in Python integers (no numpy)."""
    c, (k0, k1) = list(counter), key
    for round_ in range(10):
        if round_:
            k0, k1 = (k0 + 0x9E3779B9) & MASK, (k1 + 0xBB67AE85) & MASK
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & MASK, (p0 >> 32) ^ c[3] ^ k1, p0 & MASK]
    return tuple(c)


def _reference_uniform(low, high):
    """The documented uniform of two words, in exact rational arithmetic: ((w >> 12) + 1/2) / 2^52."""
    return (((high << 32 | low) >> 12) + 0.5) / 2**52


def _ulp_difference(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.spacing(np.maximum(np.abs(a), np.abs(b)))


def _kat_arguments(counter, key):
    """(seed, stream, element, step) whose counter and key are a known-answer vector's."""
    return key[0] + (key[1] << 32), counter[3], counter[0], counter[1] + (counter[2] << 32)


@pytest.mark.parametrize("counter, key, expected", KAT)
def test_the_block_function_gives_random123s_known_answers(counter, key, expected):
    assert _reference_block(counter, key) == expected  # the test's own transcription agrees with the KATs
    assert tuple(int(word) for word in draws.philox4x32(counter, key)) == expected
    assert all(word.dtype == np.uint32 for word in draws.philox4x32(counter, key))
    assert tuple(int(word) for word in torch_draws.philox4x32(counter, key)) == expected


@pytest.mark.parametrize("counter, key, expected", KAT)
def test_the_counter_layout_and_the_uniform_formula_follow_the_documentation(counter, key, expected):
    """counter = (element, step mod 2^32, step >> 32, stream), key = (seed mod 2^32, seed >> 32)."""
    seed, stream, element, step = _kat_arguments(counter, key)
    u = _reference_uniform(expected[0], expected[1])
    u2 = _reference_uniform(expected[2], expected[3])
    assert draws.uniform(seed, stream, element, step) == u
    z = math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * u2)  # glibc
    assert _ulp_difference(draws.normal(seed, stream, element, step), z) <= draws.NORMAL_MAX_ULP
    if step < 2**63:  # torch holds indices in int64
        assert torch_draws.uniform(seed, stream, element, step).item() == u
        assert _ulp_difference(torch_draws.normal(seed, stream, element, step).item(), z) <= draws.NORMAL_MAX_ULP


def test_the_vectorised_block_function_equals_the_scalar_transcription_on_the_boundaries():
    rng = np.random.default_rng(7)
    counters = [
        (e, s & MASK, s >> 32, stream) for e in ELEMENTS.tolist() for s in STEPS.tolist() for stream in (0, MASK)
    ]
    keys = [(seed & MASK, seed >> 32) for seed in SEEDS]
    counters += [tuple(int(w) for w in rng.integers(0, 2**32, 4)) for _ in range(200)]
    for key in keys:
        got = np.stack(draws.philox4x32([np.array([c[n] for c in counters]) for n in range(4)], key), axis=1)
        want = np.array([_reference_block(c, key) for c in counters], dtype=np.uint32)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("stream", STREAMS)
def test_torch_draws_the_numpy_uniforms_bit_for_bit_and_the_normals_to_a_few_ulp(seed, stream):
    elements, steps = ELEMENTS[:, None], STEPS_INT64[None, :]
    want_u, want_z = draws.uniform(seed, stream, elements, steps), draws.normal(seed, stream, elements, steps)
    e, s = torch.from_numpy(elements), torch.from_numpy(steps)
    got_u, got_z = torch_draws.uniform(seed, stream, e, s), torch_draws.normal(seed, stream, e, s)
    assert got_u.dtype == got_z.dtype == torch.float64 and got_u.shape == want_u.shape == (
        len(ELEMENTS),
        len(STEPS_INT64),
    )
    np.testing.assert_array_equal(got_u.numpy(), want_u)
    assert _ulp_difference(got_z.numpy(), want_z).max() <= draws.NORMAL_MAX_ULP


def test_a_million_torch_normals_are_numpys_within_the_stated_ulp():
    elements = np.arange(N, dtype=np.int64)
    want = draws.normal(2024, 3, elements, 2**32 + 17)
    got = torch_draws.normal(2024, 3, torch.from_numpy(elements), 2**32 + 17).numpy()
    ulps = _ulp_difference(got, want)
    assert ulps.max() <= draws.NORMAL_MAX_ULP
    assert np.mean(ulps == 0) > 0.9  # mostly identical: the libms differ only in the last bit or two
    np.testing.assert_array_equal(
        torch_draws.uniform(2024, 3, torch.from_numpy(elements), 2**32 + 17).numpy(),
        draws.uniform(2024, 3, elements, 2**32 + 17),
    )


def test_torch_seed_tensors_dtype_and_device_follow_the_arguments():
    elements = torch.arange(10)
    by_int = torch_draws.uniform(5 + (7 << 32), 1, elements, 3)
    by_tensor = torch_draws.uniform(torch.tensor(5 + (7 << 32)), torch.tensor(1), elements, torch.tensor(3))
    assert torch.equal(by_int, by_tensor)
    assert torch_draws.normal(5, 1, elements, 3, dtype=torch.float32).dtype == torch.float32
    assert torch.equal(torch_draws.uniform(5, 1, elements, 3, validate=False), torch_draws.uniform(5, 1, elements, 3))
    if torch.cuda.is_available():
        on_gpu = torch_draws.uniform(5, 1, elements.cuda(), 3)
        assert on_gpu.is_cuda and torch.equal(on_gpu.cpu(), torch_draws.uniform(5, 1, elements, 3))


def test_arguments_broadcast_and_each_draw_is_recomputed_alone():
    elements, steps = np.arange(5)[:, None], np.arange(2**32 - 2, 2**32 + 2)[None, :]
    grid = draws.uniform(99, 4, elements, steps)
    assert grid.shape == (5, 4)
    for e in range(5):
        for k, s in enumerate(steps[0]):
            assert draws.uniform(99, 4, e, int(s)) == grid[e, k]
    seeds = np.array([1, 2, 3], dtype=np.uint64)[:, None, None]
    assert draws.normal(seeds, 0, elements, steps).shape == (3, 5, 4)
    assert draws.uniform(3.0, 0, 1, 2) == draws.uniform(3, 0, 1, 2)  # integral floats are integers


def test_uniforms_are_never_0_or_1_even_for_the_extreme_words():
    for low, high in ((0, 0), (MASK, MASK), (0xFFF, 0), (MASK, 0), (0, MASK)):
        want = _reference_uniform(low, high)
        for u01, wrap in (
            (draws._u01, lambda w: np.array([w], dtype=np.uint64)),
            (torch_draws._u01, lambda w: torch.tensor([w])),
        ):
            got = float(u01(wrap(low), wrap(high))[0])
            assert got == want and 0.0 < got < 1.0
    assert draws._u01(np.uint64(0), np.uint64(0)) == 2.0**-53
    assert draws._u01(np.uint64(MASK), np.uint64(MASK)) == 1.0 - 2.0**-53
    u = draws.uniform(11, 0, np.arange(N), 0)
    assert u.min() > 0.0 and u.max() < 1.0
    assert np.isfinite(draws.normal(11, 0, np.arange(N), 0)).all()


def _mean_and_variance_within_standard_errors(x, mean, variance, fourth_moment):
    """Sample mean within 5 SE (SE = sqrt(var / n)) and sample variance within 5 SE
    (SE = sqrt((mu4 - var^2) / n), the variance of the sample variance to first order)."""
    n = x.size
    assert abs(x.mean() - mean) < STANDARD_ERRORS * math.sqrt(variance / n)
    assert abs(x.var() - variance) < STANDARD_ERRORS * math.sqrt((fourth_moment - variance**2) / n)


def test_a_million_uniforms_and_normals_have_the_right_moments_and_distribution():
    elements = np.arange(1000)[:, None]
    steps = np.arange(2**32 - 500, 2**32 + 500)[None, :]  # across the step's word boundary
    u = draws.uniform(31337, 2, elements, steps).ravel()
    z = draws.normal(31337, 2, elements, steps).ravel()
    assert u.size == z.size == N
    _mean_and_variance_within_standard_errors(u, 0.5, 1 / 12, 1 / 80)  # U(0,1): mu4 = 1/80
    _mean_and_variance_within_standard_errors(z, 0.0, 1.0, 3.0)  # N(0,1): mu4 = 3
    assert scipy.stats.kstest(u, "uniform").pvalue > KS_P
    assert scipy.stats.kstest(z, "norm").pvalue > KS_P


def _lag_one_correlation_is_small(a, b):
    """Pearson correlation of n pairs: under independence its SE is 1/sqrt(n); within 5 of them."""
    a, b = a.ravel(), b.ravel()
    assert abs(np.corrcoef(a, b)[0, 1]) < STANDARD_ERRORS / math.sqrt(a.size)


@pytest.mark.parametrize("kind", [draws.uniform, draws.normal])
def test_neighbouring_elements_steps_streams_and_seeds_are_uncorrelated(kind):
    elements, steps = np.arange(1001)[:, None], np.arange(2**32 - 100, 2**32 + 101)[None, :]
    grid = kind(77, 5, elements, steps)  # 1001 x 201
    _lag_one_correlation_is_small(grid[:-1], grid[1:])  # element e against e + 1
    _lag_one_correlation_is_small(grid[:, :-1], grid[:, 1:])  # step s against s + 1
    _lag_one_correlation_is_small(grid, kind(77, 6, elements, steps))  # stream against stream + 1
    _lag_one_correlation_is_small(grid, kind(78, 5, elements, steps))  # seed against seed + 1
    _lag_one_correlation_is_small(grid, kind(77 + 2**32, 5, elements, steps))  # the seed's high word
    _lag_one_correlation_is_small(grid, kind(77, 5, elements, steps + 2**32))  # the step's high word


BAD_ARGUMENTS = [
    ("seed", dict(seed=-1)),
    ("seed", dict(seed=2**64)),
    ("seed", dict(seed=1.5)),
    ("seed", dict(seed=float("nan"))),
    ("seed", dict(seed=True)),
    ("seed", dict(seed="3")),
    ("stream", dict(stream=2**32)),
    ("stream", dict(stream=-3)),
    ("element", dict(element=2**32)),
    ("element", dict(element=np.array([0, 5, -1]))),
    ("element", dict(element=np.array([0.0, np.nan]))),
    ("element", dict(element=np.array([0.0, np.inf]))),
    ("element", dict(element=np.array([1.0, 2.5]))),
    ("element", dict(element=np.array([True, False]))),
    ("step", dict(step=2**64)),
    ("step", dict(step=-1)),
    ("step", dict(step=np.array([2**64], dtype=object))),
    ("broadcast", dict(element=np.arange(3), step=np.arange(4))),
]


@pytest.mark.parametrize("function", [draws.uniform, draws.normal])
@pytest.mark.parametrize("name, bad", BAD_ARGUMENTS)
def test_bad_arguments_are_refused_with_a_message_naming_them(function, name, bad):
    arguments = dict(seed=1, stream=2, element=3, step=4) | bad
    with pytest.raises(BiosnnInputError, match=name):
        function(**arguments)


def test_the_block_function_refuses_bad_words():
    with pytest.raises(BiosnnInputError, match="4 counter words and 2 key words"):
        draws.philox4x32((0, 0, 0), (0, 0))
    with pytest.raises(BiosnnInputError, match="counter word 2"):
        draws.philox4x32((0, 0, 2**32, 0), (0, 0))
    with pytest.raises(BiosnnInputError, match="key word 1"):
        draws.philox4x32((0, 0, 0, 0), (0, -1))
    with pytest.raises(BiosnnInputError, match="4 counter words and 2 key words"):
        torch_draws.philox4x32((0, 0, 0, 0), (0,))
    with pytest.raises(BiosnnInputError, match="key word 0"):
        torch_draws.philox4x32((0, 0, 0, 0), (2**32, 0))
    with pytest.raises(BiosnnInputError, match="seed"):
        draws.split_seed(-1)


TORCH_BAD_ARGUMENTS = [
    ("seed", dict(seed=2**64)),
    ("seed", dict(seed=-1)),
    ("seed", dict(seed=1.0)),
    ("seed", dict(seed=torch.tensor([-1]))),
    ("stream", dict(stream=2**32)),
    ("stream", dict(stream=torch.tensor(1.0))),
    ("element", dict(element=torch.tensor([0, 2**32]))),
    ("element", dict(element=torch.tensor([0.0, 1.0]))),
    ("element", dict(element=torch.tensor([True]))),
    ("element", dict(element=-1)),
    ("step", dict(step=2**63)),  # int64
    ("step", dict(step=torch.tensor([3, -2]))),
    ("broadcast", dict(element=torch.arange(3), step=torch.arange(4))),
]


@pytest.mark.parametrize("function", [torch_draws.uniform, torch_draws.normal])
@pytest.mark.parametrize("name, bad", TORCH_BAD_ARGUMENTS)
def test_torch_refuses_bad_arguments_with_a_message_naming_them(function, name, bad):
    arguments = dict(seed=1, stream=2, element=torch.arange(3), step=4) | bad
    with pytest.raises(BiosnnInputError, match=name):
        function(**arguments)


def test_torch_imports_its_constants_from_the_core_and_never_brian():
    import inspect

    source = inspect.getsource(torch_draws)
    for constant in ("0xD2511F53", "0xCD9E8D57", "0x9E3779B9", "0xBB67AE85"):
        assert constant.lower() not in source.lower()
    assert "biosnn.brian" not in source and "..brian" not in source
