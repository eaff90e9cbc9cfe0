"""The study: its configurations, the planned series, orders and rows, and :func:`run_study`.

Part of the discretization study (:mod:`biosnn.studies.discretization`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...models import get_spec
from .config import FULL, StudyConfig
from .conventions import CONVENTION_EXAMPLES
from .discretizations import DISCRETIZATIONS
from .measures import (
    EXACT_TOLERANCE,
    ORDER_TOLERANCES,
    fitted_order,
    state_error,
)
from .off_grid import (
    OFF_GRID_CASES,
    REFERENCES,
    make_problem,
    nest_available,
    nest_module,
    off_grid_expectations,
    off_grid_row,
)
from .probes import SUBTHRESHOLD_PROBES, probe_expectation

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .discretizations import Discretization
    from .expectations import Expectation
    from .off_grid import OffGridCase
    from .probes import SubthresholdProbe


@dataclass(frozen=True)
class Series:
    """One line of the study: a (model, discretization, reference, scenario) over the dt ladder."""

    model: str
    discretization: str
    reference: str
    scenario: str  # "on_grid_subthreshold" | "off_grid"
    synapse: str
    variable: str
    expectations: Mapping[str, Expectation]
    rows: list


def planned_series(config: StudyConfig, *, nest: bool | None = None) -> list[tuple[str, Callable[[], list[Series]]]]:
    """Every block of the study, as ``(label, run)``: ``run()`` gives its :class:`Series` (one per discretization).
    Off-grid cases whose ground truth needs NEST are left out where NEST is not installed (``nest=False``)."""
    config = config.checked()
    nest = nest_available() if nest is None else nest
    plan = []
    for model in config.models:
        spec = get_spec(model)
        probe = SUBTHRESHOLD_PROBES.get(model)
        if probe is not None:
            for disc in DISCRETIZATIONS.values():
                if disc.applies_to(spec, probe.synapse):
                    plan.append((f"{model} {disc.name} on grid", _probe_series(probe, disc, config)))
        for case in OFF_GRID_CASES:
            if case.model != model or (REFERENCES[case.reference].needs_nest and not nest):
                continue
            # a time constant that shrinks with dt has no fixed continuous-time ground truth: on-grid probe only
            discs = [
                d
                for d in DISCRETIZATIONS.values()
                if d.applies_to(spec, case.synapse) and not d.time_constants_in_steps
            ]
            plan.append((f"{model} {case.synapse} off grid", _off_grid_series(case, discs, config)))
    return plan


def _probe_series(probe: SubthresholdProbe, disc: Discretization, config: StudyConfig):
    def run() -> list[Series]:
        rows = []
        for dt in config.dts:
            result = probe.run(disc, dt, config)
            err_max, err_mean = state_error(result.values, result.truth)
            rows.append(dict(dt=dt, state_error_max=err_max, state_error_mean=err_mean))
        return [
            Series(
                probe.model,
                disc.name,
                probe.reference,
                "on_grid_subthreshold",
                probe.synapse,
                probe.variable,
                {"state_error_max": probe_expectation(disc)},
                rows,
            )
        ]

    return run


def _off_grid_series(case: OffGridCase, discs: list[Discretization], config: StudyConfig):
    def run() -> list[Series]:
        spec = get_spec(case.model)
        problem = make_problem(case, config, config.seed)
        truth = REFERENCES[case.reference].solve(problem, config)
        out = []
        for disc in discs:
            rows = [off_grid_row(problem, truth, disc, dt, config) for dt in config.dts]
            expectations = {k: v for k, v in off_grid_expectations(spec, case.synapse).items() if k in rows[0]}
            out.append(
                Series(
                    case.model,
                    disc.name,
                    case.reference,
                    "off_grid",
                    case.synapse,
                    spec.main_variable,
                    expectations,
                    rows,
                )
            )
        return out

    return run


def series_orders(series: Series, dts: Sequence[float]) -> list[dict]:
    """The ``orders`` entries of one series: declared against measured, per measure."""
    out = []
    for measure, expectation in series.expectations.items():
        errors = [row.get(measure, float("nan")) for row in series.rows]
        entry = dict(
            model=series.model,
            discretization=series.discretization,
            reference=series.reference,
            scenario=series.scenario,
            synapse=series.synapse,
            measure=measure,
            declared_order=expectation.declared(),
            reason=expectation.reason,
        )
        if expectation.exact:
            worst = float(np.nanmax(errors))
            entry.update(
                measured_order=None,
                max_error=worst,
                tolerance=EXACT_TOLERANCE,
                within_tolerance=bool(worst < EXACT_TOLERANCE),
            )
        else:
            measured = fitted_order(dts, errors)
            tolerance = ORDER_TOLERANCES[measure].value
            entry.update(
                measured_order=measured,
                tolerance=tolerance,
                within_tolerance=bool(expectation.distance(measured) <= tolerance),
            )
        out.append(entry)
    return out


def series_rows(series: Series) -> list[dict]:
    return [
        dict(
            model=series.model,
            discretization=series.discretization,
            reference=series.reference,
            scenario=series.scenario,
            synapse=series.synapse,
            variable=series.variable,
            **row,
        )
        for row in series.rows
    ]


def run_study(config: StudyConfig = FULL, *, progress: bool = False, conventions: bool = True) -> dict:
    """The whole study: ``{"study", "config", "rows", "orders", "conventions", "references", "nest"}``."""
    from tqdm import tqdm

    config = config.checked()
    nest = nest_available()
    plan = planned_series(config, nest=nest)
    rows, orders = [], []
    for _label, run in tqdm(plan, desc="discretization study", unit="series", disable=not progress):
        for series in run():
            rows += series_rows(series)
            orders += series_orders(series, config.dts)
    out = dict(
        study="discretization",
        config=config_summary(config),
        nest=nest_version(),
        references={name: r.description for name, r in REFERENCES.items()},
        discretizations={name: d.description for name, d in DISCRETIZATIONS.items()},
        rows=rows,
        orders=orders,
    )
    if not nest:
        out["skipped"] = [
            f"{c.model} ({c.synapse}) against {c.reference}: NEST is not installed"
            for c in OFF_GRID_CASES
            if REFERENCES[c.reference].needs_nest
        ]
    if conventions:
        out["conventions"] = [
            example() for example in tqdm(CONVENTION_EXAMPLES, desc="convention examples", disable=not progress)
        ]
    return out


def config_summary(config: StudyConfig) -> dict:
    out = {k: getattr(config, k) for k in StudyConfig.__dataclass_fields__}
    out["dts"] = list(config.dts)
    out["models"] = list(config.models)
    out["fine_dt"] = config.dts[-1] / config.fine_factor
    return out


def nest_version() -> str | None:
    nest = nest_module()
    if nest is None:
        return None
    return str(getattr(nest, "__version__", None) or nest.build_info.get("version", "unknown"))
