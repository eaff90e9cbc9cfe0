"""The equivalence harness: every registered model, both backends, same inputs.

For each model it runs a grid of cases (synapse delta/current/held x reset
hard/subtract x refractory off/on), each a seeded random batch through the
Brian2 reference and the float64 torch mirror with the exact discretization and
schedule, and applies the contract of DESIGN.md §4:

    max |dv| <= V_TOLERANCE  and identical spikes (sample, unit, step).

Writes ``report.json``, ``report.md``, the traces of one representative case
per model (``traces/``) and one overlay figure per model (PNG + PDF).
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .compare import compare_traces
from .data.synthetic import poisson_spike_trains
from .equations import REGISTRY, get_spec
from .io import atomic_write_json, atomic_write_text
from .simulate import simulate

#: float64 contract: both backends evaluate the same closed-form propagators;
#: differences are rounding (~1e-15 per step) accumulated over <= 1e4 steps.
V_TOLERANCE = 1e-9

#: float32 is reported, not enforced: rounding of ~6e-8 per operation can move a
#: spike by one step when v lands within that distance of threshold.

#: Input weight ranges per synapse kind, chosen so neurons fire at moderate rates.
WEIGHT_RANGE = {"delta": (-0.2, 0.6), "current": (-1.0, 3.0), "held": (-0.1, 0.6), "cascade": (-0.2, 0.6)}


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
        parts = [self.synapse, self.reset]
        for name, value in self.overrides.items():
            if isinstance(value, (tuple, list, np.ndarray)):
                parts.append(f"{name}(" + ",".join(f"{v * 1e3:g}" for v in value) + ")ms")
            elif name.startswith(("t_", "T_", "tau")):
                parts.append(f"{name}{value * 1e3:g}ms")
            else:
                parts.append(f"{name}{value:g}")
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
    return (case.synapse == next(iter(spec.synapses)) and case.reset == next(iter(spec.resets))
            and case.overrides == dict(spec.validation_cases[-1]))


#: Randomised per case (unless the case fixes them): membrane and synaptic time
#: constants, and per-neuron thresholds.
RANDOM_PARAMETERS = {
    "tau_m": lambda rng, n: float(rng.uniform(5e-3, 40e-3)),
    "tau_mp": lambda rng, n: float(rng.uniform(5e-3, 40e-3)),
    "tau_s": lambda rng, n: float(rng.uniform(1e-3, 10e-3)),
    "v_th": lambda rng, n: rng.uniform(0.6, 1.4, n),
}


def case_inputs(case: Case):
    """Seeded inputs, weights and parameters of one case."""
    rng = np.random.default_rng(case.seed)
    steps = int(round(case.duration / case.dt))
    if case.synapse == "held":
        inputs = rng.uniform(0.0, 1.0, size=(steps, case.batch, case.n_inputs))
    else:
        inputs = poisson_spike_trains(rng, case.n_inputs, case.input_rate, case.duration, case.dt, case.batch)
    low, high = WEIGHT_RANGE[case.synapse]
    weights = rng.uniform(low, high, size=(case.n_inputs, case.n_neurons))
    params = dict(case.overrides)
    spec = get_spec(case.model)
    for p in spec.parameters:
        if p.name in params or p.name not in RANDOM_PARAMETERS:
            continue
        if p.name == "v_th" and not p.per_neuron:
            continue
        if p.name == "tau_s" and "tau_s" not in spec.synapse(case.synapse).parameters:
            continue
        params[p.name] = RANDOM_PARAMETERS[p.name](rng, case.n_neurons)
    return inputs, weights, params


def run_case(case: Case, target: str = "numpy"):
    inputs, weights, params = case_inputs(case)
    common = dict(dt=case.dt, duration=case.duration, params=params, synapse=case.synapse, reset=case.reset)
    t0 = time.perf_counter()
    ref = simulate(case.model, inputs, weights, backend="brian2", target=target, **common)
    t1 = time.perf_counter()
    mirror = simulate(case.model, inputs, weights, backend="torch", dtype="float64", **common)
    t2 = time.perf_counter()
    agreement = compare_traces(ref, mirror)
    single = compare_traces(ref, simulate(case.model, inputs, weights, backend="torch", dtype="float32", **common))
    result = dict(
        case=asdict(case), label=case.label, params=params, target=target,
        agreement=agreement.as_dict(), passed=agreement.passes(V_TOLERANCE),
        float32=dict(max_abs_dv=single.max_abs_dv, spikes_only_brian2=single.n_only_a,
                     spikes_only_torch=single.n_only_b),
        brian2_seconds=round(t1 - t0, 3), torch_seconds=round(t2 - t1, 3),
    )
    return result, ref, mirror


def validate(models=None, *, target: str = "numpy", out_dir, seed: int = 0, progress: bool = True) -> dict:
    """Run the suite; write the report into ``out_dir``; return the report dict."""
    from .plotting.overlay import plot_equivalence

    names = list(REGISTRY) if not models or models == ["all"] else list(models)
    for name in names:
        get_spec(name)  # unknown model -> clear error before any work
    out = Path(out_dir)
    (out / "traces").mkdir(parents=True, exist_ok=True)
    report = dict(target=target, v_tolerance=V_TOLERANCE, seed=seed, python=platform.python_version(),
                  versions=_versions(), models={})
    started = time.perf_counter()
    jobs = [(name, case) for name in names for case in default_cases(name, seed)]
    per_model: dict[str, list] = {name: [] for name in names}
    for name, case in tqdm(jobs, desc="validate", unit="case", disable=not progress):
        result, ref, mirror = run_case(case, target)
        per_model[name].append(result)
        if is_representative(case):
            ref.save(out / "traces" / f"{name}_brian2.npz")
            mirror.save(out / "traces" / f"{name}_torch.npz")
            figure = plot_equivalence(ref, mirror, out / f"overlay_{name}", title=f"{name}: {case.label}")
            report.setdefault("figures", {})[name] = [str(p.name) for p in figure]
    for name in names:
        results = per_model[name]
        report["models"][name] = dict(
            passed=all(r["passed"] for r in results),
            max_abs_dv=max(r["agreement"]["max_abs_dv"] for r in results),
            n_cases=len(results), n_spikes=sum(r["agreement"]["n_spikes_a"] for r in results),
            citation=get_spec(name).citation, cases=results,
        )
    report["passed"] = all(m["passed"] for m in report["models"].values())
    report["wall_seconds"] = round(time.perf_counter() - started, 2)
    atomic_write_json(out / "report.json", report)
    atomic_write_text(out / "report.md", render_markdown(report))
    return report


def render_markdown(report: dict) -> str:
    lines = [
        "# biosnn equivalence report",
        "",
        f"Brian2 target `{report['target']}` vs torch mirror (float64, exact discretization, exact schedule).",
        f"Contract: max |dv| <= {report['v_tolerance']:g} and identical spikes (sample, unit, step).",
        "float32 mirror: reported only (max |dv|, spikes present in one backend only).",
        "",
        "| model | result | cases | spikes | max abs dv |",
        "|---|---|---|---|---|",
    ]
    for name, m in report["models"].items():
        lines.append(f"| {name} | {'PASS' if m['passed'] else 'FAIL'} | {m['n_cases']} | {m['n_spikes']} | "
                     f"{m['max_abs_dv']:.3g} |")
    for name, m in report["models"].items():
        lines += ["", f"## {name}", "", m["citation"], "",
                  "| case | result | spikes (brian2/torch) | max abs dv | other states | float32 max abs dv | float32 spike mismatches |",
                  "|---|---|---|---|---|---|---|"]
        for r in m["cases"]:
            a = r["agreement"]
            states = ", ".join(f"{k}: {v:.3g}" for k, v in a["max_abs_dstate"].items()) or "-"
            f32 = r["float32"]
            lines.append(f"| {r['label']} | {'PASS' if r['passed'] else 'FAIL'} | {a['n_spikes_a']}/{a['n_spikes_b']} "
                         f"| {a['max_abs_dv']:.3g} | {states} | {f32['max_abs_dv']:.3g} "
                         f"| {f32['spikes_only_brian2'] + f32['spikes_only_torch']} |")
        if name in report.get("figures", {}):
            lines += ["", f"![{name}]({report['figures'][name][0]})"]
    lines += ["", f"Overall: {'PASS' if report['passed'] else 'FAIL'} in {report['wall_seconds']} s.", ""]
    return "\n".join(lines)


def _versions() -> dict:
    import brian2
    import torch

    return {"brian2": brian2.__version__, "torch": torch.__version__, "numpy": np.__version__}
