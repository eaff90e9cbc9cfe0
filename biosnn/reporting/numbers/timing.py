"""The generated passages of the temporal-coding study (``validation/timing_study.py``; Yu, Sun & Goodman 2025):
accuracy per task and set-up over training seeds, whether delays help, how far the phase loop moves a seed,
and the perturbation curves, read from ``timing/training.json`` and ``timing/sweep.sqlite``."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from ...core.errors import BiosnnInputError
from ...studies.perturbation.aggregate import aggregate
from ...studies.perturbation.table import read_points
from ...studies.statistics import check_seeds, compare, paired_values
from . import register
from .studies import CELL, _pct, _runs, _source

#: what the paper reports for each task (Yu, Sun & Goodman 2025, SLAYER SRM networks, 300-1000 epochs)
PAPER = {
    "isi": "~95%",
    "ccisi": "",
    "coincidence": "~100%",
    "coincidence-mixing1.0": "33% (chance)",
}
SETUPS = {False: "SGD", True: "SGD-delay"}
#: the finer Brian2 grid the table quotes: dt / 4 (the study's --fine-factor default)
FINE_FACTOR = 4
#: two time steps are the same when they agree to this relative tolerance (they are stored as computed)
DT_RTOL = 1e-9


def _task_label(config: dict) -> str:
    mixing = config.get("task_params", {}).get("mixing")
    return f"{config['task']} l = {mixing:g}" if mixing else config["task"]


def _family(config: dict) -> str:
    extra = "".join(f"-{k}{v}" for k, v in sorted(config.get("task_params", {}).items()))
    return f"{config['task']}{extra}-{'sgd_delay' if config['delays'] else 'sgd'}"


def _twin_key(config: dict) -> str:
    """A run's configuration but its time loop: the fused twin of a phase-loop run."""
    return json.dumps({k: v for k, v in config.items() if k != "fused"}, sort_keys=True)


def _study(roots: Sequence[Path]) -> tuple[str, list[dict], list[dict]]:
    """Every timing study under the first root that has one (``timing*/training.json`` beside its
    ``sweep.sqlite``; e.g. ``timing`` and ``timing_isi``): their sources, runs and sweep rows together."""
    from ..figures import locate

    paths = locate(roots, "timing*/training.json")
    if not paths:
        raise BiosnnInputError(f"timing study: no timing*/training.json under {', '.join(map(str, roots))}")
    sources, runs, points = [], [], []
    for path in paths:
        content, found = _runs(path, "timing study")
        sources.append(_source(path, content, f"{path.parent.name}/{path.name}"))
        runs += found
        points += read_points(path.parent / "sweep.sqlite")
    names = [run["name"] for run in runs]
    if len(set(names)) != len(names):
        raise BiosnnInputError(f"timing study: a network trained in two of {', '.join(map(str, paths))}")
    return "\n".join(sources), runs, points


def _groups(runs: list[dict], fused: bool = True) -> dict[tuple[str, bool], list[dict]]:
    groups: dict[tuple[str, bool], list[dict]] = defaultdict(list)
    for run in runs:
        config = run["config"]
        if config.get("fused", True) == fused:
            groups[(_task_label(config), bool(config["delays"]))].append(run)
    return dict(sorted(groups.items()))


@register("timing-tasks", "timing*/training.json", "timing*/sweep.sqlite")
def timing_tasks(roots: Sequence[Path]) -> str:
    sources, runs, points = _study(roots)
    train_dt = {run["name"]: run["config"]["dt"] for run in runs}
    clean = [p for p in points if p["kind"] == "random_replacement" and p["strength"] == 0.0]
    fine = {
        p["network"]: p["accuracy"]
        for p in clean
        if p["backend"] == "brian2"
        and p["network"] in train_dt
        and abs(p["dt"] * FINE_FACTOR - train_dt[p["network"]]) <= DT_RTOL * train_dt[p["network"]]
        and p["seed"] == 0
    }
    lines = [
        "| task | set-up | seeds | epochs | torch = Brian2 at the training dt | Brian2 at dt/4 | rate-only logistic | "
        "rate-only MLP | training per run | paper |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups = _groups(runs)
    for (task, delays), group in groups.items():
        for field in ("epochs", "dt", "n_train", "n_test", "hidden"):
            values = {json.dumps(run["config"][field]) for run in group}
            if len(values) > 1:
                raise BiosnnInputError(f"timing study: the {task} {SETUPS[delays]} runs differ in {field} ({values})")
        epochs = sorted({run["config"]["epochs"] for run in group})
        fine_acc = [fine[run["name"]] for run in group if run["name"] in fine]
        family = _family(group[0]["config"])
        paper = "" if delays else PAPER.get(family.rsplit("-", 1)[0], "")
        lines.append(
            f"| {task} | {SETUPS[delays]} | {len(group)} | {', '.join(map(str, epochs))} | "
            f"{_pct([r['test_accuracy_torch'] for r in group], family)} | "
            f"{_pct(fine_acc, family) if len(fine_acc) == len(group) else 'not swept'} | "
            f"{_pct([r['rate_baseline_logistic'] for r in group], family)} | "
            f"{_pct([r['rate_baseline_mlp'] for r in group], family)} | "
            f"{min(r['train_seconds'] for r in group):.0f}-{max(r['train_seconds'] for r in group):.0f} s | {paper} |"
        )
    lines += ["", f"{CELL}; training on one torch thread of a 2-core machine.", ""]
    for task in sorted({task for task, _ in groups}):
        if (task, False) in groups and (task, True) in groups:
            a = {r["config"]["seed"]: r["test_accuracy_torch"] for r in groups[(task, False)]}
            b = {r["config"]["seed"]: r["test_accuracy_torch"] for r in groups[(task, True)]}
            check_seeds(len(a), f"{task} delays")
            lines.append(f"- **Delays, {task}**: SGD-delay minus SGD {compare(*paired_values(a, b)).verdict()}.")
    fused = {_twin_key(r["config"]): r for r in runs if r["config"].get("fused", True)}
    for run in runs:
        config = run["config"]
        if config.get("fused", True):
            continue
        twin = fused.get(_twin_key(config))
        if twin is None:
            raise BiosnnInputError(f"timing study: the phase-loop run {run['name']} has no fused twin")
        lines.append(
            f"- **Chaos, {_task_label(config)} {SETUPS[bool(config['delays'])]} seed {config['seed']}**: the same run "
            f"on the phase loop instead of the fused one (equal to rounding) ends at "
            f"{100 * run['test_accuracy_torch']:.1f}% against {100 * twin['test_accuracy_torch']:.1f}% "
            f"({100 * (run['test_accuracy_torch'] - twin['test_accuracy_torch']):+.1f} points)."
        )
    at_dt = [p for p in points if p["backend"] == "brian2" and p["dt"] == train_dt.get(p["network"])]
    identical = sum(p["agreement"] == 1.0 for p in at_dt)
    lines.append(
        f"- **Brian2 at the training dt** predicted every test sample as torch did at {identical} of {len(at_dt)} "
        f"sweep points ({len({p['network'] for p in at_dt})} networks)."
    )
    return "\n".join(lines) + "\n\n" + sources


@register("timing-perturbations", "timing*/training.json", "timing*/sweep.sqlite")
def timing_perturbations(roots: Sequence[Path]) -> str:
    sources, runs, points = _study(roots)
    # the perturbation curves of the tasks as defined (no mixing: the mixed coincidence networks give the
    # clean-accuracy curve of the table above)
    families = sorted(
        {
            _family(run["config"])
            for run in runs
            if run["config"].get("fused", True) and not run["config"].get("task_params")
        }
    )
    swept = [p for p in points if p["backend"] in ("torch", "rate_mlp") and not p["binned"]]
    table = {(a.family, a.kind, a.strength, a.backend): a for a in aggregate(swept)}
    shown = [f for f in families if any(key[0] == f for key in table)]
    tasks = sorted({f.rsplit("-", 1)[0] for f in shown})
    kinds = sorted({(k, s) for (f, k, s, _) in table if f in shown})
    lines = [
        "| perturbation | "
        + " | ".join(f"{f} (torch)" for f in shown)
        + " | "
        + " | ".join(f"{t} rate-only MLP" for t in tasks)
        + " |",
        "|---|" + "---|" * (len(shown) + len(tasks)),
    ]
    for kind, strength in kinds:
        cells = []
        for f in shown:
            point = table.get((f, kind, strength, "torch"))
            if point is not None:
                check_seeds(point.accuracy.n, f"{f} {kind}")
            cells.append(point.accuracy.text(unit="", with_n=False) if point else "")
        for t in tasks:  # the MLP of the SGD networks' training sets (the same data as SGD-delay's)
            point = table.get((f"{t}-sgd", kind, strength, "rate_mlp"))
            cells.append(point.accuracy.text(unit="", with_n=False) if point else "")
        strength_text = f"{strength * 1e3:g} ms" if "jitter" in kind else f"{strength:g}"
        lines.append(f"| {kind} {strength_text} | " + " | ".join(cells) + " |")
    seeds = sorted({s for (f, *_), a in table.items() if f in shown for s in a.seeds})
    perturbation_seeds = sorted({p["seed"] for p in swept})
    return (
        "\n".join(lines) + f"\n\n{CELL}, over training seeds {', '.join(map(str, seeds))}; perturbation seeds "
        f"{', '.join(map(str, perturbation_seeds))} (a network's rows are averaged over them first). Names: "
        "`<task>-sgd` (SGD) and `<task>-sgd_delay` (SGD-delay). Rate-only MLP: an MLP on per-channel spike "
        "counts fitted by the sweep (generator seed 0) on each network's training set; the table above quotes "
        "the MLP fitted with the network's own seed, so the two differ by the fit's chance.\n\n" + sources
    )
