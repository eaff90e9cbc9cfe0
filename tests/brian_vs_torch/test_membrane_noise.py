"""Membrane white noise and escape noise in both backends on the same draws (biosnn/core/noise.py; Brian2's
``biosnn_normal`` / ``biosnn_uniform``, the mirror's ``biosnn/torch/noise.py``): equal to 1e-9 with identical
spikes, the free membrane's variance against the Ornstein-Uhlenbeck value (exact) and the Euler-Maruyama
recurrence's, one noise path at every dt, escape-noise spike counts against the integrated hazard, and the
settings carried by a saved network."""

import math

import numpy as np
import pytest

import biosnn
from biosnn.core.errors import BiosnnInputError
from biosnn.core.noise import EscapeNoise, WhiteNoise
from biosnn.core.spikes import SpikeTrains
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import V_TOLERANCE
from biosnn.models.network import FeedForwardNet, LayerSpec
from biosnn.simulation import simulate_network

DT = 1e-4
#: a sample variance within this many standard errors of the theory (a false failure once in ~1.7e6)
STANDARD_ERRORS = 5


@pytest.mark.parametrize("discretization", ["exact", "euler"])
@pytest.mark.parametrize(
    "model, synapse",
    [("lif", "delta"), ("lif", "current"), ("plif", "delta"), ("adaptive_lif", "current"), ("li", "delta")],
)
def test_brian2_and_torch_add_the_same_noise(model, synapse, discretization):
    rng = np.random.default_rng(1)
    spikes = poisson_spike_trains(rng, 4, 300.0, 0.04, DT, 2)
    weights = rng.uniform(-0.2, 0.6, size=(4, 5)) * (3 if synapse == "current" else 1)
    params = {"tau_m": np.exp(rng.uniform(np.log(2e-3), np.log(50e-3), 5))}  # one per neuron
    if model != "li":
        params["t_ref"] = 1e-3  # no noise while the membrane is clamped
    noise = WhiteNoise(sigma=2.0, fine_dt=DT / 2, seed=3, stream=1)
    kw = dict(dt=DT, duration=0.04, params=params, synapse=synapse, discretization=discretization, noise=noise)
    ref = biosnn.simulate(model, spikes, weights, backend="brian2", **kw)
    mirror = biosnn.simulate(model, spikes, weights, backend="torch", **kw)
    quiet = biosnn.simulate(model, spikes, weights, backend="torch", **{**kw, "noise": None})
    np.testing.assert_array_equal(ref.spike_steps, mirror.spike_steps)
    np.testing.assert_array_equal(ref.spike_units, mirror.spike_units)
    assert np.abs(ref.v - mirror.v).max() <= V_TOLERANCE
    assert np.abs(mirror.v - quiet.v).max() > 0.1  # the noise is there


def _free(backend, dt, n, steps, noise, discretization="exact", tau=5e-3):
    """A free membrane (no input, no threshold within reach): v [steps, n] from v = 0."""
    spikes = SpikeTrains(np.array([]), np.array([], dtype=int), 1, steps * dt)
    return biosnn.simulate(
        "lif",
        spikes,
        np.zeros((1, n)),
        backend=backend,
        dt=dt,
        duration=steps * dt,
        params={"tau_m": tau, "v_th": 1e9},
        discretization=discretization,
        noise=noise,
    ).v


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_the_free_membrane_has_the_ornstein_uhlenbeck_variance(backend):
    """Snapshots 10 tau apart (independent to e^-10) after 10 tau: 20 x 200 samples of a stationary Gaussian of
    variance sigma^2 tau / 2; relative standard error sqrt(2 / 4000)."""
    tau, sigma, n = 5e-3, 0.8, 200
    spacing = int(10 * tau / DT)
    v = _free(backend, DT, n, 21 * spacing, WhiteNoise(sigma, DT, seed=9), tau=tau)
    samples = v[spacing::spacing].ravel()
    expected = sigma**2 * tau / 2
    assert abs(samples.var() / expected - 1) <= STANDARD_ERRORS * math.sqrt(2 / samples.size)


def test_one_noise_path_at_every_dt_in_both_backends():
    """The free membrane at 4 dt is the one at dt read every 4th step (the same fine increments, composed)."""
    noise = WhiteNoise(0.8, DT, seed=4, stream=2)
    for backend in ("brian2", "torch"):
        fine = _free(backend, DT, 8, 400, noise)
        coarse = _free(backend, 4 * DT, 8, 100, noise)
        assert np.abs(coarse - fine[::4]).max() <= 1e-14


def test_noise_settings_travel_with_a_saved_network(tmp_path):
    layer = LayerSpec(
        "lif",
        3,
        {"tau_m": 10e-3},
        noise=WhiteNoise(0.5, 1e-4, seed=2**40, stream=3),
        escape=EscapeNoise(500.0, 0.05, seed=7, stream=4),
    )
    net = FeedForwardNet(2, (layer,), (np.ones((2, 3)),))
    net.save(tmp_path / "net.npz")
    loaded = FeedForwardNet.load(tmp_path / "net.npz")
    assert loaded.layers[0].noise == layer.noise and loaded.layers[0].escape == layer.escape
    assert loaded.digest() == net.digest()
    other = FeedForwardNet(
        2, (LayerSpec("lif", 3, {"tau_m": 10e-3}, noise=WhiteNoise(0.5, 1e-4, seed=1)),), (np.ones((2, 3)),)
    )
    assert other.digest() != net.digest()


def test_noise_is_refused_where_it_cannot_be_drawn_the_same_way():
    spikes = poisson_spike_trains(np.random.default_rng(0), 2, 100.0, 0.01, DT, 3)
    noisy = FeedForwardNet(2, (LayerSpec("lif", 3, noise=WhiteNoise(0.5, DT, seed=0)),), (np.ones((2, 3)),))
    with pytest.raises(BiosnnInputError, match="one copy of the network per sample"):
        simulate_network(noisy, spikes, backend="brian2", dt=DT, duration=0.01, copies=1)
    with pytest.raises(BiosnnInputError, match="takes no escape noise"):
        FeedForwardNet(2, (LayerSpec("li", 3, escape=EscapeNoise(1e3, 0.1, seed=0)),), (np.ones((2, 3)),))
    with pytest.raises(BiosnnInputError, match="delta must be finite and > 0"):
        EscapeNoise(1e3, 0.0, seed=0)
    with pytest.raises(BiosnnInputError, match="takes no membrane noise"):
        FeedForwardNet(2, (LayerSpec("gamma_cascade", 3, noise=WhiteNoise(0.5, DT, seed=0)),), (np.ones((2, 3)),))
    with pytest.raises(BiosnnInputError, match="not a whole multiple"):
        biosnn.simulate(
            "lif", spikes, np.ones((2, 3)), backend="torch", dt=DT, duration=0.01, noise=WhiteNoise(0.5, 3e-4, seed=0)
        )


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("cython", marks=pytest.mark.cython),
        pytest.param("cpp_standalone", marks=pytest.mark.cpp_standalone),
    ],
)
@pytest.mark.parametrize("discretization", ["exact", "euler"])
def test_compiled_targets_add_the_same_noise(target, discretization):
    """The C implementation of the draws (biosnn/brian/draws.py) in generated code, membrane and escape noise:
    equal to the mirror."""
    rng = np.random.default_rng(2)
    spikes = poisson_spike_trains(rng, 4, 300.0, 0.03, DT, 2)
    weights = rng.uniform(-1.0, 3.0, size=(4, 5))
    params = {"tau_m": np.exp(rng.uniform(np.log(2e-3), np.log(50e-3), 5)), "t_ref": 1e-3}
    kw = dict(
        dt=DT,
        duration=0.03,
        params=params,
        synapse="current",
        discretization=discretization,
        noise=WhiteNoise(sigma=2.0, fine_dt=DT / 2, seed=2**40 + 5, stream=4),
        escape=EscapeNoise(2000.0, 0.05, seed=3, stream=5),
    )
    ref = biosnn.simulate("adaptive_lif", spikes, weights, backend="brian2", target=target, **kw)
    mirror = biosnn.simulate("adaptive_lif", spikes, weights, backend="torch", **kw)
    np.testing.assert_array_equal(ref.spike_steps, mirror.spike_steps)
    assert len(ref.spike_steps) > 10
    assert np.abs(ref.v - mirror.v).max() <= V_TOLERANCE


@pytest.mark.parametrize("model, synapse", [("lif", "delta"), ("adaptive_lif", "current"), ("plif", "current")])
def test_escape_noise_is_drawn_alike_by_both_backends(model, synapse):
    """A stochastic threshold (with membrane noise too): the same uniforms decide every spike in both."""
    rng = np.random.default_rng(3)
    spikes = poisson_spike_trains(rng, 4, 300.0, 0.04, DT, 2)
    weights = rng.uniform(-0.2, 0.6, size=(4, 5)) * (3 if synapse == "current" else 1)
    kw = dict(
        dt=DT,
        duration=0.04,
        params={"tau_m": 10e-3, "t_ref": 1e-3},
        synapse=synapse,
        escape=EscapeNoise(1000.0, 0.1, seed=5, stream=9),
        noise=WhiteNoise(1.0, DT, seed=1),
    )
    ref = biosnn.simulate(model, spikes, weights, backend="brian2", **kw)
    mirror = biosnn.simulate(model, spikes, weights, backend="torch", **kw)
    sharp = biosnn.simulate(model, spikes, weights, backend="torch", **{**kw, "escape": None})
    np.testing.assert_array_equal(ref.spike_steps, mirror.spike_steps)
    np.testing.assert_array_equal(ref.spike_units, mirror.spike_units)
    assert np.abs(ref.v - mirror.v).max() <= V_TOLERANCE
    assert not np.array_equal(mirror.spike_steps, sharp.spike_steps)  # the threshold is stochastic


#: a count within this many binomial standard deviations of its expectation (the acceptance's 3 sd: with the
#: fixed seeds here the check is deterministic; another seed would fail it 0.27% of the time)
COUNT_SDS = 3


@pytest.mark.parametrize("backend", ["brian2", "torch"])
def test_escape_noise_counts_are_the_integrated_hazard(backend):
    """Membranes held at v_rest = v_reset = 0 (no input), thresholds 0.01 to 0.2 above: each step fires
    independently with p = 1 - exp(-rho0 dt exp(-v_th / delta)); N x T trials per threshold."""
    n_per_level, steps, rho0, delta = 40, 500, 1000.0, 0.05
    levels = np.array([0.2, 0.1, 0.05, 0.02, 0.01])
    v_th = np.repeat(levels, n_per_level)
    spikes = SpikeTrains(np.array([]), np.array([], dtype=int), 1, steps * DT)
    trace = biosnn.simulate(
        "lif",
        spikes,
        np.zeros((1, v_th.size)),
        backend=backend,
        dt=DT,
        duration=steps * DT,
        params={"v_rest": 0.0, "v_reset": 0.0, "v_th": v_th},
        escape=EscapeNoise(rho0, delta, seed=21, stream=2),
    )
    assert np.all(trace.v == 0.0)  # held: the hazard is constant
    counts = np.bincount(trace.spike_units, minlength=v_th.size)
    for j, level in enumerate(levels):
        p = -math.expm1(-rho0 * DT * math.exp(-level / delta))
        trials = n_per_level * steps
        observed = counts[j * n_per_level : (j + 1) * n_per_level].sum()
        assert abs(observed - trials * p) <= COUNT_SDS * math.sqrt(trials * p * (1 - p)), (level, observed, trials * p)


def test_a_noisy_network_of_three_layers_with_delays_and_a_batch():
    """Noise keyed on (sample, neuron) in every layer of a batched network with axonal delays: every layer's
    membrane equal in both backends, sample for sample."""
    rng = np.random.default_rng(6)
    spikes = poisson_spike_trains(rng, 5, 250.0, 0.03, DT, 3)
    noise = [WhiteNoise(1.5, DT / 2, seed=8, stream=k) for k in range(3)]
    layers = (
        LayerSpec("lif", 6, {"tau_m": np.linspace(4e-3, 30e-3, 6), "t_ref": 1e-3}, noise=noise[0]),
        LayerSpec(
            "adaptive_lif",
            4,
            {"tau_m": 8e-3},
            synapse="current",
            noise=noise[1],
            escape=EscapeNoise(1500.0, 0.08, seed=8, stream=7),
        ),
        LayerSpec("li", 2, {"tau_m": 10e-3}, noise=noise[2]),
    )
    weights = (rng.uniform(0, 0.9, (5, 6)), rng.uniform(-0.5, 3.0, (6, 4)), rng.uniform(-0.5, 1.0, (4, 2)))
    net = FeedForwardNet(5, layers, weights, (rng.uniform(0, 3e-3, 5), None, rng.uniform(0, 2e-3, 4)))
    kw = dict(dt=DT, duration=0.03, record=True)
    ref = simulate_network(net, spikes, backend="brian2", **kw)
    mirror = simulate_network(net, spikes, backend="torch", **kw)
    for a, b in zip(ref, mirror):
        assert a.keys() == b.keys()
        assert np.abs(a.states["v"] - b.states["v"]).max() <= V_TOLERANCE
    assert len(ref[0].keys()) > 20 and len(ref[1].keys()) > 5


def test_many_fine_steps_per_step_and_what_an_export_keeps():
    """100 fine steps per step (Brian2 sums them statement by statement); a mirror's export keeps the noise."""
    from biosnn.torch.network import FeedForward

    spikes = poisson_spike_trains(np.random.default_rng(0), 2, 200.0, 0.005, 1e-3, 2)
    noise = WhiteNoise(2.0, 1e-5, seed=1)
    kw = dict(dt=1e-3, duration=0.005, params={"tau_m": 10e-3}, noise=noise)
    ref = biosnn.simulate("lif", spikes, np.ones((2, 3)), backend="brian2", **kw)
    mirror = biosnn.simulate("lif", spikes, np.ones((2, 3)), backend="torch", **kw)
    assert np.abs(ref.v - mirror.v).max() <= V_TOLERANCE
    net = FeedForwardNet(2, (LayerSpec("plif", 3, {"tau_m": 5e-3}, noise=noise),), (np.ones((2, 3)),))
    exported = FeedForward.from_description(net, dt=1e-3).export()
    assert exported.layers[0].noise == noise


def test_a_noisy_layer_refuses_to_be_trained():
    import torch

    from biosnn.torch.layer import Layer

    layer = Layer("plif", dt=1e-3, n_neurons=3, params={"tau_m": 5e-3}, noise=WhiteNoise(1.0, 1e-3, seed=0))
    drive = torch.zeros(10, 2, 3, dtype=torch.float64)
    with pytest.raises(BiosnnInputError, match="evaluated, not trained"):
        layer(drive)
    with torch.no_grad():
        assert layer(drive).shape == (10, 2, 3)
        with pytest.raises(BiosnnInputError, match="first_sample must be a non-negative integer"):
            layer(drive, first_sample=-1)
    with pytest.raises(BiosnnInputError, match="seed < 2\\*\\*64"):
        WhiteNoise(1.0, 1e-3, seed=2**64)
    with pytest.raises(BiosnnInputError, match="stream < 2\\*\\*32"):
        EscapeNoise(1e3, 0.1, seed=0, stream=2**32)
