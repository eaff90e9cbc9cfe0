"""What rounding learnt delays to the grid does to accuracy (the delay issue's study).

For each seed, the two-layer delay network of ``biosnn/studies/delay_task.py``
is trained (a) with integer delays (forward floor(d), exported exactly), (b) with
fractional (interpolating) delays, exported rounded to the nearest step, and
(c) without delays. Reported: torch accuracy before export, accuracy of the
exported network in torch and in Brian2, and their per-sample agreement.
Results are rewritten atomically after every run; a rerun skips the runs already
in the file with the same configuration and code version (``biosnn.core.results``).

Usage: python validation/delay_rounding.py --out results/delay_rounding.json [--seeds 0 1 2 3 4]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from biosnn.core.results import StudyResults, run_key, seed
from biosnn.core.threads import set_threads
from biosnn.studies.delay_task import DelayTaskConfig, run

VARIANTS = {
    "integer_delays": dict(learn_delays=True, fractional=False),
    "fractional_delays": dict(learn_delays=True, fractional=True),
    "no_delays": dict(learn_delays=False),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", nargs="+", type=seed, default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)
    set_threads()
    results = StudyResults(args.out, "delay_rounding")
    for s in args.seeds:
        for name, variant in VARIANTS.items():
            cfg = DelayTaskConfig(seed=s, **variant)
            key = run_key({"config": asdict(cfg), "variant": name})
            if results.done(key):
                continue
            result = run(cfg)
            result.pop("net")
            result["variant"] = name
            results.add(result, key)
            print(
                json.dumps(
                    {
                        k: result[k]
                        for k in (
                            "variant",
                            "accuracy_torch",
                            "accuracy_exported_torch",
                            "accuracy_brian2",
                            "prediction_agreement",
                            "train_seconds",
                        )
                    }
                    | {"seed": s}
                )
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
