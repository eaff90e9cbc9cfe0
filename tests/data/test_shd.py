"""SHD/SSC reading, binning and whole -> part -> norm, against hand-computed expectations and a
plain-Python re-implementation of the definition (biosnn/data/shd.py)."""

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest
from shd_layout import random_shd_samples, write_shd_file

from biosnn.core.errors import BiosnnInputError
from biosnn.data import shd
from biosnn.data.shd import NormalizeConfig, bin_index, normalize, read_chunks, select

#: SHD stores times as float32: a subsampled spike keeps its float32 value exactly
FLOAT32 = np.float32


def test_floor_and_digitize_binning_by_hand():
    times = np.array([0.0, 0.0141, 0.0142, 1.385, 1.387, 1.39999, 1.5])
    floor = bin_index(times, NormalizeConfig())
    assert floor.tolist() == [0, 1, 1, 98, 99, 99, -1]  # 14 ms bins; after 1.4 s: dropped
    digitize = bin_index(times, NormalizeConfig(binning="digitize"))
    # edges linspace(0, 1.4, 100) are 14.14 ms apart: bin 0 never used, everything after 1.3859 s in bin 99
    assert digitize.tolist() == [1, 1, 2, 98, 99, 99, 99]


def test_selection_by_hand():
    c = np.array(
        [
            [5, 2, 0, 3],
            [5, 0, 1, 3],  # the only low sample of channel 1: removed to keep it
            [5, 2, 0, 3],
            [5, 2, 2, 1],  # the only low sample of channel 3, but the cap allows one removal
            [5, 2, 2, 3],
            [5, 2, 2, 3],
        ]
    )
    labels = np.array([0, 1, 0, 1, 0, 1])
    sel = select(c, labels, NormalizeConfig(theta=2, epsilon=0.2, max_removed=1, seed=0))
    assert sel.removed.tolist() == [1]
    assert sel.channels.tolist() == [0, 1]  # 2: low in 3 of 6 samples; 3: over the cap
    assert sel.dropped.tolist() == [2, 3]
    assert sel.samples.size == 4 and np.bincount(labels[sel.samples]).tolist() == [2, 2]  # balanced to class 1
    assert sel.c_min.tolist() == [5, 2]


def test_a_removal_that_would_empty_a_class_is_refused():
    c = np.array([[3, 0], [3, 3], [3, 3], [3, 3]])
    labels = np.array([0, 1, 1, 1])  # class 0 has one sample
    sel = select(c, labels, NormalizeConfig(epsilon=0.5, min_class_fraction=0.5))
    assert sel.removed.size == 0 and sel.channels.tolist() == [0]


def naive_counts(samples, cfg, form):
    out = np.zeros((len(samples), cfg.n_channels), int)
    for s, (t, u) in enumerate(samples):
        seen = set()
        for time, unit in zip(np.asarray(t, np.float64), u):
            b = int(np.floor(time / cfg.bin_width))
            if not 0 <= b < cfg.n_bins:
                continue
            if form == "binned":
                if (unit, b) in seen:
                    continue
                seen.add((unit, b))
            out[s, unit] += 1
    return out


@pytest.fixture(scope="module")
def shd_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shd")
    rng = np.random.default_rng(0)
    rate = rng.uniform(0.5, 25, 40)
    train, train_labels = random_shd_samples(rng, 90, n_channels=40, n_classes=4, rate=rate, silent=(7,))
    test, test_labels = random_shd_samples(rng, 30, n_channels=40, n_classes=4, rate=rate, silent=(7,))
    train[5] = (np.r_[train[5][0], 1.45], np.r_[train[5][1], 3])  # a spike after the 1.4 s span
    write_shd_file(folder / "train.h5", train, train_labels)
    write_shd_file(folder / "test.h5", test, test_labels)
    return folder, train + test, np.r_[train_labels, test_labels]


@pytest.mark.parametrize("form", shd.FORMS)
def test_counts_match_a_plain_python_count(shd_files, form):
    folder, samples, labels = shd_files
    cfg = NormalizeConfig(n_channels=40)
    c, got_labels = shd.counts([folder / "train.h5", folder / "test.h5"], cfg, form)
    np.testing.assert_array_equal(c, naive_counts([(np.float32(t), u) for t, u in samples], cfg, form))
    np.testing.assert_array_equal(got_labels, labels)


@pytest.mark.parametrize("form", shd.FORMS)
def test_norm_samples_hold_exactly_c_min_spikes_per_channel(shd_files, tmp_path, form):
    folder, samples, labels = shd_files
    cfg = NormalizeConfig(n_channels=40, epsilon=0.05, seed=3)
    summary = normalize([folder / "train.h5", folder / "test.h5"], tmp_path / "out", cfg, forms=(form,))
    with (
        h5py.File(tmp_path / "out" / f"{form}_norm.h5") as norm,
        h5py.File(tmp_path / "out" / f"{form}_part.h5") as part,
    ):
        channels = norm["provenance/channels"][:]
        c_min = norm["provenance/c_min"][:]
        kept = norm["provenance/kept_samples"][:]
        assert 7 not in channels  # the silent channel is dropped
        assert summary[form]["spikes_per_norm_sample"] == c_min.sum()
        if form == "binned":
            x_norm, x_part, y = norm["X"][:], part["X"][:], norm["Y"][:]
            np.testing.assert_array_equal(x_norm.sum(2), np.broadcast_to(c_min, x_norm.shape[:2]))
            assert np.all(x_norm <= x_part)  # norm keeps a subset of the part bins
            np.testing.assert_array_equal(
                x_part.sum(2),
                naive_counts([(np.float32(samples[k][0]), samples[k][1]) for k in kept], cfg, "binned")[:, channels],
            )
        else:
            y = norm["labels"][:]
            for row, k in enumerate(kept):
                t, u = norm["spikes/times"][row], norm["spikes/units"][row]
                np.testing.assert_array_equal(np.bincount(u, minlength=channels.size), c_min)
                original = set(zip(np.float32(samples[k][0]).tolist(), samples[k][1].tolist()))
                assert set(zip(t.tolist(), channels[u].tolist())) <= original  # true times, never moved
                assert np.all(np.diff(t) >= 0)
        np.testing.assert_array_equal(y, labels[kept])
        assert len(set(np.bincount(y).tolist())) == 1  # balanced classes
        prov = json.loads(norm["provenance"].attrs["json"])
        assert prov["parameters"]["seed"] == 3 and len(prov["sources"][0]["sha256"]) == 64


def test_normalisation_is_reproducible_and_independent_of_the_chunk_size(shd_files, tmp_path):
    folder, _, _ = shd_files
    files = [folder / "train.h5", folder / "test.h5"]
    cfg = NormalizeConfig(n_channels=40, epsilon=0.05, seed=1)
    normalize(files, tmp_path / "a", cfg, forms=("continuous",))
    normalize(files, tmp_path / "b", cfg, forms=("continuous",), chunk=7)
    with h5py.File(tmp_path / "a" / "continuous_norm.h5") as a, h5py.File(tmp_path / "b" / "continuous_norm.h5") as b:
        for k in range(a["labels"].shape[0]):
            np.testing.assert_array_equal(a["spikes/times"][k], b["spikes/times"][k])


@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing", "lacks spikes/units"),
        ("garbage", "not readable HDF5"),
        ("channel", "outside \\[0, 700\\)"),
        ("negative", "negative or non-finite"),
        ("ragged", "different numbers of times and units"),
    ],
)
def test_damaged_files_are_refused_with_the_reason(tmp_path, damage, message):
    path = tmp_path / "bad.h5"
    if damage == "garbage":
        path.write_bytes(b"not hdf5")
    elif damage == "missing":
        with h5py.File(path, "w") as h5:
            h5.create_dataset("spikes/times", (1,), h5py.vlen_dtype(np.float32))
            h5.create_dataset("labels", data=[0])
    else:
        bad = {
            "channel": (np.array([0.1]), np.array([700])),
            "negative": (np.array([-0.1]), np.array([1])),
            "ragged": (np.array([0.1, 0.2]), np.array([1])),
        }[damage]
        write_shd_file(path, [bad], [0])
    with pytest.raises(BiosnnInputError, match=message):
        list(read_chunks(path))


def test_cli_normalize_writes_both_forms_and_refuses_bad_input(shd_files, tmp_path):
    folder, _, _ = shd_files
    base = [
        sys.executable,
        "-m",
        "biosnn",
        "data",
        "normalize",
        "--train",
        str(folder / "train.h5"),
        "--test",
        str(folder / "test.h5"),
        "--channels",
        "40",
        "--epsilon",
        "0.05",
    ]
    ok = subprocess.run(base + ["--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "binned_part.h5",
        "binned_norm.h5",
        "continuous_part.h5",
        "continuous_norm.h5",
        "summary.json",
        ".biosnn-output",
    }  # the owner marker (biosnn.core.io)
    assert "spikes per norm sample" in ok.stdout
    bad = subprocess.run(
        base[:5]
        + ["--train", str(tmp_path / "none.h5"), "--test", str(folder / "test.h5"), "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "does not exist" in bad.stderr and not (tmp_path / "x").exists()
    bad = subprocess.run(base + ["--theta", "-1", "--out", str(tmp_path / "y")], capture_output=True, text=True)
    assert bad.returncode == 2 and "theta" in bad.stderr


def test_an_output_directory_holding_the_inputs_or_foreign_files_is_refused(shd_files, tmp_path):
    folder, samples, labels = shd_files
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    write_shd_file(inputs / "train.h5", samples[:40], labels[:40])
    write_shd_file(inputs / "test.h5", samples[40:60], labels[40:60])
    files = [inputs / "train.h5", inputs / "test.h5"]
    cfg = NormalizeConfig(n_channels=40, epsilon=0.05)
    for out in (inputs, tmp_path):
        with pytest.raises(BiosnnInputError, match="holds the spike file"):
            normalize(files, out, cfg)
    assert all(f.exists() for f in files)
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("precious")
    with pytest.raises(BiosnnInputError, match="not written by this command"):
        normalize(files, foreign, cfg)
    normalize(files, tmp_path / "out", cfg)
    normalize(files, tmp_path / "out", cfg)  # its own output: replaced


def test_bad_labels_and_impossible_batches_are_refused_before_any_output(tmp_path):
    write_shd_file(tmp_path / "neg.h5", [(np.array([0.1]), np.array([1]))] * 3, [0, 1, 0])
    with h5py.File(tmp_path / "neg.h5", "r+") as h5:
        del h5["labels"]
        h5.create_dataset("labels", data=np.array([0, -1, 0]))
    with pytest.raises(BiosnnInputError, match="labels"):
        normalize([tmp_path / "neg.h5"], tmp_path / "out", NormalizeConfig(n_channels=4))
    write_shd_file(tmp_path / "ok.h5", [(np.array([0.1]), np.array([1]))] * 3, [0, 1, 0])
    with pytest.raises(BiosnnInputError, match="full_batches=256"):
        normalize([tmp_path / "ok.h5"], tmp_path / "out", NormalizeConfig(n_channels=4, full_batches=256))
    assert not (tmp_path / "out").exists()


def test_read_dataset_keeps_the_true_times_and_counts_what_it_drops(shd_files, tmp_path):
    folder, samples, labels = shd_files
    data = shd.read_dataset(folder / "train.h5", samples=[3, 5, 8])
    assert len(data) == 3 and data.n_inputs == 700 and data.labels.tolist() == labels[[3, 5, 8]].tolist()
    assert data.meta["dropped_spikes"] == 1  # the spike at 1.45 s of sample 5
    for row, k in enumerate([3, 5, 8]):
        t, u = samples[k]
        mine = data.spikes.times[data.spikes.samples == row]
        np.testing.assert_array_equal(np.sort(mine), np.sort(np.float32(t)[np.float32(t) < 1.4].astype(np.float64)))
    normalize(
        [folder / "train.h5", folder / "test.h5"],
        tmp_path / "n",
        NormalizeConfig(n_channels=40, epsilon=0.05),
        forms=("continuous",),
    )
    norm = shd.read_dataset(tmp_path / "n" / "continuous_norm.h5")
    with h5py.File(tmp_path / "n" / "continuous_norm.h5") as h5:
        assert norm.n_inputs == h5["provenance/channels"].shape[0]
        assert np.all(norm.counts().sum(1) == h5["provenance/c_min"][:].sum())
    with pytest.raises(BiosnnInputError, match="ascending"):
        shd.read_dataset(folder / "train.h5", samples=[5, 3])


def test_floor_binning_keeps_the_end_of_the_window_out():
    """0.9 / (0.9 / 7) rounds to 6.0: a spike at t = duration must not land in the last bin."""
    cfg = NormalizeConfig(n_bins=7, duration=0.9)
    assert bin_index(np.array([0.9, np.nextafter(0.9, 0)]), cfg).tolist() == [-1, 6]


def test_empty_files_and_normalisations_that_keep_nothing_are_refused(tmp_path):
    write_shd_file(tmp_path / "empty.h5", [], [])
    with pytest.raises(BiosnnInputError, match="no samples"):
        normalize([tmp_path / "empty.h5"], tmp_path / "out", NormalizeConfig(n_channels=4))
    samples = [(np.array([0.1]), np.array([k % 4])) for k in range(20)]
    write_shd_file(tmp_path / "sparse.h5", samples, [k % 2 for k in range(20)])
    with pytest.raises(BiosnnInputError, match="nothing survives"):
        normalize([tmp_path / "sparse.h5"], tmp_path / "out", NormalizeConfig(n_channels=4, n_bins=10, epsilon=0.0))
    assert not (tmp_path / "out").exists()
