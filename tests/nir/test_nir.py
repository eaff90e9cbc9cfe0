"""biosnn.nir: NIR graphs in, biosnn networks out, and back.

References, independent of the code under test:
* the closed-form response of NIR's own ODEs to one input spike (Pedersen et al. 2024, the node
  docstrings of the nir package), under each spike convention;
* torch's own convolution for the dense matrix of a Conv2d node;
* the original biosnn network for the round trip (identical spikes and membranes, bit for bit).
"""

import numpy as np
import pytest

nir = pytest.importorskip("nir", reason="the NIR bridge needs the nir package (pip install 'biosnn[nir]')")

from tolerances import CLOSED_FORM, NUMERICAL, ROUNDING, SUMMATION  # noqa: E402

from biosnn.core.errors import BiosnnInputError  # noqa: E402
from biosnn.core.spikes import SpikeTrains  # noqa: E402
from biosnn.equivalence.contract import V_TOLERANCE, compare_activities  # noqa: E402
from biosnn.models.network import FeedForwardNet, LayerSpec  # noqa: E402
from biosnn.nir import Discretization, from_nir, read, to_nir, write  # noqa: E402
from biosnn.simulation import simulate_network  # noqa: E402

DT = 1e-4


def _graph(*nodes):
    """A chain Input -> nodes -> Output (NIR's from_list names them after their types)."""
    return nir.NIRGraph.from_list(*nodes, type_check=False)


def _lif(n=1, tau=10e-3, r=1.0, v_th=1e3, v_leak=0.0, v_reset=0.0):
    f = lambda x: np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()  # noqa: E731
    return nir.LIF(tau=f(tau), r=f(r), v_leak=f(v_leak), v_threshold=f(v_th), v_reset=f(v_reset))


def _one_spike(step=5, n_steps=40):
    x = np.zeros((n_steps, 1))
    x[step, 0] = 1
    return x


# -- what a spike does: the closed forms of NIR's equations --------------------------------------


def test_dirac_spike_moves_v_by_r_w_over_tau():
    """tau dv/dt = -v + R W delta(t - t0): v jumps by R W / tau, then decays with tau (exact propagator)."""
    tau, r, w = 10e-3, 2.0, 0.3
    imported = from_nir(_graph(nir.Linear(weight=np.array([[w]])), _lif(tau=tau, r=r)), Discretization.exact(DT))
    v = imported.simulate(_one_spike(), backend="torch")[0].v[:, 0, 0]
    # the spike of step 5 arrives in step 6 (one hop, exact schedule): recorded from step 7 on
    k = np.arange(40 - 7)
    np.testing.assert_allclose(v[7:], r * w / tau * np.exp(-k * DT / tau), rtol=CLOSED_FORM, atol=0)
    assert np.all(v[:7] == 0)


def test_pulse_spike_scales_with_dt():
    """A one-step pulse of amplitude 1 (the frameworks' spike) into a first layer: a held drive R W over one
    step; Euler gives v = (dt/tau) R W, the exact propagator R W (1 - e^(-dt/tau)), no latency."""
    tau, r, w = 10e-3, 2.0, 0.3
    g = _graph(nir.Linear(weight=np.array([[w]])), _lif(tau=tau, r=r))
    for dt in (1e-4, 5e-4):
        euler = from_nir(g, Discretization.euler(dt))
        exact = from_nir(g, Discretization.exact(dt, spikes="pulse"))
        assert euler.held_input and exact.held_input
        v_euler = euler.simulate(_one_spike(), backend="torch")[0].v[:, 0, 0]
        v_exact = exact.simulate(_one_spike(), backend="torch")[0].v[:, 0, 0]
        assert v_euler[6] == pytest.approx(dt / tau * r * w, rel=CLOSED_FORM)
        assert v_exact[6] == pytest.approx(r * w * -np.expm1(-dt / tau), rel=CLOSED_FORM)
        np.testing.assert_allclose(v_euler[6:], v_euler[6] * (1 - dt / tau) ** np.arange(34), rtol=CLOSED_FORM)
        assert np.all(v_euler[:6] == 0)


def test_cuba_lif_dirac_response_is_the_two_exponential_kernel():
    """tau_s dI/dt = -I + w_in W delta, tau_m dv/dt = -v + R I: v = J tau_s/(tau_s - tau_m)(e^-t/tau_s - e^-t/tau_m)
    with J = R w_in W / tau_s."""
    tau_m, tau_s, r, w_in, w = 10e-3, 3e-3, 1.5, 2.0, 0.4
    node = nir.CubaLIF(
        tau_syn=np.array([tau_s]),
        tau_mem=np.array([tau_m]),
        r=np.array([r]),
        v_leak=np.zeros(1),
        v_threshold=np.array([1e3]),
        v_reset=np.zeros(1),
        w_in=np.array([w_in]),
    )
    imported = from_nir(_graph(nir.Linear(weight=np.array([[w]])), node), Discretization.exact(DT))
    assert not imported.held_input
    # the one-spike kernel is symmetric in tau_s and tau_m: the mapping itself tells a swap
    params = imported.net.resolved_params(0, DT)
    assert (params["tau_m"], params["tau_s"]) == (tau_m, tau_s)
    v = imported.simulate(_one_spike(), backend="torch")[0].v[:, 0, 0]
    t = np.arange(40 - 7) * DT  # I jumps in step 6; v integrates it from step 7
    j = r * w_in * w / tau_s
    np.testing.assert_allclose(
        v[7:], j * tau_s / (tau_s - tau_m) * (np.exp(-t / tau_s) - np.exp(-t / tau_m)), rtol=NUMERICAL, atol=ROUNDING
    )


def test_li_readout_and_leak_potential():
    """LI -> li (the membrane after the last step); v_leak is the rest and the initial state."""
    tau, v_leak = 5e-3, 0.25
    li = nir.LI(tau=np.full(2, tau), r=np.full(2, tau), v_leak=np.full(2, v_leak))
    imported = from_nir(_graph(nir.Linear(weight=np.eye(2)), li), Discretization.exact(DT))
    assert imported.net.readout == "final_membrane"
    x = np.zeros((30, 2))
    x[3, 1] = 1
    v = imported.simulate(x, backend="torch")[0]
    np.testing.assert_allclose(v.v[:, 0, 0], v_leak, rtol=0, atol=ROUNDING)  # no input: stays at rest
    assert v.final_v[0, 1] == pytest.approx(v_leak + np.exp(-(30 - 5) * DT / tau), rel=CLOSED_FORM)


def test_delay_nodes_shift_the_response():
    """A Delay of 3 steps before the Linear (per input) and after it (per neuron) delays the jump by 3 steps."""
    w = np.array([[0.5, 0.0], [0.0, 0.5]])
    base = from_nir(_graph(nir.Linear(weight=w), _lif(2)), Discretization.exact(DT))
    pre = from_nir(
        _graph(nir.Delay(delay=np.array([0.0, 3 * DT])), nir.Linear(weight=w), _lif(2)), Discretization.exact(DT)
    )
    post = from_nir(
        _graph(nir.Linear(weight=w), nir.Delay(delay=np.array([3 * DT, 0.0])), _lif(2)), Discretization.exact(DT)
    )
    assert pre.net.delays[0].shape == (2,) and post.net.delays[0].shape == (2, 2)
    x = np.zeros((30, 2))
    x[4] = 1
    v0, v_pre, v_post = (m.simulate(x, backend="torch")[0].v[:, 0] for m in (base, pre, post))
    first = lambda v: int(np.flatnonzero(v)[0])  # noqa: E731
    assert first(v0[:, 0]) == first(v0[:, 1]) == 6
    assert (first(v_pre[:, 0]), first(v_pre[:, 1])) == (6, 9)
    assert (first(v_post[:, 0]), first(v_post[:, 1])) == (9, 6)


def test_conv2d_scale_and_flatten_become_the_dense_matrix_torch_computes():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    w = rng.normal(size=(2, 1, 3, 3))
    conv = nir.Conv2d(input_shape=(4, 5), weight=w, stride=1, padding=1, dilation=1, groups=1, bias=np.zeros(2))
    scale = rng.uniform(0.5, 2, size=(2, 4, 5))
    g = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type=np.array([1, 4, 5])),
            "conv": conv,
            "scale": nir.Scale(scale=scale),
            "flat": nir.Flatten(input_type=np.array([2, 4, 5]), start_dim=0),
            "lif": _lif(40),
            "out": nir.Output(output_type=np.array([40])),
        },
        edges=[("in", "conv"), ("conv", "scale"), ("scale", "flat"), ("flat", "lif"), ("lif", "out")],
        type_check=False,
    )
    imported = from_nir(g, Discretization.exact(DT))
    x = rng.normal(size=(3, 1, 4, 5))
    expected = torch.nn.functional.conv2d(torch.as_tensor(x), torch.as_tensor(w), padding=1).numpy() * scale
    tau = 10e-3
    np.testing.assert_allclose(
        x.reshape(3, 20) @ imported.net.weights[0] * tau, expected.reshape(3, 40), rtol=CLOSED_FORM, atol=CLOSED_FORM
    )


def test_conv1d_with_stride_becomes_the_dense_matrix_torch_computes():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    w = rng.normal(size=(3, 2, 4))
    conv = nir.Conv1d(input_shape=9, weight=w, stride=2, padding=1, dilation=1, groups=1, bias=np.zeros(3))
    out = torch.nn.functional.conv1d(
        torch.zeros(1, 2, 9, dtype=torch.float64), torch.as_tensor(w), stride=2, padding=1
    ).shape[1:]
    n = int(np.prod(out))
    imported = from_nir(_graph(conv, _lif(n, r=10e-3)), Discretization.exact(DT))
    x = rng.normal(size=(3, 2, 9))
    expected = torch.nn.functional.conv1d(torch.as_tensor(x), torch.as_tensor(w), stride=2, padding=1).numpy()
    np.testing.assert_allclose(
        x.reshape(3, 18) @ imported.net.weights[0], expected.reshape(3, n), rtol=CLOSED_FORM, atol=CLOSED_FORM
    )


#: a convolution's dense matrix against torch's convolution, float64: each entry is one kernel weight, the
#: products sum the same terms in another order (rounding only)
DENSE_MATRIX_TOLERANCE = 1e-12


@pytest.mark.parametrize("dims", [1, 2])
def test_grouped_dilated_strided_conv_becomes_the_dense_matrix_torch_computes(dims):
    """groups, dilation and per-axis stride/padding: the input has weight.shape[1] * groups channels (nir 1.0.8
    declares weight.shape[1], ignoring groups)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    if dims == 2:
        w, spatial = rng.normal(size=(4, 1, 3, 2)), (6, 5)
        kwargs = dict(stride=(2, 1), padding=(1, 0), dilation=(2, 1), groups=2)
        conv = nir.Conv2d(input_shape=spatial, weight=w, bias=np.zeros(4), **kwargs)
        run = torch.nn.functional.conv2d
    else:
        w, spatial = rng.normal(size=(6, 2, 3)), (9,)
        kwargs = dict(stride=(2,), padding=(2,), dilation=(2,), groups=3)
        conv = nir.Conv1d(input_shape=spatial[0], weight=w, bias=np.zeros(6), **kwargs)
        run = torch.nn.functional.conv1d
    c_in = w.shape[1] * kwargs["groups"]
    x = rng.normal(size=(3, c_in, *spatial))
    expected = run(torch.as_tensor(x), torch.as_tensor(w), **kwargs).numpy().reshape(3, -1)
    n = expected.shape[1]
    g = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type=np.array([c_in, *spatial])),
            "conv": conv,
            "lif": _lif(n, r=10e-3),
            "out": nir.Output(output_type=np.array([n])),
        },
        edges=[("in", "conv"), ("conv", "lif"), ("lif", "out")],
        type_check=False,
    )
    imported = from_nir(g, Discretization.exact(DT))
    np.testing.assert_allclose(
        x.reshape(3, -1) @ imported.net.weights[0], expected, rtol=DENSE_MATRIX_TOLERANCE, atol=DENSE_MATRIX_TOLERANCE
    )


def test_delays_are_whole_steps_or_refused():
    """0.3e-3 / 1e-4 is 2.9999999999999996 in float64: 3 steps. 3.0009 steps is not a whole number: refused."""
    w = np.array([[0.5]])
    ok = from_nir(_graph(nir.Delay(delay=np.array([0.3e-3])), nir.Linear(weight=w), _lif()), Discretization.exact(DT))
    x = np.zeros((20, 1))
    x[4] = 1
    assert int(np.flatnonzero(ok.simulate(x, backend="torch")[0].v[:, 0, 0])[0]) == 6 + 3
    with pytest.raises(BiosnnInputError, match=r"NIR node 'delay' \(Delay\).*3.0009 steps"):
        from_nir(
            _graph(nir.Delay(delay=np.array([3.0009 * DT])), nir.Linear(weight=w), _lif()), Discretization.exact(DT)
        )


def test_output_shape_and_w_in_size_are_checked():
    lin = nir.Linear(weight=np.ones((3, 2)))
    g = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type=np.array([2])),
            "lin": lin,
            "lif": _lif(3),
            "out": nir.Output(output_type=np.array([7])),
        },
        edges=[("in", "lin"), ("lin", "lif"), ("lif", "out")],
        type_check=False,
    )
    with pytest.raises(BiosnnInputError, match=r"NIR node 'out' \(Output\): declares shape \(7,\).*'lif' has 3"):
        from_nir(g, Discretization.exact(DT))
    f = lambda x: np.full(3, float(x))  # noqa: E731
    cuba = nir.CubaLIF(tau_syn=f(3e-3), tau_mem=f(1e-2), r=f(1), v_leak=f(0), v_threshold=f(1), v_reset=f(0))
    cuba.w_in = np.array([1.0, 2.0])  # as a file may hold it (nir's constructor broadcasts first)
    with pytest.raises(BiosnnInputError, match=r"NIR node 'cubalif' \(CubaLIF\): w_in needs 1 or 3"):
        from_nir(_graph(lin, cuba), Discretization.exact(DT))


# -- biosnn -> NIR -> biosnn --------------------------------------------------------------------


def _networks(rng):
    """LIF with per-neuron delays into PLIF with current synapses and per-postsynaptic delays, into an LI readout;
    and a held first layer."""
    delays = (rng.integers(0, 6, 6) * DT, np.broadcast_to(rng.integers(0, 4, 4)[None, :] * DT, (5, 4)).copy(), None)
    spiking = FeedForwardNet(
        6,
        (
            LayerSpec("lif", 5, {"tau_m": 8e-3, "v_th": 0.8, "v_rest": 0.05}, reset="hard"),
            LayerSpec("plif", 4, {"tau_m": 4e-3, "tau_s": 2e-3}, synapse="current", reset="hard"),
            LayerSpec("li", 3, {"tau_m": 1e-2}),
        ),
        (rng.uniform(0, 0.7, (6, 5)), rng.uniform(0, 2.5, (5, 4)), rng.normal(0, 1, (4, 3))),
        delays,
    )
    held = FeedForwardNet(
        3,
        (
            LayerSpec("lif", 4, {"tau_m": 5e-3}, synapse="held", reset="hard"),
            LayerSpec("plif", 2, {"tau_m": 3e-3}, reset="hard"),
        ),
        (rng.uniform(0, 3, (3, 4)), rng.uniform(0, 1, (4, 2))),
    )
    return spiking, held


def test_biosnn_networks_round_trip_to_identical_spikes(tmp_path, rng):
    spiking, held = _networks(rng)
    n_steps = 300
    for net, x in (
        (spiking, (rng.random((n_steps, 2, 6)) < 0.06).astype(float)),
        (held, rng.uniform(0, 1, (n_steps, 2, 3))),
    ):
        path = tmp_path / "net.nir"
        write(path, net)
        back = from_nir(read(path), Discretization.exact(DT)).net
        for k, (a, b) in enumerate(zip(net.layers, back.layers)):
            assert (a.model, a.n, a.resolved_synapse(), a.resolved_reset()) == (
                b.model,
                b.n,
                b.resolved_synapse(),
                b.resolved_reset(),
            )
            assert net.resolved_params(k, DT) == back.resolved_params(k, DT)
            assert np.array_equal(net.weights[k], back.weights[k])
            assert (net.delays[k] is None and back.delays[k] is None) or np.array_equal(net.delays[k], back.delays[k])
        stim = x if net.layers[0].synapse == "held" else SpikeTrains.from_raster(x, DT)
        ours = simulate_network(net, stim, backend="torch", dt=DT, duration=n_steps * DT)
        theirs = simulate_network(back, stim, backend="torch", dt=DT, duration=n_steps * DT)
        for a, b in zip(ours, theirs):
            assert a.keys() == b.keys() and np.array_equal(a.v, b.v)
        assert sum(len(a.keys()) for a in ours) > 20


def test_round_trip_through_brian2_is_identical(rng):
    spiking, _ = _networks(rng)
    x = SpikeTrains.from_raster((rng.random((200, 1, 6)) < 0.08).astype(float), DT)
    back = from_nir(to_nir(spiking), Discretization.exact(DT)).net
    a = simulate_network(spiking, x, backend="brian2", dt=DT, duration=0.02, record=True)
    b = simulate_network(back, x, backend="brian2", dt=DT, duration=0.02, record=True)
    for la, lb in zip(a, b):
        agreement = compare_activities(la, lb)
        assert agreement.spikes_identical and agreement.max_abs_dv == 0.0
    assert len(a[0].keys()) > 5 and len(a[1].keys()) > 0


def test_export_writes_nir_semantics():
    """The written graph, read by NIR's equations, is the network: LIF jump R W / tau = W, CubaLIF
    w_in / tau_syn = 1."""
    spiking, held = _networks(np.random.default_rng(0))
    g = to_nir(spiking)
    lif, cuba = g.nodes["lif_0"], g.nodes["cubalif_1"]
    assert np.all(lif.r * 1.0 / lif.tau == 1.0) and np.all(cuba.w_in / cuba.tau_syn == 1.0) and np.all(cuba.r == 1)
    np.testing.assert_array_equal(g.nodes["linear_0"].weight, spiking.weights[0].T)
    assert type(g.nodes["delay_0"]).__name__ == "Delay" and type(g.nodes["delay_post_1"]).__name__ == "Delay"
    assert lif.metadata["biosnn_model"] == "lif" and cuba.metadata["biosnn_model"] == "plif"
    assert np.all(lif.v_leak == 0.05)
    assert to_nir(held).nodes["lif_0"].metadata["biosnn_synapse"] == "held"


# -- what biosnn refuses ------------------------------------------------------------------------


def _refused(graph, match, disc=None):
    with pytest.raises(BiosnnInputError, match=match):
        from_nir(graph, disc or Discretization.exact(DT))


@pytest.mark.parametrize(
    "node, match",
    [
        (nir.Threshold(threshold=np.ones(1)), r"'threshold'.*Threshold.*not supported.*no reset"),
    ],
)
def test_unsupported_nodes_are_named(node, match):
    _refused(_graph(nir.Linear(weight=np.ones((1, 1))), node), match)


def test_unsupported_nodes_are_refused_before_any_matrix_is_built(monkeypatch):
    """A Threshold after a convolution: refused before the convolution's dense matrix is built."""
    from biosnn.nir import chain

    def built(*args):
        raise AssertionError("a dense matrix was built before the graph was checked")

    monkeypatch.setitem(chain.HOP_NODES, "Conv1d", built)
    conv = nir.Conv1d(
        input_shape=4, weight=np.ones((1, 1, 2)), stride=1, padding=0, dilation=1, groups=1, bias=np.zeros(1)
    )
    _refused(
        _graph(conv, _lif(3), nir.Linear(weight=np.ones((1, 3))), nir.Threshold(threshold=np.ones(1))),
        r"'threshold'.*Threshold.*not supported",
    )


def test_refusals_name_the_node_and_the_reason():
    w = nir.Linear(weight=np.ones((2, 2)))
    _refused(
        _graph(nir.Affine(weight=np.ones((2, 2)), bias=np.array([0.0, np.nan])), _lif(2)), r"'affine'.*bias holds NaN"
    )
    _refused(_graph(nir.Affine(weight=np.ones((2, 2)), bias=np.ones(3)), _lif(2)), r"'affine'.*3 bias values")
    _refused(_graph(w, _lif(2, tau=np.array([1e-2, np.nan]))), r"'lif'.*tau needs 1 or 2 finite values")
    _refused(_graph(w, _lif(2, tau=np.array([1e-2, -1e-2]))), r"'lif'.*a time constant must be > 0")
    _refused(_graph(w, _lif(2, v_th=1.0, v_reset=2.0)), r"'lif'.*v_th > v_reset")
    _refused(_graph(nir.Delay(delay=np.array([0.5 * DT, 0.0])), w, _lif(2)), r"'delay'.*0.5 steps")
    _refused(_graph(w, _lif(2), nir.Linear(weight=np.ones((2, 2)))), r"'linear_1'.*after the last neuron")
    _refused(_graph(w, _lif(2, tau=1e-5)), r"'lif'.*shorter than dt.*norse", Discretization.euler(1e-3))
    _refused(_graph(w), r"no neuron node")
    rec = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type=np.array([2])),
            "w": w,
            "lif": _lif(2),
            "rec": nir.Linear(weight=np.eye(2)),
            "output": nir.Output(output_type=np.array([2])),
        },
        edges=[("input", "w"), ("w", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")],
        type_check=False,
    )
    _refused(rec, r"'lif'.*(feeds|fed by) 2 nodes")
    sub = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type=np.array([2])),
            "w": w,
            "rnn": rec,
            "output": nir.Output(output_type=np.array([2])),
        },
        edges=[("input", "w"), ("w", "rnn"), ("rnn", "output")],
        type_check=False,
    )
    _refused(sub, r"'rnn'.*subgraph.*recurrent")
    with pytest.raises(BiosnnInputError, match="state the discretization"):
        from_nir(_graph(w, _lif(2)), "exact")
    with pytest.raises(BiosnnInputError, match="does not exist"):
        read("/nonexistent/graph.nir")
    with pytest.raises(BiosnnInputError, match="spikes 'delta'"):
        Discretization("exact", DT, "delta")


def test_export_refuses_what_nir_cannot_state():
    w = np.ones((2, 2))
    for layer, match in (
        (LayerSpec("lif", 2, reset="subtract"), "reset 'subtract'.*NIR"),
        (LayerSpec("lif", 2, {"t_ref": 2e-3}, reset="hard"), "refractory period"),
        (LayerSpec("wta", 2), "NIR has no node"),
        (LayerSpec("plif", 2, reset="hard"), "defaults to 2 dt"),
    ):
        with pytest.raises(BiosnnInputError, match=match):
            to_nir(FeedForwardNet(2, (layer,), (w,)))
    irregular = FeedForwardNet(2, (LayerSpec("lif", 2, reset="hard"),), (w,), (np.array([[0, 1], [2, 0]]) * DT,))
    with pytest.raises(BiosnnInputError, match="per-synapse delays"):
        to_nir(irregular)
    assert to_nir(FeedForwardNet(2, (LayerSpec("plif", 2, reset="hard"),), (w,)), dt=DT).nodes["lif_0"].tau[0] == 2 * DT


def test_contract_holds_on_an_imported_graph(rng):
    """An imported graph is an ordinary biosnn network: mirror and Brian2 agree (euler, held first layer)."""
    g = _graph(
        nir.Linear(weight=rng.uniform(0, 1.2, (4, 3))),
        _lif(4, tau=2e-3, v_th=1.0),
        nir.Linear(weight=rng.uniform(0, 8.0, (2, 4))),
        _lif(2, tau=1e-3, v_th=0.5),
    )
    imported = from_nir(g, Discretization.euler(DT))
    x = (rng.random((150, 2, 3)) < 0.4).astype(float)
    a, b = imported.simulate(x, backend="torch"), imported.simulate(x, backend="brian2")
    for la, lb in zip(a, b):
        assert compare_activities(la, lb).passes(V_TOLERANCE)
    assert len(a[1].keys()) > 0


# -- biases: a constant input ------------------------------------------------------------------------


def test_affine_bias_is_a_constant_input_under_nir_semantics():
    """Affine(W, b) -> Scale(s) -> LIF, read with NIR's Dirac spikes: ``tau dv/dt = (v_leak - v) + R (s W x + s b)``.
    The constant part relaxes v to v_leak + R s b from t = 0 (exactly: v_eq + (v - v_eq) e^{-dt/tau} per step);
    each input spike adds R s W / tau one step later. Written out here, against both backends."""
    tau, r, v_leak = 8e-3, np.array([2.0, 0.5]), 0.05
    w = np.array([[0.3, -0.2], [0.1, 0.4]])
    b, s = np.array([0.25, -0.4]), np.array([1.5, 2.0])
    graph = _graph(
        nir.Affine(weight=w, bias=b),
        nir.Scale(scale=s),
        nir.LIF(tau=np.full(2, tau), r=r, v_leak=np.full(2, v_leak), v_threshold=np.full(2, 1e3), v_reset=np.zeros(2)),
    )
    imported = from_nir(graph, Discretization.exact(DT))
    params = imported.net.resolved_params(0, DT)
    np.testing.assert_allclose(params["bias"], r * s * b, rtol=ROUNDING)
    assert params["bias_onset"] == 0.0  # NIR's semantics: on from t = 0
    x = np.zeros((120, 2))
    x[[10, 30, 31, 70], [0, 1, 0, 1]] = 1.0
    v_eq, decay = v_leak + r * s * b, np.exp(-DT / tau)
    v, expected = np.full(2, v_leak), []
    for n in range(120):
        expected.append(v.copy())
        v = v_eq + (v - v_eq) * decay
        if n >= 1:
            v = v + r * s * (w @ x[n - 1]) / tau  # a Dirac of the previous step (one hop of latency)
    for backend in ("brian2", "torch"):
        (layer,) = imported.simulate(x, backend=backend)
        np.testing.assert_allclose(layer.v[:, 0, :], np.array(expected), rtol=0, atol=CLOSED_FORM)


def test_conv_bias_is_one_value_per_channel_at_every_position():
    """Conv1d(bias): the hop's constant term is the convolution of a zero input, b_c at every output position of
    channel c (padding included); read into the LIF's bias as R b."""
    conv = nir.Conv1d(
        input_shape=5, weight=np.ones((2, 1, 3)), stride=1, padding=1, dilation=1, groups=1, bias=np.array([0.5, -0.25])
    )
    imported = from_nir(
        _graph(conv, nir.Flatten(start_dim=0, input_type={"input": np.array([2, 5])}), _lif(10, r=2.0)),
        Discretization.exact(DT),
    )
    np.testing.assert_array_equal(imported.net.resolved_params(0, DT)["bias"], np.repeat([1.0, -0.5], 5))


def test_biases_round_trip_to_identical_spikes(rng):
    """lif (delta, held, current), li and if layers with per-neuron biases exported as Affine nodes (b = bias / R,
    / R w_in) and read back: the same bias to rounding, identical spikes; a bias that switches on later has no
    NIR form and is refused."""
    net = FeedForwardNet(
        4,
        (
            LayerSpec("lif", 5, {"tau_m": 1 / 64, "bias": rng.uniform(-0.2, 0.5, 5)}, synapse="held", reset="hard"),
            LayerSpec(
                "lif",
                4,
                {"tau_m": 1 / 32, "tau_s": 1 / 256, "bias": rng.uniform(-0.1, 0.3, 4)},
                synapse="current",
                reset="hard",
            ),
            LayerSpec("if", 3, {"bias": rng.uniform(0, 20, 3)}, reset="hard"),
            LayerSpec("li", 2, {"tau_m": 0.02, "bias": np.array([0.3, -0.1])}),
        ),
        (
            rng.uniform(0, 300, (4, 5)),
            rng.uniform(0, 500, (5, 4)),
            rng.uniform(0, 0.8, (4, 3)),
            rng.uniform(-1, 1, (3, 2)),
        ),
    )
    graph = to_nir(net)
    assert [type(n).__name__ for n in graph.nodes.values()].count("Affine") == 4
    back = from_nir(graph, Discretization.exact(DT)).net
    for k in range(4):
        np.testing.assert_allclose(
            back.resolved_params(k, DT)["bias"], net.resolved_params(k, DT)["bias"], rtol=ROUNDING
        )
    stim = rng.uniform(0, 1, (300, 2, 4))
    ours = simulate_network(net, stim, backend="torch", dt=DT, duration=300 * DT, record=True)
    theirs = simulate_network(back, stim, backend="torch", dt=DT, duration=300 * DT, record=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.spike_steps, b.spike_steps)
        assert np.abs(a.v - b.v).max() <= CLOSED_FORM
    assert all(a.spike_steps.size > 5 for a in ours[:3])
    later = FeedForwardNet(2, (LayerSpec("lif", 2, {"bias": 0.2, "bias_onset": 5 * DT}, reset="hard"),), (np.eye(2),))
    with pytest.raises(BiosnnInputError, match=r"layer 0 \(lif\).*bias_onset"):
        to_nir(later, dt=DT)


@pytest.mark.parametrize("kind", ["SumPool2d", "AvgPool2d"])
def test_pooling_is_the_dense_matrix_of_torchs_pooling(kind):
    """Conv2d -> LIF -> pool -> Flatten -> LIF: the second hop's matrix applied to any (C, H, W) signal is torch's
    own pooling of it (sum: the window's sum, zero padding included; average: over the kernel's area)."""
    import torch

    conv = nir.Conv2d(
        input_shape=np.array([5, 6]),
        weight=np.ones((2, 1, 1, 1)),
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=np.zeros(2),
    )
    pool = getattr(nir, kind)(kernel_size=np.array([2, 3]), stride=np.array([2, 2]), padding=np.array([1, 1]))
    graph = _graph(
        conv,
        _lif(60, tau=10e-3, r=10e-3),
        pool,
        nir.Flatten(start_dim=0, input_type={"input": np.array([2, 3, 3])}),
        _lif(18, tau=10e-3, r=10e-3),
    )
    net = from_nir(graph, Discretization.exact(DT)).net
    signal = np.random.default_rng(3).random((2, 5, 6))
    x = torch.as_tensor(signal)[None]
    expected = torch.nn.functional.avg_pool2d(x, (2, 3), (2, 2), (1, 1), count_include_pad=True)
    if kind == "SumPool2d":
        expected = expected * 6
    np.testing.assert_allclose(net.weights[1].T @ signal.ravel(), expected.numpy().ravel(), rtol=SUMMATION)
    assert net.layers[1].n == 18
