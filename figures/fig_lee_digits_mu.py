"""Digit accuracy against the hidden layer's lateral strength mu (the shape of Lee et al.'s Fig. 1).

Reads the JSON written by ``validation/lee_digits.py``: mean and range over
seeds, per rule, torch mirror (line) and Brian2 twin (markers). Writes PDF + PNG.
No simulation happens here.

Usage: python figures/fig_lee_digits_mu.py --results results/lee_digits.json --out figures/out
"""

import argparse
import json
from collections import defaultdict
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
    runs = json.loads(Path(args.results).read_text())["runs"]
    table = defaultdict(lambda: defaultdict(list))
    for r in runs:
        key = (r["config"]["rule"], r["config"]["mu_hidden"])
        table[key]["torch"].append(r["accuracy_torch"])
        table[key]["brian2"].append(r["accuracy_brian2"])
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    labels = {"lee": "Lee et al. rule", "surrogate": "surrogate gradient"}
    for color, rule in zip(("C0", "C1"), sorted({k[0] for k in table})):
        mus = sorted({k[1] for k in table if k[0] == rule}, reverse=True)
        for backend, style in (("torch", "-"), ("brian2", "o")):
            acc = [np.array(table[(rule, mu)][backend]) * 100 for mu in mus]
            mean = [a.mean() for a in acc]
            if backend == "torch":
                ax.plot(mus, mean, style, color=color, label=f"{labels.get(rule, rule)} (torch)")
                ax.fill_between(mus, [a.min() for a in acc], [a.max() for a in acc], color=color, alpha=0.15)
            else:
                ax.plot(mus, mean, style, color=color, mfc="none", label=f"{labels.get(rule, rule)} (Brian2)")
    ax.set_xlabel("hidden-layer lateral strength mu")
    ax.set_ylabel("test accuracy (%)")
    ax.invert_xaxis()
    ax.legend(fontsize=7)
    ax.set_title("8x8 digits, 64-100-10 WTA network", fontsize=9)
    fig.tight_layout()
    for path in save_figure(fig, Path(args.out) / "lee_digits_mu"):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
