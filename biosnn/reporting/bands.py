"""Curves over seeds, drawn one way in every figure: each seed faint, the mean solid, its 95% interval shaded.

A study runs every set-up on several seeds (at least :data:`biosnn.studies.statistics.MIN_SEEDS`), so a
figure draws a set-up as

* each seed: a thin faint line (:data:`SEED_ALPHA`, no legend entry);
* the mean over seeds: the set-up's line (its colour, style and legend label);
* the bootstrap 95% interval of the mean (:func:`biosnn.studies.statistics.summarize`): a shaded band
  (:data:`BAND_ALPHA`; a vertical bar where the curve has one x only);

and the legend says once "mean, 95% interval (n seeds)" (:func:`legend_items`). A set-up with a single
seed (old results, tests) is just its line: no band, since an interval needs a spread. At an x where
fewer than two seeds have a value the band has a gap and the mean is over the seeds present.

:func:`per_seed` lines up ``(seed, x, y)`` points into the ``[seeds, x]`` array :func:`seed_band`
draws; :func:`seed_band` returns what it drew (:class:`Band`), so tests can check the numbers.

The interval is the one a study quotes only if it is computed from the same values in the same order:
the bootstrap resamples positions from a fixed generator seed, and with five seeds many resamples have
exactly the observed mean, so both the order of the values and a last-bit change (scaling fractions to
percent first) move the interval's ends by tenths of a point. Hence :func:`per_seed` orders seeds by
their number (as :func:`biosnn.studies.perturbation.aggregate.aggregate` does) and :func:`seed_band`
summarises the values as stored and multiplies by ``scale`` only to draw.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from biosnn.core.errors import BiosnnInputError
from biosnn.studies.statistics import summarize

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable, Sequence
    from typing import Any

#: each seed's line: faint and thin, so the mean and its band stand out
SEED_ALPHA = 0.25
SEED_LINEWIDTH = 0.5
#: the interval band's fill (and, doubled, the bar of a one-x curve)
BAND_ALPHA = 0.2


@dataclass(frozen=True, eq=False)
class Band:
    """What :func:`seed_band` drew: ``x``, the per-seed values ``[seeds, x]`` (NaN where a seed has no
    point), their mean, and the interval ``low``/``high`` (None for a single seed; NaN where fewer than two
    seeds have a value); ``line`` is the mean's matplotlib line."""

    x: np.ndarray
    seeds: np.ndarray
    mean: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None
    confidence: float | None
    line: Any

    @property
    def n(self) -> int:
        """The number of seeds."""
        return int(self.seeds.shape[0])


def per_seed(points: Iterable[tuple[Hashable, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """``(x, values)`` from ``(seed, x, y)`` points: x sorted, ``values[i, j]`` the mean of seed i's y at
    ``x[j]`` (repeats of one seed and x, e.g. perturbation seeds, are averaged), NaN where seed i has none.
    Seeds in sorted order (the order they first appear in when they cannot be sorted)."""
    grouped: dict[Hashable, dict[float, list[float]]] = {}
    for seed, x, y in points:
        grouped.setdefault(seed, {}).setdefault(float(x), []).append(float(y))
    try:
        seeds = sorted(grouped)
    except TypeError:  # e.g. None beside numbers
        seeds = list(grouped)
    xs = np.array(sorted({x for by_x in grouped.values() for x in by_x}), dtype=np.float64)
    values = np.full((len(seeds), xs.size), np.nan)
    for i, seed in enumerate(seeds):
        for x, ys in grouped[seed].items():
            values[i, np.searchsorted(xs, x)] = np.mean(ys)
    return xs, values


def mean_over_seeds(values: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """The mean over seeds (axis 0) of a ``[seeds, x]`` array, ignoring NaN (NaN where no seed has a value)."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "mean of empty slice": an x no seed has
        return np.nanmean(values, axis=0)


def seed_band(
    ax: Any,
    x: Sequence[float] | np.ndarray,
    values: Sequence[Sequence[float]] | np.ndarray,
    colour: str,
    label: str | None = None,
    *,
    scale: float = 1.0,
    **line: Any,
) -> Band:
    """Draw a set-up over seeds on ``ax``: ``values`` is ``[seeds, len(x)]`` (NaN where a seed has no point).
    Each seed as a faint line, the mean as a line of ``colour`` with ``label`` and the other ``line``
    keywords (linestyle, marker, ...), and the bootstrap interval of the mean as a band; one seed: its line
    only. The statistics are of ``values`` as given; everything is drawn times ``scale`` (100: fractions as
    %). Returns the :class:`Band` drawn (its arrays as drawn, i.e. scaled)."""
    x = np.asarray(x, dtype=np.float64)
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    if values.ndim != 2 or values.shape[1] != x.size or values.shape[0] == 0:
        raise BiosnnInputError(f"seed_band: expected values of shape [seeds, {x.size}], got {values.shape}")
    line.setdefault("linestyle", "-")
    mean = mean_over_seeds(values) * scale
    if values.shape[0] == 1:
        (mean_line,) = ax.plot(x, mean, color=colour, label=label, **line)
        return Band(x, values * scale, mean, None, None, None, mean_line)
    for row in values:
        ax.plot(x, row * scale, "-", color=colour, alpha=SEED_ALPHA, lw=SEED_LINEWIDTH, label="_nolegend_")
    low, high = np.full(x.size, np.nan), np.full(x.size, np.nan)
    confidence = None
    for j in range(x.size):
        present = values[:, j][np.isfinite(values[:, j])]
        if present.size >= 2:
            summary = summarize(present, what=f"{label or 'curve'} at x = {x[j]:g}")
            low[j], high[j], confidence = summary.low * scale, summary.high * scale, summary.confidence
    if x.size == 1:  # a band of zero width is invisible: a bar instead
        if np.isfinite(low[0]):
            ax.vlines(x, low, high, color=colour, alpha=2 * BAND_ALPHA, lw=4, label="_nolegend_")
    else:
        ax.fill_between(x, low, high, color=colour, alpha=BAND_ALPHA, lw=0, label="_nolegend_")
    (mean_line,) = ax.plot(x, mean, color=colour, label=label, **line)
    return Band(x, values * scale, mean, low, high, confidence, mean_line)


def legend_items(ax: Any, bands: Iterable[Band]) -> tuple[list, list[str]]:
    """``(handles, labels)`` of ``ax`` plus, when any of ``bands`` has an interval, one entry "mean, 95%
    interval (n seeds)" (n the seed count, or its range when set-ups differ); then the labels of the
    single-seed set-ups among them say "(1 seed)"."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    bands = list(bands)
    with_interval = [b for b in bands if b.low is not None]
    if with_interval:
        for band in bands:
            label = band.line.get_label()
            if band.low is None and not label.startswith("_"):
                band.line.set_label(f"{label} (1 seed)")
    handles, labels = ax.get_legend_handles_labels()
    if with_interval:
        counts = sorted({b.n for b in with_interval})
        n = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        level = max((b.confidence for b in with_interval if b.confidence is not None), default=0.95)
        handles.append((Patch(facecolor="0.5", alpha=BAND_ALPHA, lw=0), Line2D([], [], color="0.3")))
        labels.append(f"mean, {100 * level:g}% interval ({n} seeds)")
    return handles, labels
