"""Discretization study (issue 14): every mirror discretization of every model against ground truth, against dt.

For each registered model and each discretization of its torch mirror (exact; Euler;
spikingjelly's convention where it differs; PLIF's tau0 = 2 dt with Euler), over a dt ladder from
1 ms to 15.6 us: the state error against closed forms and the 120-digit oracle (inputs on the grid),
and against continuous-time ground truth for off-grid inputs (event-driven solvers, NEST's
precise-spike iaf_psc_exp_ps, exact superposition, Brian2 at a fine dt) the state error, the
spike-time error of matched spikes, missed and extra spikes and the van Rossum distance; the
fitted order of each beside the declared one; and the cost of three conventions, each on one small
example (NEST's end-of-step labels, delay rounding, the slot of the input within a step).
``biosnn/studies/discretization/`` holds the definitions; ``docs/discretization.md`` the results.
Writes JSON only (``biosnn/reporting/figures/fig_convergence.py`` draws it). Where NEST is not installed its cases
are left out and the file says so (``"skipped"``).

Usage: python validation/discretization_study.py --out biosnn/reporting/figures/results/discretization.json
       [--seed 0] [--quick] [--models lif wta ...]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import replace

from biosnn.core.errors import BiosnnInputError
from biosnn.core.io import atomic_write_json, check_output_file
from biosnn.core.results import seed
from biosnn.core.threads import set_threads
from biosnn.studies.discretization import FULL, QUICK, run_study


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the random inputs and weights (default 0)")
    parser.add_argument("--quick", action="store_true", help="a small study (a factor 8 in dt, 24 trials of 30 ms)")
    parser.add_argument("--models", nargs="+", default=[], help="only these registered models (default: all)")
    return parser, parser.parse_args(argv)


def summary(result: dict) -> list[str]:
    """One line per declared order: model, discretization, reference, measure, declared, measured."""
    lines = []
    for o in result["orders"]:
        measured = "-" if o["measured_order"] is None else f"{o['measured_order']:.2f}"
        extra = f" (max error {o['max_error']:.1e})" if o["measured_order"] is None else ""
        lines.append(
            f"{o['model']:15s} {o['discretization']:15s} {o['reference']:20s} {o['measure']:24s} "
            f"declared {o['declared_order']!s:6s} measured {measured}{extra}"
            f"{'' if o['within_tolerance'] else '  OUTSIDE TOLERANCE'}"
        )
    return lines


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, args = parse(argv)
    try:
        check_output_file(args.out, "--out")
        config = replace(QUICK if args.quick else FULL, seed=args.seed, models=tuple(args.models)).checked()
    except BiosnnInputError as err:
        parser.error(str(err))
    set_threads()
    started = time.perf_counter()
    result = run_study(config, progress=True)
    result = {
        "command": shlex.join(["python", "validation/discretization_study.py", *argv]),
        **result,
        "seconds": round(time.perf_counter() - started, 1),
    }
    atomic_write_json(args.out, result)
    print("\n".join(summary(result)))
    print(
        json.dumps(
            {
                "rows": len(result["rows"]),
                "orders": len(result["orders"]),
                "outside_tolerance": sum(not o["within_tolerance"] for o in result["orders"]),
                "seconds": result["seconds"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
