"""The sweep table over training seeds: one row per network family, perturbation, backend and dt.

A sweep stores one row per trained network (:mod:`biosnn.studies.perturbation.table`). A study
trains every set-up on several seeds, naming each network ``<family>-seed<N>`` (for example
``isi-sgd-seed3``, :attr:`biosnn.studies.timing_tasks.TimingTaskConfig.name`), so the statistic
a paper quotes is over the networks of a family: :func:`aggregate` averages each network's rows over
the perturbation seeds, then summarises the per-network values over training seeds (mean, sd and the
bootstrap 95% interval of :func:`biosnn.studies.statistics.summarize`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ...core.errors import BiosnnInputError
from ..statistics import Summary, summarize

#: ``<family>-seed<N>``: the name of a network trained on seed N
SEEDED_NAME = re.compile(r"^(?P<family>.+)-seed(?P<seed>0|[1-9][0-9]*)$")


def family_and_seed(network: str) -> tuple[str, int | None]:
    """``("isi-sgd", 3)`` for ``"isi-sgd-seed3"``; a name without a seed suffix (or with a padded one, such as
    ``-seed03``) is its own family with no seed."""
    match = SEEDED_NAME.match(network)
    return (match["family"], int(match["seed"])) if match else (network, None)


@dataclass(frozen=True)
class AggregatePoint:
    """One perturbation point of a family of networks over their training seeds."""

    family: str
    kind: str
    strength: float
    backend: str
    dt: float
    accuracy: Summary
    agreement: float | None  # the lowest per-network agreement with torch (None for torch)
    seeds: tuple[int, ...]


def aggregate(
    rows: Iterable[dict], family_of: Callable[[str], tuple[str, int | None]] = family_and_seed
) -> list[AggregatePoint]:
    """The sweep rows (:func:`~biosnn.studies.perturbation.table.read_points`) over training seeds, sorted by
    family, kind, strength, backend and dt. A point needs at least two training seeds (an interval needs a
    spread); :func:`biosnn.studies.statistics.check_seeds` decides whether it may be quoted."""
    per_network: dict[tuple, list[dict]] = defaultdict(list)
    unseeded: dict[str, str] = {}
    for row in rows:
        family, seed = family_of(row["network"])
        if seed is None:
            unseeded[family] = row["network"]
            seed = -1
        per_network[(family, row["kind"], float(row["strength"]), row["backend"], float(row["dt"]), seed)].append(row)
    mixed = {f for f in unseeded if any(key[0] == f and key[-1] != -1 for key in per_network)}
    if mixed:
        raise BiosnnInputError(
            f"network {unseeded[sorted(mixed)[0]]!r} has no seed suffix, yet networks of its family carry one "
            "(-seed<N>): name every network of a family with its training seed"
        )
    grouped: dict[tuple, dict[int, tuple[float, float | None]]] = defaultdict(dict)
    for (*point, seed), group in per_network.items():
        agreements = [r["agreement"] for r in group if r.get("agreement") is not None]
        grouped[tuple(point)][seed] = (
            float(np.mean([r["accuracy"] for r in group])),
            float(np.mean(agreements)) if agreements else None,
        )
    out = []
    for point in sorted(grouped):
        by_seed = grouped[point]
        seeds = tuple(sorted(by_seed))
        if len(seeds) < 2:
            raise BiosnnInputError(
                f"{point[0]} {point[1]}={point[2]:g} ({point[3]}, dt {point[4]:g}): one training seed only; "
                "aggregating over seeds needs at least two networks of the family"
            )
        agreements = [by_seed[s][1] for s in seeds if by_seed[s][1] is not None]
        out.append(
            AggregatePoint(
                *point,
                accuracy=summarize([by_seed[s][0] for s in seeds], what=f"{point[0]} {point[1]}={point[2]:g}"),
                agreement=min(agreements) if agreements else None,
                seeds=seeds,
            )
        )
    return out
