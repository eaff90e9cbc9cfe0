"""Learnt membrane time constants of PLIF layers during training (the shape of Fang et al. 2021, Fig. 7).

Reads ``timing/training.json`` (``validation/timing_study.py``; each run's ``tau_m_history``: the
tau_m = dt / sigmoid(a) of every PLIF layer before training and after every epoch) and draws
tau_m against epoch, one line per network and layer, with the training loss beside it. Writes
``plif_tau.pdf`` and ``.png``. No simulation happens here.

Usage: python -m biosnn.reporting.figures.fig_plif_tau --results results --out figures/out
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


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    (path,) = locate(roots, "timing/training.json")
    runs = [run for run in load_json(path, "training results").get("runs", []) if run.get("tau_m_history")]
    if not runs:
        raise BiosnnInputError(f"{path} holds no run with a tau_m_history (PLIF layers trained by this version)")
    with style() as plt:
        fig, axes = new_figure(plt, width="double", height=2.5, ncols=2)
        for i, run in enumerate(sorted(runs, key=lambda r: r["name"])):
            taus = np.array(run["tau_m_history"]) * 1e3  # [epochs + 1, layers], ms
            epochs = np.arange(taus.shape[0])
            for layer in range(taus.shape[1]):
                axes[0].plot(
                    epochs,
                    taus[:, layer],
                    marker="o",
                    color=colour(i),
                    ms=2.5,
                    ls=("-", "--", ":")[layer % 3],
                    label=run["name"] + (f", layer {layer + 1}" if taus.shape[1] > 1 else ""),
                )
            axes[1].plot(np.arange(1, len(run["loss"]) + 1), run["loss"], "-", color=colour(i))
        axes[0].set_xlabel("epoch (0: initial)")
        axes[0].set_ylabel("learnt tau_m (ms)")
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("training loss (cross-entropy)")
        axes[1].set_yscale("log")
        axes[0].legend()
        return save_figure(fig, Path(out) / "plif_tau")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_plif_tau", description=__doc__))
