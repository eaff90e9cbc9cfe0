"""Gamma-cascade neuron with adaptive sigma-delta spikes: biosnn's definition.

Structure after SpikingGamma (Koopman & Otte 2026), whose code is not public;
gamma memory after de Vries & Principe (1992); adaptive sigma-delta coding after
Bohte's adaptive spiking neurons. The equations below *are* the definition.

Every spike source i feeds a cascade of K leaky buckets (rates alpha_k = 1/tau_k)::

    dB_i1/dt = -alpha_1 B_i1 + sum_f q_if delta(t - t_if)
    dB_ik/dt =  alpha_{k-1} B_i,k-1 - alpha_k B_ik            (k = 2..K)

An input spike carries q = 1. With equal rates the impulse response of bucket k
is the gamma kernel ``alpha^{k-1} t^{k-1} e^{-alpha t} / (k-1)!``; with distinct
rates it is hypoexponential. Neuron j reads all buckets of all its sources::

    x_j = sum_i w_ij sum_k v_jk B_ik + b_j,      y_j = max(0, x_j)

and codes y_j with adaptive sigma-delta spikes: a reconstruction r_j decays at
alpha_1 (so a receiver's first bucket equals it), a spike is emitted when
``y_j - r_j >= theta_j / 2``, then ``r_j += theta_j`` and
``theta_j += m_f theta_j``; between spikes ``d theta_j/dt = (theta_0 - theta_j)/tau_theta``.
A neuron's spike carries its threshold at emission (q = theta_j).

Grid (``biosnn/core/schedule.py``): within a step the buckets, r and theta are
integrated exactly; input spikes of the previous step enter B_1
(``before_thresholds``); then x is summed and the emission condition tested; the
reset adds theta to r and adapts theta.

Parameters: ``bucket_tau`` (K time constants, s; K = its length), per-neuron
``bucket_weight`` v_jk (``[K]`` or ``[N, K]``; or per synapse, ``[N_in, N, K]``, when
``x_j = sum_i w_ij sum_k v_ijk B_ik``) and ``bias`` b_j, ``theta0``,
``m_f``, ``tau_theta``. Any bucket time constants are allowed, equal,
near-equal or distinct: both backends compute the cascade's exact propagator
numerically (``docs/models.md``).

Where it is implemented and tested (``structure=Structure.CASCADE``):

* Brian2: :class:`biosnn.brian.layers.CascadeLayer` (``LAYER_BUILDERS[Structure.CASCADE]``, the
  cascade's buckets as a group of their own, summed reads);
* torch: :class:`biosnn.torch.dynamics.gamma_cascade.GammaDynamics` (``MIRRORS["gamma_cascade"]``);
* tests: the model and its networks in ``tests/brian_vs_torch/test_gamma_cascade.py``, the precise-delay
  study and its online gradient in ``tests/studies/test_gamma_task.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from biosnn.core.errors import BiosnnInputError
from biosnn.core.spec import (
    CascadeSpec,
    ModelSpec,
    Output,
    Parameter,
    Structure,
    SynapseSpec,
    scalar_parameter,
    time_constant,
)
from biosnn.core.units import SECOND

if TYPE_CHECKING:
    from collections.abc import Mapping

PARAMETERS = (
    Parameter(
        "bucket_tau",
        SECOND,
        "time constants 1/alpha_k of the K buckets",
        (5e-3, 5e-3, 5e-3),
        lower=0.0,
        lower_inclusive=False,
        vector=True,
        time_constant=True,
    ),
    scalar_parameter(
        "bucket_weight",
        "bucket weights: v_jk ([K] or [N, K]) or per synapse v_ijk ([N_in, N, K])",
        1.0,
        structural=True,
        array_ndim=3,
    ),
    scalar_parameter("bias", "bias b_j of each neuron", 0.0, per_neuron=True),
    scalar_parameter("theta0", "resting sigma-delta threshold", 0.1, lower=0.0, lower_inclusive=False),
    scalar_parameter("m_f", "multiplicative threshold adaptation per spike", 0.5, lower=0.0),
    time_constant("tau_theta", "relaxation time of the threshold", 50e-3),
)


def n_buckets(params: Mapping[str, object]) -> int:
    return int(np.atleast_1d(params["bucket_tau"]).size)


def bucket_symbols(params: Mapping[str, object]) -> list[str]:
    """Brian2 symbol of each bucket's time constant (one each, equal or not: the reference's exact
    propagator is computed numerically, so equal rates need no shared symbol)."""
    return [f"tau_b{k + 1}" for k in range(n_buckets(params))]


def bucket_taus(params: Mapping[str, object]) -> np.ndarray:
    """The K bucket time constants (s)."""
    return np.atleast_1d(np.asarray(params["bucket_tau"], dtype=np.float64)).copy()


def symbol_values(params: Mapping[str, object]) -> dict[str, float]:
    """``{symbol: seconds}`` of the symbols :func:`cascade_equations` uses."""
    return dict(zip(bucket_symbols(params), bucket_taus(params)))


def cascade_equations(params: Mapping[str, object]) -> str:
    """Brian2 equations of one source's cascade ``B1..BK``."""
    sym = bucket_symbols(params)
    lines = [f"dB1/dt = -B1 / {sym[0]} : 1"]
    for k in range(1, len(sym)):
        lines.append(f"dB{k + 1}/dt = B{k} / {sym[k - 1]} - B{k + 1} / {sym[k]} : 1")
    return "\n".join(lines)


def per_synapse(params: Mapping[str, object]) -> bool:
    """Bucket weights per synapse (``[N_in, N, K]``) rather than per neuron."""
    return np.ndim(params["bucket_weight"]) == 3


def read_weight_names(params: Mapping[str, object]) -> tuple[str, ...]:
    """The Brian2 variables holding the bucket weights ``v_1 .. v_K``."""
    return tuple(f"v_{k + 1}" for k in range(n_buckets(params)))


def neuron_equations(params: Mapping[str, object]) -> str:
    """Brian2 equations of the neurons (``x`` is filled by a summed variable).

    A neuron's own output cascade ``B1..BK`` is what its receivers read; its
    first bucket is the reconstruction, ``r = B1``.
    """
    lines = [
        cascade_equations(params),
        "x : 1",
        "y = clip(x + bias, 0, inf) : 1",
        "r = B1 : 1",
        "dtheta/dt = (theta0 - theta) / tau_theta : 1",
        "bias : 1 (constant)",
    ]
    if not per_synapse(params):
        lines += [f"{name} : 1 (constant)" for name in read_weight_names(params)]
    return "\n".join(lines)


def summed_input(params: Mapping[str, object]) -> str:
    """Synapse model summing ``w * sum_k v_k B_k`` into the neuron's ``x`` (v per neuron or per synapse)."""
    names = read_weight_names(params)
    if per_synapse(params):
        terms = " + ".join(f"{v} * B{k + 1}_pre" for k, v in enumerate(names))
        declarations = "".join(f"\n{v} : 1 (constant)" for v in names)
    else:
        terms = " + ".join(f"{v}_post * B{k + 1}_pre" for k, v in enumerate(names))
        declarations = ""
    return f"w : 1{declarations}\nx_post = w * ({terms}) : 1 (summed)"


def bucket_weights(params: Mapping[str, object], n: int, n_inputs: int | None = None) -> np.ndarray:
    """``bucket_weight`` laid out as ``[N, K]`` (per neuron) or ``[N_in, N, K]`` (per synapse), checked.

    A scalar or ``[K]`` is the same for every neuron. ``n_inputs`` (when known)
    checks the per-synapse layout.
    """
    K = n_buckets(params)
    v = np.asarray(params["bucket_weight"], dtype=np.float64)
    if v.ndim == 3:
        if n_inputs is not None and v.shape != (n_inputs, n, K):
            raise BiosnnInputError(
                f"gamma_cascade: per-synapse bucket_weight must be [N_in={n_inputs}, N={n}, K={K}], got {v.shape}"
            )
        if v.shape[1:] != (n, K):
            raise BiosnnInputError(
                f"gamma_cascade: per-synapse bucket_weight must be [N_in, N={n}, K={K}], got {v.shape}"
            )
        return v.copy()
    if v.ndim == 0:
        return np.full((n, K), float(v))
    if v.shape == (K,):
        return np.broadcast_to(v, (n, K)).copy()
    if v.shape != (n, K):
        raise BiosnnInputError(
            f"gamma_cascade: bucket_weight must be a scalar, [K={K}] or [N={n}, K={K}], got {v.shape}"
        )
    return v.copy()


SPEC = ModelSpec(
    name="gamma_cascade",
    title="Gamma-cascade neuron with adaptive sigma-delta spikes",
    citation="After Koopman & Otte (2026) SpikingGamma; de Vries & Principe (1992); Bohte (2012)",
    membrane_equation="",  # built by neuron_equations: K is structural
    threshold="y - B1 >= theta / 2",
    resets={"sigma_delta": "B1 += theta\ntheta += m_f * theta"},
    synapses={
        "cascade": SynapseSpec(
            name="cascade",
            description="an input spike adds q = 1 to B_1 of its cascade",
            drive="",
            on_pre="B1_post += 1",
        )
    },
    parameters=PARAMETERS,
    refractory_parameter=None,
    initial_state={"theta": "theta0"},
    recorded=("y", "x", "r", "theta"),
    structure=Structure.CASCADE,
    cascade=CascadeSpec(
        source_equations=cascade_equations,
        reader_equations=summed_input,
        time_constants=bucket_taus,
        symbols=symbol_values,
        read_weights=bucket_weights,
        read_weight_names=read_weight_names,
    ),
    output=Output.CHARGES,
    equations_builder=neuron_equations,
    discretizations=("exact",),
    schedules=("exact",),
    #: equal rates; near-equal rates 1.5e-4 apart (where a symbolic closed form is wrong by O(10));
    #: eight buckets mixing equal, near-equal and distinct rates; distinct rates (the overlay figure's)
    validation_cases=(
        {"bucket_tau": (4e-3, 4e-3, 4e-3)},
        {"bucket_tau": tuple(4e-3 * (1 + 1.5e-4 * k) for k in range(4))},
        {"bucket_tau": (1e-3, 1e-3, 3e-3, 3e-3 * (1 + 1e-9), 9e-3, 9e-3, 9e-3, 2e-3)},
        {"bucket_tau": (2e-3, 5e-3, 9e-3)},
    ),
)
