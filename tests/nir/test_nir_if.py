"""NIR's IF (``dv/dt = R I``, no leak) imported as biosnn's ``if`` and NIR's I (the same without threshold) as
biosnn's ``integrator``: Brian2 and the mirror give the spikes and the readout of a non-leaky integration of the
input written out here by hand, under NIR's Dirac reading and the one-step pulse readings (exact and Euler, which
coincide without a leak); both export and re-import to identical runs."""

import numpy as np
import pytest

nir = pytest.importorskip("nir")


from tolerances import CLOSED_FORM  # noqa: E402

from biosnn import FeedForwardNet, LayerSpec, SpikeTrains, simulate_network  # noqa: E402
from biosnn.core.errors import BiosnnInputError  # noqa: E402
from biosnn.equivalence.contract import V_TOLERANCE  # noqa: E402
from biosnn.nir import Discretization, from_nir, to_nir  # noqa: E402

DT = 1e-4
R = np.array([2.0, 0.5])
V_TH, V_RESET = 1.0, -0.25


def _graph(scale=1.0):
    w = scale * np.array([[0.3, -0.1, 0.45], [0.8, 0.6, -0.2]])  # [n_out, n_in], NIR's Affine
    affine = nir.Affine(weight=w, bias=np.zeros(2))
    neuron = nir.IF(r=R.copy(), v_threshold=np.full(2, V_TH), v_reset=np.full(2, V_RESET))
    return nir.NIRGraph.from_list(affine, neuron, type_check=False), w


def _reference(x, w, gain, latency):
    """v_j += gain R_j (W x[n - latency])_j in step n, then v >= v_th fires and resets to v_reset; v(0) = 0."""
    v = np.zeros(2)
    spikes = []
    for n in range(x.shape[0]):
        if n - latency >= 0:
            v = v + gain * R * (w @ x[n - latency])
        for j in np.flatnonzero(v >= V_TH):
            spikes.append((n, j))
            v[j] = V_RESET
    return sorted(spikes)


@pytest.mark.parametrize(
    "disc",
    [Discretization.exact(DT), Discretization.exact(DT, spikes="pulse"), Discretization.euler(DT)],
    ids=["exact-dirac", "exact-pulse", "euler-pulse"],
)
def test_if_graph_imports_and_integrates_without_leak(disc):
    pulse = disc.spikes == "pulse"
    graph, w = _graph(1e3 if pulse else 1.0)  # a pulse has area dt: larger weights to fire as often
    x = (np.random.default_rng(3).random((300, 3)) < 0.3).astype(float)
    imported = from_nir(graph, disc)
    layer = imported.net.layers[0]
    assert layer.model == "if" and layer.resolved_reset() == "hard"
    if pulse:  # X = R W x held over the step: v += R W x dt, no latency
        assert layer.synapse == "held" and imported.held_input
        expected = _reference(x, w, DT, latency=0)
    else:  # a Dirac of area 1: v jumps by R W, delivered in the next step (one hop)
        assert layer.synapse == "delta" and not imported.held_input
        expected = _reference(x, w, 1.0, latency=1)
    runs = [imported.simulate(x, backend=backend)[0] for backend in ("brian2", "torch")]
    for run in runs:
        got = sorted(zip(run.spike_steps.tolist(), run.spike_units.tolist()))
        assert got == expected
    assert len(expected) > 10
    np.testing.assert_array_equal(runs[0].spike_steps, runs[1].spike_steps)
    assert np.abs(runs[0].v - runs[1].v).max() <= V_TOLERANCE


def test_an_if_without_v_reset_resets_to_zero_and_the_threshold_convention_is_named():
    """nir fills a missing v_reset with zeros; a node whose v_reset was removed later is read the same way
    (never as 'NaN or inf'), and the import names the v >= v_th against v > v_threshold difference."""
    graph, _ = _graph()
    graph.nodes[[k for k, n in graph.nodes.items() if type(n).__name__ == "IF"][0]].v_reset = None
    imported = from_nir(graph, Discretization.exact(DT))
    assert imported.net.layers[0].params["v_reset"] == 0.0
    assert any("v > v_threshold" in note for note in imported.notes)


R_OUT = np.array([0.5, 4.0, 1.0])
W_OUT = np.array([[0.75, -0.5], [0.25, 1.0], [-1.0, 0.5]])  # [n_out, n_in], NIR's Linear


def _graph_with_readout(scale):
    w = scale * np.array([[0.3, -0.1, 0.45], [0.8, 0.6, -0.2]])
    nodes = [
        nir.Affine(weight=w, bias=np.zeros(2)),
        nir.IF(r=R.copy(), v_threshold=np.full(2, V_TH), v_reset=np.full(2, V_RESET)),
        nir.Linear(weight=W_OUT.copy()),
        nir.I(r=R_OUT.copy()),
    ]
    return nir.NIRGraph.from_list(*nodes, type_check=False), w


DISCRETIZATIONS = [Discretization.exact(DT), Discretization.exact(DT, spikes="pulse"), Discretization.euler(DT)]


@pytest.mark.parametrize("disc", DISCRETIZATIONS, ids=["exact-dirac", "exact-pulse", "euler-pulse"])
def test_i_readout_sums_the_spikes_it_receives(disc):
    """IF -> Linear -> I: the readout after the last step is ``sum_j a R_k W_kj (spikes of j delivered)``, a the
    spike's area (1, or dt for a pulse); a spike of step n reaches the readout in step n + 1 (one hop)."""
    pulse = disc.spikes == "pulse"
    graph, w = _graph_with_readout(1e3 if pulse else 1.0)
    x = (np.random.default_rng(4).random((300, 3)) < 0.3).astype(float)
    imported = from_nir(graph, disc)
    assert [layer.model for layer in imported.net.layers] == ["if", "integrator"]
    assert imported.net.readout == "final_membrane"
    hidden = _reference(x, w, DT if pulse else 1.0, latency=0 if pulse else 1)
    area = DT if pulse else 1.0
    expected = np.zeros(2 + 1)
    for n, j in hidden:
        if n <= x.shape[0] - 2:
            expected += area * R_OUT * W_OUT[:, j]
    runs = [imported.simulate(x, backend=backend) for backend in ("brian2", "torch")]
    for hid, readout in runs:
        assert sorted(zip(hid.spike_steps.tolist(), hid.spike_units.tolist())) == hidden
        np.testing.assert_allclose(readout.final_v[0], expected, rtol=CLOSED_FORM, atol=CLOSED_FORM)
        assert readout.spike_steps.size == 0
    assert len(hidden) > 10 and np.abs(expected).max() > 2 * area
    assert np.abs(runs[0][1].v - runs[1][1].v).max() <= V_TOLERANCE
    assert any("'I'" not in note and "integrator" in note and "no threshold" in note for note in imported.notes)


def _round_trip(net, rng):
    """``net`` written as NIR and read back (NIR's Dirac reading) runs to identical spikes and membranes in the
    mirror (a held first layer on a random held drive, else on random spikes); returns the original's run."""
    back = from_nir(to_nir(net), Discretization.exact(DT)).net
    assert [(b.model, b.resolved_synapse()) for b in back.layers] == [
        (a.model, a.resolved_synapse()) for a in net.layers
    ]
    stim = (
        rng.uniform(0, 1, (200, 2, net.n_inputs))
        if net.layers[0].synapse == "held"
        else SpikeTrains.from_raster((rng.random((200, 2, net.n_inputs)) < 0.08).astype(float), DT)
    )
    ours = simulate_network(net, stim, backend="torch", dt=DT, duration=200 * DT)
    theirs = simulate_network(back, stim, backend="torch", dt=DT, duration=200 * DT)
    for a, b in zip(ours, theirs):
        assert np.array_equal(a.spike_steps, b.spike_steps) and np.array_equal(a.v, b.v)
    return ours


def test_integrate_and_fire_networks_round_trip_to_identical_spikes():
    """``if`` layers (delta, and a held first layer) written as NIR IF nodes and read back run to identical
    spikes and membranes; a resting potential NIR's IF cannot state is refused, naming the layer."""
    rng = np.random.default_rng(7)
    nets = [
        FeedForwardNet(
            6,
            (
                LayerSpec("if", 5, {"v_th": 1.0, "v_reset": 0.0}, reset="hard"),
                LayerSpec("if", 3, {"v_th": 0.8}, reset="hard"),
            ),
            (rng.uniform(0, 0.5, (6, 5)), rng.uniform(0, 0.6, (5, 3))),
        ),
        FeedForwardNet(
            3,
            (LayerSpec("if", 4, {}, synapse="held", reset="hard"), LayerSpec("if", 2, {}, reset="hard")),
            (rng.uniform(0, 800, (3, 4)), rng.uniform(0, 0.7, (4, 2))),
        ),
    ]  # held: v += W x dt
    for net in nets:
        ours = _round_trip(net, rng)
        assert all(a.spike_steps.size > 0 for a in ours)
    resting = FeedForwardNet(2, (LayerSpec("if", 2, {"v_rest": 0.2, "v_th": 1.0}, reset="hard"),), (np.eye(2),))
    with pytest.raises(BiosnnInputError, match=r"layer 0 \(if\): v_rest = 0.2"):
        to_nir(resting)


def test_integrator_readouts_round_trip_to_identical_runs():
    """``if`` -> ``integrator`` networks (delta, and a held first layer) written as IF and I nodes and read back run
    to identical spikes and readouts; an integrator's resting potential (NIR's I has none) is refused."""
    rng = np.random.default_rng(9)
    nets = [
        FeedForwardNet(
            6,
            (LayerSpec("if", 5, {"v_th": 1.0}, reset="hard"), LayerSpec("integrator", 3)),
            (rng.uniform(0, 0.5, (6, 5)), rng.uniform(-1, 1, (5, 3))),
        ),
        FeedForwardNet(3, (LayerSpec("integrator", 2, {}, synapse="held"),), (rng.uniform(-500, 500, (3, 2)),)),
    ]  # v += W x dt
    for net in nets:
        assert type(to_nir(net).nodes[f"i_{len(net.layers) - 1}"]).__name__ == "I"
        ours = _round_trip(net, rng)
        assert np.abs(ours[-1].final_v).max() > 0.1
    resting = FeedForwardNet(2, (LayerSpec("integrator", 2, {"v_rest": 0.2}),), (np.eye(2),))
    with pytest.raises(BiosnnInputError, match=r"layer 0 \(integrator\): v_rest = 0.2.*I"):
        to_nir(resting)


def test_validate_nir_runs_a_graph_of_if_and_i_nodes(tmp_path):
    """validate-nir on IF -> I (no membrane time constant: no tau/dt convention to list) runs and reports,
    rather than failing on the absent tau; the framework's refusal (snntorch reads IF as a leaky neuron, has
    no I) is reported, not raised."""
    pytest.importorskip("snntorch")
    from biosnn.nir.validate import validate_nir

    graph, _ = _graph_with_readout(1e3)
    x = (np.random.default_rng(4).random((100, 3)) < 0.3).astype(float)
    report = validate_nir(graph, x, framework="snntorch")
    assert report["contract_holds"]
    assert not any(c["topic"].startswith("tau/dt") for c in report["conventions"])
    assert "framework_error" in report or "framework_vs_mirror" in report
