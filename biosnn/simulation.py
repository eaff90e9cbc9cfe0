"""``biosnn.simulate`` and ``biosnn.simulate_network``: one entry point per job, two backends.

A single layer is a one-layer :class:`~biosnn.models.network.FeedForwardNet`; both
functions go through the same runner of the chosen backend
(``biosnn/brian/network.py`` or ``biosnn/torch/run.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .core.activity import LayerActivity
from .core.errors import BiosnnInputError
from .core.inputs import check_weights, make_stimulus
from .core.resources import check_fits
from .core.schedule import DISCRETIZATIONS, TimeGrid
from .core.trace import Trace
from .models import get_spec
from .models.footprint import estimate
from .models.network import FeedForwardNet, LayerSpec

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import torch

    from .core.noise import EscapeNoise, WhiteNoise
    from .core.spikes import SpikeTrains

BACKENDS = ("brian2", "torch")
DTYPES = ("float64", "float32")


def _dtype_name(dtype) -> str:
    name = (dtype.__name__ if isinstance(dtype, type) else str(dtype)).replace("torch.", "")
    if name == "double":
        name = "float64"
    if name not in DTYPES:
        raise BiosnnInputError(f"dtype: expected float64 or float32, got {dtype!r}")
    return name


def _check_run(backend: str, target: str | None, dtype) -> str:
    if backend not in BACKENDS:
        raise BiosnnInputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    dtype = _dtype_name(dtype)
    if backend == "brian2" and dtype != "float64":
        raise BiosnnInputError("the Brian2 reference runs in float64 only; dtype=float32 is for backend='torch'")
    if backend == "torch" and target not in (None, "cpu"):
        raise BiosnnInputError(f"target {target!r} is a Brian2 target; the torch backend runs on the CPU")
    return dtype


def _check_discretization(net: FeedForwardNet, discretization: str, dt: float) -> None:
    if discretization not in DISCRETIZATIONS:
        raise BiosnnInputError(f"unknown discretization {discretization!r}; choose one of {', '.join(DISCRETIZATIONS)}")
    for k, layer in enumerate(net.layers):
        spec = get_spec(layer.model)
        spec.check_discretization(discretization)
        if discretization == "euler":
            spec.check_euler_stable(net.resolved_params(k, dt), dt, layer.synapse)


def simulate_network(
    net: FeedForwardNet,
    inputs: SpikeTrains | np.ndarray | torch.Tensor,
    *,
    backend: str,
    dt: float,
    duration: float,
    target: str | None = None,
    schedule: str = "exact",
    discretization: str = "exact",
    dtype: str | type | torch.dtype = "float64",
    record: bool = False,
    copies: int | None = None,
) -> list[LayerActivity]:
    """Simulate a feed-forward network description; one :class:`~biosnn.core.activity.LayerActivity` per layer.

    ``inputs``: :class:`~biosnn.core.spikes.SpikeTrains` (batched when they carry
    ``samples``), or a held drive ``[T, N_in]`` / ``[T, B, N_in]`` when the first
    layer's synapse kind is ``held``. ``record``: keep every layer's recorded
    variables at the start of every step (the torch backend always does).
    ``copies`` (Brian2 only): copies of the network the batch runs on; fewer
    copies than samples pass the samples through them one window of time after
    another, with the same results (``biosnn/brian/layout.py``): memory for
    ``copies`` x synapses instead of one copy per sample. Default: one per sample.
    Other arguments as :func:`simulate`.
    """
    dtype = _check_run(backend, target, dtype)
    if copies is not None:
        from .brian.layout import check_copies  # only here: importing the Brian2 backend imports Brian2

        copies = check_copies(copies, backend)
    grid = TimeGrid.from_duration(dt, duration, schedule)
    for layer in net.layers:
        get_spec(layer.model).check_schedule(grid.schedule)
    _check_discretization(net, discretization, grid.dt)
    return _run(
        net,
        _stimulus(net, inputs, grid),
        backend=backend,
        target=target,
        discretization=discretization,
        dtype=dtype,
        record=record,
        copies=copies,
    )


def _stimulus(net: FeedForwardNet, inputs, grid: TimeGrid):
    first = net.layers[0]
    return make_stimulus(inputs, grid, held=get_spec(first.model).synapse(first.synapse).held, n_inputs=net.n_inputs)


def _run(net, stimulus, *, backend, target, discretization, dtype, record, copies=None) -> list[LayerActivity]:
    check_fits(
        estimate(net, stimulus, backend=backend, record=record, dtype=dtype, copies=copies),
        f"this {backend} simulation",
    )
    if backend == "brian2":
        from .brian.network import run_network

        return run_network(net, stimulus, target=target, discretization=discretization, record=record, copies=copies)
    from .torch.run import run_network

    return run_network(net, stimulus, discretization=discretization, dtype=dtype)


def simulate(
    model: str,
    inputs: SpikeTrains | np.ndarray | torch.Tensor,
    weights: np.ndarray | torch.Tensor | Sequence[Sequence[float]],
    *,
    backend: str,
    dt: float,
    duration: float,
    params: Mapping | None = None,
    target: str | None = None,
    discretization: str = "exact",
    dtype: str | type | torch.dtype = "float64",
    synapse: str | None = None,
    reset: str | None = None,
    schedule: str = "exact",
    noise: WhiteNoise | None = None,
    escape: EscapeNoise | None = None,
) -> Trace:
    """Simulate one layer of ``model`` driven by ``inputs`` through ``weights``.

    Parameters
    ----------
    model : str
        A name in the registry (``biosnn.models.REGISTRY``): ``"lif"``, ``"plif"``, ...
    inputs : SpikeTrains or array
        Input spikes for ``delta``/``current``/``cascade`` synapses (batched when they
        carry ``samples``), or a held drive ``[T, N_in]`` / ``[T, B, N_in]`` for ``held``.
    weights : array [N_in, N]
        Jump of neuron j's ``v`` (delta), ``I`` (current) or drive (held) per unit of input i.
    backend : {"brian2", "torch"}
    dt, duration : float (s) or Brian2 quantity
    params : mapping, optional
        Overrides of the model's parameters, SI floats or quantities
        (``{"tau_m": 10*ms, "v_th": 1.0}``).
    target : str, optional
        Brian2 target: numpy (default), cython, cpp_standalone, cuda_standalone.
    discretization : {"exact", "euler"}
    dtype : float64 or float32 (torch only; Brian2 runs in float64)
    synapse : the spec's synapse kinds (``delta``, ``current``, ``held``; ``cascade``); default: the first
    reset : the spec's resets (``hard``, ``subtract``, ...); default: the first
    schedule : {"exact", "brian2_default"}; see ``biosnn.core.schedule``.
    noise : :class:`~biosnn.core.noise.WhiteNoise`, optional
        Membrane white noise, the same draws in both backends (``docs/perturbations.md``).
    escape : :class:`~biosnn.core.noise.EscapeNoise`, optional
        A stochastic threshold (escape noise), the same draws in both backends.

    Returns
    -------
    Trace
        ``t [T]``, ``v [T, N]`` (``[T, B, N]`` for a batch; the spec's main
        variable), the other recorded variables in ``states``, spike labels and units.
    """
    spec = get_spec(model)
    dtype = _check_run(backend, target, dtype)
    reset = spec.check_reset(reset)
    synapse = spec.synapse(synapse).name
    grid = TimeGrid.from_duration(dt, duration, spec.check_schedule(schedule))
    resolved = spec.resolve(params, grid.dt)
    w = check_weights(weights)
    net = FeedForwardNet(w.shape[0], (LayerSpec(model, w.shape[1], resolved, synapse, reset, noise, escape),), (w,))
    _check_discretization(net, discretization, grid.dt)
    stimulus = _stimulus(net, inputs, grid)
    layer = _run(
        net, stimulus, backend=backend, target=target, discretization=discretization, dtype=dtype, record=True
    )[-1]
    meta = dict(
        model=model,
        params=resolved,
        synapse=synapse,
        reset=reset,
        discretization=discretization,
        dtype=dtype,
        schedule=grid.describe(),
    )
    if backend == "brian2":
        import brian2

        meta.update(brian2_version=brian2.__version__, equations=spec.brian_equations(synapse, resolved))
        target_name = target or "numpy"
    else:
        target_name = f"cpu-{dtype}"
    return layer.to_trace(
        t=grid.times, dt=grid.dt, batched=stimulus.batched, backend=backend, target=target_name, meta=meta
    )
