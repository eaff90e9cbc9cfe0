"""Feed-forward networks of registered models, described once for both backends.

A :class:`FeedForwardNet` is ``n_inputs`` spike sources followed by layers.
Hop l carries the spikes of layer l-1 (or of the inputs) to layer l through
``weights[l]`` (``[n_{l-1}, n_l]``), after the one-step synaptic latency of the
exact schedule plus the hop's axonal delays ``delays[l]``: ``None``, one delay
per presynaptic neuron ``[n_{l-1}]``, or one per synapse ``[n_{l-1}, n_l]``, in
seconds, whole steps after Brian2's rounding ``int(d/dt + 0.5)``
(``biosnn/models/axonal_delay.py``). Each layer names a model of the registry and
its parameters (SI; per-neuron arrays where the spec allows). The readout is
the last layer: spike counts, or, for a non-spiking ``li`` layer, its membrane
potential after the last step.

On disk: one ``.npz`` holding the arrays (``weights_<l>``, ``delays_<l>``,
``param_<l>_<name>`` for per-neuron values) and a JSON ``description`` (format
tag, input count, layers with model, size, synapse, reset and scalar
parameters, which arrays hold the rest). :meth:`FeedForwardNet.load`
validates shapes, units and ranges and names what is wrong.

NIR (Pedersen et al. 2024) chains map onto this (``biosnn/nir``,
``docs/nir.md``): ``Affine``/``Linear``/``Scale``/``Conv`` -> ``weights``,
``LIF``/``CubaLIF`` -> ``lif`` with ``delta``/``current`` synapses (NIR's tau,
v_threshold, v_leak, r map to tau_m, v_th, v_rest and a weight scale),
``LI`` -> ``li``, ``IF`` -> ``if``, ``I`` -> ``integrator``, ``Affine`` biases
-> the layers' ``bias`` (a constant input), ``Delay`` -> ``delays`` (whole
steps). Not everything NIR states fits, and what does not is refused, never
approximated: ``Threshold``, recurrence, branches and merges.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import BiosnnInputError
from ..core.inputs import check_weights
from ..core.io import atomic_save_npz, load_npz
from ..core.noise import EscapeNoise, WhiteNoise
from ..core.spec import Output, Structure
from ..core.units import check_count
from . import get_spec
from .axonal_delay import DELAY

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "biosnn.feedforward/1"  # a file-format tag (saved networks carry it), not a module path: never renamed

#: a dt for checks that do not depend on it (only PLIF's ``tau_m > dt`` does, and holds for any real tau)
_ANY_DT = 1e-12


def hop_accepts_delays(layer: LayerSpec) -> bool:
    """Axonal delays need spikes into point neurons: not a held drive, not a cascade reading its senders."""
    spec = get_spec(layer.model)
    return spec.structure is Structure.POINT and not spec.synapse(layer.synapse).held


@dataclass(frozen=True)
class LayerSpec:
    model: str
    n: int
    params: dict = field(default_factory=dict)
    synapse: str | None = None  # default: the model's first synapse kind
    reset: str | None = None  # default: the model's first reset
    #: membrane white noise added in both backends (``biosnn/core/noise.py``); None: a deterministic layer
    noise: WhiteNoise | None = None
    #: escape noise: a stochastic threshold (``biosnn/core/noise.py``); None: the deterministic threshold
    escape: EscapeNoise | None = None

    def resolved_synapse(self) -> str:
        return get_spec(self.model).synapse(self.synapse).name

    def resolved_reset(self) -> str:
        return get_spec(self.model).check_reset(self.reset)


@dataclass(frozen=True)
class FeedForwardNet:
    n_inputs: int
    layers: tuple[LayerSpec, ...]
    weights: tuple[np.ndarray, ...]
    delays: tuple[np.ndarray | None, ...] | None = None

    def __post_init__(self) -> None:
        check_count(self.n_inputs, "n_inputs")
        if len(self.layers) != len(self.weights) or not self.layers:
            raise BiosnnInputError(f"{len(self.layers)} layers but {len(self.weights)} weight matrices")
        delays = self.delays if self.delays is not None else (None,) * len(self.layers)
        if len(delays) != len(self.layers):
            raise BiosnnInputError(f"{len(self.layers)} layers but {len(delays)} delay entries")
        object.__setattr__(self, "delays", tuple(delays))
        n_prev = self.n_inputs
        checked = []
        for k, (layer, w, d) in enumerate(zip(self.layers, self.weights, delays)):
            check_count(layer.n, f"layer {k}: n")
            w = check_weights(w)
            checked.append(w)
            if w.shape != (n_prev, layer.n):
                raise BiosnnInputError(f"layer {k}: weights have shape {w.shape}, expected {(n_prev, layer.n)}")
            spec = get_spec(layer.model)
            layer.resolved_reset()
            if spec.synapse(layer.synapse).held and k > 0:
                raise BiosnnInputError(
                    f"layer {k}: held input has no spikes to pass between layers "
                    "(only the first layer can take a held drive)"
                )
            if k < len(self.layers) - 1 and spec.output is Output.MEMBRANE:
                raise BiosnnInputError(f"layer {k}: the non-spiking model {layer.model!r} can only be the readout")
            previous = get_spec(self.layers[k - 1].model) if k > 0 else None
            if previous is not None and previous.output is Output.CHARGES and spec.structure is not Structure.CASCADE:
                raise BiosnnInputError(
                    f"layer {k}: a {previous.name} layer's spikes carry a charge read through its "
                    f"own cascade; only a cascade layer can receive them, not {layer.model!r}"
                )
            if layer.noise is not None and spec.membrane_noise is None:
                raise BiosnnInputError(f"layer {k}: the {layer.model!r} model takes no membrane noise")
            if layer.escape is not None and spec.threshold_distance is None:
                raise BiosnnInputError(f"layer {k}: the {layer.model!r} model takes no escape noise")
            if d is not None and not hop_accepts_delays(layer):
                raise BiosnnInputError(
                    f"hop {k}: axonal delays into this {layer.model!r} layer are not supported "
                    "(a held drive has no spikes to delay; cascade layers read their senders' "
                    "cascades)"
                )
            if previous is not None and previous.output is Output.CHARGES:
                sender = previous.cascade.time_constants(previous.resolve(self.layers[k - 1].params, _ANY_DT))
                receiver = spec.cascade.time_constants(spec.resolve(layer.params, _ANY_DT))
                if not np.array_equal(sender, receiver):
                    raise BiosnnInputError(
                        f"layer {k}: a cascade layer reads its sender's own cascade, so their "
                        f"bucket time constants must be equal: {sender.tolist()} s vs "
                        f"{receiver.tolist()} s"
                    )
            if d is not None:
                d = np.asarray(d, dtype=np.float64)
                if d.shape not in ((n_prev,), (n_prev, layer.n)):
                    raise BiosnnInputError(
                        f"hop {k}: delays must have shape {(n_prev,)} (per neuron) or {(n_prev, layer.n)} "
                        f"(per synapse), got {d.shape}"
                    )
                if not np.all(np.isfinite(d)):
                    raise BiosnnInputError(f"hop {k}: delays must be finite and >= 0 s")
                DELAY.check(d, f"hop {k}")
            n_prev = layer.n
        object.__setattr__(self, "weights", tuple(checked))

    @property
    def readout(self) -> str:
        """``"spike_count"`` or ``"final_membrane"`` (a non-spiking last layer)."""
        return "final_membrane" if get_spec(self.layers[-1].model).output is Output.MEMBRANE else "spike_count"

    def resolved_params(self, k: int, dt: float) -> dict:
        layer = self.layers[k]
        spec = get_spec(layer.model)
        params = spec.resolve(layer.params, dt)
        for p in spec.parameters:
            if p.per_neuron and np.ndim(params[p.name]) == 1 and np.size(params[p.name]) != layer.n:
                raise BiosnnInputError(
                    f"layer {k}: {p.name} has {np.size(params[p.name])} values for {layer.n} neurons"
                )
        if spec.cascade is not None:
            spec.cascade.read_weights(params, layer.n, self.n_inputs if k == 0 else self.layers[k - 1].n)
        return params

    # -- files ----------------------------------------------------------
    def save(self, path: Path | str) -> None:
        atomic_save_npz(path, self._arrays())

    def digest(self) -> str:
        """SHA-256 of everything that defines the network (what :meth:`save` writes)."""
        h = hashlib.sha256()
        for name, value in sorted(self._arrays().items()):
            h.update(name.encode())
            h.update(np.ascontiguousarray(value).tobytes())
        return h.hexdigest()

    def _arrays(self) -> dict:
        arrays, layers = {}, []
        for k, layer in enumerate(self.layers):
            scalars = {}
            for name, value in layer.params.items():
                if np.ndim(value):
                    arrays[f"param_{k}_{name}"] = np.asarray(value, dtype=np.float64)
                else:
                    scalars[name] = float(value)
            layers.append(
                dict(
                    model=layer.model,
                    n=int(layer.n),
                    synapse=layer.synapse,
                    reset=layer.reset,
                    params=scalars,
                    array_params=sorted(n for n in layer.params if np.ndim(layer.params[n])),
                    **({} if layer.noise is None else {"noise": layer.noise.to_dict()}),
                    **({} if layer.escape is None else {"escape": layer.escape.to_dict()}),
                )
            )
            arrays[f"weights_{k}"] = np.asarray(self.weights[k], dtype=np.float64)
            if self.delays[k] is not None:
                arrays[f"delays_{k}"] = np.asarray(self.delays[k], dtype=np.float64)
        description = dict(
            format=FORMAT,
            n_inputs=int(self.n_inputs),
            layers=layers,
            units="SI (s); v dimensionless",
            readout=self.readout,
        )
        arrays["description"] = np.str_(json.dumps(description))
        return arrays

    @classmethod
    def load(cls, path: Path | str) -> FeedForwardNet:
        path = os.fspath(path)
        arrays = load_npz(path, "network")
        if "description" not in arrays:
            raise BiosnnInputError(f"network file {path!r} has no 'description'")
        try:
            description = json.loads(str(arrays.pop("description")))
        except ValueError as err:
            raise BiosnnInputError(f"network file {path!r}: unreadable description: {err}") from None
        if not isinstance(description, dict) or description.get("format") != FORMAT:
            found = description.get("format") if isinstance(description, dict) else type(description).__name__
            raise BiosnnInputError(f"network file {path!r}: format {found!r}, expected {FORMAT!r}")
        layers, weights, delays = [], [], []
        try:
            for k, entry in enumerate(description["layers"]):
                params = dict(entry["params"])
                for name in entry.get("array_params", []):
                    params[name] = arrays[f"param_{k}_{name}"]
                if float(entry["n"]) != int(entry["n"]):
                    raise ValueError(f"layer {k}: n={entry['n']!r} is not an integer")
                noise = WhiteNoise.from_dict(entry["noise"]) if "noise" in entry else None
                escape = EscapeNoise.from_dict(entry["escape"]) if "escape" in entry else None
                layers.append(
                    LayerSpec(entry["model"], int(entry["n"]), params, entry["synapse"], entry["reset"], noise, escape)
                )
                weights.append(arrays[f"weights_{k}"])
                delays.append(arrays.get(f"delays_{k}"))
            net = cls(int(description["n_inputs"]), tuple(layers), tuple(weights), tuple(delays))
        except BiosnnInputError as err:
            raise BiosnnInputError(f"network file {path!r}: {err}") from None
        except KeyError as err:
            raise BiosnnInputError(f"network file {path!r} lacks {err}") from None
        except (TypeError, AttributeError, ValueError) as err:
            raise BiosnnInputError(
                f"network file {path!r}: malformed description ({type(err).__name__}: {err})"
            ) from None
        for k in range(len(net.layers)):
            net.resolved_params(k, dt=_ANY_DT)  # ranges and constraints
        return net
