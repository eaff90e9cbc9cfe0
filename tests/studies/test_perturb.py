"""Perturbations of spike trains: each property the definitions promise (biosnn/studies/perturbation)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from tolerances import ROUNDING

from biosnn.core.errors import BiosnnInputError
from biosnn.core.spikes import SpikeTrains
from biosnn.data.synthetic import poisson_spike_trains
from biosnn.studies.perturbation import PERTURBATIONS, binary_raster, binned, continuous, perturb, raster_spikes
from biosnn.studies.perturbation.continuous import train_keys

DT = 1e-3
DURATION = 0.2
#: reversal computes t_s + t_e - t in float64: a round trip may move a time by a few ulps of T
REVERSAL_ROUNDING = 8 * np.finfo(float).eps * DURATION
#: a statistical check at a fixed seed: p-values below this would mean the distribution is wrong
P_VALUE_FLOOR = 1e-3


def batch(seed: int, n_samples: int = 20, n_units: int = 6, rate: float = 80.0) -> SpikeTrains:
    return poisson_spike_trains(np.random.default_rng(seed), n_units, rate, DURATION, DT, n_samples=n_samples)


def trains(spikes: SpikeTrains) -> dict:
    """{(sample, unit): sorted times}."""
    keys = train_keys(spikes)
    return {int(k): np.sort(spikes.times[keys == k]) for k in np.unique(keys)}


def counts(spikes: SpikeTrains) -> np.ndarray:
    return np.bincount(train_keys(spikes), minlength=spikes.batch_size * spikes.n_units)


def strength_of(kind: str, value: float) -> float:
    return 1.0 if kind == "time_reversal" else value


@pytest.mark.parametrize("kind", sorted(PERTURBATIONS))
def test_identity_strength_leaves_every_spike(kind):
    spikes = batch(0)
    out = perturb(spikes, kind, PERTURBATIONS[kind].identity, np.random.default_rng(1))
    np.testing.assert_array_equal(out.times, spikes.times)
    np.testing.assert_array_equal(out.units, spikes.units)
    np.testing.assert_array_equal(out.samples, spikes.samples)


@pytest.mark.parametrize("kind", sorted(PERTURBATIONS))
def test_identity_strength_binned(kind):
    spikes = batch(0)
    raster = binary_raster(spikes, DT)
    out = PERTURBATIONS[kind].binned(raster, PERTURBATIONS[kind].identity, np.random.default_rng(1))
    np.testing.assert_array_equal(out, raster)


@pytest.mark.parametrize("kind", sorted(PERTURBATIONS))
@pytest.mark.parametrize("compat", [None, "temporal-shd"])
def test_same_seed_same_result_and_inside_the_window(kind, compat):
    spikes = batch(2)
    options = dict(compat=compat, bin_width=DT) if compat else {}
    strength = strength_of(kind, 3e-3 if PERTURBATIONS[kind].time_valued else 0.4)
    a = perturb(spikes, kind, strength, np.random.default_rng(7), **options)
    b = perturb(spikes, kind, strength, np.random.default_rng(7), **options)
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.units, b.units)
    assert a.times.min() >= 0 and a.times.max() < DURATION and a.duration == DURATION
    assert a.n_samples == spikes.n_samples and a.n_units == spikes.n_units


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), fraction=st.floats(0, 1))
def test_replacement_moves_exactly_floor_f_n_of_each_train(seed, fraction):
    spikes = batch(seed % 1000)
    out = continuous.random_replacement(spikes, fraction, np.random.default_rng(seed))
    np.testing.assert_array_equal(counts(out), counts(spikes))  # every train keeps its count
    before, after = trains(spikes), trains(out)
    for key, times in before.items():
        kept = np.isin(after[key], times).sum()  # new uniform times never hit an old one
        assert kept == len(times) - np.floor(np.round(fraction * len(times), 9))


def test_replaced_spikes_are_uniform_on_the_window():
    spikes = batch(3, n_samples=200)
    out = continuous.random_replacement(spikes, 1.0, np.random.default_rng(3))
    assert not np.isin(out.times, spikes.times).any()
    assert stats.kstest(out.times / DURATION, "uniform").pvalue > P_VALUE_FLOOR


def test_replacement_fraction_with_floating_point_product():
    """0.29 * 100 is 28.999... in floating point; the definition says floor(29.0) = 29."""
    spikes = SpikeTrains(np.arange(100) * 1e-3, np.zeros(100, int), 1, 0.1)
    out = continuous.random_replacement(spikes, 0.29, np.random.default_rng(0))
    assert np.isin(out.times, spikes.times).sum() == 71


def test_spike_jitter_is_gaussian_and_keeps_counts():
    sigma = 2e-3
    spikes = SpikeTrains(np.full(20000, 0.1), np.arange(20000) % 5, 5, DURATION, np.arange(20000) // 5, 4000)
    out = continuous.spike_jitter(spikes, sigma, np.random.default_rng(4))
    np.testing.assert_array_equal(counts(out), counts(spikes))
    assert stats.kstest((out.times - 0.1) / sigma, "norm").pvalue > P_VALUE_FLOOR


def test_spike_jitter_redraws_instead_of_piling_up_at_the_edges():
    spikes = SpikeTrains(np.full(5000, 1e-4), np.zeros(5000, int), 1, DURATION, np.arange(5000), 5000)
    out = continuous.spike_jitter(spikes, 1e-3, np.random.default_rng(5))
    assert len(out) == 5000 and out.times.min() >= 0
    assert np.mean(out.times == 0.0) < 0.01  # clipping would put about half of them at 0
    assert np.mean(out.times == 1e-4) < 0.01  # only spikes that failed every redraw stay


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sigma=st.floats(0, 0.05))
def test_neuron_jitter_preserves_every_interval_within_a_train(seed, sigma):
    spikes = batch(seed % 1000)
    out = continuous.neuron_jitter(spikes, sigma, np.random.default_rng(seed))
    before, after = trains(spikes), trains(out)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_allclose(np.diff(after[key]), np.diff(before[key]), rtol=0, atol=ROUNDING)


def test_neuron_jitter_moves_trains_by_sigma():
    spikes = SpikeTrains(np.full(4000, 0.1), np.zeros(4000, int), 1, DURATION, np.arange(4000), 4000)
    out = continuous.neuron_jitter(spikes, 3e-3, np.random.default_rng(6))
    assert stats.kstest((out.times - 0.1) / 3e-3, "norm").pvalue > P_VALUE_FLOOR


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_deletion_keeps_a_binomial_fraction(p):
    spikes = batch(8, n_samples=100)
    out = continuous.deletion(spikes, p, np.random.default_rng(8))
    n = len(spikes)
    assert abs(len(out) - (1 - p) * n) < 5 * np.sqrt(n * p * (1 - p))  # 5 standard deviations
    assert np.isin(out.times, spikes.times).all()
    assert len(continuous.deletion(spikes, 1.0, np.random.default_rng(8))) == 0


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_reversal_is_an_involution_on_the_window(seed):
    spikes = batch(seed % 1000, rate=30.0)
    once = continuous.time_reversal(spikes)
    twice = continuous.time_reversal(once)
    for s in range(spikes.batch_size):
        t = spikes.times[spikes.samples == s]
        r = once.times[once.samples == s]
        if t.size:
            assert r.min() == pytest.approx(t.min(), abs=REVERSAL_ROUNDING)  # the window is kept
            assert r.max() == pytest.approx(t.max(), abs=REVERSAL_ROUNDING)
            np.testing.assert_allclose(np.sort(r), np.sort(t.min() + t.max() - t), rtol=0, atol=REVERSAL_ROUNDING)
    a, b = trains(spikes), trains(twice)
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=0, atol=REVERSAL_ROUNDING)


def test_binned_reversal_equals_continuous_reversal_on_the_grid():
    spikes = raster_spikes(binary_raster(batch(9), DT), DT)  # every spike at the start of its bin
    continuous_reversed = binary_raster(continuous.time_reversal(spikes), DT)
    np.testing.assert_array_equal(binned.time_reversal(binary_raster(spikes, DT)), continuous_reversed)


def test_binned_exact_replacement_moves_floor_f_n_to_free_bins():
    raster = binary_raster(batch(10), DT)
    out = binned.random_replacement(raster, 0.5, np.random.default_rng(10), max_attempts=1000)
    before, after = raster.sum(0), out.sum(0)
    np.testing.assert_array_equal(after, before)  # free bins: no collision, none lost
    stayed = (raster & out).sum(0)
    assert np.all(stayed >= before - np.floor(0.5 * before))


def test_binned_replacement_can_lose_spikes_when_no_free_bin_is_found():
    raster = np.ones((10, 1, 1), np.uint8)
    raster[9] = 0  # one free bin among ten
    out = binned.random_replacement(raster, 1.0, np.random.default_rng(0), max_attempts=1)
    assert out.sum() < raster.sum()


def test_binned_bernoulli_replacement_pads_like_the_reference_code():
    raster = binary_raster(batch(11, n_samples=50), DT)
    out = binned.random_replacement(
        raster, 1.0, np.random.default_rng(11), mode="bernoulli", pad_to=2 * raster.shape[0], max_attempts=1000
    )
    assert out.shape[0] == 2 * raster.shape[0]
    late = out[raster.shape[0] :].sum() / out.sum()
    assert 0.4 < late < 0.6  # half the moved spikes land after the end
    spikes = perturb(
        raster_spikes(raster, DT),
        "random_replacement",
        1.0,
        np.random.default_rng(1),
        compat="temporal-shd",
        bin_width=DT,
        mode="bernoulli",
        pad_to=2 * raster.shape[0],
    )
    assert spikes.duration == pytest.approx(2 * DURATION)


def test_binned_jitter_merges_collisions_and_converts_seconds_to_bins():
    spikes = SpikeTrains(np.full(1000, 0.1), np.zeros(1000, int), 1, DURATION, np.arange(1000), 1000)
    out = perturb(spikes, "spike_jitter", 5e-3, np.random.default_rng(12), compat="temporal-shd", bin_width=DT)
    shift = (out.times - 0.1) / DT
    assert np.allclose(shift, np.rint(shift))  # whole bins
    assert 4.0 < np.std(shift) < 6.0  # 5 ms is 5 bins
    two = np.zeros((5, 1, 1), np.uint8)
    two[[1, 3]] = 1
    merged = [binned.spike_jitter(two, 3.0, np.random.default_rng(k)).sum() for k in range(50)]
    assert min(merged) == 1  # two spikes into one bin become one


def test_binned_neuron_jitter_drops_spikes_shifted_outside():
    raster = np.zeros((10, 200, 1), np.uint8)
    raster[9] = 1
    out = binned.neuron_jitter(raster, 2.0, np.random.default_rng(13))
    assert 0 < out.sum() < raster.sum()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: perturb(s, "shuffle", 0.1, np.random.default_rng(0)), "unknown perturbation"),
        (lambda s: perturb(s, "random_replacement", 1.5, np.random.default_rng(0)), r"\[0, 1\]"),
        (lambda s: perturb(s, "deletion", -0.1, np.random.default_rng(0)), r"\[0, 1\]"),
        (lambda s: perturb(s, "spike_jitter", -1e-3, np.random.default_rng(0)), "sigma"),
        (lambda s: perturb(s, "spike_jitter", float("nan"), np.random.default_rng(0)), "sigma"),
        (lambda s: perturb(s, "deletion", 0.1, 0), "Generator"),
        (lambda s: perturb(s, "time_reversal", 0.5, np.random.default_rng(0)), "on \\(1\\) or off"),
        (lambda s: perturb(s, "deletion", 0.1, np.random.default_rng(0), compat="temporal-shd"), "bin_width"),
        (lambda s: perturb(s, "deletion", 0.1, np.random.default_rng(0), compat="shd"), "unknown compat"),
        (lambda s: perturb(s, "deletion", 0.1, np.random.default_rng(0), bin_width=1e-3), "only with compat"),
        (
            lambda s: perturb(s, "deletion", 0.1, np.random.default_rng(0), compat="temporal-shd", bin_width=3e-3),
            "divide the duration",
        ),
        (lambda s: perturb(s.times, "deletion", 0.1, np.random.default_rng(0)), "SpikeTrains"),
        (lambda s: binned.random_replacement(binary_raster(s, DT), 0.1, np.random.default_rng(0), mode="some"), "mode"),
        (lambda s: binned.deletion(np.full((3, 1, 1), 2), 0.1, np.random.default_rng(0)), "binary"),
        (lambda s: perturb(s, "deletion", None, np.random.default_rng(0)), "expected a number"),
        (lambda s: perturb(s, "deletion", "abc", np.random.default_rng(0)), "expected a number"),
        (
            lambda s: perturb(
                s, "spike_jitter", 1e-3, np.random.default_rng(0), compat="temporal-shd", bin_width=1e-3, mode="exact"
            ),
            "unknown option",
        ),
        (
            lambda s: perturb(
                s,
                "random_replacement",
                0.5,
                np.random.default_rng(0),
                compat="temporal-shd",
                bin_width=1e-3,
                pad_to="x",
            ),
            "pad_to",
        ),
        (
            lambda s: perturb(s, "deletion", 0.1, np.random.default_rng(0), compat="temporal-shd", bin_width="1e-3"),
            "bin_width",
        ),
        (lambda s: SpikeTrains.from_raster(np.full((2, 1, 1), 0.5), 1e-3), "0/1"),
        (lambda s: SpikeTrains.from_raster(np.ones((2, 2, 1)), 1e-3, batched=False), "one sample"),
    ],
)
def test_bad_input_is_refused_before_any_work(call, message):
    with pytest.raises(BiosnnInputError, match=message):
        call(batch(0, n_samples=2))


def test_one_per_step_keeps_the_first_spike_of_a_step():
    spikes = SpikeTrains([0.0001, 0.0004, 0.0011, 0.0012], [0, 0, 0, 1], 2, 0.01)
    kept, merged = spikes.one_per_step(1e-3)
    assert merged == 1
    np.testing.assert_array_equal(kept.times, [0.0001, 0.0011, 0.0012])
    kept.check_one_per_step(1e-3)


def test_one_per_step_drops_a_spike_that_timestep_puts_after_the_last_step():
    """t within 1e-3 dt of the end lies inside [0, T) but timestep() rounds it to step n_steps."""
    spikes = SpikeTrains([0.0001, 0.0099999], [0, 0], 1, 0.01)
    assert spikes.steps(1e-3).tolist() == [0, 10]
    kept, lost = spikes.one_per_step(1e-3)
    assert lost == 1 and kept.times.tolist() == [0.0001]
    assert kept.to_raster(1e-3, 10).sum() == 1


def test_binned_form_drops_a_spike_timestep_puts_after_the_last_bin_as_the_continuous_path_does():
    spikes = SpikeTrains([0.5, 1 - 1e-7], [0, 0], 1, 1.0, [0, 0], 1)
    out = perturb(spikes, "deletion", 0.0, np.random.default_rng(0), compat="temporal-shd", bin_width=1e-3)
    assert out.times.tolist() == [0.5]
