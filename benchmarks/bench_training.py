"""Training-step and inference time of a 700-128-128-20 LIF network: biosnn's mirror against peers,
each in its own process, measured in the same run; results as JSON and a markdown table.

Workload (SHD-like): 700 inputs at 5% density per step, LIF 128 -> LIF 128 -> LIF 20 (delta synapses,
hard reset, tau 20 ms, dt 1 ms), spike-count readout, cross-entropy, Adam; batch 32; float32; T steps.
A training step is forward + backward + Adam. Each peer runs ``--repeats`` steps after one warm-up
step; the median is reported, with the process's peak resident memory.

Peers: ``torch_loop`` (a plain PyTorch time loop written with biosnn's conventions: its forward
spikes are checked equal to biosnn's on the same weights and inputs), ``spikingjelly`` 0.0.0.0.14
(``MultiStepLIFNode``, torch backend; Euler with decay_input), ``snntorch`` 1.0.0 (``Leaky``, zero
reset from the previous step's spike), ``norse`` 1.1.0 (``LIF``, current-based with its synaptic
time constant): their conventions differ from the exact propagator, so only time is compared.
A peer that is not installed is reported as such (``make bench`` installs snntorch and norse
without their dependencies: norse's would replace the pinned torch). Ratios are peer time / biosnn time.

Usage: python benchmarks/bench_training.py [--steps 100] [--repeats 5] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SIZES = (700, 128, 128, 20)
TAU, DT, BATCH, DENSITY = 20e-3, 1e-3, 32, 0.05
PEERS = ("biosnn", "torch_loop", "spikingjelly", "snntorch", "norse")


def workload(steps: int):
    import torch

    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.random((steps, BATCH, SIZES[0])) < DENSITY, dtype=torch.float32)
    labels = torch.as_tensor(rng.integers(0, SIZES[-1], BATCH))
    weights = [rng.normal(0, 2.0 / math.sqrt(a), (a, b)) for a, b in zip(SIZES[:-1], SIZES[1:])]
    return x, labels, weights


class SpikeFn:
    """Heaviside forward, fast-sigmoid derivative (alpha 100) backward: biosnn's default surrogate."""

    @staticmethod
    def make():
        import torch

        class Spike(torch.autograd.Function):
            @staticmethod
            def forward(ctx, v):
                ctx.save_for_backward(v)
                return (v >= 0).to(v.dtype)

            @staticmethod
            def backward(ctx, grad):
                (v,) = ctx.saved_tensors
                return grad / (100.0 * v.abs() + 1.0) ** 2

        return Spike.apply


def build(peer: str, weights):
    import torch

    if peer == "biosnn":
        from biosnn.network import LayerSpec
        from biosnn.torch.feedforward import FeedForward

        net = FeedForward(SIZES[0], [LayerSpec("lif", n, dict(tau_m=TAU)) for n in SIZES[1:]], dt=DT,
                          weights=weights).float()
        return net, lambda x: net(x)[-1]
    spike = SpikeFn.make()
    ws = torch.nn.ParameterList(torch.nn.Parameter(torch.as_tensor(w, dtype=torch.float32)) for w in weights)
    if peer == "torch_loop":
        decay = math.exp(-DT / TAU)

        def forward(x):
            for w in ws:
                drive = torch.cat([torch.zeros_like(x[:1]), x[:-1]]) @ w       # one step of synaptic latency
                v = torch.zeros(x.shape[1], w.shape[1])
                out = []
                for t in range(x.shape[0]):
                    v = v * decay + drive[t]
                    s = spike(v - 1.0)
                    v = (1.0 - s) * v
                    out.append(s)
                x = torch.stack(out)
            return x

        return ws, forward
    if peer == "spikingjelly":
        from spikingjelly.clock_driven import neuron, surrogate

        nodes = torch.nn.ModuleList(neuron.MultiStepLIFNode(tau=TAU / DT, surrogate_function=surrogate.ATan(),
                                                            backend="torch") for _ in weights)
        module = torch.nn.ModuleList([ws, nodes])

        def forward(x):
            for node in nodes:
                node.reset()
            for w, node in zip(ws, nodes):
                x = node(x @ w)
            return x

        return module, forward
    if peer == "snntorch":
        import snntorch
        from snntorch import surrogate as snn_surrogate

        cells = torch.nn.ModuleList(snntorch.Leaky(beta=math.exp(-DT / TAU), threshold=1.0, reset_mechanism="zero",
                                                   spike_grad=snn_surrogate.fast_sigmoid(slope=100)) for _ in weights)
        module = torch.nn.ModuleList([ws, cells])

        def forward(x):
            for w, cell in zip(ws, cells):
                drive = x @ w
                mem = cell.init_leaky()
                out = []
                for t in range(x.shape[0]):
                    s, mem = cell(drive[t], mem)
                    out.append(s)
                x = torch.stack(out)
            return x

        return module, forward
    if peer == "norse":
        from norse.torch import LIF, LIFParameters

        cells = torch.nn.ModuleList(LIF(LIFParameters(tau_mem_inv=torch.tensor(1 / TAU), v_th=torch.tensor(1.0),
                                                      v_reset=torch.tensor(0.0), v_leak=torch.tensor(0.0),
                                                      method="super", alpha=torch.tensor(100.0)), dt=DT)
                                    for _ in weights)
        module = torch.nn.ModuleList([ws, cells])

        def forward(x):
            for w, cell in zip(ws, cells):
                x, _ = cell(x @ w)
            return x

        return module, forward
    raise ValueError(peer)


def run_peer(peer: str, steps: int, repeats: int) -> dict:
    import torch

    torch.set_num_threads(1)
    x, labels, weights = workload(steps)
    module, forward = build(peer, weights)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)

    def train_step():
        logits = forward(x).sum(0)
        loss = torch.nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def inference():
        with torch.no_grad():
            forward(x)

    out = {}
    for name, fn in (("inference", inference), ("train_step", train_step)):
        fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if peer in ("biosnn", "torch_loop"):
        _, fresh_forward = build(peer, weights)
        with torch.no_grad():
            out["spikes"] = fresh_forward(x).sum(0).tolist()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[100])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--peer", choices=PEERS, help=argparse.SUPPRESS)     # one measurement (child process)
    args = parser.parse_args(argv)
    if args.peer:
        print(json.dumps(run_peer(args.peer, args.steps[0], args.repeats)))
        return 0
    from biosnn.io import atomic_write_json, atomic_write_text

    results = {"machine": {"platform": platform.platform(), "cpu_threads": 1}, "runs": []}
    lines = ["| T | peer | train step (s) | ratio | inference (s) | ratio | peak RSS (MB) |", "|---|---|---|---|---|---|---|"]
    for steps in args.steps:
        measured = {}
        for peer in args.peers:          # a fresh process per peer: no shared caches, its own peak memory
            child = subprocess.run([sys.executable, __file__, "--peer", peer, "--steps", str(steps), "--repeats",
                                    str(args.repeats)], capture_output=True, text=True)
            if child.returncode != 0:
                measured[peer] = {"error": child.stderr.strip().splitlines()[-1] if child.stderr else "failed"}
                continue
            measured[peer] = json.loads(child.stdout.strip().splitlines()[-1])
        check, total = None, None
        if "spikes" in measured.get("biosnn", {}) and "spikes" in measured.get("torch_loop", {}):
            a, b = np.asarray(measured["biosnn"].pop("spikes")), np.asarray(measured["torch_loop"].pop("spikes"))
            check, total = float(np.mean(a == b)), int(a.sum())
        base = measured.get("biosnn", {})
        for peer, m in measured.items():
            if "error" in m:
                lines.append(f"| {steps} | {peer} | failed: {m['error']} | | | | |")
                continue
            ratio_t = m["train_step"] / base["train_step"] if "train_step" in base else float("nan")
            ratio_i = m["inference"] / base["inference"] if "inference" in base else float("nan")
            lines.append(f"| {steps} | {peer} | {m['train_step']:.3f} | {ratio_t:.2f} | {m['inference']:.3f} | "
                         f"{ratio_i:.2f} | {m['peak_rss_mb']:.0f} |")
        results["runs"].append({"steps": steps, "measured": measured,
                                "output_spike_counts_equal_biosnn_vs_torch_loop": check, "output_spikes": total})
        lines.append(f"\nT = {steps}: biosnn's and the plain loop's output spike counts ({total} spikes) agree on "
                     f"{'n/a' if check is None else f'{100 * check:.1f}%'} of entries.\n")
    out = Path(args.out)
    atomic_write_json(out / "training.json", results)
    atomic_write_text(out / "training.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
