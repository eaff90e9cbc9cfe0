"""Lee et al. WTA layer: Brian2 on a grid against the event-driven exact solution, error against dt.

Reads ``lee_convergence.json`` (``python validation/lee_convergence.py --out
results/lee_convergence.json``); writes ``lee_convergence.pdf`` and ``.png``.
No simulation happens here.

Usage: python -m biosnn.reporting.figures.fig_lee_convergence --results results --out figures/out
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from biosnn.core.io import load_json
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import colour, new_figure, style

if TYPE_CHECKING:
    from collections.abc import Sequence


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    (path,) = locate(roots, "lee_convergence.json")
    data = load_json(path, "Lee convergence results")
    with style() as plt:
        fig, axes = new_figure(plt, width="double", height=2.6, ncols=2)
        for i, run in enumerate(data["runs"]):
            dts = np.array([r["dt"] for r in run["rows"]]) * 1e3
            label = f"seed {run.get('seed', i)}"
            axes[0].loglog(
                dts,
                [r["mean_timing_error_s"] * 1e3 for r in run["rows"]],
                "o-",
                color=colour(i),
                alpha=0.8,
                label=label,
            )
            axes[1].loglog(dts, [r["unmatched_fraction"] for r in run["rows"]], "o-", color=colour(i), alpha=0.8)
        ref = np.array([dts.min(), dts.max()])
        axes[0].loglog(ref, ref / 2, "k--", label="dt / 2 (order 1)")
        axes[0].set_title(f"matched spikes: fitted order {data['timing_order']:.2f}")
        axes[0].set_ylabel("mean |spike-time error| (ms)")
        axes[1].set_title(f"spikes without a match: fitted order {data['mismatch_order']:.2f}")
        axes[1].set_ylabel("fraction of exact spikes")
        for ax in axes:
            ax.set_xlabel("dt (ms)")
            ax.minorticks_off()
            ax.set_xticks(dts)
            ax.set_xticklabels([f"{d:g}" for d in dts])
        axes[0].legend()
        return save_figure(fig, Path(out) / "lee_convergence")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_lee_convergence", description=__doc__))
