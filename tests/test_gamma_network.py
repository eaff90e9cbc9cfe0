"""Multi-layer gamma-cascade networks: exact transfer, and the straight-through reconstruction."""

import numpy as np
import pytest
import torch

from biosnn import BiosnnInputError
from biosnn.brian.feedforward import run_feedforward
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.network import FeedForwardNet, LayerSpec
from biosnn.torch.feedforward import FeedForward, delayed, straight_through_charges

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
        outputs, voltages = net(torch.as_tensor(spikes.to_raster(DT, T)), record=True)
    activity = run_feedforward(net.export(), spikes, dt=DT, duration=T * DT, record_v=True)
    for out, v, act in zip(outputs, voltages, activity):
        steps, samples, units = np.nonzero(out.numpy())
        assert set(zip(samples.tolist(), units.tolist(), steps.tolist())) == act.keys()
        assert np.abs(v.numpy() - act.v).max() < 1e-9
    assert all(len(a.steps) > 10 for a in activity)


def test_straight_through_has_the_charges_value_and_the_smooth_gradient():
    rng = np.random.default_rng(1)
    y = torch.as_tensor(rng.uniform(0, 1, (20, 2, 3)), dtype=torch.float64).requires_grad_(True)
    charges = torch.as_tensor((rng.random((20, 2, 3)) < 0.2) * 0.05)
    decay = 0.7
    q = straight_through_charges(charges, y, decay)
    assert torch.equal(q.detach(), charges)
    g = torch.as_tensor(rng.normal(size=(20, 2, 3)))
    (q * g).sum().backward()
    u = y.detach().clone().requires_grad_(True)
    ((u - decay * delayed(u)) * g).sum().backward()
    torch.testing.assert_close(y.grad, u.grad)


def test_gradients_reach_the_first_gamma_layer():
    """Without the straight-through path the emission (not differentiated) would cut them."""
    rng = np.random.default_rng(2)
    net = FeedForward(5, _layers("gamma_cascade", rng), dt=DT,
                      weights=[rng.uniform(-0.2, 0.8, (5, 6)), rng.uniform(-0.5, 1.0, (6, 3))]).double()
    spikes = poisson_spike_trains(rng, 5, 80.0, T * DT, DT, 3, off_grid=False)
    _, voltages = net(torch.as_tensor(spikes.to_raster(DT, T)), record=True)
    voltages[-1].mean().backward()
    assert net.weights[0].grad.abs().sum() > 0 and net.neurons[0].bucket_weight.grad.abs().sum() > 0


def test_gamma_spikes_only_feed_gamma_layers():
    with pytest.raises(BiosnnInputError, match="only another gamma-cascade layer"):
        FeedForwardNet(2, (LayerSpec("gamma_cascade", 3, GAMMA), LayerSpec("lif", 2)), (np.ones((2, 3)), np.ones((3, 2))))
