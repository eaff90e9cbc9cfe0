"""The temporal-coding study in one command: train the synthetic-task networks, sweep perturbations
through both backends into one SQLite table.

For every task (ISI, CCISI, coincidence) and set-up (SGD; SGD-delay: learnable
axonal delays) a network is trained in torch (``biosnn/studies/timing_tasks.py``;
checkpointed, so a killed run resumes), exported, and evaluated under every
perturbation of the grid: in torch at the training dt, in Brian2 at the training
dt and at ``--fine-factor`` times finer, on the same perturbed continuous spike
times (``biosnn/studies/perturbation/sweep.py``). Outputs under ``--out``:

* ``networks/<name>.npz`` and ``data/<name>-test.npz``, ``-train.npz``: what was evaluated (the
  training set fits the rate-only classifiers, evaluated beside both backends at every point);
* ``training.json``: per network, accuracies and the rate-only baselines;
* ``sweep.sqlite`` (and ``sweep.csv``): one row per point, backend and dt.

Every stage skips what is already done: rerunning after an interruption
completes the study with no lost or duplicated rows.

Usage: python validation/timing_study.py --out results/timing [--tasks isi coincidence] [--seeds 0 1 2 3 4]
       [--epochs 300] [--jobs 2] [--quick]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from biosnn.core.errors import BiosnnInputError
from biosnn.core.results import StudyResults, positive_int, run_key, seed
from biosnn.core.threads import set_threads
from biosnn.studies.perturbation.table import SweepTable
from biosnn.studies.timing_tasks import TimingTaskConfig, sweep_trained, train_once

#: the paper's grids (Yu, Sun & Goodman 2025), jitter in seconds
GRID = {
    "random_replacement": [0.0, 0.1, 0.3, 0.5, 0.7, 1.0],
    "spike_jitter": [1e-3, 5e-3, 10e-3, 20e-3],
    "neuron_jitter": [1e-3, 5e-3, 10e-3, 20e-3],
    "deletion": [0.1, 0.5, 0.7, 0.9],
    "time_reversal": [1],
}
QUICK_GRID = {"random_replacement": [0.0, 0.5], "deletion": [0.5], "time_reversal": [1]}
QUICK = dict(n_train=64, n_test=16, epochs=1, hidden=8)  # --quick: a smoke run of every stage
TASK_SETTINGS = {"isi": {}, "ccisi": {}, "coincidence": dict(hidden=3)}  # the paper's 60-3-3 network


def main(argv=None) -> int:
    try:
        return run(argv)
    except BiosnnInputError as err:
        print(f"{Path(__file__).stem}: error: {err}", file=sys.stderr)
        return 2


def run(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output directory (resumed when it exists)")
    parser.add_argument("--tasks", nargs="+", choices=sorted(TASK_SETTINGS), default=sorted(TASK_SETTINGS))
    parser.add_argument("--setups", nargs="+", choices=("sgd", "sgd_delay"), default=["sgd", "sgd_delay"])
    parser.add_argument(
        "--seeds", nargs="+", type=seed, default=list(range(5)), help="training seeds (>= 5 for a statistic)"
    )
    parser.add_argument(
        "--epochs", type=positive_int, default=300, help="training epochs (the paper trains 300-1000; --quick: 1)"
    )
    parser.add_argument(
        "--phase-seeds",
        nargs="*",
        type=seed,
        default=None,
        help="seeds also trained with the phase loop instead of the fused one, to show how far chaos alone moves "
        "a result (default: the first seed; none: pass the option alone)",
    )
    parser.add_argument(
        "--mixing",
        nargs="+",
        type=float,
        default=[0.0],
        help="coincidence task: mixing levels l (one network each; the paper's curve: 0 .. 1)",
    )
    parser.add_argument("--perturbation-seeds", nargs="+", type=seed, default=[0])
    parser.add_argument("--fine-factor", type=int, default=4, help="Brian2 also runs at dt / this (1: not)")
    parser.add_argument("--binned", action="store_true", help="also sweep the temporal-shd raster perturbations")
    parser.add_argument("--jobs", type=positive_int, default=1)
    parser.add_argument("--quick", action="store_true", help="tiny networks and grid (a smoke run)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    phase_seeds = args.seeds[:1] if args.phase_seeds is None else args.phase_seeds
    if not set(phase_seeds) <= set(args.seeds):
        parser.error(
            f"--phase-seeds {sorted(set(phase_seeds) - set(args.seeds))} not among --seeds: a phase-loop run "
            "is quoted against its fused twin"
        )
    set_threads()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # one epoch count per study directory: runs of another budget are refused, never mixed into its statistics
    training = StudyResults(
        out / "training.json",
        "timing_tasks",
        {"quick": args.quick, "epochs": QUICK["epochs"] if args.quick else args.epochs},
    )
    table = SweepTable(out / "sweep.sqlite")
    grid = [(kind, s) for kind, strengths in (QUICK_GRID if args.quick else GRID).items() for s in strengths]
    variants = [
        (task, {"mixing": m} if task == "coincidence" and m else {})
        for task in args.tasks
        for m in (args.mixing if task == "coincidence" else [0.0])
    ]
    try:
        for task, task_params in variants:
            for setup in args.setups:
                for s in args.seeds:
                    cfg = TimingTaskConfig(
                        task=task,
                        task_params=task_params,
                        delays=setup == "sgd_delay",
                        seed=s,
                        **(TASK_SETTINGS[task] | {"epochs": args.epochs} | (QUICK if args.quick else {})),
                    )
                    trained = train_once(cfg, out, training, run_key(asdict(cfg)), progress=not args.quiet)
                    for binned in (False, True) if args.binned else (False,):
                        sweep_trained(
                            table,
                            cfg,
                            trained,
                            grid,
                            args.perturbation_seeds,
                            fine_factor=args.fine_factor,
                            binned=binned,
                            jobs=args.jobs,
                            progress=not args.quiet,
                        )
                for s in phase_seeds:  # the same runs on the phase loop: trained and tested, not swept
                    cfg = TimingTaskConfig(
                        task=task,
                        task_params=task_params,
                        delays=setup == "sgd_delay",
                        seed=s,
                        fused=False,
                        **(TASK_SETTINGS[task] | {"epochs": args.epochs} | (QUICK if args.quick else {})),
                    )
                    train_once(cfg, out, training, run_key(asdict(cfg)), progress=not args.quiet)
        table.export(out / "sweep.csv")
    finally:
        table.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
