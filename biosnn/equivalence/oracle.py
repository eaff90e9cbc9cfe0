"""High-precision closed forms of the models' linear subsystems: the oracle both backends are checked against.

Written from the equations of ``docs/models.md`` alone, in mpmath at
:data:`DIGITS` significant digits, with no code shared with either backend
(the Brian2 reference computes matrix exponentials numerically, the mirror uses
exprel forms and scipy's ``expm``; this module inverts Laplace transforms by
residues). At this precision the divided differences of near-equal rates lose
at most a few dozen digits and the result is exact to float64; equal rates are
handled by their own (multiple-pole) residues, not by a limit taken numerically.

* :func:`current_synapse_response` -- LIF membrane after a current pulse ``I(0) = w``:
  ``tau_m dv/dt = -v + I``, ``tau_s dI/dt = -I``.
* :func:`cascade_impulse_response` -- every bucket of a cascade after ``B_1(0) = 1``:
  ``dB_1/dt = -a_1 B_1``, ``dB_k/dt = a_{k-1} B_{k-1} - a_k B_k``.
* :func:`exponential_decay` -- ``x(0) e^{-t/tau}`` (membranes, adaptation, thresholds).

``validation/oracle_errors.py`` measures both backends against them over the
allowed parameter range; ``tests/equivalence/test_oracle.py`` holds them to it.
"""

from __future__ import annotations

from collections import Counter

import mpmath
import numpy as np

#: working precision (significant digits): enough for the cancellation of rates 1e-12 apart in
#: cascades of 8 buckets, with float64's 16 digits to spare
DIGITS = 120


def _mp(x) -> mpmath.mpf:
    return mpmath.mpf(float(x))  # the float64 value the backends see, exactly


def exponential_decay(x0: float, tau: float, times: np.ndarray) -> np.ndarray:
    """``x0 e^{-t/tau}`` at each of ``times`` (s)."""
    with mpmath.workdps(DIGITS):
        return np.array([float(_mp(x0) * mpmath.exp(-_mp(t) / _mp(tau))) for t in np.asarray(times)])


def current_synapse_response(w: float, tau_m: float, tau_s: float, times: np.ndarray) -> np.ndarray:
    """``v(t)`` from ``v(0) = 0``, ``I(0) = w``: ``w a (e^{-b t} - e^{-a t}) / (a - b)``, a = 1/tau_m, b = 1/tau_s
    (``w a t e^{-a t}`` when tau_s == tau_m)."""
    with mpmath.workdps(DIGITS):
        a, b, w = 1 / _mp(tau_m), 1 / _mp(tau_s), _mp(w)
        out = []
        for t in np.asarray(times):
            t = _mp(t)
            if a == b:
                out.append(w * a * t * mpmath.exp(-a * t))
            else:
                out.append(w * a * (mpmath.exp(-b * t) - mpmath.exp(-a * t)) / (a - b))
        return np.array([float(v) for v in out])


def cascade_impulse_response(taus: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``[T, K]``: bucket k of a cascade after a unit impulse into bucket 1 at t = 0.

    The Laplace transform of bucket k is ``prod_{j<k} a_j / prod_{j<=k} (s + a_j)``; its inverse is
    the sum of the residues of ``F(s) e^{s t}`` at the poles ``-a_j`` (multiple where rates are equal).
    """
    taus = [float(t) for t in np.atleast_1d(taus)]
    times = np.asarray(times, dtype=np.float64)
    out = np.zeros((times.size, len(taus)))
    with mpmath.workdps(DIGITS):
        rates = [1 / _mp(tau) for tau in taus]
        for k in range(len(rates)):
            gain = mpmath.fprod(rates[:k])
            poles = Counter(rates[: k + 1])
            for n, t in enumerate(times):
                out[n, k] = float(gain * sum(_residue(rate, m, poles, _mp(t)) for rate, m in poles.items()))
    return out


def _residue(rate, multiplicity: int, poles: Counter, t) -> mpmath.mpf:
    """Residue at ``s = -rate`` of ``e^{s t} / prod_p (s + p)^{m_p}``: the (m-1)-th derivative of
    ``e^{s t} / prod_{p != rate} (s + p)^{m_p}`` at ``s = -rate``, over (m - 1)!."""

    def rest(s):
        value = mpmath.exp(s * t)
        for p, m in poles.items():
            if p != rate:
                value /= (s + p) ** m
        return value

    if multiplicity == 1:
        return rest(-rate)
    return mpmath.diff(rest, -rate, multiplicity - 1) / mpmath.factorial(multiplicity - 1)
