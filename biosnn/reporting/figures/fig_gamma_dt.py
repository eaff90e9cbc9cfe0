"""Is a trained gamma-cascade network insensitive to dt? Accuracy and spikes against the evaluation dt.

Reads every ``gamma_dt_table*.json`` (``python validation/gamma_dt_table.py --out
results/gamma_dt_table.json``): networks trained at one dt, evaluated at dt, dt/2, dt/4. The runs
are grouped by set-up (objective, hidden layer, training dt; one colour each) and drawn over their
seeds in both panels (test accuracy; sigma-delta spikes per sample) by
:func:`biosnn.reporting.bands.seed_band`: each seed a faint line, the torch mirror's mean over
seeds a solid line, and the bootstrap 95% interval of that mean a shaded band (no band for a
set-up with one seed). Brian2's accuracy is drawn as open circles at its mean over seeds (they sit
on the torch line when the predictions agree). Writes ``gamma_dt.pdf`` and ``.png``. No simulation
happens here.

Usage: python -m biosnn.reporting.figures.fig_gamma_dt --results results --out figures/out
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from biosnn.core.errors import BiosnnInputError
from biosnn.core.io import load_json
from biosnn.reporting.bands import legend_items, mean_over_seeds, per_seed, seed_band
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import colour, new_figure, style

if TYPE_CHECKING:
    from collections.abc import Sequence


def _label(config: dict) -> str:
    hidden = f", hidden layer of {config['n_hidden']}" if config.get("n_hidden", 0) else ""
    return f"{config['objective']}{hidden}, trained at {config['dt'] * 1e3:g} ms"


#: what the panels draw per run and evaluation dt (accuracies as stored, fractions; drawn in %)
QUANTITIES = ("accuracy_torch", "accuracy_brian2", "spikes_per_sample")


def series(runs: list[dict]) -> dict[str, dict[str, tuple]]:
    """``{set-up label: {quantity: (dt ratio, values [seeds, ratio])}}``: one row per run of the set-up, in the
    order of the runs' seeds."""
    grouped: dict[str, list[tuple[tuple, dict]]] = {}
    for index, run in enumerate(runs):
        grouped.setdefault(_label(run["config"]), []).append(((run["config"].get("seed", index), index), run))
    return {
        label: {
            name: per_seed(
                (key, run["config"]["dt"] / row["dt"], row[name]) for key, run in members for row in run["dt_table"]
            )
            for name in QUANTITIES
        }
        for label, members in grouped.items()
    }


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    runs = [run for path in locate(roots, "gamma_dt_table*.json") for run in load_json(path, "gamma dt table")["runs"]]
    if not runs:
        raise BiosnnInputError("the gamma_dt_table results hold no runs")
    curves = series(runs)
    with style() as plt:
        fig, axes = new_figure(plt, width="double", height=2.6, ncols=2)
        bands, ticks = [], set()
        for i, label in enumerate(sorted(curves)):
            c = colour(i)
            ratio, torch = curves[label]["accuracy_torch"]
            bands.append(seed_band(axes[0], ratio, torch, c, label, scale=100))
            brian_ratio, brian = curves[label]["accuracy_brian2"]
            axes[0].plot(brian_ratio, 100 * mean_over_seeds(brian), "o", mfc="none", color=c)
            spike_ratio, spikes = curves[label]["spikes_per_sample"]
            seed_band(axes[1], spike_ratio, spikes, c, marker="o")
            ticks.update(float(r) for r in ratio)
        axes[0].set_ylabel("test accuracy (%)")
        axes[0].set_title("lines: torch mirror; circles: Brian2 (means over seeds)")
        axes[0].axhline(50, color="0.6", ls=":")
        axes[1].set_ylabel("sigma-delta spikes per sample")
        for ax in axes:
            ax.set_xscale("log", base=2)
            ax.set_xlabel("training dt / evaluation dt")
            ax.minorticks_off()
            ax.set_xticks(sorted(ticks))
            ax.set_xticklabels([f"{t:g}" for t in sorted(ticks)])
        axes[1].set_ylim(bottom=0)
        axes[0].legend(*legend_items(axes[0], bands), fontsize=6)
        return save_figure(fig, Path(out) / "gamma_dt")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_gamma_dt", description=__doc__))
