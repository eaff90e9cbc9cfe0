"""Brian2 layer builders, one per :class:`~biosnn.core.spec.Structure`; everything else comes from the spec.

``LAYER_BUILDERS[spec.structure](spec, params, ...)`` builds the layer's
objects; ``layer.connect(source, weights, ...)`` then adds the hop from its
source. A layer holds ``group`` (the NeuronGroup of its neurons: spikes and
recorded variables), ``objects`` (every Brian2 object it created),
``state_groups`` (every group with state, and its initial values) and
``namespace`` (the names its code reads).

:class:`PointLayer` (``Structure.POINT``)::

    source --Synapses(w, on_pre = spec.synapses[synapse].on_pre, when = schedule slot, delays)-->
        NeuronGroup(B * N, spec equations, threshold, reset, refractory (R + 1) dt, method exact | euler)
    + lateral Synapses within each circuit (spec.lateral), + spec.floor once after every slot with arrivals
      and after the reset

In the gaps of a time-multiplexed batch (``biosnn/brian/layout.py``; ``in_gap``
given) the threshold is not tested.

Integration is ``exact`` (the linear ODEs' propagator computed in high precision,
``biosnn/brian/integration.py``) or Brian2's ``euler``. Refractoriness is passed as ``(R + 1) dt``
(``biosnn/core/schedule.py``). Held input is a ``TimedArray`` ``held_drive(t, i)``
holding ``X[n] @ W`` for each neuron.

:class:`CascadeLayer` (``Structure.CASCADE``, the gamma cascade)::

    source --on_pre B1 += 1 (schedule slot)--> cascades: NeuronGroup(B * N_in, B1..BK)
    cascades --Synapses(x_post = w * sum_k v_k B_k_pre  (summed))--> neurons: NeuronGroup(B * N)

A cascade sender (``Output.CHARGES``) exposes its own cascade, which its
receivers read directly (its reset adds the charge theta to its B1). The
summed variable is updated in ``before_thresholds`` after the pathways, so the
emission test of step n sees the buckets at t_{n+1} including the inputs
delivered in that step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.schedule import brian2_refractory
from ..core.spec import ModelSpec, Output, Structure
from ..core.units import SECOND
from .components import Source, batched_synapses, per_sample
from .draws import FUNCTIONS as DRAW_FUNCTIONS
from .draws import expression as draw_expression
from .integration import per_neuron_propagators, propagator_declarations, state_updater

if TYPE_CHECKING:
    import brian2

    from ..core.noise import EscapeNoise, WhiteNoise

#: order of the floor within its slot: after every pathway (order 0) and lateral circuit (order -2)
FLOOR_ORDER = 10
#: order of a lateral circuit within its slot: before the feed-forward pathways sharing it
LATERAL_ORDER = -2
#: order of a summed-variable update within ``before_thresholds``: after the pathways
SUMMED_ORDER = 10
#: order of the membrane noise within ``groups``: after the state updater (order 0)
NOISE_ORDER = 1
#: the group variables holding each neuron's noise coefficients a and s (biosnn/core/noise.py)
NOISE_DECAY, NOISE_SCALE = "noise_decay", "noise_scale"


def namespace(spec: ModelSpec, params: dict, in_gap: brian2.TimedArray | None = None) -> dict:
    """Brian2 namespace of a layer: every scalar parameter (times as quantities); per-neuron
    parameters are group variables instead; ``in_gap``, the gap flags of a time-multiplexed batch."""
    import brian2

    ns = {} if in_gap is None else {"in_gap": in_gap}
    group = {p.name for p in spec.group_parameters(params)}
    for p in spec.parameters:
        if p.name in group or p.vector or p.structural:
            continue
        ns[p.name] = params[p.name] * brian2.second if p.unit == SECOND else params[p.name]
    if spec.cascade is not None:
        ns.update({symbol: tau * brian2.second for symbol, tau in spec.cascade.symbols(params).items()})
    return ns


def gated(threshold: str | None, in_gap: brian2.TimedArray | None) -> str | None:
    """The threshold, tested only outside the gaps of a time-multiplexed batch (``layout.py``)."""
    if threshold is None or in_gap is None:
        return threshold
    return f"({threshold}) and in_gap(t) < 0.5"


def set_initial_state(group: brian2.NeuronGroup, spec: ModelSpec, params: dict, n: int, batch: int) -> None:
    """Per-neuron parameters and the spec's initial values, tiled over the batch (raw SI values)."""
    for p in spec.group_parameters(params):
        setattr(group, p.name + "_", per_sample(params[p.name], n, batch))
    for var, value in spec.initial_values(params).items():
        setattr(group, var + "_", per_sample(value, n, batch))


class PointLayer:
    """``B * N`` point neurons of ``spec`` (see the module docstring)."""

    def __init__(
        self,
        spec: ModelSpec,
        params: dict,
        *,
        n: int,
        batch: int,
        synapse: str,
        reset: str,
        discretization: str,
        dt: float,
        name: str,
        held_drive: np.ndarray | None = None,
        in_gap: brian2.TimedArray | None = None,
        bias_gate: brian2.TimedArray | None = None,
        noise: WhiteNoise | None = None,
        escape: EscapeNoise | None = None,
    ) -> None:
        import brian2

        self.spec, self.params, self.n, self.batch, self.name = spec, params, n, batch, name
        self.synapse = spec.synapse(synapse)
        self.namespace = namespace(spec, params, in_gap)
        if noise is not None or escape is not None:
            self.namespace.update(DRAW_FUNCTIONS)
        threshold = spec.threshold
        if escape is not None:  # fire when U < 1 - exp(-rho0 dt exp(x / delta)) (biosnn/core/noise.py)
            u = draw_expression("uniform", escape.seed, escape.stream)
            hazard = f"{escape.rho0 * dt!r} * exp(({spec.threshold_distance}) / {escape.delta!r})"
            threshold = f"{u} < -expm1(-{hazard})"
        if held_drive is not None:  # [T, B, N], X[n] @ W
            self.namespace["held_drive"] = brian2.TimedArray(
                held_drive.reshape(held_drive.shape[0], batch * n), dt=dt * brian2.second
            )
        if bias_gate is not None:  # the constant input's switch (spec.constant_input), 1.0 from its onset
            self.namespace[spec.constant_input.gate] = bias_gate
        reset_code = spec.resets[reset] if spec.threshold is not None else None
        if reset_code is not None and spec.floor is not None:  # the bound holds after the reset too
            reset_code += "\n" + spec.floor
        refractory = False
        if spec.refractory_parameter is not None:
            refractory = brian2_refractory(params[spec.refractory_parameter], dt) * brian2.second
        equations = spec.brian_equations(synapse, params)
        # time constants per neuron: each neuron's own exact propagator, held in group variables
        per_neuron_taus = [p.name for p in spec.group_parameters(params) if p.time_constant]
        if per_neuron_taus and discretization == "exact":
            equations += "\n" + propagator_declarations(equations, refractory is not False)
        if noise is not None:  # each neuron's noise coefficients (biosnn/core/noise.py)
            equations += f"\n{NOISE_DECAY} : 1 (constant)\n{NOISE_SCALE} : 1 (constant)"
        self.group = brian2.NeuronGroup(
            batch * n,
            equations,
            threshold=gated(threshold, in_gap),
            reset=reset_code,
            refractory=refractory,
            method=state_updater(discretization, dt),
            namespace=self.namespace,
            name=name,
        )
        set_initial_state(self.group, spec, params, n, batch)
        if per_neuron_taus and discretization == "exact":
            taus = {name: per_sample(params[name], n, batch) for name in per_neuron_taus}
            for variable, values in per_neuron_propagators(self.group, taus, dt).items():
                setattr(self.group, variable + "_", values)
        self.objects = [self.group]
        if noise is not None:
            self.objects.append(self._add_noise(noise, discretization, dt, refractory is not False))
        #: every group holding state, with its initial values (for the gaps of a time-multiplexed batch)
        self.state_groups = [(self.group, spec.initial_values(params))]
        self._floored: set[str] = set()
        if spec.lateral is not None and spec.lateral.active(params):
            self._add_lateral()

    def _add_noise(self, noise: WhiteNoise, discretization: str, dt: float, refractory: bool):
        """Membrane white noise: after the state update of every step (the ``groups`` slot, after the
        integrator), ``v += s sum_k a^(K-1-k) Z_(nK+k)`` where the membrane integrates (``biosnn/core/noise.py``;
        the sum in numpy's order, ``Z`` from ``biosnn_normal`` with element ``i`` and fine step
        ``t_in_timesteps K + k``)."""
        where = self.spec.membrane_noise
        tau = None if where.time_constant is None else self.params[where.time_constant]
        a, s = noise.coefficients(tau, discretization)
        setattr(self.group, NOISE_DECAY, per_sample(a, self.n, self.batch))
        setattr(self.group, NOISE_SCALE, per_sample(s, self.n, self.batch))
        k_steps = noise.fine_steps(dt)
        lines = []  # one statement per fine step (a nested expression of ~90 levels exceeds Brian2's parser)
        for k in range(k_steps):
            z = draw_expression("normal", noise.seed, noise.stream, step=f"t_in_timesteps * {k_steps} + {k}")
            lines.append(f"noise_sum = {z}" if k == 0 else f"noise_sum = noise_sum * {NOISE_DECAY} + {z}")
        gate = "int(not_refractory) * " if refractory else ""
        code = "\n".join(lines + [f"{where.variable} += {gate}noise_sum * {NOISE_SCALE}"])
        return self.group.run_regularly(code, when="groups", order=NOISE_ORDER, name=f"{self.name}_noise")

    def _add_lateral(self) -> None:
        import brian2

        pre, post = self.spec.lateral.pairs(self.n, self.params)
        if pre.size == 0:
            return  # circuits of one neuron: nothing to connect
        lateral = brian2.Synapses(
            self.group,
            self.group,
            on_pre=self.spec.lateral.on_pre,
            namespace=self.namespace,
            name=f"{self.name}_lateral",
        )
        offsets = (np.arange(self.batch) * self.n)[:, None]
        lateral.connect(i=(offsets + pre).ravel(), j=(offsets + post).ravel())
        lateral.pre.when, lateral.pre.order = self.spec.lateral.slot, LATERAL_ORDER
        self.objects.append(lateral)
        self._add_floor(self.spec.lateral.slot)

    def _add_floor(self, slot: str) -> None:
        """``spec.floor`` once after every arrival of ``slot``."""
        if self.spec.floor is None or slot in self._floored:
            return
        self._floored.add(slot)
        self.objects.append(
            self.group.run_regularly(self.spec.floor, when=slot, order=FLOOR_ORDER, name=f"{self.name}_floor_{slot}")
        )

    def connect(
        self, source: Source, weights: np.ndarray, *, slot: str, dt: float, delays: np.ndarray | None = None, name: str
    ) -> None:
        """The hop from ``source``: ``w = weights[i, j]`` within each sample, in ``slot``, with axonal delays."""
        syn = batched_synapses(
            source.group,
            self.group,
            weights,
            batch=self.batch,
            on_pre=self.synapse.on_pre,
            namespace=self.namespace,
            name=name,
            dt=dt,
            delays=delays,
            slot=slot,
        )
        self.objects.append(syn)
        self._add_floor(slot)


class CascadeLayer:
    """``B * N`` neurons reading the buckets of per-source cascades (see the module docstring)."""

    def __init__(
        self,
        spec: ModelSpec,
        params: dict,
        *,
        n: int,
        batch: int,
        synapse: str,
        reset: str,
        discretization: str,
        dt: float,
        name: str,
        held_drive: np.ndarray | None = None,
        in_gap: brian2.TimedArray | None = None,
        bias_gate: brian2.TimedArray | None = None,
    ) -> None:  # a cascade has no ConstantInput: bias_gate is always None here
        import brian2

        self.spec, self.params, self.n, self.batch, self.name = spec, params, n, batch, name
        self.synapse = spec.synapse(synapse)
        self.namespace = namespace(spec, params, in_gap)
        self.group = brian2.NeuronGroup(
            batch * n,
            spec.brian_equations(synapse, params),
            threshold=gated(spec.threshold, in_gap),
            reset=spec.resets[reset],
            method=state_updater(discretization, dt),
            namespace=self.namespace,
            name=name,
        )
        set_initial_state(self.group, spec, params, n, batch)
        self.objects = [self.group]
        self.state_groups = [(self.group, spec.initial_values(params))]

    def connect(
        self, source: Source, weights: np.ndarray, *, slot: str, dt: float, delays: np.ndarray | None = None, name: str
    ) -> None:
        import brian2

        cascade = self.spec.cascade
        n_src = weights.shape[0]
        read = cascade.read_weights(self.params, self.n, n_src)
        names = cascade.read_weight_names(self.params)
        if source.output is Output.CHARGES:
            cascades = source.group  # the sender's own cascade (its reset adds its charge to B1)
        else:
            cascades = brian2.NeuronGroup(
                self.batch * n_src,
                cascade.source_equations(self.params),
                method=state_updater("exact", dt),
                namespace=self.namespace,
                name=f"{name}_cascades",
            )
            feed = brian2.Synapses(
                source.group, cascades, on_pre=self.synapse.on_pre, namespace=self.namespace, name=f"{name}_feed"
            )
            feed.connect(j="i")
            feed.pre.when = slot
            self.objects += [cascades, feed]
            self.state_groups.append((cascades, {}))
        if read.ndim == 2:  # per neuron: group variables
            for k, var in enumerate(names):
                setattr(self.group, var, per_sample(read[:, k], self.n, self.batch))
        reader = batched_synapses(
            cascades,
            self.group,
            weights,
            batch=self.batch,
            model=cascade.reader_equations(self.params),
            namespace=self.namespace,
            name=f"{name}_reader",
            dt=dt,
        )
        if read.ndim == 3:  # per synapse, in the (sample, source, target) order of the connections
            for k, var in enumerate(names):
                setattr(reader, var, np.broadcast_to(read[:, :, k], (self.batch, n_src, self.n)).ravel())
        summed = reader.summed_updaters[f"{cascade.summed_variable}_post"]
        summed.when, summed.order = "before_thresholds", SUMMED_ORDER
        self.objects.append(reader)


LAYER_BUILDERS = {Structure.POINT: PointLayer, Structure.CASCADE: CascadeLayer}
