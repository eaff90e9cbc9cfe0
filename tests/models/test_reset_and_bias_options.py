"""Two named model options, each against an independent computation in both backends.

* The adaptive LIF's ``subtract_adaptive`` reset (Bellec et al. 2018's LSNN: subtract the adaptive threshold
  ``v_th + beta a`` reached) against a scalar loop written here from the equations, beside the LIF's
  ``subtract`` (the baseline distance ``v_th - v_reset``).
* Where a constant input enters beside a current synapse: ``current`` filters it through ``tau_s``,
  ``current_membrane_bias`` adds it to the membrane (NEST's ``I_e``; ``tests/equivalence/test_nest.py`` holds
  it against NEST): each against its closed form.
"""

import math

import numpy as np
import pytest
from tolerances import CLOSED_FORM

import biosnn
from biosnn.core.spikes import SpikeTrains

DT = 1e-4
TAU_M, TAU_A, TAU_S = 10e-3, 30e-3, 4e-3
V_TH, V_RESET, BETA = 1.0, 0.1, 0.6


def _adaptive_reference(drive_steps, w, reset, n_steps):
    """One adaptive LIF neuron, exact integration, delta input of weight ``w`` at ``drive_steps`` (arriving at the
    end of the next step, the exact schedule), written from docs/models.md: v at the start of every step."""
    decay, adaptation = math.exp(-DT / TAU_M), math.exp(-DT / TAU_A)
    arrivals = {s + 1 for s in drive_steps}
    v, a, out, fired = 0.0, 0.0, [], []
    for n in range(n_steps):
        out.append(v)
        v, a = v * decay, a * adaptation
        if n in arrivals:
            v += w
        if v >= V_TH + BETA * a:
            fired.append(n)
            v -= (V_TH + BETA * a - V_RESET) if reset == "subtract_adaptive" else (V_TH - V_RESET)
            a += 1.0
    return np.array(out), fired


@pytest.mark.parametrize("backend", ["brian2", "torch"])
@pytest.mark.parametrize("reset", ["subtract", "subtract_adaptive"])
def test_adaptive_resets_against_the_equations(backend, reset):
    steps = list(range(0, 300, 7))
    n_steps = 320
    spikes = SpikeTrains(np.array(steps) * DT, np.zeros(len(steps), dtype=int), 1, n_steps * DT)
    params = {"tau_m": TAU_M, "tau_a": TAU_A, "v_th": V_TH, "v_reset": V_RESET, "beta": BETA, "v_rest": 0.0}
    trace = biosnn.simulate(
        "adaptive_lif",
        spikes,
        np.array([[0.45]]),
        backend=backend,
        dt=DT,
        duration=n_steps * DT,
        params=params,
        reset=reset,
    )
    expected_v, expected_spikes = _adaptive_reference(steps, 0.45, reset, n_steps)
    assert len(expected_spikes) >= 4  # the adaptation has grown between resets
    np.testing.assert_array_equal(trace.spike_steps, expected_spikes)
    assert np.abs(trace.v[:, 0] - expected_v).max() <= CLOSED_FORM


def test_the_two_subtractive_resets_differ_by_beta_a_and_agree_without_adaptation():
    """After the second spike (a > 0) Bellec's reset leaves v lower by beta a; with beta = 0 the two are one."""
    steps = list(range(0, 300, 7))
    spikes = SpikeTrains(np.array(steps) * DT, np.zeros(len(steps), dtype=int), 1, 0.032)
    common = dict(dt=DT, duration=0.032, backend="torch")

    def run(reset, beta):
        params = {"tau_m": TAU_M, "tau_a": TAU_A, "v_reset": V_RESET, "beta": beta}
        return biosnn.simulate("adaptive_lif", spikes, np.array([[0.45]]), params=params, reset=reset, **common)

    baseline, bellec = run("subtract", BETA), run("subtract_adaptive", BETA)
    first = int(bellec.spike_steps[0])
    np.testing.assert_array_equal(baseline.v[: first + 1], bellec.v[: first + 1])  # a = 0 at the first spike
    assert not np.array_equal(baseline.spike_steps, bellec.spike_steps)
    np.testing.assert_array_equal(run("subtract", 0.0).v, run("subtract_adaptive", 0.0).v)


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_where_the_constant_input_enters_beside_a_current_synapse(backend):
    """No input spikes, bias b from t = 0, v_rest = 0: into the membrane ``v = b (1 - e^{-t/tau_m})``; through
    the synapse ``v = b (1 - (tau_m e^{-t/tau_m} - tau_s e^{-t/tau_s}) / (tau_m - tau_s))``."""
    b = 0.7
    n_steps = 600
    t = np.arange(n_steps) * DT
    spikes = SpikeTrains(np.array([]), np.array([], dtype=int), 1, n_steps * DT)
    params = {"tau_m": TAU_M, "tau_s": TAU_S, "bias": b}
    runs = {
        synapse: biosnn.simulate(
            "lif",
            spikes,
            np.zeros((1, 1)),
            backend=backend,
            dt=DT,
            duration=n_steps * DT,
            params=params,
            synapse=synapse,
        ).v[:, 0]
        for synapse in ("current", "current_membrane_bias")
    }
    membrane = b * (1 - np.exp(-t / TAU_M))
    filtered = b * (1 - (TAU_M * np.exp(-t / TAU_M) - TAU_S * np.exp(-t / TAU_S)) / (TAU_M - TAU_S))
    assert np.abs(runs["current_membrane_bias"] - membrane).max() <= CLOSED_FORM
    assert np.abs(runs["current"] - filtered).max() <= CLOSED_FORM
    assert runs["current"][1] < runs["current_membrane_bias"][1]  # the filtered input lags
    assert abs(runs["current"][-1] - runs["current_membrane_bias"][-1]) <= 0.01 * b  # the same equilibrium b
