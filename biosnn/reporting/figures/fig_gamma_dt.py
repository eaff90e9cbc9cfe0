"""Is a trained gamma-cascade network insensitive to dt? Accuracy and spikes against the evaluation dt.

Reads every ``gamma_dt_table*.json`` (``python validation/gamma_dt_table.py --out
results/gamma_dt_table.json``): networks trained at one dt, evaluated at dt, dt/2,
dt/4; one line per run, coloured by objective and architecture; torch accuracy as
lines, Brian2 as open markers (they coincide when the predictions agree). Writes
``gamma_dt.pdf`` and ``.png``. No simulation happens here.

Usage: python -m biosnn.reporting.figures.fig_gamma_dt --results results --out figures/out
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from biosnn.core.errors import BiosnnInputError
from biosnn.core.io import load_json
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import colour, new_figure, style

if TYPE_CHECKING:
    from collections.abc import Sequence


def _label(config: dict) -> str:
    hidden = f", hidden layer of {config['n_hidden']}" if config.get("n_hidden", 0) else ""
    return f"{config['objective']}{hidden}, trained at {config['dt'] * 1e3:g} ms"


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    runs = [run for path in locate(roots, "gamma_dt_table*.json") for run in load_json(path, "gamma dt table")["runs"]]
    if not runs:
        raise BiosnnInputError("the gamma_dt_table results hold no runs")
    labels = sorted({_label(run["config"]) for run in runs})
    with style() as plt:
        fig, axes = new_figure(plt, width="double", height=2.6, ncols=2)
        seen = set()
        for run in runs:
            label = _label(run["config"])
            c = colour(labels.index(label))
            ratio = np.array([run["config"]["dt"] / row["dt"] for row in run["dt_table"]])
            axes[0].plot(
                ratio,
                [100 * row["accuracy_torch"] for row in run["dt_table"]],
                "-",
                color=c,
                alpha=0.8,
                label=None if label in seen else label,
            )
            axes[0].plot(ratio, [100 * row["accuracy_brian2"] for row in run["dt_table"]], "o", mfc="none", color=c)
            axes[1].plot(ratio, [row["spikes_per_sample"] for row in run["dt_table"]], "o-", color=c, alpha=0.8)
            seen.add(label)
        axes[0].set_ylabel("test accuracy (%)")
        axes[0].set_title("lines: torch mirror; circles: Brian2")
        axes[0].axhline(50, color="0.6", ls=":")
        axes[1].set_ylabel("sigma-delta spikes per sample")
        for ax in axes:
            ax.set_xscale("log", base=2)
            ax.set_xlabel("training dt / evaluation dt")
            ax.minorticks_off()
            ticks = sorted({float(r) for r in ratio})
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{t:g}" for t in ticks])
        axes[1].set_ylim(bottom=0)
        axes[0].legend(fontsize=6)
        return save_figure(fig, Path(out) / "gamma_dt")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_gamma_dt", description=__doc__))
