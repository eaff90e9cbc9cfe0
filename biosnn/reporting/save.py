"""Write a figure as vector PDF (fonts embedded) and 300 dpi PNG, atomically and byte-reproducibly."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..core.io import atomic_path
from .style import PNG_DPI

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMATS = ("png", "pdf")
#: metadata written into each format: no creation date, so the same figure gives the same bytes on every run
#: (matplotlib stamps PDFs with the time of writing unless told not to; its PNGs carry no date)
METADATA = {"pdf": {"CreationDate": None}, "png": {}}


def save_figure(fig: Figure, stem: Path | str, *, dpi: int = PNG_DPI, close: bool = True) -> list[Path]:
    """``<stem>.png`` and ``<stem>.pdf``; returns the paths written (and closes the figure)."""
    import matplotlib.pyplot as plt

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for ext in FORMATS:
        path = stem.with_suffix(f".{ext}")
        with atomic_path(path, suffix=f".{ext}") as tmp:
            fig.savefig(tmp, format=ext, dpi=dpi, metadata=METADATA[ext])
        written.append(path)
    if close:
        plt.close(fig)
    return written
