"""A markdown summary of a timing study: per network, accuracy against perturbation strength for every
backend and dt, the agreement of Brian2 with torch, and the wall time per point.

Reads ``sweep.sqlite`` (and ``training.json`` when present) of ``validation/timing_study.py`` or
``validation/shd_study.py``; writes markdown (atomically) or prints it.

Usage: python validation/timing_report.py --study results/timing [--out results/timing/report.md]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from biosnn.core.errors import BiosnnInputError
from biosnn.core.io import atomic_write_text, load_json
from biosnn.studies.perturbation.aggregate import aggregate, family_and_seed
from biosnn.studies.perturbation.table import read_points


def report(study: Path) -> str:
    columns = ("network", "kind", "strength", "backend", "dt", "accuracy", "agreement", "seconds", "seed")
    rows = [tuple(row[c] for c in columns) for row in read_points(study / "sweep.sqlite", columns)]
    training = {run["name"]: run for run in load_json(study / "training.json", "training file").get("runs", [])}
    by_network = defaultdict(lambda: defaultdict(dict))
    runs_of = defaultdict(set)
    for network, kind, strength, backend, dt, accuracy, agreement, seconds, seed in rows:
        by_network[network][(kind, strength, seed)][(backend, dt)] = (accuracy, agreement, seconds)
        runs_of[network].add((backend, dt))
    lines = []
    for network, points in by_network.items():
        runs = sorted(
            runs_of[network], key=lambda r: (("torch", "brian2", "rate_logistic", "rate_mlp").index(r[0]), -r[1])
        )
        lines.append(f"## {network}\n")
        t = training.get(network)
        if t:
            lines.append(
                f"Trained {t['train_seconds']} s; train accuracy {100 * t['train_accuracy']:.1f}%, test "
                f"{100 * t['test_accuracy_torch']:.1f}%; rate-only baselines: logistic "
                f"{100 * t['rate_baseline_logistic']:.1f}%, MLP {100 * t['rate_baseline_mlp']:.1f}%.\n"
            )
        header = " | ".join(f"{b} {dt * 1e3:g} ms" for b, dt in runs)
        lines.append(f"| kind | strength | seed | {header} |")
        lines.append("|---|---|---|" + "---|" * len(runs))
        agreement = defaultdict(list)
        seconds = []
        for (kind, strength, seed), cells in points.items():
            values = []
            for run in runs:
                if run in cells:
                    accuracy, agree, sec = cells[run]
                    values.append(f"{100 * accuracy:.1f}%")
                    if agree is not None:
                        agreement[run].append(agree)
                else:
                    values.append("-")
            seconds.append(sum(c[2] for c in cells.values()))
            lines.append(f"| {kind} | {strength:g} | {seed} | " + " | ".join(values) + " |")
        parts = [
            f"{b} {dt * 1e3:g} ms: mean {100 * sum(v) / len(v):.1f}%, min {100 * min(v):.1f}%"
            for (b, dt), v in sorted(agreement.items())
        ]
        lines.append(
            f"\nAgreement with torch's predictions per sample: {'; '.join(parts)}. "
            f"Evaluation time per point (all backends): {sum(seconds) / len(seconds):.1f} s.\n"
        )
    return "\n".join(lines + over_seeds(study))


def over_seeds(study: Path) -> list[str]:
    """The seed-aggregated view: per network family (``<family>-seed<N>``), perturbation, backend and dt, the
    accuracy over training seeds (mean +- sd [bootstrap 95% interval]); families with one seed are left out."""
    rows = read_points(study / "sweep.sqlite")
    seeds = defaultdict(set)
    for row in rows:
        family, seed = family_and_seed(row["network"])
        seeds[family].add(seed)
    kept = [row for row in rows if len(seeds[family_and_seed(row["network"])[0]]) > 1]
    if not kept:
        return []
    lines = [
        "## Over training seeds\n",
        "| family | kind | strength | backend | dt | seeds | accuracy |",
        "|---|---|---|---|---|---|---|",
    ]
    for point in aggregate(kept):
        lines.append(
            f"| {point.family} | {point.kind} | {point.strength:g} | {point.backend} | {point.dt * 1e3:g} ms | "
            f"{len(point.seeds)} | {point.accuracy.text()} |"
        )
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", required=True, help="the study's output directory")
    parser.add_argument("--out", default=None, help="markdown file (default: print)")
    args = parser.parse_args(argv)
    try:
        text = report(Path(args.study))
    except BiosnnInputError as err:
        print(f"timing_report: error: {err}", file=sys.stderr)
        return 2
    if args.out:
        atomic_write_text(args.out, text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
