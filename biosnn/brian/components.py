"""Public building blocks of the Brian2 reference: batched sources and connections.

A batch of B samples is B independent copies of the network in **one**
simulation: unit k of sample b of a group of N is index ``b * N + k``, and every
connection links units of the same sample only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..core.schedule import delay_steps
from ..core.spec import Output
from ..core.spikes import SpikeTrains

if TYPE_CHECKING:
    import brian2

    from .layout import Layout


@dataclass(frozen=True)
class Source:
    """What feeds a layer: a Brian2 group of ``n`` units per sample and what it emits."""

    group: object
    n: int
    output: Output = Output.SPIKES


def placed_spikes(
    spikes: SpikeTrains, dt: float, layout: Layout, capacity: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(generator index, step)`` of every input spike on its copy and in its window, sorted by step then
    index (Brian2's order); with ``capacity``, padded to that many entries by spikes after the run's end."""
    copy, step = layout.place(spikes.sample_indices(), spikes.steps(dt))
    index = copy * spikes.n_units + spikes.units
    order = np.lexsort((index, step))
    index, step = index[order], step[order]
    if capacity is not None:
        if len(index) > capacity:
            raise ValueError(f"{len(index)} input spikes exceed the capacity of {capacity}")
        padding = capacity - len(index)  # one per step after the end: never emitted, never two in a bin
        index = np.concatenate([index, np.zeros(padding, np.int64)])
        step = np.concatenate([step, layout.total_steps + 1 + np.arange(padding)])
    return index, step


def spike_source(
    spikes: SpikeTrains, dt: float, layout: Layout, *, capacity: int | None = None, name: str = "inputs"
) -> brian2.SpikeGeneratorGroup:
    """A SpikeGeneratorGroup of ``copies * n_units`` generators, each sample's spikes on its copy and in its
    window (``biosnn/brian/layout.py``), on Brian2's grid (``timestep()``); ``capacity``: see
    :func:`placed_spikes` (a compiled network's room for other inputs)."""
    import brian2

    index, step = placed_spikes(spikes, dt, layout, capacity)
    return brian2.SpikeGeneratorGroup(
        layout.copies * spikes.n_units, index, step * dt * brian2.second, sorted=True, name=name
    )


def batched_synapses(
    source: brian2.NeuronGroup | brian2.SpikeGeneratorGroup,
    target: brian2.NeuronGroup,
    weights: np.ndarray,
    *,
    batch: int,
    model: str = "w : 1",
    on_pre: str | None = None,
    namespace: dict | None = None,
    name: str,
    dt: float,
    delays: np.ndarray | None = None,
    slot: str | None = None,
) -> brian2.Synapses:
    """Synapses from every unit of ``source`` to every unit of ``target`` within each sample.

    ``weights [n_src, n]`` set ``w``; ``delays`` (s): ``None``, one per presynaptic
    unit ``[n_src]`` or one per synapse ``[n_src, n]``, rounded to whole steps as
    Brian2 rounds them (``biosnn.core.schedule.delay_steps``); ``slot``: the pathway's ``when``.
    Synapse ``(b, i, j)`` is the ``(b * n_src + i) * n + j``-th created, so per-synapse
    arrays laid out ``[batch, n_src, n]`` can be assigned in order.
    """
    import brian2

    n_src, n = weights.shape
    syn = brian2.Synapses(source, target, model, on_pre=on_pre, namespace=namespace, name=name)
    b, i, j = np.meshgrid(np.arange(batch), np.arange(n_src), np.arange(n), indexing="ij")
    syn.connect(i=(b * n_src + i).ravel(), j=(b * n + j).ravel())
    syn.w = np.broadcast_to(weights, (batch, n_src, n)).ravel()
    if delays is not None:
        steps = delay_steps(np.asarray(delays, dtype=np.float64), dt)
        per_synapse = steps[:, None] if steps.ndim == 1 else steps
        syn.delay = np.broadcast_to(per_synapse, (batch, n_src, n)).ravel() * dt * brian2.second
    if slot is not None and on_pre is not None:
        syn.pre.when = slot
    return syn


def per_sample(values: float | np.ndarray, n: int, batch: int) -> np.ndarray:
    """A per-neuron value (scalar or ``[n]``) tiled over the batch: ``[batch * n]``."""
    return np.tile(np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)), batch)


def spike_arrays(monitor: brian2.SpikeMonitor, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """``(index, step)`` of every spike a SpikeMonitor recorded."""
    import brian2

    index = np.array(monitor.i, dtype=np.int64)
    steps = np.rint(np.array(monitor.t / brian2.second, dtype=np.float64) / dt).astype(np.int64)
    return index, steps
