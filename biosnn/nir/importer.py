"""NIR graph -> :class:`~biosnn.models.network.FeedForwardNet`, under a stated :class:`Discretization`.

Each neuron node becomes one biosnn layer of a registered model
(``biosnn.models``), each hop (``biosnn/nir/chain.py``) its weight matrix
and delays. With NIR's ``LIF`` (Pedersen et al. 2024)::

    tau dv/dt = (v_leak - v) + R I(t),   I = W s(t),   v > v_threshold -> v = v_reset

and a spike ``s`` of area ``a`` (``a = 1`` for NIR's Dirac, ``a = dt`` for a
one-step pulse), one presynaptic spike moves ``v`` by ``a R W / tau``. So the
layer is biosnn's ``lif`` (``tau_m dv/dt = (v_rest - v) + ...``, ``v += w`` per
spike: ``biosnn/models/lif.py``) with ``tau_m = tau``, ``v_rest = v_leak``,
``v_th = v_threshold``, ``v_reset = v_reset``, a hard reset and weights
``w_ij = a R_j W_ji / tau``. ``CubaLIF`` (``tau_syn dI/dt = -I + w_in W s``,
``tau_mem dv/dt = (v_leak - v) + R I``) is ``lif`` with current synapses
(``tau_s dI/dt = -I``, ``I += w``, ``tau_m dv/dt = (v_rest - v) + I``): biosnn's
``I`` is ``R`` times NIR's, so ``w_ij = a R_j w_in,j W_ji / tau_syn``. ``LI`` and
``CubaLI`` are the same without threshold: biosnn's ``li``. NIR's ``IF``
(``dv/dt = R I``, no leak) is biosnn's ``if`` (``dv/dt = I``: ``biosnn/models/if_neuron.py``)
with ``v_th = v_threshold``, ``v_reset = v_reset``, ``v`` starting at 0, a hard
reset and weights ``w_ij = a R_j W_ji`` (no tau divides them); NIR's ``I`` (the
same without threshold) is biosnn's non-spiking ``integrator``, read by its membrane.

A hop's constant term ``c`` (``Affine`` and ``Conv`` biases, through every later
linear map: ``biosnn/nir/chain.py``) is a constant input, NIR's ``R I`` with
``I = W s + c``: the layer's ``bias = R c`` (``R w_in c`` into a current
synapse), on from ``t = 0`` under NIR's Dirac reading and from the layer's first
input under the frameworks' pulse reading (:func:`_with_bias`,
:func:`framework_alignment`).

Under one-step pulses the first layer, when its model takes a held drive
(``lif``, ``if``), receives the input raster as that drive, ``X = R W x`` held over each
step (``if``: ``v += X dt``): exactly a pulse of amplitude 1, integrated exactly (the NIR paper's own
exact reference, ``paper/01_lif/lif_exact_sim.py``, steps its current this way)
or by Euler (the frameworks' ``beta v + W x``), with no synaptic latency.

``R``, ``w_in``, ``v_threshold``, ``v_leak``, ``v_reset`` and the time constants
may differ between neurons (the first two fold into the weights, the others are
per-neuron parameters of ``lif`` and ``if``). What biosnn cannot hold is refused
with the node's name, never approximated: forward Euler with ``dt > tau``, delays
that are not whole steps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import BiosnnInputError
from ..core.units import check_count
from ..models import get_spec
from ..models.network import FeedForwardNet, LayerSpec
from . import chain
from .discretization import Discretization

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import Any

    import nir
    import torch

    from ..core.activity import LayerActivity
    from ..core.spikes import SpikeTrains

#: metadata keys biosnn writes on the nodes it exports (``biosnn/nir/exporter.py``) and honours on import
MODEL_KEY = "biosnn_model"
SYNAPSE_KEY = "biosnn_synapse"

#: under the ``dt*tau`` reading (norse 1.1.0), the largest time constant (s) a field may state: norse's
#: ``to_nir`` writes ``dt * tau``, below ``dt`` for every tau under 1 s (trained SNN time constants are ms);
#: a field at or above ``dt`` is the sign of a file that holds tau itself
DT_TAU_MAX_TAU = 1.0

#: registered models a node of each type may carry (through ``MODEL_KEY``): same equations, same parameters
MODELS_OF = {
    "LIF": ("lif", "plif"),
    "CubaLIF": ("lif", "plif"),
    "LI": ("li",),
    "CubaLI": ("li",),
    "IF": ("if",),
    "I": ("integrator",),
}


def require_nir() -> Any:
    """The ``nir`` package, or a clear error naming the extra that installs it."""
    try:
        import nir
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "biosnn's NIR bridge needs the nir package: pip install 'biosnn[nir]' (nir==1.0.8, nirtorch==2.6)"
        ) from None
    return nir


def read(path: Path | str) -> nir.NIRGraph:
    """Read a NIR file (HDF5, ``nir.write``); a clear error when it is missing, unreadable or hostile.

    The file passes ``check_input_file`` (a regular file that fits in memory) and is opened once: through that
    one open file, ``check_hdf5`` refuses external links, external storage and virtual datasets (which would
    read another file's bytes into a weight) and fixed-size data larger than memory before ``nir.read`` reads
    a value; the same open file is then what ``nir.read`` reads (never a file swapped in meanwhile). Fields
    that should hold numbers and hold text are refused by :func:`from_nir`.

    NIR's own type check is left to biosnn, which checks every size along the chain itself: norse 1.1.0's
    ``to_nir`` writes the Input shape with the batch dimension (``[1, n]``), which ``nir.read`` refuses
    against the ``[n]`` of the next node."""
    import h5py

    from ..core.io import check_hdf5, check_input_file

    nir = require_nir()
    path = os.fspath(check_input_file(path, "NIR"))
    try:
        with open(path, "rb") as raw:
            with h5py.File(raw, "r") as handle:
                check_hdf5(handle, path, "NIR")
            raw.seek(0)
            return nir.read(raw, type_check=False)
    except BiosnnInputError:
        raise
    except Exception as err:  # h5py and nir raise many kinds for a malformed file
        raise BiosnnInputError(f"NIR file {path!r} is not a readable NIR graph ({type(err).__name__}: {err})") from None


#: node fields that hold words, not numbers: a convolution's padding may be "same" or "valid", metadata is
#: free text, and a graph's own fields name its nodes
TEXT_FIELDS = frozenset({"padding", "metadata", "nodes", "edges"})


def _not_numbers(value) -> str | None:
    """What ``value`` holds when it is not numbers (text, objects), else None."""
    if isinstance(value, (str, bytes)):
        return f"the text {value[:40]!r}"
    if isinstance(value, np.ndarray) and value.dtype.kind not in "biuf":
        return (
            f"values of type {value.dtype} ({value.ravel()[:1].tolist()}...)"
            if value.size
            else f"values of type {value.dtype}"
        )
    return None


def check_numbers(graph: nir.NIRGraph) -> None:
    """Every field of every node that should hold numbers does (weights, time constants, thresholds, the
    shapes of ``input_type`` / ``output_type``): a field of text, from a crafted or corrupt file, is refused
    naming the node and the field, not left to fail as a conversion deep in the import."""
    for name, node in dict(graph.nodes).items():
        for field_name, value in vars(node).items():
            if field_name in TEXT_FIELDS or value is None:
                continue
            values = value.items() if isinstance(value, dict) else [(None, value)]
            for key, item in values:
                found = _not_numbers(item)
                if found:
                    where = field_name if key is None else f"{field_name}[{key!r}]"
                    raise BiosnnInputError(
                        f"NIR node {name!r} ({chain.type_name(node)}): {where} holds {found}; expected numbers"
                    )


def _metadata(node) -> dict:
    meta = getattr(node, "metadata", None) or {}
    out = {}
    for k, v in dict(meta).items():
        v = v.decode() if isinstance(v, bytes) else v
        if isinstance(v, np.ndarray) and v.dtype.kind in "SO" and v.size == 1:
            v = v.item().decode() if isinstance(v.item(), bytes) else v.item()
        out[str(k)] = v
    return out


@dataclass
class _Layer:
    spec: LayerSpec
    scale: np.ndarray  # per postsynaptic neuron: weight = (M * scale[:, None]).T
    held: bool
    current: bool
    note: str
    bias_gain: np.ndarray  # per neuron: biosnn's bias = bias_gain * the hop's constant term (R, or R w_in)


def framework_alignment(
    held_input: bool, current: Sequence[bool], *, current_first: bool = True
) -> tuple[tuple, tuple]:
    """``(arrivals, lags)`` per layer: the label at which a layer's first input (the framework's step 0) arrives
    in biosnn, and the steps between a framework step and biosnn's label of the same layer.

    A framework propagates within a step; biosnn's exact schedule costs one step per hop (none into a held first
    layer: ``biosnn.core.schedule``), and a framework that integrates a current-based membrane with the current of
    the same step is one more step ahead of biosnn's layer (whose ODE step reads the current of the step start),
    so ``lag = arrival + 1`` for a current-based layer and ``arrival`` of the next layer is ``lag + 1``."""
    arrivals, lags, lag = [], [], 0
    for k, is_current in enumerate(current):
        arrival = lag + (0 if (k == 0 and held_input) else 1)
        lag = arrival + (1 if (is_current and current_first) else 0)
        arrivals.append(arrival)
        lags.append(lag)
    return tuple(arrivals), tuple(lags)


def _one_or_each(name, kind, fields: str, value, n) -> float | np.ndarray:
    """A field biosnn's layer holds per neuron: one float when every neuron has the same value (the layer keeps
    its fused loop), else the ``[n]`` array."""
    arr = _per_neuron(name, kind, fields, value, n)
    return float(arr[0]) if np.all(arr == arr[0]) else arr


def _per_neuron(name, kind, fields: str, value, n) -> np.ndarray:
    arr = chain.array(value).ravel()
    if arr.size not in (1, n) or not np.all(np.isfinite(arr)):
        raise BiosnnInputError(f"NIR node {name!r} ({kind}): {fields} needs 1 or {n} finite values, has {arr.size}")
    return np.broadcast_to(arr, (n,)).astype(np.float64)


def _time_constant(name, kind, fields, value, n, disc: Discretization) -> float | np.ndarray:
    """The time constant (s) a node's field states under ``disc``: one float when every neuron has the same
    (the layer keeps its literal propagators), else one per neuron (snntorch's ``beta`` learnt per neuron,
    norse's ``tau_mem_inv`` arrays).

    Read as ``dt * tau`` (norse 1.1.0's ``to_nir``: ``field = dt / tau_inv``), a field must lie below ``dt``,
    that is ``tau = field / dt < DT_TAU_MAX_TAU``; a field at or above ``dt`` means the file holds ``tau``
    itself (the NIR paper's norse-written ``lif_norse.nir``: 2.5e-3), which this reading would turn into a
    neuron ``1/dt`` times too slow, so it is refused, not read."""
    fields_values = _per_neuron(name, kind, fields, value, n)
    worst = float(fields_values[np.argmax(np.abs(fields_values))])
    if disc.tau_in_file == "dt*tau" and not abs(worst) < disc.dt * DT_TAU_MAX_TAU:
        raise BiosnnInputError(
            f"NIR node {name!r} ({kind}): {fields} = {worst!r} is not below dt = {disc.dt!r} s, so it cannot be "
            f"norse 1.1.0's dt * tau (that would be tau = {worst / disc.dt:g} s >= {DT_TAU_MAX_TAU:g} s): the "
            "file holds tau itself; read it with Discretization.euler(dt) or check the dt it was written with"
        )
    taus = disc.tau(fields_values)
    tau = float(np.min(taus))
    if not tau > 0:
        raise BiosnnInputError(f"NIR node {name!r} ({kind}): {fields} = {tau!r} s; a time constant must be > 0")
    if disc.method == "euler" and tau < disc.dt:
        hint = (
            "; norse 1.1.0's to_nir writes dt/tau_mem_inv (= dt*tau) in its time-constant fields: read its "
            "graphs with Discretization.norse(dt)"
            if disc.tau_in_file == "tau"
            else ""
        )
        raise BiosnnInputError(
            f"NIR node {name!r} ({kind}): {fields} = {tau!r} s is shorter than dt = {disc.dt!r} s: "
            f"forward Euler overshoots (dt/tau = {disc.dt / tau:.3g}){hint}"
        )
    return float(taus[0]) if np.all(taus == taus[0]) else np.array(taus, dtype=np.float64)


def _describe_time(name: str, tau: float | np.ndarray) -> str:
    """``tau_m = 0.01 s``, or the range of a per-neuron time constant."""
    if np.ndim(tau):
        return f"{name} = {np.min(tau):g} .. {np.max(tau):g} s (per neuron)"
    return f"{name} = {tau:g} s"


def _model(name, kind, node) -> str:
    wanted = _metadata(node).get(MODEL_KEY)
    allowed = MODELS_OF[kind]
    if wanted is None:
        return allowed[0]
    if wanted not in allowed:
        raise BiosnnInputError(
            f"NIR node {name!r} ({kind}): its metadata names the model {wanted!r}; a {kind} node "
            f"can be one of {', '.join(allowed)}"
        )
    return wanted


def _point(name, node, n, k, disc: Discretization, *, current: bool, spiking: bool) -> _Layer:
    """LIF / CubaLIF / LI / CubaLI: the shared conversion."""
    kind = chain.type_name(node)
    model = _model(name, kind, node)
    spec = get_spec(model)
    if current:
        tau_m = _time_constant(name, kind, "tau_mem", node.tau_mem, n, disc)
        tau_s = _time_constant(name, kind, "tau_syn", node.tau_syn, n, disc)
    else:
        tau_m = _time_constant(name, kind, "tau", node.tau, n, disc)
    r = _per_neuron(name, kind, "r", node.r, n)
    params = {"tau_m": tau_m, "v_rest": _one_or_each(name, kind, "v_leak", node.v_leak, n)}
    if current:
        params["tau_s"] = tau_s
    reset = None
    if spiking:
        params["v_th"] = _one_or_each(name, kind, "v_threshold", node.v_threshold, n)
        params["v_reset"] = _one_or_each(name, kind, "v_reset", node.v_reset, n)
        reset = disc.reset or "hard"
    held_by_metadata = _metadata(node).get(SYNAPSE_KEY) == "held"
    if held_by_metadata and (k > 0 or current):
        raise BiosnnInputError(
            f"NIR node {name!r} ({kind}): metadata asks for a held drive, which only the first "
            "layer of delta-type input can take"
        )
    held = not current and k == 0 and "held" in spec.synapses and (held_by_metadata or disc.spikes == "pulse")
    area = disc.spike_area
    area_text = "1, a Dirac" if disc.spikes == "dirac" else f"dt = {disc.dt:g} s, a one-step pulse"
    if held:
        scale, synapse = r, "held"
        how = "held drive X = R W x over each step (pulse input, no latency)"
    elif current:
        scale, synapse = area * r * _per_neuron(name, kind, "w_in", node.w_in, n) / tau_s, "current"
        how = f"current synapses, I += a R w_in W / tau_syn per spike (a = {area_text})"
    else:
        scale, synapse = area * r / tau_m, "delta"
        how = f"delta synapses, v += a R W / tau per spike (a = {area_text})"
    layer = _checked_layer(name, kind, spec, n, params, synapse, reset, scale, disc)
    tau_text = _describe_time("tau_m", tau_m) + (", " + _describe_time("tau_s", tau_s) if current else "")
    note = f"{kind} {name!r} -> {model} ({n} neurons, {tau_text}, {reset or 'no'} reset): {how}"
    bias_gain = r * _per_neuron(name, kind, "w_in", node.w_in, n) if current else r
    return _Layer(layer, scale, held, current, note, bias_gain)


def _lif(name, node, n, k, disc):
    return _point(name, node, n, k, disc, current=False, spiking=True)


def _cuba_lif(name, node, n, k, disc):
    return _point(name, node, n, k, disc, current=True, spiking=True)


def _li(name, node, n, k, disc):
    return _point(name, node, n, k, disc, current=False, spiking=False)


def _checked_layer(name, kind, spec, n, params, synapse, reset, scale, disc) -> LayerSpec:
    """The layer of ``spec`` these parameters describe, with every error naming the NIR node."""
    if not np.all(np.isfinite(scale)):
        raise BiosnnInputError(f"NIR node {name!r} ({kind}): its weight scale is not finite")
    try:
        spec.resolve(params, disc.dt)
        layer = LayerSpec(spec.name, n, params, synapse, reset)
        layer.resolved_reset()
    except BiosnnInputError as err:
        raise BiosnnInputError(f"NIR node {name!r} ({kind}): {err}") from None
    return layer


def _cuba_li(name, node, n, k, disc):
    return _point(name, node, n, k, disc, current=True, spiking=False)


def _non_leaky(name, node, n, k, disc, *, spiking: bool) -> _Layer:
    """IF / I (``dv/dt = R I``, no leak): biosnn's ``if`` / ``integrator``; one spike of area ``a`` moves ``v`` by
    ``a R W``."""
    kind = chain.type_name(node)
    model = _model(name, kind, node)
    spec = get_spec(model)
    r = _per_neuron(name, kind, "r", node.r, n)
    params, reset = {"v_rest": 0.0}, None  # v starts at 0: NIR's IF and I have no rest
    if spiking:
        v_reset = np.zeros_like(np.asarray(node.v_threshold, np.float64)) if node.v_reset is None else node.v_reset
        params.update(
            v_th=_one_or_each(name, kind, "v_threshold", node.v_threshold, n),
            v_reset=_one_or_each(name, kind, "v_reset", v_reset, n),
        )  # None: nir's default, 0
        reset = disc.reset or "hard"
    held_by_metadata = _metadata(node).get(SYNAPSE_KEY) == "held"
    if held_by_metadata and k > 0:
        raise BiosnnInputError(
            f"NIR node {name!r} ({kind}): metadata asks for a held drive, which only the first "
            "layer of delta-type input can take"
        )
    held = k == 0 and (held_by_metadata or disc.spikes == "pulse")
    area = disc.spike_area
    area_text = "1, a Dirac" if disc.spikes == "dirac" else f"dt = {disc.dt:g} s, a one-step pulse"
    if held:
        scale, synapse = r, "held"
        how = "held drive X = R W x over each step, v += X dt (pulse input, no latency)"
    else:
        scale, synapse = area * r, "delta"
        how = f"delta synapses, v += a R W per spike (a = {area_text})"
    layer = _checked_layer(name, kind, spec, n, params, synapse, reset, scale, disc)
    what = (
        f"{reset} reset, fires at v >= v_th where NIR's IF needs v > v_threshold"
        if spiking
        else "no threshold, read by its membrane"
    )
    note = f"{kind} {name!r} -> {model} ({n} neurons, no leak, {what}): {how}"
    return _Layer(layer, scale, held, False, note, r)


def _if(name, node, n, k, disc):
    return _non_leaky(name, node, n, k, disc, spiking=True)


def _integrator(name, node, n, k, disc):
    return _non_leaky(name, node, n, k, disc, spiking=False)


#: NIR neuron node type -> its converter (``chain.NEURON_TYPES``)
NEURON_CONVERTERS = {"LIF": _lif, "CubaLIF": _cuba_lif, "LI": _li, "CubaLI": _cuba_li, "IF": _if, "I": _integrator}


@dataclass(frozen=True)
class ImportedNetwork:
    """A NIR graph read into biosnn: the network description and how it was read.

    ``net``: the :class:`~biosnn.models.network.FeedForwardNet` both backends run;
    ``layer_nodes``: the NIR node behind each layer; ``input_shape``: the shape of one
    input sample (flattened in C order into ``net.n_inputs``); ``held_input``: whether the
    first layer takes the input raster as a held drive (one-step pulses);
    ``notes``: every mapping decision, in words.
    """

    net: FeedForwardNet
    discretization: Discretization
    layer_nodes: tuple[str, ...]
    input_shape: tuple[int, ...]
    held_input: bool
    current: tuple[bool, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def dt(self) -> float:
        return self.discretization.dt

    def raster(self, inputs: np.ndarray | torch.Tensor | SpikeTrains) -> np.ndarray:
        """The input as a float64 raster ``[T, B, n_inputs]`` on the grid: a ``[T, n]`` or ``[T, B, n]`` array
        (``[T, B, *input_shape]`` too) of spike counts, or :class:`~biosnn.core.spikes.SpikeTrains`."""
        from ..core.schedule import timestep
        from ..core.spikes import SpikeTrains

        n = self.net.n_inputs
        if isinstance(inputs, SpikeTrains):
            if inputs.n_units != n:
                raise BiosnnInputError(f"input spikes have {inputs.n_units} units; the graph takes {n}")
            return inputs.to_raster(self.dt, int(timestep(inputs.duration, self.dt)))
        from ..core.inputs import as_numpy

        x = np.asarray(as_numpy(inputs))
        if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise BiosnnInputError(f"input raster: expected numbers, got dtype {x.dtype}")
        x = x.astype(np.float64)
        if x.ndim == 2:
            x = x[:, None, :]
        elif x.ndim == 2 + len(self.input_shape) and tuple(x.shape[2:]) == tuple(self.input_shape) and x.ndim > 3:
            x = x.reshape(x.shape[0], x.shape[1], n)
        if x.ndim != 3 or x.shape[2] != n or x.shape[0] < 1:
            raise BiosnnInputError(f"input raster: expected [T, {n}] or [T, B, {n}], got shape {x.shape}")
        if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x != np.round(x)):
            raise BiosnnInputError("input raster: expected spike counts (non-negative whole numbers)")
        return x

    def simulate(
        self,
        inputs: np.ndarray | torch.Tensor | SpikeTrains,
        *,
        backend: str = "brian2",
        extra_steps: int = 0,
        method: str | None = None,
        target: str | None = None,
        dtype: str = "float64",
        record: bool = True,
    ) -> list[LayerActivity]:
        """Run the imported network on ``inputs`` (see :meth:`raster`) for ``T + extra_steps`` steps of ``dt``
        with ``method`` (default: the import's); one :class:`~biosnn.core.activity.LayerActivity` per layer."""
        from ..core.spikes import SpikeTrains
        from ..simulation import simulate_network

        x = self.raster(inputs)
        extra_steps = check_count(extra_steps, "extra_steps", minimum=0)
        if extra_steps:
            x = np.concatenate([x, np.zeros((extra_steps, *x.shape[1:]))])
        if self.held_input:
            stimulus = x
        else:
            if np.any(x > 1):
                raise BiosnnInputError(
                    "input raster: more than one spike of a unit in one step; biosnn's spike inputs carry one per step"
                )
            stimulus = SpikeTrains.from_raster(x, self.dt)
        return simulate_network(
            self.net,
            stimulus,
            backend=backend,
            dt=self.dt,
            duration=x.shape[0] * self.dt,
            discretization=method or self.discretization.method,
            dtype=dtype,
            record=record,
            target=target,
        )


def _with_bias(name, node, layer: _Layer, constant: np.ndarray, arrival: int, disc: Discretization) -> _Layer:
    """The layer with the hop's constant term as its constant input: ``bias = R b`` (``R w_in b`` into a current
    synapse), switched on with the layer's first input under the frameworks' pulse reading (label ``arrival``:
    a framework starts every layer, bias included, at its own step 0), at t = 0 under NIR's Dirac reading."""
    kind = chain.type_name(node)
    params = {**layer.spec.params, "bias": layer.bias_gain * constant}
    onset = arrival if disc.spikes == "pulse" else 0
    if onset:
        params["bias_onset"] = onset * disc.dt
    spec = _checked_layer(
        name,
        kind,
        get_spec(layer.spec.model),
        layer.spec.n,
        params,
        layer.spec.synapse,
        layer.spec.reset,
        layer.scale,
        disc,
    )
    where = "its synaptic current (tau_syn dI/dt = w_in b - I)" if layer.current else "its membrane"
    when = f"from step {onset} (its first input's arrival: the framework's step 0)" if onset else "from t = 0"
    note = (
        f"{layer.note}; the biases of its hop (Affine, Conv; |b| <= {np.max(np.abs(constant)):g}) are a "
        f"constant input to {where}, {when}"
    )
    return _Layer(spec, layer.scale, layer.held, layer.current, note, layer.bias_gain)


#: per-neuron float64 arrays a layer's conversion builds (time constants, potentials, scale, bias gain, r, w_in, ...)
PER_NEURON_ARRAYS = 12


def _check_layer_memory(name: str, node, hop: chain.Hop, n: int) -> None:
    """Refuse, before it is built, a layer whose arrays would not fit in memory (sizes a file declares): its
    per-neuron parameters, the identity matrix of a hop without a linear node, the scaled weights and their
    transposed copy, and per-synapse delays."""
    synapses = n * hop.n_in
    entries = PER_NEURON_ARRAYS * n + (synapses if hop.matrix is None else 0) + 2 * synapses
    if hop.post_delay is not None:
        entries += 2 * synapses
    chain.check_dense(
        name,
        chain.type_name(node),
        entries,
        f"a layer of {n} neurons fed by {hop.n_in} (its weights, delays and parameters)",
    )


def from_nir(graph: nir.NIRGraph | Path | str, discretization: Discretization) -> ImportedNetwork:
    """Read a NIR graph (an ``nir.NIRGraph`` or a path to a ``.nir`` file) under ``discretization``.

    Every import states the discretization the graph came from
    (:class:`~biosnn.nir.Discretization`: ``exact(dt)``, ``euler(dt)``,
    ``snntorch()``, ``norse(dt)``, ``spikingjelly(dt)``); there is no default.
    """
    if not isinstance(discretization, Discretization):
        raise BiosnnInputError(
            "from_nir: state the discretization the graph came from: "
            "biosnn.nir.Discretization.exact(dt), .euler(dt), .snntorch(), .norse(dt) or "
            f".spikingjelly(dt); got {discretization!r}"
        )
    if isinstance(graph, (str, os.PathLike)):
        graph = read(graph)
    if chain.type_name(graph) != "NIRGraph":
        raise BiosnnInputError(f"from_nir: expected a nir.NIRGraph or a .nir path, got {type(graph).__name__}")
    check_numbers(graph)
    order = chain.path(graph)
    shape, hops, neuron_names = chain.hops(graph, order, discretization.dt)
    layers, weights, delays, notes, converted = [], [], [], [], []
    for k, (hop, name) in enumerate(zip(hops, neuron_names)):
        n = hop.matrix.shape[0] if hop.matrix is not None else hop.n_in
        _check_layer_memory(name, graph.nodes[name], hop, n)
        converted.append(
            NEURON_CONVERTERS[chain.type_name(graph.nodes[name])](name, graph.nodes[name], n, k, discretization)
        )
    arrivals, _ = framework_alignment(converted[0].held, [layer.current for layer in converted])
    for k, (hop, name, layer) in enumerate(zip(hops, neuron_names, converted)):
        m = hop.matrix if hop.matrix is not None else np.eye(hop.n_in)
        n = m.shape[0]
        if hop.bias is not None:
            layer = _with_bias(name, graph.nodes[name], layer, hop.bias, arrivals[k], discretization)
        if layer.held and (hop.pre_delay is not None or hop.post_delay is not None):
            raise BiosnnInputError(
                f"NIR node {name!r}: a Delay on the graph's input into a first layer that takes "
                "the input as a held drive (one-step pulses); delay the input raster instead"
            )
        layers.append(layer.spec)
        weights.append((m * layer.scale[:, None]).T.copy())
        if hop.post_delay is not None:
            d = np.broadcast_to(hop.post_delay[None, :], (hop.n_in, n)).copy()
            delays.append(d if hop.pre_delay is None else d + hop.pre_delay[:, None])
        else:
            delays.append(hop.pre_delay)
        notes.append(layer.note)
        if hop.pre_delay is not None or hop.post_delay is not None:
            notes.append(
                f"  delays into {name!r}: "
                + ("per presynaptic neuron" if hop.post_delay is None else "per synapse")
                + f", {np.max(delays[-1]):g} s at most"
            )
    try:
        net = FeedForwardNet(int(np.prod(shape, dtype=np.int64)), tuple(layers), tuple(weights), tuple(delays))
    except BiosnnInputError as err:
        raise BiosnnInputError(f"NIR graph ({' -> '.join(neuron_names)}): {err}") from None
    notes.insert(0, f"read as {discretization.describe()}")
    return ImportedNetwork(
        net,
        discretization,
        tuple(neuron_names),
        chain.sample_shape(graph, order),
        converted[0].held,
        tuple(layer.current for layer in converted),
        tuple(notes),
    )
