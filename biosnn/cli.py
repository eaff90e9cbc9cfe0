"""The ``biosnn`` command.

    biosnn simulate MODEL --input SPIKES.npz --weights W.npy --dt SECONDS --duration SECONDS
                    --backend brian2|torch [--target T] [--discretization exact|euler]
                    [--dtype float64|float32] [--synapse delta|current|held] [--reset hard|subtract]
                    [--schedule exact|brian2_default] [--param NAME=VALUE ...] --out TRACE.npz
    biosnn validate [--models all|NAME ...] [--target T] [--seed N] --out DIR   (models and networks)
    biosnn models

All values are SI (seconds; state variables dimensionless). For held input,
``--input`` is a ``.npy`` drive array ``[T, N_in]`` or ``[T, B, N_in]``.
Errors in the input are reported on stderr with exit status 2 and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from .errors import BiosnnInputError
from .schedule import DISCRETIZATIONS, SCHEDULES


def _synapse_kinds() -> tuple[str, ...]:
    from .equations import REGISTRY

    return tuple(dict.fromkeys(name for spec in REGISTRY.values() for name in spec.synapses))


SYNAPSE_KINDS = _synapse_kinds()


def _param(text: str):
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--param expects NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--param {name}: {value!r} is not a number (SI units)") from None


def _load_npy(path: str, what: str) -> np.ndarray:
    if not os.path.exists(path):
        raise BiosnnInputError(f"{what} file {path!r} does not exist")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise BiosnnInputError(f"{what} file {path!r} is not a readable .npy: {err}") from None


def _load_inputs(path: str, synapse: str):
    from .spikes import SpikeTrains

    return _load_npy(path, "held drive") if synapse == "held" else SpikeTrains.load(path)  # None: spikes


def cmd_simulate(args) -> int:
    from .simulate import simulate

    inputs = _load_inputs(args.input, args.synapse)
    weights = _load_npy(args.weights, "weights")
    trace = simulate(args.model, inputs, weights, backend=args.backend, dt=args.dt, duration=args.duration,
                     params=dict(args.param or []), target=args.target, discretization=args.discretization,
                     dtype=args.dtype, synapse=args.synapse, reset=args.reset, schedule=args.schedule)
    trace.save(args.out)
    print(f"{args.out}: {trace.v.shape[0]} steps, {trace.spike_times.size} spikes "
          f"({trace.backend}/{trace.target}, dt={trace.dt:g}s)")
    return 0


def cmd_validate(args) -> int:
    from .validate import validate

    report = validate(args.models, target=args.target, out_dir=args.out, seed=args.seed,
                      progress=not args.quiet)
    for name, m in report["models"].items():
        print(f"{name:24s} {'PASS' if m['passed'] else 'FAIL'}  cases={m['n_cases']}  spikes={m['n_spikes']}  "
              f"max|dv|={m['max_abs_dv']:.3g}")
    for name, m in report["networks"].items():
        a = m["agreement"]
        print(f"{name:24s} {'PASS' if m['passed'] else 'FAIL'}  layers={len(m['layers'])}  spikes={a['n_spikes_a']}  "
              f"max|dv|={a['max_abs_dv']:.3g}")
    print(f"report: {os.path.join(args.out, 'report.md')} ({report['wall_seconds']} s)")
    return 0 if report["passed"] else 1


def cmd_models(args) -> int:
    from .equations import REGISTRY

    for name, spec in REGISTRY.items():
        params = {p.name: (f"{p.default_steps:g} dt" if p.default_steps is not None else str(p.default))
                  for p in spec.parameters}
        print(f"{name}: {spec.title}\n  {spec.citation}\n  parameters: {json.dumps(params)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="biosnn", description="Exact Brian2 references and torch mirrors of SNN models")
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="simulate one layer driven by input spikes (or a held drive)")
    sim.add_argument("model")
    sim.add_argument("--input", required=True, help="spike .npz (times, units, n_units, duration) or held drive .npy")
    sim.add_argument("--weights", required=True, help=".npy weight matrix [N_in, N]")
    sim.add_argument("--dt", type=float, required=True, help="time step in seconds")
    sim.add_argument("--duration", type=float, required=True, help="simulated time in seconds")
    sim.add_argument("--backend", choices=("brian2", "torch"), required=True)
    sim.add_argument("--target", default=None, help="Brian2 target: numpy, cython, cpp_standalone, cuda_standalone")
    sim.add_argument("--discretization", choices=DISCRETIZATIONS, default="exact")
    sim.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    sim.add_argument("--synapse", choices=SYNAPSE_KINDS, default=None, help="default: the model's first")
    sim.add_argument("--reset", default=None, help="hard | subtract | ...; default: the model's first")
    sim.add_argument("--schedule", choices=SCHEDULES, default="exact")
    sim.add_argument("--param", action="append", type=_param, metavar="NAME=VALUE",
                     help="parameter override in SI units (repeatable), e.g. tau_m=0.01")
    sim.add_argument("--out", required=True, help="output trace .npz")
    sim.set_defaults(func=cmd_simulate)

    val = sub.add_parser("validate", help="run the Brian2-vs-torch equivalence suite for registered models")
    val.add_argument("--models", nargs="+", default=["all"],
                     help="registered models and network cases to validate (default: all of them)")
    val.add_argument("--target", default="numpy")
    val.add_argument("--seed", type=int, default=0)
    val.add_argument("--quiet", action="store_true", help="no progress bar")
    val.add_argument("--out", required=True)
    val.set_defaults(func=cmd_validate)

    models = sub.add_parser("models", help="list the registered models")
    models.set_defaults(func=cmd_models)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BiosnnInputError as err:
        print(f"biosnn {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
