"""The ``biosnn`` command.

    biosnn simulate MODEL --input SPIKES.npz --weights W.npy --dt SECONDS --duration SECONDS
                    --backend brian2|torch [--target T] [--discretization exact|euler]
                    [--dtype float64|float32] [--synapse KIND] [--reset KIND]
                    [--schedule exact|brian2_default] [--param NAME=VALUE ...] [--threads N] --out TRACE.npz
    biosnn validate [--models all|NAME ...] [--target T] [--seed N] [--threads N] --out DIR
    biosnn perturb --network NET.npz --data TEST.npz --train-dt SECONDS --db RESULTS.sqlite
                   --grid KIND=S1,S2,... [--grid ...] [--seeds N ...] [--backends torch brian2]
                   [--brian-dt SECONDS ...] [--binned] [--target T] [--copies N] [--jobs N] [--export FILE.csv|.parquet]
                   [--train-data TRAIN.npz --backends torch brian2 rate_logistic rate_mlp] [--scheduler ADDRESS|local]
    biosnn data normalize --train FILE --test FILE [--valid FILE] --out DIR [--theta 2 --epsilon 0.01 ...]
    biosnn figures [--results DIR ...] --out DIR [--only FIGURE ...] [--list]
    biosnn report --results DIR [DIR ...] [--figures DIR] --out REPORT.html
    biosnn numbers [--check] [--results DIR ...] FILE.md [FILE.md ...]
    biosnn validate-nir GRAPH.nir --input SPIKES.npz|RASTER.npy --framework snntorch|norse|spikingjelly
                        [--dt SECONDS] [--target T] [--threads N] [--out DIR]
    biosnn models
    biosnn --version

All values are SI (seconds; state variables dimensionless). For held input,
``--input`` is a ``.npy`` drive array ``[T, N_in]`` or ``[T, B, N_in]``.
Every argument and the output path are checked before any simulation starts;
bad input is reported on stderr with exit status 2 and nothing is written.
``--help`` and ``models`` start in well under a second: Brian2 and torch are
imported only by the commands that simulate.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from .core.errors import BiosnnInputError
from .core.interrupts import catching_sigint, raise_if_requested
from .core.results import positive_int as _positive_int
from .core.results import seed, worker_count
from .core.schedule import DISCRETIZATIONS, SCHEDULES

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

BACKENDS = ("brian2", "torch")
#: the exit status of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)
INTERRUPTED = 130
#: the exit status when stdout's reader has gone (128 + SIGPIPE, as shells report it)
BROKEN_PIPE = 141
TARGETS = ("numpy", "cython", "cpp_standalone", "cuda_standalone")


def _kinds(field: str) -> tuple[str, ...]:
    from .models import REGISTRY

    return tuple(dict.fromkeys(name for spec in REGISTRY.values() for name in getattr(spec, field)))


def _perturbation_kinds() -> str:
    """The registered perturbation kinds and what each strength means, for ``perturb --help``."""
    from .studies.perturbation import PERTURBATIONS
    from .studies.perturbation.network import NETWORK_PERTURBATIONS

    def listed(registry) -> str:
        return "; ".join(f"{name} ({p.strength})" for name, p in registry.items())

    return f"of the input: {listed(PERTURBATIONS)}. Of the network: {listed(NETWORK_PERTURBATIONS)}"


def _param(text: str):
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"--param expects NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--param {name}: {value!r} is not a number (SI units)") from None


def _load_npy(path: str, what: str):
    from .core.io import load_npy

    return load_npy(path, what)


def _load_inputs(path: str, held: bool):
    if held:
        return _load_npy(path, "held drive (--synapse held: a .npy array [T, N_in] or [T, B, N_in])")
    from .core.spikes import SpikeTrains

    return SpikeTrains.load(path)


def _params(pairs) -> dict:
    params = {}
    for name, value in pairs or []:
        if name in params:
            raise BiosnnInputError(f"--param {name} given twice ({params[name]!r} and {value!r})")
        params[name] = value
    return params


def cmd_simulate(args: argparse.Namespace) -> int:
    from .core.io import check_distinct, check_output_file
    from .models import get_spec

    check_output_file(args.out, "--out")
    check_distinct([(args.out, "--out")], [(args.input, "--input"), (args.weights, "--weights")])
    spec = get_spec(args.model)
    params = _params(args.param)
    inputs = _load_inputs(args.input, spec.synapse(args.synapse).held)
    weights = _load_npy(args.weights, "weights")
    from .simulation import simulate

    trace = simulate(
        args.model,
        inputs,
        weights,
        backend=args.backend,
        dt=args.dt,
        duration=args.duration,
        params=params,
        target=args.target,
        discretization=args.discretization,
        dtype=args.dtype,
        synapse=args.synapse,
        reset=args.reset,
        schedule=args.schedule,
    )
    trace.save(args.out)
    print(
        f"{args.out}: {trace.v.shape[0]} steps, {trace.spike_times.size} spikes "
        f"({trace.backend}/{trace.target}, dt={trace.dt:g}s)"
    )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .equivalence.validate import validate
    from .reporting.overlay import plot_equivalence

    report = validate(
        args.models,
        target=args.target,
        out_dir=args.out,
        seed=args.seed,
        progress=not args.quiet,
        draw=plot_equivalence,
    )
    for name, m in report["models"].items():
        print(
            f"{name:24s} {'PASS' if m['passed'] else 'FAIL'}  cases={m['n_cases']}  spikes={m['n_spikes']}  "
            f"max|dv|={m['max_abs_dv']:.3g}"
        )
    for name, m in report["networks"].items():
        a = m["agreement"]
        print(
            f"{name:24s} {'PASS' if m['passed'] else 'FAIL'}  layers={len(m['layers'])}  spikes={a['n_spikes_a']}  "
            f"max|dv|={a['max_abs_dv']:.3g}"
        )
    print(f"report: {os.path.join(args.out, 'report.md')} ({report['wall_seconds']} s)")
    return 0 if report["passed"] else 1


def _grid_entry(text: str):
    kind, sep, values = text.partition("=")
    if not sep or not kind.strip() or not values.strip():
        raise argparse.ArgumentTypeError(f"--grid expects KIND=S1,S2,..., got {text!r}")
    try:
        strengths = [float(v) for v in values.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--grid {kind}: {values!r} is not a list of numbers") from None
    return kind.strip(), strengths


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def cmd_perturb(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .core.io import check_distinct, check_input_file, check_output_file, file_digest
    from .data.dataset import SpikeDataset
    from .models.network import FeedForwardNet
    from .studies.perturbation.sweep import SweepSpec, check_grid, run_sweep
    from .studies.perturbation.table import SweepTable

    grid = check_grid([(kind, strength) for kind, strengths in args.grid for strength in strengths])
    inputs = [(args.network, "--network"), (args.data, "--data"), (args.train_data, "--train-data")]
    for path, what in inputs:
        if path is not None:
            check_input_file(path, what)
    check_distinct([(args.db, "--db"), (args.export, "--export")], inputs)
    check_distinct([(args.export, "--export")], [(args.db, "--db")])
    check_distinct([(args.train_data, "--train-data")], [(args.data, "--data")])
    if args.export:
        check_output_file(args.export, "--export")
        if Path(args.export).suffix.lower() not in (".csv", ".parquet"):
            raise BiosnnInputError(f"--export {args.export!r}: use a .csv or .parquet name")
    net, data = FeedForwardNet.load(args.network), SpikeDataset.load(args.data)
    train = SpikeDataset.load(args.train_data) if args.train_data else None
    spec = SweepSpec(
        args.network_name or Path(args.network).stem,
        args.dataset_name or Path(args.data).stem,
        args.train_dt,
        tuple(args.backends),
        tuple(args.brian_dt or ()),
        args.target,
        args.binned,
        args.copies,
    )
    from .core.threads import set_threads

    set_threads(args.threads)  # after the checks: importing torch takes seconds
    created = not os.path.exists(args.db)

    def remove_created():
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)

    try:
        table = SweepTable(args.db)
    except BaseException:  # a full disk while creating it: no empty database is left behind
        if created:
            remove_created()
        raise
    try:
        sources = [
            ("network", spec.network_name, file_digest(args.network)),
            ("dataset", spec.dataset_name, file_digest(args.data)),
        ]
        if train is not None:  # the rate rows of (network, dataset) come from this training set alone
            sources.append(("training set", f"{spec.network_name}/{spec.dataset_name}", file_digest(args.train_data)))
        try:
            summary = run_sweep(
                table,
                net,
                data,
                spec,
                grid,
                args.seeds,
                jobs=args.jobs,
                train=train,
                sources=sources,
                scheduler=args.scheduler,
                progress=not args.quiet,
            )
        except BaseException as err:  # bad input, Ctrl-C, a full disk: a database this run created empty goes
            from .studies.perturbation.table import is_locked

            # (not when another sweep holds it: it may be that sweep's database, still empty)
            if created and not is_locked(err) and not _has_rows(table) and not table.unsaved_files():
                table.close()
                remove_created()
            raise
        if args.export:
            table.export(args.export)
    finally:
        table.close()
    print(
        f"{args.db}: {summary['points']} points evaluated, {summary['skipped']} already stored ({summary['seconds']} s)"
    )
    return 0


def _has_rows(table) -> bool:
    """Whether ``table`` holds any stored point (False when it cannot even be read: a full disk)."""
    import sqlite3

    try:
        return bool(table.rows())
    except (sqlite3.Error, OSError, BiosnnInputError):
        return False


def cmd_normalize(args: argparse.Namespace) -> int:
    from .data.shd import NormalizeConfig, normalize

    cfg = NormalizeConfig(
        theta=args.theta,
        epsilon=args.epsilon,
        max_removed=args.max_removed,
        min_class_fraction=args.min_class_fraction,
        n_bins=args.bins,
        duration=args.duration,
        binning=args.binning,
        full_batches=args.full_batches,
        n_channels=args.channels,
        seed=args.seed,
    )
    files = [args.train, args.test] + ([args.valid] if args.valid else [])
    summary = normalize(files, args.out, cfg, forms=tuple(args.forms), progress=not args.quiet)
    for form, s in summary.items():
        print(
            f"{form:10s} {s['samples']} samples x {s['channels']} channels x {s['bins']} bins, {s['per_class']} per "
            f"class, {s['spikes_per_norm_sample']} spikes per norm sample ({s['removed_samples']} samples removed, "
            f"{s['dropped_channels']} channels dropped)"
        )
    print(f"written: {args.out}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .reporting.report import build_report

    path = build_report([Path(d) for d in args.results], Path(args.figures) if args.figures else None, Path(args.out))
    print(f"report: {path} ({path.stat().st_size / 1e3:.0f} kB, self-contained)")
    return 0


def cmd_numbers(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .reporting.figures import STORED_RESULTS
    from .reporting.numbers import update

    roots = [Path(d) for d in args.results] if args.results else [STORED_RESULTS]
    stale = update(args.files, roots, check=args.check)
    for path, names in stale.items():
        verb = "differs from its results" if args.check else "regenerated"
        print(f"{path}: {', '.join(names)} {verb}", file=sys.stderr if args.check else sys.stdout)
    if args.check and stale:
        print(
            "run `make numbers` (biosnn numbers FILE ...) to regenerate them; never edit a block by hand",
            file=sys.stderr,
        )
        return 1
    if not stale:
        print(f"numbers: every block of {len(args.files)} file(s) matches its stored results")
    return 0


def _load_nir_input(path: str):
    """A spike file (.npz, SpikeTrains) or a spike raster (.npy, [T, N] or [T, B, N] counts)."""
    if path.endswith(".npy"):
        return _load_npy(path, "input raster")
    from .core.spikes import SpikeTrains

    return SpikeTrains.load(path)


#: the command a ``validate-nir`` report directory belongs to (``biosnn.core.io.OWNER_MARKER``)
VALIDATE_NIR_OWNER = "biosnn validate-nir"


def cmd_validate_nir(args: argparse.Namespace) -> int:
    from .core.io import (
        atomic_write_json,
        atomic_write_text,
        check_distinct,
        check_input_file,
        check_owned_dir,
        replace_directory,
    )

    check_input_file(args.graph, "NIR")
    check_input_file(args.input, "--input")
    if args.out:
        check_distinct([(args.out, "--out")], [(args.graph, "NIR graph"), (args.input, "--input")])
        check_owned_dir(args.out, VALIDATE_NIR_OWNER, "--out")
    inputs = _load_nir_input(args.input)
    from .nir.frameworks import FRAMEWORKS

    FRAMEWORKS[args.framework].check()
    FRAMEWORKS[args.framework].preset(args.dt)  # a --dt the framework cannot take: refused before any work
    from .core.threads import set_threads

    set_threads(args.threads)  # after the checks: importing torch takes seconds
    from .nir.validate import markdown, summary_lines, validate_nir

    report = validate_nir(args.graph, inputs, framework=args.framework, dt=args.dt, target=args.target)
    print("\n".join(summary_lines(report)))
    if args.out:

        def build(tmp: Path) -> None:
            atomic_write_json(tmp / "report.json", report)
            atomic_write_text(tmp / "report.md", markdown(report))

        replace_directory(args.out, build, VALIDATE_NIR_OWNER)
        print(f"report: {os.path.join(args.out, 'report.md')}")
    print(f"{'PASS' if report['passed'] else 'FAIL'} ({report['wall_seconds']} s)")
    return 0 if report["passed"] else 1


def cmd_models(args: argparse.Namespace) -> int:
    import json

    from .core.units import SECOND
    from .models import REGISTRY

    for name, spec in REGISTRY.items():
        params = {}
        for p in spec.parameters:
            if p.default_steps is not None:
                params[p.name] = f"{p.default_steps:g} dt"
            else:
                params[p.name] = p.default if p.vector else float(p.default)
                if p.unit == SECOND:
                    params[p.name] = f"{params[p.name]} s" if not p.vector else [f"{v} s" for v in p.default]
        print(
            f"{name}: {spec.title}\n  {spec.citation}\n  synapses: {', '.join(spec.synapses)}; resets: "
            f"{', '.join(spec.resets)}\n  parameters (SI): {json.dumps(params)}"
        )
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from .core.io import check_output_dir
    from .reporting.figures import FIGURES, STORED_RESULTS, render_all

    if args.list:
        for figure in FIGURES:
            print(f"{figure.module}: {figure.title} [reads {', '.join(figure.inputs)}]")
        return 0
    if args.out is None:
        raise BiosnnInputError("--out DIR is required (the directory the figures are written to)")
    if args.results is None:  # the stored study results, and a `make demo` report when there is one
        roots = [str(STORED_RESULTS)] + (["demo-report"] if os.path.isdir("demo-report") else [])
    else:
        roots = args.results
    check_output_dir(args.out, "--out")
    written = render_all(roots, args.out, only=args.only, progress=not args.quiet)
    print(f"{sum(len(paths) for paths in written.values())} files of {len(written)} figures written to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .core.version import __version__

    parser = argparse.ArgumentParser(
        prog="biosnn",
        description="Exact Brian2 references and torch mirrors of SNN models, and the proof that they agree",
    )
    parser.add_argument("--version", action="version", version=f"biosnn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="simulate one layer driven by input spikes (or a held drive)")
    sim.add_argument("model", help="a registered model (see `biosnn models`)")
    sim.add_argument("--input", required=True, help="spike .npz (times, units, n_units, duration) or held drive .npy")
    sim.add_argument("--weights", required=True, help=".npy weight matrix [N_in, N]")
    sim.add_argument("--dt", type=float, required=True, help="time step in seconds")
    sim.add_argument("--duration", type=float, required=True, help="simulated time in seconds (a multiple of dt)")
    sim.add_argument("--backend", choices=BACKENDS, required=True, help="the Brian2 reference or the torch mirror")
    sim.add_argument("--target", choices=TARGETS, default=None, help="Brian2 target (default numpy)")
    sim.add_argument(
        "--discretization", choices=DISCRETIZATIONS, default="exact", help="exact propagator or forward Euler"
    )
    sim.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="torch only")
    sim.add_argument("--synapse", choices=_kinds("synapses"), default=None, help="default: the model's first")
    sim.add_argument("--reset", choices=_kinds("resets"), default=None, help="default: the model's first")
    sim.add_argument("--schedule", choices=SCHEDULES, default="exact", help="see docs/time_grid.md")
    sim.add_argument(
        "--param",
        action="append",
        type=_param,
        metavar="NAME=VALUE",
        help="parameter override in SI units (repeatable, once per name), e.g. tau_m=0.01",
    )
    sim.add_argument(
        "--threads",
        type=worker_count,
        default=None,
        help="torch threads (default: $BIOSNN_THREADS, else 1; see biosnn/core/threads.py)",
    )
    sim.add_argument("--out", required=True, help="output trace .npz (checked before the simulation)")
    sim.set_defaults(func=cmd_simulate)

    val = sub.add_parser("validate", help="run the Brian2-vs-torch equivalence suite (models and networks)")
    val.add_argument(
        "--models",
        nargs="+",
        default=["all"],
        help="registered models and network cases to validate (default: all of them)",
    )
    val.add_argument("--target", choices=TARGETS, default="numpy", help="Brian2 target")
    val.add_argument("--seed", type=seed, default=0, help="seed of the random cases (a non-negative integer)")
    val.add_argument("--threads", type=worker_count, default=None, help="torch threads (as for simulate)")
    val.add_argument("--quiet", action="store_true", help="no progress bar")
    val.add_argument("--out", required=True, help="report directory (replaced as a whole by each run)")
    val.set_defaults(func=cmd_validate)

    per = sub.add_parser(
        "perturb",
        help="evaluate a trained network under perturbed inputs, in torch and Brian2, into an SQLite table (resumable)",
    )
    per.add_argument("--network", required=True, help="network description .npz (FeedForwardNet.save)")
    per.add_argument("--data", required=True, help="labelled spike dataset .npz (SpikeDataset.save)")
    per.add_argument("--train-dt", type=_positive_float, required=True, help="the dt the network was trained at (s)")
    per.add_argument("--db", required=True, help="SQLite results database (created, or resumed)")
    per.add_argument(
        "--grid",
        type=_grid_entry,
        action="append",
        required=True,
        metavar="KIND=S1,S2,...",
        help="a perturbation kind and its strengths (repeatable); " + _perturbation_kinds(),
    )
    per.add_argument("--seeds", type=seed, nargs="+", default=[0], help="perturbation seeds")
    per.add_argument(
        "--backends",
        nargs="+",
        choices=("torch", "brian2", "rate_logistic", "rate_mlp"),
        default=["torch", "brian2"],
        help="rate_*: rate-only classifiers of spike counts (need --train-data)",
    )
    per.add_argument("--train-data", default=None, help="the training set (.npz) the rate classifiers are fitted on")
    per.add_argument(
        "--brian-dt",
        type=_positive_float,
        nargs="+",
        default=None,
        help="dts of the Brian2 runs (default: the training dt)",
    )
    per.add_argument(
        "--binned",
        action="store_true",
        help="perturb binned rasters on the training grid, as the temporal-shd code does",
    )
    per.add_argument(
        "--target",
        choices=TARGETS,
        default="numpy",
        help="Brian2 target (cpp_standalone: one build per worker serves every point of a dt)",
    )
    per.add_argument(
        "--copies",
        type=_positive_int,
        default=None,
        help="Brian2 copies of the network the test set is time-multiplexed through (default: one per "
        "sample; fewer bound the memory)",
    )
    per.add_argument(
        "--jobs",
        type=worker_count,
        default=1,
        help="local worker processes (with --scheduler local: the LocalCluster's workers)",
    )
    per.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS|local",
        help="evaluate on a dask.distributed cluster: a scheduler address, or 'local' for a LocalCluster",
    )
    per.add_argument("--network-name", default=None, help="name in the table (default: the file's stem)")
    per.add_argument("--dataset-name", default=None, help="name in the table (default: the file's stem)")
    per.add_argument("--export", default=None, help="also write the whole table to this .csv or .parquet")
    per.add_argument("--threads", type=worker_count, default=None, help="torch threads (as for simulate)")
    per.add_argument("--quiet", action="store_true", help="no progress bar")
    per.set_defaults(func=cmd_perturb)

    data = sub.add_parser("data", help="datasets: SHD/SSC count normalisation")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    norm = data_sub.add_parser(
        "normalize",
        help="whole -> part -> norm of SHD/SSC files (Yu, Sun & Goodman 2025), "
        "binned and continuous, with provenance (see biosnn/data/shd.py)",
    )
    norm.add_argument("--train", required=True, help="SHD/SSC HDF5 file (spikes/times, spikes/units, labels)")
    norm.add_argument("--test", required=True)
    norm.add_argument("--valid", default=None, help="SSC's validation file")
    norm.add_argument("--out", required=True, help="output directory (replaced as a whole when done)")
    norm.add_argument("--theta", type=int, default=2, help="a channel is bad when its minimum count is below this")
    norm.add_argument(
        "--epsilon",
        type=float,
        default=0.01,
        help="remove a bad channel's low samples instead when they are at most this fraction (SSC 0.02)",
    )
    norm.add_argument("--max-removed", type=int, default=2000, help="most samples removed in all")
    norm.add_argument("--min-class-fraction", type=float, default=0.5, help="each class keeps at least this fraction")
    norm.add_argument("--bins", type=int, default=100)
    norm.add_argument("--duration", type=float, default=1.4, help="seconds covered by the bins")
    norm.add_argument(
        "--binning",
        choices=("floor", "digitize"),
        default="floor",
        help="floor(t / bin width), or the reference code's np.digitize",
    )
    norm.add_argument(
        "--full-batches", type=int, default=0, help="keep only whole batches of this size (reference: 256)"
    )
    norm.add_argument("--channels", type=int, default=700)
    norm.add_argument("--forms", nargs="+", choices=("binned", "continuous"), default=["binned", "continuous"])
    norm.add_argument("--seed", type=seed, default=0)
    norm.add_argument("--quiet", action="store_true")
    norm.set_defaults(func=cmd_normalize)

    fig = sub.add_parser("figures", help="regenerate every publication figure from stored results (no simulation)")
    fig.add_argument(
        "--results",
        nargs="+",
        default=None,
        metavar="DIR",
        help="results directories, searched in turn for each figure's inputs (default: the stored "
        "results biosnn/reporting/figures/results, then demo-report)",
    )
    fig.add_argument(
        "--out", default=None, help="output directory (PDF + 300 dpi PNG per figure; required unless --list)"
    )
    fig.add_argument("--only", nargs="+", default=None, metavar="FIGURE", help="these figure scripts only")
    fig.add_argument("--list", action="store_true", help="list the figures and their inputs, draw nothing")
    fig.add_argument("--quiet", action="store_true", help="no progress bar")
    fig.set_defaults(func=cmd_figures)

    rep = sub.add_parser("report", help="one self-contained HTML page of the validation, studies and figures")
    rep.add_argument(
        "--results",
        nargs="+",
        required=True,
        metavar="DIR",
        help="results directories, searched in turn (e.g. demo-report biosnn/reporting/figures/results)",
    )
    rep.add_argument("--figures", default=None, metavar="DIR", help="directory of figure PNGs to embed")
    rep.add_argument("--out", required=True, help="the HTML file to write (checked before any work)")
    rep.set_defaults(func=cmd_report)

    num = sub.add_parser(
        "numbers",
        help="regenerate the study numbers quoted in Markdown files from the stored results (--check: only compare)",
        description="Rewrite every <!-- numbers: NAME --> block of the Markdown files from the stored study results "
        "(docs/statistics.md); --check writes nothing and exits 1 naming each block that differs.",
    )
    num.add_argument("files", nargs="+", metavar="FILE.md", help="Markdown files with <!-- numbers: NAME --> blocks")
    num.add_argument(
        "--results",
        action="append",
        default=None,
        metavar="DIR",
        help="a results directory; repeat to search several in turn (default: the stored results "
        "biosnn/reporting/figures/results)",
    )
    num.add_argument("--check", action="store_true", help="write nothing; exit 1 naming every block that differs")
    num.set_defaults(func=cmd_numbers)

    vnir = sub.add_parser(
        "validate-nir",
        help="run a NIR graph through its framework, the torch mirror and Brian2, "
        "and report where they disagree and why (see docs/nir.md)",
    )
    vnir.add_argument("graph", help="the NIR graph (.nir, nir.write)")
    vnir.add_argument(
        "--input",
        required=True,
        help="spike .npz (times, units, n_units, duration) or a .npy raster "
        "[T, N] / [T, B, N] of spike counts on the framework's grid",
    )
    vnir.add_argument(
        "--framework",
        required=True,
        choices=("snntorch", "norse", "spikingjelly"),
        help="the framework that wrote the graph; its forward pass runs beside biosnn",
    )
    vnir.add_argument(
        "--dt",
        type=_positive_float,
        default=None,
        help="the step the framework ran at (s; default its exporter's: snntorch 1e-4 fixed, norse 1e-3, "
        "spikingjelly 1e-4)",
    )
    vnir.add_argument("--target", choices=TARGETS, default="numpy", help="Brian2 target")
    vnir.add_argument("--threads", type=worker_count, default=None, help="torch threads (as for simulate)")
    vnir.add_argument("--out", default=None, help="report directory (report.json, report.md), replaced as a whole")
    vnir.set_defaults(func=cmd_validate_nir)

    models = sub.add_parser("models", help="list the registered models with their SI defaults")
    models.set_defaults(func=cmd_models)
    return parser


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--dt -1e-4`` as ``--dt=-1e-4``: argparse takes a token like ``-1e-4`` for an option."""
    out, i = [], 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--") and "=" not in token and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            try:
                float(argv[i + 1])
            except ValueError:
                pass
            else:
                out.append(f"{token}={argv[i + 1]}")
                i += 2
                continue
        out.append(token)
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    try:
        if args.command == "validate" or vars(args).get("backend") == "torch":  # the commands that run torch
            from .core.threads import set_threads

            set_threads(args.threads)
        with catching_sigint():
            code = args.func(args)
            raise_if_requested()  # a Ctrl-C swallowed on the way (biosnn/core/interrupts.py) still stops
        return code
    except BiosnnInputError as err:
        print(f"biosnn {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C: outputs are written atomically and results stored whole, so nothing partial is left
        print(f"biosnn {args.command}: interrupted; nothing incomplete was stored", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # the reader of stdout went away (`biosnn models | head`): stop quietly, as a Unix filter does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    except OSError as err:
        from .core.io import is_write_failure, write_failure

        if not is_write_failure(err):
            raise
        print(f"biosnn {args.command}: error: {write_failure(err, err.filename or 'an output')}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
