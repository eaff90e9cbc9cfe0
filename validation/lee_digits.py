"""Digit accuracy of the Lee et al. (2016) WTA network against the lateral strength mu.

For each rule (the paper's, surrogate gradients), hidden-layer mu and seed: train
the 64-100-10 network in torch (``biosnn/studies/digits.py``), run the trained
weights in Brian2 on the same test spike trains, record both accuracies and their
per-sample agreement. Results are rewritten atomically after every run, and a
rerun skips the runs already in the file with the same configuration and code
version (``biosnn.core.results``), so an interrupted sweep loses nothing.

Usage: python validation/lee_digits.py --out results/lee_digits.json [--mus 0 -0.2 ...] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from biosnn.core.results import StudyResults, run_key, seed
from biosnn.core.threads import set_threads
from biosnn.studies.digits import DigitsConfig, run

MUS = (0.0, -0.2, -0.4, -0.6, -0.8, -1.0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--rules", nargs="+", default=["lee", "surrogate"])
    parser.add_argument("--mus", nargs="+", type=float, default=list(MUS))
    parser.add_argument("--seeds", nargs="+", type=seed, default=list(range(5)))
    parser.add_argument("--epochs", type=int, default=DigitsConfig.epochs)
    parser.add_argument("--target", default="numpy")
    args = parser.parse_args(argv)
    set_threads()
    results = StudyResults(args.out, "lee_digits_mu", {"epochs": args.epochs, "target": args.target})
    for rule in args.rules:
        for mu in args.mus:
            for s in args.seeds:
                cfg = DigitsConfig(rule=rule, mu_hidden=mu, seed=s, epochs=args.epochs)
                key = run_key({"config": asdict(cfg), "target": args.target})
                if results.done(key):
                    continue
                result = run(cfg, target=args.target)
                results.add(result, key)
                print(
                    json.dumps(
                        {
                            k: result[k]
                            for k in ("accuracy_torch", "accuracy_brian2", "prediction_agreement", "train_seconds")
                        }
                        | {"rule": rule, "mu": mu, "seed": s}
                    )
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
