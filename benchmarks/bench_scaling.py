"""Scaling curves: the cost of one layer of N LIF neurons against N and against the number of steps T,
for the torch mirror (fused loop, float32, one thread) and Brian2 (cpp_standalone, compiled once).

Workload: 10 Poisson inputs at 200 Hz -> N LIF neurons (delta synapses, tau 20 ms, weights uniform
in [0, 0.3]: every neuron fires), one sample, dt = 1 ms. Sizes: N in ``--sizes`` at T = ``--steps``;
T in ``--step-counts`` at N = ``--n-for-steps``. Per point, in a fresh process:

* ``torch_inference`` and ``torch_train`` (forward + backward of the spike count), median of 3;
  ``spikes_equal``: the float64 mirror's output spike counts equal Brian2's;
* ``brian2_run``: the second run of a CompiledNetwork (the compiled program on a new input: program
  start, loading its arrays, the simulation, writing the monitors) and ``brian2_loop``, the time
  Brian2's own timer gives the simulation loop alone; ``brian2_build``: generation, compilation and
  the first run; peak memory of the process and its children.

Results: ``benchmarks/results/scaling.json`` and ``.md``; ``biosnn/reporting/figures/fig_scaling.py`` plots them.

Usage: python benchmarks/bench_scaling.py [--sizes 1000 10000 100000 1000000] [--steps 100]
       [--step-counts 100 1000 10000] [--n-for-steps 10000] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

N_IN, RATE, DT = 10, 200.0, 1e-3


def measure(n: int, steps: int) -> dict:
    import torch

    from biosnn.brian.compiled import CompiledNetwork
    from biosnn.data.synthetic import poisson_spike_trains
    from biosnn.models.network import FeedForwardNet, LayerSpec
    from biosnn.torch.network import FeedForward

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    net = FeedForwardNet(N_IN, (LayerSpec("lif", n, dict(tau_m=20e-3)),), (rng.uniform(0, 0.3, (N_IN, n)),))
    spikes = [
        poisson_spike_trains(np.random.default_rng(seed), N_IN, RATE, steps * DT, DT, 1, off_grid=False)
        for seed in (1, 2)
    ]
    mirror = FeedForward.from_description(net, dt=DT).float()
    x = torch.as_tensor(spikes[0].to_raster(DT, steps), dtype=torch.float32)

    def timed(fn) -> float:
        fn()
        times = []
        for _ in range(3):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def inference():
        with torch.no_grad():
            mirror(x)

    def train():
        mirror.zero_grad()
        mirror(x)[-1].sum().backward()

    out = {"n": n, "steps": steps, "torch_inference": timed(inference), "torch_train": timed(train)}
    torch_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    import brian2

    with CompiledNetwork(
        net, dt=DT, duration=steps * DT, batch=1, capacity=2 * max(len(s) for s in spikes) + 10
    ) as compiled:
        start = time.perf_counter()
        first = compiled.run(spikes[0])
        out["brian2_build"] = time.perf_counter() - start
        start = time.perf_counter()
        compiled.run(spikes[1])
        out["brian2_run"] = time.perf_counter() - start
        out["brian2_loop"] = float(brian2.get_device()._last_run_time)
    with torch.no_grad():  # the check in float64, the precision of the reference
        exact = FeedForward.from_description(net, dt=DT).double()
        counts = exact(x.double())[-1].sum(0).numpy()
    out["spikes_equal"] = bool(np.array_equal(first[-1].counts(), counts))
    out["output_spikes"] = int(counts.sum())
    out["peak_rss_mb"] = (
        max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        / 1024
    )
    out["torch_peak_rss_mb"] = torch_rss
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000, 1000000])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--step-counts", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--n-for-steps", type=int, default=10000)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--point", type=int, nargs=2, help=argparse.SUPPRESS)  # (n, steps) in a child
    args = parser.parse_args(argv)
    if args.point:
        print(json.dumps(measure(*args.point)))
        return 0
    if min(args.sizes + args.step_counts + [args.steps, args.n_for_steps]) < 1:
        parser.error("sizes and step counts must be positive")
    from biosnn.core.io import atomic_write_json, atomic_write_text, check_output_dir
    from biosnn.core.results import command_line

    out = Path(args.out)
    check_output_dir(out)
    points = [(n, args.steps) for n in args.sizes] + [(args.n_for_steps, t) for t in args.step_counts]
    results = []
    for n, steps in dict.fromkeys(points):
        child = subprocess.run(
            [sys.executable, __file__, "--point", str(n), str(steps)], capture_output=True, text=True
        )
        if child.returncode != 0:
            results.append({"n": n, "steps": steps, "error": (child.stderr.strip().splitlines() or ["failed"])[-1]})
        else:
            results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(f"N={n} T={steps}: {results[-1]}", file=sys.stderr, flush=True)
    lines = [
        "| N | T | torch inference (s) | torch train (s) | Brian2 run (s) | Brian2 loop (s) | Brian2 build (s) | "
        "Brian2 run / torch inference | spikes equal | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['n']} | {r['steps']} | failed: {r['error']} | | | | | | | |")
            continue
        lines.append(
            f"| {r['n']} | {r['steps']} | {r['torch_inference']:.4f} | {r['torch_train']:.4f} | "
            f"{r['brian2_run']:.3f} | {r['brian2_loop']:.3f} | {r['brian2_build']:.1f} | "
            f"{r['brian2_run'] / r['torch_inference']:.1f} | {r['spikes_equal']} | {r['peak_rss_mb']:.0f} |"
        )
    text = "\n".join(lines) + "\n"
    atomic_write_json(
        out / "scaling.json",
        {
            "command": command_line(),
            "machine": {"platform": platform.platform(), "device": "cpu"},
            "n_inputs": N_IN,
            "rate": RATE,
            "dt": DT,
            "points": results,
        },
    )
    atomic_write_text(out / "scaling.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
