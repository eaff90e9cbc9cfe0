"""Bad input gets a clear BiosnnInputError naming the problem (and writes nothing)."""

import numpy as np
import pytest
from brian2 import ms, mV

import biosnn
from biosnn import BiosnnInputError, SpikeTrains

DT, DUR = 1e-4, 0.01


def spikes():
    return SpikeTrains([0.001, 0.002], [0, 1], 2, DUR)


def sim(**kw):
    args = dict(model="lif", inputs=spikes(), weights=np.ones((2, 3)) * 0.5, backend="torch", dt=DT, duration=DUR)
    args.update(kw)
    model, inputs, weights = args.pop("model"), args.pop("inputs"), args.pop("weights")
    return biosnn.simulate(model, inputs, weights, **args)


@pytest.mark.parametrize("kw, match", [
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
])
def test_simulate_rejects(kw, match):
    with pytest.raises(BiosnnInputError, match=match):
        sim(**kw)


def test_quantities_and_si_floats_are_equivalent():
    a = sim(params={"tau_m": 10 * ms}, dt=0.1 * ms, duration=10 * ms)
    b = sim(params={"tau_m": 0.010})
    np.testing.assert_array_equal(a.v, b.v)


@pytest.mark.parametrize("kw, match", [
    (dict(times=[0.001, float("nan")], units=[0, 0]), "finite"),
    (dict(times=[0.001, 0.02], units=[0, 0]), "outside the window"),
    (dict(times=[-0.001, 0.002], units=[0, 0]), "outside the window"),
    (dict(times=[0.002, 0.001], units=[0, 0]), "not sorted"),
    (dict(times=[0.001, 0.002], units=[0, 2]), "unit index 2 outside"),
    (dict(times=[0.001, 0.002], units=[0]), "does not match"),
    (dict(times=[0.001, 0.002], units=[0.5, 1.0]), "integer"),
    (dict(times=[0.001], units=[0], samples=[3], n_samples=2), "sample index 3"),
    (dict(times=[0.001], units=[0], duration=0.0), "duration"),
])
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
