"""Discretization study: error against dt for every model and discretization, with fitted orders.

One row per model; columns: (a) the state error with inputs on the grid against closed forms and the
120-digit oracle (the exact propagator sits at rounding level), (b) the median spike-time error of
matched spikes with off-grid inputs (the mean state error for the non-spiking ``li``), (c) the van
Rossum distance (solid) and missed + extra spikes per ground-truth spike (dashed); each line
labelled with its fitted order. Reads ``discretization.json`` (``python validation/discretization_study.py --out
biosnn/reporting/figures/results/discretization.json``); writes ``convergence.pdf`` and ``.png``. No simulation
happens here.

Usage: python -m biosnn.reporting.figures.fig_convergence --results biosnn/reporting/figures/results --out figures/out
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

#: one colour and marker per discretization, the same in every panel
DISCRETIZATION_ORDER = ("exact", "euler", "spikingjelly", "euler_tau0_2dt")
MARKERS = {"exact": "o", "euler": "s", "spikingjelly": "x", "euler_tau0_2dt": "^"}

#: the panels of one row: (title, scenario, [(measure, scale for display, line style)], y label)
COLUMNS = (
    ("(a) inputs on the grid", "on_grid_subthreshold", [("state_error_max", 1.0, "-")], "max |state error|"),
    (
        "(b) off grid: matched spikes",
        "off_grid",
        [("spike_time_error_median", 1e3, "-")],
        "median |spike-time error| (ms)",
    ),
    (
        "(c) off grid: van Rossum (solid),\nmissed + extra per spike (dashed)",
        "off_grid",
        [("van_rossum", 1.0, "-"), ("mismatch_fraction", 1.0, "--")],
        "distance, fraction",
    ),
)
#: a non-spiking model has no spike measure: its off-grid panel shows the mean state error instead
NON_SPIKING = ("state_error_mean", 1.0, "-")
NON_SPIKING_LABEL = "mean |state error|"
#: short names of the measures in the legends
SHORT = {
    "state_error_max": "",
    "spike_time_error_median": "",
    "state_error_mean": "",
    "van_rossum": "vR ",
    "mismatch_fraction": "miss ",
}


def _lines(data: dict, model: str, scenario: str, measure: str) -> dict:
    """``{(discretization, reference): (dts, errors)}`` of one model, scenario and measure."""
    lines = {}
    for row in data["rows"]:
        if row["model"] == model and row["scenario"] == scenario and measure in row:
            dts, errors = lines.setdefault((row["discretization"], row["reference"]), ([], []))
            dts.append(row["dt"])
            errors.append(row[measure])
    return lines


def _orders(data: dict, model: str, scenario: str) -> dict:
    return {
        (o["discretization"], o["reference"], o["measure"]): o
        for o in data["orders"]
        if o["model"] == model and o["scenario"] == scenario
    }


def _order_text(order: dict | None) -> str:
    if order is None:
        return "?"
    if order["declared_order"] == "exact":
        return f"exact, max {order['max_error']:.0e}"
    return f"{order['measured_order']:.2f}"


def _panel(ax, data: dict, model: str, scenario: str, measures) -> bool:
    """Draw every discretization's lines; one legend entry each, with the fitted order of every measure."""
    orders = _orders(data, model, scenario)
    labels, drawn = {}, False
    # a panel may hold several references (LIF: event-driven and NEST): the first filled markers, others open
    references = sorted({ref for measure, _, _ in measures for _, ref in _lines(data, model, scenario, measure)})
    fills = {ref: "full" if k == 0 else "none" for k, ref in enumerate(references)}
    for measure, scale, linestyle in measures:
        for (discretization, reference), (dts, errors) in _lines(data, model, scenario, measure).items():
            i = DISCRETIZATION_ORDER.index(discretization)
            errors = np.asarray(errors, float) * scale
            shown = np.where(errors > 0, errors, np.nan)  # an error of exactly 0 has no place on a log axis
            ax.loglog(
                np.asarray(dts) * 1e3,
                shown,
                marker=MARKERS[discretization],
                color=colour(i),
                fillstyle=fills[reference],
                linestyle=linestyle,
                ms=2.5,
                lw=0.8,
            )
            text = SHORT[measure] + _order_text(orders.get((discretization, reference, measure)))
            labels.setdefault((i, discretization, reference), []).append(text)
            drawn = True
    handles = [
        ax.plot([], [], marker=MARKERS[d], color=colour(i), fillstyle=fills[r], ms=2.5)[0] for i, d, r in sorted(labels)
    ]
    texts = [f"{d} vs {r}: {', '.join(t)}" for (i, d, r), t in sorted(labels.items())]
    if handles:
        ax.legend(handles, texts, fontsize=4.5, loc="lower right", handlelength=1.2, borderaxespad=0.2)
    return drawn


def _check(data: dict) -> list[str]:
    for key in ("rows", "orders"):
        if not data.get(key):
            raise BiosnnInputError(f"discretization results hold no {key}: run validation/discretization_study.py")
    return sorted({row["model"] for row in data["rows"]}, key=lambda m: [r["model"] for r in data["rows"]].index(m))


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    (path,) = locate(roots, "discretization.json")
    data = load_json(path, "discretization study results")
    models = _check(data)
    with style() as plt:
        fig, axes = new_figure(
            plt, width="double", height=1.25 * len(models) + 0.5, nrows=len(models), ncols=len(COLUMNS), squeeze=False
        )
        for r, model in enumerate(models):
            for c, (title, scenario, measures, ylabel) in enumerate(COLUMNS):
                ax = axes[r, c]
                if not _panel(ax, data, model, scenario, measures):
                    if scenario != "off_grid" or c != 1 or not _panel(ax, data, model, scenario, [NON_SPIKING]):
                        ax.axis("off")
                        continue
                    ylabel = NON_SPIKING_LABEL
                ax.set_ylabel(f"{model}\n{ylabel}" if c == 0 else ylabel, fontsize=6)
                if r == 0:
                    ax.set_title(title)
                ax.set_xlabel("dt (ms)", fontsize=6)
                ax.tick_params(labelsize=5.5)
                ax.minorticks_off()
        return save_figure(fig, Path(out) / "convergence")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_convergence", description=__doc__))
