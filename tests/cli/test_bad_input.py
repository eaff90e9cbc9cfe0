"""Bad input gets a clear message naming the problem, before any work, and writes nothing.

The Python API raises :class:`~biosnn.BiosnnInputError` (a ``ValueError``) naming the
value and what is allowed; the ``biosnn`` command prints it and exits with status 2.
"""

import os

import numpy as np
import pytest
from brian2 import ms, mV

import biosnn
from biosnn import BiosnnInputError, SpikeTrains
from biosnn.cli import main

DT, DUR = 1e-4, 0.01


def spikes():
    return SpikeTrains([0.001, 0.002], [0, 1], 2, DUR)


def sim(**kw):
    args = dict(model="lif", inputs=spikes(), weights=np.ones((2, 3)) * 0.5, backend="torch", dt=DT, duration=DUR)
    args.update(kw)
    model, inputs, weights = args.pop("model"), args.pop("inputs"), args.pop("weights")
    return biosnn.simulate(model, inputs, weights, **args)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(model="hodgkin_huxley"), "unknown model 'hodgkin_huxley'"),
        (dict(params={"tau_membrane": 0.01}), "unknown parameter"),
        (dict(params={"tau_m": -0.01}), "tau_m=-0.01s is out of range"),
        (dict(params={"tau_m": 0.0}), "tau_m=0.0s is out of range"),
        (dict(params={"tau_m": 20 * mV}), "expected a quantity in second"),
        (dict(params={"tau_m": float("nan")}), "must be finite"),
        (dict(params={"v_th": -1.0}), "v_th > v_reset"),
        (dict(params={"t_ref": -1e-3}), "t_ref"),
        (dict(dt=0.0), "dt: must be a positive time"),
        (dict(dt=-1e-4), "dt: must be a positive time"),
        (dict(duration=-1.0), "duration"),
        (dict(duration=1e-5), "shorter than one time step"),
        (dict(discretization="euler", params={"tau_m": 5e-5}), "euler needs dt <= tau_m"),
        (dict(discretization="rk4"), "unknown discretization"),
        (dict(weights=np.ones((3, 3))), "n_units=2 but the weights have 3 rows"),
        (dict(weights=np.ones(3)), "expected shape"),
        (dict(weights=np.array([[np.nan, 1, 1], [1, 1, 1]])), "non-finite"),
        (dict(weights=np.array([["a", "b", "c"], ["a", "b", "c"]])), "dtype"),
        (dict(backend="nest"), "unknown backend"),
        (dict(dtype="float16"), "dtype"),
        (dict(backend="brian2", dtype="float32"), "float64 only"),
        (dict(reset="soft"), "unknown reset"),
        (dict(synapse="conductance"), "unknown synapse"),
        (dict(schedule="nest"), "unknown schedule"),
        (dict(synapse="held"), "dense drive"),
        (dict(synapse="held", inputs=np.ones((5, 2))), "5 steps but"),
        (dict(synapse="held", inputs=np.full((100, 2), np.inf)), "NaN or inf"),
        (dict(inputs=SpikeTrains([0.001], [0], 2, 0.02)), "longer than the simulated"),
        (dict(backend="brian2", target="fpga"), "unknown Brian2 target"),
    ],
)
def test_simulate_rejects(kw, match):
    with pytest.raises(BiosnnInputError, match=match):
        sim(**kw)


def test_quantities_and_si_floats_are_equivalent():
    a = sim(params={"tau_m": 10 * ms}, dt=0.1 * ms, duration=10 * ms)
    b = sim(params={"tau_m": 0.010})
    np.testing.assert_array_equal(a.v, b.v)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(times=[0.001, float("nan")], units=[0, 0]), "finite"),
        (dict(times=[0.001, 0.02], units=[0, 0]), "outside the window"),
        (dict(times=[-0.001, 0.002], units=[0, 0]), "outside the window"),
        (dict(times=[0.002, 0.001], units=[0, 0]), "not sorted"),
        (dict(times=[0.001, 0.002], units=[0, 2]), "unit index 2 outside"),
        (dict(times=[0.001, 0.002], units=[0]), "does not match"),
        (dict(times=[0.001, 0.002], units=[0.5, 1.0]), "integer"),
        (dict(times=[0.001], units=[0], samples=[3], n_samples=2), "sample index 3"),
        (dict(times=[0.001], units=[0], duration=0.0), "duration"),
    ],
)
def test_spike_trains_reject(kw, match):
    args = dict(n_units=2, duration=DUR)
    args.update(kw)
    with pytest.raises(BiosnnInputError, match=match):
        SpikeTrains(**args)


def test_two_spikes_in_one_step_rejected_for_brian2():
    trains = SpikeTrains([0.00101, 0.00104], [0, 0], 2, DUR)
    with pytest.raises(BiosnnInputError, match="more than one spike in step 10"):
        sim(inputs=trains, backend="brian2")


def test_spike_file_errors(tmp_path):
    missing = tmp_path / "missing.npz"
    with pytest.raises(BiosnnInputError, match="does not exist"):
        SpikeTrains.load(missing)
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(BiosnnInputError, match="not a readable .npz"):
        SpikeTrains.load(corrupt)
    partial = tmp_path / "partial.npz"
    np.savez(partial, times=np.array([0.001]), units=np.array([0]))
    with pytest.raises(BiosnnInputError, match="lacks n_units, duration"):
        SpikeTrains.load(partial)
    int_times = tmp_path / "int_times.npz"
    np.savez(int_times, times=np.array([1]), units=np.array([0]), n_units=np.int64(1), duration=np.float64(2.0))
    with pytest.raises(BiosnnInputError, match="float seconds"):
        SpikeTrains.load(int_times)


def test_spike_file_round_trip(tmp_path):
    trains = SpikeTrains([0.001, 0.002, 0.002], [1, 0, 1], 2, DUR, samples=[0, 1, 1], n_samples=2)
    path = tmp_path / "s.npz"
    trains.save(path)
    back = SpikeTrains.load(path)
    np.testing.assert_array_equal(back.times, trains.times)
    np.testing.assert_array_equal(back.units, trains.units)
    np.testing.assert_array_equal(back.samples, trains.samples)
    assert (back.n_units, back.duration, back.n_samples) == (2, DUR, 2)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_from_unsorted_sorts():
    trains = SpikeTrains.from_unsorted([0.003, 0.001], [1, 0], 2, DUR)
    assert trains.times.tolist() == [0.001, 0.003] and trains.units.tolist() == [0, 1]


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(duration=0.00667), "not a whole number of steps"),
        (dict(duration=1e9), "more than the"),
        (dict(duration=1e9, backend="brian2"), "more than the"),
        (dict(weights=[[0.5, 0.5, 0.5], [0.5, 0.5]]), "ragged"),
        (dict(model="gamma_cascade", params={"bucket_tau": []}, synapse="cascade"), "at least one value"),
    ],
)
def test_simulate_rejects_sizes_and_shapes_before_any_work(kw, match):
    with pytest.raises(BiosnnInputError, match=match):
        sim(**kw)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(times=["a", "b"], units=[0, 0]), "expected numbers"),
        (dict(times=[0.001], units=[0], samples=[0], n_samples=1.5), "n_samples: expected a positive integer"),
        (dict(times=[0.001], units=[0], samples=[0], n_samples=True), "n_samples: expected a positive integer"),
        (dict(times=[0.001, 0.002], units=[[0], [0, 1]]), "ragged"),
    ],
)
def test_spike_trains_reject_more(kw, match):
    args = dict(n_units=2, duration=DUR)
    args.update(kw)
    with pytest.raises(BiosnnInputError, match=match):
        SpikeTrains(**args)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(n_neurons=0), "n_neurons must be a positive integer"),
        (dict(n_neurons=-3), "n_neurons must be a positive integer"),
        (dict(n_neurons=2.5), "n_neurons must be a positive integer"),
    ],
)
def test_layer_rejects(kw, match):
    from biosnn.torch.layer import Layer

    with pytest.raises(BiosnnInputError, match=match):
        Layer("lif", dt=1e-4, **kw)


@pytest.mark.parametrize(
    "drive, match",
    [
        (np.full((10, 1, 3), np.nan), "NaN or infinite"),
        (np.zeros((0, 1, 3)), "at least one step"),
        (np.zeros((10, 0, 3)), "at least one step and one sample"),
        (np.zeros((10, 1, 4)), "time-major"),
    ],
)
def test_layers_reject_bad_drives(drive, match):
    import torch

    from biosnn.torch.layer import Layer

    for model in ("lif", "wta", "gamma_cascade"):
        with pytest.raises(BiosnnInputError, match=match):
            Layer(model, dt=1e-4, n_neurons=3)(torch.as_tensor(drive))


def _network_file(tmp_path, edit):
    from biosnn.models.network import FeedForwardNet, LayerSpec

    FeedForwardNet(2, (LayerSpec("lif", 3),), (np.ones((2, 3)),)).save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["description"] = np.str_(edit(str(arrays["description"])))
    np.savez(tmp_path / "bad.npz", **arrays)
    return tmp_path / "bad.npz"


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda d: "[1, 2]", "format 'list'"),
        (lambda d: d.replace('"model": "lif"', '"model": "nope"'), "bad.npz': unknown model 'nope'; registered"),
        (lambda d: d.replace('"n": 3', '"n": "three"'), "malformed description"),
        (lambda d: d.replace('"n": 3', '"n": 2.5'), "malformed description"),
        (lambda d: d.replace('"params": {}', '"params": 5'), "malformed description"),
        (lambda d: d.replace('"n_inputs": 2, ', ""), "lacks 'n_inputs'"),
        (lambda d: d.replace('"layers": [', '"layers": [7, '), "malformed description"),
    ],
)
def test_network_files_fail_clearly(tmp_path, edit, match):
    from biosnn.models.network import FeedForwardNet

    with pytest.raises(BiosnnInputError, match=match):
        FeedForwardNet.load(_network_file(tmp_path, edit))


# -- the command line: every bad input exits with status 2, before any work, writing nothing ------------------
@pytest.fixture
def files(tmp_path):
    biosnn.SpikeTrains([0.001, 0.002], [0, 1], 2, 0.01).save(tmp_path / "spikes.npz")
    np.save(tmp_path / "w.npy", np.full((2, 3), 0.5))
    np.save(tmp_path / "held.npy", np.ones((100, 2)))
    (tmp_path / "a_dir").mkdir()
    (tmp_path / "a_file").write_text("not a directory")
    (tmp_path / "mixed").mkdir()  # a report directory in which the user keeps a file of their own
    (tmp_path / "mixed" / "report.json").write_text("{}")
    (tmp_path / "mixed" / "notes.txt").write_text("mine")
    os.mkfifo(tmp_path / "fifo.npz")  # reading it would block forever
    os.link(tmp_path / "w.npy", tmp_path / "w_link.npy")  # the weights under another name
    (tmp_path / "zero.npz").symlink_to("/dev/zero")  # reading it would never end
    return tmp_path


SIMULATE = [
    "simulate",
    "lif",
    "--input",
    "{d}/spikes.npz",
    "--weights",
    "{d}/w.npy",
    "--dt",
    "1e-4",
    "--duration",
    "0.01",
    "--backend",
    "torch",
]

#: (extra arguments, message on stderr); every one exits with status 2 and writes nothing
CLI_CASES = [
    (["--out", "{d}/a_dir"], "is a directory"),
    (["--out", "{d}/spikes.npz"], "is the --input"),  # an output never replaces an input
    (["--out", "{d}/w.npy"], "is the --weights"),
    (["--out", "{d}/w_link.npy"], "is the --weights"),  # not even under another name
    (["--input", "{d}/fifo.npz", "--out", "{d}/o.npz"], "is a FIFO"),
    (["--input", "{d}/zero.npz", "--out", "{d}/o.npz"], "is a character device"),
    (["--input", "{d}/missing.npz", "--out", "{d}/o.npz"], "does not exist"),
    (["--threads", "100000", "--out", "{d}/o.npz"], "more than this machine's"),
    (["--out", "{d}/a_file/trace.npz"], "is a file, not a directory"),
    (["--out", "/proc/trace.npz"], "cannot write in"),
    (["--dt", "-1e-4", "--out", "{d}/o.npz"], "dt: must be a positive time, got -0.0001"),
    (["--duration", "0.00667", "--out", "{d}/o.npz"], "not a whole number of steps"),
    (["--duration", "1e9", "--out", "{d}/o.npz"], "more than the"),
    (["--param", "tau_m=0.01", "--param", "tau_m=0.02", "--out", "{d}/o.npz"], "--param tau_m given twice"),
    (["--synapse", "held", "--out", "{d}/o.npz"], "is an .npz archive; expected a .npy array"),
    (["--input", "{d}/held.npy", "--out", "{d}/o.npz"], "is a .npy array, not an .npz archive"),
    (["--reset", "soft", "--out", "{d}/o.npz"], "invalid choice: 'soft'"),
    (["--param", "tau_m=abc", "--out", "{d}/o.npz"], "is not a number"),
    (["--threads", "0", "--out", "{d}/o.npz"], "expected a positive integer"),
]


def _argv(args, d):
    return [a.replace("{d}", str(d)) for a in args]


@pytest.mark.parametrize("extra, message", CLI_CASES)
def test_simulate_bad_input_exits_2_before_any_work(files, capsys, extra, message):
    argv = _argv(SIMULATE, files)
    for option, value in zip(extra[::2], extra[1::2]):  # an option given here replaces the base one
        if option in argv and option not in ("--param",):
            argv[argv.index(option) + 1] = value.replace("{d}", str(files))
        else:
            argv += [option, value.replace("{d}", str(files))]
    before = sorted(p.name for p in files.rglob("*"))
    try:
        code = main(argv)
    except SystemExit as err:  # argparse's own errors
        code = err.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in files.rglob("*")) == before  # nothing written, no temporary file left


@pytest.mark.parametrize(
    "argv, message",
    [
        (["validate", "--models", "li", "--out", "{d}/a_file"], "is a file, not a directory"),
        (["validate", "--models", "li", "--seed", "-1", "--out", "{d}/r"], "a seed is a non-negative integer"),
        (["validate", "--models", "li", "--target", "bogus", "--out", "{d}/r"], "invalid choice: 'bogus'"),
        (["validate", "--models", "izhikevich", "--out", "{d}/r"], "unknown model or network 'izhikevich'"),
        (["validate", "--models", "li", "--out", "{d}"], "not written by this command"),
        (["validate", "--models", "li", "--out", "{d}/mixed"], "holds notes.txt"),
    ],
)
def test_validate_bad_input_exits_2_and_creates_nothing(files, capsys, argv, message):
    try:
        code = main(_argv(argv, files))
    except SystemExit as err:
        code = err.code
    assert code == 2 and message in capsys.readouterr().err
    assert not (files / "r").exists()
