"""``biosnn validate-nir``: a framework's forward pass, biosnn's mirror and Brian2 on one NIR graph.

Four runs of the same graph on the same input raster:

1. the framework's own forward pass (``biosnn/nir/frameworks.py``);
2. biosnn's torch mirror, reading the graph as the framework does (its
   :class:`~biosnn.nir.Discretization` preset: Euler at its dt, one-step pulses);
3. Brian2, the same reading (the contract: within ``V_TOLERANCE`` of 2);
4. Brian2 with the exact propagator: what the trained network means in
   continuous time (when 2 is Euler).

Framework against mirror is compared after the per-layer lag of
:func:`~biosnn.nir.frameworks.layer_lags`: spikes by identity (sample, unit,
step) and membranes after the reset. The report lists every convention found
(``Convention``), which of them the comparison accounts for, and the figures.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import BiosnnInputError
from ..equivalence.contract import V_TOLERANCE, compare_activities, max_abs_difference
from .discretization import Discretization
from .frameworks import FRAMEWORKS, common_conventions, layer_lags
from .importer import from_nir, read

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import nir
    import torch

    from ..core.activity import LayerActivity
    from ..core.spikes import SpikeTrains
    from .frameworks import FrameworkRun
    from .importer import ImportedNetwork

#: framework against mirror when the framework computes in float64 from float64 parameters: both evaluate the
#: same Euler recurrence in different operation orders, so only rounding (1e-16 per step, damped by the leak)
#: separates them
FLOAT64_TOLERANCE = V_TOLERANCE
#: ... when the framework's importer rounds parameters or weights to float32 (relative 6e-8 each), which the
#: membrane accumulates over about 1/(1 - beta) steps
FLOAT32_TOLERANCE = 1e-5


@dataclass
class LayerAgreement:
    """Framework against a biosnn run, one layer: spikes by identity after the lag, membranes after the reset."""

    node: str
    lag: int
    n_framework: int
    n_biosnn: int
    only_framework: int
    only_biosnn: int
    first_mismatch: tuple | None
    max_abs_dv: float

    @property
    def spikes_identical(self) -> bool:
        return self.only_framework == 0 and self.only_biosnn == 0

    def as_dict(self) -> dict:
        return dict(
            node=self.node,
            lag=self.lag,
            n_framework=self.n_framework,
            n_biosnn=self.n_biosnn,
            only_framework=self.only_framework,
            only_biosnn=self.only_biosnn,
            first_mismatch=self.first_mismatch,
            max_abs_dv=self.max_abs_dv,
            spikes_identical=self.spikes_identical,
        )


def _keys(raster: np.ndarray) -> set:
    steps, samples, units = np.nonzero(raster)
    return set(zip(samples.tolist(), units.tolist(), steps.tolist()))


def compare_framework(
    run: FrameworkRun, activities: Sequence[LayerActivity], imported: ImportedNetwork, lags: Sequence[int], n_steps: int
) -> list[LayerAgreement]:
    """The framework's layers against biosnn's, framework step ``t`` <-> biosnn label ``t + lag``."""
    out = []
    for k, (activity, lag) in enumerate(zip(activities, lags)):
        spikes = np.zeros((n_steps, activity.batch, activity.n))
        keep = (activity.spike_steps >= lag) & (activity.spike_steps < lag + n_steps)
        spikes[activity.spike_steps[keep] - lag, activity.spike_samples[keep], activity.spike_units[keep]] = 1
        fw, ours = _keys(run.spikes[k] > 0), _keys(spikes)
        v_ours = activity.v[lag + 1 : lag + 1 + n_steps]
        dv = max_abs_difference(run.v[k] * run.v_scale[k], v_ours)
        only = sorted(
            [(s, u, t, "framework") for s, u, t in fw - ours] + [(s, u, t, "biosnn") for s, u, t in ours - fw],
            key=lambda x: (x[2], x[0], x[1]),
        )
        out.append(
            LayerAgreement(
                imported.layer_nodes[k],
                lag,
                len(fw),
                len(ours),
                len(fw - ours),
                len(ours - fw),
                only[0] if only else None,
                dv,
            )
        )
    return out


#: what a report says when no spiking layer spiked on either side: identical silence proves nothing
NO_SPIKES = "nothing to compare: no spikes in any spiking layer, in the framework or in biosnn"


def nothing_to_compare(agreements: Sequence[LayerAgreement], imported: ImportedNetwork) -> bool:
    """Whether the graph has spiking layers and none of them spiked on either side (a misread graph, e.g. time
    constants 1/dt times too long, is silent in both): such a comparison is not a pass. A graph of non-spiking
    layers only (LI) is compared by its membranes."""
    spiking = [a for a, layer in zip(agreements, imported.net.layers) if layer.reset is not None]
    return bool(spiking) and all(a.n_framework == 0 and a.n_biosnn == 0 for a in spiking)


def validate_nir(
    graph: nir.NIRGraph | Path | str,
    inputs: np.ndarray | torch.Tensor | SpikeTrains,
    *,
    framework: str,
    discretization: Discretization | None = None,
    dt: float | None = None,
    target: str | None = None,
) -> dict:
    """Run ``graph`` (a ``nir.NIRGraph`` or a ``.nir`` path) on ``inputs`` (a ``[T, n]`` / ``[T, B, n]`` spike
    raster or :class:`~biosnn.core.spikes.SpikeTrains`) through ``framework`` and biosnn; the report as a dict.

    ``discretization`` defaults to the framework's preset (``dt``: the step it ran at, for norse and
    spikingjelly)."""
    start = time.perf_counter()
    if framework not in FRAMEWORKS:
        raise BiosnnInputError(f"unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}")
    fw = FRAMEWORKS[framework]
    fw.check()
    if isinstance(graph, (str, os.PathLike)):
        graph = read(graph)
    disc = discretization or fw.preset(dt)
    imported = from_nir(graph, disc)
    raster = imported.raster(inputs)
    n_steps = raster.shape[0]
    lags = layer_lags(imported, current_first=fw.current_first)
    extra = lags[-1] + 1
    conventions = common_conventions(framework, imported, graph) + fw.conventions(graph, imported)

    mirror = imported.simulate(raster, backend="torch", extra_steps=extra)
    brian = imported.simulate(raster, backend="brian2", extra_steps=extra, target=target)
    contract = [compare_activities(a, b) for a, b in zip(mirror, brian)]
    exact = (
        imported.simulate(raster, backend="brian2", extra_steps=extra, method="exact", target=target)
        if disc.method != "exact"
        else None
    )

    report = dict(
        framework=framework,
        discretization=disc.as_dict(),
        notes=list(imported.notes),
        layers=list(imported.layer_nodes),
        lags=list(lags),
        n_steps=n_steps,
        batch=int(raster.shape[1]),
        conventions=[c.as_dict() for c in conventions],
    )
    report["mirror_vs_brian2"] = [dict(node=n, **a.as_dict()) for n, a in zip(imported.layer_nodes, contract)]
    report["contract_holds"] = all(a.passes(V_TOLERANCE) for a in contract)
    try:
        run = fw.run(graph, raster, disc, imported.input_shape)
    except Exception as err:  # the framework refusing the graph is a finding, not a crash
        report["framework_error"] = f"{type(err).__name__}: {err}"
        run = None
    if run is not None:
        if len(run.spikes) != len(imported.layer_nodes):
            report["framework_error"] = (
                f"the framework ran {len(run.spikes)} neuron layers; the graph has {len(imported.layer_nodes)}"
            )
        else:
            tolerance = FLOAT64_TOLERANCE if framework == "spikingjelly" else FLOAT32_TOLERANCE
            vs_mirror = compare_framework(run, mirror, imported, lags, n_steps)
            vs_brian = compare_framework(run, brian, imported, lags, n_steps)
            report.update(
                framework_tolerance=tolerance,
                printed=run.printed.strip(),
                framework_vs_mirror=[a.as_dict() for a in vs_mirror],
                framework_vs_brian2=[a.as_dict() for a in vs_brian],
            )
            report["framework_agrees"] = all(a.spikes_identical and a.max_abs_dv <= tolerance for a in vs_mirror)
            report["no_spikes"] = nothing_to_compare(vs_mirror, imported)
            if exact is not None:
                report["framework_vs_brian2_exact"] = [
                    a.as_dict() for a in compare_framework(run, exact, imported, lags, n_steps)
                ]
    if disc.tau_in_file != "tau":  # the framework's own importer on the file as written
        try:
            raw = fw.run(
                graph,
                raster,
                Discretization(disc.method, disc.dt, disc.spikes, source=disc.source),
                imported.input_shape,
            )
            v = np.concatenate([x.ravel() for x in raw.v]) if raw.v else np.zeros(0)
            report["framework_as_written"] = dict(
                spikes=int(sum(int(s.sum()) for s in raw.spikes)),
                spikes_as_read=None if run is None else int(sum(int(s.sum()) for s in run.spikes)),
                max_abs_v=float(np.max(np.abs(v))) if v.size and np.all(np.isfinite(v)) else float("inf"),
            )
        except Exception as err:
            report["framework_as_written"] = dict(error=f"{type(err).__name__}: {err}")
    report["passed"] = bool(
        report["contract_holds"] and report.get("framework_agrees", False) and not report.get("no_spikes", False)
    )
    report["wall_seconds"] = round(time.perf_counter() - start, 2)
    return report


def _fmt(x) -> str:
    return f"{x:.3g}" if isinstance(x, float) else str(x)


def markdown(report: dict) -> str:
    """The report as Markdown: the reading, the agreement tables, the conventions."""
    lines = [
        f"# validate-nir: {report['framework']}",
        "",
        f"Read as {report['discretization']['description']}; {report['n_steps']} steps x {report['batch']} samples.",
        "",
    ]
    lines += [f"- {n}" for n in report["notes"]] + [""]
    if "framework_error" in report:
        lines += [f"**The framework could not run the graph:** {report['framework_error']}", ""]
    for key, title in (
        ("framework_vs_mirror", "framework vs biosnn mirror (same discretization)"),
        ("framework_vs_brian2", "framework vs Brian2 (same discretization)"),
        ("framework_vs_brian2_exact", "framework vs Brian2, exact propagator (continuous time)"),
    ):
        if key not in report:
            continue
        lines += [
            f"## {title}",
            "",
            "| layer | lag | spikes framework | spikes biosnn | only framework | "
            "only biosnn | max abs dv | first mismatch |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for a in report[key]:
            lines.append(
                f"| {a['node']} | {a['lag']} | {a['n_framework']} | {a['n_biosnn']} | {a['only_framework']} | "
                f"{a['only_biosnn']} | {_fmt(a['max_abs_dv'])} | {a['first_mismatch']} |"
            )
        lines.append("")
    lines += [
        "## biosnn mirror vs Brian2 (the contract)",
        "",
        "| layer | spikes | max abs dv | identical |",
        "|---|---|---|---|",
    ]
    for a in report["mirror_vs_brian2"]:
        lines.append(f"| {a['node']} | {a['n_spikes_a']} | {_fmt(a['max_abs_dv'])} | {a['spikes_identical']} |")
    if "framework_as_written" in report:
        lines += ["", f"The framework's importer on the file as written: {report['framework_as_written']}"]
    lines += [
        "",
        "## Conventions found",
        "",
        "| topic | framework | NIR | biosnn | consequence | accounted |",
        "|---|---|---|---|---|---|",
    ]
    for c in report["conventions"]:
        lines.append(
            f"| {c['topic']} | {c['framework']} | {c['nir']} | {c['biosnn']} | {c['consequence']} | "
            f"{'yes' if c['accounted'] else 'no'} |"
        )
    if report.get("no_spikes"):
        lines += ["", f"**Not passed, {NO_SPIKES}.**"]
    lines += ["", f"Passed: {report['passed']} ({report['wall_seconds']} s)", ""]
    return "\n".join(lines)


def summary_lines(report: dict) -> list[str]:
    """One line per comparison, for the command line."""
    out = [f"{report['framework']}: read as {report['discretization']['description']}"]
    if "framework_error" in report:
        out.append(f"  framework could not run the graph: {report['framework_error']}")
    for key, label in (
        ("framework_vs_mirror", "framework vs mirror"),
        ("framework_vs_brian2", "framework vs Brian2"),
        ("framework_vs_brian2_exact", "framework vs Brian2 exact"),
    ):
        for a in report.get(key, []):
            out.append(
                f"  {label:26s} {a['node']:>10s}  lag {a['lag']}  spikes {a['n_framework']}/{a['n_biosnn']}  "
                f"only fw {a['only_framework']} only biosnn {a['only_biosnn']}  max|dv| {a['max_abs_dv']:.3g}"
            )
    for a in report["mirror_vs_brian2"]:
        out.append(
            f"  {'mirror vs Brian2':26s} {a['node']:>10s}  spikes {a['n_spikes_a']}  "
            f"max|dv| {a['max_abs_dv']:.3g}  identical {a['spikes_identical']}"
        )
    for c in report["conventions"]:
        if not c["accounted"]:
            out.append(f"  convention not accounted: {c['topic']}: {c['consequence']}")
    if report.get("no_spikes"):
        out.append(f"  {NO_SPIKES}")
    return out
