"""The phases of one model's time step, as the torch layer template applies them.

Every model's mirror is a subclass of :class:`Dynamics` in
``biosnn/torch/dynamics/<model>.py``, registered in
:data:`biosnn.torch.dynamics.MIRRORS` by the spec's name. A phase is a
pure function of the state (a dict of tensors keyed by the Brian2 variable
names, so the spec's recorded variables are read from it directly), the
per-run constants ``c`` (from :meth:`Dynamics.constants`) and the step context
``step`` (:class:`StepContext`). The template
(``biosnn/torch/layer.py``) owns the order, from
:func:`biosnn.core.schedule.step_phases`, and everything generic: the time loop,
refractoriness (Brian2's ``not_refractory``), the surrogate spike, the
reset's ``detach_reset`` and recording. A phase's Brian2 slot is named in
brackets::

    integrate(state, c, step)   [groups]              state update over the step (held drive: step.drive)
    arrive(state, c, step)      [the hop's slot]      input of this step enters (step.drive)
    sum(state, c)               [before_thresholds]   summed variables (gamma: x = sum_k v_k B_k)
    threshold_distance(state, c) [thresholds]         x with spike = H(x) = [x >= 0]
    lateral(state, c, step)     [spec.lateral.slot]   the circuit's effect of step.spike
    floor(state, c)             [after arrivals]      the spec's lower bound
    reset(state, c, step)       [resets]              step.spike_for_reset: the (maybe detached) spike
    output(state, c, step)      -> (out, state)       what the layer passes on (default: the spike)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from ...core.spec import ModelSpec

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..surrogate import Surrogate


@dataclass
class StepContext:
    """What the template knows about the step being computed."""

    t: float  # t_n (s)
    drive: torch.Tensor  # the input arriving (or held) in this step
    integrating: torch.Tensor | None = None  # 1 where not refractory (Brian2's not_refractory); None: all
    spike: torch.Tensor | None = None  # this step's spikes (after ``fire``)
    spike_for_reset: torch.Tensor | None = None


class Dynamics:
    """Base of every model's mirror: static configuration plus the phases of one step.

    ``params`` are the spec's resolved SI parameters; learnable tensors are
    declared by :meth:`learnable` (the template registers them as
    ``nn.Parameter`` attributes of the layer) and passed back as ``learnt``.
    """

    #: differentiate the spike through the layer's surrogate (False: H(x), not differentiated)
    surrogate_spike: bool = True
    #: dimensions of the drive: [T, B, N]; 4 for per-synapse drives [T, B, N_in, N]
    drive_ndim: int = 3

    def __init__(
        self,
        spec: ModelSpec,
        params: Mapping,
        *,
        synapse: str,
        reset: str | None,
        discretization: str,
        dt: float,
        n_neurons: int,
        n_inputs: int | None,
    ) -> None:
        self.spec, self.params, self.dt = spec, dict(params), dt
        self.synapse, self.reset_kind, self.discretization = synapse, reset, discretization
        self.n_neurons, self.n_inputs = n_neurons, n_inputs
        self.held = spec.synapse(synapse).held

    # -- parameters ------------------------------------------------------
    def learnable(self) -> dict[str, object]:
        """Initial values (float64 arrays or floats) of the learnable parameters, by name."""
        return {}

    def exported(self, learnt: Mapping[str, torch.Tensor]) -> dict:
        """The SI parameters of the Brian2 twin, with the learnt values."""
        return dict(self.params)

    def constants(
        self, learnt: Mapping[str, torch.Tensor], *, dtype: torch.dtype, device: torch.device | str | None
    ) -> Any:
        """Per-run step constants (propagators), computed once per forward pass."""
        return None

    def initial_state(
        self, c: Any, batch: int, *, dtype: torch.dtype, device: torch.device | str | None
    ) -> dict[str, torch.Tensor]:
        """Every recorded and initialised state variable at its initial value (0 unless the spec says)."""
        values = self.spec.initial_values(self.params)
        names = dict.fromkeys(self.spec.recorded_variables(self.synapse) + tuple(values))
        return {
            name: torch.zeros(batch, self.n_neurons, dtype=dtype, device=device)
            + torch.as_tensor(values.get(name, 0.0), dtype=dtype, device=device)
            for name in names
        }

    def fused(
        self, *, phases: tuple[str, ...], refractory_steps: int, detach_reset: bool, surrogate: Surrogate
    ) -> Callable[[torch.Tensor, Any, dict[str, torch.Tensor]], torch.Tensor] | None:
        """The whole time loop fused (``run(drive, c, initial_state) -> output``), or None.

        A model whose step, in this layer's configuration (``phases`` in order,
        refractoriness, reset, surrogate), is a recurrence with a written-out
        adjoint returns it (``biosnn/torch/fused.py``); the template then runs
        it instead of the phases when nothing is recorded. None: the phases.
        """
        return None

    # -- input -----------------------------------------------------------
    def weighted_input(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """The drive a hop delivers: ``x @ W`` (``[T, B, N_in] -> [T, B, N]``)."""
        return x @ weight

    # -- phases ----------------------------------------------------------
    def integrate(self, state: dict[str, torch.Tensor], c: Any, step: StepContext) -> dict[str, torch.Tensor]:
        return state

    def arrive(self, state: dict[str, torch.Tensor], c: Any, step: StepContext) -> dict[str, torch.Tensor]:
        return state

    def sum(self, state: dict[str, torch.Tensor], c: Any) -> dict[str, torch.Tensor]:
        return state

    def threshold_distance(self, state: dict[str, torch.Tensor], c: Any) -> torch.Tensor:
        raise NotImplementedError(f"{self.spec.name} has no threshold")

    def lateral(self, state: dict[str, torch.Tensor], c: Any, step: StepContext) -> dict[str, torch.Tensor]:
        return state

    def floor(self, state: dict[str, torch.Tensor], c: Any) -> dict[str, torch.Tensor]:
        return state

    def reset(self, state: dict[str, torch.Tensor], c: Any, step: StepContext) -> dict[str, torch.Tensor]:
        return state

    def output(
        self, state: dict[str, torch.Tensor], c: Any, step: StepContext
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return step.spike, state


def per_neuron(
    value: float | np.ndarray | torch.Tensor | None, *, dtype: torch.dtype, device: torch.device | str | None
) -> torch.Tensor | float | None:
    """A parameter that is one value or one per neuron: a float, or a tensor ``[N]`` (None stays None)."""
    if value is None:
        return None
    return torch.as_tensor(value, dtype=dtype, device=device) if np.ndim(value) else float(value)


@dataclass(frozen=True)
class ConstantDrive:
    """A model's constant input in the mirror (``spec.constant_input``): ``bias`` ([N] or one value) from the step
    ``onset_step`` on (the Brian2 twin's ``bias_gate``)."""

    bias: torch.Tensor | float
    onset_step: int

    @classmethod
    def of(
        cls, spec: ModelSpec, params: Mapping, dt: float, *, dtype: torch.dtype, device: torch.device | str | None
    ) -> ConstantDrive:
        ci = spec.constant_input
        return cls(per_neuron(params[ci.bias], dtype=dtype, device=device), ci.onset_steps(params, dt))

    def at(self, step: StepContext, dt: float) -> torch.Tensor | float:
        """The bias in the step starting at ``step.t`` (0 before the onset)."""
        return self.bias if self.onset_step == 0 or round(step.t / dt) >= self.onset_step else 0.0
