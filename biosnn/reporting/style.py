"""One style for every publication figure: journal column widths, a colour-blind-safe palette, embedded fonts.

Widths follow the common two-column journal layout (single column 3.5 in /
89 mm, double column 7.2 in / 183 mm). Colours are Okabe & Ito's
colour-blind-safe palette (Okabe & Ito 2008, "Color Universal Design"),
used in a fixed order so one quantity keeps one colour across figures
(:data:`BACKEND_COLOURS`). PDF and PS output embed TrueType (Type 42)
fonts, as journals require; PNGs are written at :data:`PNG_DPI`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType
    from typing import Any

    from matplotlib.figure import Figure

#: inches: one journal column, two columns
SINGLE_COLUMN = 3.5
DOUBLE_COLUMN = 7.2
#: raster resolution of the PNG copies (journals ask for >= 300 dpi)
PNG_DPI = 300

#: Okabe & Ito (2008): black, orange, sky blue, bluish green, yellow, blue, vermillion, reddish purple
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
#: one colour per thing compared, the same in every figure
BACKEND_COLOURS = {
    "brian2": "#0072B2",
    "torch": "#D55E00",
    "rate_logistic": "#009E73",
    "rate_mlp": "#CC79A7",
    "reference": "#000000",
}

RC = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "lines.linewidth": 1.0,
    "lines.markersize": 3.5,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "savefig.bbox": "standard",
    "figure.constrained_layout.use": True,
}


#: the palette's colours for lines, in order: black (kept for references) and yellow (faint on white) left out
LINE_COLOURS = tuple(c for c in PALETTE if c not in ("#000000", "#F0E442"))


def colour(index: int) -> str:
    """The ``index``-th line colour (cycling through :data:`LINE_COLOURS`)."""
    return LINE_COLOURS[index % len(LINE_COLOURS)]


@contextmanager
def style() -> Iterator[ModuleType]:
    """Matplotlib (Agg backend) with the shared rc settings and palette, restored afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cycler import cycler

    with plt.rc_context(RC | {"axes.prop_cycle": cycler(color=LINE_COLOURS)}):
        yield plt


def new_figure(
    plt: ModuleType,
    *,
    width: str = "single",
    height: float | None = None,
    nrows: int = 1,
    ncols: int = 1,
    **kwargs: Any,
) -> tuple[Figure, Any]:
    """``(fig, axes)`` at a journal width (``"single"`` or ``"double"``); height in inches (default: 0.75 x width
    for one single-column row, else 0.32 x width per row + 0.3 in for the labels)."""
    widths = {"single": SINGLE_COLUMN, "double": DOUBLE_COLUMN}
    if width not in widths:
        raise ValueError(f"width must be one of {sorted(widths)}, got {width!r}")
    w = widths[width]
    h = height if height is not None else (0.75 * w if nrows == 1 and width == "single" else 0.32 * w * nrows + 0.3)
    return plt.subplots(nrows, ncols, figsize=(w, h), **kwargs)
