"""The discretization study (issue 14): each discretization of the torch mirror against ground truth, against dt.

What is measured, for every registered model and every discretization of its mirror, at each dt of
a ladder (coarsest first):

* **state error** -- the model's recorded state (``v``; the adaptation ``a``; the cascade's ``x``;
  the sigma-delta output ``y``) against the ground truth sampled on the mirror's grid:
  ``max_n |v[n] - v*(t_n - L dt)|`` and its mean over steps, samples and neurons. ``L`` is the
  delivery lag of the input (:func:`delivery_lag_steps`): biosnn's exact schedule adds an input
  spike of step k at the end of step k + 1, so ``v[n]`` estimates the continuous ``v*(t_n - 2 dt)``;
  a held drive has no lag.
* **spike measures** -- each spike label converted to its estimate of the continuous spike time
  (:func:`estimated_spike_times`: detection at the end of the labelled step, minus the lag), paired
  with the ground truth's spikes of the same neuron and sample (:func:`match_spikes`, nearest first
  within :data:`MATCH_WINDOW`): median and mean |spike-time error| of matched spikes, missed spikes
  (ground truth without a partner) and extra spikes (mirror without a partner) per ground-truth
  spike, and the van Rossum distance (:func:`van_rossum_distance`, van Rossum 2001, kernel
  :data:`VAN_ROSSUM_TAU`).
* **order of convergence** -- the slope of log(error) against log(dt) (:func:`fitted_order`),
  set beside the order each case declares (:class:`Expectation`).

Ground truth, per model (:data:`SUBTHRESHOLD_PROBES`, :data:`OFF_GRID_CASES`, :data:`REFERENCES`):

* subthreshold responses on the grid: closed forms (a held drive's exponential relaxation) and the
  120-digit oracle of ``biosnn/equivalence/oracle.py`` (current synapse, adaptation, dynamic-weight neuron,
  gamma cascade). Declared: ``exact`` is exact (rounding level), ``euler`` order 1, and PLIF with
  the field's ``tau0 = 2 dt`` (Fang et al. 2021) at every dt order 0: its time constant shrinks
  with the step, so refining the grid never removes the error;
* spiking responses to off-grid (continuous-time) inputs: the event-driven solvers of
  ``biosnn/equivalence/event_driven.py`` (LIF with delta synapses; Lee et al.'s neurons and WTA circuits),
  NEST's precise-spike ``iaf_psc_exp_ps`` (LIF with a current synapse; Hanuschkin et al. 2010),
  the exact superposition of exponentials (the non-spiking ``li``), and Brian2 at a fine dt for the
  rest (PLIF, adaptive LIF, gamma cascade). The grid moves every input to the start of its step,
  by up to one dt: declared order 1 for spike times, missed/extra spikes and the mean state error;
  order 1/2 for the van Rossum distance (a spike moved by ``delta`` adds ``1 - e^{-delta/tau}``,
  about ``delta / tau``, to the squared distance). Where the drive is smooth (a current synapse, a
  cascade) the threshold can be touched between two steps' tests, and such excursions, missed by the
  grid, add an order-2 share of mismatched spikes: declared between 1 and 2
  (:data:`GRAZING`). How far a measured order may stray, and why, is :data:`ORDER_TOLERANCES`.

Discretizations (:data:`DISCRETIZATIONS`): ``exact`` and ``euler`` (biosnn's), ``spikingjelly``
(spikes enter the Euler charge ``H = V + (X - (V - V_rest)) dt/tau`` as a drive held over their own
step, with weights scaled by ``tau / dt`` so that a spike carries the charge of a delta synapse of
weight w: spikingjelly's ``LIFNode``/``ParametricLIFNode(decay_input=True)`` fed with spikes; with a
held drive the mirror's Euler step already is spikingjelly's, ``tests/equivalence/test_spikingjelly.py``), and
``euler_tau0_2dt`` for models whose time constant has a default in steps.

Also here: the convention examples (NEST's end-of-step labels, delay rounding, the slot of the input
relative to the threshold test and the reset), each on one small network
(:data:`CONVENTION_EXAMPLES`). ``validation/discretization_study.py`` runs it all; the figure is
``biosnn/reporting/figures/fig_convergence.py``; ``docs/discretization.md`` gives the numbers.
"""

from __future__ import annotations

from .config import FULL, QUICK, StudyConfig
from .conventions import CONVENTION_EXAMPLES, EXAMPLE_DT, delay_rounding_example, input_slot_example, nest_label_example
from .discretizations import DISCRETIZATIONS, Discretization, case_parameters, fixed_time_constants
from .expectations import EULER, EXACT, GRAZING, ROUNDING, ROUNDING_VAN_ROSSUM, STEPS, Expectation
from .grid import GridState, delivery_lag_steps, estimated_spike_times
from .measures import (
    DTS,
    EXACT_TOLERANCE,
    FINE_FACTOR,
    FIRST_INPUT,
    INPUT_DEAD_TIME,
    MATCH_WINDOW,
    ORDER_TOLERANCES,
    VAN_ROSSUM_TAU,
    SpikeList,
    SpikeMatch,
    Tolerance,
    as_spike_list,
    check_dts,
    fitted_order,
    match_spikes,
    state_error,
    van_rossum_distance,
    van_rossum_rms,
)
from .off_grid import (
    OFF_GRID_CASES,
    REFERENCES,
    OffGridCase,
    Problem,
    Reference,
    ReferenceSolution,
    brian2_fine_reference,
    make_problem,
    nest_available,
    nest_module,
    nest_run,
    off_grid_expectations,
    off_grid_inputs,
    off_grid_row,
    run_mirror,
    smooth_drive,
    superposed_exponentials,
)
from .probes import (
    SUBTHRESHOLD_PROBES,
    ProbeRun,
    SubthresholdProbe,
    held_drive_levels,
    held_drive_response,
    probe_expectation,
)
from .study import (
    Series,
    config_summary,
    nest_version,
    planned_series,
    run_study,
    series_orders,
    series_rows,
)

__all__ = [
    "CONVENTION_EXAMPLES",
    "DISCRETIZATIONS",
    "DTS",
    "Discretization",
    "EULER",
    "EXACT",
    "EXACT_TOLERANCE",
    "EXAMPLE_DT",
    "Expectation",
    "FINE_FACTOR",
    "FIRST_INPUT",
    "FULL",
    "GRAZING",
    "GridState",
    "INPUT_DEAD_TIME",
    "MATCH_WINDOW",
    "OFF_GRID_CASES",
    "ORDER_TOLERANCES",
    "OffGridCase",
    "ProbeRun",
    "Problem",
    "QUICK",
    "REFERENCES",
    "ROUNDING",
    "ROUNDING_VAN_ROSSUM",
    "Reference",
    "ReferenceSolution",
    "STEPS",
    "SUBTHRESHOLD_PROBES",
    "Series",
    "SpikeList",
    "SpikeMatch",
    "StudyConfig",
    "SubthresholdProbe",
    "Tolerance",
    "VAN_ROSSUM_TAU",
    "as_spike_list",
    "brian2_fine_reference",
    "case_parameters",
    "check_dts",
    "config_summary",
    "delay_rounding_example",
    "delivery_lag_steps",
    "estimated_spike_times",
    "fitted_order",
    "fixed_time_constants",
    "held_drive_levels",
    "held_drive_response",
    "input_slot_example",
    "make_problem",
    "match_spikes",
    "nest_available",
    "nest_label_example",
    "nest_module",
    "nest_run",
    "nest_version",
    "off_grid_expectations",
    "off_grid_inputs",
    "off_grid_row",
    "planned_series",
    "probe_expectation",
    "run_mirror",
    "run_study",
    "series_orders",
    "series_rows",
    "smooth_drive",
    "state_error",
    "superposed_exponentials",
    "van_rossum_distance",
    "van_rossum_rms",
]
