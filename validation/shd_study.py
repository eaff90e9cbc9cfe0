"""SHD/SSC (or their normalised versions) through the timing study: train the paper's 2 x 128 network
with learnable delays in torch, sweep perturbations through torch and Brian2 into SQLite.

Data: files in the SHD layout (Cramer et al. 2020), e.g. ``continuous_norm.h5`` written by
``biosnn data normalize``. With ``--test`` the two files are the train and test sets; without, one
file is split as the temporal-shd loaders split it, in file order: the first 60% train, 15%
validation (unused), the next 15% test. The Brian2 evaluation takes the first ``--n-eval`` test
samples (a batched Brian2 run replicates every synapse per sample: mind the memory).

The training grid is the reference's: ``--dt 0.014`` (100 bins over 1.4 s). Jitter strengths are
the paper's, in bins of that grid. Everything resumes (checkpointed training, the SQLite table).

Usage: python validation/shd_study.py --train shd-norm/continuous_norm.h5 --out results/shd [--no-delays]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from biosnn.core.errors import BiosnnInputError
from biosnn.core.io import file_digest
from biosnn.core.results import StudyResults, positive_int, run_key, seed
from biosnn.core.threads import set_threads
from biosnn.data.shd import n_samples, read_dataset
from biosnn.studies.perturbation.table import SweepTable
from biosnn.studies.timing_tasks import TimingTaskConfig, sweep_trained, train_once

#: sigma in bins (the paper's SHD grid), deletion probabilities, replacement fractions
JITTER_BINS = [1, 5, 10, 20, 25, 30]
DELETION = [0.1, 0.5, 0.7, 0.9]
REPLACEMENT = [0.0, 0.1, 0.3, 0.5, 0.7, 1.0]


def grid(dt: float, quick: bool) -> list[tuple[str, float]]:
    if quick:
        return [("random_replacement", 0.0), ("spike_jitter", dt), ("time_reversal", 1)]
    return (
        [("random_replacement", f) for f in REPLACEMENT]
        + [("spike_jitter", b * dt) for b in JITTER_BINS]
        + [("neuron_jitter", b * dt) for b in JITTER_BINS]
        + [("deletion", p) for p in DELETION]
        + [("time_reversal", 1)]
    )


def main(argv=None) -> int:
    try:
        return run(argv)
    except BiosnnInputError as err:
        print(f"{Path(__file__).stem}: error: {err}", file=sys.stderr)
        return 2


def run(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="SHD-layout HDF5 file (train set, or the whole set to split)")
    parser.add_argument("--test", default=None, help="SHD-layout HDF5 test file")
    parser.add_argument("--out", required=True)
    parser.add_argument("--dt", type=float, default=0.014)
    parser.add_argument("--duration", type=float, default=1.4)
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 128])
    parser.add_argument("--no-delays", action="store_true")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--n-eval", type=int, default=256, help="test samples evaluated in the sweep")
    parser.add_argument("--fine-factor", type=int, default=4)
    parser.add_argument("--seed", type=seed, default=0)
    parser.add_argument("--perturbation-seeds", nargs="+", type=seed, default=[0])
    parser.add_argument("--jobs", type=positive_int, default=1)
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny grid")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    set_threads()
    out = Path(args.out)
    if args.test:
        train_set = read_dataset(args.train, duration=args.duration, name="train")
        test_set = read_dataset(args.test, duration=args.duration, name="test")
    else:
        total = n_samples(args.train)
        train_set = read_dataset(args.train, duration=args.duration, samples=np.arange(int(0.6 * total)), name="train")
        test_set = read_dataset(
            args.train, duration=args.duration, samples=np.arange(int(0.75 * total), int(0.9 * total)), name="test"
        )
    cfg = TimingTaskConfig(
        task="shd",
        delays=not args.no_delays,
        dt=args.dt,
        hidden=tuple(args.hidden),
        d_max=25 * args.dt,
        epochs=args.epochs,
        seed=args.seed,
        n_train=len(train_set),
        n_test=len(test_set),
        lr=2e-3,
        batch_size=64,
    )
    sources = [f"{Path(args.train).name}:{file_digest(args.train)}"] + (
        [f"{Path(args.test).name}:{file_digest(args.test)}"] if args.test else []
    )
    settings = {"sources": sources, "n_eval": args.n_eval, "duration": args.duration}
    out.mkdir(parents=True, exist_ok=True)  # the inputs are readable: now write
    training = StudyResults(out / "training.json", "shd_timing", settings)
    trained = train_once(
        cfg,
        out,
        training,
        run_key(asdict(cfg) | settings),
        data=(train_set, test_set),
        n_eval=args.n_eval,
        progress=not args.quiet,
    )
    table = SweepTable(out / "sweep.sqlite")
    try:
        sweep_trained(
            table,
            cfg,
            trained,
            grid(cfg.dt, args.quick),
            args.perturbation_seeds,
            fine_factor=args.fine_factor,
            jobs=args.jobs,
            progress=not args.quiet,
        )
        table.export(out / "sweep.csv")
    finally:
        table.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
