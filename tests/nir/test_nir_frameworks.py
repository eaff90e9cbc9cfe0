"""Graphs exported by snntorch, norse and spikingjelly: imported, simulated, and checked against the framework's
own forward pass of the network that wrote them (float64), where the conventions match; and
``biosnn validate-nir`` on each.

The oracle is the framework's module itself, run step by step: every framework step ``t`` of layer ``l``
is biosnn's label ``t + lag_l`` (one step per hop, one more for a current-based layer, none into a held first
layer: ``biosnn.nir.frameworks.layer_lags``), and its membrane after the reset is biosnn's record at
``t + lag_l + 1``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

nir = pytest.importorskip("nir", reason="the NIR bridge needs the nir package (pip install 'biosnn[nir]')")
torch = pytest.importorskip("torch")

from tolerances import ROUNDING  # noqa: E402

from biosnn.core.errors import BiosnnInputError  # noqa: E402
from biosnn.nir import Discretization, from_nir  # noqa: E402
from biosnn.nir.frameworks import FRAMEWORKS, layer_lags  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
#: spikingjelly 2.0 (NIR exchange) lives beside the 0.0.0.0.14 oracle (Makefile, $(STAMP))
SPIKINGJELLY_2 = ROOT / ".venv" / "peers" / "spikingjelly-2.0.0"

#: framework against mirror, both float64 from the same float64 parameters: the same Euler recurrence in a
#: different operation order (beta v + x against v + (x - v) dt/tau), rounding only
FLOAT64_RECURRENCE = 1e-12


#: a difference in membranes that a wrong convention produces (the right one agrees to 1e-15)
VISIBLE = 1e-3


def _aligned(activities, imported, lags, n_steps):
    """biosnn's spikes and post-reset membranes on the framework's steps."""
    out = []
    for act, lag in zip(activities, lags):
        spikes = np.zeros((n_steps, act.batch, act.n))
        keep = (act.spike_steps >= lag) & (act.spike_steps < lag + n_steps)
        spikes[act.spike_steps[keep] - lag, act.spike_samples[keep], act.spike_units[keep]] = 1
        out.append((spikes, act.v[lag + 1 : lag + 1 + n_steps]))
    return out


def _check(framework_layers, imported, x, lags, *, backend="torch"):
    """Framework layers [(spikes [T,B,N], v after reset [T,B,N])] against biosnn's; returns (spikes, max |dv|)."""
    ours = _aligned(imported.simulate(x, backend=backend, extra_steps=lags[-1] + 1), imported, lags, x.shape[0])
    n, dv = 0, 0.0
    for (s_fw, v_fw), (s_b, v_b) in zip(framework_layers, ours):
        np.testing.assert_array_equal(s_fw, s_b)
        dv = max(dv, float(np.max(np.abs(v_fw - v_b))))
        n += int(s_fw.sum())
    return n, dv


def _raster(rng, n_steps, batch, n, p):
    return (rng.random((n_steps, batch, n)) < p).astype(np.float64)


# -- snntorch ----------------------------------------------------------------------------------


def _snn():
    return pytest.importorskip("snntorch", reason="snntorch 1.0.0 is a test extra (pip install -e '.[test]')")


def _snntorch_net(reset="zero", reset_delay=False, seed=0, bias=False, per_neuron_decay=False):
    """Linear -> Leaky -> Linear -> Synaptic, float64, one parameter per neuron (snntorch 1.0's export of a
    scalar beta writes 0-d arrays, which NIR 1.0.8 refuses). ``reset_delay=False``, as snntorch's own
    import_from_nir builds them: with the default (True) Synaptic's zero reset also drops the next step's input."""
    snn = _snn()
    torch.manual_seed(seed)
    full = lambda v, n: torch.full((n,), v, dtype=torch.float64)  # noqa: E731
    if per_neuron_decay:  # a decay per neuron, as learn_beta / learn_alpha with a per-neuron init train them
        full = lambda v, n: torch.linspace(v - 0.1, min(v + 0.08, 0.98), n, dtype=torch.float64)  # noqa: E731
    lif = snn.Leaky(
        beta=full(0.9, 6),
        threshold=torch.ones(6, dtype=torch.float64),
        init_hidden=True,
        reset_mechanism=reset,
        reset_delay=reset_delay,
    )
    syn = snn.Synaptic(
        alpha=full(0.8, 3),
        beta=full(0.85, 3),
        threshold=torch.ones(3, dtype=torch.float64),
        init_hidden=True,
        reset_mechanism=reset,
        reset_delay=reset_delay,
    )
    for neuron in (lif, syn):  # snntorch's Heaviside returns float32: keep the float64 network float64
        neuron.register_forward_hook(lambda m, i, o: o.to(i[0].dtype))
    net = torch.nn.Sequential(torch.nn.Linear(5, 6, bias=bias), lif, torch.nn.Linear(6, 3, bias=bias), syn).double()
    with torch.no_grad():
        net[0].weight.uniform_(0.0, 0.9)
        net[2].weight.uniform_(-0.2, 0.6)
        if bias:  # nn.Linear's default: every layer has one (signs mixed: some neurons pushed, some held)
            net[0].bias.uniform_(-0.15, 0.25)
            net[2].bias.uniform_(-0.05, 0.1)
    return net


def _snntorch_forward(net, x):
    """The snntorch module itself, step by step: per neuron layer (spikes, membrane after the reset)."""
    lin1, lif, lin2, syn = net
    rec = [[], []]
    with torch.no_grad():
        for t in range(x.shape[0]):
            s1 = lif(lin1(torch.as_tensor(x[t])))
            s2 = syn(lin2(s1))
            for k, (s, neuron) in enumerate(((s1, lif), (s2, syn))):
                # with reset_delay snntorch keeps the pre-reset membrane (its reset comes with the next step)
                rec[k].append((s.numpy().copy(), (neuron.mem * (1 - s)).numpy().copy()))
    return [(np.stack([a for a, _ in r]), np.stack([b for _, b in r])) for r in rec]


@pytest.fixture(scope="module")
def snntorch_graph():
    _snn()
    from snntorch.export_nir import export_to_nir

    net = _snntorch_net()
    graph = export_to_nir(net, torch.zeros(1, 5, dtype=torch.float64), ignore_dims=[0])
    return net, graph


def test_snntorch_graph_agrees_with_snntorch(snntorch_graph, tmp_path):
    net, graph = snntorch_graph
    nir.write(tmp_path / "snn.nir", graph)
    imported = from_nir(tmp_path / "snn.nir", Discretization.snntorch())
    assert imported.held_input and imported.current == (False, True)
    lags = layer_lags(imported)
    assert lags == (0, 2)
    x = _raster(np.random.default_rng(1), 300, 3, 5, 0.3)
    n, dv = _check(_snntorch_forward(_snntorch_net(), x), imported, x, lags)
    assert n > 50 and dv <= FLOAT64_RECURRENCE


def test_snntorch_graph_with_a_decay_per_neuron_agrees_with_snntorch(tmp_path):
    """beta (and Synaptic's alpha) differing between neurons import to time constants per neuron; the
    imported network spikes as snntorch's, spike for spike."""
    _snn()
    from snntorch.export_nir import export_to_nir

    net = _snntorch_net(per_neuron_decay=True)
    nir.write(tmp_path / "snn.nir", export_to_nir(net, torch.zeros(1, 5, dtype=torch.float64), ignore_dims=[0]))
    imported = from_nir(tmp_path / "snn.nir", Discretization.snntorch())
    for k, names in enumerate((("tau_m",), ("tau_m", "tau_s"))):
        for name in names:
            tau = imported.net.resolved_params(k, 1.0)[name]
            assert np.ndim(tau) == 1 and len(np.unique(tau)) == tau.size, (k, name)
    x = _raster(np.random.default_rng(1), 300, 3, 5, 0.3)
    n, dv = _check(_snntorch_forward(_snntorch_net(per_neuron_decay=True), x), imported, x, layer_lags(imported))
    assert n > 50 and dv <= FLOAT64_RECURRENCE


def test_snntorch_graph_with_biases_agrees_with_snntorch(tmp_path):
    """nn.Linear's default bias (exported as Affine): a constant input each step, into the membrane (Leaky) and
    through the synaptic filter (Synaptic); biosnn switches each layer's on with its first input (label lag - 1
    for the current-based layer), where snntorch starts it at its step 0. Spikes identical, membranes to rounding;
    the same bias from t = 0 (NIR's Dirac reading's schedule) gives other spikes."""
    _snn()
    from snntorch.export_nir import export_to_nir

    net = _snntorch_net(bias=True, seed=5)
    graph = export_to_nir(net, torch.zeros(1, 5, dtype=torch.float64), ignore_dims=[0])
    assert [type(n).__name__ for n in graph.nodes.values()].count("Affine") == 2
    nir.write(tmp_path / "snn.nir", graph)
    imported = from_nir(tmp_path / "snn.nir", Discretization.snntorch())
    lags = layer_lags(imported)
    params = [imported.net.resolved_params(k, imported.dt) for k in range(2)]
    assert params[0]["bias_onset"] == 0.0 and params[1]["bias_onset"] == pytest.approx((lags[1] - 1) * 1e-4)
    assert np.ptp(params[1]["bias"]) > 0
    x = _raster(np.random.default_rng(6), 300, 3, 5, 0.3)
    fw = _snntorch_forward(_snntorch_net(bias=True, seed=5), x)
    n, dv = _check(fw, imported, x, lags)
    assert n > 50 and dv <= FLOAT64_RECURRENCE
    n_brian, dv_brian = _check(fw, imported, x, lags, backend="brian2")
    assert n_brian == n and dv_brian <= FLOAT64_RECURRENCE
    from biosnn.nir.validate import validate_nir

    report = validate_nir(tmp_path / "snn.nir", x, framework="snntorch")
    assert report["framework_agrees"] and report["contract_holds"]
    bias = next(c for c in report["conventions"] if c["topic"] == "bias (constant input)")
    assert bias["accounted"] and "'3' from step 1" in bias["biosnn"]
    # the bias from t = 0 instead: the deeper layer runs lag - 1 steps of bias ahead of its input
    from dataclasses import replace as _replace

    from biosnn import LayerSpec

    layers = list(imported.net.layers)
    layers[1] = LayerSpec(
        layers[1].model, layers[1].n, {**layers[1].params, "bias_onset": 0.0}, layers[1].synapse, layers[1].reset
    )
    early = _replace(imported, net=_replace(imported.net, layers=tuple(layers)))
    ours = _aligned(early.simulate(x, backend="torch", extra_steps=lags[-1] + 1), early, lags, 300)
    assert np.abs(ours[1][1] - fw[1][1]).max() > VISIBLE  # the wrong onset shows


@pytest.mark.parametrize("reset, layer", [("subtract", 0), ("zero", 1)])
def test_snntorch_default_resets_are_not_what_its_graph_says(reset, layer):
    """snntorch's defaults (reset_delay=True): Leaky's 'subtract' removes the threshold one step late and
    undecayed; Synaptic's 'zero' also drops the input of the step after a spike. export_to_nir writes NIR's
    hard reset to 0 for both: the graph is another network (conventions validate-nir names)."""
    _snn()
    from snntorch.export_nir import export_to_nir

    net = _snntorch_net(reset=reset, reset_delay=True)
    imported = from_nir(
        export_to_nir(net, torch.zeros(1, 5, dtype=torch.float64), ignore_dims=[0]), Discretization.snntorch()
    )
    x = _raster(np.random.default_rng(2), 300, 3, 5, 0.3)
    fw = _snntorch_forward(_snntorch_net(reset=reset, reset_delay=True), x)
    ours = _aligned(imported.simulate(x, backend="torch", extra_steps=3), imported, layer_lags(imported), 300)
    assert not np.array_equal(fw[layer][0], ours[layer][0])


# -- norse -------------------------------------------------------------------------------------


def _norse():
    return pytest.importorskip("norse.torch", reason="norse 1.1.0 (installed with --no-deps by make test)")


NORSE_DT = 1e-3


def _norse_net(bias=False, per_neuron_tau=False):
    norse_torch = _norse()
    torch.manual_seed(3)
    full = lambda v, n: torch.full((n,), v, dtype=torch.float64)  # noqa: E731
    # tau_mem_inv per neuron: 0.5x .. 1.5x the layer's value
    inverse = (lambda v, n: torch.linspace(0.5 * v, 1.5 * v, n, dtype=torch.float64)) if per_neuron_tau else full
    cell = lambda n, inv, th: norse_torch.LIFBoxCell(  # noqa: E731
        norse_torch.LIFBoxParameters(tau_mem_inv=inverse(inv, n), v_th=full(th, n), v_leak=full(0.0, n)),
        dt=NORSE_DT,
    )
    net = norse_torch.SequentialState(
        torch.nn.Linear(5, 6, bias=bias), cell(6, 100.0, 0.3), torch.nn.Linear(6, 3, bias=bias), cell(3, 250.0, 0.2)
    ).double()
    with torch.no_grad():
        net[0].weight.uniform_(0.0, 4.0)
        net[2].weight.uniform_(0.0, 3.0)
        if bias:
            net[0].bias.uniform_(-0.2, 0.4)
            net[2].bias.uniform_(-0.1, 0.3)
    return net


def _norse_forward(net, x):
    lin1, c1, lin2, c2 = net
    rec, s1, s2 = [[], []], None, None
    with torch.no_grad():
        for t in range(x.shape[0]):
            z1, s1 = c1(lin1(torch.as_tensor(x[t])), s1)
            z2, s2 = c2(lin2(z1), s2)
            rec[0].append((z1.numpy().copy(), s1.v.numpy().copy()))
            rec[1].append((z2.numpy().copy(), s2.v.numpy().copy()))
    return [(np.stack([a for a, _ in r]), np.stack([b for _, b in r])) for r in rec]


@pytest.fixture(scope="module")
def norse_graph():
    return _norse().to_nir(_norse_net(), torch.zeros(1, 5, dtype=torch.float64), dt=NORSE_DT)


def test_norse_graph_agrees_with_norse(norse_graph, tmp_path):
    nir.write(tmp_path / "norse.nir", norse_graph)
    imported = from_nir(tmp_path / "norse.nir", Discretization.norse(NORSE_DT))
    assert imported.net.resolved_params(0, NORSE_DT)["tau_m"] == pytest.approx(0.01, rel=ROUNDING)
    x = _raster(np.random.default_rng(4), 200, 3, 5, 0.3)
    lags = layer_lags(imported)
    n, dv = _check(_norse_forward(_norse_net(), x), imported, x, lags)
    assert lags == (0, 1) and n > 30 and dv <= FLOAT64_RECURRENCE


def test_norse_graph_with_a_time_constant_per_neuron_agrees_with_norse(tmp_path):
    """tau_mem_inv arrays that differ between neurons import to tau_m per neuron; identical spikes."""
    graph = _norse().to_nir(_norse_net(per_neuron_tau=True), torch.zeros(1, 5, dtype=torch.float64), dt=NORSE_DT)
    nir.write(tmp_path / "norse.nir", graph)
    imported = from_nir(tmp_path / "norse.nir", Discretization.norse(NORSE_DT))
    tau = imported.net.resolved_params(0, NORSE_DT)["tau_m"]
    np.testing.assert_allclose(1 / tau, np.linspace(50.0, 150.0, 6), rtol=ROUNDING)
    x = _raster(np.random.default_rng(4), 200, 3, 5, 0.3)
    lags = layer_lags(imported)
    n, dv = _check(_norse_forward(_norse_net(per_neuron_tau=True), x), imported, x, lags)
    assert n > 30 and dv <= FLOAT64_RECURRENCE


def test_norse_graph_with_biases_agrees_with_norse(tmp_path):
    """LIFBoxCell steps v += dt/tau (x + b - v): the bias is part of the input; identical spikes."""
    graph = _norse().to_nir(_norse_net(bias=True), torch.zeros(1, 5, dtype=torch.float64), dt=NORSE_DT)
    nir.write(tmp_path / "norse.nir", graph)
    imported = from_nir(tmp_path / "norse.nir", Discretization.norse(NORSE_DT))
    x = _raster(np.random.default_rng(8), 200, 3, 5, 0.3)
    lags = layer_lags(imported)
    assert imported.net.resolved_params(1, NORSE_DT)["bias_onset"] == pytest.approx(lags[1] * NORSE_DT)
    n, dv = _check(_norse_forward(_norse_net(bias=True), x), imported, x, lags)
    assert n > 30 and dv <= FLOAT64_RECURRENCE


def test_norse_tau_fields_hold_dt_times_tau(norse_graph):
    """norse 1.1.0 writes dt / tau_mem_inv: 1e-5 for a 10 ms neuron at dt = 1 ms. Read as tau, Euler would
    overshoot; biosnn refuses it and names the norse preset."""
    assert float(np.ravel(norse_graph.nodes["1"].tau)[0]) == pytest.approx(NORSE_DT * 0.01)
    with pytest.raises(BiosnnInputError, match="shorter than dt.*norse"):
        from_nir(norse_graph, Discretization.euler(NORSE_DT))


# -- validate-nir from the command line ------------------------------------------------------------


def test_cli_validate_nir_snntorch(snntorch_graph, tmp_path, capsys):
    from biosnn.cli import main

    nir.write(tmp_path / "snn.nir", snntorch_graph[1])
    np.save(tmp_path / "x.npy", _raster(np.random.default_rng(5), 200, 2, 5, 0.3))
    rc = main(
        [
            "validate-nir",
            str(tmp_path / "snn.nir"),
            "--input",
            str(tmp_path / "x.npy"),
            "--framework",
            "snntorch",
            "--out",
            str(tmp_path / "report"),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0, out
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["framework_agrees"] and report["contract_holds"]
    assert all(a["spikes_identical"] for a in report["framework_vs_mirror"])
    # float32 weights in snntorch's importer: the residual it names
    assert 0 < max(a["max_abs_dv"] for a in report["framework_vs_mirror"]) <= report["framework_tolerance"]
    topics = {c["topic"] for c in report["conventions"]}
    assert {"spike scaling with dt", "latency per hop", "current-based update order", "reset", "weights"} <= topics
    # Euler's beta = 1 - dt/tau against the exact propagator: the continuous-time network spikes differently
    assert sum(a["only_framework"] + a["only_biosnn"] for a in report["framework_vs_brian2_exact"]) > 0
    assert "convention not accounted: weights" in out
    assert (tmp_path / "report" / "report.md").read_text().startswith("# validate-nir: snntorch")


def test_cli_validate_nir_norse(norse_graph, tmp_path, capsys):
    from biosnn.cli import main

    nir.write(tmp_path / "norse.nir", norse_graph)
    np.save(tmp_path / "x.npy", _raster(np.random.default_rng(6), 150, 2, 5, 0.3))
    rc = main(
        [
            "validate-nir",
            str(tmp_path / "norse.nir"),
            "--input",
            str(tmp_path / "x.npy"),
            "--framework",
            "norse",
            "--dt",
            "1e-3",
            "--out",
            str(tmp_path / "report"),
        ]
    )
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert rc == 0, out
    assert all(a["spikes_identical"] for a in report["framework_vs_mirror"])
    assert sum(a["n_framework"] for a in report["framework_vs_mirror"]) > 20
    # norse's own importer on the file as written runs neurons 1/dt times too fast: they fire far more
    as_written = report["framework_as_written"]
    assert as_written["spikes"] > as_written["spikes_as_read"] > 0
    assert any(c["topic"] == "time-constant fields" for c in report["conventions"])


def test_validate_nir_conv2d_through_snntorch():
    """A Conv2d graph: biosnn's dense matrix against snntorch's own Conv2d (inputs given as [B, C, H, W])."""
    _snn()
    from biosnn.nir.validate import validate_nir

    rng = np.random.default_rng(9)
    full = lambda v: np.full((2, 4, 4), float(v))  # noqa: E731
    graph = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type=np.array([1, 4, 4])),
            "conv": nir.Conv2d(
                input_shape=(4, 4),
                weight=rng.uniform(0, 1, (2, 1, 3, 3)),
                stride=1,
                padding=1,
                dilation=1,
                groups=1,
                bias=np.zeros(2),
            ),
            "lif": nir.LIF(tau=full(1e-3), r=full(10), v_leak=full(0), v_threshold=full(1), v_reset=full(0)),
            "out": nir.Output(output_type=np.array([2, 4, 4])),
        },
        edges=[("in", "conv"), ("conv", "lif"), ("lif", "out")],
        type_check=False,
    )
    report = validate_nir(graph, _raster(rng, 60, 2, 16, 0.4), framework="snntorch")
    assert report["passed"] and report["framework_vs_mirror"][0]["n_framework"] > 100


def test_validate_nir_reports_a_framework_that_refuses_the_graph():
    """A biosnn-written graph with a rest potential: snntorch's importer refuses v_leak != 0. The report says
    so (no pass), names the writer, and still holds the mirror-vs-Brian2 contract."""
    _snn()
    from biosnn.models.network import FeedForwardNet, LayerSpec
    from biosnn.nir import to_nir
    from biosnn.nir.validate import validate_nir

    net = FeedForwardNet(
        3, (LayerSpec("lif", 2, {"tau_m": 2e-3, "v_rest": 0.1}, reset="hard"),), (np.full((3, 2), 0.5),)
    )
    report = validate_nir(to_nir(net), _raster(np.random.default_rng(8), 40, 1, 3, 0.2), framework="snntorch")
    assert "v_leak not supported" in report["framework_error"] and not report["passed"]
    assert report["contract_holds"]
    writer = next(c for c in report["conventions"] if c["topic"] == "writer")
    assert "biosnn" in writer["nir"] and not writer["accounted"]


def test_cli_validate_nir_refuses_bad_input(tmp_path, capsys):
    from biosnn.cli import main

    assert main(["validate-nir", str(tmp_path / "missing.nir"), "--input", "x.npy", "--framework", "norse"]) == 2
    assert "does not exist" in capsys.readouterr().err
    if FRAMEWORKS["spikingjelly"].missing():  # the 0.0.0.0.14 oracle has no NIR exchange
        (tmp_path / "g.nir").write_bytes(b"")
        np.save(tmp_path / "x.npy", np.zeros((3, 1)))
        assert (
            main(
                [
                    "validate-nir",
                    str(tmp_path / "g.nir"),
                    "--input",
                    str(tmp_path / "x.npy"),
                    "--framework",
                    "spikingjelly",
                ]
            )
            == 2
        )
        assert "not available" in capsys.readouterr().err
    from biosnn.cli import build_parser

    choices = next(
        a
        for a in build_parser()._subparsers._group_actions[0].choices["validate-nir"]._actions
        if a.dest == "framework"
    ).choices
    assert set(choices) == set(FRAMEWORKS)


# -- spikingjelly 2.0 (its own process: the 0.0.0.0.14 oracle owns the package name here) ----------

SPIKINGJELLY_SCRIPT = r"""
import json, sys
import numpy as np, torch, nir
from spikingjelly.activation_based import layer, neuron, functional
from spikingjelly.activation_based.nir_exchange import export_to_nir
from biosnn.nir import Discretization, from_nir
from biosnn.nir.frameworks import layer_lags
from biosnn.cli import main

dt, out, bias = 1e-3, sys.argv[1], "--bias" in sys.argv
torch.manual_seed(0)
net = torch.nn.Sequential(layer.Linear(5, 6, bias=bias), neuron.LIFNode(tau=2.0), layer.Linear(6, 3, bias=bias),
                          neuron.CUBALIFNode(c_decay=0.5, v_decay=0.75)).double()
with torch.no_grad():
    net[0].weight.uniform_(0.0, 1.5); net[2].weight.uniform_(-0.2, 0.8)
    if bias:
        net[0].bias.uniform_(-0.3, 0.5); net[2].bias.uniform_(-0.1, 0.2)
graph = export_to_nir(net, torch.zeros(1, 5, dtype=torch.float64), dt=dt)
nir.write(f"{out}/sj.nir", graph)
x = (np.random.default_rng(7).random((200, 3, 5)) < 0.3).astype(np.float64)
np.save(f"{out}/x.npy", x)
functional.reset_net(net)
rec = [[], []]
with torch.no_grad():
    for t in range(x.shape[0]):
        s1 = net[1](net[0](torch.as_tensor(x[t]))); s2 = net[3](net[2](s1))
        rec[0].append((s1.numpy().copy(), net[1].v.numpy().copy()))
        rec[1].append((s2.numpy().copy(), net[3].v.numpy().copy()))
imported = from_nir(f"{out}/sj.nir", Discretization.spikingjelly(dt))
lags = layer_lags(imported)
acts = imported.simulate(x, backend="torch", extra_steps=lags[-1] + 1)
result = dict(lags=list(lags), layers=[])
for r, act, lag in zip(rec, acts, lags):
    s = np.stack([a for a, _ in r]); v = np.stack([b for _, b in r])
    ours = np.zeros_like(s)
    keep = (act.spike_steps >= lag) & (act.spike_steps < lag + len(s))
    ours[act.spike_steps[keep] - lag, act.spike_samples[keep], act.spike_units[keep]] = 1
    result["layers"].append(dict(spikes=int(s.sum()), identical=bool(np.array_equal(s, ours)),
                                 max_abs_dv=float(np.max(np.abs(v - act.v[lag + 1: lag + 1 + len(s)])))))
if "--cli" in sys.argv:
    result["cli_rc"] = main(["validate-nir", f"{out}/sj.nir", "--input", f"{out}/x.npy", "--framework", "spikingjelly",
                             "--dt", str(dt), "--out", f"{out}/report"])
print("RESULT " + json.dumps(result))
"""


needs_spikingjelly_2 = pytest.mark.skipif(
    not (SPIKINGJELLY_2 / "spikingjelly").is_dir(),
    reason="spikingjelly 2.0 (NIR exchange) is installed by make in .venv/peers/spikingjelly-2.0.0",
)


def _spikingjelly(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SPIKINGJELLY_2), str(ROOT)]), BIOSNN_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", SPIKINGJELLY_SCRIPT, str(tmp_path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(lines[0][len("RESULT ") :])
    assert result["lags"] == [0, 2]
    for layer in result["layers"]:
        assert layer["identical"] and layer["spikes"] > 20 and layer["max_abs_dv"] <= FLOAT64_RECURRENCE
    return result


@needs_spikingjelly_2
def test_spikingjelly_graph_agrees_with_spikingjelly(tmp_path):
    """Linear layers with biases (a constant input into LIFNode's charge and CUBALIFNode's current)."""
    _spikingjelly(tmp_path, "--bias")


@pytest.mark.slow
@needs_spikingjelly_2
def test_cli_validate_nir_spikingjelly(tmp_path):
    """The command line on a spikingjelly graph (a fresh process: about 30 s, most of it importing and compiling)."""
    assert _spikingjelly(tmp_path, "--cli", "--bias")["cli_rc"] == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["framework_agrees"] and report["framework_tolerance"] == 1e-9
    assert all(a["max_abs_dv"] <= FLOAT64_RECURRENCE for a in report["framework_vs_mirror"])
    assert {"leak potential", "CUBALIF", "threshold"} <= {c["topic"] for c in report["conventions"]}


# -- validate-nir: outcomes that are not a pass, arguments refused before any work -------------------


def test_validate_nir_without_spikes_is_not_a_pass(snntorch_graph, tmp_path, capsys):
    """Silence on both sides (no input here; a misread graph in general) compares nothing: not a pass, exit 1."""
    from biosnn.cli import main
    from biosnn.nir.validate import NO_SPIKES, validate_nir

    report = validate_nir(snntorch_graph[1], np.zeros((30, 1, 5)), framework="snntorch")
    assert report["framework_agrees"] and report["contract_holds"]
    assert report["no_spikes"] and not report["passed"]
    nir.write(tmp_path / "snn.nir", snntorch_graph[1])
    np.save(tmp_path / "x.npy", np.zeros((30, 5)))
    assert (
        main(["validate-nir", str(tmp_path / "snn.nir"), "--input", str(tmp_path / "x.npy"), "--framework", "snntorch"])
        == 1
    )
    out = capsys.readouterr().out
    assert NO_SPIKES in out and "FAIL" in out


def test_cli_validate_nir_snntorch_dt_is_fixed(snntorch_graph, tmp_path, capsys):
    """snntorch's importer fixes dt = 1e-4 s: another --dt is bad input (exit 2); 1e-4 itself runs."""
    from biosnn.cli import main

    nir.write(tmp_path / "snn.nir", snntorch_graph[1])
    np.save(tmp_path / "x.npy", _raster(np.random.default_rng(5), 60, 1, 5, 0.4))
    args = ["validate-nir", str(tmp_path / "snn.nir"), "--input", str(tmp_path / "x.npy"), "--framework", "snntorch"]
    assert main(args + ["--dt", "1e-3"]) == 2
    assert "fixes dt = 0.0001 s" in capsys.readouterr().err
    assert main(args + ["--dt", "1e-4"]) == 0, capsys.readouterr().out


def test_cli_validate_nir_out_never_replaces_other_files(snntorch_graph, tmp_path, capsys):
    """--out is replaced as a whole: a directory holding the graph or the input, or any file but a previous
    report, is refused (exit 2) and left as it was; a previous report is replaced."""
    from biosnn.cli import main

    nir.write(tmp_path / "snn.nir", snntorch_graph[1])
    np.save(tmp_path / "x.npy", _raster(np.random.default_rng(5), 60, 1, 5, 0.4))
    args = ["validate-nir", str(tmp_path / "snn.nir"), "--input", str(tmp_path / "x.npy"), "--framework", "snntorch"]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(args + ["--out", str(tmp_path)]) == 2
    assert "holds" in capsys.readouterr().err and sorted(p.name for p in tmp_path.iterdir()) == before
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert main(args + ["--out", str(other)]) == 2
    assert "not written by this command" in capsys.readouterr().err and (other / "notes.txt").read_text() == "mine"
    assert main(args + ["--out", str(tmp_path / "report")]) == 0
    assert main(args + ["--out", str(tmp_path / "report")]) == 0  # its own previous report: replaced
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [".biosnn-output", "report.json", "report.md"]


def test_snntorch_uneven_input_scaling_is_reported_not_accounted():
    """r dt/tau differing between a LIF's neurons: snntorch divides every threshold by the first value; the
    membrane factor is per neuron and the threshold difference is a convention the comparison does not account."""
    f = lambda x: np.full(2, float(x))  # noqa: E731
    graph = nir.NIRGraph.from_list(
        nir.Linear(weight=np.ones((2, 3))),
        nir.LIF(tau=f(1e-2), r=np.array([50.0, 100.0]), v_leak=f(0), v_threshold=f(1), v_reset=f(0)),
        type_check=False,
    )
    imported = from_nir(graph, Discretization.snntorch())
    scales = FRAMEWORKS["snntorch"].v_scales(graph, imported.discretization)
    np.testing.assert_allclose(scales[0], [0.5, 1.0], rtol=ROUNDING)
    uneven = [c for c in FRAMEWORKS["snntorch"].conventions(graph, imported) if c.topic == "input scaling per neuron"]
    assert len(uneven) == 1 and not uneven[0].accounted and "'lif'" in uneven[0].consequence
