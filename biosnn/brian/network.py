"""Build and run the Brian2 reference for one layer of a model spec.

What is built (all from ``equations/<model>.py``)::

    SpikeGeneratorGroup(B * N_in)  --Synapses(on_pre=spec)-->  NeuronGroup(B * N)
                                       w = W[k, m] within each sample, when = schedule slot

A batch of B samples is B independent copies of the network in **one**
simulation: input unit k of sample b is generator ``b * N_in + k``, neuron m of
sample b is ``b * N + m``, and synapses only connect within a sample. Held input
is a ``TimedArray`` ``held_drive(t, i)`` holding ``X[n] @ W`` for each neuron.

Integration is ``method='exact'`` (the linear ODEs' matrix exponential, via
sympy) or ``'euler'`` for the discretization study. Delta and current pathways
run in the schedule's slot (``before_thresholds`` for the exact schedule) and
refractoriness is passed as ``(R + 1) dt``; ``biosnn/schedule.py`` explains both.
Lateral circuits (``spec.lateral``, e.g. WTA) connect the neurons of each
circuit within a sample and run in the spec's slot (the spike's own step). A
lower bound (``spec.floor``) is applied once after all arrivals of a slot.
"""

from __future__ import annotations

import numpy as np

from ..equations import get_spec
from ..errors import BiosnnInputError
from ..inputs import Stimulus
from ..schedule import brian2_refractory
from ..trace import Trace
from ..units import SECOND
from .targets import brian_target, check_target

METHODS = {"exact": "exact", "euler": "euler"}


def _needs_explicit_clamp(spec, synapse: str, params: dict) -> bool:
    """Merged time constants + ``(unless refractory)`` defeat Brian2's exact solver.

    The flag multiplies v's rate by ``int(not_refractory)``; with ``tau_s == tau_m``
    sympy's solution then divides by ``int(not_refractory) - 1`` (NaN whenever the
    neuron integrates). In that case the flag is dropped and the same clamp is
    written explicitly: the reset stores ``v_hold = v`` and an event run right
    after the state update restores ``v = v_hold`` while refractory.
    """
    used = set(spec.synapse(synapse).parameters)
    return any(a in used and params[a] == params[b] for a, b in spec.merged_time_constants)


def _namespace(spec, params: dict) -> dict:
    import brian2

    ns = {}
    for p in spec.parameters:
        if p.per_neuron:
            continue  # a group variable, set per neuron
        ns[p.name] = params[p.name] * brian2.second if p.unit == SECOND else params[p.name]
    return ns


def circuit_ids(n: int, circuit_size: float) -> np.ndarray:
    """Circuit index of each of ``n`` neurons (``circuit_size`` 0: one circuit)."""
    size = int(circuit_size)
    if size != circuit_size or size < 0:
        raise BiosnnInputError(f"circuit_size must be a non-negative integer, got {circuit_size!r}")
    if size == 0:
        return np.zeros(n, dtype=np.int64)
    if n % size:
        raise BiosnnInputError(f"circuit_size={size} does not divide the layer's {n} neurons")
    return np.arange(n, dtype=np.int64) // size


def _neuron_group(spec, params, *, synapse, reset, discretization, n, batch, dt, namespace, name):
    """The NeuronGroup of one layer (B copies of N neurons) and its helper objects."""
    import brian2
    from brian2 import NeuronGroup

    equations = spec.brian_equations(synapse, params)
    reset_code = spec.resets[reset]
    explicit_clamp = discretization == "exact" and _needs_explicit_clamp(spec, synapse, params)
    events = {}
    if explicit_clamp:
        equations = equations.replace("(unless refractory)", "") + "\nv_hold : 1"
        reset_code += "\nv_hold = v"
        events = {"refractory_clamp": "not not_refractory"}
    refractory = False
    if spec.refractory_parameter is not None:
        refractory = brian2_refractory(params[spec.refractory_parameter], dt) * brian2.second
    group = NeuronGroup(batch * n, equations, threshold=spec.threshold, reset=reset_code or None, events=events,
                        refractory=refractory, method=METHODS[discretization], namespace=namespace, name=name)
    if explicit_clamp:
        group.set_event_schedule("refractory_clamp", when="groups", order=1)
        group.run_on_event("refractory_clamp", "v = v_hold", when="groups", order=2)
    group.v = params.get("v_rest", 0.0)
    for p in spec.parameters:
        if p.per_neuron:
            setattr(group, p.name, np.tile(np.broadcast_to(params[p.name], (n,)), batch))
    for var, value in spec.initial_state.items():
        setattr(group, var + "_", value)
    return group


def _floor(group, spec, slot: str, name: str):
    """``spec.floor`` once after every arrival of ``slot`` (pathways have order < 10)."""
    return group.run_regularly(spec.floor, when=slot, order=10, name=name)


def _lateral(group, spec, params, *, n, batch, namespace, name):
    from brian2 import Synapses

    circuit = circuit_ids(n, params[spec.lateral.circuit_parameter])
    same = (circuit[:, None] == circuit[None, :]) & ~np.eye(n, dtype=bool)
    pre, post = np.nonzero(same)
    if pre.size == 0:
        return None  # circuits of one neuron: nothing to connect
    lateral = Synapses(group, group, on_pre=spec.lateral.on_pre, namespace=namespace, name=name)
    offsets = (np.arange(batch) * n)[:, None]
    lateral.connect(i=(offsets + pre).ravel(), j=(offsets + post).ravel())
    lateral.pre.when = spec.lateral.slot
    lateral.pre.order = -2  # before feed-forward arrivals sharing the slot (brian2_default schedule)
    return lateral


def run_brian(model: str, stimulus: Stimulus, params: dict, *, synapse: str, reset: str,
              discretization: str = "exact", target: str | None = None, dtype: str = "float64") -> Trace:
    import brian2
    from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses, TimedArray

    spec = get_spec(model)
    target = check_target(target)
    grid = stimulus.grid
    dt = grid.dt
    batch, n_in, n = stimulus.batch_size, stimulus.n_inputs, stimulus.n_neurons
    syn = spec.synapse(synapse)
    namespace = _namespace(spec, params)
    brian2.prefs.logging.file_log = False

    with brian_target(target):
        brian2.defaultclock.dt = dt * brian2.second
        if stimulus.kind == "held":
            drive = stimulus.held @ stimulus.weights  # [T, B, N]
            namespace["held_drive"] = TimedArray(drive.reshape(grid.n_steps, batch * n), dt=dt * brian2.second)
        group = _neuron_group(spec, params, synapse=synapse, reset=reset, discretization=discretization, n=n,
                              batch=batch, dt=dt, namespace=namespace, name="neurons")
        objects = [group]
        floor_slots = set()
        if stimulus.kind == "spikes":
            sp = stimulus.spikes
            generator = SpikeGeneratorGroup(
                batch * n_in, sp.sample_indices() * n_in + sp.units, sp.steps(dt) * dt * brian2.second,
                name="inputs",
            )
            synapses = Synapses(generator, group, "w : 1", on_pre=syn.on_pre, namespace=namespace, name="input_synapses")
            b, k, m = np.meshgrid(np.arange(batch), np.arange(n_in), np.arange(n), indexing="ij")
            synapses.connect(i=(b * n_in + k).ravel(), j=(b * n + m).ravel())
            synapses.w = np.broadcast_to(stimulus.weights, (batch, n_in, n)).ravel()
            synapses.pre.when = grid.pathway_slot
            objects += [generator, synapses]
            floor_slots.add(grid.pathway_slot)
        if spec.lateral is not None and spec.lateral.active(params):
            lateral = _lateral(group, spec, params, n=n, batch=batch, namespace=namespace, name="lateral")
            if lateral is not None:
                objects.append(lateral)
                floor_slots.add(spec.lateral.slot)
        if spec.floor is not None:
            objects += [_floor(group, spec, slot, f"floor_{slot}") for slot in sorted(floor_slots)]
        recorded = ["v", *syn.state_variables]
        state_monitor = StateMonitor(group, recorded, record=True, name="state_monitor")
        monitors = [state_monitor]
        if spec.threshold is not None:
            spike_monitor = SpikeMonitor(group, name="spike_monitor")
            monitors.append(spike_monitor)
        net = Network(*objects, *monitors)
        net.run(grid.n_steps * dt * brian2.second, namespace=namespace)
        values = {name: np.array(getattr(state_monitor, name)).T.reshape(-1, batch, n) for name in recorded}
        if spec.threshold is not None:
            spike_index = np.array(spike_monitor.i, dtype=np.int64)
            spike_t = np.array(spike_monitor.t / brian2.second, dtype=np.float64)
        else:  # a non-spiking model
            spike_index, spike_t = np.zeros(0, np.int64), np.zeros(0)

    if values["v"].shape[0] != grid.n_steps:
        raise RuntimeError(f"Brian2 recorded {values['v'].shape[0]} steps, expected {grid.n_steps}")
    v = values.pop("v")
    if not stimulus.batched:
        v = v[:, 0]
        values = {k: val[:, 0] for k, val in values.items()}
    return Trace.from_spike_steps(
        t=grid.times, v=v, steps=np.rint(spike_t / dt).astype(np.int64), units=spike_index % n,
        samples=spike_index // n, dt=dt, backend="brian2", target=target, states=values,
        meta=dict(model=model, params=params, synapse=synapse, reset=reset, discretization=discretization,
                  dtype=dtype, schedule=grid.describe(), brian2_version=brian2.__version__,
                  equations=spec.brian_equations(synapse, params)),
    )
