"""Perturbations of the network (biosnn/studies/perturbation/network.py): each draw against the distribution
its docstring states (tolerances from the sample size), the identity at 0, Brian2 == torch on the perturbed
network, and the sweep and command line taking input and network kinds in one grid."""

import math
import subprocess
from dataclasses import replace

import numpy as np
import pytest
from sweep_commands import perturb_command, small_isi_case, stored_points

from biosnn.core.errors import BiosnnInputError
from biosnn.models.network import FeedForwardNet, LayerSpec
from biosnn.studies.perturbation.network import NETWORK_PERTURBATIONS, perturb_network
from biosnn.studies.perturbation.sweep import SweepSpec, check_grid, run_sweep
from biosnn.studies.perturbation.table import SweepTable

#: a sample statistic within this many standard errors of its expectation (a false failure once in ~1.7e6)
STANDARD_ERRORS = 5
#: neurons / weights drawn for the statistical checks
N = 20000
DT = 1e-3


def _big_net(n=N, tau_m=20e-3, v_th=1.0, v_rest=0.1, v_reset=0.0, delays=None, synapse="current"):
    layers = (
        LayerSpec(
            "lif",
            n,
            {"tau_m": tau_m, "tau_s": 5e-3, "v_th": v_th, "v_rest": v_rest, "v_reset": v_reset},
            synapse=synapse,
        ),
    )
    w = np.random.default_rng(0).normal(0, 1, (2, n))
    return FeedForwardNet(2, layers, (w,), delays=None if delays is None else (delays,))


@pytest.mark.parametrize("kind, name", [("tau_m_mismatch", "tau_m"), ("tau_s_mismatch", "tau_s")])
def test_time_constant_mismatch_is_log_normal_with_the_mean_kept(kind, name):
    cv = 0.4
    net = perturb_network(_big_net(), kind, cv, np.random.default_rng(1))
    base = {"tau_m": 20e-3, "tau_s": 5e-3}[name]
    x = np.log(net.layers[0].params[name] / base)
    s = math.sqrt(math.log1p(cv * cv))
    assert abs(x.mean() + s * s / 2) <= STANDARD_ERRORS * s / math.sqrt(N)
    assert abs(x.std(ddof=1) - s) <= STANDARD_ERRORS * s / math.sqrt(2 * N)
    ratio = np.exp(x)
    assert abs(ratio.mean() - 1) <= STANDARD_ERRORS * cv / math.sqrt(N)  # mean kept: E X = 1


def test_tau_s_mismatch_leaves_delta_synapse_layers_alone():
    net = _big_net(n=10, synapse="delta")
    assert perturb_network(net, "tau_s_mismatch", 0.5, np.random.default_rng(0)) == net


@pytest.mark.parametrize("kind, name", [("v_th_mismatch", "v_th"), ("v_rest_mismatch", "v_rest")])
def test_potential_mismatch_in_units_of_the_distance_to_threshold(kind, name):
    cv = 0.1
    net = perturb_network(_big_net(), kind, cv, np.random.default_rng(2))
    base = {"v_th": 1.0, "v_rest": 0.1}[name]
    sd = cv * (1.0 - 0.1)
    z = (net.layers[0].params[name] - base) / sd
    assert abs(z.mean()) <= STANDARD_ERRORS / math.sqrt(N)
    assert abs(z.std(ddof=1) - 1) <= STANDARD_ERRORS / math.sqrt(2 * N)


def test_a_threshold_is_never_drawn_at_or_below_the_reset():
    net = perturb_network(_big_net(v_th=1.0, v_reset=0.5, v_rest=0.0), "v_th_mismatch", 0.4, np.random.default_rng(3))
    assert np.all(net.layers[0].params["v_th"] > 0.5)
    assert np.mean(net.layers[0].params["v_th"] <= 1.0) < 0.5  # redrawn, not clipped to one value


def test_weight_noise_is_multiplicative_with_the_stated_cv():
    cv = 0.3
    net = _big_net()
    noisy = perturb_network(net, "weight_noise", cv, np.random.default_rng(4))
    relative = (noisy.weights[0] / net.weights[0] - 1).ravel() / cv
    n = relative.size
    assert abs(relative.mean()) <= STANDARD_ERRORS / math.sqrt(n)
    assert abs(relative.std(ddof=1) - 1) <= STANDARD_ERRORS / math.sqrt(2 * n)


@pytest.mark.parametrize("bits", [2, 3, 8])
def test_weight_quantization_keeps_at_most_2_to_the_b_minus_1_levels(bits):
    net = _big_net(n=500)
    w = net.weights[0]
    q = np.abs(w).max() / (2 ** (bits - 1) - 1)
    quantized = perturb_network(net, "weight_quantization", bits, np.random.default_rng(0)).weights[0]
    levels = np.unique(np.round(quantized / q))
    assert len(levels) <= 2**bits - 1 and levels.max() <= 2 ** (bits - 1) - 1
    assert np.abs(quantized - w).max() <= q / 2 * (1 + 1e-12)  # round to nearest: half a level at most
    assert np.allclose(quantized / q, np.round(quantized / q))


def test_delay_jitter_per_synapse_never_negative():
    sigma = 2e-3
    net = _big_net(n=5000, synapse="delta")
    jittered = perturb_network(net, "delay_jitter", sigma, np.random.default_rng(5)).delays[0]
    assert jittered.shape == (2, 5000) and np.all(jittered >= 0)
    # from 0: max(0, sigma Z), mean sigma / sqrt(2 pi), variance sigma^2 (1/2 - 1/(2 pi))
    sd = sigma * math.sqrt(0.5 - 1 / (2 * math.pi))
    assert abs(jittered.mean() - sigma / math.sqrt(2 * math.pi)) <= STANDARD_ERRORS * sd / math.sqrt(jittered.size)
    per_neuron = _big_net(n=5000, synapse="delta", delays=np.array([5e-3, 9e-3]))
    around = perturb_network(per_neuron, "delay_jitter", sigma, np.random.default_rng(5)).delays[0]
    for i, d in enumerate((5e-3, 9e-3)):  # far from 0: Gaussian around the neuron's delay
        assert abs(around[i].mean() - d) <= STANDARD_ERRORS * sigma / math.sqrt(5000)


@pytest.mark.parametrize("kind", sorted(NETWORK_PERTURBATIONS))
def test_every_network_kind_is_the_identity_at_zero_and_a_function_of_its_seed(kind):
    net = _big_net(n=50, synapse="delta", delays=np.array([1e-3, 2e-3]))
    identity = NETWORK_PERTURBATIONS[kind].identity
    assert perturb_network(net, kind, identity, np.random.default_rng(0)) == net
    strength = {"weight_quantization": 3, "delay_jitter": 1e-3}.get(kind, 0.2)
    if kind == "tau_s_mismatch":
        net = _big_net(n=50)
    a, b, c = (perturb_network(net, kind, strength, np.random.default_rng(s), 1e-4) for s in (7, 7, 8))
    assert a.digest() == b.digest() and a.digest() != net.digest()
    if kind != "weight_quantization":  # deterministic: no draw
        assert a.digest() != c.digest()


def test_bad_strengths_and_kinds_are_refused_before_any_work():
    for grid, message in (
        ([("weight_quantization", 1)], "bits must be a whole number from 2 to 32"),
        ([("weight_quantization", 2.5)], "bits must be a whole number"),
        ([("tau_m_mismatch", -0.1)], "finite and >= 0"),
        ([("delay_jitter", float("nan"))], "finite and >= 0"),
        ([("tau_mismatch", 0.1)], "unknown perturbation.*deletion.*tau_m_mismatch"),
    ):
        with pytest.raises(BiosnnInputError, match=message):
            check_grid(grid)


@pytest.fixture(scope="module")
def trained_like(tmp_path_factory):
    """A small ISI network (PLIF 12 -> LI 2, axonal delays) and 16 test samples of 0.15 s."""
    return small_isi_case(tmp_path_factory.mktemp("network_kinds"), 16, DT)


def test_brian2_and_torch_agree_on_every_perturbed_network(trained_like, tmp_path):
    """The perturbed network is one description for both backends: at the training dt Brian2 predicts every
    sample as the mirror does, for every network kind (input kinds in the same grid)."""
    folder, net, data = trained_like
    grid = [(kind, {"weight_quantization": 3, "delay_jitter": 2e-3}.get(kind, 0.3)) for kind in NETWORK_PERTURBATIONS]
    grid += [("deletion", 0.3)]
    table = SweepTable(tmp_path / "s.sqlite")
    run_sweep(table, net, data, SweepSpec("net", "data", DT), grid, [0], progress=False)
    rows = table.rows()
    assert len(rows) == 2 * len(grid)
    brian = [r for r in rows if r["backend"] == "brian2"]
    assert all(r["agreement"] == 1.0 for r in brian), [(r["kind"], r["agreement"]) for r in brian]
    network_rows = [r for r in rows if r["kind"] in NETWORK_PERTURBATIONS]
    assert all(r["input_spikes"] == len(data.spikes) for r in network_rows)  # the input is not touched


def test_cli_mixes_input_and_network_kinds_in_one_grid(trained_like, tmp_path):
    folder, _, _ = trained_like
    db = tmp_path / "mixed.sqlite"
    command = perturb_command(folder, db, DT, ["deletion=0,0.5", "weight_noise=0.2", "tau_m_mismatch=0.3"])
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert stored_points(db) == 4 * 2  # 4 (kind, strength) points x seeds 0 and 1
    bad = subprocess.run(
        perturb_command(folder, tmp_path / "bad.sqlite", DT, ["weight_quantization=1"]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "bits must be a whole number" in bad.stderr
    assert not (tmp_path / "bad.sqlite").exists()


def test_kinds_leave_alone_the_layers_they_cannot_describe():
    """Lee et al.'s neurons have no v_rest / v_reset and no tau_m: the potential and tau kinds leave them be."""
    lee = FeedForwardNet(3, (LayerSpec("lee_refractory", 4, {}),), (np.ones((3, 4)),))
    for kind in ("v_th_mismatch", "v_rest_mismatch", "tau_m_mismatch"):
        assert perturb_network(lee, kind, 0.2, np.random.default_rng(0)) == lee


def test_non_finite_bits_are_refused():
    for bits in (float("nan"), float("inf")):
        with pytest.raises(BiosnnInputError, match="bits must be a whole number"):
            check_grid([("weight_quantization", bits)])


def test_a_sweep_refuses_a_perturbed_network_it_cannot_run_before_any_point(trained_like, tmp_path):
    """A PLIF time constant drawn below dt (PLIF needs tau_m > dt): refused with the kind, seed and layer before
    anything is stored."""
    _, net, data = trained_like
    slow = replace(
        net, layers=(replace(net.layers[0], params={**net.layers[0].params, "tau_m": 1.5e-3}),) + net.layers[1:]
    )
    table = SweepTable(tmp_path / "s.sqlite")
    with pytest.raises(
        BiosnnInputError, match=r"tau_m_mismatch = 0.5, seed 0: the perturbed layer 0 is not a valid plif"
    ):
        run_sweep(
            table,
            slow,
            data,
            SweepSpec("net", "data", DT),
            [("deletion", 0.1), ("tau_m_mismatch", 0.5)],
            [0],
            progress=False,
        )
    assert table.rows() == []


def test_network_kinds_in_a_binned_sweep_are_stored_as_unbinned(trained_like, tmp_path):
    _, net, data = trained_like
    table = SweepTable(tmp_path / "s.sqlite")
    spec = SweepSpec("net", "data", DT, backends=("torch",), binned=True)
    run_sweep(table, net, data, spec, [("weight_noise", 0.2), ("deletion", 0.2)], [0], progress=False)
    rows = {r["kind"]: r["binned"] for r in table.rows()}
    assert rows == {"weight_noise": 0, "deletion:temporal-shd": 1}


def test_membrane_noise_in_a_sweep_is_drawn_alike_by_both_backends(trained_like, tmp_path):
    """membrane_noise gives every layer white noise on the sweep's finest grid: Brian2 at the training dt
    predicts every sample as the mirror; strength 0 is the noiseless network; strong noise changes answers."""
    _, net, data = trained_like
    table = SweepTable(tmp_path / "s.sqlite")
    spec = SweepSpec("net", "data", DT, brian_dts=(DT, DT / 4))
    run_sweep(table, net, data, spec, [("membrane_noise", 0.0), ("membrane_noise", 30.0)], [0, 1], progress=False)
    rows = table.rows()
    on_grid = [r for r in rows if r["backend"] == "brian2" and r["dt"] == DT]
    assert len(on_grid) == 4 and all(r["agreement"] == 1.0 for r in on_grid)
    assert all(r["input_spikes"] == len(data.spikes) for r in rows)
    assert {r["kind"] for r in rows} == {"membrane_noise:fine_dt=0.00025"}  # the noise path is part of the point
    again = run_sweep(table, net, data, SweepSpec("net", "data", DT), [("membrane_noise", 30.0)], [0], progress=False)
    assert again["points"] == 1  # another finest dt draws another realisation: a new point, not a stored one
    noisy = perturb_network(net, "membrane_noise", 30.0, np.random.default_rng(0), DT / 4)
    assert all(layer.noise is not None and layer.noise.fine_dt == DT / 4 for layer in noisy.layers)
    assert len({layer.noise.stream for layer in noisy.layers}) == len(noisy.layers)


def test_noisy_evaluation_in_chunks_draws_what_it_draws_whole(trained_like):
    import torch

    from biosnn.torch.network import FeedForward
    from biosnn.training.loop import evaluate

    _, net, data = trained_like
    noisy = perturb_network(net, "membrane_noise", 30.0, np.random.default_rng(0), DT)
    model = FeedForward.from_description(noisy, dt=DT).double()
    inputs = torch.as_tensor(np.transpose(data.spikes.to_raster(DT, int(round(data.duration / DT))), (1, 0, 2)))
    whole = evaluate(model, inputs, sample_offsets=True)
    np.testing.assert_array_equal(evaluate(model, inputs, batch_size=5, sample_offsets=True), whole)
    assert not np.array_equal(evaluate(model, inputs, batch_size=5), whole)  # without offsets: other draws


def test_escape_noise_in_a_sweep_is_drawn_alike_by_both_backends(trained_like, tmp_path):
    _, net, data = trained_like
    table = SweepTable(tmp_path / "s.sqlite")
    run_sweep(
        table,
        net,
        data,
        SweepSpec("net", "data", DT),
        [("escape_noise", 0.0), ("escape_noise", 0.2)],
        [0],
        progress=False,
    )
    brian = [r for r in table.rows() if r["backend"] == "brian2"]
    assert len(brian) == 2 and all(r["agreement"] == 1.0 for r in brian)
    noisy = perturb_network(net, "escape_noise", 0.2, np.random.default_rng(0), DT)
    spiking = [layer for layer in noisy.layers if layer.model != "li"]
    assert spiking and all(layer.escape is not None and layer.escape.delta == 0.2 for layer in spiking)
    assert noisy.layers[-1].escape is None  # the readout has no threshold
