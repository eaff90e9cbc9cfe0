"""The LIF under membrane white noise against diffusion theory (slow: ``make test-all``).

Brian2 (sharing its draws with the mirror, ``tests/brian_vs_torch/test_membrane_noise.py``) simulates 2,000
LIF neurons, ``tau dv/dt = mu - v`` plus white noise of stationary sd ``s`` (Brunel's ``sigma = s sqrt(2)``),
threshold 1, reset 0, for 1 s after 0.2 s of burn-in. The Siegert rate (Brunel & Hakim 1999, eq. 21)

    1 / nu = tau sqrt(pi) int_{(V_r - mu)/sigma}^{(theta - mu)/sigma} e^{u^2} (1 + erf u) du

is the limit dt -> 0; a simulation tests the threshold only at the grid's steps and misses crossings in
between, so its rate is lower, as if the threshold were raised by Siegmund's (1979) overshoot of a Gaussian
random walk, ``beta sigma_w sqrt(dt)``, ``beta = -zeta(1/2) / sqrt(2 pi) = 0.5826`` (``sigma_w sqrt(dt)``:
the noise's sd per step). Checked: at dt = 0.4 and 0.1 ms the rate equals the Siegert rate with that
shifted threshold within 3 standard errors of the count (Poisson: sqrt(count) / (N T)), and the deviation
from the unshifted Siegert rate halves when dt is divided by 4 (it scales as sqrt(dt)).
"""

import math

import numpy as np
import pytest
from scipy import integrate, special

import biosnn
from biosnn.core.noise import WhiteNoise
from biosnn.core.spikes import SpikeTrains

TAU, MU, THETA, V_RESET, SD = 20e-3, 0.8, 1.0, 0.0, 0.15
SIGMA = SD * math.sqrt(2)  # Brunel's sigma: tau dv/dt = mu - v + sigma sqrt(tau) xi
SIGMA_W = SIGMA / math.sqrt(TAU)  # biosnn's: dv = (mu - v)/tau dt + sigma_w dW
BETA = -float(special.zeta(0.5)) / math.sqrt(2 * math.pi)
N, BURN, T = 2000, 0.2, 1.0
#: a rate within this many standard errors of its prediction (the count's Poisson spread)
STANDARD_ERRORS = 3


def siegert(theta: float, v_reset: float) -> float:
    integrand = lambda u: math.exp(u * u) * (1 + math.erf(u))  # noqa: E731
    value, _ = integrate.quad(integrand, (v_reset - MU) / SIGMA, (theta - MU) / SIGMA, limit=200)
    return 1.0 / (TAU * math.sqrt(math.pi) * value)


def _rate(dt: float) -> tuple[float, float]:
    """The measured rate (Hz) after the burn-in, and its standard error."""
    steps = int(round((BURN + T) / dt))
    trace = biosnn.simulate(
        "lif",
        SpikeTrains(np.array([]), np.array([], dtype=int), 1, steps * dt),
        np.zeros((1, N)),
        backend="brian2",
        dt=dt,
        duration=steps * dt,
        params={"tau_m": TAU, "bias": MU, "v_th": THETA, "v_reset": V_RESET},
        noise=WhiteNoise(SIGMA_W, 2.5e-5, seed=4),
    )
    count = int(np.sum(trace.spike_steps >= int(round(BURN / dt))))
    return count / (N * T), math.sqrt(count) / (N * T)


@pytest.mark.slow
def test_the_firing_rate_is_siegert_with_the_overshoot_of_the_grid():
    limit = siegert(THETA, V_RESET)
    deviations = []
    for dt in (4e-4, 1e-4):
        rate, error = _rate(dt)
        predicted = siegert(THETA + BETA * SIGMA_W * math.sqrt(dt), V_RESET)
        assert abs(rate - predicted) <= STANDARD_ERRORS * error, (dt, rate, predicted, error)
        deviations.append(limit - rate)
    assert deviations[0] > 0 and deviations[1] > 0  # a grid misses crossings: the rate is below the limit
    assert abs(deviations[0] / deviations[1] - 2) <= 0.5  # sqrt(4): the deviation scales as sqrt(dt)
