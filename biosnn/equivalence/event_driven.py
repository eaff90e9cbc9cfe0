"""Event-driven solvers: exact spike times, no time grid (LIF with delta synapses;
Lee et al.'s dynamic-weight refractory neurons with WTA circuits).

An independent ground truth for the Brian2 reference (``docs/time_grid.md``). Between
events the membrane relaxes exactly, ``v(t) = v_rest + (v(t0) - v_rest)
exp(-(t - t0)/tau_m)``; at an input time all jumps arriving at that instant
are summed (``v += sum w``) and the threshold is tested once: ``v >= v_th``
emits a spike at exactly that time, followed by the reset (hard ``v = v_reset``
or subtractive ``v -= v_th - v_reset``), each followed by the model's lower bound where
it has one. During the absolute refractory period
``(t_s, t_s + t_ref]`` the membrane is held at its post-reset value and inputs
are discarded (NEST ``iaf_psc_delta`` semantics). With a leak, threshold can
only be crossed at an input, so checking at events is exact.

Relation to the grid (``biosnn/core/schedule.py``): for inputs on the grid, Brian2's
exact schedule labels each spike exactly ``dt`` after the event-driven time.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.errors import BiosnnInputError
from ..core.spikes import SpikeTrains
from ..models.lif import SPEC as LIF

#: The LIF resets this solver implements (the spec's, by name)
RESETS = tuple(LIF.resets)

#: Relative tolerance when comparing an input time with the end of the
#: refractory window (grid times carry rounding of ~1e-16 relative).
REFRACTORY_RTOL = 1e-9


def lif_delta_event_driven(
    spikes: SpikeTrains,
    weights: np.ndarray,
    *,
    tau_m: float,
    v_th: float = 1.0,
    v_reset: float = 0.0,
    v_rest: float = 0.0,
    t_ref: float = 0.0,
    reset: str = "hard",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact output spikes of one LIF layer; returns ``(times, units, samples)``.

    ``weights`` is ``[N_in, N]``. Output is sorted by (time, sample, unit).
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[0] != spikes.n_units:
        raise BiosnnInputError(f"weights must be [N_in={spikes.n_units}, N], got {weights.shape}")
    if reset not in RESETS:
        raise BiosnnInputError(f"unknown reset {reset!r}; choose one of {', '.join(RESETS)}")
    out_t, out_u, out_s = [], [], []
    samples = spikes.sample_indices()
    for b in range(spikes.batch_size):
        sel = samples == b
        times, units = spikes.times[sel], spikes.units[sel]
        event_times, inverse = np.unique(times, return_inverse=True)
        for j in range(weights.shape[1]):
            jumps = np.zeros(event_times.size)
            np.add.at(jumps, inverse, weights[units, j])
            v, t_last = v_rest, 0.0
            refractory_until = -math.inf
            for t, jump in zip(event_times, jumps):
                if t <= refractory_until * (1 + REFRACTORY_RTOL):
                    continue  # input discarded while refractory
                start = max(t_last, refractory_until)
                v = v_rest + (v - v_rest) * math.exp(-(t - start) / tau_m)
                t_last = t
                v += jump
                if v >= v_th:
                    out_t.append(t)
                    out_u.append(j)
                    out_s.append(b)
                    v = v_reset if reset == "hard" else v - (v_th - v_reset)
                    if v >= v_th:
                        raise BiosnnInputError(
                            f"neuron {j} is still above threshold after a subtractive reset at t={t!r}s: "
                            "the continuous-time solution would fire infinitely often"
                        )
                    refractory_until = t + t_ref if t_ref > 0 else -math.inf
    out_t, out_u, out_s = np.asarray(out_t), np.asarray(out_u, np.int64), np.asarray(out_s, np.int64)
    order = np.lexsort((out_u, out_s, out_t))
    return out_t[order], out_u[order], out_s[order]


def lee_wta_event_driven(
    spikes: SpikeTrains,
    weights: np.ndarray,
    *,
    tau_mp: float,
    T_ref: float,
    v_th: float | np.ndarray,
    mu: float = 0.0,
    sigma: float = 0.0,
    circuit_size: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact output spikes of a dynamic-weight refractory layer with WTA circuits.

    Lee, Delbruck & Pfeiffer (2016); definitions in ``biosnn/models/lee_refractory.py``
    and ``biosnn/models/wta.py``. At each input instant t, in order: decay
    ``v <- v exp(-(t - t_last)/tau_mp)``; add the summed inputs scaled by
    ``min(1, ((t - t_r)/T_ref)^2)``; floor at ``-V_th``; every neuron with
    ``v >= V_th`` fires at t; each other neuron of its circuit gets
    ``sigma mu V_th_i`` per firing neighbour and ``t_r = t``; floor; firing
    neurons subtract their threshold, set ``t_r = t`` and are floored again. Without inputs the
    membrane only decays towards 0 < V_th, so no spike can occur between events.
    Returns ``(times, units, samples)`` sorted by (time, sample, unit).
    """
    weights = np.asarray(weights, dtype=np.float64)
    n = weights.shape[1]
    if weights.ndim != 2 or weights.shape[0] != spikes.n_units:
        raise BiosnnInputError(f"weights must be [N_in={spikes.n_units}, N], got {weights.shape}")
    v_th = np.broadcast_to(np.asarray(v_th, dtype=np.float64), (n,))
    # circuits written here, not shared with the backends: an independent oracle
    size = int(circuit_size)
    if size != circuit_size or size < 0 or (size and n % size):
        raise BiosnnInputError(f"circuit_size={circuit_size!r} must be 0 or a whole divisor of the layer's {n} neurons")
    circuit = np.arange(n) // (size or n)
    same = (circuit[:, None] == circuit[None, :]).astype(np.float64)
    lateral = mu * sigma != 0
    out_t, out_u, out_s = [], [], []
    samples = spikes.sample_indices()
    for b in range(spikes.batch_size):
        sel = samples == b
        event_times, inverse = np.unique(spikes.times[sel], return_inverse=True)
        jumps = np.zeros((event_times.size, n))
        np.add.at(jumps, inverse, weights[spikes.units[sel]])
        v = np.zeros(n)
        t_r = np.full(n, -np.inf)
        t_last = 0.0
        for t, jump in zip(event_times, jumps):
            v *= math.exp(-(t - t_last) / tau_mp)
            t_last = t
            w_dyn = np.minimum(1.0, ((t - t_r) / T_ref) ** 2)
            v = np.maximum(v + jump * w_dyn, -v_th)
            fired = v >= v_th
            if not fired.any():
                continue
            if lateral:
                others = same @ fired - fired
                v = np.maximum(v + sigma * mu * v_th * others, -v_th)
                t_r = np.where(others > 0, t, t_r)
            v = np.maximum(np.where(fired, v - v_th, v), -v_th)  # the bound holds after the reset too
            t_r = np.where(fired, t, t_r)
            if np.any(v >= v_th):
                raise BiosnnInputError(
                    f"a neuron is still above threshold after its reset at t={float(t)!r}s: the continuous-time "
                    "solution would fire infinitely often; use weaker inputs"
                )
            units = np.flatnonzero(fired)
            out_t += [t] * units.size
            out_u += units.tolist()
            out_s += [b] * units.size
    out_t, out_u, out_s = np.asarray(out_t), np.asarray(out_u, np.int64), np.asarray(out_s, np.int64)
    order = np.lexsort((out_u, out_s, out_t))
    return out_t[order], out_u[order], out_s[order]
