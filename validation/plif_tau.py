"""Does the learned membrane time constant make a network insensitive to its initial value? (Fang et al. 2021)

Fang, Yu, Chen, Masquelier, Huang & Tian (2021, ICCV) report that PLIF networks,
whose membrane time constant tau_m = dt / sigmoid(a) is learned with the weights,
reach the same accuracy whatever the initial tau (their tau0 = 2, 16, 64 steps),
where LIF networks with the same fixed tau do not. For every initial tau and seed
this trains the timing task's network (``biosnn/studies/timing_tasks.py``: inputs
-> PLIF hidden layer -> leaky readout) twice: with tau learned (PLIF) and with tau
frozen at its initial value (the same layers, a LIF), and records the test
accuracy and the learned tau after every epoch. A task where timing matters
(coincidence, default; or ISI) is used. Results are written atomically after
every run; a rerun skips the runs already in the file (``biosnn.core.results``).

Usage: python validation/plif_tau.py --out results/plif_tau.json [--task coincidence] [--taus 2e-3 5e-3 20e-3 50e-3 0.2]
       [--seeds 0 1 2 3 4] [--epochs 60] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict
from pathlib import Path

from biosnn.core.errors import BiosnnInputError
from biosnn.core.results import StudyResults, positive_int, run_key, seed
from biosnn.core.threads import set_threads
from biosnn.studies.timing_tasks import TimingTaskConfig, train

#: initial membrane time constants (s): 2 ms is the paper's tau0 = 2 steps at dt = 1 ms; 16 and 64 steps lie within
TAUS = (2e-3, 5e-3, 20e-3, 50e-3, 200e-3)
#: the networks of the timing study (the paper's 60-3-3 network for coincidence)
TASK_SETTINGS = {"isi": {}, "ccisi": {}, "coincidence": dict(hidden=3)}
QUICK = dict(n_train=64, n_test=32, epochs=2, hidden=4)


def _time_constant(text: str) -> float:
    """argparse type of an initial tau_m: finite seconds above the step (tau_m = dt / sigmoid(a) > dt)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value > TimingTaskConfig.dt):
        raise argparse.ArgumentTypeError(
            f"an initial tau_m is a finite number of seconds above dt = {TimingTaskConfig.dt:g} s "
            f"(PLIF's tau_m = dt / sigmoid(a)), got {text!r}"
        )
    return value


def main(argv=None) -> int:
    try:
        return run(argv)
    except BiosnnInputError as err:
        print(f"{Path(__file__).stem}: error: {err}", file=sys.stderr)
        return 2


def run(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="results JSON (resumed when it exists)")
    parser.add_argument("--task", choices=sorted(TASK_SETTINGS), default="coincidence")
    parser.add_argument("--taus", nargs="+", type=_time_constant, default=list(TAUS), help="initial tau_m (s)")
    parser.add_argument("--seeds", nargs="+", type=seed, default=list(range(5)))
    parser.add_argument("--epochs", type=positive_int, default=60)
    parser.add_argument("--quick", action="store_true", help="tiny data and network (a smoke run)")
    args = parser.parse_args(argv)
    configs = [
        TimingTaskConfig(
            task=args.task,
            tau_hidden=tau,
            learn_tau=learn,
            seed=s,
            **(TASK_SETTINGS[args.task] | {"epochs": args.epochs} | (QUICK if args.quick else {})),
        )
        for tau in args.taus
        for s in args.seeds
        for learn in (True, False)
    ]
    set_threads()
    # one study per file: another task or epoch count is refused (its statistics would mix with these)
    results = StudyResults(args.out, "plif_tau", {"quick": args.quick, "task": args.task, "epochs": args.epochs})
    for cfg in configs:
        key = run_key(asdict(cfg))
        if results.done(key):
            continue
        _, _, _, summary = train(cfg)
        results.add(summary, key)
        print(
            json.dumps(
                {k: summary[k] for k in ("name", "test_accuracy_torch", "train_seconds", "time_loop")}
                | {"tau_m_final": summary["tau_m_history"][-1]}
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
