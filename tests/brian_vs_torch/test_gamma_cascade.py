"""Gamma-cascade sigma-delta neurons: Brian2 == torch, kernels, reconstruction."""

import math

import numpy as np
import pytest
import torch

import biosnn
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.torch.dynamics.gamma_cascade import cascade_propagator

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
