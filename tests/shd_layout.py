"""Small files in the exact SHD/SSC HDF5 layout (Cramer et al. 2020), written by the tests."""

import h5py
import numpy as np


def write_shd_file(path, samples, labels, *, times_dtype=np.float32, units_dtype=np.uint16):
    """``samples``: ``[(times, units), ...]``; ragged float/int datasets as in the published files."""
    with h5py.File(path, "w") as h5:
        times = h5.create_dataset("spikes/times", (len(samples),), h5py.vlen_dtype(times_dtype))
        units = h5.create_dataset("spikes/units", (len(samples),), h5py.vlen_dtype(units_dtype))
        for k, (t, u) in enumerate(samples):
            times[k] = np.asarray(t, times_dtype)
            units[k] = np.asarray(u, units_dtype)
        h5.create_dataset("labels", data=np.asarray(labels, np.uint16))
        h5.create_dataset("extra/speaker", data=np.zeros(len(samples), np.uint16))
        h5.create_dataset("extra/keys", data=np.array([b"zero", b"one"]))


def random_shd_samples(rng, n_samples, *, n_channels=700, n_classes=20, rate=None, duration=1.4, silent=()):
    """Poisson spikes per channel (each channel its own rate), spikes sorted by time as in SHD."""
    rate = rng.uniform(1, 20, n_channels) if rate is None else rate
    samples = []
    for _ in range(n_samples):
        counts = rng.poisson(rate * duration)
        counts[list(silent)] = 0
        units = np.repeat(np.arange(n_channels), counts)
        times = rng.uniform(0, duration, units.size)
        order = np.argsort(times)
        samples.append((times[order], units[order]))
    labels = np.arange(n_samples) % n_classes
    return samples, labels
