"""Brian2 reference for a :class:`~biosnn.network.FeedForwardNet` (batched, one simulation).

Each layer is built exactly as the single-layer backend builds it
(``biosnn/brian/network.py``: NeuronGroup, lateral circuits, lower bounds); the
hops between layers are Synapses in the schedule's pathway slot, so every hop
costs one step, as in the torch mirror, plus its axonal delays (per presynaptic
neuron or per synapse), given to Brian2 as whole steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..equations import get_spec
from ..schedule import TimeGrid, delay_steps
from ..spikes import SpikeTrains
from .cascade import build_gamma_layer
from .network import _floor, _lateral, _namespace, _neuron_group
from .targets import brian_target, check_target


@dataclass
class LayerActivity:
    """Spikes (and optionally v ``[T, B, N]``) of one layer."""

    steps: np.ndarray
    units: np.ndarray
    samples: np.ndarray
    n: int
    batch: int
    v: np.ndarray | None = None           # [T, B, N] at the start of each step (record_v)
    final_v: np.ndarray | None = None     # [B, N] after the last step (the membrane readout)

    def counts(self) -> np.ndarray:
        """Spike counts ``[B, N]``."""
        out = np.zeros((self.batch, self.n), dtype=np.int64)
        np.add.at(out, (self.samples, self.units), 1)
        return out

    def keys(self) -> set:
        return set(zip(self.samples.tolist(), self.units.tolist(), self.steps.tolist()))


def _connect(source, target, weights, *, on_pre, slot, batch, namespace, name, dt, delays=None):
    import brian2
    from brian2 import Synapses

    n_src, n = weights.shape
    syn = Synapses(source, target, "w : 1", on_pre=on_pre, namespace=namespace, name=name)
    b, k, m = np.meshgrid(np.arange(batch), np.arange(n_src), np.arange(n), indexing="ij")
    syn.connect(i=(b * n_src + k).ravel(), j=(b * n + m).ravel())
    syn.w = np.broadcast_to(weights, (batch, n_src, n)).ravel()
    if delays is not None:
        steps = delay_steps(np.asarray(delays, dtype=np.float64), dt)
        per_synapse = steps[:, None] if steps.ndim == 1 else steps
        syn.delay = np.broadcast_to(per_synapse, (batch, n_src, n)).ravel() * dt * brian2.second
    syn.pre.when = slot
    return syn


def run_feedforward(net, spikes: SpikeTrains, *, dt: float, duration: float, target: str | None = None,
                    record_v: bool = False, schedule: str = "exact") -> list[LayerActivity]:
    import brian2
    from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor

    target = check_target(target)
    grid = TimeGrid.from_duration(dt, duration, schedule)
    if spikes.n_units != net.n_inputs:
        raise ValueError(f"spike trains have {spikes.n_units} units, the network {net.n_inputs} inputs")
    spikes.check_one_per_step(grid.dt)
    batch = spikes.batch_size
    brian2.prefs.logging.file_log = False
    with brian_target(target):
        brian2.defaultclock.dt = grid.dt * brian2.second
        source = SpikeGeneratorGroup(batch * net.n_inputs, spikes.sample_indices() * net.n_inputs + spikes.units,
                                     spikes.steps(grid.dt) * grid.dt * brian2.second, name="inputs")
        objects, monitors = [source], []
        source_is_gamma = False
        for k, layer in enumerate(net.layers):
            spec = get_spec(layer.model)
            params = net.resolved_params(k, grid.dt)
            if spec.extra.get("builder") == "cascade":
                if net.delays[k] is not None:
                    raise ValueError(f"layer {k}: axonal delays into gamma-cascade layers are not supported")
                n_src = net.n_inputs if k == 0 else net.layers[k - 1].n
                layer_objects, group = build_gamma_layer(
                    params, source=source, source_is_gamma=source_is_gamma, n_src=n_src, n=layer.n, batch=batch,
                    weights=np.asarray(net.weights[k], dtype=np.float64), slot=grid.pathway_slot, name=f"layer{k}")
                spike_mon = SpikeMonitor(group, name=f"spikes{k}")
                state_mon = StateMonitor(group, "y", record=True, name=f"v{k}") if record_v else None
                objects += layer_objects + [m for m in (spike_mon, state_mon) if m is not None]
                monitors.append((layer.n, group, spike_mon, state_mon))
                source, source_is_gamma = group, True
                continue
            source_is_gamma = False
            namespace = _namespace(spec, params)
            group = _neuron_group(spec, params, synapse=layer.resolved_synapse(), reset=layer.resolved_reset(),
                                  discretization="exact", n=layer.n, batch=batch, dt=grid.dt, namespace=namespace,
                                  name=f"layer{k}")
            hop = _connect(source, group, np.asarray(net.weights[k], dtype=np.float64),
                           on_pre=spec.synapse(layer.resolved_synapse()).on_pre, slot=grid.pathway_slot, batch=batch,
                           namespace=namespace, name=f"hop{k}", dt=grid.dt, delays=net.delays[k])
            objects += [group, hop]
            slots = {grid.pathway_slot}
            if spec.lateral is not None and spec.lateral.active(params):
                lateral = _lateral(group, spec, params, n=layer.n, batch=batch, namespace=namespace,
                                   name=f"lateral{k}")
                if lateral is not None:
                    objects.append(lateral)
                    slots.add(spec.lateral.slot)
            if spec.floor is not None:
                objects += [_floor(group, spec, slot, f"floor{k}_{slot}") for slot in sorted(slots)]
            spike_mon = SpikeMonitor(group, name=f"spikes{k}") if spec.threshold is not None else None
            state_mon = StateMonitor(group, "v", record=True, name=f"v{k}") if record_v else None
            objects += [m for m in (spike_mon, state_mon) if m is not None]
            monitors.append((layer.n, group, spike_mon, state_mon))
            source = group
        Network(*objects).run(grid.n_steps * grid.dt * brian2.second, namespace={})  # groups carry their own
        out = []
        for n, group, spike_mon, state_mon in monitors:
            if spike_mon is not None:
                index = np.array(spike_mon.i, dtype=np.int64)
                steps = np.rint(np.array(spike_mon.t / brian2.second) / grid.dt).astype(np.int64)
            else:
                index = steps = np.zeros(0, np.int64)
            main = "y" if "y" in group.variables else "v"  # gamma layers trace y
            v = np.array(getattr(state_mon, main)).T.reshape(-1, batch, n) if state_mon is not None else None
            final_v = np.array(getattr(group, main)[:]).reshape(batch, n)
            out.append(LayerActivity(steps, index % n, index // n, n, batch, v, final_v))
    return out
