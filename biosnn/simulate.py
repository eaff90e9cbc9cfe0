"""``biosnn.simulate``: one entry point, two backends, the same Trace."""

from __future__ import annotations

from typing import Mapping

from .equations import get_spec
from .errors import BiosnnInputError
from .inputs import make_stimulus
from .schedule import TimeGrid
from .trace import Trace

BACKENDS = ("brian2", "torch")
DTYPES = ("float64", "float32")


def _dtype_name(dtype) -> str:
    name = getattr(dtype, "__name__", None) or str(dtype)
    name = name.replace("torch.", "")
    if name == "double":
        name = "float64"
    if name not in DTYPES:
        raise BiosnnInputError(f"dtype: expected float64 or float32, got {dtype!r}")
    return name


def simulate(model: str, inputs, weights, *, backend: str, dt, duration, params: Mapping | None = None,
             target: str | None = None, discretization: str = "exact", dtype="float64",
             synapse: str | None = None, reset: str | None = None, schedule: str = "exact") -> Trace:
    """Simulate one layer of ``model`` driven by ``inputs`` through ``weights``.

    Parameters
    ----------
    model : str
        A name in the registry (``biosnn.equations.REGISTRY``): ``"lif"``, ``"plif"``.
    inputs : SpikeTrains or array
        Input spikes for ``delta``/``current`` synapses (batched when they carry
        ``samples``), or a held drive ``[T, N_in]`` / ``[T, B, N_in]`` for ``held``.
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
    synapse : {"delta", "current", "held"} (``"cascade"`` for gamma_cascade); default: the model's first
    reset : {"hard", "subtract"}; default: the model's first (hard for LIF, subtract for Lee)
    schedule : {"exact", "brian2_default"}; see ``biosnn.schedule``.

    Returns
    -------
    Trace
        ``t [T]``, ``v [T, N]`` (``[T, B, N]`` for a batch), spike labels and units.
    """
    spec = get_spec(model)
    if backend not in BACKENDS:
        raise BiosnnInputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if discretization not in ("exact", "euler"):
        raise BiosnnInputError(f"unknown discretization {discretization!r}; choose exact or euler")
    dtype = _dtype_name(dtype)
    reset = spec.check_reset(reset if reset is not None else next(iter(spec.resets)))
    synapse = synapse if synapse is not None else next(iter(spec.synapses))
    spec.synapse(synapse)
    grid = TimeGrid.from_duration(dt, duration, schedule)
    resolved = spec.resolve(params, grid.dt)
    if discretization == "euler":
        spec.check_euler_stable(resolved, grid.dt, synapse)
    stimulus = make_stimulus(inputs, weights, grid, synapse)
    if backend == "brian2":
        if dtype != "float64":
            raise BiosnnInputError("the Brian2 reference runs in float64 only; dtype=float32 is for backend='torch'")
        if spec.extra.get("builder") == "cascade":
            from .brian.cascade import run_cascade

            return run_cascade(model, stimulus, resolved, target=target)
        from .brian.network import run_brian

        return run_brian(model, stimulus, resolved, synapse=synapse, reset=reset,
                         discretization=discretization, target=target)
    if target not in (None, "cpu"):
        raise BiosnnInputError(f"target {target!r} is a Brian2 target; the torch backend runs on the CPU")
    from .torch.run import run_torch

    return run_torch(model, stimulus, resolved, synapse=synapse, reset=reset,
                     discretization=discretization, dtype=dtype)
