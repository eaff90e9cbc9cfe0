"""Is the gamma-cascade network insensitive to dt? (SpikingGamma's claim, on biosnn's definition)

Trains the two-neuron gamma layer on the precise-interval task at dt = 1 ms
(``biosnn/training/gamma_task.py``; both objectives), then evaluates the same
continuous-time parameters at dt, dt/2 and dt/4 on test spikes at continuous
times, in the torch mirror and in Brian2: accuracy, agreement, and sigma-delta
spikes per sample. Results are written atomically after every run.

Usage: python validation/gamma_dt_table.py --out results/gamma_dt_table.json [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json

from biosnn.io import atomic_write_json
from biosnn.training.gamma_task import OBJECTIVES, GammaTaskConfig, run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--objectives", nargs="+", default=list(OBJECTIVES))
    args = parser.parse_args(argv)
    runs = []
    for objective in args.objectives:
        for seed in args.seeds:
            result = run(GammaTaskConfig(objective=objective, seed=seed))
            runs.append(result)
            atomic_write_json(args.out, {"study": "gamma_dt_table", "runs": runs})
            print(json.dumps({"objective": objective, "seed": seed, "train_seconds": result["train_seconds"],
                              "dt_table": result["dt_table"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
