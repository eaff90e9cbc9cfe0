"""Euler-Maruyama against the exact update on one noise path: strong and weak orders of convergence.

A membrane with white noise, ``dv = (v_rest + b - v) / tau dt + sigma dW`` (``biosnn/core/noise.py``), is
simulated by a backend twice at each dt of a ladder, with the layer's ``exact`` discretization (the exact
update, exact in distribution, on the fine noise path) and with ``euler`` (Euler-Maruyama on the same
Wiener increments). Both read one realisation of the noise: the path lives on the ladder's finest dt.
At the last step start of the coarsest grid (a time on every grid), over N independent membranes:

* strong error ``E |v_EM(T) - v_exact(T)|``: how far the Euler-Maruyama path is from the exact one;
* weak error ``|E v_EM(T)^2 - E v_exact(T)^2|``: how far its second moment is;

and their orders (the slope of log(error) against log(dt), :func:`~.measures.fitted_order`). For additive
noise both are 1 (Kloeden & Platen 1992, sections 10.2 and 14.1: Euler-Maruyama's strong order 1/2
becomes 1 when the noise does not depend on the state); a method with another order would show it.
The membrane is kept below threshold (the threshold set out of reach): a spike would add the
discretization error of the threshold crossing, measured by the discretization study itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...core.errors import BiosnnInputError
from ...core.noise import WhiteNoise
from ...core.spikes import SpikeTrains
from .measures import fitted_order

#: a threshold no membrane of these runs comes near: the membranes stay subthreshold
OUT_OF_REACH = 1e9


@dataclass(frozen=True)
class NoiseOrders:
    """Strong and weak errors per dt (coarsest first) and their fitted orders."""

    dts: tuple[float, ...]
    strong: tuple[float, ...]
    weak: tuple[float, ...]
    strong_order: float
    weak_order: float


def euler_maruyama_orders(
    *,
    backend: str = "torch",
    model: str = "lif",
    tau_m: float = 10e-3,
    sigma: float = 1.0,
    bias: float = 0.5,
    fine_dt: float = 1e-5,
    factors: Sequence[int] = (1, 2, 4, 8, 16),
    duration: float = 0.02,
    n: int = 200,
    seed: int = 0,
) -> NoiseOrders:
    """The strong and weak errors of Euler-Maruyama against the exact update at ``dt = fine_dt * factor``."""
    from ...simulation import simulate

    factors = [int(f) for f in factors]
    if len(factors) < 2 or any(f < 1 for f in factors) or len(set(factors)) != len(factors):
        raise BiosnnInputError(f"factors must be at least two distinct whole numbers >= 1, got {list(factors)}")
    if any(max(factors) % f for f in factors):
        raise BiosnnInputError(f"every factor must divide the largest (one common time on every grid), got {factors}")
    noise = WhiteNoise(sigma, fine_dt, seed=seed)
    quiet = SpikeTrains(np.array([]), np.array([], dtype=int), 1, duration)
    params = {"tau_m": tau_m, "v_th": OUT_OF_REACH, "bias": bias}
    dts, strong, weak = [], [], []
    coarsest = fine_dt * max(factors)
    common = round(duration / coarsest) - 1  # the last step start of the coarsest grid: a time on every grid
    for factor in sorted(factors, reverse=True):  # coarsest first, as the study orders its ladders
        dt = fine_dt * factor
        final = {}
        for discretization in ("exact", "euler"):
            trace = simulate(
                model,
                quiet,
                np.zeros((1, n)),
                backend=backend,
                dt=dt,
                duration=duration,
                params=params,
                discretization=discretization,
                noise=noise,
            )
            final[discretization] = trace.v[common * (max(factors) // factor)]
        dts.append(dt)
        strong.append(float(np.mean(np.abs(final["euler"] - final["exact"]))))
        weak.append(float(abs(np.mean(final["euler"] ** 2) - np.mean(final["exact"] ** 2))))
    return NoiseOrders(tuple(dts), tuple(strong), tuple(weak), fitted_order(dts, strong), fitted_order(dts, weak))
