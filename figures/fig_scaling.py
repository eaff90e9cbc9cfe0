"""Plot the scaling curves of ``benchmarks/bench_scaling.py``: seconds against N and against T, both backends.

Reads ``<results>/scaling.json``; writes ``<out>/scaling.pdf`` and ``.png``. No simulation happens here.

Usage: python figures/fig_scaling.py --results benchmarks/results --out figures/out
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from biosnn.plotting.save import save_figure  # noqa: E402

SERIES = (("torch_inference", "torch inference"), ("torch_train", "torch forward + backward"),
          ("brian2_run", "Brian2 run (compiled program)"), ("brian2_loop", "Brian2 simulation loop"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    path = Path(args.results) / "scaling.json"
    if not path.is_file():
        parser.error(f"no {path}: run benchmarks/bench_scaling.py first")
    points = [p for p in json.loads(path.read_text())["points"] if "error" not in p]
    if not points:
        parser.error(f"{path} holds no measured point")
    by_n, by_steps = {}, {}
    for p in points:
        by_n.setdefault(p["n"], []).append(p)
        by_steps.setdefault(p["steps"], []).append(p)
    steps_of_n_sweep = max(by_steps, key=lambda t: len(by_steps[t]))     # the T at which N was varied
    n_of_t_sweep = max(by_n, key=lambda n: len(by_n[n]))                 # the N at which T was varied
    sweeps = (("n", by_steps[steps_of_n_sweep], f"neurons N (T = {steps_of_n_sweep} steps)"),
              ("steps", by_n[n_of_t_sweep], f"steps T (N = {n_of_t_sweep})"))
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 3.0), constrained_layout=True)
    for ax, (key, rows, label) in zip(axes, sweeps):
        rows = sorted(rows, key=lambda p: p[key])
        for field, name in SERIES:
            ax.loglog([p[key] for p in rows], [p[field] for p in rows], marker="o", label=name)
        ax.set_xlabel(label)
        ax.set_ylabel("wall time (s)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    for written in save_figure(fig, Path(args.out) / "scaling"):
        print(written)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
