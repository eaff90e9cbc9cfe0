"""One test sample before and after each perturbation: input rasters (Yu, Sun & Goodman 2025).

Reads the first ``timing/data/*-test.npz`` (a test set saved by ``validation/timing_study.py``)
and draws its first sample unperturbed and under each registered perturbation at the strength of
:data:`SHOWN` (seeded, continuous-time forms of ``biosnn.studies.perturbation``). Perturbing spike times is
not a simulation: no network runs here. Writes ``perturbation_rasters.pdf`` and ``.png``.

Usage: python -m biosnn.reporting.figures.fig_perturbation_rasters --results results --out figures/out
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from biosnn.data.dataset import SpikeDataset
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import BACKEND_COLOURS, new_figure, style
from biosnn.studies.perturbation import PERTURBATIONS, perturb

if TYPE_CHECKING:
    from collections.abc import Sequence

#: strength drawn for each kind (seconds for the jitters): mid-range values of the paper's grids
SHOWN = {"random_replacement": 0.5, "spike_jitter": 5e-3, "neuron_jitter": 5e-3, "deletion": 0.5, "time_reversal": 1.0}
SEED = 0


def _strength_text(kind: str, strength: float) -> str:
    return f"{strength * 1e3:g} ms" if PERTURBATIONS[kind].time_valued else f"{strength:g}"


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    path = locate(roots, "timing/data/*-test.npz")[0]
    sample = SpikeDataset.load(path).subset(np.array([0])).spikes
    panels = [("original", sample)]
    for kind, strength in SHOWN.items():
        rng = np.random.default_rng(SEED)
        panels.append(
            (f"{kind.replace('_', ' ')}, {_strength_text(kind, strength)}", perturb(sample, kind, strength, rng))
        )
    with style() as plt:
        fig, axes = new_figure(plt, width="double", height=3.4, nrows=2, ncols=3, sharex=True, sharey=True)
        for ax, (title, spikes) in zip(axes.flat, panels):
            ax.scatter(spikes.times * 1e3, spikes.units, s=3, marker="|", lw=0.8, color=BACKEND_COLOURS["reference"])
            ax.set_title(f"{title} ({spikes.times.size} spikes)")
            ax.set_xlim(0, sample.duration * 1e3)
        for ax in axes[-1]:
            ax.set_xlabel("time (ms)")
        for ax in axes[:, 0]:
            ax.set_ylabel("input channel")
        fig.suptitle(f"{path.stem}, sample 0")
        return save_figure(fig, Path(out) / "perturbation_rasters")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_perturbation_rasters", description=__doc__))
