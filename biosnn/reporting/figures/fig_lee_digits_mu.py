"""Digit accuracy against the hidden layer's lateral strength mu (the shape of Lee et al. 2016, Fig. 1).

Reads ``lee_digits.json`` (``python validation/lee_digits.py --out results/lee_digits.json``). Per
learning rule (one colour each), over seeds, drawn by :func:`biosnn.reporting.bands.seed_band`: each
seed's torch-mirror accuracy against mu a faint line, the mean over seeds a solid line, and the
bootstrap 95% interval of that mean a shaded band (no band for a rule with one seed); the Brian2
twin's accuracy as open circles at its mean over seeds. Writes ``lee_digits_mu.pdf`` and ``.png``.
No simulation happens here.

Usage: python -m biosnn.reporting.figures.fig_lee_digits_mu --results results --out figures/out
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from biosnn.core.io import load_json
from biosnn.reporting.bands import legend_items, mean_over_seeds, per_seed, seed_band
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import colour, new_figure, style

if TYPE_CHECKING:
    from collections.abc import Sequence

RULES = {"lee": "Lee et al. rule", "surrogate": "surrogate gradient"}


def series(runs: list[dict]) -> dict[str, dict[str, tuple]]:
    """``{rule: {backend: (mu, accuracy [seeds, mu])}}``; runs of one rule, seed and mu are averaged."""
    return {
        rule: {
            backend: per_seed(
                (r["config"].get("seed"), r["config"]["mu_hidden"], r[f"accuracy_{backend}"])
                for r in runs
                if r["config"]["rule"] == rule
            )
            for backend in ("torch", "brian2")
        }
        for rule in sorted({r["config"]["rule"] for r in runs})
    }


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    (path,) = locate(roots, "lee_digits.json")
    curves = series(load_json(path, "Lee digits results")["runs"])
    with style() as plt:
        fig, ax = new_figure(plt)
        bands = []
        for i, rule in enumerate(curves):
            name = RULES.get(rule, rule)
            mus, torch = curves[rule]["torch"]
            bands.append(seed_band(ax, mus, torch, colour(i), f"{name} (torch)", scale=100))
            mus, brian = curves[rule]["brian2"]
            ax.plot(mus, 100 * mean_over_seeds(brian), "o", mfc="none", color=colour(i), label=f"{name} (Brian2)")
        ax.set_xlabel("hidden-layer lateral strength mu")
        ax.set_ylabel("test accuracy (%)")
        ax.invert_xaxis()
        ax.legend(*legend_items(ax, bands))
        ax.set_title("8x8 digits, 64-100-10 WTA network")
        return save_figure(fig, Path(out) / "lee_digits_mu")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_lee_digits_mu", description=__doc__))
