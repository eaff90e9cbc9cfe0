"""The sweep table over training seeds (biosnn/studies/perturbation/aggregate.py): each network's rows are
averaged over perturbation seeds, then summarised over the networks of a family."""

import statistics as stdlib

import pytest
from tolerances import ROUNDING

from biosnn.core.errors import BiosnnInputError
from biosnn.studies.perturbation.aggregate import aggregate, family_and_seed
from biosnn.studies.statistics import summarize


def _row(network, accuracy, *, seed=0, backend="torch", agreement=None, kind="deletion", strength=0.5):
    return dict(
        network=network, kind=kind, strength=strength, seed=seed, backend=backend, dt=1e-3, accuracy=accuracy,
        agreement=agreement,
    )  # fmt: skip


def test_family_and_seed_split_the_trailing_seed_only():
    assert family_and_seed("isi-sgd-seed3") == ("isi-sgd", 3)
    assert family_and_seed("coincidence-mixing0.5-sgd_delay-seed12") == ("coincidence-mixing0.5-sgd_delay", 12)
    assert family_and_seed("seed3-net") == ("seed3-net", None)  # no suffix: its own family, no seed
    assert family_and_seed("a-seed03") == ("a-seed03", None)  # a padded seed is not read as seed 3


def test_networks_are_averaged_over_perturbation_seeds_then_summarised_over_training_seeds():
    accuracies = {0: (0.8, 0.9), 1: (0.7, 0.7), 2: (0.95, 0.85), 3: (0.6, 0.8), 4: (0.9, 0.9)}
    rows = [_row(f"isi-sgd-seed{s}", a, seed=p) for s, pair in accuracies.items() for p, a in enumerate(pair)]
    rows += [_row("isi-sgd_delay-seed0", 0.5), _row("isi-sgd_delay-seed1", 0.6)]  # another family
    points = {p.family: p for p in aggregate(rows)}
    per_network = [stdlib.mean(pair) for pair in accuracies.values()]
    assert abs(points["isi-sgd"].accuracy.mean - stdlib.mean(per_network)) < ROUNDING
    assert abs(points["isi-sgd"].accuracy.sd - stdlib.stdev(per_network)) < ROUNDING
    assert points["isi-sgd"].accuracy == summarize(per_network)
    assert points["isi-sgd"].seeds == (0, 1, 2, 3, 4) and points["isi-sgd_delay"].seeds == (0, 1)


def test_agreement_is_the_worst_network_and_backends_stay_apart():
    rows = [_row(f"n-seed{s}", 0.8, backend="brian2", agreement=a) for s, a in enumerate((1.0, 0.96, 1.0))]
    rows += [_row(f"n-seed{s}", 0.8) for s in range(3)]
    points = {p.backend: p for p in aggregate(rows)}
    assert points["brian2"].agreement == 0.96 and points["torch"].agreement is None


def test_one_training_seed_is_refused():
    with pytest.raises(BiosnnInputError, match="one training seed"):
        aggregate([_row("isi-sgd-seed0", 0.8, seed=0), _row("isi-sgd-seed0", 0.9, seed=1)])


def test_a_network_without_a_seed_is_not_merged_into_a_seeded_family():
    with pytest.raises(BiosnnInputError, match="no seed suffix"):
        aggregate([_row("isi-sgd", 0.5), _row("isi-sgd-seed1", 0.6), _row("isi-sgd-seed2", 0.7)])
