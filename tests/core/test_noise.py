"""Membrane white noise (biosnn/core/noise.py, biosnn/torch/noise.py) against theory and against itself at
another dt: the free membrane's variance is the Ornstein-Uhlenbeck value (exact update) or the
Euler-Maruyama recurrence's own (euler), one noise path serves every dt, torch sums what numpy sums."""

import math

import numpy as np
import pytest
import torch

from biosnn.core.draws import NORMAL_MAX_ULP
from biosnn.core.errors import BiosnnInputError
from biosnn.core.noise import WhiteNoise, membrane_increments
from biosnn.torch.noise import membrane_increments as torch_increments

#: independent membranes of the variance checks: the sample variance's relative standard error is
#: sqrt(2 / N) = 0.2%, and 5 of them (a false failure once in ~1.7e6) is the 1% the theory checks allow
N = 500_000
STANDARD_ERRORS = 5
SIGMA, TAU = 0.3, 20e-3


def _free_membrane(noise, dt, n_steps, method):
    """``v`` of N membranes after ``n_steps`` of the free membrane from 0: the deterministic step, then the
    increment."""
    elements = np.arange(N)
    decay = math.exp(-dt / TAU) if method == "exact" else 1 - dt / TAU
    v = np.zeros(elements.shape)
    for n in range(n_steps):
        v = v * decay + membrane_increments(noise, TAU, dt, elements, n, method)
    return v


@pytest.mark.parametrize("dt", [1e-4, 1e-3])
def test_the_exact_update_has_the_ornstein_uhlenbeck_variance(dt):
    """From v = 0, after n steps: variance sigma^2 tau / 2 (1 - e^{-2 n dt / tau}), mean 0, at dt = 0.1 and 1 ms
    (the path on a 4x finer grid: every step sums four fine increments)."""
    n_steps = 12
    v = _free_membrane(WhiteNoise(SIGMA, dt / 4, seed=11), dt, n_steps, "exact")
    expected = SIGMA**2 * TAU / 2 * -math.expm1(-2 * n_steps * dt / TAU)
    assert abs(v.var(ddof=1) / expected - 1) <= STANDARD_ERRORS * math.sqrt(2 / N)
    assert abs(v.mean()) <= STANDARD_ERRORS * math.sqrt(expected / N)


def test_euler_maruyama_has_its_own_discrete_variance_not_the_ou_one():
    """v' = (1 - dt/tau) v + sigma sqrt(dt) Z: variance sigma^2 dt sum_j (1 - dt/tau)^{2j}, 11% above the
    OU value at dt = tau / 5: the test tells the two updates apart."""
    dt, n_steps = TAU / 5, 30
    v = _free_membrane(WhiteNoise(SIGMA, dt, seed=12), dt, n_steps, "euler")
    rho = (1 - dt / TAU) ** 2
    expected = SIGMA**2 * dt * (1 - rho**n_steps) / (1 - rho)
    assert abs(v.var(ddof=1) / expected - 1) <= STANDARD_ERRORS * math.sqrt(2 / N)
    ou = SIGMA**2 * TAU / 2 * -math.expm1(-2 * n_steps * dt / TAU)
    assert abs(expected / ou - 1) > 5 * STANDARD_ERRORS * math.sqrt(2 / N)


def test_one_noise_path_at_every_dt():
    """The free membrane at dt = 4 fine_dt is, sample for sample, the one at fine_dt read every 4th step
    (exact); Euler-Maruyama's Wiener increments at dt are the sums of the fine ones."""
    noise = WhiteNoise(SIGMA, 1e-4, seed=5, stream=2)
    elements = np.arange(64)
    fine = [np.zeros(64)]
    for m in range(40):
        fine.append(fine[-1] * math.exp(-1e-4 / TAU) + membrane_increments(noise, TAU, 1e-4, elements, m, "exact"))
    coarse = [np.zeros(64)]
    for n in range(10):
        coarse.append(coarse[-1] * math.exp(-4e-4 / TAU) + membrane_increments(noise, TAU, 4e-4, elements, n, "exact"))
    np.testing.assert_allclose(np.array(coarse), np.array(fine)[::4], rtol=0, atol=1e-15)
    wiener_fine = np.cumsum([membrane_increments(noise, TAU, 1e-4, elements, m, "euler") for m in range(40)], axis=0)
    wiener_coarse = np.cumsum([membrane_increments(noise, TAU, 4e-4, elements, n, "euler") for n in range(10)], 0)
    np.testing.assert_allclose(wiener_coarse, wiener_fine[3::4], rtol=0, atol=1e-15)
    other = WhiteNoise(SIGMA, 1e-4, seed=5, stream=3)
    assert not np.allclose(membrane_increments(other, TAU, 4e-4, elements, 0, "exact"), coarse[1])


@pytest.mark.parametrize("method", ["exact", "euler"])
def test_torch_sums_what_numpy_sums(method):
    noise = WhiteNoise(SIGMA, 2.5e-4, seed=2**40 + 3, stream=7)
    tau = np.linspace(5e-3, 50e-3, 96)  # one time constant per neuron
    elements = np.arange(96)
    for step in (0, 1, 2**33):
        ours = membrane_increments(noise, tau, 1e-3, elements, step, method)
        theirs = torch_increments(noise, tau, 1e-3, torch.as_tensor(elements), step, method).numpy()
        # 4 normals (|z| < 9), each within NORMAL_MAX_ULP ulp of numpy's, weighted by a^j <= 1 and scaled by s
        _, s = noise.coefficients(tau, method)
        assert np.all(np.abs(ours - theirs) <= np.max(s) * 4 * (NORMAL_MAX_ULP + 4) * np.spacing(9.0))
        assert np.abs(ours).max() > 0


def test_bad_noise_settings_are_refused():
    for kwargs, message in (
        (dict(sigma=-1.0, fine_dt=1e-4, seed=0), "sigma must be finite and >= 0"),
        (dict(sigma=float("nan"), fine_dt=1e-4, seed=0), "sigma must be finite"),
        (dict(sigma=1.0, fine_dt=0.0, seed=0), "fine_dt must be a positive time"),
        (dict(sigma=1.0, fine_dt=1e-4, seed=-1), "seed must be an integer with 0 <= seed"),
        (dict(sigma=1.0, fine_dt=1e-4, seed=0, stream=1.5), "stream must be an integer with 0 <= stream"),
    ):
        with pytest.raises(BiosnnInputError, match=message):
            WhiteNoise(**kwargs)
    noise = WhiteNoise(1.0, 3e-4, seed=0)
    with pytest.raises(BiosnnInputError, match="not a whole multiple"):
        noise.fine_steps(1e-3)
    with pytest.raises(BiosnnInputError, match="not a whole multiple"):
        noise.fine_steps(1e-4)
    with pytest.raises(BiosnnInputError, match="unknown noise method"):
        noise.coefficients(TAU, "milstein")
