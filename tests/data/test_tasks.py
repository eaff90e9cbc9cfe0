"""The synthetic timing tasks (biosnn.data.tasks) against their definitions, and the dataset file."""

import numpy as np
import pytest

from biosnn.core.errors import BiosnnInputError
from biosnn.data.dataset import SpikeDataset
from biosnn.data.tasks import (
    COINCIDENCE_PAIRS,
    ccisi_task,
    coincidence_rates,
    coincidence_task,
    isi_task,
    rate_baseline,
)

#: intervals are differences of float64 times below 1 s
TIME_ROUNDING = 1e-12


#: the tasks draw equal class counts (up to one sample of 2000: 5e-4)
BALANCE = 1e-3


def trains_of(data, s):
    mask = data.spikes.samples == s
    t, u = data.spikes.times[mask], data.spikes.units[mask]
    return {int(unit): np.sort(t[u == unit]) for unit in np.unique(u)}


def test_isi_trains_are_pairs_at_the_sample_isi():
    data = isi_task(np.random.default_rng(0), 200)
    isi = np.asarray(data.meta["isi"])
    for s in range(len(data)):
        trains = trains_of(data, s)
        assert trains, "every sample holds at least one pair"
        for times in trains.values():
            assert times.size % 2 == 0
            gaps = np.diff(times)
            np.testing.assert_allclose(gaps[::2], isi[s], atol=TIME_ROUNDING)  # within a pair: the ISI
            assert np.all(gaps[1::2] >= isi[s] - TIME_ROUNDING)  # between pairs: at least it


def test_isi_classes_lie_on_their_side_of_the_diagonal_with_margin():
    data = isi_task(np.random.default_rng(1), 2000, margin=0.1)
    u = (np.asarray(data.meta["rate"]) - 0.1) / 2.9
    v = (np.asarray(data.meta["isi"]) - 1e-3) / 99e-3
    side = np.where(data.labels == 1, v - u, u - v)
    assert side.min() > 0.1
    assert abs(data.labels.mean() - 0.5) < BALANCE  # balanced


def test_rate_separates_the_isi_classes_only_partly_and_the_coincidence_classes_not_linearly():
    rng = np.random.default_rng(2)
    isi = rate_baseline(isi_task(rng, 2000), isi_task(rng, 1000))
    assert 0.6 < isi < 0.85  # about 75%: the best rule on the true rate scores 75%
    coincidence = rate_baseline(coincidence_task(rng, 1500), coincidence_task(rng, 600))
    assert coincidence < 0.42  # chance is 1/3


def test_ccisi_partner_fires_one_isi_after_its_leader():
    data = ccisi_task(np.random.default_rng(3), 100)
    isi = np.asarray(data.meta["isi"])
    for s in range(len(data)):
        trains = trains_of(data, s)
        for leader in range(0, 20, 2):
            if leader in trains:
                np.testing.assert_allclose(trains[leader + 1] - trains[leader], isi[s], atol=TIME_ROUNDING)
            else:
                assert leader + 1 not in trains


@pytest.mark.parametrize("mixing", [0.0, 0.5, 1.0])
def test_coincidence_counts_follow_the_on_off_rates(mixing):
    data = coincidence_task(np.random.default_rng(4), 3000, mixing=mixing)
    slot = np.rint(data.spikes.times / 25e-3 - 0.5)
    np.testing.assert_allclose(data.spikes.times, (slot + 0.5) * 25e-3, atol=TIME_ROUNDING)  # the central slot
    counts = np.zeros((len(data), 8, 3))
    np.add.at(counts, (data.spikes.samples, slot.astype(int), data.spikes.units // 20), 1)
    assert counts.max() <= 20
    mu_on, mu_off = coincidence_rates(mixing)
    pair = np.asarray(COINCIDENCE_PAIRS)[data.labels]
    odd = 3 - pair.sum(1)
    sample = np.arange(len(data))
    a, b, c = counts[sample, :, pair[:, 0]], counts[sample, :, pair[:, 1]], counts[sample, :, odd]
    # a group is ON half of the time: its mean count is the mean of the two rates (truncation at 20 is rare)
    assert a.mean() == pytest.approx((mu_on + mu_off) / 2, rel=0.03)
    # the sharing pair moves together and against the odd group, as far as the rates differ
    correlation = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    anti = np.corrcoef(a.ravel(), c.ravel())[0, 1]
    if mixing == 1.0:
        assert abs(correlation) < 0.03 and abs(anti) < 0.03
    else:
        assert correlation > 0.3 and anti < -0.3


def test_generators_are_reproducible_and_refuse_bad_parameters():
    a = isi_task(np.random.default_rng(5), 50)
    b = isi_task(np.random.default_rng(5), 50)
    np.testing.assert_array_equal(a.spikes.times, b.spikes.times)
    for call, message in [
        (lambda: isi_task(0, 10), "Generator"),
        (lambda: isi_task(np.random.default_rng(0), 0), "positive integer"),
        (lambda: isi_task(np.random.default_rng(0), 10, margin=0.6), "margin"),
        (lambda: isi_task(np.random.default_rng(0), 10, isi_range=(0.1, 0.01)), "low < high"),
        (lambda: isi_task(np.random.default_rng(0), 10, duration=0.2), "too short"),
        (lambda: coincidence_task(np.random.default_rng(0), 10, mixing=1.5), "mixing"),
        (lambda: coincidence_task(np.random.default_rng(0), 10, n_groups=4), "3 groups"),
        (lambda: coincidence_task(np.random.default_rng(0), 10, n_groups=3.0), "3 groups"),
        (lambda: coincidence_task(np.random.default_rng(0), 10, mixing=None), "mixing"),
        (lambda: coincidence_task(np.random.default_rng(0), 10, window="x"), "window"),
        (lambda: isi_task(np.random.default_rng(0), 10, rate_range=(0.1, 1, 3)), "pair"),
        (lambda: isi_task(np.random.default_rng(0), 10, duration="1"), "duration"),
        (lambda: isi_task(np.random.default_rng(0), 10, duration=float("nan")), "duration"),
        (lambda: ccisi_task(np.random.default_rng(0), 10, margin="x"), "margin"),
    ]:
        with pytest.raises(BiosnnInputError, match=message):
            call()


def test_dataset_file_round_trip_and_subset(tmp_path):
    data = coincidence_task(np.random.default_rng(6), 30, mixing=0.25)
    data.save(tmp_path / "d.npz")
    back = SpikeDataset.load(tmp_path / "d.npz")
    np.testing.assert_array_equal(back.spikes.times, data.spikes.times)
    np.testing.assert_array_equal(back.labels, data.labels)
    assert back.meta == data.meta and back.n_classes == 3
    part = data.subset([4, 2])
    assert len(part) == 2 and part.labels.tolist() == [data.labels[4], data.labels[2]]
    np.testing.assert_array_equal(part.counts()[1], data.counts()[2])
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(BiosnnInputError, match="bad.npz"):
        SpikeDataset.load(tmp_path / "bad.npz")
    with pytest.raises(BiosnnInputError, match="labels"):
        SpikeDataset(data.spikes, data.labels[:-1], 3)
    for index, message in (([0, 0], "twice"), ([30], r"\[0, 30\)"), ([-1], r"\[0, 30\)"), ([0.5], "indices")):
        with pytest.raises(BiosnnInputError, match=message):
            data.subset(index)
