"""Is the gamma-cascade network insensitive to dt? (SpikingGamma's claim, on biosnn's definition)

Trains the two-neuron gamma layer (optionally behind a hidden gamma layer,
``--n-hidden``) on the precise-interval task at dt = 1 ms (``--dt``)
(``biosnn/studies/gamma_task.py``; both objectives), then evaluates the same
continuous-time parameters at dt, dt/2 and dt/4 on test spikes at continuous
times, in the torch mirror and in Brian2: accuracy, agreement, and sigma-delta
spikes per sample. Results are written atomically after every run; a rerun
skips the runs already in the file with the same configuration and code version.

Usage: python validation/gamma_dt_table.py --out results/gamma_dt_table.json [--seeds 0 1 2]
       python validation/gamma_dt_table.py --out results/gamma_dt_table_hidden.json --objectives bptt \
           --n-hidden 8 --lr 0.01
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from biosnn.core.results import StudyResults, run_key, seed
from biosnn.core.threads import set_threads
from biosnn.studies.gamma_task import OBJECTIVES, GammaTaskConfig, check_config, run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", nargs="+", type=seed, default=list(range(5)))
    parser.add_argument("--objectives", nargs="+", default=list(OBJECTIVES), choices=OBJECTIVES)
    parser.add_argument("--n-hidden", type=int, default=0, help="hidden gamma neurons (0: none; bptt only)")
    parser.add_argument("--lr", type=float, default=GammaTaskConfig.lr, help="Adam learning rate")
    parser.add_argument(
        "--dt", type=float, default=GammaTaskConfig.dt, help="training time step (s); evaluated at dt, dt/2, dt/4"
    )
    args = parser.parse_args(argv)
    configs = [
        GammaTaskConfig(objective=objective, seed=s, n_hidden=args.n_hidden, lr=args.lr, dt=args.dt)
        for objective in args.objectives
        for s in args.seeds
    ]
    for cfg in configs:  # every configuration is checked before any training starts
        check_config(cfg)
    set_threads()
    results = StudyResults(args.out, "gamma_dt_table", {"n_hidden": args.n_hidden, "lr": args.lr, "dt": args.dt})
    for cfg in configs:
        key = run_key({"config": asdict(cfg)})
        if results.done(key):
            continue
        result = run(cfg)
        results.add(result, key)
        print(
            json.dumps(
                {
                    "objective": cfg.objective,
                    "seed": cfg.seed,
                    "n_hidden": cfg.n_hidden,
                    "train_seconds": result["train_seconds"],
                    "dt_table": result["dt_table"],
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
