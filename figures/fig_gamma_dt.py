"""Is a trained gamma-cascade network insensitive to dt? Accuracy and spikes against dt.

Reads one or more JSON files written by ``validation/gamma_dt_table.py``
(networks trained at dt = 1 ms, evaluated at dt, dt/2, dt/4); one line per
run, coloured by objective and architecture; torch accuracy drawn as lines,
Brian2 as open markers (they coincide when the predictions agree). Writes
PDF + PNG. No simulation happens here.

Usage: python figures/fig_gamma_dt.py --results results/gamma_dt_table.json [more.json] --out figures/out
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from biosnn.plotting.save import save_figure  # noqa: E402

COLOURS = {"bptt": "tab:blue", "online": "tab:orange", "bptt, hidden layer": "tab:green"}


def _label(config: dict) -> str:
    return config["objective"] + (", hidden layer" if config.get("n_hidden", 0) else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", nargs="+", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    runs = [run for path in args.results for run in json.loads(Path(path).read_text())["runs"]]
    if not runs:
        raise SystemExit("no runs in the results files")
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.2))
    labelled = set()
    for run in runs:
        label = _label(run["config"])
        colour = COLOURS.get(label, "k")
        dts = np.array([row["dt"] for row in run["dt_table"]]) * 1e3
        legend = label if label not in labelled else None
        labelled.add(label)
        axes[0].plot(dts, [100 * row["accuracy_torch"] for row in run["dt_table"]], "-", color=colour, lw=1,
                     alpha=0.8, label=legend)
        axes[0].plot(dts, [100 * row["accuracy_brian2"] for row in run["dt_table"]], "o", mfc="none", color=colour,
                     ms=4)
        axes[1].plot(dts, [row["spikes_per_sample"] for row in run["dt_table"]], "o-", color=colour, ms=3, lw=1,
                     alpha=0.8)
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].set_title("lines: torch mirror; circles: Brian2", fontsize=8)
    axes[0].axhline(50, color="0.6", lw=0.8, ls=":")
    axes[1].set_ylabel("sigma-delta spikes per sample")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("evaluation dt (ms); trained at 1 ms")
        ax.minorticks_off()
        ax.set_xticks(dts)
        ax.set_xticklabels([f"{d:g}" for d in dts])
        ax.invert_xaxis()  # dt, dt/2, dt/4 from left to right
    axes[1].set_ylim(bottom=0)
    axes[0].legend(fontsize=7)
    fig.suptitle("Gamma-cascade network on the 20 +/- 2 ms interval task: dt-insensitivity", fontsize=10)
    fig.tight_layout()
    for path in save_figure(fig, Path(args.out) / "gamma_dt"):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
