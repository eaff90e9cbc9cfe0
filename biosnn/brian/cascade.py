"""Brian2 reference for the gamma-cascade neuron (``equations/gamma_cascade.py``).

Built objects (batch of B samples as independent copies)::

    SpikeGeneratorGroup(B*N_in) --on_pre B1 += 1 (exact-schedule slot)--> cascades: NeuronGroup(B*N_in, B1..BK)
    cascades --Synapses(x_post = w * sum_k v_k_post * Bk_pre  (summed))--> neurons: NeuronGroup(B*N)

The summed variable is evaluated in ``before_thresholds`` after the input
pathway, so the emission test at the end of step n sees the buckets at
t_{n+1} including the inputs delivered in that step. ``Trace.v`` holds y, and
``states`` hold x, r and theta, all recorded at the start of each step.
"""

from __future__ import annotations

import numpy as np

from ..equations import gamma_cascade as gc
from ..inputs import Stimulus
from ..trace import Trace
from .targets import brian_target, check_target


def cascade_namespace(params: dict) -> dict:
    import brian2

    ns = {"theta0": params["theta0"], "m_f": params["m_f"], "tau_theta": params["tau_theta"] * brian2.second}
    for k, tau in enumerate(gc.merged_bucket_taus(params)):
        ns[f"tau_b{k + 1}"] = tau * brian2.second
    return ns


def neuron_arrays(params: dict, n: int, n_inputs: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``bucket_weight`` as ``[N, K]`` (or ``[N_in, N, K]`` per synapse) and ``bias`` as ``[N]``, checked."""
    from ..errors import BiosnnInputError

    K = gc.n_buckets(params)
    v = np.asarray(params["bucket_weight"], dtype=np.float64)
    if v.ndim == 3:
        if n_inputs is not None and v.shape != (n_inputs, n, K):
            raise BiosnnInputError(
                f"gamma_cascade: per-synapse bucket_weight must be [N_in={n_inputs}, N={n}, K={K}], got {v.shape}")
    elif v.ndim == 0:
        v = np.full((n, K), float(v))
    elif v.shape == (K,):
        v = np.broadcast_to(v, (n, K)).copy()
    elif v.shape != (n, K):
        raise BiosnnInputError(f"gamma_cascade: bucket_weight must be a scalar, [K={K}] or [N={n}, K={K}], got {v.shape}")
    bias = np.broadcast_to(np.asarray(params["bias"], dtype=np.float64), (n,)).copy()
    return v, bias


def build_gamma_layer(params: dict, *, source, source_is_gamma: bool, n_src: int, n: int, batch: int,
                      weights: np.ndarray, slot: str, name: str):
    """Objects of one gamma layer reading ``source``; returns ``(objects, neurons)``.

    A gamma-layer source exposes its own cascade ``B1..BK`` and is read directly;
    any other source (spike generator, LIF layer) feeds a cascade group with
    q = 1 per spike in the schedule's pathway ``slot``.
    """
    from brian2 import NeuronGroup, Synapses

    spec = gc.SPEC
    K = gc.n_buckets(params)
    v, bias = neuron_arrays(params, n, n_src)
    namespace = cascade_namespace(params)
    objects = []
    if not source_is_gamma:
        cascades = NeuronGroup(batch * n_src, gc.cascade_equations(params), method="exact", namespace=namespace,
                               name=f"{name}_cascades")
        feed = Synapses(source, cascades, on_pre=spec.synapse("cascade").on_pre, name=f"{name}_feed")
        feed.connect(j="i")
        feed.pre.when = slot
        objects += [cascades, feed]
        source = cascades
    neurons = NeuronGroup(batch * n, gc.neuron_equations(params), threshold=spec.threshold,
                          reset=spec.resets["sigma_delta"], method="exact", namespace=namespace, name=name)
    neurons.theta = params["theta0"]
    neurons.bias = np.tile(bias, batch)
    if v.ndim == 2:
        for k in range(K):
            setattr(neurons, f"v_{k + 1}", np.tile(v[:, k], batch))
    reader = Synapses(source, neurons, gc.summed_input(params), namespace=namespace, name=f"{name}_reader")
    b, i, j = np.meshgrid(np.arange(batch), np.arange(n_src), np.arange(n), indexing="ij")
    reader.connect(i=(b * n_src + i).ravel(), j=(b * n + j).ravel())
    reader.w = np.broadcast_to(weights, (batch, n_src, n)).ravel()
    if v.ndim == 3:  # per synapse, in the (sample, source, target) order of the connections
        for k in range(K):
            setattr(reader, f"v_{k + 1}", np.broadcast_to(v[:, :, k], (batch, n_src, n)).ravel())
    summed = reader.summed_updaters["x_post"]
    summed.when, summed.order = "before_thresholds", 10
    objects += [neurons, reader]
    return objects, neurons


def run_cascade(model: str, stimulus: Stimulus, params: dict, *, target: str | None = None) -> Trace:
    import brian2
    from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor

    target = check_target(target)
    grid = stimulus.grid
    dt = grid.dt
    batch, n_in, n = stimulus.batch_size, stimulus.n_inputs, stimulus.n_neurons
    brian2.prefs.logging.file_log = False
    with brian_target(target):
        brian2.defaultclock.dt = dt * brian2.second
        sp = stimulus.spikes
        generator = SpikeGeneratorGroup(batch * n_in, sp.sample_indices() * n_in + sp.units,
                                        sp.steps(dt) * dt * brian2.second, name="inputs")
        objects, neurons = build_gamma_layer(params, source=generator, source_is_gamma=False, n_src=n_in, n=n,
                                             batch=batch, weights=stimulus.weights, slot=grid.pathway_slot,
                                             name="neurons")
        monitor = StateMonitor(neurons, ["y", "x", "r", "theta"], record=True, name="state_monitor")
        spikes = SpikeMonitor(neurons, name="spike_monitor")
        Network(generator, *objects, monitor, spikes).run(grid.n_steps * dt * brian2.second,
                                                               namespace={})  # the groups carry their own
        values = {name: np.array(getattr(monitor, name)).T.reshape(-1, batch, n) for name in ("y", "x", "r", "theta")}
        index = np.array(spikes.i, dtype=np.int64)
        steps = np.rint(np.array(spikes.t / brian2.second) / dt).astype(np.int64)
    y = values.pop("y")
    if not stimulus.batched:
        y = y[:, 0]
        values = {k: val[:, 0] for k, val in values.items()}
    return Trace.from_spike_steps(
        t=grid.times, v=y, steps=steps, units=index % n, samples=index // n, dt=dt, backend="brian2", target=target,
        states=values, meta=dict(model=model, params=params, schedule=grid.describe(), brian2_version=brian2.__version__,
                                 equations=gc.cascade_equations(params) + "\n" + gc.neuron_equations(params)),
    )
