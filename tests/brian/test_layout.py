"""Time-multiplexed batches (biosnn/brian/layout.py): the same results as one copy per sample."""

import numpy as np
import pytest

from biosnn import BiosnnInputError, simulate_network
from biosnn.brian.layout import GAP_MARGIN_STEPS, Layout
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.equivalence.validate import NETWORKS
from biosnn.models.network import FeedForwardNet, LayerSpec

#: states of the two layouts: the same arithmetic on the same values, except that Brian2's spike queue
#: may deliver simultaneous arrivals at one neuron in another order (heterogeneous delays), so sums
#: can differ in their last bits (measured: 2.3e-13 on values of order 1)
LAYOUT_STATE_TOLERANCE = 1e-11


def _same(a, b):
    """Identical spikes; recorded and final states equal to rounding, layer by layer."""
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        assert set(x.states) == set(y.states) and set(x.final) == set(y.final)
        for name in x.states:
            np.testing.assert_allclose(x.states[name], y.states[name], rtol=0, atol=LAYOUT_STATE_TOLERANCE)
        for name in x.final:
            np.testing.assert_allclose(x.final[name], y.final[name], rtol=0, atol=LAYOUT_STATE_TOLERANCE)


#: every validation network on one copy; two copies (an unused copy in the last window) on two of them
LAYOUT_CASES = [(name, 1) for name in sorted(NETWORKS)] + [("network_gamma", 2), ("network_synapse_delays", 2)]


@pytest.mark.parametrize("name, copies", LAYOUT_CASES)
def test_multiplexed_batch_equals_side_by_side(name, copies):
    """Every validation network (delays, adaptive LIF, WTA circuits, gamma cascades, the default
    schedule), 3 samples on 1 or 2 copies (2 copies: the last window has an unused copy)."""
    case = NETWORKS[name]
    rng = np.random.default_rng(5)
    net = case.build(rng, case.dt)
    spikes = poisson_spike_trains(rng, net.n_inputs, case.input_rate, case.duration, case.dt, 3)
    common = dict(backend="brian2", dt=case.dt, duration=case.duration, schedule=case.schedule, record=True)
    side_by_side = simulate_network(net, spikes, **common)
    multiplexed = simulate_network(net, spikes, copies=copies, **common)
    assert sum(len(a.spike_steps) for a in side_by_side) > 20
    _same(side_by_side, multiplexed)


def test_refractory_and_held_input_multiplexed():
    """A held drive laid out in windows, LIF with a refractory period longer than the delays, and the
    Lee et al. refractory model: identical to one copy per sample."""
    rng = np.random.default_rng(2)
    for layers, held, scale in (
        (
            [
                LayerSpec("lif", 5, dict(tau_m=5e-3, t_ref=4e-3), synapse="held"),
                LayerSpec("lif", 3, dict(tau_m=8e-3, t_ref=3e-3)),
            ],
            True,
            1.5,
        ),
        ([LayerSpec("lee_refractory", 6), LayerSpec("li", 2)], False, 1.0),
    ):
        net = FeedForwardNet(
            4,
            tuple(layers),
            (rng.uniform(0.2, 1.0, (4, layers[0].n)) * scale, rng.uniform(0.0, 1.5, (layers[0].n, layers[1].n))),
        )
        inputs = rng.uniform(0, 0.9, (40, 5, 4)) if held else poisson_spike_trains(rng, 4, 300.0, 40e-3, 1e-3, 5)
        common = dict(backend="brian2", dt=1e-3, duration=40e-3, record=True)
        side_by_side = simulate_network(net, inputs, **common)
        assert sum(len(a.spike_steps) for a in side_by_side) > 10
        _same(side_by_side, simulate_network(net, inputs, copies=2, **common))


def test_layout_places_and_recovers_samples():
    layout = Layout.of(5, 4, 2, longest_delay_steps=3)
    assert (layout.windows, layout.gap, layout.window_steps) == (3, 3 + GAP_MARGIN_STEPS, 9)
    copy, step = layout.place(np.array([0, 1, 2, 4]), np.array([0, 3, 1, 2]))
    assert copy.tolist() == [0, 1, 0, 0] and step.tolist() == [5, 8, 15, 25]
    steps, units, samples = layout.spikes(np.array([0 * 7 + 6, 1 * 7 + 2]), step[[0, 1]], 7)
    assert steps.tolist() == [0, 3] and units.tolist() == [6, 2] and samples.tolist() == [0, 1]
    assert layout.gap_flags().reshape(3, 9)[:, :5].all() and not layout.gap_flags().reshape(3, 9)[:, 5:].any()
    assert Layout.of(5, 4, None) == Layout(5, 5, 4, 0) and Layout.of(5, 4, 9).copies == 5


@pytest.mark.parametrize("copies", [0, -1, 1.5, True])
def test_bad_copies_are_refused(copies):
    net = FeedForwardNet(2, (LayerSpec("lif", 2),), (np.ones((2, 2)),))
    spikes = poisson_spike_trains(np.random.default_rng(0), 2, 100.0, 10e-3, 1e-3, 2)
    with pytest.raises(BiosnnInputError, match="copies"):
        simulate_network(net, spikes, backend="brian2", dt=1e-3, duration=10e-3, copies=copies)
    with pytest.raises(BiosnnInputError, match="Brian2"):
        simulate_network(net, spikes, backend="torch", dt=1e-3, duration=10e-3, copies=2)
