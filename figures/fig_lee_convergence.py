"""Convergence of Brian2 (grid) to the event-driven WTA solution: error against dt.

Reads the JSON written by ``validation/lee_convergence.py``; writes PDF + PNG.
No simulation happens here.

Usage: python figures/fig_lee_convergence.py --results results/lee_convergence.json --out figures/out
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from biosnn.plotting.save import save_figure  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    data = json.loads(Path(args.results).read_text())
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.2))
    for run in data["runs"]:
        dts = np.array([r["dt"] for r in run["rows"]]) * 1e3
        axes[0].loglog(dts, [r["mean_timing_error_s"] * 1e3 for r in run["rows"]], "o-", ms=3, lw=1, alpha=0.7)
        axes[1].loglog(dts, [r["unmatched_fraction"] for r in run["rows"]], "o-", ms=3, lw=1, alpha=0.7)
    ref = np.array([dts.min(), dts.max()])
    axes[0].loglog(ref, ref / 2, "k--", lw=1, label="dt / 2 (order 1)")
    axes[0].set_title(f"matched spikes: order {data['timing_order']:.2f}", fontsize=9)
    axes[0].set_ylabel("mean |timing error| (ms)")
    axes[1].set_title(f"spikes without a match: order {data['mismatch_order']:.2f}", fontsize=9)
    axes[1].set_ylabel("fraction of exact spikes")
    for ax in axes:
        ax.set_xlabel("dt (ms)")
        ax.minorticks_off()
        ax.set_xticks(dts)
        ax.set_xticklabels([f"{d:g}" for d in dts], fontsize=7)
    axes[0].legend(fontsize=7)
    fig.suptitle("Lee et al. WTA layer: Brian2 on a grid vs event-driven exact solution", fontsize=10)
    fig.tight_layout()
    for path in save_figure(fig, Path(args.out) / "lee_convergence"):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
