"""Multi-layer gamma-cascade networks: exact transfer, and the straight-through reconstruction."""

import numpy as np
import pytest
import torch

from biosnn import BiosnnInputError, simulate_network
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import V_TOLERANCE
from biosnn.models.network import FeedForwardNet, LayerSpec
from biosnn.torch.layer import Layer
from biosnn.torch.network import FeedForward, delayed

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
