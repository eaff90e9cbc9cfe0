"""Learnt membrane time constants of PLIF layers during training (the shape of Fang et al. 2021, Fig. 7).

Reads ``timing/training.json`` (``validation/timing_study.py``; each run's ``tau_m_history``: the
tau_m = dt / sigmoid(a) of every PLIF layer before training and after every epoch). Runs are grouped
by set-up: the network family (the name without its ``-seed<N>``, see
:func:`biosnn.studies.perturbation.aggregate.family_and_seed`) and the initial tau_m of its layers,
one colour each. Left: tau_m against epoch per set-up and layer (line style per layer); right: the
training loss. Both are drawn over the set-up's seeds by :func:`biosnn.reporting.bands.seed_band`:
each seed a faint line, the mean over seeds a solid line, and the bootstrap 95% interval of that
mean a shaded band (no band for a set-up with one seed). Writes ``plif_tau.pdf`` and ``.png``. No
simulation happens here.

Usage: python -m biosnn.reporting.figures.fig_plif_tau --results results --out figures/out
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from biosnn.core.errors import BiosnnInputError
from biosnn.core.io import load_json
from biosnn.reporting.bands import legend_items, per_seed, seed_band
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import colour, new_figure, style
from biosnn.studies.perturbation.aggregate import family_and_seed

if TYPE_CHECKING:
    from collections.abc import Sequence

#: initial tau_m in ms is compared at this many decimals (tau = dt / sigmoid(a) is not exact in floats)
INITIAL_TAU_DECIMALS = 6


def setups(runs: list[dict]) -> dict[tuple[str, tuple[float, ...]], list[tuple[int, dict]]]:
    """``{(family, initial tau_m per layer in ms): [(seed, run), ...]}``, sorted by family and initial tau_m."""
    grouped: dict[tuple[str, tuple[float, ...]], list[tuple[int, dict]]] = {}
    for run in runs:
        family, seed = family_and_seed(run["name"])
        initial = tuple(round(float(t) * 1e3, INITIAL_TAU_DECIMALS) for t in run["tau_m_history"][0])
        grouped.setdefault((family, initial), []).append((seed, run))
    return dict(sorted(grouped.items()))


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    (path,) = locate(roots, "timing/training.json")
    runs = [run for run in load_json(path, "training results").get("runs", []) if run.get("tau_m_history")]
    if not runs:
        raise BiosnnInputError(f"{path} holds no run with a tau_m_history (PLIF layers trained by this version)")
    with style() as plt:
        fig, axes = new_figure(plt, width="double", height=2.5, ncols=2)
        bands = []
        for i, ((family, initial), members) in enumerate(setups(runs).items()):
            # one row per run, ordered by training seed (the order the study's numbers summarise in);
            # each history is [epochs + 1, layers], in seconds
            seeds = [((seed, k), run) for k, (seed, run) in enumerate(members)]
            taus = [(key, np.array(run["tau_m_history"], dtype=np.float64)) for key, run in seeds]
            for layer in range(len(initial)):
                epochs, values = per_seed(
                    (key, epoch, tau[layer]) for key, history in taus for epoch, tau in enumerate(history)
                )
                label = f"{family}, initial tau_m {initial[layer]:g} ms" + (
                    f", layer {layer + 1}" if len(initial) > 1 else ""
                )
                bands.append(
                    seed_band(
                        axes[0],
                        epochs,
                        values,
                        colour(i),
                        label,
                        linestyle=("-", "--", ":")[layer % 3],
                        marker="o",
                        ms=2.5,
                        scale=1e3,
                    )
                )
            epochs, losses = per_seed(
                (key, epoch + 1, loss) for key, run in seeds for epoch, loss in enumerate(run["loss"])
            )
            seed_band(axes[1], epochs, losses, colour(i))
        axes[0].set_xlabel("epoch (0: initial)")
        axes[0].set_ylabel("learnt tau_m (ms)")
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("training loss (cross-entropy)")
        axes[1].set_yscale("log")
        axes[0].legend(*legend_items(axes[0], bands))
        return save_figure(fig, Path(out) / "plif_tau")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_plif_tau", description=__doc__))
