"""The temporal-coding study in one command: train the synthetic-task networks, sweep perturbations
through both backends into one SQLite table.

For every task (ISI, CCISI, coincidence) and set-up (SGD; SGD-delay: learnable
axonal delays) a network is trained in torch (``biosnn/studies/timing_tasks.py``;
checkpointed, so a killed run resumes), exported, and evaluated under every
perturbation of the grid: in torch at the training dt, in Brian2 at the training
dt and at ``--fine-factor`` times finer, on the same perturbed continuous spike
times (``biosnn/sweep.py``). Outputs under ``--out``:

* ``networks/<name>.npz`` and ``data/<name>-test.npz``, ``-train.npz``: what was evaluated (the
  training set fits the rate-only classifiers, evaluated beside both backends at every point);
* ``training.json``: per network, accuracies and the rate-only baselines;
* ``sweep.sqlite`` (and ``sweep.csv``): one row per point, backend and dt.

Every stage skips what is already done: rerunning after an interruption
completes the study with no lost or duplicated rows.

Usage: python validation/timing_study.py --out results/timing [--tasks isi coincidence] [--seeds 0] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from biosnn.data.dataset import SpikeDataset
from biosnn.errors import BiosnnInputError
from biosnn.network import FeedForwardNet
from biosnn.results import StudyResults, positive_int, run_key, seed
from biosnn.studies.timing_tasks import TimingTaskConfig, train
from biosnn.sweep import BACKENDS, SweepSpec, run_sweep
from biosnn.sweep_table import SweepTable, file_digest
from biosnn.threads import set_threads

#: the paper's grids (Yu, Sun & Goodman 2025), jitter in seconds
GRID = {
    "random_replacement": [0.0, 0.1, 0.3, 0.5, 0.7, 1.0],
    "spike_jitter": [1e-3, 5e-3, 10e-3, 20e-3],
    "neuron_jitter": [1e-3, 5e-3, 10e-3, 20e-3],
    "deletion": [0.1, 0.5, 0.7, 0.9],
    "time_reversal": [1],
}
QUICK_GRID = {"random_replacement": [0.0, 0.5], "deletion": [0.5], "time_reversal": [1]}
QUICK = dict(n_train=64, n_test=16, epochs=1, hidden=8)
TASK_SETTINGS = {"isi": {}, "ccisi": {}, "coincidence": dict(hidden=3)}   # the paper's 60-3-3 network


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
    parser.add_argument("--seeds", nargs="+", type=seed, default=[0], help="training seeds")
    parser.add_argument("--mixing", nargs="+", type=float, default=[0.0],
                        help="coincidence task: mixing levels l (one network each; the paper's curve: 0 .. 1)")
    parser.add_argument("--perturbation-seeds", nargs="+", type=seed, default=[0])
    parser.add_argument("--fine-factor", type=int, default=4, help="Brian2 also runs at dt / this (1: not)")
    parser.add_argument("--binned", action="store_true", help="also sweep the temporal-shd raster perturbations")
    parser.add_argument("--jobs", type=positive_int, default=1)
    parser.add_argument("--quick", action="store_true", help="tiny networks and grid (a smoke run)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    set_threads()
    out = Path(args.out)
    (out / "networks").mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    training = StudyResults(out / "training.json", "timing_tasks", {"quick": args.quick})
    table = SweepTable(out / "sweep.sqlite")
    grid = [(kind, s) for kind, strengths in (QUICK_GRID if args.quick else GRID).items() for s in strengths]
    variants = [(task, {"mixing": m} if task == "coincidence" and m else {})
                for task in args.tasks for m in (args.mixing if task == "coincidence" else [0.0])]
    try:
        for task, task_params in variants:
            for setup in args.setups:
                for s in args.seeds:
                    cfg = TimingTaskConfig(task=task, task_params=task_params, delays=setup == "sgd_delay", seed=s,
                                           **(TASK_SETTINGS[task] | (QUICK if args.quick else {})))
                    net_path, data_path = out / "networks" / f"{cfg.name}.npz", out / "data" / f"{cfg.name}-test.npz"
                    train_path = out / "data" / f"{cfg.name}-train.npz"
                    key = run_key(asdict(cfg))
                    if not (training.done(key) and net_path.exists() and data_path.exists() and train_path.exists()):
                        net, train_set, test, summary = train(cfg, checkpoint_dir=str(out / "checkpoints" / cfg.name),
                                                              progress=not args.quiet)
                        train_set.save(train_path)
                        test.save(data_path)
                        net.save(net_path)
                        training.add(summary, key)
                        print(json.dumps({k: v for k, v in summary.items() if k not in ("config", "loss")}), flush=True)
                    net, test = FeedForwardNet.load(net_path), SpikeDataset.load(data_path)
                    train_set = SpikeDataset.load(train_path)
                    sources = [("network", cfg.name, file_digest(net_path)),
                               ("dataset", f"{cfg.name}-test", file_digest(data_path)),
                               ("training set", f"{cfg.name}/{cfg.name}-test", file_digest(train_path))]
                    dts = (cfg.dt,) + ((cfg.dt / args.fine_factor,) if args.fine_factor > 1 else ())
                    for binned in (False, True) if args.binned else (False,):
                        spec = SweepSpec(cfg.name, f"{cfg.name}-test", cfg.dt, BACKENDS, brian_dts=dts, binned=binned)
                        summary = run_sweep(table, net, test, spec, grid, args.perturbation_seeds, jobs=args.jobs,
                                            train=train_set, sources=sources, progress=not args.quiet)
                        print(json.dumps({"network": cfg.name, "binned": binned} | summary), flush=True)
        table.export(out / "sweep.csv")
    finally:
        table.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
