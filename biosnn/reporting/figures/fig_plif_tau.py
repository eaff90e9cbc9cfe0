"""Learned PLIF time constants and test accuracy against epoch from several initial taus (the claim of Fang et
al. 2021, Fig. 7: a learned tau_m makes the network insensitive to its initial value).

Reads ``plif_tau.json``, the PLIF initial-tau study (``validation/plif_tau.py``): for every initial tau_m and
seed, the timing task's network trained with tau_m learned (PLIF) and with tau_m frozen at its initial value
(LIF); each run's summary (:func:`biosnn.studies.timing_tasks.train`) holds ``tau_m_history`` (the
tau_m = dt / sigmoid(a) of every PLIF layer before training and after every epoch, in s) and
``test_accuracy_history`` (the test accuracy at the same points). Runs are grouped by their config: the
initial tau (``tau_hidden``, one colour each), whether tau was learned (``learn_tau``) and the seed (``seed``);
run names are not read.

* Left: the learned tau_m (ms, log scale) against epoch, runs with tau learned only (line style per layer when
  there are several PLIF layers); a dotted grey line marks dt, the least tau_m = dt / sigmoid(a) can reach.
* Right: the test accuracy (%) against epoch, tau learned as solid lines, tau fixed as dashed lines in the
  same colour.

Both are drawn over the seeds of a set-up by :func:`biosnn.reporting.bands.seed_band` (seeds in numeric order,
as the study's numbers summarise them): each seed a faint line, the mean over seeds the set-up's line, and the
bootstrap 95% interval of that mean a shaded band (no band for a set-up with one seed). Epoch 0 is before
training. One legend below both panels. A file resumed with other settings (two runs of one initial tau, tau
learned or fixed, and seed) is refused. Writes ``plif_tau.pdf`` and ``.png``. No simulation happens here.

Usage: python -m biosnn.reporting.figures.fig_plif_tau --results results --out figures/out
       (``results/plif_tau.json`` from ``python validation/plif_tau.py --out results/plif_tau.json``)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from biosnn.core.errors import BiosnnInputError
from biosnn.core.io import load_json
from biosnn.reporting.bands import legend_items, per_seed, seed_band
from biosnn.reporting.figures import locate, script_main
from biosnn.reporting.save import save_figure
from biosnn.reporting.style import colour, new_figure, style

if TYPE_CHECKING:
    from collections.abc import Sequence

#: line style of the accuracy of runs with tau learned (PLIF) and with tau fixed (LIF)
LEARNED_STYLE, FIXED_STYLE = "-", "--"
#: line style per PLIF layer in the tau_m panel (cycled)
LAYER_STYLES = ("-", "--", ":")


def setups(runs: list[dict]) -> dict[tuple[float, bool], dict[int, dict]]:
    """``{(initial tau_m in s, tau learned): {seed: run}}`` from the runs' configs, sorted by initial tau_m,
    tau learned before tau fixed. Two runs of one set-up and seed (a file resumed with other settings) are
    refused rather than averaged."""
    grouped: dict[tuple[float, bool], dict[int, dict]] = {}
    for run in runs:
        config = run["config"]
        key = (float(config["tau_hidden"]), bool(config.get("learn_tau", True)))
        seed = int(config["seed"])
        members = grouped.setdefault(key, {})
        if seed in members:
            raise BiosnnInputError(
                f"two runs of initial tau_m {key[0] * 1e3:g} ms, tau {'learned' if key[1] else 'fixed'}, seed {seed}: "
                f"{members[seed].get('name')!r} and {run.get('name')!r}"
            )
        members[seed] = run
    return dict(sorted(grouped.items(), key=lambda item: (item[0][0], not item[0][1])))


def _label(tau: float) -> str:
    return f"initial tau_m {tau * 1e3:g} ms"


def _plain_log_ticks(ax) -> None:
    """Label a log y axis in plain numbers (1, 2, 5, 10, ... ms) rather than powers of ten."""
    from matplotlib.ticker import FixedLocator, NullFormatter, StrMethodFormatter

    low, high = ax.get_ylim()
    ticks = [m * 10.0**e for e in range(-3, 4) for m in (1, 2, 5) if low <= m * 10.0**e <= high]
    if len(ticks) >= 2:
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())


def render(roots: Sequence[Path | str], out: Path) -> list[Path]:
    (path,) = locate(roots, "plif_tau.json")
    runs = [run for run in load_json(path, "PLIF initial-tau results").get("runs", []) if run.get("tau_m_history")]
    if not runs:
        raise BiosnnInputError(
            f"{path} holds no run with a tau_m_history (write it with validation/plif_tau.py of this version)"
        )
    grouped = setups(runs)
    colours = {tau: colour(i) for i, tau in enumerate(sorted({tau for tau, _ in grouped}))}
    dts = {run["config"].get("dt") for run in runs}
    with style() as plt:
        fig, axes = new_figure(plt, width="double", height=3.3, ncols=2)
        bands = []
        for (tau, learned), members in grouped.items():
            # per_seed orders the rows by seed number, the order the study's numbers (numbers/plif.py) summarise in
            if learned:
                layers = max(len(point) for run in members.values() for point in run["tau_m_history"])
                for layer in range(layers):
                    epochs, values = per_seed(
                        (seed, epoch, point[layer])
                        for seed, run in members.items()
                        for epoch, point in enumerate(run["tau_m_history"])
                        if layer < len(point)
                    )
                    label = _label(tau) + (f", layer {layer + 1}" if layers > 1 else "")
                    bands.append(
                        seed_band(
                            axes[0],
                            epochs,
                            values,
                            colours[tau],
                            label,
                            linestyle=LAYER_STYLES[layer % len(LAYER_STYLES)],
                            scale=1e3,
                        )
                    )
            epochs, values = per_seed(
                (seed, epoch, accuracy)
                for seed, run in members.items()
                for epoch, accuracy in enumerate(run["test_accuracy_history"])
            )
            seed_band(
                axes[1],
                epochs,
                values,
                colours[tau],
                f"{_label(tau)}, tau {'learned' if learned else 'fixed'}",
                linestyle=LEARNED_STYLE if learned else FIXED_STYLE,
                scale=100,
            )
        if len(dts) == 1 and None not in dts:
            axes[0].axhline(dts.pop() * 1e3, color="0.5", lw=0.6, linestyle=":", label="dt (the least tau_m)")
        axes[0].set_yscale("log")
        _plain_log_ticks(axes[0])
        axes[0].set_xlabel("epoch (0: before training)")
        axes[0].set_ylabel("learned tau_m (ms)")
        axes[0].set_title("tau_m learned (PLIF)")
        axes[1].set_xlabel("epoch (0: before training)")
        axes[1].set_ylabel("test accuracy (%)")
        axes[1].set_title("test accuracy, tau_m learned and fixed")
        from matplotlib.lines import Line2D

        # one legend below both panels: the colours (initial tau_m), dt, the interval, and the accuracy's line styles
        handles, labels = legend_items(axes[0], bands)
        handles += [Line2D([], [], color="0.3", linestyle=ls) for ls in (LEARNED_STYLE, FIXED_STYLE)]
        labels += ["accuracy, tau_m learned (PLIF)", "accuracy, tau_m fixed (LIF)"]
        fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(labels)), fontsize=6)
        return save_figure(fig, Path(out) / "plif_tau")


if __name__ == "__main__":
    raise SystemExit(script_main("fig_plif_tau", description=__doc__))
