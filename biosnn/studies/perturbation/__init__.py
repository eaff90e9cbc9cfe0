"""Perturbations of spike trains for timing studies (Yu, Sun & Goodman 2025).

:data:`PERTURBATIONS` registers each kind once: its continuous-time form
(:mod:`biosnn.studies.perturbation.continuous`, the default) and the public temporal-shd
code's binned form (:mod:`biosnn.studies.perturbation.binned`), with what its strength
means. :func:`perturb` applies one kind to a (batched)
:class:`~biosnn.core.spikes.SpikeTrains`::

    rng = np.random.default_rng(0)
    jittered = perturb(spikes, "spike_jitter", 2e-3, rng)                      # continuous times
    binned = perturb(spikes, "spike_jitter", 2e-3, rng, compat="temporal-shd",
                     bin_width=1e-3)                                            # their raster version

Strengths: ``random_replacement`` the fraction f of each train moved;
``spike_jitter`` / ``neuron_jitter`` sigma in seconds; ``deletion`` the
probability p_d; ``time_reversal`` 1 (reversed) or 0. Every kind is the
identity at its ``identity`` strength.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...core.errors import BiosnnInputError
from ...core.inputs import check_number
from ...core.schedule import is_whole_steps
from ...core.spikes import SpikeTrains
from . import binned, continuous

COMPAT = ("temporal-shd",)


@dataclass(frozen=True)
class Perturbation:
    name: str
    strength: str  # what the strength means, with its unit
    time_valued: bool  # strength in seconds (converted to bins for the binned form)
    identity: float  # the strength that leaves every spike in place
    continuous: Callable  # (SpikeTrains, strength, rng) -> SpikeTrains
    binned: Callable  # (raster [T, B, N] of 0/1, strength, rng, **options) -> raster


PERTURBATIONS: dict[str, Perturbation] = {
    p.name: p
    for p in (
        Perturbation(
            "random_replacement",
            "fraction f of each train moved to uniform times",
            False,
            0.0,
            continuous.random_replacement,
            binned.random_replacement,
        ),
        Perturbation(
            "spike_jitter",
            "sigma of each spike's Gaussian shift (s)",
            True,
            0.0,
            continuous.spike_jitter,
            binned.spike_jitter,
        ),
        Perturbation(
            "neuron_jitter",
            "sigma of each train's Gaussian shift (s)",
            True,
            0.0,
            continuous.neuron_jitter,
            binned.neuron_jitter,
        ),
        Perturbation(
            "deletion", "probability p_d of removing each spike", False, 0.0, continuous.deletion, binned.deletion
        ),
        Perturbation(
            "time_reversal",
            "1 reverses each sample within its active window, 0 leaves it",
            False,
            0.0,
            continuous.time_reversal,
            binned.time_reversal,
        ),
    )
}


def get_perturbation(kind: str) -> Perturbation:
    try:
        return PERTURBATIONS[kind]
    except KeyError:
        raise BiosnnInputError(f"unknown perturbation {kind!r}; choose one of {', '.join(PERTURBATIONS)}") from None


def binary_raster(spikes: SpikeTrains, bin_width: float) -> np.ndarray:
    """``[T, B, N]`` 0/1 raster with ``T = duration / bin_width`` bins (two spikes in a bin become one)."""
    n_bins = int(round(spikes.duration / bin_width))
    if n_bins < 1 or not is_whole_steps(spikes.duration, bin_width):
        raise BiosnnInputError(f"bin_width={bin_width!r} s must divide the duration {spikes.duration!r} s")
    carried, _ = spikes.one_per_step(bin_width)  # a spike timestep() puts after the last bin is dropped
    return carried.to_raster(bin_width, n_bins, dtype=np.uint8)


def raster_spikes(raster: np.ndarray, bin_width: float, *, batched: bool = True) -> SpikeTrains:
    """Spikes at the start of each active bin of a ``[T, B, N]`` raster."""
    return SpikeTrains.from_raster(raster, bin_width, batched=batched)


def perturb(
    spikes: SpikeTrains,
    kind: str,
    strength: float,
    rng: np.random.Generator,
    *,
    compat: str | None = None,
    bin_width: float | None = None,
    **options: str | int | None,
) -> SpikeTrains:
    """Apply perturbation ``kind`` at ``strength``; ``compat="temporal-shd"`` bins at ``bin_width`` (s) first and
    applies the reference code's raster version (``options`` go to it: ``mode``, ``pad_to``)."""
    perturbation = get_perturbation(kind)
    strength = check_number(strength, f"{kind} strength ({perturbation.strength})")
    if compat is None:
        if bin_width is not None or options:
            raise BiosnnInputError("bin_width and binned options apply only with compat='temporal-shd'")
        return perturbation.continuous(spikes, strength, rng)
    if compat not in COMPAT:
        raise BiosnnInputError(f"unknown compat {compat!r}; choose one of {', '.join(COMPAT)}")
    if bin_width is None:
        raise BiosnnInputError("compat='temporal-shd' needs bin_width > 0 (s)")
    bin_width = check_number(bin_width, "bin_width (s)")
    if not bin_width > 0:
        raise BiosnnInputError(f"compat='temporal-shd' needs bin_width > 0 (s), got {bin_width!r}")
    accepted = [
        name
        for name, p in inspect.signature(perturbation.binned).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise BiosnnInputError(
            f"{kind}: unknown option(s) {', '.join(unknown)} for its binned form "
            f"(accepted: {', '.join(accepted) or 'none'})"
        )
    if options.get("pad_to") is not None:
        pad = options["pad_to"]
        if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)):
            raise BiosnnInputError(f"pad_to must be a whole number of bins, got {pad!r}")
    raster = binary_raster(continuous._check_spikes(spikes), bin_width)
    bins = strength / bin_width if perturbation.time_valued else strength
    return raster_spikes(perturbation.binned(raster, bins, rng, **options), bin_width, batched=spikes.is_batched)
