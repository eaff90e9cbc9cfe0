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
"""

from __future__ import annotations

import numpy as np

from ..equations import get_spec
from ..inputs import Stimulus
from ..schedule import brian2_refractory
from ..trace import Trace
from ..units import SECOND
from .targets import brian_target, check_target

METHODS = {"exact": "exact", "euler": "euler"}


def _namespace(spec, params: dict) -> dict:
    import brian2

    ns = {}
    for p in spec.parameters:
        ns[p.name] = params[p.name] * brian2.second if p.unit == SECOND else params[p.name]
    return ns


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


def run_brian(model: str, stimulus: Stimulus, params: dict, *, synapse: str, reset: str,
              discretization: str = "exact", target: str | None = None, dtype: str = "float64") -> Trace:
    import brian2
    from brian2 import Network, NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses, TimedArray

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
        equations = spec.brian_equations(synapse, params)
        reset_code = spec.resets[reset]
        explicit_clamp = discretization == "exact" and _needs_explicit_clamp(spec, synapse, params)
        events = {}
        if explicit_clamp:
            equations = equations.replace("(unless refractory)", "") + "\nv_hold : 1"
            reset_code += "\nv_hold = v"
            events = {"refractory_clamp": "not not_refractory"}
        group = NeuronGroup(
            batch * n, equations, threshold=spec.threshold, reset=reset_code, events=events,
            refractory=brian2_refractory(params[spec.refractory_parameter], dt) * brian2.second,
            method=METHODS[discretization], namespace=namespace, name="neurons",
        )
        if explicit_clamp:
            group.set_event_schedule("refractory_clamp", when="groups", order=1)
            group.run_on_event("refractory_clamp", "v = v_hold", when="groups", order=2)
        group.v = params["v_rest"]
        objects = [group]
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
        recorded = ["v", *syn.state_variables]
        state_monitor = StateMonitor(group, recorded, record=True, name="state_monitor")
        spike_monitor = SpikeMonitor(group, name="spike_monitor")
        net = Network(*objects, state_monitor, spike_monitor)
        net.run(grid.n_steps * dt * brian2.second, namespace=namespace)
        values = {name: np.array(getattr(state_monitor, name)).T.reshape(-1, batch, n) for name in recorded}
        spike_index = np.array(spike_monitor.i, dtype=np.int64)
        spike_t = np.array(spike_monitor.t / brian2.second, dtype=np.float64)

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
