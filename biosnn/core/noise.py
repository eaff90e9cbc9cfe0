"""Membrane white noise on one noise path for every dt: the increments both backends add, defined once.

A membrane with white noise of amplitude ``sigma`` (units of v per sqrt(s))::

    dv = f(v, t) dt + sigma dW(t)

relaxes, when free (``f = -(v - v_rest) / tau``), to a Gaussian of variance ``sigma^2 tau / 2``. The noise
path is defined on a *fine* grid ``fine_dt`` (a whole fraction of every dt it is simulated at): fine step
``m`` has the standard normal ``Z_m = normal(seed, stream, element, m)`` of the counter-based source
(``biosnn/core/draws.py``), so a run at ``dt = K fine_dt`` sums the same fine increments as a run at
``fine_dt``: one realisation of the noise at every dt, which is what the discretization study compares.

The increment a step of ``dt`` adds to ``v`` (after the deterministic update of the step), for coarse step
``n`` (fine steps ``m = n K + k``, ``k = 0 .. K-1``):

* ``exact`` (exact in distribution, jointly with the linear membrane: the noise part of ``v`` is an
  Ornstein-Uhlenbeck process, whose step is an AR(1) step)::

      eta_n = sum_k a^(K-1-k) s Z_(nK+k),   a = e^(-fine_dt / tau),   s = sigma sqrt(tau (1 - a^2) / 2)

  the composition of K exact fine steps, so the free membrane at ``dt`` equals, sample for sample, the
  free membrane at ``fine_dt`` read every K-th step (tested);
* ``euler`` (Euler-Maruyama, as the frameworks integrate noise)::

      eta_n = sigma sqrt(fine_dt) sum_k Z_(nK+k)   (the Wiener increment over the step, the same path)

Both are linear in the normals and use the same ``Z``: Euler-Maruyama and the exact update run on one
path, so their strong error is measurable. ``tau`` is the membrane time constant (one value, or one per
neuron). The torch implementation (``biosnn/torch/noise.py``) computes the same sums in the same order.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import numpy as np

from .draws import SEED_BITS, STREAM_BITS
from .errors import BiosnnInputError
from .inputs import check_number
from .schedule import is_whole_steps

#: the methods of :func:`membrane_increments`
NOISE_METHODS = ("exact", "euler")


def _check_key(noise, what: str) -> None:
    """``seed`` (< 2^64) and ``stream`` (< 2^32): the generator's key and counter word (``biosnn/core/draws.py``)."""
    for name, bits in (("seed", SEED_BITS), ("stream", STREAM_BITS)):
        value = getattr(noise, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < 2**bits:
            raise BiosnnInputError(f"{what} {name} must be an integer with 0 <= {name} < 2**{bits}, got {value!r}")
        object.__setattr__(noise, name, int(value))


class _Settings:
    """A noise's settings in a saved network's description: its fields as JSON-ready numbers, read back
    through the constructor's checks."""

    #: what the error messages call it
    what: ClassVar[str]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, entry: object):
        names = [f.name for f in fields(cls)]
        if not isinstance(entry, dict) or set(entry) != set(names):
            raise BiosnnInputError(
                f"{cls.what} settings must be {', '.join(names[:-1])} and {names[-1]}, got {entry!r}"
            )
        return cls(**entry)


@dataclass(frozen=True)
class WhiteNoise(_Settings):
    """Membrane white noise: amplitude ``sigma`` (v / sqrt(s)), its path on the grid ``fine_dt`` (s), drawn
    from ``(seed, stream)`` of the counter-based source."""

    sigma: float
    fine_dt: float
    seed: int
    stream: int = 0
    what: ClassVar[str] = "membrane noise"

    def __post_init__(self) -> None:
        sigma = check_number(self.sigma, "white noise sigma (v / sqrt(s))")
        if not (math.isfinite(sigma) and sigma >= 0):
            raise BiosnnInputError(f"white noise sigma must be finite and >= 0, got {self.sigma!r}")
        fine_dt = check_number(self.fine_dt, "white noise fine_dt (s)")
        if not (math.isfinite(fine_dt) and fine_dt > 0):
            raise BiosnnInputError(f"white noise fine_dt must be a positive time (s), got {self.fine_dt!r}")
        _check_key(self, "white noise")
        object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "fine_dt", fine_dt)

    def fine_steps(self, dt: float) -> int:
        """K: the fine steps in one step of ``dt`` (which must be a whole multiple of ``fine_dt``)."""
        if not (dt >= self.fine_dt * (1 - 1e-9) and is_whole_steps(dt, self.fine_dt)):
            raise BiosnnInputError(
                f"dt = {dt!r} s is not a whole multiple of the noise path's fine_dt = {self.fine_dt!r} s"
            )
        return int(round(dt / self.fine_dt))

    def coefficients(
        self, tau: float | np.ndarray | None, method: str
    ) -> tuple[np.ndarray | float, np.ndarray | float]:
        """``(a, s)`` of the sums above: exact ``a = e^(-fine_dt/tau)``, ``s = sigma sqrt(tau (1 - a^2)/2)``;
        euler, or a membrane without leak (``tau`` None: ``ModelSpec.membrane_noise.time_constant`` None),
        ``a = 1``, ``s = sigma sqrt(fine_dt)``."""
        if method not in NOISE_METHODS:
            raise BiosnnInputError(f"unknown noise method {method!r}; choose one of {', '.join(NOISE_METHODS)}")
        if method == "euler" or tau is None:
            return 1.0, self.sigma * math.sqrt(self.fine_dt)
        tau = np.asarray(tau, dtype=np.float64)
        a = np.exp(-self.fine_dt / tau)
        s = self.sigma * np.sqrt(tau * -np.expm1(-2.0 * self.fine_dt / tau) / 2.0)  # 1 - a^2 without cancellation
        return (float(a), float(s)) if a.ndim == 0 else (a, s)


def membrane_increments(
    noise: WhiteNoise, tau: float | np.ndarray, dt: float, elements: np.ndarray, step: int, method: str
) -> np.ndarray:
    """``eta_n`` of coarse step ``step`` for each of ``elements`` (flat indices ``sample * N + neuron``), float64."""
    from .draws import normal

    k_steps = noise.fine_steps(dt)
    a, s = noise.coefficients(tau, method)
    total = np.zeros(np.shape(elements), dtype=np.float64)
    for k in range(k_steps):
        total = total * a + normal(noise.seed, noise.stream, elements, step * k_steps + k)
    return total * s


@dataclass(frozen=True)
class EscapeNoise(_Settings):
    """Escape noise: a stochastic threshold (Gerstner, Kistler, Naud & Paninski 2014, ch. 9.1).

    The neuron fires in a step with probability ``p = 1 - exp(-rho dt)`` under the hazard
    ``rho = rho0 exp(x / delta)``, where ``x`` is the distance to the model's threshold (``v - v_th``; the
    adaptive LIF's ``v - (v_th + beta a)``), ``rho0`` (Hz) the hazard at threshold and ``delta`` (units of v)
    its softness: as ``delta -> 0`` the neuron fires wherever ``x > 0`` and never where ``x < 0`` (at ``x = 0``
    exactly, with probability ``1 - exp(-rho0 dt)``). A step fires when the uniform
    ``U = uniform(seed, stream, element, step)`` of the counter-based source is below ``p``, the same draw in
    both backends (``p`` itself agrees to an ulp or two: exp and expm1 come from each platform's libm).
    Unlike the membrane noise, the draws are keyed on each dt's own steps: runs at two dts are independent
    realisations. A uniform and a normal of the same (seed, stream, element, step) share bits: give membrane
    and escape noise different streams (the sweep's kinds do), and two layers different streams too.
    """

    rho0: float
    delta: float
    seed: int
    stream: int = 0
    what: ClassVar[str] = "escape noise"

    def __post_init__(self) -> None:
        for name, unit in (("rho0", "Hz"), ("delta", "units of v")):
            value = check_number(getattr(self, name), f"escape noise {name} ({unit})")
            if not (math.isfinite(value) and value > 0):
                raise BiosnnInputError(f"escape noise {name} must be finite and > 0, got {getattr(self, name)!r}")
            object.__setattr__(self, name, value)
        _check_key(self, "escape noise")

    def probability(self, distance: np.ndarray, dt: float) -> np.ndarray:
        """``p = 1 - exp(-rho0 dt exp(distance / delta))`` (numpy; 1 where the hazard overflows)."""
        with np.errstate(over="ignore"):
            return -np.expm1(-(self.rho0 * dt) * np.exp(np.asarray(distance, dtype=np.float64) / self.delta))
