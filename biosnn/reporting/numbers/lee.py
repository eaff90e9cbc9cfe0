"""The generated passage of Lee et al. (2016) on real digits (``validation/lee_mnist.py``): accuracy against the
hidden layer's lateral strength mu, the torch-Brian2 agreement on the same test spikes, and the baselines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from ...core.errors import BiosnnInputError
from ...studies.statistics import check_seeds, compare, holm, paired_values
from . import register, results_file
from .studies import CELL, _pct, _runs, _source

#: what the paper reports on the full permutation-invariant MNIST (60,000 training images, 784-800-10 with WTA)
PAPER_PI_MNIST = "98.64%"
#: the lateral strength the paper found best (Lee et al. 2016): every other mu is compared with it, a choice made
#: before the results (comparing with the best observed mu would find differences that are not there)
PAPER_BEST_MU = -0.4
RULE_NAMES = {"lee": "Lee et al.'s rule", "surrogate": "surrogate BPTT"}
BASELINE_NAMES = {"logistic_regression": "logistic regression", "mlp": "MLP (one hidden layer of the same size)"}


@register("lee-mnist", "lee_mnist.json")
def lee_mnist(roots: Sequence[Path]) -> str:
    path = results_file(roots, "lee_mnist.json", "lee-mnist")
    content, runs = _runs(path, "Lee MNIST")
    spiking: dict[tuple[str, float], list[dict]] = defaultdict(list)
    baselines: dict[str, dict[int, float]] = defaultdict(dict)
    for run in runs:
        if run.get("kind") == "baseline":
            for record in run["models"]:
                baselines[record["model"]][run["seed"]] = record["accuracy"]
        else:
            spiking[(run["config"]["rule"], run["config"]["mu_hidden"])].append(run)
    if not spiking:
        raise BiosnnInputError(f"{path}: no trained spiking network")
    lines = [
        "| network | mu (hidden) | seeds | accuracy (spiking: torch) | Brian2 accuracy | identical predictions | training per run |",
        "|---|---|---|---|---|---|---|",
    ]
    for (rule, mu), group in sorted(spiking.items(), key=lambda item: (item[0][0], -item[0][1])):
        identical = sum(r["prediction_agreement"] == 1.0 for r in group)
        seconds = [r["train_seconds"] for r in group]
        lines.append(
            f"| {RULE_NAMES.get(rule, rule)} | {mu:g} | {len(group)} | "
            f"{_pct([r['accuracy_torch'] for r in group], f'{rule} mu {mu:g}')} | "
            f"{_pct([r['accuracy_brian2'] for r in group], f'{rule} mu {mu:g}')} | "
            f"{identical} of {len(group)} runs, every one of {group[0]['n_test']} digits | "
            f"{min(seconds):.0f}-{max(seconds):.0f} s |"
        )
    for model, by_seed in sorted(baselines.items()):
        lines.append(
            f"| {BASELINE_NAMES.get(model, model)} (pixels, no spikes) | | {len(by_seed)} | "
            f"{_pct(list(by_seed.values()), model)} | | | |"
        )
    notes = []
    for rule in sorted({rule for rule, _ in spiking}):
        accuracy = {
            mu: {r["config"]["seed"]: r["accuracy_torch"] for r in runs_}
            for (r_, mu), runs_ in spiking.items()
            if r_ == rule
        }
        for mu, runs_ in ((mu, spiking[(rule, mu)]) for mu in accuracy):
            if len(accuracy[mu]) != len(runs_):
                raise BiosnnInputError(f"{path}: a seed stored twice for {rule} mu = {mu:g}")
            check_seeds(len(runs_), f"lee-mnist {rule} mu = {mu:g}")
        if PAPER_BEST_MU not in accuracy or len(accuracy) < 2:
            continue
        others = sorted((mu for mu in accuracy if mu != PAPER_BEST_MU), reverse=True)
        verdicts = holm([compare(*paired_values(accuracy[mu], accuracy[PAPER_BEST_MU])) for mu in others])
        best = all(v.differs and v.mean > 0 for v in verdicts)
        notes.append(
            f"- **{RULE_NAMES.get(rule, rule)}**, the paper's optimum mu = {PAPER_BEST_MU:g} against each other mu "
            f"(chosen before the results; {len(others)} comparisons, Holm-adjusted): "
            + "; ".join(f"minus mu = {mu:g}: {v.verdict()}" for mu, v in zip(others, verdicts))
            + f". mu = {PAPER_BEST_MU:g} is {'shown to be' if best else 'not shown to be'} the best of these."
        )
    epochs = sorted({r["config"]["epochs"] for group in spiking.values() for r in group})
    return (
        "\n".join(lines)
        + f"\n\n{CELL}; {', '.join(map(str, epochs))} training epochs on the 4,000 training images; "
        + f"the paper reports {PAPER_PI_MNIST} on the full PI-MNIST (60,000 training images, many more epochs).\n\n"
        + "\n".join(notes)
        + "\n\n"
        + _source(path, content)
    )
