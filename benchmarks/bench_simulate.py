"""Wall time of one LIF layer, every backend and a peer, measured in the same run.

Workload: 100 Poisson inputs (20 Hz) -> 100 LIF neurons, delta synapses, batch 8,
0.5 s at dt = 0.1 ms (5000 steps). Peers: spikingjelly's LIFNode (multi-step,
torch backend) on the same drive. Prints seconds and the ratio to the biosnn
torch mirror. Brian2 standalone times include code generation and compilation.

Usage: python benchmarks/bench_simulate.py [--targets numpy cpp_standalone ...] [--device cuda]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import biosnn
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.torch.layer import Layer


def timed(fn, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", default=["numpy", "cpp_standalone"])
    parser.add_argument("--device", default="cpu", help="torch device for the mirror and spikingjelly")
    parser.add_argument("--duration", type=float, default=0.5)
    args = parser.parse_args(argv)
    dt, dur, n_in, n, batch = 1e-4, args.duration, 100, 100, 8
    rng = np.random.default_rng(0)
    spikes = poisson_spike_trains(rng, n_in, 20.0, dur, dt, batch)
    weights = rng.uniform(0, 0.15, size=(n_in, n))
    results = {}

    layer = Layer("lif", dt=dt, n_neurons=n, params={"tau_m": 0.02}).to(args.device)
    drive = torch.as_tensor(spikes.to_raster(dt, int(round(dur / dt))), dtype=torch.float32) @ torch.as_tensor(
        weights, dtype=torch.float32
    )
    drive = drive.to(args.device)

    def synchronize():
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    def mirror():
        with torch.no_grad():
            layer(drive)
        synchronize()

    mirror()
    results[f"biosnn torch mirror ({args.device}, float32)"] = timed(mirror, 3)
    try:
        from spikingjelly.activation_based import functional, neuron

        sj = neuron.LIFNode(tau=0.02 / dt, decay_input=False, v_reset=0.0, step_mode="m").to(args.device)

        def peer():
            functional.reset_net(sj)
            with torch.no_grad():
                sj(drive)
            synchronize()

        peer()
        results[f"spikingjelly LIFNode ({args.device}, float32)"] = timed(peer, 3)
    except ImportError:
        print("spikingjelly not installed: peer skipped")
    for target in args.targets:
        results[f"biosnn brian2 {target} (float64)"] = timed(
            lambda: biosnn.simulate(
                "lif", spikes, weights, backend="brian2", target=target, dt=dt, duration=dur, params={"tau_m": 0.02}
            )
        )
    base = results[f"biosnn torch mirror ({args.device}, float32)"]
    print(f"LIF layer {n_in}->{n}, batch {batch}, {int(round(dur / dt))} steps, dt {dt:g}s")
    for name, seconds in results.items():
        print(f"{name:48s} {seconds:8.3f} s   x{seconds / base:6.2f} vs torch mirror")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
