"""The cost of conventions users hit, each on one small example of the discretization study.

(a) NEST stamps a spike with the end of its step, Brian2 and biosnn with the start: both labels
against NEST's precise crossing times, in steps; (b) an axonal delay between grid points under three
rounding rules: the error of the delivered delay (us); (c) the input's slot within a step: the
event-driven spikes, biosnn's exact schedule (input before the threshold test) and Brian2's default
slot (after it), as rasters. Reads ``discretization.json`` (``python validation/discretization_study.py
--out biosnn/reporting/figures/results/discretization.json``); writes ``conventions.pdf`` and ``.png``. No simulation
happens here.

Usage: python -m biosnn.reporting.figures.fig_conventions --results biosnn/reporting/figures/results --out figures/out
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from biosnn.core.errors import BiosnnInputError
from biosnn.core.io import load_json
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import PALETTE, colour, new_figure, style

if TYPE_CHECKING:
    from collections.abc import Sequence


def _examples(data: dict) -> dict:
    examples = {c["name"]: c for c in data.get("conventions", [])}
    wanted = ("nest_end_of_step_label", "delay_rounding", "input_slot_and_reset_order")
    missing = [name for name in wanted if name not in examples]
    if missing:
        raise BiosnnInputError(f"discretization results lack the convention example(s) {', '.join(missing)}")
    return examples


def _labels(ax, example: dict) -> None:
    if "skipped" in example:
        ax.text(0.5, 0.5, f"skipped: {example['skipped']}", ha="center", va="center", transform=ax.transAxes)
        ax.axis("off")
        return
    start, end = example["start_label_error_in_dt"], example["end_label_error_in_dt"]
    k = np.arange(len(start))
    ax.axhline(0, color=PALETTE[0], lw=0.6)
    ax.plot(k, start, "o", color=colour(4), label="Brian2/biosnn: start of step")
    ax.plot(k, end, "s", color=colour(5), label="NEST: end of step")
    ax.set_xticks(k)
    ax.set_xlabel("spike")
    ax.set_ylabel("label - precise crossing (dt)")
    ax.set_ylim(-1.1, 1.1)
    ax.set_title(f"(a) labels, dt = {example['dt_s'] * 1e3:g} ms")
    ax.legend(fontsize=6, loc="center right")


def _delays(ax, example: dict) -> None:
    rules = list(example["cases"][0]["steps"])
    width = 0.8 / len(rules)
    for i, rule in enumerate(rules):
        errors = [case["error_s"][rule] * 1e6 for case in example["cases"]]
        positions = np.arange(len(example["cases"])) + (i - (len(rules) - 1) / 2) * width
        ax.bar(positions, errors, width, color=colour(i), label=rule.replace("_", " "))
    ax.axhline(0, color=PALETTE[0], lw=0.6)
    ax.set_xticks(np.arange(len(example["cases"])))
    # d/dt as float64 holds it: 4.9 ms at 0.1 ms is 48.99999999999999 steps
    ax.set_xticklabels(
        [f"d = {c['delay_s'] * 1e3:g} ms\n= {c['delay_in_dt']!r}\nsteps" for c in example["cases"]], fontsize=5.5
    )
    ax.set_ylabel("rounded - true delay (us)")
    ax.set_title(f"(b) delay rounding, dt = {example['dt_s'] * 1e3:g} ms")
    ax.legend(fontsize=6)


def _slot(ax, example: dict) -> None:
    trains = (
        ("event-driven", example["event_driven_spikes_s"], 0.0),
        ("exact schedule (label - dt)", example["exact_schedule_labels_s"], example["dt_s"]),
        ("Brian2 default slot (label - dt)", example["brian2_default_labels_s"], example["dt_s"]),
    )
    for i, (_name, times, shift) in enumerate(trains):
        t = (np.asarray(times, float) - shift) * 1e3
        ax.plot(t, np.full(t.size, i), "|", ms=12, mew=1.5, color=colour(i))
    ax.set_yticks(range(len(trains)))
    ax.set_yticklabels([name for name, _, _ in trains], fontsize=6)
    ax.set_ylim(-0.7, len(trains) - 0.3)
    ax.set_xlabel("spike time (ms)")
    ax.set_title(f"(c) input slot: {example['spikes_lost_by_default_slot']} spike(s) lost")


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    (path,) = locate(roots, "discretization.json")
    examples = _examples(load_json(path, "discretization study results"))
    with style() as plt:
        fig, axes = new_figure(plt, width="double", height=2.4, ncols=3, gridspec_kw=dict(width_ratios=(1, 1.3, 1)))
        _labels(axes[0], examples["nest_end_of_step_label"])
        _delays(axes[1], examples["delay_rounding"])
        _slot(axes[2], examples["input_slot_and_reset_order"])
        return save_figure(fig, Path(out) / "conventions")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_conventions", description=__doc__))
