"""Is Brian2's default schedule exact for delta synapses? (docs/time_grid.md)

LIF, tau_m = 20 ms, 20 inputs x 5 neurons, 400 on-grid input spikes, dt = 0.1 ms.
Counts output spikes of (a) the exact event-driven solution, (b) Brian2 with the
pathway in its default ``synapses`` slot, (c) Brian2 with the pathway in
``before_thresholds`` (biosnn's exact schedule), and checks that (c) equals (a)
spike for spike up to the documented label shift of one dt.

Usage: python validation/brian2_schedule_exactness.py --out results/schedule_exactness.json
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import biosnn
from biosnn.core.io import atomic_write_json, check_output_file
from biosnn.core.results import seed
from biosnn.equivalence.event_driven import lif_delta_event_driven


def on_grid_inputs(rng, n_inputs: int, n_spikes: int, duration: float, dt: float) -> biosnn.SpikeTrains:
    """``n_spikes`` distinct (unit, step) pairs, uniformly chosen, on the grid."""
    n_steps = int(round(duration / dt))
    flat = rng.choice(n_inputs * n_steps, size=n_spikes, replace=False)
    units, steps = np.divmod(flat, n_steps)
    return biosnn.SpikeTrains.from_unsorted(steps * dt, units, n_inputs, duration)


def measure(
    seed: int = 0,
    *,
    n_inputs=20,
    n_neurons=5,
    n_spikes=400,
    tau_m=20e-3,
    dt=1e-4,
    duration=0.2,
    weight_high=0.5,
    target="numpy",
) -> dict:
    rng = np.random.default_rng(seed)
    spikes = on_grid_inputs(rng, n_inputs, n_spikes, duration, dt)
    weights = rng.uniform(0.0, weight_high, size=(n_inputs, n_neurons))
    params = {"tau_m": tau_m}
    ev_t, ev_u, _ = lif_delta_event_driven(spikes, weights, tau_m=tau_m)
    runs = {}
    for schedule in ("brian2_default", "exact"):
        trace = biosnn.simulate(
            "lif",
            spikes,
            weights,
            backend="brian2",
            dt=dt,
            duration=duration,
            params=params,
            schedule=schedule,
            target=target,
        )
        runs[schedule] = trace
    exact = runs["exact"]
    event_keys = sorted(zip(ev_u.tolist(), np.rint(ev_t / dt).astype(int).tolist()))
    shifted = sorted(zip(exact.spike_units.tolist(), (exact.spike_steps - 1).tolist()))
    return {
        "seed": seed,
        "n_inputs": n_inputs,
        "n_neurons": n_neurons,
        "n_input_spikes": n_spikes,
        "tau_m_s": tau_m,
        "dt_s": dt,
        "duration_s": duration,
        "weights": f"U[0, {weight_high})",
        "event_driven_spikes": int(ev_t.size),
        "brian2_default_spikes": int(runs["brian2_default"].spike_times.size),
        "brian2_exact_schedule_spikes": int(exact.spike_times.size),
        "exact_schedule_matches_event_driven": event_keys == shifted,
        "label_shift_steps": 1,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", nargs="+", type=seed, default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)
    check_output_file(args.out, "--out")
    results = [measure(s) for s in args.seeds]
    atomic_write_json(args.out, {"study": "brian2_schedule_exactness", "runs": results})
    print(json.dumps(results, indent=1))
    return 0 if all(r["exact_schedule_matches_event_driven"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
