"""Digit accuracy against the hidden layer's lateral strength mu (the shape of Lee et al. 2016, Fig. 1).

Reads ``lee_digits.json`` (``python validation/lee_digits.py --out results/lee_digits.json``):
mean and range over seeds, per rule, torch mirror (line and band) and Brian2 twin
(open markers). Writes ``lee_digits_mu.pdf`` and ``.png``. No simulation happens here.

Usage: python -m biosnn.reporting.figures.fig_lee_digits_mu --results results --out figures/out
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from biosnn.core.io import load_json
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import colour, new_figure, style

if TYPE_CHECKING:
    from collections.abc import Sequence

RULES = {"lee": "Lee et al. rule", "surrogate": "surrogate gradient"}


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    (path,) = locate(roots, "lee_digits.json")
    runs = load_json(path, "Lee digits results")["runs"]
    table = defaultdict(lambda: defaultdict(list))
    for r in runs:
        key = (r["config"]["rule"], r["config"]["mu_hidden"])
        table[key]["torch"].append(r["accuracy_torch"])
        table[key]["brian2"].append(r["accuracy_brian2"])
    with style() as plt:
        fig, ax = new_figure(plt)
        for i, rule in enumerate(sorted({k[0] for k in table})):
            mus = sorted({k[1] for k in table if k[0] == rule}, reverse=True)
            acc = {b: [np.array(table[(rule, mu)][b]) * 100 for mu in mus] for b in ("torch", "brian2")}
            name = RULES.get(rule, rule)
            ax.plot(mus, [a.mean() for a in acc["torch"]], "-", color=colour(i), label=f"{name} (torch)")
            ax.fill_between(
                mus, [a.min() for a in acc["torch"]], [a.max() for a in acc["torch"]], color=colour(i), alpha=0.2, lw=0
            )
            ax.plot(mus, [a.mean() for a in acc["brian2"]], "o", mfc="none", color=colour(i), label=f"{name} (Brian2)")
        ax.set_xlabel("hidden-layer lateral strength mu")
        ax.set_ylabel("test accuracy (%)")
        ax.invert_xaxis()
        ax.legend()
        ax.set_title("8x8 digits, 64-100-10 WTA network")
        return save_figure(fig, Path(out) / "lee_digits_mu")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_lee_digits_mu", description=__doc__))
