"""The one torch layer template: a spec, its step phases, and one time loop.

``Layer(model, dt=..., n_neurons=...)`` binds the model's spec
(``biosnn.models``: parameters, ranges, recorded variables) to its step
phases (``biosnn/torch/dynamics/<model>.py``, a
:class:`~biosnn.torch.dynamics.base.Dynamics`) and runs them step by step in
the order :func:`biosnn.core.schedule.step_phases` gives, the order of Brian2's
slots. What is generic lives here, once, as spikingjelly's charge/fire/reset
base class and norse's pure step functions split it:

* **the time loop** over a time-major drive ``[T, B, N]`` (``[T, B, N_in, N]``
  for per-synapse drives), recording the spec's recorded variables at the
  start of every step (Brian2's ``start`` slot);
* **refractoriness** as Brian2 defines it for any model with a refractory
  parameter: ``R = timestep(t_ref)`` clamped steps after a spike
  (``not_refractory``, passed to the phases as ``step.integrating``), no
  threshold test while clamped, and a neuron that fired is refractory for the
  rest of its step;
* **the spike**: ``H(x)`` of the phase ``threshold_distance`` with the
  layer's surrogate gradient (or none, for models that are not differentiated
  through their spikes), and ``detach_reset`` (spikingjelly's option);
* **learnable parameters**, declared by the dynamics and registered as
  ``nn.Parameter`` attributes (PLIF's ``a``, Lee's ``v_th``, the gamma
  cascade's ``bucket_weight`` and ``bias``); :meth:`Layer.exported_parameters`
  gives the Brian2 twin's parameters.

The input arrives in the slot of its hop (:func:`biosnn.core.schedule.arrival_slot`):
the exact schedule's ``before_thresholds``, Brian2's default ``synapses``, the
state update for a held drive, or before the state update for the charges of
a cascade sender (``source_output=Output.CHARGES``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ..core.errors import BiosnnInputError
from ..core.schedule import arrival_slot, refractory_steps, step_phases
from ..core.spec import Output
from ..core.units import check_count, positive_time
from ..models import get_spec
from .draws import uniform as draw_uniform
from .dynamics import dynamics_for
from .dynamics.base import StepContext
from .noise import coefficients as noise_coefficients
from .noise import increments as noise_increments
from .surrogate import Surrogate

if TYPE_CHECKING:
    from typing import Any

    from ..core.noise import EscapeNoise, WhiteNoise

#: steps since the last spike of a neuron that never fired (beyond any refractory period)
NEVER_SPIKED = 2**40


class Layer(nn.Module):
    """A layer of ``n_neurons`` neurons of a registered ``model``.

    Parameters
    ----------
    model : str
        A name in ``biosnn.models.REGISTRY``.
    dt : float or Quantity
        Time step (s).
    n_neurons : int
        Neurons in the layer. ``n_inputs``: its fan-in (needed by per-synapse layouts).
    params : mapping, optional
        Overrides of the spec's parameters (SI floats or Brian2 quantities).
    synapse, reset : str, optional
        One of the spec's synapse kinds and resets (default: the spec's first).
    discretization : {"exact", "euler"}; schedule : {"exact", "brian2_default"}
    source_output : Output
        What the layer's source emits (``Output.CHARGES``: a cascade sender).
    surrogate : {"fast_sigmoid", "arctan"}, surrogate_alpha : float
    detach_reset : bool
        Stop gradients through the reset (spikingjelly's ``detach_reset``).
    """

    def __init__(
        self,
        model: str,
        *,
        dt: float,
        n_neurons: int,
        n_inputs: int | None = None,
        params: Mapping | None = None,
        synapse: str | None = None,
        reset: str | None = None,
        discretization: str = "exact",
        schedule: str = "exact",
        source_output: Output = Output.SPIKES,
        surrogate: str = "fast_sigmoid",
        surrogate_alpha: float | None = None,
        detach_reset: bool = False,
        fused: bool = True,
        noise: WhiteNoise | None = None,
        escape: EscapeNoise | None = None,
    ) -> None:
        super().__init__()
        spec = get_spec(model)
        self.spec = spec
        self.dt = positive_time(dt, "dt")
        self.n_neurons = check_count(n_neurons, f"{model}: n_neurons")
        self.n_inputs = None if n_inputs is None else int(n_inputs)
        self.synapse = spec.synapse(synapse).name
        self.reset = spec.check_reset(reset)
        self.discretization = spec.check_discretization(discretization)
        self.schedule = spec.check_schedule(schedule)
        self.parameters_si = spec.resolve(params, self.dt)
        for p in spec.parameters:
            value = self.parameters_si[p.name]
            if p.per_neuron and np.ndim(value) == 1 and np.size(value) != self.n_neurons:
                raise BiosnnInputError(f"{model}: {p.name} has {np.size(value)} values for {self.n_neurons} neurons")
        if self.discretization == "euler":
            spec.check_euler_stable(self.parameters_si, self.dt, self.synapse)
        self.dynamics = dynamics_for(spec)(
            spec,
            self.parameters_si,
            synapse=self.synapse,
            reset=self.reset,
            discretization=self.discretization,
            dt=self.dt,
            n_neurons=self.n_neurons,
            n_inputs=self.n_inputs,
        )
        self.learnable_names = tuple(self.dynamics.learnable())
        for name, value in self.dynamics.learnable().items():
            setattr(self, name, nn.Parameter(torch.as_tensor(np.asarray(value), dtype=torch.float64).clone()))
        self.surrogate = Surrogate(surrogate, surrogate_alpha)
        self.detach_reset = bool(detach_reset)
        self.has_refractoriness = spec.refractory_parameter is not None
        self.refractory_steps = (
            refractory_steps(self.parameters_si[spec.refractory_parameter], self.dt) if self.has_refractoriness else 0
        )
        self.arrival = arrival_slot(
            self.schedule, held=spec.synapse(self.synapse).held, from_sender_cascade=source_output is Output.CHARGES
        )
        lateral = spec.lateral is not None and spec.lateral.active(self.parameters_si)
        self.phases = step_phases(
            arrival=self.arrival,
            spiking=spec.threshold is not None,
            lateral_slot=spec.lateral.slot if lateral else None,
            floor=spec.floor is not None,
        )
        self.recorded = spec.recorded_variables(self.synapse)
        #: membrane white noise (``biosnn/core/noise.py``), added after each step's state update; None: none
        self.noise = noise
        if noise is not None:
            if spec.membrane_noise is None:
                raise BiosnnInputError(f"{model}: this model takes no membrane noise")
            self.noise_fine_steps = noise.fine_steps(self.dt)
        #: escape noise (a stochastic threshold, ``biosnn/core/noise.py``); None: the deterministic threshold
        self.escape = escape
        if escape is not None and spec.threshold_distance is None:
            raise BiosnnInputError(f"{model}: this model takes no escape noise")
        #: the whole loop fused (``biosnn/torch/fused.py``) where the model provides it and ``fused``; None:
        #: the phases (always with noise). Recording, or continuing from a state, always runs the phases.
        self.fused_loop = (
            self.dynamics.fused(
                phases=self.phases,
                refractory_steps=self.refractory_steps,
                detach_reset=self.detach_reset,
                surrogate=self.surrogate,
            )
            if fused and noise is None and escape is None
            else None
        )

    # -- parameters -----------------------------------------------------
    @property
    def learnt(self) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name) for name in self.learnable_names}

    def exported_parameters(self) -> dict:
        """SI parameters for the Brian2 twin, with the learnt values."""
        return self.dynamics.exported(self.learnt)

    def weighted_input(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """The drive a hop with weights ``weight [N_in, N]`` delivers from ``x [T, B, N_in]``."""
        return self.dynamics.weighted_input(x, weight)

    def initial_state(
        self, batch: int, *, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
    ) -> dict[str, torch.Tensor]:
        c = self.dynamics.constants(self.learnt, dtype=dtype, device=device)
        return self._initial_state(c, batch, dtype, device)

    def _initial_state(self, c, batch, dtype, device):
        state = self.dynamics.initial_state(c, batch, dtype=dtype, device=device)
        state["step"] = 0  # the absolute step index: a run continued from a state keeps its clock
        if self.refractory_steps > 0:
            state["since"] = torch.full((batch, self.n_neurons), NEVER_SPIKED, dtype=torch.int64, device=device)
        return state

    # -- the time loop --------------------------------------------------
    def forward(
        self, drive: torch.Tensor, state: dict | None = None, *, record: bool = False, first_sample: int = 0
    ) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Run ``drive`` (time-major); returns the layer's output ``[T, B, N]``.

        ``first_sample``: the index of the batch's first sample in the whole set, for a noisy layer
        (its noise is keyed on each sample's index: a set evaluated in chunks draws what it draws whole).
        With ``record=True`` returns ``(output, recorded, final_state)`` where
        ``recorded`` maps each of the spec's recorded variables to its values
        ``[T, B, N]`` at the start of each step (Brian2's ``start`` slot). Passing
        a final state back as ``state`` continues the run where it ended.
        """
        self._check_drive(drive)
        c = self.dynamics.constants(self.learnt, dtype=drive.dtype, device=drive.device)
        if self.noise is not None or self.escape is not None:
            if torch.is_grad_enabled() and (drive.requires_grad or any(p.requires_grad for p in self.parameters())):
                raise BiosnnInputError(
                    f"{self.spec.name}: a layer with noise is evaluated, not trained (its draws are keyed on the "
                    "sample's index, the same in every epoch, and escape noise has no gradient): run it under "
                    "torch.no_grad()"
                )
            if isinstance(first_sample, bool) or not isinstance(first_sample, int) or first_sample < 0:
                raise BiosnnInputError(f"first_sample must be a non-negative integer, got {first_sample!r}")
            # element (sample * N + neuron), the sample counted in the whole set (``first_sample`` onwards)
            self._elements = torch.arange(
                first_sample * self.n_neurons,
                (first_sample + drive.shape[1]) * self.n_neurons,
                device=drive.device,
            ).reshape(drive.shape[1], self.n_neurons)
        if self.noise is not None:  # this run's noise coefficients (PLIF: from the learnt tau)
            where = self.spec.membrane_noise
            tau = None if where.time_constant is None else self.exported_parameters()[where.time_constant]
            a, s = noise_coefficients(self.noise, tau, self.discretization, dtype=drive.dtype, device=drive.device)
            self._noise_run = (a, s, self._elements)
        if state is None:
            state = self._initial_state(c, drive.shape[1], drive.dtype, drive.device)
            if self.fused_loop is not None and not record:
                return self.fused_loop(drive, c, state)
        outputs, recorded = [], {name: [] for name in self.recorded}
        for x in drive:
            if record:
                for name in self.recorded:
                    recorded[name].append(state[name])
            out, state = self.step(state, c, StepContext(t=state["step"] * self.dt, drive=x))
            state["step"] += 1
            outputs.append(out)
        stacked = torch.stack(outputs)
        if not record:
            return stacked
        return stacked, {name: torch.stack(values) for name, values in recorded.items()}, state

    def step(self, state: dict, c: Any, step: StepContext) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """One step: the phases of ``self.phases`` in order, each a method of the template (:data:`PHASES`);
        returns ``(output, state)``."""
        for phase in self.phases:
            state = self.PHASES[phase](self, state, c, step)
        return self.dynamics.output(state, c, step)

    def _integrate(self, state, c, step: StepContext):
        """Brian2's ``groups`` slot: the refractory clock advances, then the model's state update."""
        if self.refractory_steps > 0:
            since = state["since"] + 1
            state = {**state, "since": since}
            step.integrating = (since > self.refractory_steps).to(state[self.spec.main_variable].dtype)
        state = self.dynamics.integrate(state, c, step)
        if self.noise is not None:  # the step's noise increment, where the membrane integrates
            a, s, elements = self._noise_run
            eta = noise_increments(self.noise, a, s, self.noise_fine_steps, elements, int(state["step"]))
            variable = self.spec.membrane_noise.variable
            state = {**state, variable: state[variable] + (eta if step.integrating is None else eta * step.integrating)}
        return state

    def _arrive(self, state, c, step: StepContext):
        return self.dynamics.arrive(state, c, step)

    def _floor(self, state, c, step: StepContext):
        return self.dynamics.floor(state, c)

    def _sum(self, state, c, step: StepContext):
        return self.dynamics.sum(state, c)

    def _lateral(self, state, c, step: StepContext):
        return self.dynamics.lateral(state, c, step)

    def _reset(self, state, c, step: StepContext):
        step.spike_for_reset = step.spike.detach() if self.detach_reset else step.spike
        return self.dynamics.reset(state, c, step)

    def _fire(self, state, c, step: StepContext):
        distance = self.dynamics.threshold_distance(state, c)
        if self.escape is not None:  # a stochastic threshold: fire when U < 1 - exp(-rho0 dt exp(x / delta))
            probability = -torch.expm1(-(self.escape.rho0 * self.dt) * torch.exp(distance / self.escape.delta))
            u = draw_uniform(
                self.escape.seed,
                self.escape.stream,
                self._elements,
                int(state["step"]),
                dtype=distance.dtype,
                validate=False,
            )
            spike = (u < probability).to(distance.dtype)  # evaluated, not trained: no surrogate gradient
        else:
            spike = self.surrogate(distance) if self.dynamics.surrogate_spike else (distance >= 0).to(distance.dtype)
        if step.integrating is not None:
            spike = spike * step.integrating  # no threshold test while refractory
        step.spike = spike
        if self.has_refractoriness:  # a neuron that fired is refractory for the rest of its step
            fired = 1.0 - spike.detach()
            step.integrating = fired if step.integrating is None else step.integrating * fired
        if self.refractory_steps > 0:
            state = {
                **state,
                "since": torch.where(spike.detach() > 0, torch.zeros_like(state["since"]), state["since"]),
            }
        return state

    #: each phase of :func:`biosnn.core.schedule.step_phases` and the template's method that runs it
    PHASES = {
        "integrate": _integrate,
        "arrive": _arrive,
        "floor": _floor,
        "sum": _sum,
        "fire": _fire,
        "lateral": _lateral,
        "reset": _reset,
    }

    def _check_drive(self, drive) -> None:
        model, ndim = self.spec.name, self.dynamics.drive_ndim
        if not isinstance(drive, torch.Tensor):
            raise BiosnnInputError(f"{model}: drive must be a torch tensor, got {type(drive).__name__}")
        shape = "[T, B, N_in, N]" if ndim == 4 else "[T, B, N]"
        if drive.ndim != ndim or drive.shape[-1] != self.n_neurons:
            raise BiosnnInputError(
                f"{model}: drive must be time-major {shape} with N={self.n_neurons}, got {tuple(drive.shape)}"
            )
        if not torch.is_floating_point(drive):
            raise BiosnnInputError(f"{model}: drive must be a float tensor, got {drive.dtype}")
        if drive.shape[0] < 1 or drive.shape[1] < 1:
            raise BiosnnInputError(f"{model}: drive needs at least one step and one sample, got {tuple(drive.shape)}")
        # one pass: a NaN or infinity anywhere makes the sum non-finite (an overflowing sum is checked exactly)
        with torch.no_grad():
            finite = bool(torch.isfinite(drive.sum())) or bool(torch.isfinite(drive).all())
        if not finite:
            raise BiosnnInputError(f"{model}: drive contains NaN or infinite values")

    def extra_repr(self) -> str:
        params = ", ".join(f"{name}={np.asarray(value).tolist()!r}" for name, value in self.parameters_si.items())
        return (
            f"{self.spec.name}, n_neurons={self.n_neurons}, dt={self.dt!r}s, synapse={self.synapse}, "
            f"reset={self.reset}, discretization={self.discretization}, schedule={self.schedule}, "
            f"surrogate={self.surrogate!r}, detach_reset={self.detach_reset}, params=({params})"
        )
