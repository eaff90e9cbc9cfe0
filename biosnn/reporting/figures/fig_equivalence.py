"""Brian2 reference against its torch mirror: one overlay per model (membrane, rasters, |dv|).

Reads ``traces/<model>_brian2.npz`` and ``traces/<model>_torch.npz`` (written by
``biosnn validate``, e.g. ``make demo``); writes ``overlay_<model>.pdf`` and ``.png``.
No simulation happens here.

Usage: python -m biosnn.reporting.figures.fig_equivalence --results demo-report --out figures/out
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from biosnn.core.errors import BiosnnInputError
from biosnn.core.trace import Trace
from biosnn.models import REGISTRY
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.overlay import plot_equivalence

if TYPE_CHECKING:
    from collections.abc import Sequence


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    written = []
    for ref_path in locate(roots, "traces/*_brian2.npz"):
        model = ref_path.name[: -len("_brian2.npz")]
        mirror_path = ref_path.parent / f"{model}_torch.npz"
        if not mirror_path.is_file():
            raise BiosnnInputError(f"{ref_path} has no mirror trace {mirror_path.name} beside it")
        spec = REGISTRY.get(model)  # a non-spiking readout (li, integrator) has no raster to draw
        written += plot_equivalence(
            Trace.load(ref_path),
            Trace.load(mirror_path),
            Path(out) / f"overlay_{model}",
            title=model,
            spiking=spec is None or spec.threshold is not None,
        )
    return written


if __name__ == "__main__":
    raise SystemExit(script_main("fig_equivalence", description=__doc__))
