"""NIR's IF (``dv/dt = R I``, no leak) imported as biosnn's ``if``: Brian2 and the mirror give the spikes of a
non-leaky integration of the input written out here by hand, under NIR's Dirac reading and the one-step
pulse readings (exact and Euler, which coincide without a leak)."""

import numpy as np
import pytest

nir = pytest.importorskip("nir")

from biosnn.nir import Discretization, from_nir  # noqa: E402

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


@pytest.mark.parametrize("disc", [Discretization.exact(DT), Discretization.exact(DT, spikes="pulse"),
                                  Discretization.euler(DT)], ids=["exact-dirac", "exact-pulse", "euler-pulse"])
def test_if_graph_imports_and_integrates_without_leak(disc):
    pulse = disc.spikes == "pulse"
    graph, w = _graph(1e3 if pulse else 1.0)  # a pulse has area dt: larger weights to fire as often
    x = (np.random.default_rng(3).random((300, 3)) < 0.3).astype(float)
    imported = from_nir(graph, disc)
    layer = imported.net.layers[0]
    assert layer.model == "if" and layer.resolved_reset() == "hard"
    if pulse:   # X = R W x held over the step: v += R W x dt, no latency
        assert layer.synapse == "held" and imported.held_input
        expected = _reference(x, w, DT, latency=0)
    else:       # a Dirac of area 1: v jumps by R W, delivered in the next step (one hop)
        assert layer.synapse == "delta" and not imported.held_input
        expected = _reference(x, w, 1.0, latency=1)
    runs = [imported.simulate(x, backend=backend)[0] for backend in ("brian2", "torch")]
    for run in runs:
        got = sorted(zip(run.spike_steps.tolist(), run.spike_units.tolist()))
        assert got == expected
    assert len(expected) > 10
    np.testing.assert_array_equal(runs[0].spike_steps, runs[1].spike_steps)
    assert np.abs(runs[0].v - runs[1].v).max() <= 1e-9


def test_an_if_without_v_reset_resets_to_zero_and_the_threshold_convention_is_named():
    """nir fills a missing v_reset with zeros; a node whose v_reset was removed later is read the same way
    (never as 'NaN or inf'), and the import names the v >= v_th against v > v_threshold difference."""
    graph, _ = _graph()
    graph.nodes[[k for k, n in graph.nodes.items() if type(n).__name__ == "IF"][0]].v_reset = None
    imported = from_nir(graph, Discretization.exact(DT))
    assert imported.net.layers[0].params["v_reset"] == 0.0
    assert any("v > v_threshold" in note for note in imported.notes)
