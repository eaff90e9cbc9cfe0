"""The statistics every study quotes (biosnn/studies/statistics.py), against independent formulas and
against their own promise: a 95% interval covers the true mean about 95% of the time."""

import math
import statistics as stdlib

import numpy as np
import pytest
from scipy.special import stdtr
from tolerances import ROUNDING

from biosnn.core.errors import BiosnnInputError
from biosnn.studies.statistics import (
    ALPHA,
    CONFIDENCE,
    MIN_SEEDS,
    check_seeds,
    compare,
    holm,
    paired_values,
    summarize,
)

#: repetitions of the coverage experiment; the observed coverage has binomial sd sqrt(0.95 * 0.05 / 400) = 0.011
COVERAGE_TRIALS = 400
#: three binomial sds: a correct interval lands inside with probability 0.997
COVERAGE_SLACK = 3 * math.sqrt(CONFIDENCE * (1 - CONFIDENCE) / COVERAGE_TRIALS)
#: sample size of the coverage experiment: large enough for BCa's coverage to be near nominal (its
#: small-sample shortfall is under 1 point at n = 50 for normal data, Efron & Tibshirani 1993, ch. 14)
COVERAGE_N = 50
#: the bootstrap interval of a large normal sample against the normal-theory one, as a fraction of its
#: half-width: 9999 resamples estimate a 2.5% quantile to about 2% of the half-width, the interval's
#: skewness correction moves it by less than that at n = 2000
LARGE_SAMPLE_AGREEMENT = 0.06


def test_mean_and_sd_are_the_textbook_ones():
    values = [0.762, 0.875, 0.938, 0.945, 0.805]
    s = summarize(values)
    assert abs(s.mean - stdlib.mean(values)) < ROUNDING
    assert abs(s.sd - stdlib.stdev(values)) < ROUNDING  # the sample sd (n - 1)
    assert s.n == 5 and s.low < s.mean < s.high
    assert s.text() == f"{100 * s.mean:.1f} +- {100 * s.sd:.1f}% [{100 * s.low:.1f}, {100 * s.high:.1f}], n = 5"


def test_the_interval_covers_the_true_mean_at_its_stated_rate():
    rng = np.random.default_rng(12)
    covered = 0
    for _ in range(COVERAGE_TRIALS):
        s = summarize(rng.normal(3.0, 2.0, COVERAGE_N))
        covered += s.low <= 3.0 <= s.high
    assert abs(covered / COVERAGE_TRIALS - CONFIDENCE) <= COVERAGE_SLACK, covered / COVERAGE_TRIALS


def test_a_large_sample_interval_is_the_normal_theory_one():
    x = np.random.default_rng(5).normal(0.0, 1.0, 2000)
    s = summarize(x)
    half = 1.959964 * np.std(x, ddof=1) / math.sqrt(x.size)
    assert abs(s.low - (x.mean() - half)) < LARGE_SAMPLE_AGREEMENT * half
    assert abs(s.high - (x.mean() + half)) < LARGE_SAMPLE_AGREEMENT * half


def test_the_same_values_always_give_the_same_interval():
    values = [0.61, 0.72, 0.55, 0.8, 0.66]
    assert summarize(values) == summarize(list(values))  # a stored result quotes one interval forever


def test_values_without_spread_have_a_point_interval():
    s = summarize([0.9] * 5)
    assert s.sd == 0 and s.low == s.high == 0.9


def test_the_paired_test_is_students_t_on_the_differences():
    a = np.array([0.70, 0.75, 0.72, 0.81, 0.66, 0.74])
    b = a + np.array([0.05, 0.01, 0.04, -0.01, 0.06, 0.03])
    c = compare(a, b)
    d = b - a
    t = d.mean() / (d.std(ddof=1) / math.sqrt(d.size))
    assert abs(c.p_value - 2 * stdtr(d.size - 1, -abs(t))) < 1e-12
    assert abs(c.mean - d.mean()) < ROUNDING and c.low <= c.mean <= c.high
    assert c.differences == tuple(d)


def test_a_difference_needs_the_interval_to_exclude_zero():
    rng = np.random.default_rng(3)
    a = rng.normal(0.8, 0.05, 5)
    clear = compare(a, a + 0.1 + rng.normal(0, 0.01, 5))
    assert clear.low > 0 and clear.p_value < ALPHA and clear.differs
    assert "a difference" in clear.verdict()
    noise = compare(a, a + rng.normal(0, 0.05, 5) * np.array([1, -1, 1, -1, 1]))
    assert noise.low < 0 < noise.high and not noise.differs
    assert "no difference shown" in noise.verdict()


def test_pairing_helps_when_seeds_share_their_luck():
    """Seeds that are good for both set-ups: the paired interval sees the small steady gain the unpaired one
    cannot separate from the seed-to-seed spread."""
    luck = np.array([0.6, 0.9, 0.7, 0.95, 0.65])
    a, b = luck, luck + np.array([0.02, 0.03, 0.025, 0.02, 0.03])
    assert compare(a, b).differs
    assert not compare(a, b, paired=False).differs


def test_welch_is_used_unpaired():
    from scipy.stats import ttest_ind

    a, b = [0.5, 0.6, 0.55, 0.52, 0.58], [0.8, 0.85, 0.9, 0.82, 0.88, 0.84]
    c = compare(a, b, paired=False)
    assert c.p_value == pytest.approx(ttest_ind(b, a, equal_var=False).pvalue, abs=1e-15)
    assert c.differences == () and c.differs


@pytest.mark.parametrize(
    "values, message",
    [([0.5], "at least 2"), ([0.5, float("nan"), 0.6], "finite"), ([[0.5, 0.6]], "flat list"), ([], "at least 2")],
)
def test_bad_values_are_refused(values, message):
    with pytest.raises(BiosnnInputError, match=message):
        summarize(values)


def test_paired_values_line_up_seeds_and_refuse_missing_ones():
    a, b = paired_values({2: 0.5, 0: 0.7, 1: 0.6}, {0: 0.8, 1: 0.9, 2: 0.4})
    assert a == [0.7, 0.6, 0.5] and b == [0.8, 0.9, 0.4]
    with pytest.raises(BiosnnInputError, match="same seeds"):
        paired_values({0: 0.5, 1: 0.6}, {0: 0.5, 2: 0.6})
    with pytest.raises(BiosnnInputError, match="as many values"):
        compare([0.5, 0.6, 0.7], [0.5, 0.6])


def test_fewer_than_five_seeds_are_not_quoted():
    check_seeds(MIN_SEEDS, "x")
    with pytest.raises(BiosnnInputError, match="at least 5"):
        check_seeds(MIN_SEEDS - 1, "ISI accuracy")


def test_holm_adjusts_a_family_of_comparisons():
    from dataclasses import replace

    base = compare([0.5, 0.6, 0.55, 0.52, 0.58], [0.8, 0.85, 0.9, 0.82, 0.88])
    family = [replace(base, p_value=p) for p in (0.01, 0.04, 0.03)]
    adjusted = holm(family)
    # by hand: sorted 0.01, 0.03, 0.04 times 3, 2, 1 -> 0.03, 0.06, 0.04, made monotone -> 0.03, 0.06, 0.06
    assert [round(c.p_value, 12) for c in adjusted] == [0.03, 0.06, 0.06]
    assert all(c.adjusted and "Holm-adjusted" in c.verdict() for c in adjusted)
    assert [c.differs for c in adjusted] == [True, False, False]


def test_a_difference_without_spread_is_not_claimed():
    """0.1 + 0.2 and 0.3 differ by rounding on every seed: no spread, the t test is undefined, never a claim."""
    c = compare([0.3] * 5, [0.1 + 0.2] * 5)
    assert math.isnan(c.p_value) and not c.differs and "p undefined" in c.verdict()


def test_values_must_be_numbers():
    with pytest.raises(BiosnnInputError, match="numbers"):
        summarize([True, False, True])
    with pytest.raises(BiosnnInputError, match="numbers"):
        summarize(["0.5", "0.6"])


def test_with_five_seeds_the_interval_is_narrow_and_the_t_test_keeps_claims_honest():
    """What docs/statistics.md says: at n = 5 the bootstrap interval covers the true mean well below 95%
    (it cannot know the tails of five values), yet a claimed difference (interval and t test) stays rare
    when there is none."""
    rng = np.random.default_rng(7)
    covered = claimed = 0
    for _ in range(COVERAGE_TRIALS):
        a, b = rng.normal(0.8, 0.05, 5), rng.normal(0.8, 0.05, 5)
        s = summarize(a)
        covered += s.low <= 0.8 <= s.high
        claimed += compare(a, b).differs
    assert covered / COVERAGE_TRIALS < CONFIDENCE - COVERAGE_SLACK  # the shortfall is real, not sampling noise
    assert claimed / COVERAGE_TRIALS <= ALPHA + COVERAGE_SLACK  # false claims at or below the test's level
