"""Brian2 on a grid converges to the event-driven solution of Lee et al.'s WTA layer.

Inputs at continuous (off-grid) times; the event-driven solver
(``biosnn.equivalence.event_driven.lee_wta_event_driven``) gives exact spike times; Brian2
(exact schedule) runs at a range of dt. Each Brian2 spike label minus one dt is
its event-time estimate (``biosnn/core/schedule.py``). Threshold dynamics are
discontinuous: moving an input by less than dt can flip a near-threshold
spike, and WTA inhibition and refractoriness then propagate the flip. So we run
many short trials and report per dt (a) the mean timing error of spikes matched
within 0.5 ms and (b) the fraction of spikes without a match, each with its
fitted order (slope of log error against log dt). Grid rounding moves every
input by up to one dt: order 1 is expected for both.

Usage: python validation/lee_convergence.py --out results/lee_convergence.json
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from tqdm import tqdm

import biosnn
from biosnn.core.io import atomic_write_json, check_output_file
from biosnn.core.results import command_line, seed
from biosnn.equivalence.event_driven import lee_wta_event_driven
from biosnn.studies.discretization import fitted_order, match_spikes

DTS = (4e-4, 2e-4, 1e-4, 5e-5, 2.5e-5, 1.25e-5)
#: an exact spike and a grid spike of one neuron closer than this are "the same spike"
MATCH_WINDOW = 0.5e-3
#: inputs of one unit are at least this far apart, so no two share a step at any dt above
DEAD_TIME = 0.5e-3


def network(seed: int, n_inputs=20, n_neurons=8, rate=40.0, duration=0.05, n_samples=40):
    """A batch of short trials: off-grid Poisson inputs (with a dead time), weights, parameters."""
    rng = np.random.default_rng(seed)
    times, units, samples = [], [], []
    for b in range(n_samples):
        for unit in range(n_inputs):
            t = np.sort(rng.uniform(0, duration, rng.poisson(rate * duration)))
            keep = np.concatenate([[True], np.diff(t) >= DEAD_TIME]) if t.size else np.zeros(0, bool)
            t = t[keep]
            times.append(t)
            units.append(np.full(t.size, unit))
            samples.append(np.full(t.size, b))
    spikes = biosnn.SpikeTrains.from_unsorted(
        np.concatenate(times), np.concatenate(units), n_inputs, duration, np.concatenate(samples), n_samples
    )
    weights = rng.uniform(-0.1, 0.45, size=(n_inputs, n_neurons))
    params = dict(tau_mp=20e-3, T_ref=1e-3, v_th=rng.uniform(0.8, 1.2, n_neurons), mu=-0.4, sigma=0.5, circuit_size=4.0)
    return spikes, weights, params, duration


def match(exact, estimate):
    """Pair spikes of each (sample, neuron) by nearest time within MATCH_WINDOW
    (``biosnn.studies.discretization.match_spikes``).

    ``exact`` and ``estimate`` are (times, units, samples). Returns the absolute
    timing errors of matched exact spikes and the number of spikes (of either
    side) left without a partner.
    """
    matched = match_spikes(exact, estimate, MATCH_WINDOW)
    return matched.errors, matched.unmatched


def measure(seed: int, dts=DTS, target: str = "numpy", progress: bool = False) -> dict:
    spikes, weights, params, duration = network(seed)
    exact = lee_wta_event_driven(spikes, weights, **params)
    rows = []
    for dt in tqdm(dts, desc=f"seed {seed}", disable=not progress):
        grid_duration = (np.ceil(duration / dt - 1e-9) + 1) * dt
        grid_spikes = biosnn.SpikeTrains(
            spikes.times, spikes.units, spikes.n_units, grid_duration, spikes.samples, spikes.n_samples
        )
        trace = biosnn.simulate(
            "wta", grid_spikes, weights, backend="brian2", target=target, dt=dt, duration=grid_duration, params=params
        )
        estimate = (trace.spike_times - dt, trace.spike_units, trace.spike_samples)
        errors, unmatched = match(exact, estimate)
        rows.append(
            dict(
                dt=dt,
                n_spikes=int(trace.spike_times.size),
                matched=int(errors.size),
                unmatched=unmatched,
                unmatched_fraction=unmatched / max(1, exact[0].size),
                mean_timing_error_s=float(errors.mean()) if errors.size else float("nan"),
                max_timing_error_s=float(errors.max()) if errors.size else float("nan"),
            )
        )
    return dict(
        seed=seed,
        event_driven_spikes=int(exact[0].size),
        rows=rows,
        timing_order=fitted_order([r["dt"] for r in rows], [r["mean_timing_error_s"] for r in rows]),
        mismatch_order=fitted_order([r["dt"] for r in rows], [r["unmatched_fraction"] for r in rows]),
        params={k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in params.items()},
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", nargs="+", type=seed, default=list(range(5)))
    args = parser.parse_args(argv)
    check_output_file(args.out, "--out")
    runs = [measure(s, progress=True) for s in args.seeds]
    summary = {
        "timing_order": float(np.mean([r["timing_order"] for r in runs])),
        "mismatch_order": float(np.mean([r["mismatch_order"] for r in runs])),
    }
    atomic_write_json(
        args.out,
        {
            "command": command_line(),
            "study": "lee_wta_convergence",
            "dts": list(DTS),
            "match_window_s": MATCH_WINDOW,
            "runs": runs,
            **summary,
        },
    )
    for r in runs:
        print(
            json.dumps(
                {
                    "seed": r["seed"],
                    "timing_order": round(r["timing_order"], 3),
                    "mismatch_order": round(r["mismatch_order"], 3),
                    "rows": [(x["dt"], x["mean_timing_error_s"], x["unmatched"], x["matched"]) for x in r["rows"]],
                }
            )
        )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
