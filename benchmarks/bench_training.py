"""Training-step and inference time of 700-128-128-20 networks: biosnn's mirror against peers,
each in its own process, interleaved over rounds in the same run; results as JSON and a markdown table.

Workload (SHD-like): 700 inputs at 5% density per step, three layers 128 -> 128 -> 20 (delta synapses,
hard reset, tau 20 ms, dt 1 ms), spike-count readout, cross-entropy, Adam; batch 32; float32; T steps;
one torch thread. A training step is forward + backward + Adam. Networks (``--networks``):

* ``lif``: LIF layers; every peer.
* ``plif``: PLIF layers (learnable tau, Fang et al. 2021); biosnn and spikingjelly's ParametricLIF.
* ``delay``: LIF layers with learnable per-neuron axonal delays (up to 20 ms); biosnn only.
* ``gamma``: gamma-cascade sigma-delta layers (3 buckets); biosnn only (phases: no fused loop).

Peers: ``biosnn`` (the mirror as users run it: the fused loop, ``biosnn/torch/fused.py``),
``biosnn_phases`` (the reference loop of step phases), ``torch_loop`` (a plain PyTorch time loop
written with biosnn's conventions), ``spikingjelly`` 0.0.0.0.14 (``MultiStep*Node``, torch backend;
Euler with decay_input), ``spikingjelly2`` 2.0.0 (``activation_based``, multi-step), ``snntorch``
1.0.0 (``Leaky``, zero reset from the previous step's spike), ``norse`` 1.1.0 (``LIF``,
current-based). biosnn's, the phases' and the plain loop's output spike counts are checked equal on
the same weights and inputs; the other peers' conventions differ from the exact propagator, so only
their time is compared. A peer that is not installed is reported as such (``make bench`` installs
snntorch and norse without their dependencies, and spikingjelly 2.0 into a directory of its own,
``.venv/peers``: it shares its package name with 0.0.0.0.14).

Each measurement is a fresh process running ``--repeats`` steps after one warm-up step (median);
``--rounds`` rounds run every (network, T, peer) in turn, and the table gives the minimum of the
rounds' medians (the least disturbed by other load), with the process's peak resident memory.
Ratios are peer time / biosnn time.

Usage: python benchmarks/bench_training.py [--steps 100 1000] [--networks lif plif delay gamma]
       [--rounds 3] [--repeats 5] [--out benchmarks/results] [--tag NAME]
"""

from __future__ import annotations

import argparse
import json
import math
import os
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
#: every peer that runs each network
NETWORK_PEERS = {
    "lif": ("biosnn", "biosnn_phases", "torch_loop", "spikingjelly", "spikingjelly2", "snntorch", "norse"),
    "plif": ("biosnn", "biosnn_phases", "spikingjelly", "spikingjelly2"),
    "delay": ("biosnn", "biosnn_phases"),
    "gamma": ("biosnn",),
}
PEERS = NETWORK_PEERS["lif"]
#: peers whose forward spikes follow biosnn's conventions exactly (checked equal)
SAME_CONVENTIONS = ("biosnn", "biosnn_phases", "torch_loop")
#: where ``make bench`` installs spikingjelly 2.0 (its package name is 0.0.0.0.14's)
SPIKINGJELLY2 = Path(sys.prefix) / "peers" / "spikingjelly-2.0.0"
GAMMA = dict(bucket_tau=(3e-3, 3e-3, 5e-3), theta0=0.05)
MAX_DELAY = 20e-3


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


def build(peer: str, network: str, weights):
    import torch

    if peer in ("biosnn", "biosnn_phases"):
        from biosnn.models.network import LayerSpec
        from biosnn.torch.network import FeedForward

        rng = np.random.default_rng(1)
        if network == "gamma":
            layers = [
                LayerSpec("gamma_cascade", n, dict(GAMMA, bucket_weight=rng.uniform(0, 1, (n, 3)))) for n in SIZES[1:]
            ]
        else:
            layers = [LayerSpec("plif" if network == "plif" else "lif", n, dict(tau_m=TAU)) for n in SIZES[1:]]
        delays = [rng.uniform(0, MAX_DELAY / 2, n) for n in SIZES[:-1]] if network == "delay" else None
        net = FeedForward(
            SIZES[0],
            layers,
            dt=DT,
            weights=weights,
            delays=delays,
            learn_delays=network == "delay",
            d_max=MAX_DELAY if network == "delay" else None,
            fused=peer == "biosnn",
        ).float()
        return net, lambda x: net(x)[-1]
    spike = SpikeFn.make()
    ws = torch.nn.ParameterList(torch.nn.Parameter(torch.as_tensor(w, dtype=torch.float32)) for w in weights)
    if peer == "torch_loop":
        decay = math.exp(-DT / TAU)

        def forward(x):
            for w in ws:
                drive = torch.cat([torch.zeros_like(x[:1]), x[:-1]]) @ w  # one step of synaptic latency
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
    if peer in ("spikingjelly", "spikingjelly2"):  # the same nodes in the two APIs
        if peer == "spikingjelly":
            from spikingjelly.clock_driven import neuron, surrogate

            plif_node, lif_node, mode = neuron.MultiStepParametricLIFNode, neuron.MultiStepLIFNode, {"backend": "torch"}
        else:
            from spikingjelly.activation_based import neuron, surrogate

            plif_node, lif_node, mode = neuron.ParametricLIFNode, neuron.LIFNode, {"step_mode": "m"}
        node, tau = (plif_node, {"init_tau": TAU / DT}) if network == "plif" else (lif_node, {"tau": TAU / DT})
        nodes = torch.nn.ModuleList(node(**tau, surrogate_function=surrogate.ATan(), **mode) for _ in weights)
        module = torch.nn.ModuleList([ws, nodes])

        def forward(x):
            for n in nodes:
                n.reset()
            for w, n in zip(ws, nodes):
                x = n(x @ w)
            return x

        return module, forward
    if peer == "snntorch":
        import snntorch
        from snntorch import surrogate as snn_surrogate

        cells = torch.nn.ModuleList(
            snntorch.Leaky(
                beta=math.exp(-DT / TAU),
                threshold=1.0,
                reset_mechanism="zero",
                spike_grad=snn_surrogate.fast_sigmoid(slope=100),
            )
            for _ in weights
        )
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

        cells = torch.nn.ModuleList(
            LIF(
                LIFParameters(
                    tau_mem_inv=torch.tensor(1 / TAU),
                    v_th=torch.tensor(1.0),
                    v_reset=torch.tensor(0.0),
                    v_leak=torch.tensor(0.0),
                    method="super",
                    alpha=torch.tensor(100.0),
                ),
                dt=DT,
            )
            for _ in weights
        )
        module = torch.nn.ModuleList([ws, cells])

        def forward(x):
            for w, cell in zip(ws, cells):
                x, _ = cell(x @ w)
            return x

        return module, forward
    raise ValueError(peer)


def run_peer(peer: str, network: str, steps: int, repeats: int) -> dict:
    import torch

    torch.set_num_threads(1)
    x, labels, weights = workload(steps)
    module, forward = build(peer, network, weights)
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
    if peer in SAME_CONVENTIONS:  # the untrained network's output spike counts, for the check
        with torch.no_grad():
            out["spikes"] = forward(x).sum(0).tolist()
    for name, fn in (("inference", inference), ("train_step", train_step)):
        fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def measure(peer: str, network: str, steps: int, repeats: int) -> dict:
    """One measurement in a fresh process (spikingjelly 2.0 from its own directory)."""
    env = dict(os.environ)
    if peer == "spikingjelly2":
        if not SPIKINGJELLY2.is_dir():
            return {"error": f"spikingjelly 2.0.0 not installed in {SPIKINGJELLY2} (make bench installs it)"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SPIKINGJELLY2), env.get("PYTHONPATH")) if p)
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--peer",
            peer,
            "--networks",
            network,
            "--steps",
            str(steps),
            "--repeats",
            str(repeats),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    if child.returncode != 0:
        return {"error": child.stderr.strip().splitlines()[-1] if child.stderr.strip() else "failed"}
    return json.loads(child.stdout.strip().splitlines()[-1])


def best_of(rounds: list[dict]) -> dict:
    """The minimum over rounds of each time (and of the peak memory); an error if every round failed."""
    ok = [r for r in rounds if "error" not in r]
    if not ok:
        return rounds[0]
    best = {key: min(r[key] for r in ok) for key in ("inference", "train_step", "peak_rss_mb")}
    best["rounds"] = {key: [r[key] for r in ok] for key in ("inference", "train_step")}
    if "spikes" in ok[0]:
        best["spikes"] = ok[0]["spikes"]
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[100])
    parser.add_argument("--networks", nargs="+", choices=tuple(NETWORK_PEERS), default=["lif"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--tag", default="", help="suffix of the result files: training[_TAG].json and .md")
    parser.add_argument("--peer", choices=PEERS, help=argparse.SUPPRESS)  # one measurement (child process)
    args = parser.parse_args(argv)
    if args.peer:
        print(json.dumps(run_peer(args.peer, args.networks[0], args.steps[0], args.repeats)))
        return 0
    if args.rounds < 1 or args.repeats < 1 or min(args.steps) < 1:
        parser.error("--rounds, --repeats and --steps must be positive")
    from biosnn.core.io import atomic_write_json, atomic_write_text, check_output_dir

    out = Path(args.out)
    check_output_dir(out)
    cases = [
        (network, steps, peer)
        for network in args.networks
        for steps in args.steps
        for peer in NETWORK_PEERS[network]
        if peer in args.peers
    ]
    rounds = {case: [] for case in cases}
    for r in range(args.rounds):  # interleaved: every case once per round
        for case in cases:
            network, steps, peer = case
            rounds[case].append(measure(peer, network, steps, args.repeats))
            print(f"round {r + 1}/{args.rounds}: {network} T={steps} {peer}", file=sys.stderr, flush=True)
    results = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpu_threads": 1,
            "device": "cpu",
        },
        "settings": {"rounds": args.rounds, "repeats": args.repeats, "batch": BATCH, "sizes": SIZES},
        "runs": [],
    }
    lines = [
        "| network | T | peer | train step (s) | ratio | inference (s) | ratio | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for network in args.networks:
        for steps in args.steps:
            measured = {
                peer: best_of(rounds[(network, steps, peer)])
                for peer in NETWORK_PEERS[network]
                if (network, steps, peer) in rounds
            }
            counts = {peer: np.asarray(m.pop("spikes")) for peer, m in measured.items() if "spikes" in m}
            agreement = {}
            if "biosnn" in counts:
                for peer, c in counts.items():
                    if peer != "biosnn":
                        agreement[peer] = float(np.mean(c == counts["biosnn"]))
                notes.append(
                    f"{network}, T = {steps}: output spike counts ({int(counts['biosnn'].sum())} spikes) "
                    "equal to biosnn's on "
                    + (", ".join(f"{100 * a:.1f}% ({p})" for p, a in agreement.items()) or "n/a")
                    + " of entries."
                )
            base = measured.get("biosnn", {})
            for peer, m in measured.items():
                if "error" in m:
                    lines.append(f"| {network} | {steps} | {peer} | failed: {m['error']} | | | | |")
                    continue
                ratio_t = m["train_step"] / base["train_step"] if "train_step" in base else float("nan")
                ratio_i = m["inference"] / base["inference"] if "inference" in base else float("nan")
                lines.append(
                    f"| {network} | {steps} | {peer} | {m['train_step']:.4f} | {ratio_t:.2f} | "
                    f"{m['inference']:.4f} | {ratio_i:.2f} | {m['peak_rss_mb']:.0f} |"
                )
            results["runs"].append(
                {"network": network, "steps": steps, "measured": measured, "spike_counts_equal_to_biosnn": agreement}
            )
    text = "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"
    stem = "training" + (f"_{args.tag}" if args.tag else "")
    atomic_write_json(out / f"{stem}.json", results)
    atomic_write_text(out / f"{stem}.md", text)
    print(text)
    unequal = [
        f"{run['network']} T={run['steps']} {peer}"
        for run in results["runs"]
        for peer, a in run["spike_counts_equal_to_biosnn"].items()
        if a != 1.0
    ]
    if unequal:  # the same computation must give the same spikes: not a comparison otherwise
        print(f"error: output spike counts differ from biosnn's: {', '.join(unequal)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
