"""Write a figure as vector (PDF) and raster (PNG), atomically."""

from __future__ import annotations

from pathlib import Path

from ..io import atomic_path

FORMATS = ("png", "pdf")


def save_figure(fig, stem, *, dpi: int = 150) -> list[Path]:
    """``<stem>.png`` and ``<stem>.pdf``; returns the paths written."""
    stem = Path(stem)
    written = []
    for ext in FORMATS:
        path = stem.with_suffix(f".{ext}")
        with atomic_path(path, suffix=f".{ext}") as tmp:
            fig.savefig(tmp, format=ext, dpi=dpi)
        written.append(path)
    return written
