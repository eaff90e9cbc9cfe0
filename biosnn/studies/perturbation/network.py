"""Perturbations of the network itself: heterogeneity, weight noise, fixed-point weights, conduction jitter.

The input kinds (:data:`biosnn.studies.perturbation.PERTURBATIONS`) move the test spikes; these change the
trained network's description (:class:`~biosnn.models.network.FeedForwardNet`) before it is evaluated, the
same changed network in both backends, so Brian2 and the mirror still agree spike for spike at the training
dt. Each kind is registered once in :data:`NETWORK_PERTURBATIONS` with what its strength means; every draw
comes from the sweep point's generator (``point_seed``), so a point's network is the same in any process.
Every kind is the identity at strength 0.

Parameter mismatch (a coefficient of variation ``cv`` per neuron, drawn once per point):

* time constants (``tau_m_mismatch``, ``tau_s_mismatch``): ``tau_i = tau X_i`` with ``X_i`` log-normal,
  ``ln X ~ N(-s^2 / 2, s^2)``, ``s^2 = ln(1 + cv^2)``: mean ``tau``, coefficient of variation ``cv``,
  always positive (Brian2 gives every neuron its own exact propagator, ``docs/models.md``); ``tau_s`` only
  in layers with current synapses;
* potentials (``v_th_mismatch``, ``v_rest_mismatch``): ``v_i = v + cv (v_th - v_rest) Z_i``, ``Z ~ N(0, 1)``:
  the spread in units of the neuron's distance from rest to threshold (the scale the membrane moves on,
  whatever the units); a threshold drawn at or below ``v_reset`` is drawn again. Layers of the LIF family
  (those with ``v_th``, ``v_rest`` and ``v_reset``); a non-spiking readout (``li``) has no threshold, so its
  ``v_rest`` spreads by ``cv`` in units of v. Other models (Lee et al.'s, the gamma cascade) are left alone,
  as are layers without the time constant a kind draws.

Weights, every hop:

* ``weight_noise``: ``w_ij (1 + cv Z_ij)``, multiplicative Gaussian noise (signs may flip for cv >~ 0.5);
* ``weight_quantization``: ``b`` bits, symmetric and per layer, as fixed-point hardware holds weights:
  ``w -> q round(w / q)``, ``q = max|w| / (2^(b-1) - 1)`` (round half to even); ``b >= 2``, 0 means none.

Axonal delays (``delay_jitter``): every synapse of every hop that takes delays gets its own conduction
delay ``max(0, d_ij + sigma Z_ij)`` (a per-neuron delay ``d_i`` becomes per synapse; a hop without delays
starts from 0, so its mean delay grows by ``sigma / sqrt(2 pi)``); both backends round it to their grid by
the one rule of ``biosnn/core/schedule.py``.

Noise within the simulation (``membrane_noise``): every layer that takes it (lif, plif, adaptive_lif, li)
gets membrane white noise of amplitude ``sigma`` (``dv = ... + sigma dW``, free-membrane sd
``sigma sqrt(tau_m / 2)``; ``biosnn/core/noise.py``), the same draws in both backends, its path on the
sweep's finest dt so every dt reads one realisation; the seed comes from the point's generator, the stream
is the layer's index.

Escape noise (``escape_noise``): every spiking layer of the LIF family gets a stochastic threshold of softness
``delta``: it fires in a step with probability ``1 - exp(-rho dt)``, hazard
``rho = 1 kHz exp((v - v_th) / delta)`` (:data:`ESCAPE_RATE_AT_THRESHOLD`), the same uniforms in both backends.

Used by the sweep (``biosnn perturb --grid KIND=...``; ``biosnn/studies/perturbation/sweep.py``), beside
the input kinds, in one grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ...core.errors import BiosnnInputError
from ...core.inputs import check_number
from ...core.noise import EscapeNoise, WhiteNoise
from ...models import get_spec
from ...models.network import FeedForwardNet, hop_accepts_delays

#: redraws of a threshold that fell to or below the reset potential before the point is refused
MAX_REDRAWS = 100


@dataclass(frozen=True)
class NetworkPerturbation:
    """One kind: ``apply(net, strength, rng, fine_dt)`` returns the perturbed network (``fine_dt``: the finest
    step the network will run at, where a kind's noise path lives); ``check(strength)`` refuses a strength
    outside the kind's range before any work."""

    name: str
    strength: str  # what the strength means, with its unit
    time_valued: bool
    identity: float
    apply: Callable[[FeedForwardNet, float, np.random.Generator, float | None], FeedForwardNet]
    check: Callable[[float], None]
    #: its noise path lives on the finest dt of the run (membrane noise): part of what a point is
    noise_path: bool = False


def _fraction_like(name: str) -> Callable[[float], None]:
    def check(strength: float) -> None:
        strength = check_number(strength, f"{name} strength")
        if not (np.isfinite(strength) and strength >= 0):
            raise BiosnnInputError(f"{name}: strength must be finite and >= 0, got {strength!r}")

    return check


def _check_bits(strength: float) -> None:
    strength = check_number(strength, "weight_quantization bits")
    if strength != 0 and not (math.isfinite(strength) and strength == int(strength) and 2 <= strength <= 32):
        raise BiosnnInputError(
            f"weight_quantization: bits must be a whole number from 2 to 32 (0: no quantisation), got {strength!r}"
        )


def _stated(layer, name: str, k: int) -> np.ndarray:
    """A layer's parameter as one value per neuron (its default where the layer does not state it)."""
    spec = get_spec(layer.model)
    p = spec.parameter(name)
    if name in layer.params:
        value = np.asarray(layer.params[name], dtype=np.float64)  # SI (a Brian2 quantity reads as its SI value)
    elif p.default_steps is not None:
        raise BiosnnInputError(
            f"layer {k} ({layer.model}): {name} defaults to {p.default_steps:g} steps of dt; state it in seconds "
            "to perturb it"
        )
    else:
        value = p.default_si(1.0)
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (layer.n,)).copy()


#: the potentials a mismatch of v_th or v_rest reads (the LIF family's); a layer without them is left alone
POTENTIALS = {"v_th", "v_rest", "v_reset"}


def _uses(layer, name: str) -> bool:
    spec = get_spec(layer.model)
    used = {p.name for p in spec.parameters_used(layer.synapse)}
    if name not in used or not spec.parameter(name).per_neuron:
        return False
    if name in POTENTIALS:  # spread in units of v_th - v_rest: layers holding both (and v_reset when spiking)
        needed = POTENTIALS if spec.threshold is not None else {"v_rest"}
        return needed <= set(spec.parameter_names) and (name != "v_th" or spec.threshold is not None)
    return True


def _with_params(net: FeedForwardNet, changes: dict[int, dict]) -> FeedForwardNet:
    layers = tuple(replace(layer, params={**layer.params, **changes.get(k, {})}) for k, layer in enumerate(net.layers))
    return replace(net, layers=layers)


def _time_constant_mismatch(name: str) -> Callable[..., FeedForwardNet]:
    def apply(net: FeedForwardNet, cv: float, rng: np.random.Generator, fine_dt: float | None = None) -> FeedForwardNet:
        if cv == 0:
            return net
        s2 = math.log1p(cv * cv)
        changes = {}
        for k, layer in enumerate(net.layers):
            if _uses(layer, name):
                tau = _stated(layer, name, k)
                changes[k] = {name: tau * np.exp(rng.normal(-s2 / 2, math.sqrt(s2), layer.n))}
        return _with_params(net, changes)

    return apply


def _potential_mismatch(name: str) -> Callable[..., FeedForwardNet]:
    def apply(net: FeedForwardNet, cv: float, rng: np.random.Generator, fine_dt: float | None = None) -> FeedForwardNet:
        if cv == 0:
            return net
        changes = {}
        for k, layer in enumerate(net.layers):
            if not _uses(layer, name):
                continue
            spec = get_spec(layer.model)
            spiking = spec.threshold is not None
            v_rest = _stated(layer, "v_rest", k)
            scale = cv * np.abs(_stated(layer, "v_th", k) - v_rest) if spiking else cv * np.ones(layer.n)
            base = _stated(layer, name, k)
            drawn = base + scale * rng.standard_normal(layer.n)
            if name == "v_th":
                v_reset = _stated(layer, "v_reset", k)
                for _ in range(MAX_REDRAWS):
                    bad = drawn <= v_reset
                    if not bad.any():
                        break
                    drawn[bad] = base[bad] + scale[bad] * rng.standard_normal(int(bad.sum()))
                else:
                    raise BiosnnInputError(
                        f"v_th_mismatch: cv = {cv:g} keeps drawing thresholds at or below v_reset in layer {k}"
                    )
            changes[k] = {name: drawn}
        return _with_params(net, changes)

    return apply


def weight_noise(
    net: FeedForwardNet, cv: float, rng: np.random.Generator, fine_dt: float | None = None
) -> FeedForwardNet:
    """``w (1 + cv Z)`` for every weight of every hop."""
    if cv == 0:
        return net
    return replace(net, weights=tuple(w * (1 + cv * rng.standard_normal(w.shape)) for w in net.weights))


def weight_quantization(
    net: FeedForwardNet, bits: float, rng: np.random.Generator | None = None, fine_dt: float | None = None
) -> FeedForwardNet:
    """Symmetric ``bits``-bit weights per layer: ``q round(w / q)``, ``q = max|w| / (2^(bits-1) - 1)``."""
    if bits == 0:
        return net
    levels = 2 ** (int(bits) - 1) - 1
    quantized = []
    for w in net.weights:
        largest = float(np.abs(w).max())
        q = largest / levels if largest > 0 else 1.0
        quantized.append(np.rint(w / q) * q)
    return replace(net, weights=tuple(quantized))


def delay_jitter(
    net: FeedForwardNet, sigma: float, rng: np.random.Generator, fine_dt: float | None = None
) -> FeedForwardNet:
    """Every synapse of every hop that takes delays: ``max(0, d + sigma Z)``, per synapse."""
    if sigma == 0:
        return net
    delays = []
    n_prev = net.n_inputs
    for layer, d in zip(net.layers, net.delays):
        if hop_accepts_delays(layer):
            base = np.zeros((n_prev, layer.n)) if d is None else np.asarray(d, dtype=np.float64)
            if base.ndim == 1:  # one per presynaptic neuron: every synapse of the neuron starts from it
                base = np.repeat(base[:, None], layer.n, axis=1)
            delays.append(np.maximum(0.0, base + sigma * rng.standard_normal(base.shape)))
        else:
            delays.append(d)
        n_prev = layer.n
    return replace(net, delays=tuple(delays))


def membrane_noise(
    net: FeedForwardNet, sigma: float, rng: np.random.Generator, fine_dt: float | None = None
) -> FeedForwardNet:
    """Membrane white noise of amplitude ``sigma`` in every layer that takes it (``ModelSpec.membrane_noise``),
    its path on ``fine_dt``: the seed drawn from the point's generator, the layer's index its stream."""
    if sigma == 0:
        return net
    if fine_dt is None:
        raise BiosnnInputError("membrane_noise needs the finest dt the network runs at (the noise path's grid)")
    seed = int(rng.integers(0, 2**63))
    layers = tuple(
        replace(layer, noise=WhiteNoise(sigma, fine_dt, seed=seed, stream=k))
        if get_spec(layer.model).membrane_noise is not None
        else layer
        for k, layer in enumerate(net.layers)
    )
    return replace(net, layers=layers)


#: the escape-noise kind's hazard at threshold (Hz): a neuron sitting at threshold fires at about this rate
ESCAPE_RATE_AT_THRESHOLD = 1000.0


def escape_noise(
    net: FeedForwardNet, delta: float, rng: np.random.Generator, fine_dt: float | None = None
) -> FeedForwardNet:
    """A stochastic threshold of softness ``delta`` (units of v) in every layer that takes one: hazard
    ``rho = ESCAPE_RATE_AT_THRESHOLD exp((v - v_th) / delta)``; the seed from the point's generator, the
    layer's index (offset by the number of layers, apart from membrane noise's) its stream."""
    if delta == 0:
        return net
    seed = int(rng.integers(0, 2**63))
    n = len(net.layers)
    layers = tuple(
        replace(layer, escape=EscapeNoise(ESCAPE_RATE_AT_THRESHOLD, delta, seed=seed, stream=n + k))
        if get_spec(layer.model).threshold_distance is not None
        else layer
        for k, layer in enumerate(net.layers)
    )
    return replace(net, layers=layers)


NETWORK_PERTURBATIONS: dict[str, NetworkPerturbation] = {
    p.name: p
    for p in (
        NetworkPerturbation(
            "tau_m_mismatch",
            "coefficient of variation of each neuron's membrane time constant (log-normal, mean kept)",
            False,
            0.0,
            _time_constant_mismatch("tau_m"),
            _fraction_like("tau_m_mismatch"),
        ),
        NetworkPerturbation(
            "tau_s_mismatch",
            "coefficient of variation of each neuron's synaptic time constant (current synapses)",
            False,
            0.0,
            _time_constant_mismatch("tau_s"),
            _fraction_like("tau_s_mismatch"),
        ),
        NetworkPerturbation(
            "v_th_mismatch",
            "sd of each neuron's threshold, in units of its distance v_th - v_rest",
            False,
            0.0,
            _potential_mismatch("v_th"),
            _fraction_like("v_th_mismatch"),
        ),
        NetworkPerturbation(
            "v_rest_mismatch",
            "sd of each neuron's resting potential, in units of its distance v_th - v_rest",
            False,
            0.0,
            _potential_mismatch("v_rest"),
            _fraction_like("v_rest_mismatch"),
        ),
        NetworkPerturbation(
            "weight_noise",
            "coefficient of variation of each weight (w (1 + cv Z))",
            False,
            0.0,
            weight_noise,
            _fraction_like("weight_noise"),
        ),
        NetworkPerturbation(
            "weight_quantization",
            "bits per weight, symmetric per layer (0: full precision; no draw: every seed gives the same network)",
            False,
            0.0,
            weight_quantization,
            _check_bits,
        ),
        NetworkPerturbation(
            "membrane_noise",
            "sigma of the membrane's white noise, v per sqrt(s) (free-membrane sd sigma sqrt(tau_m / 2))",
            False,
            0.0,
            membrane_noise,
            _fraction_like("membrane_noise"),
            noise_path=True,
        ),
        NetworkPerturbation(
            "escape_noise",
            "softness delta of a stochastic threshold, units of v (hazard 1 kHz at threshold; 0: deterministic)",
            False,
            0.0,
            escape_noise,
            _fraction_like("escape_noise"),
        ),
        NetworkPerturbation(
            "delay_jitter",
            "sigma of each synapse's Gaussian delay change (s)",
            True,
            0.0,
            delay_jitter,
            _fraction_like("delay_jitter"),
        ),
    )
}


def perturb_network(
    net: FeedForwardNet, kind: str, strength: float, rng: np.random.Generator, fine_dt: float | None = None
) -> FeedForwardNet:
    """``net`` with perturbation ``kind`` applied at ``strength`` (checked first); ``fine_dt``: the finest step
    the network will run at (the grid of a noise path; needed by ``membrane_noise``)."""
    if kind not in NETWORK_PERTURBATIONS:
        raise BiosnnInputError(
            f"unknown network perturbation {kind!r}; choose one of {', '.join(NETWORK_PERTURBATIONS)}"
        )
    perturbation = NETWORK_PERTURBATIONS[kind]
    perturbation.check(strength)
    return perturbation.apply(net, float(strength), rng, fine_dt)
