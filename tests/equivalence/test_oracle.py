"""Both backends against the high-precision oracle at the edges the specs allow.

Near-equal and equal time constants, chains of cascade rates each close to the
next, long cascades, tiny and large rate x dt, physiological units. Before the
reference computed its propagators numerically (``biosnn/brian/integration.py``),
Brian2's symbolic solution was wrong by O(10) or NaN on several of these
cascades and lost precision near tau_m = tau_s, and the mirror's
``torch.linalg.matrix_exp`` was off by up to 3e-11 per step; both are now within
rounding of the oracle. The full sweep is ``validation/oracle_errors.py``.
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from biosnn.equivalence.oracle import cascade_impulse_response, current_synapse_response, exponential_decay

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "validation"))
from oracle_errors import CASCADE_CASES, CURRENT_CASES, DT, cascade_error, current_synapse_error  # noqa: E402
from tolerances import ROUNDING, SUMMATION

#: float64 rounding accumulated over 400 steps of values of the case's scale (measured worst: 1.3e-14)
ORACLE_RTOL = 1e-12

#: a corner of every edge; the whole sweep (CURRENT_CASES) is marked slow
CURRENT = [
    (tau_m, ratio, w, v_rest)
    for tau_m in (0.5 * DT, 1.0)
    for ratio in (1.0, 1 + 1e-12, 1 + 9e-5, 1 + 1.1e-4, 3.0)
    for w, v_rest in ((1.0, 0.0), (50.0, -70.0))
]


@pytest.mark.parametrize("backend", ["brian2", "torch"])
@pytest.mark.parametrize("tau_m, ratio, w, v_rest", CURRENT)
def test_current_synapse_membrane_equals_the_oracle(backend, tau_m, ratio, w, v_rest):
    error = current_synapse_error(backend, tau_m, ratio, w, v_rest)
    assert error <= ORACLE_RTOL * max(1.0, abs(v_rest), abs(w)), error


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_the_whole_current_synapse_sweep(backend):
    for tau_m, ratio, w, v_rest in CURRENT_CASES:
        error = current_synapse_error(backend, tau_m, ratio, w, v_rest)
        assert error <= ORACLE_RTOL * max(1.0, abs(v_rest), abs(w)), (tau_m, ratio, w, v_rest, error)


@pytest.mark.parametrize("backend", ["brian2", "torch"])
@pytest.mark.parametrize("case", sorted(CASCADE_CASES))
def test_cascade_buckets_equal_the_oracle(backend, case):
    assert cascade_error(backend, CASCADE_CASES[case]) <= ORACLE_RTOL


def test_the_oracle_against_textbook_closed_forms():
    """The oracle's residues reproduce the gamma kernel (equal rates), the hypoexponential density
    (distinct rates) and the alpha function (tau_s = tau_m), evaluated directly in float64."""
    t = np.arange(300) * 1e-4
    tau = 4e-3
    response = cascade_impulse_response([tau] * 4, t)
    for k in range(4):
        np.testing.assert_allclose(
            response[:, k], (t / tau) ** k * np.exp(-t / tau) / math.factorial(k), rtol=0, atol=ROUNDING
        )
    rates = 1 / np.array([2e-3, 5e-3, 9e-3])
    response = cascade_impulse_response(1 / rates, t)
    hypo = np.prod(rates[:2]) * sum(
        np.exp(-rates[m] * t) / np.prod([rates[l] - rates[m] for l in range(3) if l != m]) for m in range(3)
    )
    np.testing.assert_allclose(response[:, 2], hypo, rtol=0, atol=SUMMATION)
    np.testing.assert_allclose(
        current_synapse_response(2.0, tau, tau, t), 2.0 * t / tau * np.exp(-t / tau), rtol=0, atol=ROUNDING
    )
    np.testing.assert_allclose(exponential_decay(3.0, tau, t), 3.0 * np.exp(-t / tau), rtol=ROUNDING, atol=0)
