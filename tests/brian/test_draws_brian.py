"""The random source in Brian2 (biosnn/brian/draws.py): every target draws numpy's numbers.

Two groups (two "layers", one code object each) write ``biosnn_normal`` and ``biosnn_uniform`` into
``x`` and ``y`` at the start of every step; a StateMonitor records them; every element x step is
compared with biosnn.core.draws: uniforms bit for bit, normals within NORMAL_MAX_ULP. The grid group
gives each neuron its own seed, stream, element and step offset (int64 variables) so that one run covers
Random123's known-answer counters, the 2^31 and 2^32 boundaries and steps that cross 2^32.
"""

import itertools

import brian2 as b2
import numpy as np
import pytest
from brian2.core.base import BrianObjectException

from biosnn.brian.draws import C_CODE, CYTHON_CODE, FUNCTIONS, expression
from biosnn.brian.targets import brian_target
from biosnn.core import draws
from biosnn.core.errors import BiosnnInputError

STEPS = 5
#: (seed, stream, element, first step): Random123's first and third KAT counters, then the boundaries
GRID = [
    (0, 0, 0, 0),
    (0xA4093822 + (0x299F31D0 << 32), 0x03707344, 0x243F6A88, 0x85A308D3 + (0x13198A2E << 32)),
] + list(
    itertools.product(
        (0, 2**32 - 1, 2**32, 0xFEDCBA9876543210, 2**64 - 1),
        (0, 7, 2**32 - 1),
        (0, 1, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1),
        (0, 2**32 - 2, 2**63 - STEPS),
    )
)
#: the second layer: plain neurons, one seed and stream, ``i`` and ``t_in_timesteps`` as they come
PLAIN_N, PLAIN_SEED, PLAIN_STREAM = 20_000, 0xC0FFEE, 9


def _draw(target: str, directory=None):
    """Run both groups on ``target``; returns the recorded (x, y) of the grid group and of the plain one."""
    seed, stream, element, offset = (np.array(column, dtype=np.uint64) for column in zip(*GRID))
    with brian_target(target, directory):
        clock = b2.Clock(dt=0.1 * b2.ms)
        grid = b2.NeuronGroup(
            len(GRID),
            "x : 1\ny : 1\nseed_lo : integer (constant)\nseed_hi : integer (constant)\n"
            "stream : integer (constant)\nelement : integer (constant)\noffset : integer (constant)",
            namespace=FUNCTIONS,
            clock=clock,
            dtype={name: np.int64 for name in ("seed_lo", "seed_hi", "stream", "element", "offset")},
        )
        grid.seed_lo, grid.seed_hi = (seed & 0xFFFFFFFF).astype(np.int64), (seed >> 32).astype(np.int64)
        grid.stream, grid.element, grid.offset = (
            stream.astype(np.int64),
            element.astype(np.int64),
            offset.astype(np.int64),
        )
        arguments = "seed_lo, seed_hi, stream, element, t_in_timesteps + offset"
        grid.run_regularly(f"x = biosnn_normal({arguments})\ny = biosnn_uniform({arguments})", when="start")
        plain = b2.NeuronGroup(PLAIN_N, "x : 1\ny : 1", namespace=FUNCTIONS, clock=clock)
        plain.run_regularly(
            f"x = {expression('normal', PLAIN_SEED, PLAIN_STREAM)}\ny = {expression('uniform', PLAIN_SEED, PLAIN_STREAM)}",
            when="start",
        )
        monitors = [b2.StateMonitor(group, ["x", "y"], record=True) for group in (grid, plain)]
        b2.Network(grid, plain, *monitors).run(STEPS * clock.dt)
        return [(np.array(m.x), np.array(m.y)) for m in monitors]


def _expected():
    seed, stream, element, offset = (np.array(column, dtype=np.uint64)[:, None] for column in zip(*GRID))
    steps = offset + np.arange(STEPS, dtype=np.uint64)[None, :]
    plain = (np.arange(PLAIN_N)[:, None], np.arange(STEPS)[None, :])
    return [
        (draws.normal(seed, stream, element, steps), draws.uniform(seed, stream, element, steps)),
        (draws.normal(PLAIN_SEED, PLAIN_STREAM, *plain), draws.uniform(PLAIN_SEED, PLAIN_STREAM, *plain)),
    ]


def _check(target: str, directory=None) -> float:
    """Compare the target's draws with numpy's; returns the largest normal difference in ulp."""
    largest = 0.0
    for (x, y), (want_x, want_y) in zip(_draw(target, directory), _expected()):
        np.testing.assert_array_equal(y, want_y)
        ulps = np.abs(x - want_x) / np.spacing(np.maximum(np.abs(x), np.abs(want_x)))
        assert ulps.max() <= draws.NORMAL_MAX_ULP
        largest = max(largest, float(ulps.max()))
    return largest


def test_the_numpy_target_draws_the_reference_numbers():
    assert _check("numpy") == 0.0  # the same code


@pytest.mark.cython
def test_the_cython_target_draws_the_reference_numbers():
    _check("cython")


@pytest.mark.cpp_standalone
def test_cpp_standalone_draws_the_reference_numbers(tmp_path):
    _check("cpp_standalone", str(tmp_path / "build"))


def test_the_c_code_is_written_from_the_core_constants():
    for constant in (draws.PHILOX_M0, draws.PHILOX_M1, draws.PHILOX_W0, draws.PHILOX_W1):
        assert f"{constant:#010x}u" in C_CODE
    assert (
        f"r < {draws.PHILOX_ROUNDS};" in C_CODE and repr(draws.UNIFORM_SCALE) in C_CODE and repr(draws.TWO_PI) in C_CODE
    )
    assert "std::" not in C_CODE and C_CODE.count("static inline") == 2  # the qualifier macro, with and without nvcc
    for code in CYTHON_CODE.values():
        assert C_CODE.strip().splitlines()[-1].strip() in code


def test_expression_checks_the_seed_and_stream():
    assert expression("normal", 7 + (3 << 32), 2) == "biosnn_normal(7, 3, 2, i, t_in_timesteps)"
    assert expression("uniform", 1, 0, "j", "t_in_timesteps + 5") == "biosnn_uniform(1, 0, 0, j, t_in_timesteps + 5)"
    for bad, name in (
        (dict(kind="poisson"), "kind"),
        (dict(seed=2**64), "seed"),
        (dict(seed=-1), "seed"),
        (dict(stream=2**32), "stream"),
        (dict(element=3), "element"),
    ):
        with pytest.raises(BiosnnInputError, match=name):
            expression(**(dict(kind="normal", seed=1, stream=2) | bad))


def test_brian_refuses_a_float_step_and_numpy_refuses_a_negative_element():
    for element, step, refusal, message in (
        ("i", "t / dt", TypeError, "integer"),  # Brian2 checks the declared argument types
        ("i - 1", "t_in_timesteps", BiosnnInputError, "element"),  # the numpy target checks the values
    ):
        group = b2.NeuronGroup(3, "x : 1", namespace=FUNCTIONS)
        group.run_regularly(f"x = {expression('normal', 1, 2, element, step)}")
        with brian_target("numpy"), pytest.raises(BrianObjectException) as failure:
            b2.Network(group).run(b2.defaultclock.dt)
        assert isinstance(failure.value.__cause__, refusal) and message in str(failure.value.__cause__)
