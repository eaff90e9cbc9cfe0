"""Brian2 on a grid converges to the event-driven WTA solution with order ~1."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "validation"))
from lee_convergence import measure  # noqa: E402


def test_timing_error_shrinks_linearly_with_dt():
    result = measure(seed=0, dts=(4e-4, 2e-4, 1e-4, 5e-5))
    errors = [r["mean_timing_error_s"] for r in result["rows"]]
    assert all(a > b for a, b in zip(errors, errors[1:]))
    # rounding an input to its step start moves it by U[0, dt): mean error ~ dt/2
    for row in result["rows"]:
        assert 0.3 * row["dt"] < row["mean_timing_error_s"] < 0.8 * row["dt"]
    assert 0.8 < result["timing_order"] < 1.2
    unmatched = [r["unmatched_fraction"] for r in result["rows"]]
    assert unmatched[-1] < unmatched[0]
