"""Time constants per neuron (``tau_m``, ``tau_s``, the adaptive LIF's ``tau_a``; PLIF's ``a``) in both backends.

Brian2 gives every neuron its own high-precision exact propagator (``biosnn/brian/integration.py``:
``per_neuron_propagators``), the mirror its own exprel form (``biosnn/torch/dynamics/lif.py``). Checked
against each other (time constants log-uniform in 2-200 ms), against the layer of scalar parameters run
neuron by neuron, and against the 120-digit oracle (``biosnn/equivalence/oracle.py``) at the edges: tau_s
equal or near-equal to tau_m per neuron, tau_m from dt / 2000 (where the mirror's former
``r e^{-r} exprel(r - r_s)`` overflowed to NaN) to 1e4 dt.
"""

import numpy as np
import pytest
import torch
from tolerances import SUMMATION

import biosnn
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import V_TOLERANCE
from biosnn.equivalence.oracle import current_synapse_response, exponential_decay
from biosnn.models.network import LayerSpec
from biosnn.torch.layer import Layer
from biosnn.torch.network import FeedForward

DT = 1e-4
DURATION = 0.04
N = 6
#: float64 rounding accumulated over the oracle cases' 400 steps (the scalar oracle test's bound,
#: tests/equivalence/test_oracle.py: measured worst 1.3e-14)
ORACLE_RTOL = 1e-12
#: fused adjoint against autograd through the phases, relative to the largest entry (tests/torch/test_fused.py)
GRADIENT_RTOL_FLOAT64 = 1e-11


def _log_uniform(rng, low, high, n=N):
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def _time_constants(rng, model, discretization):
    taus = {"tau_m": _log_uniform(rng, 2e-3, 200e-3), "tau_s": _log_uniform(rng, 2e-3, 200e-3)}
    if model == "adaptive_lif":
        taus["tau_a"] = _log_uniform(rng, 2e-3, 200e-3)
    return taus


def _case(model, synapse, discretization, seed=4):
    rng = np.random.default_rng(seed)
    spikes = poisson_spike_trains(rng, 5, 400.0, DURATION, DT, 2)
    scale = {"delta": 0.5, "current": 2.0}[synapse]
    weights = rng.uniform(-0.2, 0.6, size=(5, N)) * scale
    params = _time_constants(rng, model, discretization)
    if model != "li":
        params["t_ref"] = 1e-3  # the refractory switch: two propagators per neuron in Brian2
    return spikes, weights, params


@pytest.mark.parametrize("discretization", ["exact", "euler"])
@pytest.mark.parametrize("synapse", ["delta", "current"])
@pytest.mark.parametrize("model", ["lif", "plif", "adaptive_lif", "li"])
def test_time_constants_per_neuron_brian2_equals_torch(model, synapse, discretization):
    spikes, weights, params = _case(model, synapse, discretization)
    kw = dict(dt=DT, duration=DURATION, params=params, synapse=synapse, discretization=discretization)
    ref = biosnn.simulate(model, spikes, weights, backend="brian2", **kw)
    mirror = biosnn.simulate(model, spikes, weights, backend="torch", **kw)
    np.testing.assert_array_equal(ref.spike_steps, mirror.spike_steps)
    np.testing.assert_array_equal(ref.spike_units, mirror.spike_units)
    assert np.abs(ref.v - mirror.v).max() <= V_TOLERANCE
    if model != "li":
        assert len(np.unique(ref.spike_units)) >= 3  # several neurons fire: resets and refractoriness ran


@pytest.mark.parametrize("backend", ["brian2", "torch"])
@pytest.mark.parametrize("model, synapse", [("lif", "current"), ("adaptive_lif", "delta")])
def test_each_neuron_is_the_scalar_layer_of_its_own_time_constants(backend, model, synapse):
    """The per-neuron layer, neuron by neuron, is the layer of scalar time constants (Brian2's literal
    propagators; the mirror's scalar path): per-neuron values reach the right neuron, in both backends."""
    spikes, weights, params = _case(model, synapse, "exact", seed=7)
    kw = dict(dt=DT, duration=DURATION, synapse=synapse, backend=backend)
    layer = biosnn.simulate(model, spikes, weights, params=params, **kw)
    fired = 0
    for j in range(N):
        own = {k: (v[j] if np.ndim(v) else v) for k, v in params.items()}
        alone = biosnn.simulate(model, spikes, weights[:, j : j + 1], params=own, **kw)
        mine = layer.spike_units == j
        np.testing.assert_array_equal(alone.spike_steps, layer.spike_steps[mine])
        np.testing.assert_array_equal(alone.spike_samples, layer.spike_samples[mine])
        assert np.abs(alone.v[..., 0] - layer.v[..., j]).max() <= SUMMATION
        fired += int(mine.any())
    assert fired >= 3


#: per neuron (tau_m, tau_s / tau_m): tau_m from dt / 2000 to 1e4 dt; tau_s equal, 1e-12, 1e-9 and 9e-5 apart
EDGES = [
    (tau_m, ratio)
    for tau_m in (DT / 2000, 0.5 * DT, 2e-3, 20e-3, 1e4 * DT)
    for ratio in (1.0, 1 + 1e-12, 1 + 1e-9, 1 + 9e-5, 0.3, 3.0)
]
ORACLE_STEPS = 400


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_current_synapse_per_neuron_equals_the_oracle(backend):
    """One layer holding every edge, one neuron each: after one current pulse each membrane is the
    oracle's ``w a (e^{-b t} - e^{-a t}) / (a - b)`` of its own time constants, to float64 rounding."""
    tau_m = np.array([e[0] for e in EDGES])
    tau_s = tau_m * np.array([e[1] for e in EDGES])
    w, v_rest = 1.5, -0.3
    spikes = biosnn.SpikeTrains([0.0], [0], 1, ORACLE_STEPS * DT)
    params = {"tau_m": tau_m, "tau_s": tau_s, "v_rest": v_rest, "v_reset": v_rest, "v_th": 1e9}
    trace = biosnn.simulate(
        "lif",
        spikes,
        np.full((1, len(EDGES)), w),
        backend=backend,
        dt=DT,
        duration=ORACLE_STEPS * DT,
        synapse="current",
        params=params,
    )
    assert np.all(np.isfinite(trace.v))
    s = np.arange(ORACLE_STEPS - 2) * DT  # the pulse enters I at the end of step 1 (exact schedule)
    for j in range(len(EDGES)):
        exact = v_rest + current_synapse_response(w, tau_m[j], tau_s[j], s)
        error = np.abs(trace.v[2:, j] - exact).max()
        assert error <= ORACLE_RTOL * max(1.0, abs(w), abs(v_rest)), (EDGES[j], error)


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_delta_synapse_per_neuron_decays_as_the_oracle(backend):
    """A delta pulse into neurons of tau_m from dt / 2000 to 1e4 dt: ``w e^{-t / tau_m}`` each."""
    tau_m = np.array([DT / 2000, 0.5 * DT, DT, 2e-3, 20e-3, 1e4 * DT])
    w = 0.8
    spikes = biosnn.SpikeTrains([0.0], [0], 1, ORACLE_STEPS * DT)
    trace = biosnn.simulate(
        "lif",
        spikes,
        np.full((1, tau_m.size), w),
        backend=backend,
        dt=DT,
        duration=ORACLE_STEPS * DT,
        params={"tau_m": tau_m, "v_th": 1e9},
    )
    s = np.arange(ORACLE_STEPS - 2) * DT  # the pulse arrives at the end of step 1 (exact schedule), then decays
    for j, tau in enumerate(tau_m):
        error = np.abs(trace.v[2:, j] - exponential_decay(w, tau, s)).max()
        assert error <= ORACLE_RTOL, (tau, error)


def test_plif_learns_one_time_constant_per_neuron():
    """``tau_m`` per neuron gives PLIF one ``a`` per neuron: each neuron's own gradient, exported back to
    the same time constants (Brian2's twin reads them: the equivalence test above runs plif)."""
    tau_m = np.array([3e-3, 10e-3, 40e-3, 150e-3])
    layer = Layer("plif", dt=1e-3, n_neurons=4, n_inputs=3, params={"tau_m": tau_m})
    assert tuple(layer.a.shape) == (4,)
    np.testing.assert_allclose(layer.exported_parameters()["tau_m"], tau_m, rtol=SUMMATION)
    drive = torch.as_tensor(np.random.default_rng(0).uniform(0, 0.7, (50, 2, 4)))
    layer(drive).sum().backward()
    grad = layer.a.grad
    assert torch.all(grad != 0) and len(set(grad.tolist())) == 4


@pytest.mark.parametrize("model", ["lif", "plif"])
def test_fused_loop_with_time_constants_per_neuron_is_the_reference_loop(model):
    """The fused loop takes a per-neuron decay: identical float64 outputs, gradients to rounding."""
    rng = np.random.default_rng(2)
    sizes = (12, 9, 3)
    weights = [rng.normal(0, 1.2, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    layers = [
        LayerSpec(model, 9, {"tau_m": _log_uniform(rng, 2e-3, 200e-3, 9)}, reset="subtract"),
        LayerSpec("li", 3, {"tau_m": _log_uniform(rng, 2e-3, 200e-3, 3)}),
    ]
    nets = [FeedForward(12, layers, dt=1e-3, weights=weights, fused=fused) for fused in (True, False)]
    assert nets[0].neurons[0].fused_loop is not None and nets[1].neurons[0].fused_loop is None
    x = torch.as_tensor(rng.random((60, 4, 12)) < 0.2, dtype=torch.float64)
    results = []
    for net in nets:
        out = net(x)
        (out[-1].sum() + out[0].sum()).backward()
        results.append(([o.detach() for o in out], {k: p.grad.clone() for k, p in net.named_parameters()}))
    (out_f, grad_f), (out_p, grad_p) = results
    assert int(out_p[0].sum()) > 20
    for a, b in zip(out_f, out_p):
        assert torch.equal(a, b)
    for name, g in grad_p.items():
        assert float((grad_f[name] - g).abs().max()) <= GRADIENT_RTOL_FLOAT64 * float(g.abs().max()), name


def test_bad_time_constants_per_neuron_are_refused():
    spikes = biosnn.SpikeTrains([0.0], [0], 1, 0.01)
    w = np.ones((1, 3))
    with pytest.raises(biosnn.BiosnnInputError, match="tau_m has 2 values for 3 neurons"):
        biosnn.simulate("lif", spikes, w, dt=DT, duration=0.01, params={"tau_m": [1e-2, 2e-2]}, backend="torch")
    with pytest.raises(biosnn.BiosnnInputError, match="out of range"):
        biosnn.simulate("lif", spikes, w, dt=DT, duration=0.01, params={"tau_m": [1e-2, 0.0, 2e-2]}, backend="brian2")
    with pytest.raises(biosnn.BiosnnInputError, match="smallest tau_m"):
        biosnn.simulate(
            "lif",
            spikes,
            w,
            dt=DT,
            duration=0.01,
            params={"tau_m": [1e-2, 5e-5, 2e-2]},
            discretization="euler",
            backend="brian2",
        )
    with pytest.raises(biosnn.BiosnnInputError, match="constraint tau_m > dt violated"):
        Layer("plif", dt=1e-3, n_neurons=3, params={"tau_m": [5e-3, 1e-3, 4e-3]})


def test_the_coupling_gradient_is_the_true_derivative_at_and_near_equal_rates():
    """``coupling(r, r_s)`` switches form at ``r == r_s``; its autograd derivative there (and on both sides) is
    the finite difference of the closed form ``r (e^{-r_s} - e^{-r}) / (r - r_s)`` (``r e^{-r}`` at the tie),
    evaluated in 50-digit arithmetic: a PLIF layer at ``tau_m = tau_s`` learns with the right gradient."""
    import mpmath

    from biosnn.torch.dynamics.lif import coupling

    def exact(r, r_s):
        with mpmath.workdps(50):
            r, r_s = mpmath.mpf(r), mpmath.mpf(r_s)
            return r * mpmath.exp(-r) if r == r_s else r * (mpmath.exp(-r_s) - mpmath.exp(-r)) / (r - r_s)

    for r_value, r_s_value in ((0.3, 0.3), (0.3, 0.3 + 1e-9), (0.3, 0.2), (0.2, 0.3), (800.0, 0.5)):
        r = torch.tensor(r_value, dtype=torch.float64, requires_grad=True)
        r_s = torch.tensor(r_s_value, dtype=torch.float64, requires_grad=True)
        grad_r, grad_r_s = torch.autograd.grad(coupling(r, r_s), (r, r_s))
        h = 1e-7
        with mpmath.workdps(50):
            fd_r = (exact(r_value + h, r_s_value) - exact(r_value - h, r_s_value)) / (2 * h)
            fd_r_s = (exact(r_value, r_s_value + h) - exact(r_value, r_s_value - h)) / (2 * h)
        assert abs(float(grad_r) - float(fd_r)) <= 1e-8 * max(1.0, abs(float(fd_r))), (r_value, r_s_value)
        assert abs(float(grad_r_s) - float(fd_r_s)) <= 1e-8 * max(1.0, abs(float(fd_r_s))), (r_value, r_s_value)
