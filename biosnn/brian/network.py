"""The one Brian2 runner: a network description and its input -> Brian2 objects -> activity of every layer.

A single layer (``biosnn.simulate``) is a one-layer network; held input,
delta/current synapses, lateral circuits, gamma cascades, per-neuron and
per-synapse delays and batches of samples all run through this one path, on
every target (``biosnn/brian/targets.py``)::

    SpikeGeneratorGroup(B * N_in)  (or a held drive, TimedArray)
      --hop 0--> layer 0 --hop 1--> layer 1 ...      (LAYER_BUILDERS[spec.structure], biosnn/brian/layers.py)

A batch of B samples is B independent copies of the network in **one**
simulation, or, with ``copies < B``, fewer copies through which the samples
pass one window of time after another (``biosnn/brian/layout.py``: memory
``copies x synapses`` whatever B; the results are the same). Every hop runs in the slot :func:`biosnn.core.schedule.arrival_slot`
gives (the exact schedule's ``before_thresholds``: one step per hop) plus its
axonal delays in whole steps. Each layer's spikes are recorded, and with
``record=True`` its spec's recorded variables at the start of every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..core.activity import LayerActivity
from ..core.errors import BiosnnInputError
from ..core.inputs import Stimulus
from ..core.schedule import arrival_slot, delay_steps, refractory_steps
from ..core.spec import Output, Structure
from ..models import get_spec
from ..models.network import FeedForwardNet
from .components import Source, spike_arrays, spike_source
from .layers import LAYER_BUILDERS
from .layout import Layout
from .targets import brian_target, check_target

if TYPE_CHECKING:
    from .layers import CascadeLayer, PointLayer

#: order of the gap clamp within ``before_thresholds``: after the pathways (0), before the floors and the
#: summed variables (10), which then see the clamped state
CLAMP_ORDER = 5


def layout_of(net: FeedForwardNet, stimulus: Stimulus, copies: int | None) -> Layout:
    """The layout of ``stimulus``'s batch on ``copies`` copies of ``net`` (None: one copy per sample)."""
    dt = stimulus.grid.dt
    longest_delay = max(
        (
            int(np.max(delay_steps(np.asarray(d, dtype=np.float64), dt)))
            for d in net.delays
            if d is not None and np.size(d)
        ),
        default=0,
    )
    longest_refractory = 0
    for k, description in enumerate(net.layers):
        spec = get_spec(description.model)
        if spec.refractory_parameter is not None:
            longest_refractory = max(
                longest_refractory, refractory_steps(net.resolved_params(k, dt)[spec.refractory_parameter], dt) + 1
            )
    return Layout.of(
        stimulus.batch_size,
        stimulus.grid.n_steps,
        copies,
        longest_delay_steps=longest_delay,
        longest_refractory_steps=longest_refractory,
    )


@dataclass
class BuiltNetwork:
    """The Brian2 objects of one simulation, before it runs."""

    objects: list
    layout: Layout
    dt: float
    generator: object | None  # the input SpikeGeneratorGroup (None: held drive)
    watched: list  # per layer: (n, spec, group, recorded, spikes, states, starts)

    def run(self, *, executes: bool = True) -> None:
        """Simulate every step, or raise: Brian2's own Ctrl-C handler (which would end ``Network.run``
        early and return as if it had finished) is off during the run, so Ctrl-C raises
        ``KeyboardInterrupt``; and a run that ended early anyway (stopped by another handler or by
        ``Network.stop``) raises :class:`SimulationIncomplete` (a ``KeyboardInterrupt``) before anything
        reads its monitors. ``executes=False``: a standalone device that only records the run
        (``build_on_run=False``): nothing ran, nothing to check."""
        import brian2

        network = brian2.Network(*self.objects)
        previous = brian2.prefs.core.stop_on_keyboard_interrupt
        brian2.prefs.core.stop_on_keyboard_interrupt = False
        try:
            network.run(self.layout.total_steps * self.dt * brian2.second, namespace={})  # groups carry their own
        finally:
            brian2.prefs.core.stop_on_keyboard_interrupt = previous
        if executes:
            check_complete(self.layout.total_steps)

    def activities(self) -> list[LayerActivity]:
        """Every layer's activity, sample by sample, from the monitors of the last run."""
        layout, activities = self.layout, []
        for n, spec, group, recorded, spikes, states, starts in self.watched:
            steps, units, samples = (
                layout.spikes(*spike_arrays(spikes, self.dt), n) if spikes is not None else (np.zeros(0, np.int64),) * 3
            )
            values = {}
            for name in recorded if states is not None else ():
                value = np.array(getattr(states, name)).T
                if value.shape[0] != layout.total_steps:
                    raise RuntimeError(
                        f"Brian2 recorded {value.shape[0]} steps of {name}, expected {layout.total_steps}"
                    )
                values[name] = layout.states(value, n)
            final = {
                name: layout.finals(
                    None if starts is None else np.array(getattr(starts, name)).T, np.array(getattr(group, name)[:]), n
                )
                for name in recorded
            }
            activities.append(LayerActivity(n, layout.batch, steps, units, samples, spec.main_variable, values, final))
        return activities


class SimulationIncomplete(KeyboardInterrupt):
    """A Brian2 run that stopped before its last step (Ctrl-C, ``Network.stop``): its results are not
    read, and the command stops as for Ctrl-C (exit status 130), storing nothing."""


def check_complete(total_steps: int) -> None:
    """Raise :class:`SimulationIncomplete` unless the device's last run simulated all ``total_steps``.

    Brian2 records the fraction of the requested duration each run completed (the runtime device in
    ``Network.run``, the standalone devices from the program's ``last_run_info.txt``); a run that
    stopped early lacks at least one step, so a fraction below ``1 - 0.5 / total_steps`` is incomplete
    (half a step absorbs the rounding of the fraction itself)."""
    import brian2

    fraction = brian2.get_device()._last_run_completed_fraction  # Brian2's record of the last run
    if fraction is None or fraction < 1 - 0.5 / total_steps:
        done = "an unknown number of" if fraction is None else f"{fraction * total_steps:.0f} of"
        raise SimulationIncomplete(f"the Brian2 run stopped after {done} {total_steps} steps (interrupted)")


def build_network(
    net: FeedForwardNet,
    stimulus: Stimulus,
    layout: Layout,
    *,
    discretization: str = "exact",
    record: bool = False,
    input_capacity: int | None = None,
) -> BuiltNetwork:
    """The Brian2 objects simulating ``net`` on ``stimulus`` laid out by ``layout`` (under the active device);
    ``input_capacity``: room for that many input spikes (see ``components.spike_source``)."""
    import brian2

    grid = stimulus.grid
    dt, batch = grid.dt, layout.copies
    brian2.defaultclock.dt = dt * brian2.second
    in_gap = brian2.TimedArray(layout.gap_flags(), dt=dt * brian2.second) if layout.multiplexed else None
    objects, source, watched, generator = [], None, [], None
    if stimulus.kind == "spikes":
        generator = spike_source(stimulus.spikes, dt, layout, capacity=input_capacity)
        objects.append(generator)
        source = Source(generator, net.n_inputs)
    for k, description in enumerate(net.layers):
        spec = get_spec(description.model)
        stochastic = description.noise is not None or description.escape is not None
        if stochastic and (layout.multiplexed or spec.structure is not Structure.POINT):
            raise BiosnnInputError(
                f"layer {k}: noise needs one copy of the network per sample (a noise draw is keyed on "
                "the neuron of its sample and the step, which time-multiplexed copies do not hold): leave copies "
                "unset"
            )
        params = net.resolved_params(k, dt)
        synapse = description.resolved_synapse()
        weights = np.asarray(net.weights[k], dtype=np.float64)
        held = layout.held(stimulus.held @ weights) if (k == 0 and stimulus.kind == "held") else None
        gate = None
        if spec.constant_input is not None and spec.constant_input.gated(params):
            gate = brian2.TimedArray(
                layout.onset_flags(spec.constant_input.onset_steps(params, dt)), dt=dt * brian2.second
            )
        layer = LAYER_BUILDERS[spec.structure](
            spec,
            params,
            n=description.n,
            batch=batch,
            synapse=synapse,
            reset=description.resolved_reset(),
            discretization=discretization,
            dt=dt,
            name=f"layer{k}",
            held_drive=held,
            in_gap=in_gap,
            bias_gate=gate,
            **({} if description.noise is None else {"noise": description.noise}),
            **({} if description.escape is None else {"escape": description.escape}),
        )
        if source is not None:
            slot = arrival_slot(grid.schedule, from_sender_cascade=source.output is Output.CHARGES)
            layer.connect(source, weights, slot=slot, dt=dt, delays=net.delays[k], name=f"hop{k}")
        recorded = spec.recorded_variables(synapse)
        spikes = brian2.SpikeMonitor(layer.group, name=f"spikes{k}") if spec.threshold is not None else None
        states = brian2.StateMonitor(layer.group, list(recorded), record=True, name=f"states{k}") if record else None
        starts = None
        if layout.multiplexed:  # the state at each window's start: the previous sample's final state
            starts = brian2.StateMonitor(
                layer.group,
                list(recorded),
                record=True,
                name=f"window_starts{k}",
                dt=layout.window_steps * dt * brian2.second,
            )
            objects += clamp_gaps(layer, name=f"layer{k}")
        objects += layer.objects + [m for m in (spikes, states, starts) if m is not None]
        watched.append((description.n, spec, layer.group, recorded, spikes, states, starts))
        source = Source(layer.group, description.n, spec.output)
    return BuiltNetwork(objects, layout, dt, generator, watched)


def run_network(
    net: FeedForwardNet,
    stimulus: Stimulus,
    *,
    target: str | None = None,
    discretization: str = "exact",
    record: bool = False,
    copies: int | None = None,
) -> list[LayerActivity]:
    """Simulate ``net`` on ``stimulus`` (its grid, schedule and batch); one activity per layer.

    ``copies``: copies of the network the batch runs on (None: one per sample; see ``layout.py``).
    """
    import brian2

    target = check_target(target)
    layout = layout_of(net, stimulus, copies)
    brian2.prefs.logging.file_log = False
    with brian_target(target):
        built = build_network(net, stimulus, layout, discretization=discretization, record=record)
        built.run()
        return built.activities()


def clamp_gaps(layer: PointLayer | CascadeLayer, *, name: str) -> list:
    """Every state variable of the layer's groups at its initial value in each gap step, after the arrivals
    (``in_gap`` in the layer's namespace; the initial values join it, with their units)."""
    import brian2

    runners = []
    for k, (group, initial) in enumerate(layer.state_groups):
        lines = []
        for var in dict.fromkeys(list(group.equations.diff_eq_names) + list(initial)):
            source = layer.spec.initial_group_variable(var) if group is layer.group else None
            if source is None:
                constant = f"initial_{group.name}_{var}"
                layer.namespace[constant] = brian2.Quantity(
                    float(np.asarray(initial.get(var, 0.0))), dim=group.variables[var].dim
                )
            else:  # one value per neuron (v starts at v_rest): the group variable itself
                constant = source
            lines.append(f"{var} = {var} * (1 - in_gap(t)) + {constant} * in_gap(t)")
        runners.append(
            group.run_regularly("\n".join(lines), when="before_thresholds", order=CLAMP_ORDER, name=f"{name}_clamp{k}")
        )
    return runners
