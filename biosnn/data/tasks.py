"""The synthetic timing tasks of Yu, Sun & Goodman (2025), in continuous time.

Every generator takes an explicit ``numpy.random.Generator``, is vectorised over
samples, and returns a :class:`~biosnn.data.dataset.SpikeDataset` of continuous
spike times (``meta`` records the generator and its parameters). A binned view
is ``dataset.spikes.to_raster(dt, n_steps)``.

* :func:`isi_task`: a point of the (rate, ISI) plane per sample; each of the
  ``n_inputs`` channels emits ``Poisson(rate T)`` spike *pairs* separated by the
  point's ISI. The pairs of a channel are placed uniformly at random without
  overlap, at least one ISI apart, so the shortest interval of every train is
  the ISI (at least one pair per sample). The two classes lie on either side of
  the diagonal of the plane (rate u and ISI v scaled to [0, 1]); points with
  ``|v - u| <= margin`` are not drawn. The count carries the rate only: a rate code
  separates the classes partly (the best rule on the true rate scores 75% without
  margin), the ISI separates them fully.
* :func:`ccisi_task`: the cross-channel variant: ``n_pairs`` pairs of channels;
  each event fires channel ``a`` at ``t`` and its partner ``b`` at ``t + ISI``
  (``Poisson(rate T)`` events at uniform times): the interval exists only
  between the two neurons of a pair.
* :func:`coincidence_task`: ``n_groups`` (3) groups of ``group_size`` (20)
  inputs, ``n_windows`` windows with one firing slot at each window's centre.
  In every window two groups share an ON/OFF state and the third has the other;
  the class is which two share. A group's active count is ``Poisson(mu)``
  truncated to the group size, ``mu_on = (1 - l) 12 + 5 l``,
  ``mu_off = (1 - l) 2 + 5 l``; its active neurons fire together at the slot.
  At ``l = 1`` the states are invisible (chance, 1/3).

:func:`rate_baseline` is the rate-only reference of every result: a
multinomial logistic regression on per-channel spike counts (the paper's dashed
line), or an MLP on the same counts, trained on the training set and scored on the test set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import BiosnnInputError
from ..core.inputs import check_generator, check_number
from ..core.spikes import SpikeTrains, rank_within
from ..core.units import check_count
from .dataset import SpikeDataset

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

#: the pairs of groups (0, 1), (0, 2), (1, 2) that share their state, class 0, 1, 2
COINCIDENCE_PAIRS = ((0, 1), (0, 2), (1, 2))


def _positive_int(value, name: str) -> int:
    return check_count(value, name)


def _check_range(bounds, name: str) -> tuple[float, float]:
    try:
        low, high = bounds
    except (TypeError, ValueError):
        raise BiosnnInputError(f"{name} range must be a pair (low, high), got {bounds!r}") from None
    low, high = check_number(low, f"{name} range", finite=True), check_number(high, f"{name} range", finite=True)
    if not 0 < low < high:
        raise BiosnnInputError(f"{name} range must satisfy 0 < low < high, got {bounds!r}")
    return low, high


def _plane_points(rng, n_samples, rate_range, isi_range, margin):
    """Balanced labels and (rate, isi) points on their side of the diagonal, ``margin`` away from it."""
    labels = rng.permutation(np.arange(n_samples) % 2)
    rate = np.empty(n_samples)
    isi = np.empty(n_samples)
    pending = np.arange(n_samples)
    while pending.size:
        u, v = rng.random(pending.size), rng.random(pending.size)
        side = np.where(labels[pending] == 1, v - u, u - v)  # class 1: long ISI for its rate
        ok = side > margin
        rate[pending[ok]] = rate_range[0] + u[ok] * (rate_range[1] - rate_range[0])
        isi[pending[ok]] = isi_range[0] + v[ok] * (isi_range[1] - isi_range[0])
        pending = pending[~ok]
    return labels, rate, isi


def _plane_task(rng, n_samples, n_channels, channels_name, duration, rate_range, isi_range, margin, *, longest):
    """The checks and draws the ISI tasks share: labels, (rate, ISI) points, and ``Poisson(rate T)``
    events per sample and channel, at least one per sample. ``longest(isi)``: the shortest duration
    that fits the task's events at the longest ISI."""
    rng, n_samples = check_generator(rng), _positive_int(n_samples, "n_samples")
    n_channels = _positive_int(n_channels, channels_name)
    rate_range, isi_range = _check_range(rate_range, "rate"), _check_range(isi_range, "isi")
    duration, margin = check_number(duration, "duration (s)", finite=True), check_number(margin, "margin", finite=True)
    if not 0 <= margin < 0.5:
        raise BiosnnInputError(f"margin must lie in [0, 0.5), got {margin!r}")
    if longest(isi_range[1]) >= duration:
        raise BiosnnInputError(f"duration {duration!r} s is too short for events at ISI {isi_range[1]!r} s")
    labels, rate, isi = _plane_points(rng, n_samples, rate_range, isi_range, margin)
    events = rng.poisson(np.repeat(rate * duration, n_channels)).reshape(n_samples, n_channels)
    empty = events.sum(1) == 0
    events[np.flatnonzero(empty), rng.integers(0, n_channels, empty.sum())] = 1
    return labels, rate, isi, events


def isi_task(
    rng: np.random.Generator,
    n_samples: int,
    *,
    n_inputs: int = 10,
    duration: float = 1.0,
    rate_range: tuple[float, float] = (0.1, 3.0),
    isi_range: tuple[float, float] = (1e-3, 100e-3),
    margin: float = 0.05,
) -> SpikeDataset:
    """Intra-channel interval task (see the module docstring); rates in Hz, times in s."""
    labels, rate, isi, pairs = _plane_task(
        rng, n_samples, n_inputs, "n_inputs", duration, rate_range, isi_range, margin, longest=lambda isi: 3 * isi
    )
    duration = float(duration)
    capacity = np.floor((duration / isi + 1) / 2 - 1e-9).astype(np.int64)  # (2k - 1) isi < duration
    pairs = np.minimum(pairs, capacity[:, None])
    trains = np.repeat(np.arange(n_samples * n_inputs), pairs.ravel())
    u = rng.random(trains.size)
    position = rank_within(trains, u)  # the pairs of a train in the order of their draws
    sample = trains // n_inputs
    k = pairs.ravel()[trains]
    first = u * (duration - (2 * k - 1) * isi[sample]) + 2 * position * isi[sample]
    times = np.concatenate([first, first + isi[sample]])
    spikes = SpikeTrains.from_unsorted(
        times, np.tile(trains % n_inputs, 2), n_inputs, duration, np.tile(sample, 2), n_samples
    )
    meta = dict(
        task="isi",
        n_inputs=n_inputs,
        duration=duration,
        rate_range=list(rate_range),
        isi_range=list(isi_range),
        margin=margin,
        rate=rate.tolist(),
        isi=isi.tolist(),
    )
    return SpikeDataset(spikes, labels, 2, meta)


def ccisi_task(
    rng: np.random.Generator,
    n_samples: int,
    *,
    n_pairs: int = 10,
    duration: float = 1.0,
    rate_range: tuple[float, float] = (0.1, 3.0),
    isi_range: tuple[float, float] = (1e-3, 100e-3),
    margin: float = 0.05,
) -> SpikeDataset:
    """Cross-channel interval task: channels ``2p`` and ``2p + 1`` of pair ``p`` fire ``ISI`` apart."""
    labels, rate, isi, events = _plane_task(
        rng, n_samples, n_pairs, "n_pairs", duration, rate_range, isi_range, margin, longest=lambda isi: isi
    )
    duration = float(duration)
    channel_pair = np.repeat(np.arange(n_samples * n_pairs), events.ravel())
    sample = channel_pair // n_pairs
    first = rng.random(channel_pair.size) * (duration - isi[sample])
    leader = 2 * (channel_pair % n_pairs)
    spikes = SpikeTrains.from_unsorted(
        np.concatenate([first, first + isi[sample]]),
        np.concatenate([leader, leader + 1]),
        2 * n_pairs,
        duration,
        np.tile(sample, 2),
        n_samples,
    )
    meta = dict(
        task="ccisi",
        n_pairs=n_pairs,
        duration=duration,
        rate_range=list(rate_range),
        isi_range=list(isi_range),
        margin=margin,
        rate=rate.tolist(),
        isi=isi.tolist(),
    )
    return SpikeDataset(spikes, labels, 2, meta)


def coincidence_rates(mixing: float) -> tuple[float, float]:
    """``(mu_on, mu_off)`` at mixing level ``l``: ``((1 - l) 12 + 5 l, (1 - l) 2 + 5 l)``."""
    return (1 - mixing) * 12 + 5 * mixing, (1 - mixing) * 2 + 5 * mixing


def coincidence_task(
    rng: np.random.Generator,
    n_samples: int,
    *,
    mixing: float = 0.0,
    n_groups: int = 3,
    group_size: int = 20,
    n_windows: int = 8,
    window: float = 25e-3,
) -> SpikeDataset:
    """Which two groups share their ON/OFF state in every window? (see the module docstring)"""
    rng, n_samples = check_generator(rng), _positive_int(n_samples, "n_samples")
    n_windows, group_size = _positive_int(n_windows, "n_windows"), _positive_int(group_size, "group_size")
    if isinstance(n_groups, bool) or not isinstance(n_groups, (int, np.integer)) or n_groups != 3:
        raise BiosnnInputError("the coincidence task has 3 groups (its classes are the 3 pairs of groups)")
    mixing, window = check_number(mixing, "mixing l", finite=True), check_number(window, "window (s)", finite=True)
    if not 0 <= mixing <= 1:
        raise BiosnnInputError(f"mixing l must lie in [0, 1], got {mixing!r}")
    if not window > 0:
        raise BiosnnInputError(f"window must be a positive time (s), got {window!r}")
    labels = rng.permutation(np.arange(n_samples) % 3)
    shared = rng.integers(0, 2, (n_samples, n_windows))  # 1: the sharing pair is ON
    pair = np.asarray(COINCIDENCE_PAIRS)[labels]  # [S, 2]
    in_pair = np.zeros((n_samples, n_groups), bool)
    in_pair[np.arange(n_samples)[:, None], pair] = True
    state = np.where(in_pair[:, None, :], shared[:, :, None], 1 - shared[:, :, None])  # [S, W, G]
    mu_on, mu_off = coincidence_rates(mixing)
    active = np.minimum(rng.poisson(np.where(state == 1, mu_on, mu_off)), group_size)
    chosen = np.argsort(rng.random((n_samples, n_windows, n_groups, group_size)), axis=-1)
    fires = np.arange(group_size) < active[..., None]  # the first `active` of a shuffle
    s, w, g, slot = np.nonzero(fires)
    units = g * group_size + chosen[s, w, g, slot]
    times = (w + 0.5) * window
    spikes = SpikeTrains.from_unsorted(times, units, n_groups * group_size, n_windows * window, s, n_samples)
    meta = dict(
        task="coincidence",
        mixing=mixing,
        n_groups=n_groups,
        group_size=group_size,
        n_windows=n_windows,
        window=window,
        mu_on=mu_on,
        mu_off=mu_off,
    )
    return SpikeDataset(spikes, labels, 3, meta)


RATE_CLASSIFIERS = ("logistic", "mlp")


def fit_rate_classifier(train: SpikeDataset, *, classifier: str = "logistic", seed: int = 0) -> Pipeline:
    """A scikit-learn classifier of per-channel spike counts (a rate-only code), fitted on ``train``:
    a multinomial logistic regression, or an MLP (one hidden layer of 64) that can also compare
    channels' counts. ``predict(counts [S, N])`` gives classes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if classifier not in RATE_CLASSIFIERS:
        raise BiosnnInputError(f"classifier must be one of {', '.join(RATE_CLASSIFIERS)}, got {classifier!r}")
    head = (
        LogisticRegression(max_iter=2000, random_state=seed)
        if classifier == "logistic"
        else MLPClassifier((64,), max_iter=2000, early_stopping=True, random_state=seed)
    )
    model = make_pipeline(StandardScaler(), head)
    model.fit(train.counts(), train.labels)
    return model


def rate_baseline(train: SpikeDataset, test: SpikeDataset, *, classifier: str = "logistic", seed: int = 0) -> float:
    """Test accuracy of :func:`fit_rate_classifier` trained on ``train``."""
    if train.n_inputs != test.n_inputs:
        raise BiosnnInputError(f"train has {train.n_inputs} channels, test {test.n_inputs}")
    model = fit_rate_classifier(train, classifier=classifier, seed=seed)
    return float(model.score(test.counts(), test.labels))


TASKS = {"isi": isi_task, "ccisi": ccisi_task, "coincidence": coincidence_task}
