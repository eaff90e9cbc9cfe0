"""The cost of conventions, each on one small example: NEST's end-of-step labels, delay rounding, the
slot of the input within a step.

Part of the discretization study (:mod:`biosnn.studies.discretization`).
"""

from __future__ import annotations

import math

import numpy as np

from ...core.schedule import delay_steps
from ...core.spikes import SpikeTrains
from ...equivalence.event_driven import lif_delta_event_driven
from ...models import get_spec
from .grid import delivery_lag_steps, estimated_spike_times
from .measures import VAN_ROSSUM_TAU, van_rossum_distance
from .off_grid import Problem, nest_available, nest_run
from .probes import _simulate

#: the grid of the convention examples (s)
EXAMPLE_DT = 1e-4


def _lif_example_params(**overrides) -> dict:
    return get_spec("lif").resolve(overrides, EXAMPLE_DT)


def nest_label_example() -> dict:
    """NEST stamps a spike with the END of the step in which it is detected, Brian2 and biosnn with its START.

    One LIF with a current synapse, a few inputs; NEST's ``iaf_psc_exp`` receives every input when
    biosnn's exact schedule adds it (``tests/equivalence/test_nest.py``), so both run the same dynamics on the same
    grid; ``iaf_psc_exp_ps`` gives the precise crossing times on that axis.
    """
    name = "nest_end_of_step_label"
    description = (
        "NEST labels a spike with the end of the step in which it is detected, Brian2/biosnn with the "
        "start: the same spikes differ by exactly one dt; the start label is early by up to dt, the end "
        "label late by up to dt, against NEST's precise (off-grid) crossing times"
    )
    if not nest_available():
        return dict(name=name, description=description, skipped="NEST is not installed")
    dt = EXAMPLE_DT
    params = _lif_example_params(tau_m=10e-3, tau_s=2e-3, t_ref=2e-3)
    labels = np.array([10, 14, 60, 63, 66, 130, 131]) * dt
    spikes = SpikeTrains(labels, np.zeros(labels.size, np.int64), 1, 0.02)
    weights = np.array([[4.0]])
    problem = Problem("lif", "current", spikes, weights, params, "hard", 0.02)
    trace = _simulate(
        "lif",
        spikes,
        weights,
        dt=dt,
        n_steps=200,
        discretization="exact",
        params=params,
        synapse="current",
        backend="brian2",
    )
    delivered = labels + 2 * dt  # biosnn adds an input of step k at the end of step k + 1
    grid, _ = nest_run(problem, "iaf_psc_exp", dt, precise=False, input_times=delivered)
    precise, _ = nest_run(problem, "iaf_psc_exp_ps", dt, precise=True, input_times=delivered)
    start = np.sort(trace.spike_times)
    end = np.sort(grid.times)
    crossing = np.sort(precise.times)
    same = start.size == end.size == crossing.size
    return dict(
        name=name,
        description=description,
        dt_s=dt,
        tau_m_s=params["tau_m"],
        tau_s_s=params["tau_s"],
        biosnn_labels_s=start.tolist(),
        nest_labels_s=end.tolist(),
        precise_crossings_s=crossing.tolist(),
        same_spike_count=bool(same),
        label_difference_in_dt=((end - start) / dt).tolist() if start.size == end.size else None,
        start_label_error_in_dt=((start - crossing) / dt).tolist() if same else None,
        end_label_error_in_dt=((end - crossing) / dt).tolist() if same else None,
        van_rossum_raw=van_rossum_distance(start, end),
        van_rossum_after_shift=van_rossum_distance(start + dt, end),
        van_rossum_tau_s=VAN_ROSSUM_TAU,
    )


def delay_rounding_example() -> dict:
    """An axonal delay that is not a whole number of steps: biosnn (and Brian2 given whole steps) rounds with
    ``timestep(d) = int(d/dt + 1e-3)``, Brian2's own rule is ``int(d/dt + 0.5)`` (nearest), a naive cast
    ``int(d/dt)``. One input spike, one LIF that fires on it; the spike's error against the exact delay."""
    from ...models.network import FeedForwardNet, LayerSpec
    from ...simulation import simulate_network

    dt = EXAMPLE_DT
    params = _lif_example_params()
    t_input = 1e-3
    entries = []
    for delay in (0.36e-3, 4.9e-3):
        spikes = SpikeTrains([t_input], [0], 1, 0.01)
        net = FeedForwardNet(1, (LayerSpec("lif", 1, params, "delta"),), (np.array([[1.5]]),), (np.array([delay]),))
        (layer,) = simulate_network(net, spikes, backend="torch", dt=dt, duration=0.01)
        label = float(layer.spike_steps[0] * dt)
        exact = t_input + delay
        estimate = float(estimated_spike_times(label, dt, delivery_lag_steps(held=False, spikes=True)))
        rules = {
            "biosnn_timestep": int(delay_steps(delay, dt)),
            "nearest": int(delay / dt + 0.5),
            "naive_cast": int(delay / dt),
        }
        entries.append(
            dict(
                delay_s=delay,
                delay_in_dt=delay / dt,
                steps=rules,
                error_s={k: v * dt - delay for k, v in rules.items()},
                exact_spike_s=exact,
                biosnn_estimate_s=estimate,
                biosnn_error_s=estimate - exact,
            )
        )
    return dict(
        name="delay_rounding",
        description=(
            "a delay between grid points is rounded to whole steps; the rule decides which: "
            "biosnn rounds down (Brian2's timestep(), as every other time), Brian2's own delay "
            "rule and NEST round to the nearest step, a naive int(d/dt) loses a whole step to "
            "float64 (4.9e-3/1e-4 = 48.99999999999999)"
        ),
        dt_s=dt,
        cases=entries,
    )


def input_slot_example() -> dict:
    """The order of input, threshold test and reset within a step (``biosnn/core/schedule.py``).

    biosnn's exact schedule adds an input spike before the threshold test (then the reset); Brian2's default
    slot adds it after the test, so the jump first decays for one step: an input crossing threshold by less
    than one step's decay is lost. One LIF, delta synapses, inputs on the grid, against the event-driven solution.
    """
    dt = EXAMPLE_DT
    params = _lif_example_params()
    decay = 1 - math.exp(-dt / params["tau_m"])
    v_th = params["v_th"]
    # first pair: crosses threshold by a quarter of one step's decay; second pair: by a wide margin
    first = 0.7 * v_th
    gap = 5e-4
    second = v_th * (1 + 0.25 * decay) - first * math.exp(-gap / params["tau_m"])
    times = np.array([1e-3, 1e-3 + gap, 6e-3, 6e-3 + gap])
    weights = np.array([first, second, first, 0.5 * v_th])
    spikes = SpikeTrains(times, np.arange(4), 4, 0.01)
    W = weights[:, None]
    exact = lif_delta_event_driven(
        spikes, W, tau_m=params["tau_m"], v_th=v_th, v_reset=params["v_reset"], v_rest=params["v_rest"]
    )
    labels = {}
    for schedule in ("exact", "brian2_default"):
        trace = _simulate(
            "lif",
            spikes,
            W,
            dt=dt,
            n_steps=100,
            discretization="exact",
            params=params,
            synapse="delta",
            schedule=schedule,
        )
        labels[schedule] = trace.spike_times.tolist()
    return dict(
        name="input_slot_and_reset_order",
        description=(
            "within a step biosnn's exact schedule runs input, threshold test, reset; Brian2's "
            "default slot runs threshold test, input, reset: a jump that crosses threshold by "
            "less than one step's decay is tested only after decaying and is lost"
        ),
        dt_s=dt,
        tau_m_s=params["tau_m"],
        one_step_decay=decay,
        overshoot_in_decays=0.25,
        event_driven_spikes_s=exact[0].tolist(),
        exact_schedule_labels_s=labels["exact"],
        brian2_default_labels_s=labels["brian2_default"],
        spikes_lost_by_default_slot=len(exact[0]) - len(labels["brian2_default"]),
        van_rossum_exact_schedule=van_rossum_distance(exact[0], np.asarray(labels["exact"]) - dt),
        van_rossum_default_slot=van_rossum_distance(exact[0], np.asarray(labels["brian2_default"]) - dt),
    )


CONVENTION_EXAMPLES = (nest_label_example, delay_rounding_example, input_slot_example)
