"""Gamma-cascade sigma-delta neurons (the model's tests in one place; the study's are in tests/studies/test_gamma_task.py):
Brian2 == torch, kernels, reconstruction, and multi-layer networks (exact transfer, the straight-through
reconstruction)."""

import math

import numpy as np
import pytest
import torch

import biosnn
from biosnn import BiosnnInputError, simulate_network
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import V_TOLERANCE
from biosnn.models.network import FeedForwardNet, LayerSpec
from biosnn.torch.dynamics.gamma_cascade import cascade_propagator
from biosnn.torch.layer import Layer
from biosnn.torch.network import FeedForward, delayed

from .equivalence import assert_equivalent

MODEL = "gamma_cascade"
#: propagated kernel (matrix exponential, or Brian2's closed form) vs the analytic kernel: float64
#: rounding accumulated over <= 1e3 steps of O(1) values
KERNEL_TOLERANCE = 1e-12


def _case(bucket_tau, seed=0, n_in=5, n=4, batch=2, n_steps=500, dt=1e-4, rate=100.0):
    rng = np.random.default_rng(seed)
    spikes = poisson_spike_trains(rng, n_in, rate, n_steps * dt, dt, batch)
    weights = rng.uniform(-0.2, 0.6, size=(n_in, n))
    params = dict(
        bucket_tau=bucket_tau,
        bucket_weight=rng.uniform(0, 1, (n, len(bucket_tau))),
        bias=rng.uniform(-0.1, 0.1, n),
        theta0=0.05,
        m_f=0.5,
        tau_theta=20e-3,
    )
    return spikes, weights, dict(dt=dt, duration=n_steps * dt, params=params)


@pytest.mark.parametrize(
    "bucket_tau", [(5e-3,), (2e-3, 5e-3, 9e-3), (3e-3, 3e-3 * (1 + 1e-6), 8e-3)], ids=["K1", "distinct", "near-equal"]
)  # equal rates: the registry's validation case
def test_gamma_cascade_brian_equals_torch(bucket_tau):
    spikes, weights, kw = _case(bucket_tau)
    ref = biosnn.simulate(MODEL, spikes, weights, backend="brian2", **kw)
    mirror = biosnn.simulate(MODEL, spikes, weights, backend="torch", **kw)
    assert np.all(np.isfinite(ref.v))
    assert assert_equivalent(ref, mirror).n_spikes_a > 20


def _impulse_response(bucket_tau, dt, n_steps):
    P = cascade_propagator(torch.as_tensor(bucket_tau, dtype=torch.float64), dt).numpy()
    b = np.zeros(len(bucket_tau))
    b[0] = 1.0
    out = []
    for _ in range(n_steps):
        out.append(b.copy())
        b = P @ b
    return np.array(out)  # [T, K], value at t = n dt after the impulse


def test_equal_rate_impulse_response_is_the_gamma_kernel():
    tau, dt, K = 4e-3, 1e-4, 4
    alpha = 1 / tau
    t = np.arange(600) * dt
    response = _impulse_response([tau] * K, dt, 600)
    for k in range(1, K + 1):
        kernel = alpha ** (k - 1) * t ** (k - 1) * np.exp(-alpha * t) / math.factorial(k - 1)
        np.testing.assert_allclose(response[:, k - 1], kernel, atol=KERNEL_TOLERANCE, rtol=0)


def test_distinct_rate_impulse_response_is_hypoexponential():
    taus, dt = np.array([2e-3, 5e-3, 9e-3]), 1e-4
    alpha = 1 / taus
    t = np.arange(600) * dt
    response = _impulse_response(taus, dt, 600)
    for k in range(1, 4):
        a = alpha[:k]
        kernel = np.prod(a[:-1]) * sum(
            np.exp(-a[m] * t) / np.prod([a[l] - a[m] for l in range(k) if l != m]) for m in range(k)
        )
        np.testing.assert_allclose(response[:, k - 1], kernel, atol=KERNEL_TOLERANCE, rtol=0)


def test_brian2_buckets_follow_the_kernel():
    """One input spike, v selecting bucket k: Brian2's x is the kernel (after the one-step latency)."""
    dt, tau, K = 1e-4, 3e-3, 3
    spikes = biosnn.SpikeTrains([0.0], [0], 1, 400 * dt)
    for k in range(K):
        v = np.zeros(K)
        v[k] = 1.0
        trace = biosnn.simulate(
            MODEL,
            spikes,
            np.array([[1.0]]),
            backend="brian2",
            dt=dt,
            duration=400 * dt,
            params=dict(bucket_tau=(tau,) * K, bucket_weight=v, theta0=1e3),
        )
        n = np.arange(2, 400)  # delivered in step 1, read at the start of step 2 onwards
        s = (n - 2) * dt
        kernel = (s / tau) ** k * np.exp(-s / tau) / math.factorial(k)
        np.testing.assert_allclose(trace.states["x"][2:, 0], kernel, atol=KERNEL_TOLERANCE, rtol=0)


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_reconstruction_tracks_y_within_theta(backend):
    """Sigma-delta coding with fixed theta: when y rises by less than theta/2 per step, the
    reconstruction never lags y by theta/2 or more (a spike is emitted first), and on average
    r stays within theta of y."""
    rng = np.random.default_rng(2)
    dt, n_steps = 1e-4, 2000
    spikes = poisson_spike_trains(rng, 40, 400.0, n_steps * dt, dt, 2)
    weights = rng.uniform(0.0, 0.004, size=(40, 3))
    params = dict(bucket_tau=(4e-3, 4e-3), bucket_weight=(1.0, 0.5), theta0=0.05, m_f=0.0)
    trace = biosnn.simulate(MODEL, spikes, weights, backend=backend, dt=dt, duration=n_steps * dt, params=params)
    y, r, theta = trace.v[1:], trace.states["r"][1:], trace.states["theta"][1:]
    assert np.max(np.diff(trace.v, axis=0)) < 0.025  # the regime the claim is about
    assert np.all(y - r < theta / 2)
    assert np.mean(np.abs(y - r)) < 0.05 and y.mean() > 0.1
    assert trace.spike_times.size > 100


def test_per_synapse_bucket_weights_brian_equals_torch():
    """The option x_j = sum_i w_ij sum_k v_ijk B_ik (one bucket weight per synapse)."""
    spikes, weights, kw = _case((3e-3, 6e-3, 6e-3), seed=5)
    rng = np.random.default_rng(5)
    kw["params"]["bucket_weight"] = rng.uniform(-0.5, 1.5, size=(5, 4, 3))
    ref = biosnn.simulate(MODEL, spikes, weights, backend="brian2", **kw)
    mirror = biosnn.simulate(MODEL, spikes, weights, backend="torch", **kw)
    assert assert_equivalent(ref, mirror).n_spikes_a > 20
    with pytest.raises(biosnn.BiosnnInputError, match="per-synapse bucket_weight must be"):
        biosnn.simulate(
            MODEL,
            spikes,
            weights,
            backend="torch",
            **{**kw, "params": {**kw["params"], "bucket_weight": np.ones((4, 4, 3))}},
        )


# -- networks of gamma layers (formerly tests/test_gamma_network.py) -------------------------------------
DT, T = 1e-3, 60
GAMMA = dict(bucket_tau=(3e-3, 3e-3, 5e-3), theta0=0.05)


def _layers(first: str, rng):
    if first == "gamma_cascade":
        l0 = LayerSpec("gamma_cascade", 6, dict(GAMMA, bucket_weight=rng.uniform(0, 1, (6, 3))))
    else:
        l0 = LayerSpec("lif", 6, dict(tau_m=5e-3))
    return [l0, LayerSpec("gamma_cascade", 3, dict(GAMMA, bucket_weight=rng.uniform(0, 1, (3, 3))))]


@pytest.mark.parametrize("first", ["gamma_cascade", "lif"])
def test_two_layer_gamma_network_transfers_exactly(first):
    """gamma -> gamma (receivers read the sender's own cascade, fed by its charges theta)
    and lif -> gamma (a cascade fed with q = 1 per spike): identical spikes, y within 1e-9."""
    rng = np.random.default_rng(0)
    weights = [rng.uniform(-0.2, 0.8, (5, 6)), rng.uniform(-0.5, 1.0, (6, 3))]
    net = FeedForward(5, _layers(first, rng), dt=DT, weights=weights).double()
    spikes = poisson_spike_trains(rng, 5, 80.0, T * DT, DT, 3, off_grid=False)
    with torch.no_grad():
        runs = net(torch.as_tensor(spikes.to_raster(DT, T)), record=True)
    activity = simulate_network(net.export(), spikes, backend="brian2", dt=DT, duration=T * DT, record=True)
    for run, act in zip(runs, activity):
        steps, samples, units = np.nonzero(run.output.numpy())
        assert set(zip(samples.tolist(), units.tolist(), steps.tolist())) == act.keys()
        assert np.abs(run.recorded[act.main].numpy() - act.v).max() < V_TOLERANCE
    assert all(len(a.spike_steps) > 10 for a in activity)


def test_straight_through_has_the_charges_value_and_the_smooth_gradient():
    """A gamma layer passes on its charges theta * s; backward, the charge sequence whose
    reconstruction is y: u[n] = y[n] - decay * y[n - 1] (decay = exp(-dt / tau_1)), so the
    gradient of sum(out * g) w.r.t. y is that of sum(u * g) (``docs/models.md``)."""
    rng = np.random.default_rng(1)
    layer = Layer("gamma_cascade", dt=DT, n_neurons=3, params=dict(GAMMA, bucket_weight=rng.uniform(0, 1, (3, 3))))
    drive = torch.as_tensor(rng.uniform(0, 0.8, (40, 2, 3)))
    out, recorded, final = layer(drive, record=True)
    charges = out.detach()
    assert torch.all((charges == 0) | (charges > 0)) and (charges > 0).sum() > 5
    # forward value: the charge is the threshold at emission, what a receiver's first bucket gets
    fired = charges > 0
    theta_before_reset = recorded["theta"][1:][fired[:-1]] / (1 + layer.parameters_si["m_f"])
    torch.testing.assert_close(charges[:-1][fired[:-1]], theta_before_reset)
    # backward: the gradient with respect to the bias equals that of u = y - decay * delayed(y)
    g = torch.as_tensor(rng.normal(size=out.shape))
    (out * g).sum().backward(retain_graph=True)
    via_output = layer.bias.grad.clone()
    layer.bias.grad = None
    y = torch.cat([recorded["y"][1:], final["y"][None]])  # y computed in each step
    decay = float(np.exp(-DT / GAMMA["bucket_tau"][0]))
    ((y - decay * delayed(y)) * g).sum().backward()
    torch.testing.assert_close(via_output, layer.bias.grad)
    assert via_output.abs().sum() > 0


def test_gradients_reach_the_first_gamma_layer():
    """Without the straight-through path the emission (not differentiated) would cut them."""
    rng = np.random.default_rng(2)
    net = FeedForward(
        5,
        _layers("gamma_cascade", rng),
        dt=DT,
        weights=[rng.uniform(-0.2, 0.8, (5, 6)), rng.uniform(-0.5, 1.0, (6, 3))],
    ).double()
    spikes = poisson_spike_trains(rng, 5, 80.0, T * DT, DT, 3, off_grid=False)
    runs = net(torch.as_tensor(spikes.to_raster(DT, T)), record=True)
    runs[-1].recorded["y"].mean().backward()
    assert net.weights[0].grad.abs().sum() > 0 and net.neurons[0].bucket_weight.grad.abs().sum() > 0


def test_gamma_spikes_only_feed_gamma_layers():
    with pytest.raises(BiosnnInputError, match="only a cascade layer can receive them"):
        FeedForwardNet(
            2, (LayerSpec("gamma_cascade", 3, GAMMA), LayerSpec("lif", 2)), (np.ones((2, 3)), np.ones((3, 2)))
        )
