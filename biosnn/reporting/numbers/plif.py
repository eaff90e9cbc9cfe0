"""The generated passage of the PLIF initial-tau study (``validation/plif_tau.py``; Fang et al. 2021): does a
learned membrane time constant make the network insensitive to its initial value?"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...core.errors import BiosnnInputError
from ...studies.statistics import check_seeds, compare, paired_values, summarize
from . import register, results_file
from .studies import CELL, _runs, _source

#: "reached its final accuracy": the mean over seeds within this many points of its last epoch's mean
SETTLED_POINTS = 1.0


def _epochs_to_settle(histories: list[list[float]]) -> int:
    """The first epoch from which the mean test accuracy over seeds stays within :data:`SETTLED_POINTS` of
    its final value."""
    mean = 100 * np.mean(np.asarray(histories, dtype=float), axis=0)
    outside = np.flatnonzero(np.abs(mean - mean[-1]) > SETTLED_POINTS)
    return int(outside[-1] + 1) if outside.size else 0


@register("plif-tau", "plif_tau.json")
def plif_tau(roots: Sequence[Path]) -> str:
    path = results_file(roots, "plif_tau.json", "plif-tau")
    content, runs = _runs(path, "PLIF initial tau")
    groups: dict[tuple[float, bool], dict[int, dict]] = defaultdict(dict)
    for run in runs:
        config = run["config"]
        group = groups[(config["tau_hidden"], bool(config.get("learn_tau", True)))]
        if config["seed"] in group:
            raise BiosnnInputError(f"{path}: seed {config['seed']} stored twice for one initial tau")
        group[config["seed"]] = run
    taus = sorted({tau for tau, _ in groups})
    if not all((tau, learn) in groups for tau in taus for learn in (True, False)):
        raise BiosnnInputError(f"{path}: every initial tau needs a learned and a fixed run")
    for field in ("task", "epochs", "dt", "n_train", "n_test", "hidden"):
        values = {json.dumps(run["config"][field]) for run in runs}
        if len(values) > 1:
            raise BiosnnInputError(
                f"{path}: the runs differ in {field} ({', '.join(sorted(values))}); one study per file"
            )
    if len(taus) < 2:
        raise BiosnnInputError(f"{path}: one initial tau only; the claim compares several")
    epochs = sorted({run["config"]["epochs"] for run in runs})
    task = sorted({run["config"]["task"] for run in runs})
    lines = [
        "| initial tau_m | seeds | learned tau_m at the end (ms) | PLIF (tau learned) | LIF (tau fixed) | "
        "PLIF minus LIF (paired) | epochs until PLIF settles |",
        "|---|---|---|---|---|---|---|",
    ]
    accuracy: dict[tuple[float, bool], dict[int, float]] = {}
    for tau in taus:
        for learn in (True, False):
            accuracy[(tau, learn)] = {s: r["test_accuracy_torch"] for s, r in groups[(tau, learn)].items()}
        learned = groups[(tau, True)]
        check_seeds(len(learned), f"plif-tau {tau * 1e3:g} ms")
        final_tau = summarize([learned[s]["tau_m_history"][-1][0] for s in sorted(learned)], what="learned tau")
        final_text = final_tau.text(1e3, 2, "", with_n=False)
        plif = summarize([accuracy[(tau, True)][s] for s in sorted(learned)], what="PLIF")
        lif = summarize([accuracy[(tau, False)][s] for s in sorted(accuracy[(tau, False)])], what="LIF")
        gain = compare(*paired_values(accuracy[(tau, False)], accuracy[(tau, True)]))
        settle = _epochs_to_settle([learned[s]["test_accuracy_history"] for s in sorted(learned)])
        lines.append(
            f"| {tau * 1e3:g} ms | {len(learned)} | {final_text} | {plif.text(unit='', with_n=False)} | "
            f"{lif.text(unit='', with_n=False)} | {gain.verdict()} | {settle} |"
        )
    spread = {
        learn: max(np.mean(list(accuracy[(t, learn)].values())) for t in taus)
        - min(np.mean(list(accuracy[(t, learn)].values())) for t in taus)
        for learn in (True, False)
    }
    ends = {
        learn: compare(*paired_values(accuracy[(taus[0], learn)], accuracy[(taus[-1], learn)]))
        for learn in (True, False)
    }
    final_means = [np.mean([r["tau_m_history"][-1][0] for r in groups[(t, True)].values()]) for t in taus]
    ordered = all(a < b for a, b in zip(final_means, final_means[1:]))
    return (
        "\n".join(lines)
        + f"\n\nTask: {', '.join(task)}; {', '.join(map(str, epochs))} epochs; {CELL}. "
        + f"Settled: the mean over seeds stays within {SETTLED_POINTS:g} point of its last epoch.\n\n"
        + f"- Spread of the mean accuracy across initial taus: PLIF {100 * spread[True]:.1f} points, "
        + f"LIF {100 * spread[False]:.1f} points.\n"
        + f"- Initial tau {taus[-1] * 1e3:g} ms minus {taus[0] * 1e3:g} ms: PLIF {ends[True].verdict()}; "
        + f"LIF {ends[False].verdict()}.\n"
        + f"- The learned tau_m ends between {min(final_means) * 1e3:.1f} and {max(final_means) * 1e3:.1f} ms "
        + f"(means over seeds), {max(final_means) / min(final_means):.0f}x apart, from initial values "
        + f"{taus[-1] / taus[0]:g}x apart; its end {'keeps' if ordered else 'does not keep'} the order of the "
        + "initial values, so after these epochs it "
        + ("still remembers where it started." if ordered else "has forgotten the order it started in.")
        + '\n- "No difference shown" is not "the same accuracy": with 5 seeds only large differences are resolved.\n\n'
        + _source(path, content)
    )
