"""The one Brian2 runner: a network description and its input -> Brian2 objects -> activity of every layer.

A single layer (``biosnn.simulate``) is a one-layer network; held input,
delta/current synapses, lateral circuits, gamma cascades, per-neuron and
per-synapse delays and batches of samples all run through this one path, on
every target (``biosnn/brian/targets.py``)::

    SpikeGeneratorGroup(B * N_in)  (or a held drive, TimedArray)
      --hop 0--> layer 0 --hop 1--> layer 1 ...      (LAYER_BUILDERS[spec.structure], biosnn/brian/layers.py)

A batch of B samples is B independent copies of the network in **one**
simulation. Every hop runs in the slot :func:`biosnn.schedule.arrival_slot`
gives (the exact schedule's ``before_thresholds``: one step per hop) plus its
axonal delays in whole steps. Each layer's spikes are recorded, and with
``record=True`` its spec's recorded variables at the start of every step.
"""

from __future__ import annotations

import numpy as np

from ..activity import LayerActivity
from ..equations import get_spec
from ..inputs import Stimulus
from ..network import FeedForwardNet
from ..schedule import arrival_slot
from ..spec import Output
from .components import Source, spike_arrays, spike_source
from .layers import LAYER_BUILDERS
from .targets import brian_target, check_target


def run_network(net: FeedForwardNet, stimulus: Stimulus, *, target: str | None = None,
                discretization: str = "exact", record: bool = False) -> list[LayerActivity]:
    """Simulate ``net`` on ``stimulus`` (its grid, schedule and batch); one activity per layer."""
    import brian2

    target = check_target(target)
    grid = stimulus.grid
    dt, batch = grid.dt, stimulus.batch_size
    brian2.prefs.logging.file_log = False
    with brian_target(target):
        brian2.defaultclock.dt = dt * brian2.second
        objects, source, watched = [], None, []
        if stimulus.kind == "spikes":
            generator = spike_source(stimulus.spikes, dt)
            objects.append(generator)
            source = Source(generator, net.n_inputs)
        for k, description in enumerate(net.layers):
            spec = get_spec(description.model)
            params = net.resolved_params(k, dt)
            synapse = description.resolved_synapse()
            weights = np.asarray(net.weights[k], dtype=np.float64)
            held = stimulus.held @ weights if (k == 0 and stimulus.kind == "held") else None
            layer = LAYER_BUILDERS[spec.structure](
                spec, params, n=description.n, batch=batch, synapse=synapse, reset=description.resolved_reset(),
                discretization=discretization, dt=dt, name=f"layer{k}", held_drive=held)
            if source is not None:
                slot = arrival_slot(grid.schedule, from_sender_cascade=source.output is Output.CHARGES)
                layer.connect(source, weights, slot=slot, dt=dt, delays=net.delays[k], name=f"hop{k}")
            recorded = spec.recorded_variables(synapse)
            spikes = brian2.SpikeMonitor(layer.group, name=f"spikes{k}") if spec.threshold is not None else None
            states = brian2.StateMonitor(layer.group, list(recorded), record=True, name=f"states{k}") if record else None
            objects += layer.objects + [m for m in (spikes, states) if m is not None]
            watched.append((description.n, spec, layer.group, recorded, spikes, states))
            source = Source(layer.group, description.n, spec.output)
        brian2.Network(*objects).run(grid.n_steps * dt * brian2.second, namespace={})  # groups carry their own
        activities = []
        for n, spec, group, recorded, spikes, states in watched:
            steps, units, samples = spike_arrays(spikes, n, dt) if spikes is not None else (np.zeros(0, np.int64),) * 3
            values = {name: np.array(getattr(states, name)).T.reshape(-1, batch, n) for name in recorded} \
                if states is not None else {}
            for name, value in values.items():
                if value.shape[0] != grid.n_steps:
                    raise RuntimeError(f"Brian2 recorded {value.shape[0]} steps of {name}, expected {grid.n_steps}")
            final = {name: np.array(getattr(group, name)[:]).reshape(batch, n) for name in recorded}
            activities.append(LayerActivity(n, batch, steps, units, samples, spec.main_variable, values, final))
    return activities
