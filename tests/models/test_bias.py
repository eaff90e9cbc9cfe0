"""A constant input (``bias``: NEST's ``I_e``, the bias of a trained network's linear map) in ``lif``, ``li``,
``if`` and ``integrator``, both backends, against closed forms written here.

It enters where the synapse's input enters: the membrane for delta synapses and held drives
(``tau_m dv/dt = v_rest - v + b``), the synaptic current for current synapses (``tau_s dI/dt = b - I``). With
no other input, from ``v = v_rest`` and ``I = 0``::

    lif, delta:     v(t) = v_rest + b (1 - e^{-t/tau_m})
    lif, current:   v(t) = v_rest + b [1 - (tau_m e^{-t/tau_m} - tau_s e^{-t/tau_s}) / (tau_m - tau_s)]
    if, delta:      v(t) = v_rest + b t
    if, current:    v(t) = v_rest + b t - b tau_s (1 - e^{-t/tau_s})

and a LIF whose equilibrium ``v_rest + b`` lies above threshold fires with the period
``tau_m ln((v_rest + b - v_reset) / (v_rest + b - v_th))`` (Gerstner et al. 2014, ch. 1.3), to a step.
"""

import math

import numpy as np
import pytest

import biosnn

DT = 1e-4
N_STEPS = 400
#: closed forms against the exact propagator: a few roundings per step over 400 steps
CLOSED_FORM_ATOL = 1e-12
#: Euler against its closed form v_n = v_eq + (v_0 - v_eq)(1 - dt/tau)^n: the same arithmetic, reordered
EULER_ATOL = 1e-12

BIAS = np.array([-0.3, 0.2, 0.7])  # per neuron
TAU_M, TAU_S, V_REST = 8e-3, 3e-3, 0.1


#: a membrane further than this from rest has been driven (a bias that did nothing leaves it at rest)
MOVED = 1e-3


def _run(model, synapse, backend, discretization="exact", params=None):
    silent = biosnn.SpikeTrains([], [], 1, N_STEPS * DT)
    inputs = np.zeros((N_STEPS, 1)) if synapse == "held" else silent
    kw = dict(bias=BIAS, v_rest=V_REST, tau_s=TAU_S, **(params or {}))
    if model in ("lif", "li"):
        kw["tau_m"] = TAU_M
    return biosnn.simulate(
        model,
        inputs,
        np.zeros((1, 3)),
        backend=backend,
        dt=DT,
        duration=N_STEPS * DT,
        synapse=synapse,
        discretization=discretization,
        params=kw,
    )


T = np.arange(N_STEPS) * DT  # the record holds v at the start of each step


def _lif_delta(t):
    return V_REST + BIAS * -np.expm1(-t[:, None] / TAU_M)


def _lif_current(t):
    t = t[:, None]
    return V_REST + BIAS * (1 - (TAU_M * np.exp(-t / TAU_M) - TAU_S * np.exp(-t / TAU_S)) / (TAU_M - TAU_S))


def _if_delta(t):
    return V_REST + BIAS * t[:, None]


def _if_current(t):
    t = t[:, None]
    return V_REST + BIAS * t - BIAS * TAU_S * -np.expm1(-t / TAU_S)


CASES = [
    ("lif", "delta", _lif_delta),
    ("lif", "held", _lif_delta),
    ("lif", "current", _lif_current),
    ("li", "delta", _lif_delta),
    ("li", "current", _lif_current),
    ("if", "delta", _if_delta),
    ("if", "held", _if_delta),
    ("if", "current", _if_current),
    ("integrator", "delta", _if_delta),
    ("integrator", "held", _if_delta),
    ("integrator", "current", _if_current),
]


@pytest.mark.parametrize("backend", ["brian2", "torch"])
@pytest.mark.parametrize("model, synapse, closed_form", CASES, ids=[f"{m}-{s}" for m, s, _ in CASES])
def test_constant_input_follows_the_closed_form(model, synapse, closed_form, backend):
    params = {"v_th": 50.0} if model in ("lif", "if") else None  # far away: the relaxation alone
    trace = _run(model, synapse, backend, params=params)
    v = trace.v[:, 0, :] if trace.v.ndim == 3 else trace.v
    np.testing.assert_allclose(v, closed_form(T), rtol=0, atol=CLOSED_FORM_ATOL)
    assert np.abs(v[-1] - V_REST).min() > MOVED  # every neuron has moved


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_euler_relaxes_geometrically_to_the_shifted_equilibrium(backend):
    """Forward Euler, delta synapses: v_n = v_eq + (v_rest - v_eq) (1 - dt/tau_m)^n with v_eq = v_rest + b."""
    trace = _run("lif", "delta", backend, discretization="euler", params={"v_th": 50.0})
    n = np.arange(N_STEPS)[:, None]
    expected = V_REST + BIAS - BIAS * (1 - DT / TAU_M) ** n
    np.testing.assert_allclose(trace.v, expected, rtol=0, atol=EULER_ATOL)


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_a_suprathreshold_bias_fires_at_the_analytic_period(backend):
    """v_eq = v_rest + b above v_th: the LIF fires every tau_m ln((v_eq - v_reset)/(v_eq - v_th)) (one step of
    delay per period at most: the threshold is tested on the grid, the hard reset happens at the step's end)."""
    bias = np.array([1.5, 2.0, 4.0])
    duration = 0.2
    trace = biosnn.simulate(
        "lif",
        biosnn.SpikeTrains([], [], 1, duration),
        np.zeros((1, 3)),
        backend=backend,
        dt=DT,
        duration=duration,
        params={"bias": bias, "tau_m": 10e-3},
    )
    for j, b in enumerate(bias):
        period = 10e-3 * math.log(b / (b - 1.0))
        steps = trace.spike_steps[trace.spike_units == j]
        intervals = np.diff(steps)
        # each period is ceil(period / dt) steps: the first step whose end has v >= v_th
        assert steps.size > 3
        assert set(intervals.tolist()) == {math.ceil(period / DT - 1e-9)}
        assert steps[0] == math.ceil(period / DT - 1e-9) - 1


def test_bias_zero_leaves_every_run_bit_for_bit():
    """The default (bias 0) changes nothing: the fused loop and the phases give the same bits with and without an
    explicit zero bias, and a per-neuron zero array (which leaves the fused loop) gives the same spikes."""
    rng = np.random.default_rng(2)
    spikes = biosnn.SpikeTrains.from_raster((rng.random((300, 2, 5)) < 0.1).astype(float), DT)
    w = rng.uniform(0, 0.6, (5, 4))
    kw = dict(backend="torch", dt=DT, duration=300 * DT)
    plain = biosnn.simulate("lif", spikes, w, **kw)
    for bias in (0.0, np.zeros(4)):
        other = biosnn.simulate("lif", spikes, w, params={"bias": bias}, **kw)
        np.testing.assert_array_equal(plain.spike_steps, other.spike_steps)
        np.testing.assert_array_equal(plain.v, other.v)
    assert plain.spike_steps.size > 5


def test_bias_needs_one_value_per_neuron():
    with pytest.raises(biosnn.BiosnnInputError, match="bias"):
        biosnn.simulate(
            "lif",
            biosnn.SpikeTrains([], [], 1, 0.01),
            np.zeros((1, 3)),
            backend="torch",
            dt=DT,
            duration=0.01,
            params={"bias": np.zeros(2)},
        )
    with pytest.raises(biosnn.BiosnnInputError, match="bias"):
        biosnn.simulate(
            "lif",
            biosnn.SpikeTrains([], [], 1, 0.01),
            np.zeros((1, 3)),
            backend="torch",
            dt=DT,
            duration=0.01,
            params={"bias": np.array([0.0, np.nan, 0.0])},
        )


ONSET_STEPS = 37


@pytest.mark.parametrize("copies", [None, 1], ids=["side-by-side", "time-multiplexed"])
@pytest.mark.parametrize("model, synapse, closed_form", CASES, ids=[f"{m}-{s}" for m, s, _ in CASES])
def test_the_bias_switches_on_at_its_onset(model, synapse, closed_form, copies):
    """``bias_onset = k dt``: v stays at v_rest through step k - 1, then follows the closed form shifted by k
    steps; Brian2 (its TimedArray switch, also across the gaps of a time-multiplexed batch) and the mirror alike."""
    silent = biosnn.SpikeTrains([], [], 1, N_STEPS * DT, samples=np.zeros(0, np.int64), n_samples=2)
    inputs = np.zeros((N_STEPS, 2, 1)) if synapse == "held" else silent
    params = dict(bias=BIAS, v_rest=V_REST, tau_s=TAU_S, bias_onset=ONSET_STEPS * DT)
    if model in ("lif", "li"):
        params["tau_m"] = TAU_M
    if model in ("lif", "if"):
        params["v_th"] = 50.0
    expected = np.full((N_STEPS, 3), V_REST)
    expected[ONSET_STEPS:] = closed_form(T[: N_STEPS - ONSET_STEPS])
    net = biosnn.FeedForwardNet(1, (biosnn.LayerSpec(model, 3, params, synapse=synapse),), (np.zeros((1, 3)),))
    for backend in ("brian2", "torch"):
        extra = {"copies": copies} if backend == "brian2" else {}
        (layer,) = biosnn.simulate_network(
            net, inputs, backend=backend, dt=DT, duration=N_STEPS * DT, record=True, **extra
        )
        for b in range(2):
            np.testing.assert_allclose(layer.v[:, b, :], expected, rtol=0, atol=CLOSED_FORM_ATOL)


def test_an_onset_off_the_grid_is_refused_before_any_work():
    with pytest.raises(biosnn.BiosnnInputError, match="bias_onset is a whole number of steps"):
        biosnn.simulate(
            "lif",
            biosnn.SpikeTrains([], [], 1, 0.01),
            np.zeros((1, 3)),
            backend="brian2",
            dt=DT,
            duration=0.01,
            params={"bias": 0.5, "bias_onset": 2.5 * DT},
        )
