"""Brian2 evaluation of an SHD-sized test set: per-sample runs, batches, time-multiplexed compiled builds.

Workload (generated, SHD-shaped): a 700-128-128-20 LIF network (delta synapses, tau 20 ms, random
weights), samples of 100 steps at dt = 1 ms with 700 Poisson channels at 50 Hz (about 3,500 spikes a
sample); the readout is the output spike counts. Every configuration runs in a fresh process
(its peak resident memory includes the compiled program's, which runs as a child):

* ``mirror`` / ``mirror_float32``: the torch mirror (fused loop, float64 / float32, one thread), all
  samples in batches of 256 (their rasters built before the clock starts);
* ``numpy_per_sample`` / ``cython_per_sample``: one Brian2 run per sample (a few samples);
* ``numpy_batched`` / ``cython_batched``: one run for a batch side by side (one copy per sample);
* ``standalone_batched``: cpp_standalone, a batch side by side (build included);
* ``compiled``: cpp_standalone, the whole test set time-multiplexed through ``--copies`` copies
  (``biosnn.brian.compiled.CompiledNetwork``): the build with its first run, then a second test set
  (every spike jittered, as a perturbation sweep's next point) run by the same program;
  its output spike counts are checked equal to the mirror's on both test sets.

Reported per configuration: seconds, seconds per sample, peak RSS; and the ratios of Brian2 per sample
to the mirror per sample. Results: ``benchmarks/results/brian_eval.json`` and ``.md``.

Usage: python benchmarks/bench_brian_eval.py [--samples 2264] [--copies 16] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from biosnn.core.spikes import SpikeTrains

SIZES = (700, 128, 128, 20)
DT, STEPS, RATE = 1e-3, 100, 50.0
CONFIGS = (
    "mirror",
    "mirror_float32",
    "numpy_per_sample",
    "cython_per_sample",
    "numpy_batched",
    "cython_batched",
    "standalone_batched",
    "compiled",
)
#: samples a configuration evaluates (None: all): the slow ones are measured on a few
SAMPLES = {
    "numpy_per_sample": 4,
    "cython_per_sample": 4,
    "numpy_batched": 64,
    "cython_batched": 64,
    "standalone_batched": 128,
}


def network():
    from biosnn.models.network import FeedForwardNet, LayerSpec

    rng = np.random.default_rng(0)
    weights = tuple(rng.normal(0, 2.0 / math.sqrt(a), (a, b)) for a, b in zip(SIZES[:-1], SIZES[1:]))
    return FeedForwardNet(SIZES[0], tuple(LayerSpec("lif", n, dict(tau_m=20e-3)) for n in SIZES[1:]), weights)


def test_set(n: int, jitter: bool = False):
    from biosnn.data.synthetic import poisson_spike_trains
    from biosnn.studies.perturbation import perturb

    spikes = poisson_spike_trains(np.random.default_rng(1), SIZES[0], RATE, STEPS * DT, DT, n, off_grid=False)
    if jitter:
        spikes = perturb(spikes, "spike_jitter", 2e-3, rng=np.random.default_rng(2))
        spikes, _ = spikes.one_per_step(DT)
    return spikes


def counts(activity) -> np.ndarray:
    return activity[-1].counts()


def run_config(config: str, n: int, copies: int) -> dict:
    import torch

    from biosnn import simulate_network

    torch.set_num_threads(1)
    net = network()
    n = min(n, SAMPLES.get(config, n))
    spikes = test_set(n)
    out = {"samples": n}
    start = time.perf_counter()
    if config in ("mirror", "mirror_float32"):
        from biosnn.torch.network import FeedForward

        dtype = torch.float32 if config == "mirror_float32" else torch.float64
        mirror = FeedForward.from_description(net, dt=DT).to(dtype)

        def rasters(test):  # per batch of 256, as bytes (built before the clock starts)
            return [
                torch.as_tensor(_samples(test, b, min(b + 256, n)).to_raster(DT, STEPS, dtype=np.uint8))
                for b in range(0, n, 256)
            ]

        def evaluate(batches):
            with torch.no_grad():
                return np.concatenate([mirror(raster.to(dtype))[-1].sum(0).numpy() for raster in batches])

        with torch.no_grad():  # warm-up
            mirror(torch.zeros(STEPS, 8, SIZES[0], dtype=dtype))
        batches = rasters(spikes)
        start = time.perf_counter()
        out["counts"] = evaluate(batches).tolist()
        out["seconds"] = time.perf_counter() - start
        out["counts_jittered"] = evaluate(rasters(test_set(n, jitter=True))).tolist()
    elif config.endswith("per_sample"):
        target = config.split("_")[0]
        for b in range(n):
            simulate_network(
                net, _samples(spikes, b, b + 1), backend="brian2", dt=DT, duration=STEPS * DT, target=target
            )
        out["seconds"] = time.perf_counter() - start
    elif config.endswith("batched"):
        target = {"numpy_batched": "numpy", "cython_batched": "cython", "standalone_batched": "cpp_standalone"}[config]
        simulate_network(net, spikes, backend="brian2", dt=DT, duration=STEPS * DT, target=target)
        out["seconds"] = time.perf_counter() - start
    elif config == "compiled":
        from biosnn.brian.compiled import CompiledNetwork

        second = test_set(n, jitter=True)
        with CompiledNetwork(
            net, dt=DT, duration=STEPS * DT, batch=n, copies=copies, capacity=max(len(spikes), len(second))
        ) as compiled:
            first = compiled.run(spikes)
            out["build_and_first_run_seconds"] = time.perf_counter() - start
            start = time.perf_counter()
            again = compiled.run(second)
            out["seconds"] = time.perf_counter() - start
        out["copies"] = copies
        out["counts"] = counts(first).tolist()
        out["counts_jittered"] = counts(again).tolist()
    out["per_sample_ms"] = 1000 * out["seconds"] / n
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out["peak_rss_mb"] = max(self_rss, child_rss) / 1024
    return out


def _samples(spikes, start: int, stop: int):
    """Samples ``start .. stop - 1`` of a batch, as a batch of their own."""
    samples = spikes.sample_indices()
    keep = (samples >= start) & (samples < stop)
    return SpikeTrains(
        spikes.times[keep], spikes.units[keep], spikes.n_units, spikes.duration, samples[keep] - start, stop - start
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2264, help="test-set size (SHD's test set: 2264)")
    parser.add_argument("--copies", type=int, nargs="+", default=[16], help="copies of the compiled network")
    parser.add_argument("--configs", nargs="+", choices=CONFIGS, default=list(CONFIGS))
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--config", choices=CONFIGS, help=argparse.SUPPRESS)  # one measurement (child)
    args = parser.parse_args(argv)
    if args.config:
        print(json.dumps(run_config(args.config, args.samples, args.copies[0])))
        return 0
    if args.samples < 1 or min(args.copies) < 1:
        parser.error("--samples and --copies must be positive")
    from biosnn.core.io import atomic_write_json, atomic_write_text, check_output_dir

    out = Path(args.out)
    check_output_dir(out)
    runs = []
    for config in args.configs:
        for copies in args.copies if config == "compiled" else args.copies[:1]:
            child = subprocess.run(
                [sys.executable, __file__, "--config", config, "--samples", str(args.samples), "--copies", str(copies)],
                capture_output=True,
                text=True,
            )
            if child.returncode != 0:
                result = {"error": (child.stderr.strip().splitlines() or ["failed"])[-1]}
            else:
                result = json.loads(child.stdout.strip().splitlines()[-1])
            runs.append({"config": config, **({"copies": copies} if config == "compiled" else {}), **result})
            print(f"{config}: {result.get('per_sample_ms', 'failed')}", file=sys.stderr, flush=True)
    mirror = next((r for r in runs if r["config"] == "mirror" and "error" not in r), None)
    lines = [
        "| configuration | samples | seconds | ms per sample | x mirror per sample | peak RSS (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        name = r["config"] + (f" ({r['copies']} copies)" if r["config"] == "compiled" else "")
        if "error" in r:
            lines.append(f"| {name} | failed: {r['error']} | | | | |")
            continue
        ratio = r["per_sample_ms"] / mirror["per_sample_ms"] if mirror else float("nan")
        lines.append(
            f"| {name} | {r['samples']} | {r['seconds']:.2f} | {r['per_sample_ms']:.2f} | {ratio:.1f} | "
            f"{r['peak_rss_mb']:.0f} |"
        )
    notes, unequal = [], []
    for r in runs:
        if r["config"] == "compiled" and "error" not in r:
            notes.append(
                f"compiled ({r['copies']} copies): build and first run {r['build_and_first_run_seconds']:.1f} s; "
                f"the next test set (a sweep point) {r['seconds']:.1f} s without rebuilding."
            )
            if mirror:
                for key, label in (("counts", "test set"), ("counts_jittered", "jittered test set")):
                    a, b = np.asarray(r[key]), np.asarray(mirror[key])
                    if not np.array_equal(a, b):
                        unequal.append(f"compiled ({r['copies']} copies), {label}")
                    notes.append(
                        f"  output spike counts equal to the mirror's on {100 * np.mean(a == b):.2f}% of "
                        f"entries ({label}, {int(b.sum())} spikes)"
                    )
    for r in runs:
        r.pop("counts", None), r.pop("counts_jittered", None)
    text = "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"
    atomic_write_json(
        out / "brian_eval.json",
        {"machine": {"platform": platform.platform(), "device": "cpu"}, "samples": args.samples, "runs": runs},
    )
    atomic_write_text(out / "brian_eval.md", text)
    print(text)
    if unequal:
        print(f"error: Brian2's output spike counts differ from the mirror's: {', '.join(unequal)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
