"""Validation of what goes into a simulation, shared by both backends.

Two input forms:

* :class:`~biosnn.core.spikes.SpikeTrains` for ``delta`` and ``current`` synapses;
  the postsynaptic jump of neuron j for a spike of input i is ``W[i, j]``.
* a dense held drive, array ``[T, N_in]`` or ``[T, B, N_in]``, for ``held``
  input (the first layer of a network only); neuron j receives ``X[n] @ W``
  held constant over step n.

``weights`` is ``[N_in, N]`` (float, finite). A ``[T, B, ...]`` batch is run as
B independent copies of the network in one simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import BiosnnInputError
from .schedule import TIMESTEP_SHIFT, TimeGrid
from .spikes import SpikeTrains

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    import torch


@dataclass(frozen=True)
class Stimulus:
    """Validated input of one simulation (the weights belong to the network)."""

    kind: str  # "spikes" or "held"
    grid: TimeGrid
    n_inputs: int
    spikes: SpikeTrains | None = None
    held: np.ndarray | None = None  # float64 [T, B, N_in]
    batched: bool = False

    @property
    def batch_size(self) -> int:
        return self.spikes.batch_size if self.kind == "spikes" else self.held.shape[1]

    def input_counts(self) -> np.ndarray:
        """``[T, B, N_in]`` spike counts (spikes) or the held drive."""
        if self.kind == "held":
            return self.held
        return self.spikes.to_raster(self.grid.dt, self.grid.n_steps)


def as_numpy(value: Any) -> Any:
    """A torch tensor (detached, on the CPU) as a numpy array; anything else unchanged."""
    try:
        return value.detach().cpu().numpy()
    except AttributeError:
        return value


def check_weights(weights: np.ndarray | torch.Tensor | Sequence[Sequence[float]]) -> np.ndarray:
    weights = as_numpy(weights)
    if isinstance(weights, (list, tuple)):
        try:
            weights = np.asarray(weights)
        except ValueError:
            raise BiosnnInputError("weights: expected a 2-D array [N_in, N], got ragged nested lists") from None
    if not isinstance(weights, np.ndarray):
        raise BiosnnInputError(f"weights: expected a 2-D float array [N_in, N], got {type(weights).__name__}")
    if weights.ndim != 2:
        raise BiosnnInputError(f"weights: expected shape [N_in, N], got {weights.shape}")
    if weights.shape[0] < 1 or weights.shape[1] < 1:
        raise BiosnnInputError(f"weights: empty shape {weights.shape}")
    if not (np.issubdtype(weights.dtype, np.floating) or np.issubdtype(weights.dtype, np.integer)):
        raise BiosnnInputError(f"weights: expected a float array, got dtype {weights.dtype}")
    if not np.all(np.isfinite(weights)):
        bad = np.argwhere(~np.isfinite(weights))[0]
        raise BiosnnInputError(f"weights: non-finite value {weights[tuple(bad)]!r} at index {tuple(bad.tolist())}")
    return np.asarray(weights, dtype=np.float64)


def make_stimulus(
    inputs: SpikeTrains | np.ndarray | torch.Tensor | Sequence[Sequence[float]],
    grid: TimeGrid,
    *,
    held: bool,
    n_inputs: int,
) -> Stimulus:
    """Check ``inputs`` against the grid, the input count and the input kind (held drive or spikes)."""
    if held:
        if isinstance(inputs, SpikeTrains):
            raise BiosnnInputError("held input needs a dense drive array [T, N_in] or [T, B, N_in], got SpikeTrains")
        try:
            x = np.asarray(as_numpy(inputs))
        except ValueError:
            raise BiosnnInputError(
                "held drive: expected an array [T, N_in] or [T, B, N_in], got ragged lists"
            ) from None
        if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise BiosnnInputError(f"held drive: expected a float array, got dtype {x.dtype}")
        batched = x.ndim == 3
        if x.ndim == 2:
            x = x[:, None, :]
        if x.ndim != 3:
            raise BiosnnInputError(f"held drive: expected shape [T, N_in] or [T, B, N_in], got {x.shape}")
        if x.shape[0] != grid.n_steps:
            raise BiosnnInputError(f"held drive has {x.shape[0]} steps but duration/dt gives {grid.n_steps}")
        if x.shape[2] != n_inputs:
            raise BiosnnInputError(f"held drive has {x.shape[2]} inputs but the weights have {n_inputs} rows (N_in)")
        if not np.all(np.isfinite(x)):
            raise BiosnnInputError("held drive: contains NaN or inf")
        return Stimulus("held", grid, n_inputs, held=np.asarray(x, dtype=np.float64), batched=batched)
    if not isinstance(inputs, SpikeTrains):
        raise BiosnnInputError(f"spiking input needs SpikeTrains, got {type(inputs).__name__}")
    if inputs.n_units != n_inputs:
        raise BiosnnInputError(
            f"spike trains have n_units={inputs.n_units} but the weights have {n_inputs} rows (N_in)"
        )
    if inputs.duration > grid.duration + TIMESTEP_SHIFT * grid.dt:
        raise BiosnnInputError(f"spike trains span {inputs.duration!r}s, longer than the simulated {grid.duration!r}s")
    steps = inputs.steps(grid.dt)
    if np.any(steps >= grid.n_steps):
        k = int(np.flatnonzero(steps >= grid.n_steps)[0])
        raise BiosnnInputError(f"spike at t={inputs.times[k]!r}s rounds to step {steps[k]}, past the last step")
    inputs.check_one_per_step(grid.dt)
    return Stimulus("spikes", grid, n_inputs, spikes=inputs, batched=inputs.is_batched)


def check_generator(rng: object) -> np.random.Generator:
    """Everything random in biosnn draws from an explicit ``numpy.random.Generator`` the caller seeded."""
    if not isinstance(rng, np.random.Generator):
        raise BiosnnInputError("rng: pass a numpy.random.Generator (np.random.default_rng(seed))")
    return rng


def check_number(value: object, what: str, *, finite: bool = False) -> float:
    """A real number (not a bool, a string or None), as a float; ``finite`` also refuses NaN and inf."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or (finite and not np.isfinite(value))
    ):
        raise BiosnnInputError(f"{what}: expected a {'finite ' if finite else ''}number, got {value!r}")
    return float(value)
