"""The equivalence harness: every registered model and a set of networks, both backends, same inputs.

For each model it runs a grid of cases (every synapse kind x reset x the spec's
validation cases), each a seeded random batch through the Brian2 reference and
the float64 torch mirror with the exact discretization and schedule, and
applies the contract (``docs/contract.md``, :data:`biosnn.equivalence.contract.V_TOLERANCE`):

    every recorded variable within V_TOLERANCE  and identical spikes (sample, unit, step).

For each network of :data:`NETWORKS` (multi-layer transfer with per-neuron and
per-synapse axonal delays, gamma-cascade stacks, Brian2's default schedule) it
applies the same contract to every layer.

Writes ``report.json``, ``report.md``, the traces of one representative case
per model (``traces/``) and one overlay figure per model (PNG + PDF).
"""

from __future__ import annotations

import gc
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from ..core.errors import BiosnnInputError
from ..core.interrupts import raise_if_requested
from ..core.io import atomic_write_json, atomic_write_text, check_owned_dir, replace_directory
from ..core.units import check_count
from ..data.synthetic import poisson_spike_trains
from ..models import REGISTRY, get_spec
from ..models.network import FeedForwardNet, LayerSpec
from ..simulation import simulate, simulate_network
from .contract import V_TOLERANCE, combine, compare_activities, compare_traces

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..core.spikes import SpikeTrains
    from ..core.trace import Trace

#: the command a report directory belongs to (``biosnn.core.io.OWNER_MARKER``): only its own earlier report is replaced
VALIDATE_OWNER = "biosnn validate"

#: float32 is reported, not enforced: rounding of ~6e-8 per operation can move a
#: spike by one step when v lands within that distance of threshold.


@dataclass(frozen=True)
class Case:
    model: str
    synapse: str
    reset: str
    overrides: dict
    seed: int
    dt: float = 1e-4
    duration: float = 0.1
    n_inputs: int = 8
    n_neurons: int = 6
    batch: int = 3
    input_rate: float = 150.0

    @property
    def label(self) -> str:
        spec = get_spec(self.model)
        parts = [self.synapse, self.reset]
        for name, value in self.overrides.items():
            parts.append(f"{name}{spec.parameter(name).format(value).replace(' ', '')}")
        return "-".join(parts)


def default_cases(model: str, seed: int = 0) -> list[Case]:
    spec = get_spec(model)
    cases = []
    k = sorted(REGISTRY).index(model) * 100  # distinct random inputs per model
    for synapse in spec.synapses:
        for reset in spec.resets:
            for overrides in spec.validation_cases:
                cases.append(Case(model, synapse, reset, dict(overrides), seed=seed * 1000 + k))
                k += 1
    return cases


def is_representative(case: Case) -> bool:
    """The case drawn in the overlay figure: first synapse kind and reset, last overrides."""
    spec = get_spec(case.model)
    return (
        case.synapse == spec.default_synapse
        and case.reset == spec.default_reset
        and case.overrides == dict(spec.validation_cases[-1])
    )


def case_inputs(case: Case) -> tuple[SpikeTrains | np.ndarray, np.ndarray, dict[str, object]]:
    """Seeded inputs, weights and parameters of one case: every parameter the case does not fix
    and the spec gives a ``validation_range`` is drawn from it (per neuron where it is per neuron)."""
    rng = np.random.default_rng(case.seed)
    spec = get_spec(case.model)
    synapse = spec.synapse(case.synapse)
    steps = int(round(case.duration / case.dt))
    if synapse.held:
        inputs = rng.uniform(0.0, 1.0, size=(steps, case.batch, case.n_inputs))
    else:
        inputs = poisson_spike_trains(rng, case.n_inputs, case.input_rate, case.duration, case.dt, case.batch)
    weights = rng.uniform(*synapse.validation_weights, size=(case.n_inputs, case.n_neurons))
    params = dict(case.overrides)
    for p in spec.parameters_used(case.synapse):
        if p.name in params or p.validation_range is None:
            continue
        params[p.name] = (
            rng.uniform(*p.validation_range, case.n_neurons)
            if p.per_neuron
            else float(rng.uniform(*p.validation_range))
        )
    return inputs, weights, params


def run_case(case: Case, target: str = "numpy", *, float32: bool = True) -> tuple[dict, Trace, Trace]:
    """Run one case through both backends (and the float32 mirror, reported only, unless ``float32=False``)."""
    inputs, weights, params = case_inputs(case)
    common = dict(dt=case.dt, duration=case.duration, params=params, synapse=case.synapse, reset=case.reset)
    t0 = time.perf_counter()
    ref = simulate(case.model, inputs, weights, backend="brian2", target=target, **common)
    t1 = time.perf_counter()
    mirror = simulate(case.model, inputs, weights, backend="torch", dtype="float64", **common)
    t2 = time.perf_counter()
    agreement = compare_traces(ref, mirror)
    result = dict(
        case=asdict(case),
        label=case.label,
        params=params,
        target=target,
        agreement=agreement.as_dict(),
        passed=agreement.passes(V_TOLERANCE),
        brian2_seconds=round(t1 - t0, 3),
        torch_seconds=round(t2 - t1, 3),
    )
    if float32:
        single = compare_traces(ref, simulate(case.model, inputs, weights, backend="torch", dtype="float32", **common))
        result["float32"] = dict(
            max_abs_dv=single.max_abs_dv, spikes_only_brian2=single.n_only_a, spikes_only_torch=single.n_only_b
        )
    return result, ref, mirror


# -- networks ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NetworkCase:
    """A network validated layer by layer: its description is drawn from ``build(rng, dt)``."""

    name: str
    description: str
    build: Callable[[np.random.Generator, float], FeedForwardNet]
    schedule: str = "exact"
    dt: float = 1e-4
    duration: float = 0.1
    batch: int = 2
    input_rate: float = 200.0
    n_inputs: int = 8
    seed_offset: int = field(default=0)


def _weights(rng, sizes, low, high):
    return tuple(rng.uniform(low, high, (a, b)) for a, b in zip(sizes[:-1], sizes[1:]))


def _neuron_delays(rng, sizes, dt, max_steps=40):
    return tuple(rng.integers(0, max_steps, a) * dt for a in sizes[:-1])


def _synapse_delays(rng, sizes, dt, max_steps=40):
    return tuple(rng.integers(0, max_steps, (a, b)) * dt for a, b in zip(sizes[:-1], sizes[1:]))


def _neuron_delay_network(rng, dt):
    sizes = [8, 10, 6, 3]
    layers = (
        LayerSpec("lif", 10, {"tau_m": 10e-3, "t_ref": 1e-3}),
        LayerSpec("adaptive_lif", 6, {"tau_m": 15e-3, "tau_a": 50e-3}, reset="subtract"),
        LayerSpec("li", 3, {"tau_m": 20e-3}),
    )
    return FeedForwardNet(8, layers, _weights(rng, sizes, -0.2, 0.7), _neuron_delays(rng, sizes, dt))


def _synapse_delay_network(rng, dt):
    sizes = [8, 8, 6]
    layers = (
        LayerSpec("plif", 8, {"tau_m": 8e-3}, synapse="current", reset="subtract"),
        LayerSpec("wta", 6, {"mu": -0.5, "circuit_size": 3.0, "v_th": rng.uniform(0.6, 1.2, 6)}),
    )
    weights = (rng.uniform(-1.0, 3.0, (8, 8)), rng.uniform(-0.2, 0.8, (8, 6)))
    return FeedForwardNet(8, layers, weights, _synapse_delays(rng, sizes, dt))


def _gamma_network(rng, dt):
    gamma = dict(bucket_tau=(3e-3, 3e-3, 6e-3), theta0=0.05)
    layers = (
        LayerSpec("lif", 8, {"tau_m": 10e-3}),
        LayerSpec("gamma_cascade", 4, dict(gamma, bucket_weight=rng.uniform(0, 1, (4, 3)))),
        LayerSpec("gamma_cascade", 2, dict(gamma, bucket_weight=rng.uniform(0, 1, (2, 3)))),
    )
    return FeedForwardNet(8, layers, _weights(rng, [8, 8, 4, 2], -0.1, 0.6))


def _default_schedule_network(rng, dt):
    sizes = [8, 10, 4]
    layers = (LayerSpec("lif", 10, {"tau_m": 10e-3}), LayerSpec("lif", 4, {"tau_m": 10e-3}, reset="subtract"))
    return FeedForwardNet(8, layers, _weights(rng, sizes, -0.1, 0.6), _neuron_delays(rng, sizes, dt, 10))


#: The networks ``biosnn validate`` checks layer by layer, by name.
NETWORKS = {
    case.name: case
    for case in (
        NetworkCase(
            "network_neuron_delays",
            "lif -> adaptive_lif -> li, per-neuron axonal delays on every hop",
            _neuron_delay_network,
            seed_offset=1,
        ),
        NetworkCase(
            "network_synapse_delays",
            "plif (current) -> wta circuits, per-synapse axonal delays",
            _synapse_delay_network,
            seed_offset=2,
        ),
        NetworkCase(
            "network_gamma",
            "lif -> gamma_cascade -> gamma_cascade (receivers read the senders' cascades)",
            _gamma_network,
            seed_offset=3,
        ),
        NetworkCase(
            "network_default_schedule",
            "lif -> lif with delays under Brian2's default schedule",
            _default_schedule_network,
            schedule="brian2_default",
            seed_offset=4,
        ),
    )
}


def run_network_case(case: NetworkCase, seed: int = 0, target: str = "numpy") -> dict:
    rng = np.random.default_rng(10_000 + 100 * seed + case.seed_offset)
    net = case.build(rng, case.dt)
    spikes = poisson_spike_trains(rng, net.n_inputs, case.input_rate, case.duration, case.dt, case.batch)
    common = dict(dt=case.dt, duration=case.duration, schedule=case.schedule)
    t0 = time.perf_counter()
    ref = simulate_network(net, spikes, backend="brian2", target=target, record=True, **common)
    t1 = time.perf_counter()
    mirror = simulate_network(net, spikes, backend="torch", **common)
    t2 = time.perf_counter()
    layers = [compare_activities(a, b) for a, b in zip(ref, mirror)]
    agreement = combine(layers)
    return dict(
        name=case.name,
        description=case.description,
        schedule=case.schedule,
        target=target,
        layers=[
            dict(model=layer.model, n=layer.n, agreement=a.as_dict(), passed=a.passes(V_TOLERANCE))
            for layer, a in zip(net.layers, layers)
        ],
        agreement=agreement.as_dict(),
        passed=all(a.passes(V_TOLERANCE) for a in layers),
        brian2_seconds=round(t1 - t0, 3),
        torch_seconds=round(t2 - t1, 3),
    )


# -- the suite -----------------------------------------------------------------------------------
def select(names: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """``(models, networks)`` named by ``names`` (``None`` or ``["all"]``: everything)."""
    if not names or list(names) == ["all"]:
        return list(REGISTRY), list(NETWORKS)
    models, networks = [], []
    for name in dict.fromkeys(names):  # a name given twice is validated once
        if name in NETWORKS:
            networks.append(name)
        elif name in REGISTRY:
            models.append(name)
        else:
            raise BiosnnInputError(
                f"unknown model or network {name!r}; models: {', '.join(sorted(REGISTRY))}; "
                f"networks: {', '.join(NETWORKS)}"
            )
    return models, networks


def validate(
    models: Sequence[str] | None = None,
    *,
    target: str = "numpy",
    out_dir: Path | str,
    seed: int = 0,
    progress: bool = True,
    draw: Callable | None = None,
) -> dict:
    """Run the suite; write the report into ``out_dir``; return the report dict.

    Every argument is checked before any work. The report directory is built aside and
    swapped in when complete, so it always holds the files of one whole run; a directory
    that ``biosnn validate`` did not write (its ``.biosnn-output`` marker) is refused, never replaced.
    ``draw(reference, mirror, stem, *, title, spiking) -> [paths]`` draws each model's representative
    case beside its traces (``biosnn validate`` passes
    :func:`biosnn.reporting.overlay.plot_equivalence`; the harness itself draws nothing).
    """
    from ..brian.targets import check_target

    names, networks = select(models)  # unknown names -> clear error before any work
    check_target(target)
    check_count(seed, "seed", minimum=0)
    out = check_owned_dir(out_dir, VALIDATE_OWNER, "report directory")
    holder = {}
    gc.collect()
    gc.freeze()  # Brian2 collects garbage before every run: keep what is loaded out of it (~0.2 s a case)
    try:
        command = validate_command(models, target=target, seed=seed, out_dir=out_dir)
        replace_directory(
            out,
            lambda tmp: holder.update(
                report=_run_suite(
                    names, networks, target=target, out=tmp, seed=seed, progress=progress, command=command, draw=draw
                )
            ),
            VALIDATE_OWNER,
        )
    finally:
        gc.unfreeze()
    return holder["report"]


def validate_command(models: Sequence[str] | None, *, target: str, seed: int, out_dir: Path | str) -> str:
    """The ``biosnn validate`` command line that makes this report (recorded in ``report.json``)."""
    import shlex

    names = list(models) if models and list(models) != ["all"] else ["all"]
    argv = ["biosnn", "validate", "--models", *names, "--target", target, "--seed", str(seed), "--out", str(out_dir)]
    return " ".join(shlex.quote(a) for a in argv)


def _run_suite(names, networks, *, target, out: Path, seed, progress, command: str = "", draw=None) -> dict:
    (out / "traces").mkdir(parents=True, exist_ok=True)
    report = dict(
        command=command,
        target=target,
        v_tolerance=V_TOLERANCE,
        seed=seed,
        python=platform.python_version(),
        versions=_versions(),
        models={},
        networks={},
    )
    started = time.perf_counter()
    jobs = [(name, case) for name in names for case in default_cases(name, seed)]
    jobs += [(name, NETWORKS[name]) for name in networks]
    per_model: dict[str, list] = {name: [] for name in names}
    for name, case in tqdm(jobs, desc="validate", unit="case", disable=not progress):
        raise_if_requested()  # a Ctrl-C swallowed during the previous case stops the suite here
        if name in NETWORKS:
            report["networks"][name] = run_network_case(case, seed, target)
            continue
        result, ref, mirror = run_case(case, target)
        per_model[name].append(result)
        if is_representative(case):
            ref.save(out / "traces" / f"{name}_brian2.npz")
            mirror.save(out / "traces" / f"{name}_torch.npz")
            if draw is not None:
                figure = draw(
                    ref,
                    mirror,
                    out / f"overlay_{name}",
                    title=f"{name}: {case.label}",
                    spiking=get_spec(name).threshold is not None,
                )
                report.setdefault("figures", {})[name] = [str(p.name) for p in figure]
    for name in names:
        results = per_model[name]
        report["models"][name] = dict(
            passed=all(r["passed"] for r in results),
            max_abs_dv=max(r["agreement"]["max_abs_dv"] for r in results),
            n_cases=len(results),
            n_spikes=sum(r["agreement"]["n_spikes_a"] for r in results),
            citation=get_spec(name).citation,
            cases=results,
        )
    entries = list(report["models"].values()) + list(report["networks"].values())
    report["passed"] = all(m["passed"] for m in entries)
    report["wall_seconds"] = round(time.perf_counter() - started, 2)
    atomic_write_json(out / "report.json", report)
    atomic_write_text(out / "report.md", render_markdown(report))
    return report


def render_markdown(report: dict) -> str:
    lines = [
        "# biosnn equivalence report",
        "",
        f"Brian2 target `{report['target']}` vs torch mirror (float64, exact discretization).",
        f"Contract: every recorded variable within {report['v_tolerance']:g} and identical spikes "
        "(sample, unit, step).",
        "float32 mirror: reported only (max |dv|, spikes present in one backend only).",
        "",
        "| model / network | result | cases | spikes | max abs dv |",
        "|---|---|---|---|---|",
    ]
    for name, m in report["models"].items():
        lines.append(
            f"| {name} | {'PASS' if m['passed'] else 'FAIL'} | {m['n_cases']} | {m['n_spikes']} | "
            f"{m['max_abs_dv']:.3g} |"
        )
    for name, m in report["networks"].items():
        a = m["agreement"]
        lines.append(
            f"| {name} | {'PASS' if m['passed'] else 'FAIL'} | {len(m['layers'])} layers | "
            f"{a['n_spikes_a']} | {a['max_abs_dv']:.3g} |"
        )
    for name, m in report["models"].items():
        lines += [
            "",
            f"## {name}",
            "",
            m["citation"],
            "",
            "| case | result | spikes (brian2/torch) | max abs dv | other states | float32 max abs dv | "
            "float32 spike mismatches |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in m["cases"]:
            a = r["agreement"]
            states = ", ".join(f"{k}: {v:.3g}" for k, v in a["max_abs_dstate"].items()) or "-"
            f32 = r["float32"]
            lines.append(
                f"| {r['label']} | {'PASS' if r['passed'] else 'FAIL'} | {a['n_spikes_a']}/{a['n_spikes_b']} "
                f"| {a['max_abs_dv']:.3g} | {states} | {f32['max_abs_dv']:.3g} "
                f"| {f32['spikes_only_brian2'] + f32['spikes_only_torch']} |"
            )
        if name in report.get("figures", {}):
            lines += ["", f"![{name}]({report['figures'][name][0]})"]
    for name, m in report["networks"].items():
        lines += [
            "",
            f"## {name}",
            "",
            f"{m['description']} (schedule `{m['schedule']}`)",
            "",
            "| layer | model | result | spikes (brian2/torch) | max abs dv | other states |",
            "|---|---|---|---|---|---|",
        ]
        for k, layer in enumerate(m["layers"]):
            a = layer["agreement"]
            states = ", ".join(f"{key}: {v:.3g}" for key, v in a["max_abs_dstate"].items()) or "-"
            lines.append(
                f"| {k} | {layer['model']} ({layer['n']}) | {'PASS' if layer['passed'] else 'FAIL'} | "
                f"{a['n_spikes_a']}/{a['n_spikes_b']} | {a['max_abs_dv']:.3g} | {states} |"
            )
    lines += ["", f"Overall: {'PASS' if report['passed'] else 'FAIL'} in {report['wall_seconds']} s.", ""]
    return "\n".join(lines)


def _versions() -> dict:
    import brian2
    import torch

    return {"brian2": brian2.__version__, "torch": torch.__version__, "numpy": np.__version__}
