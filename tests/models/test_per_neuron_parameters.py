"""Thresholds, reset and resting potentials per neuron (``lif`` and the models derived from it, ``if``): a layer
with one value per neuron is, neuron for neuron, the layer of scalar parameters with that neuron's values (run
alone), in both backends; Brian2 == torch on every synapse kind and reset. NIR graphs whose LIF nodes state
different thresholds, leak or reset potentials per neuron import to them."""

import numpy as np
import pytest

import biosnn
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.contract import V_TOLERANCE

DT = 1e-4
V_TH = np.array([0.7, 1.0, 1.4])
V_RESET = np.array([-0.2, 0.0, 0.3])
V_REST = np.array([0.1, 0.0, -0.1])


def _inputs(rng, synapse):
    if synapse == "held":
        return rng.uniform(0, 1, size=(400, 2, 4))
    return poisson_spike_trains(rng, 4, 300.0, 0.04, DT, 2)


def _weights(rng, model, synapse):
    scale = {"delta": 1.0, "current": 200.0 if model == "if" else 3.0, "held": 100.0 if model == "if" else 2.0}
    return rng.uniform(-0.1, 0.6, size=(4, 3)) * scale[synapse]


@pytest.mark.parametrize("reset", ["hard", "subtract"])
@pytest.mark.parametrize("synapse", ["delta", "current", "held"])
@pytest.mark.parametrize("model", ["lif", "if", "adaptive_lif"])
def test_each_neuron_is_the_scalar_layer_of_its_own_values(model, synapse, reset):
    rng = np.random.default_rng(21)
    inputs, w = _inputs(rng, synapse), _weights(rng, model, synapse)
    kw = dict(dt=DT, duration=0.04, synapse=synapse, reset=reset)
    per_neuron = {"v_th": V_TH, "v_reset": V_RESET, "v_rest": V_REST}
    runs = {b: biosnn.simulate(model, inputs, w, backend=b, params=per_neuron, **kw) for b in ("brian2", "torch")}
    np.testing.assert_array_equal(runs["brian2"].spike_steps, runs["torch"].spike_steps)
    assert np.abs(runs["brian2"].v - runs["torch"].v).max() <= V_TOLERANCE
    n_fired = 0
    for j in range(3):
        alone = biosnn.simulate(
            model,
            inputs,
            w[:, j : j + 1],
            backend="torch",
            **kw,
            params={"v_th": V_TH[j], "v_reset": V_RESET[j], "v_rest": V_REST[j]},
        )
        mine = runs["torch"].spike_units == j
        np.testing.assert_array_equal(alone.spike_steps, runs["torch"].spike_steps[mine])
        np.testing.assert_array_equal(alone.spike_samples, runs["torch"].spike_samples[mine])
        np.testing.assert_array_equal(alone.v[..., 0], runs["torch"].v[..., j])
        n_fired += int(np.any(mine))
    assert n_fired >= 2  # the thresholds matter: at least two neurons fire


def test_nir_lif_with_per_neuron_thresholds_and_potentials():
    """A NIR LIF whose v_threshold, v_leak and v_reset differ between neurons imports to those arrays (equal
    values stay one float: the layer keeps its fused loop), and its run is the per-neuron layer's."""
    nir = pytest.importorskip("nir")
    from biosnn.nir import Discretization, from_nir

    w = np.array([[0.4, 0.2, 0.1], [0.3, 0.5, 0.2], [0.2, 0.1, 0.6]])
    lif = nir.LIF(
        tau=np.full(3, 10e-3),
        r=np.full(3, 10e-3),
        v_leak=V_REST.copy(),
        v_threshold=V_TH.copy(),
        v_reset=V_RESET.copy(),
    )
    graph = nir.NIRGraph.from_list(nir.Linear(weight=w), lif, type_check=False)
    params = from_nir(graph, Discretization.exact(DT)).net.layers[0].params
    for name, value in (("v_th", V_TH), ("v_reset", V_RESET), ("v_rest", V_REST)):
        np.testing.assert_array_equal(params[name], value)
    uniform = nir.LIF(
        tau=np.full(3, 10e-3), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3), v_reset=np.zeros(3)
    )
    params = (
        from_nir(nir.NIRGraph.from_list(nir.Linear(weight=w), uniform, type_check=False), Discretization.exact(DT))
        .net.layers[0]
        .params
    )
    assert params["v_th"] == 1.0 and isinstance(params["v_th"], float)


@pytest.mark.parametrize("model", ["lif", "if", "li"])
def test_per_neuron_rest_in_a_time_multiplexed_batch(model):
    """Fewer copies than samples: each gap clamps v back to each neuron's own v_rest (not one value for all);
    the samples run as they do side by side and in the mirror."""
    rng = np.random.default_rng(4)
    params = {"v_rest": V_REST, **({"v_th": V_TH, "v_reset": V_RESET} if model != "li" else {})}
    net = biosnn.FeedForwardNet(4, (biosnn.LayerSpec(model, 3, params),), (rng.uniform(0, 0.6, (4, 3)),))
    spikes = poisson_spike_trains(rng, 4, 300.0, 0.03, DT, 3)
    kw = dict(dt=DT, duration=0.03, record=True)
    side = biosnn.simulate_network(net, spikes, backend="brian2", **kw)[0]
    multiplexed = biosnn.simulate_network(net, spikes, backend="brian2", copies=1, **kw)[0]
    mirror = biosnn.simulate_network(net, spikes, backend="torch", **kw)[0]
    for other in (multiplexed, mirror):
        np.testing.assert_array_equal(side.spike_steps, other.spike_steps)
        assert np.abs(side.v - other.v).max() <= V_TOLERANCE
    np.testing.assert_array_equal(multiplexed.v[0, 2], V_REST)  # the third sample starts at each neuron's rest
