"""The cost of noise: one sweep point with and without noise inside the network, each backend, one run.

Workload: a 100-128-10 network (LIF hidden layer, LI readout, delta synapses, dt = 1 ms, 100 steps) on 64
Poisson samples (20 Hz), evaluated as a sweep point is (``biosnn/studies/perturbation/sweep.py``:
torch at the training dt, Brian2 numpy at the same dt), noiseless, with membrane white noise (on the
training grid, and on a 4x finer grid: 4 draws per step) and with escape noise. Prints the seconds
(best of ``--repeats``) and the ratio to the noiseless point of the same backend; the issue's goal is at
most 2x. Results: ``benchmarks/results/noise_cost.json`` and ``.md``.

Usage: python benchmarks/bench_noise.py [--repeats 3] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from biosnn.core.noise import EscapeNoise, WhiteNoise
from biosnn.core.threads import set_threads
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.models.network import FeedForwardNet, LayerSpec
from biosnn.studies.perturbation.sweep import _logits_brian, _logits_torch

DT, STEPS, BATCH = 1e-3, 100, 64


def _net(noise=None, escape=None) -> FeedForwardNet:
    rng = np.random.default_rng(0)
    layers = (
        LayerSpec("lif", 128, {"tau_m": 10e-3}, noise=noise, escape=escape),
        LayerSpec("li", 10, {"tau_m": 10e-3}, noise=noise),
    )
    return FeedForwardNet(100, layers, (rng.normal(0, 0.3, (100, 128)), rng.normal(0, 0.3, (128, 10))))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)
    from biosnn.core.io import atomic_write_json, atomic_write_text, check_output_dir

    out = Path(args.out)
    check_output_dir(out)
    set_threads()
    spikes = poisson_spike_trains(np.random.default_rng(1), 100, 20.0, STEPS * DT, DT, BATCH)
    raster = spikes.to_raster(DT, STEPS)
    configs = {
        "noiseless": _net(),
        "membrane noise": _net(noise=WhiteNoise(1.0, DT, seed=1)),
        "membrane noise, 4 fine steps per step": _net(noise=WhiteNoise(1.0, DT / 4, seed=1)),
        "escape noise": _net(escape=EscapeNoise(1000.0, 0.1, seed=1, stream=5)),
    }
    backends = {
        "torch": lambda net: _logits_torch(net, raster, DT),
        "brian2 (numpy)": lambda net: _logits_brian(net, spikes, DT, "numpy"),
    }
    runs = []
    for backend, evaluate in backends.items():
        for name, net in configs.items():
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                evaluate(net)
                best = min(best, time.perf_counter() - start)
            runs.append({"backend": backend, "config": name, "seconds": round(best, 4)})
    lines = ["| backend | point | seconds | x noiseless |", "|---|---|---|---|"]
    for r in runs:
        base = next(b["seconds"] for b in runs if b["backend"] == r["backend"] and b["config"] == "noiseless")
        r["ratio"] = round(r["seconds"] / base, 2)
        lines.append(f"| {r['backend']} | {r['config']} | {r['seconds']:.3f} | {r['ratio']:.2f} |")
    machine = f"{platform.processor() or platform.machine()}, torch threads as biosnn/core/threads.py sets them"
    text = "\n".join(lines) + f"\n\n{BATCH} samples x {STEPS} steps, 100-128-10; best of {args.repeats}; {machine}.\n"
    print(text)
    atomic_write_json(out / "noise_cost.json", {"runs": runs, "machine": machine, "repeats": args.repeats})
    atomic_write_text(out / "noise_cost.md", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
