"""Wall time of ``biosnn data normalize`` on files shaped like SHD (Cramer et al. 2020).

Writes a train file (8156 samples) and a test file (2264 samples) in the SHD layout: 700 channels,
20 classes, spike times sorted within each sample, channel rates drawn so that samples hold about
``--spikes`` spikes on average and a few channels fall silent in some samples (the normalisation's
cases); then times ``normalize`` on them (both forms, the reference's full batches of 256).
Results go to ``benchmarks/results/normalize.json``.

Usage: python benchmarks/bench_normalize.py [--spikes 4000] [--work /tmp/shd-shaped]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import h5py
import numpy as np

from biosnn.core.io import atomic_write_json
from biosnn.data.shd import NormalizeConfig, normalize


def write_shaped(path: Path, n_samples: int, mean_spikes: int, rng: np.random.Generator) -> None:
    rate = rng.gamma(2.0, 1.0, 700)
    rate *= mean_spikes / (rate.sum() * 1.4)
    with h5py.File(path, "w") as h5:
        times_ds = h5.create_dataset("spikes/times", (n_samples,), h5py.vlen_dtype(np.float32))
        units_ds = h5.create_dataset("spikes/units", (n_samples,), h5py.vlen_dtype(np.uint16))
        for k in range(n_samples):
            units = np.repeat(np.arange(700), rng.poisson(rate * 1.4 * rng.uniform(0.5, 1.5)))
            times = rng.uniform(0, 1.4, units.size).astype(np.float32)
            order = np.argsort(times)
            times_ds[k], units_ds[k] = times[order], units[order].astype(np.uint16)
        h5.create_dataset("labels", data=(np.arange(n_samples) % 20).astype(np.uint8))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spikes", type=int, default=4000, help="mean spikes per sample")
    parser.add_argument("--work", default="/tmp/shd-shaped")
    parser.add_argument("--out", default="benchmarks/results/normalize.json")
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    files = [work / "shd_train.h5", work / "shd_test.h5"]
    for path, n in zip(files, (8156, 2264)):
        if not path.exists():
            write_shaped(path, n, args.spikes, rng)
    start = time.perf_counter()
    summary = normalize(files, work / "normalized", NormalizeConfig(full_batches=256), progress=True)
    seconds = time.perf_counter() - start
    result = dict(
        seconds=round(seconds, 1),
        mean_spikes=args.spikes,
        samples=10420,
        summary=summary,
        machine=platform.machine(),
        processor=platform.processor(),
    )
    atomic_write_json(args.out, result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
