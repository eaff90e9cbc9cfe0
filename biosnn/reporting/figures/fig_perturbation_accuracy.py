"""Accuracy against perturbation strength: the trained network in torch, its exact Brian2 twin at the
training dt and finer, and the rate-only baselines (the shapes of Yu, Sun & Goodman 2025, Fig. 1c, 2c, 5-7).

Reads ``timing/sweep.sqlite`` (``python validation/timing_study.py --out results/timing`` or ``biosnn
perturb``): one row of panels per network family (the network name without its ``-seed<N>``, see
:func:`biosnn.studies.perturbation.aggregate.family_and_seed`), one panel per perturbation kind. Each
network's accuracy is first averaged over perturbation seeds; then every series is drawn over the
family's training seeds by :func:`biosnn.reporting.bands.seed_band`: each seed a faint line, the mean
over seeds the series' line, and the bootstrap 95% interval of that mean a shaded band (a bar where a
kind has one strength, e.g. time reversal; no band for a family with one seed). Solid lines with
squares: torch at the training dt; dashed with crosses: Brian2 at the finer dt; dotted with triangles:
the rate-only classifiers (spike counts only); open circles: Brian2 at the training dt, at its mean over
seeds only (it coincides with torch when the predictions agree). Writes ``perturbation_accuracy.pdf``
and ``.png``. No simulation happens here.

Usage: python -m biosnn.reporting.figures.fig_perturbation_accuracy --results results --out figures/out
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from biosnn.core.errors import BiosnnInputError
from biosnn.reporting.bands import legend_items, mean_over_seeds, per_seed, seed_band
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import BACKEND_COLOURS, new_figure, style
from biosnn.studies.perturbation import PERTURBATIONS
from biosnn.studies.perturbation.aggregate import family_and_seed
from biosnn.studies.perturbation.network import NETWORK_PERTURBATIONS
from biosnn.studies.perturbation.table import read_points

if TYPE_CHECKING:
    from collections.abc import Sequence

RATE_LABELS = {"rate_logistic": "rate-only, logistic", "rate_mlp": "rate-only, MLP"}

#: every registered kind, the input's first, with what its strength means
KINDS = {**PERTURBATIONS, **NETWORK_PERTURBATIONS}


def accuracy_table(path: Path) -> dict:
    """``{family: {kind: {(backend, dt): {training seed: [(strength, accuracy), ...]}}}}`` from a sweep table:
    each network's accuracy averaged over perturbation seeds, its family and training seed from its name."""
    rows = read_points(path, ("network", "kind", "strength", "backend", "dt", "accuracy"))
    if not rows:
        raise BiosnnInputError(f"the sweep table {str(path)!r} holds no points")
    accuracies = defaultdict(list)  # the mean over perturbation seeds
    for row in rows:
        accuracies[row["network"], row["kind"], row["backend"], row["dt"], row["strength"]].append(row["accuracy"])
    table = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(list))))
    for (network, kind, backend, dt, strength), values in sorted(accuracies.items()):
        family, seed = family_and_seed(network)  # a network named without a seed is its family's one curve
        table[family][kind][(backend, dt)][0 if seed is None else seed].append((strength, float(np.mean(values))))
    return table


def _strength_axis(kind: str) -> tuple[float, str]:
    """Scale and label of a kind's strength axis (seconds shown in ms)."""
    base = kind.split(":")[0]
    perturbation = KINDS.get(base)
    if perturbation is not None and perturbation.time_valued:
        return 1e3, f"{base.replace('_', ' ')} sigma (ms)"
    suffix = kind.partition(":")[2]
    return 1.0, base.replace("_", " ") + (" (binned)" if suffix == "temporal-shd" else f" ({suffix})" if suffix else "")


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    (path,) = locate(roots, "timing/sweep.sqlite")
    table = accuracy_table(path)
    families = sorted(table)
    kinds = sorted(
        {kind for f in families for kind in table[f]},
        key=lambda k: (list(KINDS).index(k.split(":")[0]) if k.split(":")[0] in KINDS else 99, k),
    )
    with style() as plt:
        fig, axes = new_figure(
            plt,
            width="double",
            height=1.55 * len(families) + 0.5,
            nrows=len(families),
            ncols=len(kinds),
            sharey=True,
            squeeze=False,
        )
        bands = []
        for row, family in enumerate(families):
            for col, kind in enumerate(kinds):
                ax = axes[row, col]
                series = table[family].get(kind, {})
                scale, xlabel = _strength_axis(kind)
                torch_dts = sorted(dt for backend, dt in series if backend == "torch")
                brian_dts = sorted(dt for backend, dt in series if backend == "brian2")
                for (backend, dt), by_seed in sorted(series.items()):
                    x, y = per_seed(
                        (seed, strength * scale, accuracy)
                        for seed, points in by_seed.items()
                        for strength, accuracy in points
                    )
                    if backend == "torch":
                        bands.append(
                            seed_band(
                                ax,
                                x,
                                y,
                                BACKEND_COLOURS["torch"],
                                f"torch, {dt * 1e3:g} ms",
                                marker="s",
                                ms=2.5,
                                scale=100,
                            )
                        )
                    elif backend == "brian2" and dt == max(brian_dts):
                        ax.plot(
                            x,
                            100 * mean_over_seeds(y),
                            "o",
                            mfc="none",
                            color=BACKEND_COLOURS["brian2"],
                            label=f"Brian2, {dt * 1e3:g} ms",
                        )
                    elif backend == "brian2":
                        bands.append(
                            seed_band(
                                ax,
                                x,
                                y,
                                BACKEND_COLOURS["brian2"],
                                f"Brian2, {dt * 1e3:g} ms",
                                linestyle="--",
                                marker="x",
                                ms=3,
                                scale=100,
                            )
                        )
                    else:
                        bands.append(
                            seed_band(
                                ax,
                                x,
                                y,
                                BACKEND_COLOURS.get(backend, "0.5"),
                                RATE_LABELS.get(backend, backend),
                                linestyle=":",
                                marker="^",
                                ms=2.5,
                                scale=100,
                            )
                        )
                if torch_dts and row == len(families) - 1:
                    ax.set_xlabel(xlabel)
                if col == 0:
                    ax.set_ylabel(f"{family}\naccuracy (%)")
                if row == 0:
                    ax.set_title(kind.split(":")[0].replace("_", " "))
        handles, labels = legend_items(axes[0, 0], bands)
        fig.legend(handles, labels, loc="outside lower center", ncol=min(5, len(labels)))
        return save_figure(fig, Path(out) / "perturbation_accuracy")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_perturbation_accuracy", description=__doc__))
