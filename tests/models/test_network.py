"""Network descriptions: exact transfer torch -> Brian2, with and without delays; files."""

import numpy as np
import pytest
import torch

from biosnn import BiosnnInputError, simulate_network
from biosnn.core.schedule import SCHEDULES
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import V_TOLERANCE
from biosnn.models.network import FeedForwardNet, LayerSpec
from biosnn.torch.network import FeedForward

DT, T = 1e-3, 80


def _run_both(net: FeedForward, seed=0, batch=4):
    rng = np.random.default_rng(seed)
    spikes = poisson_spike_trains(rng, net.n_inputs, 80.0, T * DT, DT, batch, off_grid=False)
    with torch.no_grad():
        outputs = net(torch.as_tensor(spikes.to_raster(DT, T)))
    return outputs, simulate_network(net.export(), spikes, backend="brian2", dt=DT, duration=T * DT)


def _keys(spikes: torch.Tensor):
    steps, samples, units = np.nonzero(spikes.numpy())
    return set(zip(samples.tolist(), units.tolist(), steps.tolist()))


LAYERS = {
    "lif-li": [LayerSpec("lif", 10, dict(tau_m=8e-3, t_ref=2e-3)), LayerSpec("li", 3, dict(tau_m=20e-3))],
    "plif-lif": [LayerSpec("plif", 10, dict(tau_m=6e-3), reset="subtract"), LayerSpec("lif", 3, dict(tau_m=10e-3))],
    "wta-wta": [
        LayerSpec("wta", 10, dict(mu=-0.4, v_th=np.linspace(0.8, 1.2, 10), circuit_size=5.0)),
        LayerSpec("wta", 4, dict(mu=-1.0)),
    ],
}


@pytest.mark.parametrize("delays", ["none", "per_neuron", "per_synapse"])
@pytest.mark.parametrize("arch", sorted(LAYERS))
def test_trained_network_transfers_exactly(arch, delays):
    rng = np.random.default_rng(3)
    layers = LAYERS[arch]
    sizes = [6] + [layer.n for layer in layers]
    weights = [rng.uniform(-0.3, 0.9, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    d = {
        "none": None,
        "per_neuron": [rng.integers(0, 8, a) * DT for a in sizes[:-1]],
        "per_synapse": [rng.integers(0, 8, (a, b)) * DT for a, b in zip(sizes[:-1], sizes[1:])],
    }[delays]
    net = FeedForward(6, layers, dt=DT, weights=weights, delays=d).double()
    outputs, activity = _run_both(net)
    for k, (out, act) in enumerate(zip(outputs, activity)):
        if layers[k].model == "li":
            assert np.abs(out[-1].numpy() - act.final_v).max() < V_TOLERANCE
        else:
            assert _keys(out) == act.keys(), f"layer {k}"
    assert sum(len(a.spike_steps) for a in activity) > 50


def test_description_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    net = (
        FeedForward(
            6,
            LAYERS["wta-wta"],
            dt=DT,
            weights=[rng.normal(size=(6, 10)), rng.normal(size=(10, 4))],
            delays=[rng.integers(0, 5, 6) * DT, None],
        )
        .double()
        .export()
    )
    path = tmp_path / "net.npz"
    net.save(path)
    back = FeedForwardNet.load(path)
    assert back.n_inputs == 6 and [layer.model for layer in back.layers] == ["wta", "wta"]
    np.testing.assert_array_equal(back.weights[0], net.weights[0])
    np.testing.assert_array_equal(back.delays[0], net.delays[0])
    np.testing.assert_array_equal(back.layers[0].params["v_th"], net.layers[0].params["v_th"])
    assert back.readout == "spike_count"


def test_description_validation(tmp_path):
    ok = dict(n_inputs=2, layers=(LayerSpec("lif", 3),), weights=(np.ones((2, 3)),))
    with pytest.raises(BiosnnInputError, match="expected \\(2, 3\\)"):
        FeedForwardNet(**{**ok, "weights": (np.ones((3, 3)),)})
    with pytest.raises(BiosnnInputError, match="delay=-0.001s is out of range"):
        FeedForwardNet(**ok, delays=(np.array([-1e-3, 0.0]),))
    with pytest.raises(BiosnnInputError, match="delays must have shape"):
        FeedForwardNet(**ok, delays=(np.zeros(5),))
    with pytest.raises(BiosnnInputError, match="can only be the readout"):
        FeedForwardNet(2, (LayerSpec("li", 3), LayerSpec("lif", 1)), (np.ones((2, 3)), np.ones((3, 1))))
    with pytest.raises(BiosnnInputError, match="does not exist"):
        FeedForwardNet.load(tmp_path / "nope.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(BiosnnInputError, match="not a readable"):
        FeedForwardNet.load(tmp_path / "bad.npz")
    net = FeedForwardNet(**ok)
    net.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["description"] = np.str_(str(arrays["description"]).replace('"params": {}', '"params": {"tau_m": -1.0}'))
    np.savez(tmp_path / "range.npz", **arrays)
    with pytest.raises(BiosnnInputError, match="out of range"):
        FeedForwardNet.load(tmp_path / "range.npz")


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_schedule_through_a_multilayer_network(schedule):
    """A trained FeedForward under each schedule runs in Brian2 with identical spikes in every layer.

    Under Brian2's default schedule a hop delivers its spikes after the threshold test of their own
    step (no one-step latency): the mirror's hops follow the schedule's pathway slot
    (``biosnn.core.schedule.hop_latency_steps``). With every hop delayed one step regardless of the
    schedule (the mirror's old behaviour) this network's first layer fires 407 spikes in torch and
    423 in Brian2 under the default schedule."""
    rng = np.random.default_rng(11)
    layers = [
        LayerSpec("lif", 12, {"tau_m": 10e-3}),
        LayerSpec("lif", 5, {"tau_m": 10e-3}, reset="subtract"),
        LayerSpec("li", 2, {"tau_m": 20e-3}),
    ]
    weights = [rng.uniform(-0.1, 0.7, (6, 12)), rng.uniform(-0.1, 0.5, (12, 5)), rng.uniform(-1, 1, (5, 2))]
    net = FeedForward(
        6, layers, dt=DT, weights=weights, delays=[rng.integers(0, 5, 6) * DT, None, None], schedule=schedule
    ).double()
    spikes = poisson_spike_trains(rng, 6, 150.0, T * DT, DT, 4, off_grid=False)
    with torch.no_grad():
        outputs = net(torch.as_tensor(spikes.to_raster(DT, T)))
    activity = simulate_network(net.export(), spikes, backend="brian2", dt=DT, duration=T * DT, schedule=schedule)
    for k in range(2):
        assert _keys(outputs[k]) == activity[k].keys(), f"layer {k}"
        assert len(activity[k].spike_steps) > 30
    assert np.abs(outputs[-1][-1].numpy() - activity[-1].final_v).max() < V_TOLERANCE


def test_hops_that_cannot_take_delays_are_refused():
    held = (LayerSpec("lif", 3, synapse="held"),)
    with pytest.raises(BiosnnInputError, match="held drive has no spikes to delay"):
        FeedForwardNet(2, held, (np.ones((2, 3)),), (np.zeros(2),))
    gamma = dict(bucket_tau=(3e-3, 3e-3))
    into_cascade = (LayerSpec("lif", 3), LayerSpec("gamma_cascade", 2, gamma))
    with pytest.raises(BiosnnInputError, match="cascade layers read their senders"):
        FeedForwardNet(2, into_cascade, (np.ones((2, 3)), np.ones((3, 2))), (None, np.zeros(3)))
    # learnable delays are created only on hops that can take them
    net = FeedForward(2, list(into_cascade), dt=DT, learn_delays=True)
    assert list(net.axonal) == ["0"]
    assert net.export().delays[1] is None


def test_cascade_receivers_need_their_senders_time_constants():
    """A gamma receiver reads its sender's own cascade: different bucket time constants would make the
    mirror (which propagates with the receiver's) and Brian2 (the sender's) disagree, so it is refused."""
    layers = (
        LayerSpec("gamma_cascade", 3, dict(bucket_tau=(3e-3, 3e-3))),
        LayerSpec("gamma_cascade", 2, dict(bucket_tau=(3e-3, 6e-3))),
    )
    with pytest.raises(BiosnnInputError, match="bucket time constants must be equal"):
        FeedForwardNet(2, layers, (np.ones((2, 3)), np.ones((3, 2))))
