"""A NIR graph as a chain of hops: what biosnn's feed-forward description can hold.

A :class:`~biosnn.models.network.FeedForwardNet` is a chain: inputs, then layers, each
fed by the one before through a weight matrix and optional axonal delays. A
NIR graph maps onto it when its nodes form a single path from its ``Input`` to
its ``Output`` in which neuron nodes (``LIF``, ``CubaLIF``, ``LI``,
``CubaLI``, ``IF``, ``I``) alternate with *hops*: runs of linear nodes and delays.

A hop's linear nodes compose into one affine map ``y = M x + c`` (``M``:
``[n_out, n_in]``, NIR's orientation): ``Linear`` (``W``), ``Affine``
(``W``, bias ``b``), ``Scale`` (``diag(s)``), ``Flatten`` (the identity on
C-ordered vectors), ``Conv1d``/``Conv2d`` (their dense matrix, built by
convolving the identity basis: exact, each entry is one kernel weight; their
bias is the convolution of a zero input, one value per channel at every
position), ``SumPool2d``/``AvgPool2d`` (likewise, from torch's ``avg_pool2d``); each map applies to the constant so far (``W (M x + c) + b``). The
constant ``c`` is a constant input to the neurons the hop feeds. A
``Delay`` before the hop's first linear node delays each presynaptic neuron
(biosnn's per-neuron delays), one after its last linear node each postsynaptic
neuron (per-synapse delays constant down each column); ``y(t) = x(t - d)``.

Anything else is refused with the node's name and the reason: node types
biosnn cannot hold before any matrix is built, sizes as each node is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import BiosnnInputError
from ..core.inputs import as_numpy
from ..core.schedule import is_whole_steps

if TYPE_CHECKING:
    from typing import Any

    import nir
    import torch

#: neuron node types; their converters live in ``biosnn/nir/importer.py``
NEURON_TYPES = ("LIF", "CubaLIF", "LI", "CubaLI", "IF", "I")

#: the largest dense matrix a convolution becomes (entries; 8 bytes each)
MAX_DENSE_ENTRIES = 20_000_000
#: bytes per entry of the dense float64 matrices an import builds
ENTRY_BYTES = 8

#: node types biosnn cannot represent, and why
UNSUPPORTED = {
    "Threshold": "a stand-alone Heaviside z = H(v - v_threshold) (NIR) has no membrane and no reset; written after an "
    "LI it is a level that stays 1 while v is above threshold (Spyx's reset-free LIF), a current in "
    "continuous time rather than spike events, which biosnn's layers neither emit nor receive",
    "NIRGraph": "a subgraph (e.g. snntorch's RLeaky/RSynaptic recurrent layer): recurrent connections are not part "
    "of biosnn's feed-forward networks",
}


def array(value: np.ndarray | torch.Tensor | float) -> np.ndarray:
    """A node field (numpy array, torch tensor or number) as a float64 array."""
    return np.asarray(as_numpy(value), dtype=np.float64)


def type_name(node: Any) -> str:
    return type(node).__name__


@dataclass
class Hop:
    """The linear map and delays between two neuron nodes (or the input and the first neuron)."""

    nodes: list = field(default_factory=list)  # node names, in order
    matrix: np.ndarray | None = None  # [n_out, n_in]; None until a linear node or the size is known
    pre_delay: np.ndarray | None = None  # [n_in] seconds
    post_delay: np.ndarray | None = None  # [n_out] seconds
    bias: np.ndarray | None = None  # [n_out]: the constant term of the hop's affine map, or None
    n_in: int = 0
    shape: tuple = ()  # shape of the signal at the hop's end


def path(graph: nir.NIRGraph) -> list[str]:
    """The node names from the graph's single ``Input`` to its single ``Output``, in order; every node must
    lie on that path (a chain)."""
    nodes, edges = dict(graph.nodes), [tuple(e) for e in graph.edges]
    for a, b in edges:
        for name in (a, b):
            if name not in nodes:
                raise BiosnnInputError(f"NIR graph: edge ({a!r}, {b!r}) names a node {name!r} the graph does not hold")
    inputs = [k for k, n in nodes.items() if type_name(n) == "Input"]
    outputs = [k for k, n in nodes.items() if type_name(n) == "Output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise BiosnnInputError(
            f"NIR graph: biosnn networks have one input and one output; this graph has "
            f"{len(inputs)} Input node(s) {inputs} and {len(outputs)} Output node(s) {outputs}"
        )
    succ: dict = {k: [] for k in nodes}
    pred: dict = {k: [] for k in nodes}
    for a, b in dict.fromkeys(edges):
        succ[a].append(b)
        pred[b].append(a)
    for name in nodes:
        if len(succ[name]) > 1:
            raise BiosnnInputError(
                f"NIR node {name!r} ({type_name(nodes[name])}) feeds {len(succ[name])} nodes "
                f"{succ[name]}: biosnn networks are chains (no branches)"
            )
        if len(pred[name]) > 1:
            raise BiosnnInputError(
                f"NIR node {name!r} ({type_name(nodes[name])}) is fed by {len(pred[name])} nodes "
                f"{pred[name]}: biosnn networks are chains (no merges or recurrent connections)"
            )
    order, name = [], inputs[0]
    while True:
        if name in order:
            raise BiosnnInputError(f"NIR graph: node {name!r} closes a cycle; biosnn networks are feed-forward")
        order.append(name)
        if name == outputs[0]:
            break
        if not succ[name]:
            raise BiosnnInputError(
                f"NIR node {name!r} ({type_name(nodes[name])}) leads nowhere: the path from "
                f"{inputs[0]!r} does not reach the output {outputs[0]!r}"
            )
        name = succ[name][0]
    stray = [k for k in nodes if k not in order]
    if stray:
        raise BiosnnInputError(f"NIR graph: node(s) {stray} are not on the path from the input to the output")
    return order


def input_shape(node: nir.Input) -> tuple:
    shape = node.input_type["input"] if node.input_type else None
    if shape is None:
        raise BiosnnInputError("NIR graph: the Input node has no shape")
    return _dims("the Input node's shape", shape)


def _dims(what: str, shape) -> tuple:
    """A declared shape as positive whole numbers (a file may declare anything)."""
    dims = np.atleast_1d(np.asarray(shape))
    if (
        dims.ndim != 1
        or dims.dtype.kind not in "iuf"
        or not np.all(np.isfinite(dims))
        or np.any(dims < 1)
        or np.any(dims != np.floor(dims))
    ):
        raise BiosnnInputError(f"NIR graph: {what} is {np.asarray(shape).tolist()!r}; expected positive whole numbers")
    return tuple(int(s) for s in dims)


def check_dense(name: str, kind: str | None, n_entries: int, what: str) -> None:
    """Refuse, before it is allocated, a dense float64 build of ``n_entries`` entries at NIR node ``name`` (of type
    ``kind``) that would not fit in memory (a small file can declare shapes whose dense matrices take terabytes)."""
    from ..core.resources import FILE_HINT, check_fits

    check_fits(int(n_entries) * ENTRY_BYTES, f"NIR node {name!r}{f' ({kind})' if kind else ''}: {what}", FILE_HINT)


def sample_shape(graph: nir.NIRGraph, order: list[str]) -> tuple:
    """The shape one sample of input has: what the node after ``Input`` declares it takes when its size
    agrees (a convolution's ``(C, H, W)``; norse writes its Input node as ``[1, n]`` with the batch
    dimension, the node after it takes ``[n]``), else the Input node's."""
    shape = input_shape(graph.nodes[order[0]])
    nxt = graph.nodes[order[1]] if len(order) > 1 else None
    declared = (nxt.input_type or {}).get("input") if nxt is not None and isinstance(nxt.input_type, dict) else None
    if declared is not None:
        declared = tuple(int(s) for s in np.atleast_1d(np.asarray(declared)))
        if _size(declared) == _size(shape):
            return declared
    return shape


def _size(shape) -> int:
    return int(np.prod(shape, dtype=object)) if len(shape) else 1  # Python integers: no int64 overflow


def _apply(hop: Hop, name: str, m: np.ndarray, shape: tuple) -> None:
    if hop.post_delay is not None:
        raise BiosnnInputError(
            f"NIR node {name!r}: a linear map after a Delay within one hop; biosnn delays act on "
            "the presynaptic spikes or on each postsynaptic neuron, not between two linear maps"
        )
    if m.shape[1] != _size(hop.shape):
        raise BiosnnInputError(
            f"NIR node {name!r}: takes {m.shape[1]} values but receives {_size(hop.shape)} (shape {hop.shape})"
        )
    if hop.matrix is not None:
        check_dense(
            name,
            None,
            m.shape[0] * hop.matrix.shape[1],
            f"composing its {m.shape[0]} x {m.shape[1]} "
            f"map with the hop's {hop.matrix.shape[0]} x {hop.matrix.shape[1]} matrix",
        )
    hop.matrix = m if hop.matrix is None else m @ hop.matrix
    if hop.bias is not None:  # an affine map after an affine map: W (M x + c) = W M x + W c
        hop.bias = m @ hop.bias
    hop.shape = shape


def _bias_values(node) -> np.ndarray:
    """A node's bias as a flat float64 array (none given: 0)."""
    return array(node.bias if node.bias is not None else 0.0).ravel()


def _add_bias(hop: Hop, name: str, b: np.ndarray) -> None:
    """Add a node's constant term (after its linear map was applied): ``y = W x + b``."""
    if not np.all(np.isfinite(b)):
        raise BiosnnInputError(f"NIR node {name!r}: its bias holds NaN or inf")
    if np.any(b != 0):
        hop.bias = b.copy() if hop.bias is None else hop.bias + b


def _weight(name: str, node, field_name: str = "weight") -> np.ndarray:
    w = array(getattr(node, field_name))
    if w.ndim != 2:
        raise BiosnnInputError(
            f"NIR node {name!r} ({type_name(node)}): {field_name} has shape {w.shape}; biosnn "
            "takes 2-D weights [out, in]"
        )
    if not np.all(np.isfinite(w)):
        raise BiosnnInputError(f"NIR node {name!r} ({type_name(node)}): {field_name} holds NaN or inf")
    return w


def _linear(hop, name, node):
    w = _weight(name, node)
    _apply(hop, name, w, (w.shape[0],))


def _affine(hop, name, node):
    """``y = W x + b``: the bias is a constant input to the neurons the hop feeds (their ``bias`` parameter)."""
    w = _weight(name, node)
    bias = _bias_values(node)
    if bias.size not in (1, w.shape[0]):
        raise BiosnnInputError(f"NIR node {name!r} (Affine): {bias.size} bias values for {w.shape[0]} outputs")
    _apply(hop, name, w, (w.shape[0],))
    _add_bias(hop, name, np.broadcast_to(bias, (w.shape[0],)).astype(np.float64))


def _scale(hop, name, node):
    s = array(node.scale).ravel()
    n = _size(hop.shape)
    if s.size not in (1, n) or not np.all(np.isfinite(s)):
        raise BiosnnInputError(f"NIR node {name!r} (Scale): {s.size} finite factors expected for {n} values")
    check_dense(name, type_name(node), n * n, f"its {n} x {n} diagonal matrix")
    _apply(hop, name, np.diag(np.broadcast_to(s, (n,)).astype(np.float64)), hop.shape)


def _flatten(hop, name, node):
    n = _size(hop.shape)
    out = node.output_type.get("output") if node.output_type else None
    shape = (n,) if out is None else _dims(f"node {name!r}'s output shape", out)
    if _size(shape) != n:
        raise BiosnnInputError(f"NIR node {name!r} (Flatten): {n} values in, {_size(shape)} out")
    hop.shape = shape  # the identity on C-ordered vectors


def _identity(hop, name, node):
    pass


def _conv(hop, name, node):
    import torch

    dims = 1 if type_name(node) == "Conv1d" else 2
    w = array(node.weight)
    if w.ndim != dims + 2:
        raise BiosnnInputError(f"NIR node {name!r} ({type_name(node)}): weight has shape {w.shape}")
    groups = int(node.groups)
    if groups < 1 or w.shape[0] % groups:
        raise BiosnnInputError(
            f"NIR node {name!r} ({type_name(node)}): groups = {node.groups!r} does not divide its "
            f"{w.shape[0]} output channels"
        )
    # the input has w.shape[1] channels per group (torch's layout [out, in / groups, *kernel]); nir 1.0.8
    # declares input_type with w.shape[1] channels whatever the groups, so only its spatial size is used
    declared = node.input_type.get("input") if node.input_type else None
    spatial = (
        np.atleast_1d(np.asarray(node.input_shape))
        if getattr(node, "input_shape", None) is not None
        else np.atleast_1d(np.asarray(declared))[1:]
        if declared is not None
        else None
    )
    if spatial is None or len(spatial) != dims:
        raise BiosnnInputError(f"NIR node {name!r} ({type_name(node)}): no {dims}-D input_shape")
    shape = (w.shape[1] * groups, *_dims(f"node {name!r}'s input_shape", spatial))
    n_in = _size(shape)
    if n_in != _size(hop.shape):
        raise BiosnnInputError(
            f"NIR node {name!r} ({type_name(node)}): expects input {shape} ({n_in} values), receives {_size(hop.shape)}"
        )
    padding = node.padding if isinstance(node.padding, str) else tuple(int(p) for p in np.atleast_1d(node.padding))
    conv = torch.nn.functional.conv1d if dims == 1 else torch.nn.functional.conv2d
    kwargs = dict(
        stride=tuple(int(s) for s in np.atleast_1d(node.stride)),
        padding=padding,
        dilation=tuple(int(d) for d in np.atleast_1d(node.dilation)),
        groups=groups,
    )
    # the identity basis (n_in x n_in) and the probe's output: at most every position of every channel, the
    # input padded by the largest padding on every side
    pad = 0 if isinstance(padding, str) else max((0, *padding))
    check_dense(
        name,
        type_name(node),
        n_in * n_in + w.shape[0] * _size(tuple(d + 2 * pad for d in shape[1:])),
        f"its dense matrix (built from the {n_in} x {n_in} identity basis)",
    )
    try:
        probe = conv(torch.zeros((1, *shape), dtype=torch.float64), torch.as_tensor(w), **kwargs)
    except (RuntimeError, ValueError) as err:  # a stride, padding or dilation torch cannot take
        raise BiosnnInputError(
            f"NIR node {name!r} ({type_name(node)}): not a convolution torch can compute ({kwargs}): {err}"
        ) from None
    n_out = int(probe[0].numel())
    if n_in * n_out > MAX_DENSE_ENTRIES:
        raise BiosnnInputError(
            f"NIR node {name!r} ({type_name(node)}): its dense matrix would hold "
            f"{n_in * n_out:.3g} entries (> {MAX_DENSE_ENTRIES:.3g}); biosnn keeps weights dense"
        )
    check_dense(
        name,
        type_name(node),
        n_in * n_in + 2 * n_in * n_out,
        f"its dense {n_out} x {n_in} matrix (built from the {n_in} x {n_in} identity basis)",
    )
    bias = _bias_values(node)
    if bias.size not in (1, w.shape[0]):
        raise BiosnnInputError(
            f"NIR node {name!r} ({type_name(node)}): {bias.size} bias values for {w.shape[0]} output channels"
        )
    with torch.no_grad():
        basis = torch.eye(n_in, dtype=torch.float64).reshape(n_in, *shape)
        dense = conv(basis, torch.as_tensor(w), **kwargs).reshape(n_in, n_out).T.contiguous().numpy()
        # one bias per output channel, the same at every position: the convolution of a zero input
        channel_bias = torch.as_tensor(np.broadcast_to(bias, (w.shape[0],)).copy())
        constant = (
            conv(torch.zeros((1, *shape), dtype=torch.float64), torch.as_tensor(w), bias=channel_bias, **kwargs)
            .reshape(-1)
            .numpy()
        )
    _apply(hop, name, dense, tuple(probe.shape[1:]))
    _add_bias(hop, name, constant)


def _pool(hop, name, node):
    """``SumPool2d`` / ``AvgPool2d`` on a ``(C, H, W)`` signal: the dense matrix of torch's ``avg_pool2d``
    (``count_include_pad=True``, torch's default: zero padding counts in the average) applied to the identity
    basis, times the kernel's area for the sum. Each entry is 0, 1 (sum) or 1 / area (average)."""
    import torch

    if len(hop.shape) != 3:
        raise BiosnnInputError(
            f"NIR node {name!r} ({type_name(node)}): pools a (C, H, W) signal; it receives shape {hop.shape}"
        )
    kernel = tuple(int(k) for k in np.broadcast_to(np.atleast_1d(node.kernel_size), (2,)))
    stride = tuple(int(s) for s in np.broadcast_to(np.atleast_1d(node.stride), (2,)))
    padding = tuple(int(p) for p in np.broadcast_to(np.atleast_1d(node.padding), (2,)))
    if min(kernel) < 1 or min(stride) < 1 or min(padding) < 0 or any(2 * p > k for p, k in zip(padding, kernel)):
        raise BiosnnInputError(
            f"NIR node {name!r} ({type_name(node)}): kernel {kernel}, stride {stride}, padding "
            f"{padding}: kernel and stride must be >= 1, padding at most half the kernel"
        )
    n_in = _size(hop.shape)
    check_dense(
        name, type_name(node), 2 * n_in * n_in, f"its dense matrix (built from the {n_in} x {n_in} identity basis)"
    )  # the basis, and a pooled output no larger than its input (padding <= kernel / 2)
    pool = lambda x: torch.nn.functional.avg_pool2d(x, kernel, stride, padding, count_include_pad=True)  # noqa
    out_shape = tuple(pool(torch.zeros((1, *hop.shape), dtype=torch.float64)).shape[1:])
    if n_in * _size(out_shape) > MAX_DENSE_ENTRIES:
        raise BiosnnInputError(
            f"NIR node {name!r} ({type_name(node)}): its dense matrix would hold "
            f"{n_in * _size(out_shape):.3g} entries (> {MAX_DENSE_ENTRIES:.3g})"
        )
    with torch.no_grad():
        basis = torch.eye(n_in, dtype=torch.float64).reshape(n_in, *hop.shape)
        dense = pool(basis).reshape(n_in, -1).T.contiguous().numpy()
    if type_name(node) == "SumPool2d":
        dense = dense * (kernel[0] * kernel[1])
    _apply(hop, name, dense, out_shape)


def _delay(hop, name, node, dt: float):
    d = array(node.delay).ravel()
    n = _size(hop.shape)
    if d.size not in (1, n):
        raise BiosnnInputError(f"NIR node {name!r} (Delay): {d.size} delays for {n} signals")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise BiosnnInputError(f"NIR node {name!r} (Delay): delays must be finite and >= 0 s")
    if not is_whole_steps(d, dt):
        steps = d / dt
        k = int(np.argmax(np.abs(steps - np.rint(steps)) / np.maximum(1.0, steps)))
        raise BiosnnInputError(
            f"NIR node {name!r} (Delay): delay {d[k]!r} s is {steps[k]:.6g} steps of "
            f"dt = {dt!r} s; biosnn delays are whole steps and it does not round them silently: "
            "pick a dt that divides every delay"
        )
    d = np.broadcast_to(d, (n,)).astype(np.float64)
    if hop.matrix is None:
        hop.pre_delay = d if hop.pre_delay is None else hop.pre_delay + d
    else:
        hop.post_delay = d if hop.post_delay is None else hop.post_delay + d


#: the converter of each hop node type (a NIR type name -> how it changes the hop)
HOP_NODES = {
    "Linear": _linear,
    "Affine": _affine,
    "Scale": _scale,
    "Flatten": _flatten,
    "Identity": _identity,
    "Conv1d": _conv,
    "Conv2d": _conv,
    "SumPool2d": _pool,
    "AvgPool2d": _pool,
}


def hops(graph: nir.NIRGraph, order: list[str], dt: float) -> tuple[tuple, list[Hop], list[str]]:
    """Split the path into hops and neuron nodes: ``(input shape, hops, neuron node names)``, one hop per
    neuron node (the one feeding it)."""
    nodes = graph.nodes
    for name in order[1:]:  # every node known and supported before any matrix is built
        kind = type_name(nodes[name])
        if kind in UNSUPPORTED:
            raise BiosnnInputError(f"NIR node {name!r} ({kind}) is not supported: {UNSUPPORTED[kind]}")
        if kind not in HOP_NODES and kind not in NEURON_TYPES and kind not in ("Delay", "Output"):
            raise BiosnnInputError(f"NIR node {name!r} has type {kind}, which biosnn does not know")
    shape = input_shape(nodes[order[0]])
    hop = Hop(n_in=_size(shape), shape=shape)
    found_hops, neurons = [], []
    for name in order[1:]:
        node = nodes[name]
        kind = type_name(node)
        if kind == "Output":
            if neurons and hop.nodes:
                raise BiosnnInputError(
                    f"NIR graph: node(s) {hop.nodes} after the last neuron node {neurons[-1]!r} "
                    "have no biosnn layer (a readout must be a neuron node: LI for a membrane "
                    "readout)"
                )
            declared = (node.output_type or {}).get("output") if isinstance(node.output_type, dict) else None
            if (
                neurons
                and declared is not None
                and np.size(declared)
                and _size(tuple(np.atleast_1d(declared))) != _size(found_hops[-1].shape)
            ):
                raise BiosnnInputError(
                    f"NIR node {name!r} (Output): declares shape "
                    f"{tuple(int(s) for s in np.atleast_1d(declared))}, but the last neuron node "
                    f"{neurons[-1]!r} has {_size(found_hops[-1].shape)} neurons"
                )
            break
        if kind in NEURON_TYPES:
            found_hops.append(hop)
            neurons.append(name)
            hop = Hop(n_in=_size(found_hops[-1].shape), shape=found_hops[-1].shape)
            continue
        if kind == "Delay":
            _delay(hop, name, node, dt)
        elif kind in HOP_NODES:
            HOP_NODES[kind](hop, name, node)
        elif kind in UNSUPPORTED:
            raise BiosnnInputError(f"NIR node {name!r} ({kind}) is not supported: {UNSUPPORTED[kind]}")
        else:
            raise BiosnnInputError(f"NIR node {name!r} has type {kind}, which biosnn does not know")
        hop.nodes.append(name)
    if not neurons:
        raise BiosnnInputError("NIR graph: no neuron node (LIF, CubaLIF, LI, CubaLI, IF) between input and output")
    return shape, found_hops, neurons
