"""biosnn network description -> NIR graph, in NIR's own continuous-time semantics.

Each layer of a :class:`~biosnn.models.network.FeedForwardNet` becomes a neuron node
fed by a ``Linear`` node (``W_nir = W.T``), with a ``Delay`` node for the hop's
axonal delays. Spikes are NIR's unit-area Dirac pulses, so the parameters are
chosen to make the NIR weight the jump per spike, exactly (no rounding):

* ``lif``/``plif`` with delta synapses -> ``LIF(tau = tau_m, r = tau_m,
  v_leak = v_rest, v_threshold = v_th, v_reset = v_reset)``: a spike moves ``v``
  by ``R W / tau = W``;
* ``lif``/``plif`` with current synapses -> ``CubaLIF(tau_mem = tau_m,
  tau_syn = tau_s, r = 1, w_in = tau_s, ...)``: a spike moves biosnn's ``I``
  (NIR's ``R I``) by ``w_in W / tau_syn = W``;
* a first layer with a held drive -> ``LIF`` with ``r = 1`` (``tau dv/dt =
  (v_leak - v) + W x``, ``x`` the held input signal), marked held in its metadata;
* ``li`` -> ``LI`` / ``CubaLI`` likewise;
* ``if`` with delta synapses -> ``IF(r = 1, v_threshold = v_th, v_reset = v_reset)``: ``dv/dt = R I``, a spike
  moves ``v`` by ``R W = W``; a first layer with a held drive -> ``IF(r = 1)`` marked held (``dv/dt = W x``).
  NIR's IF starts at and has no resting potential, so ``v_rest`` must be 0; current synapses have no IF form;
* ``integrator`` -> ``I(r = 1)`` likewise (no threshold, no reset).

A layer's constant input ``bias`` becomes the bias of an ``Affine`` node in place of the ``Linear``:
``b = bias / R`` (``bias / (R w_in)`` into a current synapse), on from t = 0 as in NIR (a bias switching on
later, ``bias_onset > 0``, is refused).

Each node carries its biosnn model and synapse kind in its metadata, so a
re-import restores ``plif`` (``tau_m`` learnt in the mirror) and held drives;
the graph's metadata states the convention. What NIR cannot state is refused,
naming the layer: subtractive resets (NIR's LIF resets to ``v_reset``),
refractory periods, models without a NIR node (``lee_refractory``, ``wta``,
``gamma_cascade``, ``adaptive_lif``), per-synapse delays that are neither
constant per presynaptic nor per postsynaptic neuron.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import BiosnnInputError
from ..models import get_spec
from ..models.network import _ANY_DT, FeedForwardNet
from .importer import MODEL_KEY, SYNAPSE_KEY, require_nir

if TYPE_CHECKING:
    from pathlib import Path

    import nir

#: NIR node type of each exportable model, per synapse kind
EXPORTS = {
    "lif": {"delta": "LIF", "held": "LIF", "current": "CubaLIF"},
    "plif": {"delta": "LIF", "held": "LIF", "current": "CubaLIF"},
    "li": {"delta": "LI", "current": "CubaLI"},
    "if": {"delta": "IF", "held": "IF"},
    "integrator": {"delta": "I", "held": "I"},
}

#: what the exporter writes in the graph's metadata
CONVENTION = (
    "NIR continuous time, SI seconds; spikes are unit-area Dirac pulses (a spike through W moves the "
    "membrane by R W / tau); written by biosnn"
)


def _text(value) -> str:
    """A parameter in a message: ``0.2``, or its range when it is one value per neuron."""
    v = np.asarray(value, dtype=np.float64)
    return f"{float(v):g}" if v.ndim == 0 else f"{v.min():g} .. {v.max():g} (per neuron)"


def _full(value, n):
    """One value per neuron (a layer's parameter is one value or already one per neuron)."""
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()


def _neuron(nir, k, layer, params):
    spec = get_spec(layer.model)
    kinds = EXPORTS.get(layer.model)
    if kinds is None:
        raise BiosnnInputError(
            f"layer {k} ({layer.model}): NIR has no node for this model; exportable: {', '.join(EXPORTS)}"
        )
    synapse = layer.resolved_synapse()
    if synapse not in kinds:
        raise BiosnnInputError(f"layer {k} ({layer.model}): synapse kind {synapse!r} has no NIR form")
    reset = layer.resolved_reset()
    if spec.threshold is not None and reset != "hard":
        raise BiosnnInputError(
            f"layer {k} ({layer.model}): reset {reset!r}; NIR's {kinds[synapse]} resets to v_reset "
            "(v = v_reset), so only the hard reset has a NIR form"
        )
    if spec.refractory_parameter and params.get(spec.refractory_parameter, 0.0) != 0.0:
        raise BiosnnInputError(
            f"layer {k} ({layer.model}): a refractory period "
            f"({spec.refractory_parameter} = {params[spec.refractory_parameter]:g} s); NIR's "
            "neurons have none"
        )
    ci = spec.constant_input
    if ci is not None and ci.gated(params):
        raise BiosnnInputError(
            f"layer {k} ({layer.model}): a bias switching on at {ci.onset} = "
            f"{params[ci.onset]:g} s; NIR's Affine bias is on from t = 0"
        )
    n = layer.n
    kind = kinds[synapse]
    meta = {MODEL_KEY: layer.model, SYNAPSE_KEY: synapse}
    if kind in ("IF", "I"):
        if np.any(np.asarray(params["v_rest"]) != 0.0):
            raise BiosnnInputError(
                f"layer {k} ({layer.model}): v_rest = {_text(params['v_rest'])}; NIR's {kind} has no "
                f"resting potential (its membrane starts at 0), so only v_rest = 0 has an {kind} form"
            )
        if spec.threshold is None:
            return nir.I(r=np.ones(n), metadata=meta)
        return nir.IF(
            r=np.ones(n), v_threshold=_full(params["v_th"], n), v_reset=_full(params["v_reset"], n), metadata=meta
        )
    common = dict(v_leak=_full(params["v_rest"], n))
    if spec.threshold is not None:
        common.update(v_threshold=_full(params["v_th"], n), v_reset=_full(params["v_reset"], n))
    tau_m = _full(params["tau_m"], n)
    if synapse == "current":
        tau_s = _full(params["tau_s"], n)
        return getattr(nir, kind)(
            tau_syn=tau_s, tau_mem=tau_m, r=np.ones(n), w_in=tau_s.copy(), **common, metadata=meta
        )
    r = np.ones(n) if synapse == "held" else tau_m.copy()
    return getattr(nir, kind)(tau=tau_m, r=r, **common, metadata=meta)


def _delay_nodes(nir, k, d):
    """``(before, after)``: Delay nodes on the presynaptic spikes and on each postsynaptic neuron."""
    if d is None:
        return None, None
    d = np.asarray(d, dtype=np.float64)
    if d.ndim == 1:
        return nir.Delay(delay=d.copy()), None
    if np.all(d == d[:, :1]):
        return nir.Delay(delay=d[:, 0].copy()), None
    if np.all(d == d[:1, :]):
        return None, nir.Delay(delay=d[0, :].copy())
    raise BiosnnInputError(
        f"hop {k}: per-synapse delays that differ both along rows and along columns; NIR's Delay "
        "delays one signal per element (a presynaptic or a postsynaptic neuron)"
    )


def _bias_gain(node, synapse: str) -> np.ndarray:
    """What biosnn's bias is per unit of NIR's Affine bias: ``R`` (``R w_in`` into a current synapse)."""
    return node.r * node.w_in if synapse == "current" else node.r


def _linear_node(nir, w, bias, gain):
    """``Linear(W)``, or ``Affine(W, b)`` with ``b = bias / gain`` where the layer has a bias."""
    weight = np.asarray(w, dtype=np.float64).T.copy()
    if bias is None or not np.any(np.asarray(bias) != 0.0):
        return nir.Linear(weight=weight)
    return nir.Affine(weight=weight, bias=np.broadcast_to(np.asarray(bias, np.float64), gain.shape) / gain)


def to_nir(net: FeedForwardNet, *, dt: float | None = None) -> nir.NIRGraph:
    """The NIR graph (``nir.NIRGraph``) of ``net``. ``dt`` (seconds) is needed only to resolve defaults given in
    steps of dt (PLIF's ``tau_m = 2 dt``); everything written is in seconds."""
    nir = require_nir()
    if not isinstance(net, FeedForwardNet):
        raise BiosnnInputError(f"to_nir: expected a FeedForwardNet, got {type(net).__name__}")
    nodes, edges = {"input": nir.Input(input_type=np.array([net.n_inputs]))}, []
    previous, n_prev = "input", net.n_inputs
    for k, (layer, w, d) in enumerate(zip(net.layers, net.weights, net.delays)):
        spec = get_spec(layer.model)
        for p in spec.parameters:
            if p.default_steps is not None and p.name not in layer.params and dt is None:
                raise BiosnnInputError(
                    f"layer {k} ({layer.model}): {p.name} defaults to {p.default_steps:g} dt; "
                    "pass dt to to_nir or give the value"
                )
        params = net.resolved_params(k, dt if dt is not None else _ANY_DT)
        neuron = _neuron(nir, k, layer, params)
        before, after = _delay_nodes(nir, k, d)
        linear = _linear_node(nir, w, params.get("bias"), _bias_gain(neuron, layer.resolved_synapse()))
        chain = (
            ([(f"delay_{k}", before)] if before is not None else [])
            + [(f"linear_{k}", linear)]
            + ([(f"delay_post_{k}", after)] if after is not None else [])
            + [(f"{neuron.__class__.__name__.lower()}_{k}", neuron)]
        )
        for name, node in chain:
            nodes[name] = node
            edges.append((previous, name))
            previous = name
        n_prev = layer.n
    nodes["output"] = nir.Output(output_type=np.array([n_prev]))
    edges.append((previous, "output"))
    from ..core.version import __version__

    return nir.NIRGraph(
        nodes=nodes, edges=edges, metadata={"source": f"biosnn {__version__}", "convention": CONVENTION}
    )


def write(path: Path | str, net: FeedForwardNet, *, dt: float | None = None) -> None:
    """:func:`to_nir` written to ``path`` (``nir.write``, HDF5), through a temporary file."""
    from ..core.io import atomic_path, check_output_file

    nir = require_nir()
    check_output_file(path, "NIR file")
    graph = to_nir(net, dt=dt)
    with atomic_path(path) as tmp:
        nir.write(tmp, graph)
