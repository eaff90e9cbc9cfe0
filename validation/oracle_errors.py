"""Both backends against the high-precision oracle (``biosnn/equivalence/oracle.py``) over the allowed parameter range.

Cases (the edges the spec allows, where a closed form in float64 or a symbolic
solution fails):

* LIF with a current synapse: tau_s / tau_m from equal through 1e-12 .. 1e-3 apart
  (the old merge band and just outside it) to 3x, tau_m from half a step to 1 s,
  dimensionless and physiological units (mV scale, v_rest = -70);
* gamma cascades: equal rates, near-equal chains (1.5e-4 and 5e-4 apart, a chain
  with every neighbour within 1e-4 of the next), distinct spreads, mixtures, K = 1..8.

For each case the membrane (or every bucket) is simulated after one input, in
Brian2 (numpy target) and in the float64 mirror, and compared with the oracle at
every step. Writes the worst absolute error per model and backend.

Usage: python validation/oracle_errors.py --out results/oracle_errors.json
"""

from __future__ import annotations

import argparse
import functools
import json

import numpy as np

import biosnn
from biosnn.core.io import atomic_write_json, check_output_file
from biosnn.core.results import code_version, command_line
from biosnn.equivalence.oracle import cascade_impulse_response, current_synapse_response

DT = 1e-4
N_STEPS = 400

#: (tau_m, tau_s / tau_m, weight, v_rest): the current-synapse cases
CURRENT_CASES = [
    (tau_m, ratio, w, v_rest)
    for tau_m in (0.5 * DT, 2e-3, 20e-3, 1.0)
    for ratio in (1.0, 1 + 1e-12, 1 + 1e-9, 1 + 1e-6, 1 + 9e-5, 1 + 1.1e-4, 1 + 1.5e-4, 1 + 1e-3, 0.3, 3.0)
    for w, v_rest in ((1.0, 0.0), (50.0, -70.0))
]

#: bucket time constants of the cascade cases
CASCADE_CASES = {
    "K1": (5e-3,),
    "equal K4": (4e-3,) * 4,
    "near-equal K4, 1.5e-4 apart": tuple(4e-3 * (1 + 1.5e-4 * k) for k in range(4)),
    "near-equal K3, 5e-4 apart": tuple(5e-3 * (1 + 5e-4 * k) for k in range(3)),
    "near-equal K4, 5e-4 apart": tuple(5e-3 * (1 + 5e-4 * k) for k in range(4)),
    "chain within 1e-4 of neighbours": tuple(3e-3 * (1 + 0.9e-4) ** k for k in range(5)),
    "distinct 4-15 ms": (4e-3, 7e-3, 11e-3, 15e-3),
    "distinct K8": tuple(np.linspace(2e-3, 20e-3, 8)),
    "mixed K8": (1e-3, 1e-3, 3e-3, 3e-3 * (1 + 1e-9), 9e-3, 9e-3, 9e-3, 2e-3),
}


def current_synapse_error(backend: str, tau_m: float, ratio: float, w: float, v_rest: float) -> float:
    """Max |v - oracle| after one current pulse of weight w (subthreshold), over N_STEPS steps."""
    spikes = biosnn.SpikeTrains([0.0], [0], 1, N_STEPS * DT)
    params = {"tau_m": tau_m, "tau_s": tau_m * ratio, "v_rest": v_rest, "v_reset": v_rest, "v_th": 1e9}
    trace = biosnn.simulate(
        "lif", spikes, np.array([[w]]), backend=backend, dt=DT, duration=N_STEPS * DT, synapse="current", params=params
    )
    # the pulse enters I at the end of step 1 (exact schedule): v(t_2 + s) = v_rest + response(s)
    s = np.arange(N_STEPS - 2) * DT
    exact = v_rest + current_synapse_response(w, tau_m, tau_m * ratio, s)
    return float(np.abs(trace.v[2:, 0] - exact).max())


@functools.cache
def _cascade_oracle(taus: tuple) -> np.ndarray:
    return cascade_impulse_response(taus, np.arange(N_STEPS - 2) * DT)  # delivered in step 1, read from t_2


def cascade_error(backend: str, taus) -> float:
    """Max |B_k - oracle| over every bucket and step after one input spike (neuron k reads bucket k)."""
    K = len(taus)
    spikes = biosnn.SpikeTrains([0.0], [0], 1, N_STEPS * DT)
    params = {"bucket_tau": taus, "bucket_weight": np.eye(K), "theta0": 1e9}
    trace = biosnn.simulate(
        "gamma_cascade", spikes, np.ones((1, K)), backend=backend, dt=DT, duration=N_STEPS * DT, params=params
    )
    return float(np.abs(trace.states["x"][2:] - _cascade_oracle(tuple(taus))).max())


def measure() -> dict:
    rows = []
    for backend in ("brian2", "torch"):
        for tau_m, ratio, w, v_rest in CURRENT_CASES:
            rows.append(
                dict(
                    model="lif (current synapse)",
                    backend=backend,
                    tau_m=tau_m,
                    tau_s_ratio=ratio,
                    w=w,
                    v_rest=v_rest,
                    error=current_synapse_error(backend, tau_m, ratio, w, v_rest),
                    scale=max(1.0, abs(v_rest), abs(w)),
                )
            )
        for name, taus in CASCADE_CASES.items():
            rows.append(
                dict(
                    model="gamma_cascade",
                    backend=backend,
                    case=name,
                    bucket_tau=list(taus),
                    error=cascade_error(backend, taus),
                    scale=1.0,
                )
            )
    worst = {}
    for row in rows:
        key = f"{row['model']} / {row['backend']}"
        worst[key] = max(worst.get(key, 0.0), row["error"] / row["scale"])
    return {"study": "oracle_errors", "dt": DT, "n_steps": N_STEPS, "worst_relative_to_scale": worst, "rows": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    check_output_file(args.out, "--out")
    result = {"command": command_line(), "version": code_version()} | measure()
    atomic_write_json(args.out, result)
    print(json.dumps(result["worst_relative_to_scale"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
