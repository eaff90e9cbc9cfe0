"""Statistics a paper can quote: every study number over seeds, with its interval.

Training a spiking network is chaotic: a last-bit difference (the fused against the
phase time loop, another BLAS summation order) moves one seed's accuracy by many
points. So a study never quotes one seed. It runs at least :data:`MIN_SEEDS`
seeds (each seed draws the data, the initial weights and the batches) and states

* a **summary** (:func:`summarize`): the mean, the sample standard deviation
  (``ddof = 1``) and a bootstrap interval of the mean (``scipy.stats.bootstrap``,
  bias-corrected and accelerated, Efron 1987; :data:`CONFIDENCE` = 95%,
  :data:`N_RESAMPLES` resamples drawn from a fixed seed, so the same values always
  give the same interval);
* a **comparison** of two set-ups (:func:`compare`, "do delays help?"): the
  difference of the means, its bootstrap interval, and a test across seeds (paired
  by seed: Student's t on the per-seed differences; unpaired: Welch's t). It is
  called a difference (:attr:`Comparison.differs`) only when the interval excludes 0
  *and* the test's p-value is below :data:`ALPHA`.

With five seeds the bootstrap interval is narrower than the t interval (it cannot
know the tails of five values; its coverage is below the nominal 95% for small n,
Efron & Tibshirani 1993, ch. 14); requiring the t test as well keeps the verdict
conservative. Values are plain floats (accuracies as fractions); NaN, infinities
and fewer than two values are refused: an interval needs a spread.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..core.errors import BiosnnInputError

#: the confidence level of every interval
CONFIDENCE = 0.95
#: bootstrap resamples: the interval's ends move by well under 0.1 point of accuracy between generator seeds
N_RESAMPLES = 9999
#: the bootstrap generator's seed (fixed: a stored result always gives the same interval)
BOOTSTRAP_SEED = 0
#: the least number of seeds a quoted statistic may rest on (the round-3 norm)
MIN_SEEDS = 5
#: the test level a difference must also pass
ALPHA = 0.05


@dataclass(frozen=True)
class Summary:
    """Values over seeds: their mean, sample standard deviation and a bootstrap interval of the mean."""

    values: tuple[float, ...]
    mean: float
    sd: float
    low: float
    high: float
    confidence: float = CONFIDENCE

    @property
    def n(self) -> int:
        return len(self.values)

    def text(self, scale: float = 100.0, digits: int = 1, unit: str = "%", with_n: bool = True) -> str:
        """``"86.5 +- 8.1% [80.2, 92.0], n = 5"`` (values times ``scale``; ``with_n=False`` drops the count,
        for tables with a column of it)."""
        f = f"{{:.{digits}f}}"
        text = (
            f"{f.format(self.mean * scale)} +- {f.format(self.sd * scale)}{unit} "
            f"[{f.format(self.low * scale)}, {f.format(self.high * scale)}]"
        )
        return f"{text}, n = {self.n}" if with_n else text


@dataclass(frozen=True)
class Comparison:
    """Set-up ``b`` against ``a`` across seeds: the difference of their means ``b - a``, its bootstrap
    interval ``[low, high]`` and the test's two-sided p-value; ``differences`` holds the per-seed
    differences when paired (empty otherwise)."""

    a: Summary
    b: Summary
    mean: float
    low: float
    high: float
    p_value: float
    paired: bool
    differences: tuple[float, ...] = ()

    #: True when ``p_value`` was adjusted for several comparisons (:func:`holm`)
    adjusted: bool = False

    @property
    def differs(self) -> bool:
        """True only when the interval of the difference excludes 0 and the test rejects equal means (a
        difference without spread across seeds, where the test is undefined, is never called one)."""
        excludes_zero = self.low > 0 or self.high < 0
        return bool(excludes_zero and math.isfinite(self.p_value) and self.p_value < ALPHA)

    def verdict(self, scale: float = 100.0, digits: int = 1, unit: str = " points") -> str:
        """One line: the difference, its interval, the test and whether it is a difference."""
        f = f"{{:.{digits}f}}"
        test = ("paired t" if self.paired else "Welch t") + (", Holm-adjusted" if self.adjusted else "")
        word = "a difference" if self.differs else "no difference shown"
        p = f"p = {self.p_value:.2g}" if math.isfinite(self.p_value) else "p undefined (no spread across seeds)"
        return (
            f"{f.format(self.mean * scale)}{unit} [{f.format(self.low * scale)}, {f.format(self.high * scale)}], "
            f"{test} {p}, n = {self.a.n}/{self.b.n}: {word}"
        )


def _values(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    raw = np.asarray(values)
    if raw.dtype.kind not in "iuf":
        raise BiosnnInputError(f"{what}: values must be numbers, got {raw.dtype} ({raw.tolist()!r:.80})")
    array = raw.astype(np.float64)
    if array.ndim != 1:
        raise BiosnnInputError(f"{what}: expected one value per seed (a flat list), got shape {array.shape}")
    if array.size < 2:
        raise BiosnnInputError(f"{what}: an interval needs at least 2 values (seeds), got {array.size}")
    if not np.all(np.isfinite(array)):
        raise BiosnnInputError(f"{what}: values must be finite, got {array.tolist()}")
    return array


def _interval(samples: tuple[np.ndarray, ...], statistic, confidence: float) -> tuple[float, float]:
    """The bootstrap interval of ``statistic`` over independent ``samples``: BCa, or the percentile interval
    where BCa is undefined (e.g. all but one value equal)."""
    from scipy.stats import bootstrap

    point = float(statistic(*samples))
    if all(np.ptp(s) == 0 for s in samples):  # no spread: every resample gives the same statistic
        return point, point
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BCa's degenerate-jackknife warning: the percentile interval follows
            result = bootstrap(
                samples,
                statistic,
                confidence_level=confidence,
                n_resamples=N_RESAMPLES,
                method=method,
                vectorized=True,
                rng=np.random.default_rng(BOOTSTRAP_SEED),
            )
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        if math.isfinite(low) and math.isfinite(high):
            break
    return min(low, point), max(high, point)


#: differences below this fraction of the values' scale are rounding, not spread: a t test is undefined there
_NO_SPREAD = 1e-12


def _scale(*arrays: np.ndarray) -> float:
    return max(1e-300, max(float(np.max(np.abs(a))) for a in arrays))


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def _difference_of_means(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(b, axis=axis) - np.mean(a, axis=axis)


def summarize(values: Sequence[float] | np.ndarray, *, confidence: float = CONFIDENCE, what: str = "values") -> Summary:
    """Mean, sample standard deviation and the bootstrap interval of the mean of ``values`` (one per seed)."""
    if not 0 < confidence < 1:
        raise BiosnnInputError(f"confidence must lie in (0, 1), got {confidence}")
    x = _values(values, what)
    low, high = _interval((x,), _mean, confidence)
    return Summary(tuple(float(v) for v in x), float(np.mean(x)), float(np.std(x, ddof=1)), low, high, confidence)


def paired_values(a: Mapping[int, float], b: Mapping[int, float], what: str = "comparison") -> tuple[list, list]:
    """The values of ``a`` and ``b`` (each keyed by seed) in the order of their common seeds; refuses
    seeds present in one only (a paired comparison needs both set-ups on every seed)."""
    if set(a) != set(b):
        raise BiosnnInputError(
            f"{what}: a paired comparison needs the same seeds on both sides, got {sorted(a)} and {sorted(b)}"
        )
    seeds = sorted(a)
    return [a[s] for s in seeds], [b[s] for s in seeds]


def compare(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    paired: bool = True,
    confidence: float = CONFIDENCE,
    what: str = "comparison",
) -> Comparison:
    """``b`` against ``a`` (e.g. with delays against without). ``paired``: ``a[i]`` and ``b[i]`` share seed i
    (the same data and initial weights; use :func:`paired_values` to line up seeds), and the difference is
    summarised per seed with a paired t test; otherwise the two samples are resampled independently and
    Welch's t test is used."""
    from scipy.stats import ttest_ind, ttest_rel

    x, y = _values(a, f"{what} (first)"), _values(b, f"{what} (second)")
    if paired:
        if x.size != y.size:
            raise BiosnnInputError(
                f"{what}: a paired comparison needs as many values on both sides ({x.size}, {y.size})"
            )
        d = y - x
        low, high = _interval((d,), _mean, confidence)
        mean, differences = float(np.mean(d)), tuple(float(v) for v in d)
        spread = float(np.std(d, ddof=1))
        p = float(ttest_rel(y, x).pvalue) if spread > _NO_SPREAD * _scale(x, y) else math.nan
    else:
        low, high = _interval((x, y), _difference_of_means, confidence)
        mean, differences = float(np.mean(y) - np.mean(x)), ()
        spread = float(np.std(x, ddof=1) + np.std(y, ddof=1))
        p = float(ttest_ind(y, x, equal_var=False).pvalue) if spread > _NO_SPREAD * _scale(x, y) else math.nan
    return Comparison(
        summarize(x, confidence=confidence),
        summarize(y, confidence=confidence),
        mean,
        low,
        high,
        p,
        paired,
        differences,
    )


def holm(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons with their p-values adjusted for being several (Holm 1979: the i-th smallest of m
    p-values times m - i, made monotone; at most 1), in their order. Use it whenever one result is compared
    with several others, so that "a difference" keeps its 5% error rate over the family."""
    from dataclasses import replace

    order = sorted(
        range(len(comparisons)), key=lambda i: (not math.isfinite(comparisons[i].p_value), comparisons[i].p_value)
    )
    adjusted: dict[int, float] = {}
    running = 0.0
    m = len(comparisons)
    for rank, i in enumerate(order):
        p = comparisons[i].p_value
        running = max(running, min(1.0, (m - rank) * p)) if math.isfinite(p) else math.nan
        adjusted[i] = running
    return [replace(c, p_value=adjusted[i], adjusted=True) for i, c in enumerate(comparisons)]


def check_seeds(n: int, what: str) -> None:
    """Refuse to quote a statistic over fewer than :data:`MIN_SEEDS` seeds."""
    if n < MIN_SEEDS:
        raise BiosnnInputError(
            f"{what}: {n} seed(s) stored; a quoted statistic needs at least {MIN_SEEDS} (run the study with more --seeds)"
        )
