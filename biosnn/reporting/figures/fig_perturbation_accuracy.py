"""Accuracy against perturbation strength: the trained network in torch, its exact Brian2 twin at the
training dt and finer, and the rate-only baselines (the shapes of Yu, Sun & Goodman 2025, Fig. 1c, 2c, 5-7).

Reads ``timing/sweep.sqlite`` (``python validation/timing_study.py --out results/timing`` or ``biosnn
perturb``): one row of panels per network, one panel per perturbation kind, mean accuracy over
perturbation seeds. Solid lines: torch at the training dt; open circles: Brian2 at the training dt;
dashed with crosses: Brian2 at the finer dt; dotted with triangles: the rate-only classifiers (spike
counts only). Every series has markers, so a kind with one strength (time reversal) shows them all.
Writes ``perturbation_accuracy.pdf`` and ``.png``. No simulation happens here.

Usage: python -m biosnn.reporting.figures.fig_perturbation_accuracy --results results --out figures/out
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from biosnn.core.errors import BiosnnInputError
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import BACKEND_COLOURS, new_figure, style
from biosnn.studies.perturbation import PERTURBATIONS
from biosnn.studies.perturbation.table import read_points

if TYPE_CHECKING:
    from collections.abc import Sequence

RATE_LABELS = {"rate_logistic": "rate-only, logistic", "rate_mlp": "rate-only, MLP"}


def accuracy_table(path: Path) -> dict:
    """``{network: {kind: {(backend, dt): [(strength, mean accuracy), ...]}}}`` from a sweep table."""
    rows = read_points(path, ("network", "kind", "strength", "backend", "dt", "accuracy"))
    if not rows:
        raise BiosnnInputError(f"the sweep table {str(path)!r} holds no points")
    accuracies = defaultdict(list)  # the mean over perturbation seeds
    for row in rows:
        accuracies[row["network"], row["kind"], row["backend"], row["dt"], row["strength"]].append(row["accuracy"])
    table = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for (network, kind, backend, dt, strength), values in sorted(accuracies.items()):
        table[network][kind][(backend, dt)].append((strength, float(np.mean(values))))
    return table


def _strength_axis(kind: str) -> tuple[float, str]:
    """Scale and label of a kind's strength axis (seconds shown in ms)."""
    base = kind.split(":")[0]
    perturbation = PERTURBATIONS.get(base)
    if perturbation is not None and perturbation.time_valued:
        return 1e3, f"{base.replace('_', ' ')} sigma (ms)"
    return 1.0, base.replace("_", " ") + (" (binned)" if ":" in kind else "")


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    (path,) = locate(roots, "timing/sweep.sqlite")
    table = accuracy_table(path)
    networks = sorted(table)
    kinds = sorted(
        {kind for n in networks for kind in table[n]},
        key=lambda k: (list(PERTURBATIONS).index(k.split(":")[0]) if k.split(":")[0] in PERTURBATIONS else 99, k),
    )
    with style() as plt:
        fig, axes = new_figure(
            plt,
            width="double",
            height=1.55 * len(networks) + 0.5,
            nrows=len(networks),
            ncols=len(kinds),
            sharey=True,
            squeeze=False,
        )
        for row, network in enumerate(networks):
            for col, kind in enumerate(kinds):
                ax = axes[row, col]
                series = table[network].get(kind, {})
                scale, xlabel = _strength_axis(kind)
                torch_dts = sorted(dt for backend, dt in series if backend == "torch")
                brian_dts = sorted(dt for backend, dt in series if backend == "brian2")
                for (backend, dt), points in sorted(series.items()):
                    x = np.array([s for s, _ in points]) * scale
                    y = np.array([a for _, a in points]) * 100
                    if backend == "torch":
                        ax.plot(
                            x,
                            y,
                            "-",
                            marker="s",
                            ms=2.5,
                            color=BACKEND_COLOURS["torch"],
                            label=f"torch, {dt * 1e3:g} ms",
                        )
                    elif backend == "brian2" and dt == max(brian_dts):
                        ax.plot(
                            x, y, "o", mfc="none", color=BACKEND_COLOURS["brian2"], label=f"Brian2, {dt * 1e3:g} ms"
                        )
                    elif backend == "brian2":
                        ax.plot(
                            x,
                            y,
                            "--",
                            marker="x",
                            ms=3,
                            color=BACKEND_COLOURS["brian2"],
                            label=f"Brian2, {dt * 1e3:g} ms",
                        )
                    else:
                        ax.plot(
                            x,
                            y,
                            ":",
                            marker="^",
                            ms=2.5,
                            color=BACKEND_COLOURS.get(backend, "0.5"),
                            label=RATE_LABELS.get(backend, backend),
                        )
                if torch_dts and row == len(networks) - 1:
                    ax.set_xlabel(xlabel)
                if col == 0:
                    ax.set_ylabel(f"{network}\naccuracy (%)")
                if row == 0:
                    ax.set_title(kind.split(":")[0].replace("_", " "))
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=min(5, len(labels)))
        return save_figure(fig, Path(out) / "perturbation_accuracy")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_perturbation_accuracy", description=__doc__))
