"""Cost against network size N and steps T, both backends (``benchmarks/bench_scaling.py``).

Reads ``scaling.json`` (``make bench-scaling`` writes it to benchmarks/results);
writes ``scaling.pdf`` and ``.png``. No simulation happens here.

Usage: python -m biosnn.reporting.figures.fig_scaling --results benchmarks/results --out figures/out
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from biosnn.core.errors import BiosnnInputError
from biosnn.core.io import load_json
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import colour, new_figure, style

if TYPE_CHECKING:
    from collections.abc import Sequence

SERIES = (
    ("torch_inference", "torch inference"),
    ("torch_train", "torch forward + backward"),
    ("brian2_run", "Brian2 run (compiled program)"),
    ("brian2_loop", "Brian2 simulation loop"),
)


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    (path,) = locate(roots, "scaling.json")
    points = [p for p in load_json(path, "scaling results")["points"] if "error" not in p]
    if not points:
        raise BiosnnInputError(f"{path} holds no measured point")
    by_n, by_steps = {}, {}
    for p in points:
        by_n.setdefault(p["n"], []).append(p)
        by_steps.setdefault(p["steps"], []).append(p)
    steps_of_n_sweep = max(by_steps, key=lambda t: len(by_steps[t]))  # the T at which N was varied
    n_of_t_sweep = max(by_n, key=lambda n: len(by_n[n]))  # the N at which T was varied
    sweeps = (
        ("n", by_steps[steps_of_n_sweep], f"neurons N (T = {steps_of_n_sweep} steps)"),
        ("steps", by_n[n_of_t_sweep], f"steps T (N = {n_of_t_sweep})"),
    )
    with style() as plt:
        fig, axes = new_figure(plt, width="double", height=2.8, ncols=2)
        for ax, (key, rows, label) in zip(axes, sweeps):
            rows = sorted(rows, key=lambda p: p[key])
            for i, (field, name) in enumerate(SERIES):
                ax.loglog([p[key] for p in rows], [p[field] for p in rows], marker="o", color=colour(i), label=name)
            ax.set_xlabel(label)
            ax.set_ylabel("wall time (s)")
            ax.grid(True, which="both", alpha=0.3)
        axes[0].legend()
        return save_figure(fig, Path(out) / "scaling")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_scaling", description=__doc__))
