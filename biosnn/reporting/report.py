"""One self-contained HTML page of everything biosnn has measured: ``biosnn report``.

:func:`build_report` gathers, from several results directories searched in turn
(the convention of :func:`biosnn.reporting.figures.locate`: the first directory holding a
file wins), the results that exist and renders each as a section:

* **validation**: ``report.json`` of ``biosnn validate`` (per model and network: cases, max |dv|,
  identical spikes, PASS/FAIL; every case in a folded table);
* **discretization study**: ``discretization.json`` (declared against measured orders, conventions);
* **studies**: the study results files (:data:`STUDIES`: StudyResults JSON, the perturbation
  sweep's SQLite table, the scaling benchmark), each as compact tables;
* **figures**: every PNG of the figures directory, embedded, grouped and captioned by
  :data:`biosnn.reporting.figures.FIGURES`.

The page says which inputs were absent. Every number in a table is a link to the command that
made it, listed verbatim (with the files found) in the page's "Commands" section: a results
file's top-level ``"command"``, else the command its study documents (:data:`DOCUMENTED_COMMANDS`).
Tables sort by a click on a header (numerically where the column holds numbers). The page loads
nothing: styles, script and images are inline, so it works offline and can be mailed as one file.
"""

from __future__ import annotations

import base64
import html
import json
import math
import shlex
from collections import defaultdict
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from biosnn.reporting.figures import FIGURES, locate

from ..core.errors import BiosnnInputError
from ..core.io import atomic_write_text, check_distinct, check_input_file, check_output_file, expected_layout, load_json
from ..studies.perturbation.table import read_points

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class Study:
    pattern: str  # glob under a results directory (biosnn.reporting.figures.locate)
    title: str
    kind: str = "json"  # "json": a JSON results file; "sweep": a perturbation sweep's SQLite table


#: The study results the report looks for, in the order of the page.
STUDIES: tuple[Study, ...] = (
    Study("lee_convergence.json", "Lee et al. WTA layer: Brian2 on a grid against the event-driven solution"),
    Study("lee_digits.json", "Lee et al. digits: accuracy against the lateral strength mu, torch and Brian2"),
    Study("lee_mnist.json", "Lee et al. on 5,000 MNIST digits: accuracy against mu, torch and Brian2, baselines"),
    Study("delay_rounding.json", "Learnt axonal delays rounded to the grid: torch and Brian2"),
    Study("oracle_errors.json", "Both backends against the 120-digit oracle at the edges of the parameter range"),
    Study("gamma_dt_table*.json", "Gamma-cascade networks trained at one dt, evaluated at dt, dt/2, dt/4"),
    Study("timing*/training.json", "Timing tasks: the trained networks and their rate-only baselines"),
    Study("timing*/sweep.sqlite", "Timing tasks: accuracy under perturbation (mean over perturbation seeds)", "sweep"),
    Study("plif_tau.json", "PLIF: learned and fixed membrane time constants from five initial values"),
    Study("scaling.json", "Cost against network size and duration, both backends"),
)
VALIDATION = "report.json"
DISCRETIZATION = "discretization.json"
#: The first columns of the discretization study's table of orders (its other fields follow).
ORDER_COLUMNS = ("model", "discretization", "reference", "measure", "declared_order", "measured_order")

#: The command each study documents for its results, for files that do not record their own:
#: ``{path}`` is the file found, ``{parent}`` its directory (and, for ``report.json``, values read from it).
DOCUMENTED_COMMANDS = {
    "report.json": "biosnn validate --models {models} --target {target} --seed {seed} --out {parent}",
    "lee_convergence.json": "python validation/lee_convergence.py --out {path}",
    "lee_digits.json": "python validation/lee_digits.py --out {path}",
    "lee_mnist.json": "python validation/lee_mnist.py --out {path}",
    "delay_rounding.json": "python validation/delay_rounding.py --out {path}",
    "oracle_errors.json": "python validation/oracle_errors.py --out {path}",
    "plif_tau.json": "python validation/plif_tau.py --out {path}",
    "gamma_dt_table*.json": "python validation/gamma_dt_table.py --out {path}",
    "timing*/training.json": "python validation/timing_study.py --out {parent}",
    "timing*/sweep.sqlite": "python validation/timing_study.py --out {parent}",
    "scaling.json": "python benchmarks/bench_scaling.py --out {parent}",
}

#: Keys of a run that identify it in the tables of its nested rows (besides every varying ``config.*``).
IDENTIFYING = ("name", "seed", "study")
#: Lists longer than this are left out of tables (loss histories) and named below them.
MAX_LIST = 8
#: The order of a sweep's backends in its table (biosnn.studies.perturbation.sweep's, without importing it: it imports torch).
SWEEP_BACKENDS = ("torch", "brian2", "rate_logistic", "rate_mlp")
#: Text cells longer than this (characters) are given room to wrap in.
LONG_TEXT = 40
#: The column of row labels in a table of runs (their position in the file).
INDEX = "#"


# -- commands ------------------------------------------------------------------------------------
RECORDED = "recorded in the file"
DOCUMENTED = "the study's documented command (the file records none)"
UNKNOWN = "the file records no command and its study documents none"


@dataclass
class Command:
    anchor: str
    text: str
    source: str  # RECORDED, DOCUMENTED or UNKNOWN
    files: list[str] = field(default_factory=list)


class Commands:
    """The commands behind the page's numbers, each with an anchor ``cmd-<n>`` and the files it wrote."""

    def __init__(self) -> None:
        self.entries: dict[str, Command] = {}

    def anchor(self, text: str, path: Path, source: str) -> str:
        entry = self.entries.get(text)
        if entry is None:
            entry = self.entries[text] = Command(f"cmd-{len(self.entries) + 1}", text, source)
        if str(path) not in entry.files:
            entry.files.append(str(path))
        return entry.anchor

    def for_file(self, path: Path, data: dict | None, pattern: str, **fields: object) -> str:
        """The anchor of the command that made ``path``: its recorded ``"command"``, else the documented one
        (``fields``: the template's values besides ``path`` and ``parent``)."""
        recorded = data.get("command") if isinstance(data, dict) else None
        if isinstance(recorded, str) and recorded.strip():
            return self.anchor(recorded, path, RECORDED)
        template = DOCUMENTED_COMMANDS.get(pattern)
        if template is None:
            return self.anchor(f"(unknown: {path.name} records no command)", path, UNKNOWN)
        text = template.format(path=shlex.quote(str(path)), parent=shlex.quote(str(path.parent)), **fields)
        return self.anchor(text, path, DOCUMENTED)

    def render(self) -> str:
        items = []
        for entry in self.entries.values():
            files = ", ".join(f"<code>{_esc(f)}</code>" for f in entry.files)
            items.append(
                f'<li id="{entry.anchor}"><pre>{_esc(entry.text)}</pre>'
                f'<p class="note">{_esc(entry.source)}; its results here: {files}</p></li>'
            )
        return _section(
            "commands",
            "Commands",
            f'<p>Every number above links to the command that made it.</p><ol class="commands">{"".join(items)}</ol>',
        )


# -- cells and tables ----------------------------------------------------------------------------
def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float))


def _is_number_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_number(v) for v in value)


def format_number(value: float) -> str:
    """An int as it is; a float with 4 significant digits (``nan``, ``inf`` spelled out)."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.4g}"


def _sort_key(value) -> str:
    """The ``data-sort`` attribute of a numeric cell (JavaScript's parseFloat reads it)."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def cell(value: object, anchor: str) -> str:
    """A ``<td>``: a number (or a short list of numbers) as a link to its command, anything else as text."""
    if _is_number(value):
        return (
            f'<td class="num" data-sort="{_sort_key(value)}"><a href="#{anchor}">{_esc(format_number(value))}</a></td>'
        )
    if _is_number_list(value):
        text = ", ".join(format_number(v) for v in value)
        return f'<td class="num" data-sort="{_sort_key(value[0])}"><a href="#{anchor}">{_esc(text)}</a></td>'
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if value is None:
        return "<td></td>"
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    elif isinstance(value, dict):
        value = json.dumps(value)
    text = str(value)
    return f'<td class="long">{_esc(text)}</td>' if len(text) > LONG_TEXT else f"<td>{_esc(text)}</td>"


def table(columns: list[str], rows: list[dict], anchor: str, caption: str | None = None, kind: str = "") -> str:
    """A sortable table of ``rows`` (dicts) under ``columns``; a row lacking a column gets an empty cell.
    The column :data:`INDEX` holds row labels (the position of a run in its file), not results; ``kind``:
    an extra CSS class."""
    head = "".join(f'<th scope="col" tabindex="0">{_esc(c)}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(_index_cell(row[c]) if c == INDEX else cell(row.get(c), anchor) for c in columns) + "</tr>"
        for row in rows
    )
    title = f"<caption>{_esc(caption)}</caption>" if caption else ""
    classes = " ".join(["sortable", kind]).strip()
    return f'<table class="{classes}">{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _index_cell(index: int) -> str:
    return f'<th scope="row" data-sort="{index}">{index}</th>'


def key_values(items: dict, anchor: str, caption: str | None = None) -> str:
    """A two-column table ``name | value``."""
    rows = [{"name": k, "value": v} for k, v in items.items()]
    return table(["name", "value"], rows, anchor, caption, kind="kv") if rows else ""


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{_esc(ident)}"><h2>{_esc(title)}</h2>{body}</section>'


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{_esc(summary)}</summary>{body}</details>"


# -- generic records -----------------------------------------------------------------------------
def flatten(record: dict, prefix: str = "") -> tuple[dict, dict, list[str]]:
    """``(scalars, nested, omitted)`` of a dict: scalars and short lists of scalars by dotted key (nested
    dicts flattened), lists of dicts by key, and the keys left out (long lists, lists of lists)."""
    scalars, nested, omitted = {}, {}, []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if key == "run_key":
            continue  # a hash of the configuration, shown by its fields
        if isinstance(value, dict):
            inner_scalars, inner_nested, inner_omitted = flatten(value, f"{name}.")
            scalars.update(inner_scalars)
            nested.update(inner_nested)
            omitted.extend(inner_omitted)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            nested[name] = value
        elif isinstance(value, list) and not (len(value) <= MAX_LIST and all(map(_is_scalar, value))):
            if value:
                omitted.append(f"{name} ({len(value)} values)")
        else:
            scalars[name] = value
    return scalars, nested, omitted


def _columns(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(c for row in rows for c in row))


def split_constant(rows: list[dict]) -> tuple[list[str], dict]:
    """``(varying columns, constant values)``: a column with one value in every row (of several) is
    shown once, beside the table, not repeated in it."""
    columns = _columns(rows)
    if len(rows) < 2:
        return columns, {}
    constant = {}
    for c in columns:
        values = [json.dumps(row.get(c), sort_keys=True) for row in rows]
        if all(c in row for row in rows) and len(set(values)) == 1:
            constant[c] = rows[0][c]
    return [c for c in columns if c not in constant], constant


def _unique(rows: list[dict], columns: list[str]) -> bool:
    """Whether ``columns`` tell every row apart."""
    keys = {json.dumps([row.get(c) for c in columns], sort_keys=True) for row in rows}
    return bool(columns) and len(keys) == len(rows)


def _beside(*parts: str) -> str:
    return '<div class="beside">' + "".join(p for p in parts if p) + "</div>"


def records(name: str, items: list[dict], anchor: str, *, compact: bool = True, leading: tuple[str, ...] = ()) -> str:
    """A list of dicts (runs, points, rows) as a table, the columns named in ``leading`` first.
    ``compact``: columns with one value in every row go to a key-value table beside it. Each nested
    list of dicts becomes a table of its own, its rows labelled by the columns that identify their
    parent (every varying ``config.*``, ``name``, ``seed``; the parent's index ``#`` when these do
    not tell the parents apart)."""
    flat = [flatten(item) for item in items]
    rows = [scalars for scalars, _, _ in flat]
    columns, constant = split_constant(rows) if compact else (_columns(rows), {})
    columns = [c for c in leading if c in columns] + [c for c in columns if c not in leading]
    nested_keys = list(dict.fromkeys(k for _, nested, _ in flat for k in nested))
    identifying = [c for c in columns if c in IDENTIFYING or c.startswith("config.")]
    if nested_keys and not _unique(rows, identifying):
        rows = [{INDEX: i, **row} for i, row in enumerate(rows)]
        columns, identifying = [INDEX, *columns], [INDEX, *identifying]
    parts = [
        _beside(
            table(columns, rows, anchor, f"{name}: {len(rows)}"), key_values(constant, anchor, "the same in every one")
        )
    ]
    for key in nested_keys:
        inner = [
            {**{c: rows[i].get(c) for c in identifying}, **flatten(entry)[0]}
            for i, (_, nested, _) in enumerate(flat)
            for entry in nested.get(key, [])
        ]
        inner_columns, inner_constant = split_constant(inner) if compact else (_columns(inner), {})
        parts.append(
            _beside(
                table(inner_columns, inner, anchor, f"{name}: {key}"),
                key_values(inner_constant, anchor, "the same in every row"),
            )
        )
    omitted = sorted(set(o for _, _, left in flat for o in left))
    if omitted:
        parts.append(f'<p class="note">Not shown: {_esc(", ".join(omitted))}.</p>')
    return "".join(parts)


def results_file(
    data: dict,
    anchor: str,
    order: tuple[str, ...] = (),
    folded: tuple[str, ...] = (),
    full: tuple[str, ...] = (),
    leading: dict[str, tuple[str, ...]] | None = None,
) -> str:
    """A JSON results file: its top-level values in a key-value table, each top-level list of dicts as
    :func:`records` (those named in ``order`` first; those in ``folded`` inside a closed ``<details>``;
    those in ``full`` with every column in the table; ``leading``: the first columns of a list's table)."""
    scalars, nested, omitted = flatten({k: v for k, v in data.items() if k != "command"})
    parts = [key_values(scalars, anchor)] if scalars else []
    for key in sorted(nested, key=lambda k: (order.index(k) if k in order else len(order), k)):
        body = records(key, nested[key], anchor, compact=key not in full, leading=(leading or {}).get(key, ()))
        parts.append(_details(f"{key} ({len(nested[key])} rows)", body) if key in folded else body)
    if omitted:
        parts.append(f'<p class="note">Not shown: {_esc(", ".join(omitted))}.</p>')
    return "".join(parts)


# -- sections ------------------------------------------------------------------------------------
def _load(path: Path, what: str) -> dict:
    data = load_json(path, what)
    if not isinstance(data, dict) or not data:
        raise BiosnnInputError(f"{what} {str(path)!r} holds no JSON object")
    return data


def validation_rows(report: dict) -> list[dict]:
    """One row per model and network of a ``biosnn validate`` report."""
    rows = []
    for name, m in report.get("models", {}).items():
        cases = m.get("cases", [])
        rows.append(
            {
                "name": name,
                "kind": "model",
                "result": "PASS" if m["passed"] else "FAIL",
                "cases": m["n_cases"],
                "layers": None,
                "spikes": m["n_spikes"],
                "max |dv|": m["max_abs_dv"],
                "spikes identical": all(c["agreement"]["spikes_identical"] for c in cases),
                "float32 max |dv|": max((c["float32"]["max_abs_dv"] for c in cases if "float32" in c), default=None),
            }
        )
    for name, m in report.get("networks", {}).items():
        a = m["agreement"]
        rows.append(
            {
                "name": name,
                "kind": "network",
                "result": "PASS" if m["passed"] else "FAIL",
                "cases": None,
                "layers": len(m["layers"]),
                "spikes": a["n_spikes_a"],
                "max |dv|": a["max_abs_dv"],
                "spikes identical": a["spikes_identical"],
            }
        )
    return rows


def case_rows(model: dict) -> list[dict]:
    """One row per case of one model of a ``biosnn validate`` report."""
    rows = []
    for c in model.get("cases", []):
        a, single = c["agreement"], c.get("float32", {})
        rows.append(
            {
                "case": c["label"],
                "result": "PASS" if c["passed"] else "FAIL",
                "spikes brian2": a["n_spikes_a"],
                "spikes torch": a["n_spikes_b"],
                "max |dv|": a["max_abs_dv"],
                **{f"max |d{k}|": v for k, v in a.get("max_abs_dstate", {}).items()},
                "float32 max |dv|": single.get("max_abs_dv"),
                "float32 spike mismatches": (
                    single["spikes_only_brian2"] + single["spikes_only_torch"] if single else None
                ),
                "brian2 s": c.get("brian2_seconds"),
                "torch s": c.get("torch_seconds"),
            }
        )
    return rows


def validation_section(path: Path, commands: Commands) -> str:
    with expected_layout(path):
        return _validation_section(path, commands)


def _validation_section(path: Path, commands: Commands) -> str:
    report = _load(path, "validation report")
    if "models" not in report or "networks" not in report:
        raise BiosnnInputError(f"{str(path)!r} is not a `biosnn validate` report (no models and networks)")
    names = [*report["models"], *report["networks"]]
    anchor = commands.for_file(
        path,
        report,
        VALIDATION,
        models=" ".join(shlex.quote(n) for n in names),
        target=shlex.quote(str(report.get("target", "numpy"))),
        seed=report.get("seed", 0),
    )
    rows = validation_rows(report)
    overall = "PASS" if report.get("passed") else "FAIL"
    settings = {k: report[k] for k in ("target", "v_tolerance", "seed", "python", "wall_seconds") if k in report}
    settings.update({f"version of {k}": v for k, v in report.get("versions", {}).items()})
    parts = [
        f'<p class="verdict {overall.lower()}">Overall: {overall} ({_esc(path)})</p>',
        table(list(rows[0]) if rows else ["name"], rows, anchor, "models and networks"),
        key_values(settings, anchor, "settings"),
    ]
    for name, m in report["models"].items():
        cases = case_rows(m)
        parts.append(
            _details(
                f"{name}: {len(cases)} cases",
                f'<p class="note">{_esc(m.get("citation", ""))}</p>'
                + table(list(dict.fromkeys(k for r in cases for k in r)), cases, anchor),
            )
        )
    for name, m in report["networks"].items():
        layers = [
            {
                "layer": k,
                "model": layer["model"],
                "n": layer["n"],
                "result": "PASS" if layer["passed"] else "FAIL",
                "spikes brian2": layer["agreement"]["n_spikes_a"],
                "spikes torch": layer["agreement"]["n_spikes_b"],
                "max |dv|": layer["agreement"]["max_abs_dv"],
            }
            for k, layer in enumerate(m["layers"])
        ]
        parts.append(
            _details(
                f"{name}: {m.get('description', '')} (schedule {m.get('schedule', '')})",
                table(list(layers[0]) if layers else ["layer"], layers, anchor),
            )
        )
    return _section("validation", "Validation: Brian2 reference against the torch mirror", "".join(parts))


def discretization_section(path: Path, commands: Commands) -> str:
    data = _load(path, "discretization study")
    anchor = commands.for_file(path, data, DISCRETIZATION)
    with expected_layout(path):
        body = results_file(
            data,
            anchor,
            order=("orders", "conventions", "rows"),
            folded=("rows",),
            full=("orders", "conventions"),
            leading={"orders": ORDER_COLUMNS},
        )
    return _section(
        "discretization",
        "Discretization study: declared and measured orders",
        f'<p class="note">{_esc(path)}</p>{body}',
    )


def sweep_rows(path: Path) -> list[dict]:
    """Accuracy per (network, dataset, kind, strength) with one column per backend and dt, the mean over
    the perturbation seeds; read from the sweep's SQLite table, read-only."""
    columns = ("network", "dataset", "kind", "strength", "seed", "backend", "dt", "accuracy")
    points = [tuple(row[c] for c in columns) for row in read_points(path, columns)]
    accuracy, seeds, runs = defaultdict(list), defaultdict(set), set()
    for network, dataset, kind, strength, seed, backend, dt, value in points:
        run = (backend, dt)
        runs.add(run)
        accuracy[(network, dataset, kind, strength), run].append(value)
        seeds[(network, dataset, kind, strength)].add(seed)
    order = sorted(
        runs, key=lambda r: (SWEEP_BACKENDS.index(r[0]) if r[0] in SWEEP_BACKENDS else len(SWEEP_BACKENDS), r[0], -r[1])
    )
    rows = []
    for point in sorted(seeds):
        network, dataset, kind, strength = point
        row = {"network": network, "dataset": dataset, "kind": kind, "strength": strength, "seeds": len(seeds[point])}
        for backend, dt in order:
            values = accuracy.get((point, (backend, dt)))
            if values:
                row[f"{backend} {dt * 1e3:g} ms"] = sum(values) / len(values)
        rows.append(row)
    return rows


def study_body(study: Study, path: Path, commands: Commands) -> str:
    if study.kind == "sweep":
        # the timing study writes the table beside its training.json, which records the study's command
        beside = path.parent / "training.json"
        anchor = commands.for_file(path, _load(beside, "results file") if beside.is_file() else None, study.pattern)
        rows = sweep_rows(path)
        if not rows:
            return '<p class="note">The table holds no point.</p>'
        columns, constant = split_constant(rows)
        return _beside(table(columns, rows, anchor, "accuracy"), key_values(constant, anchor, "the same in every row"))
    data = _load(path, "results file")
    return results_file(data, commands.for_file(path, data, study.pattern), order=("runs", "points", "rows"))


def studies_section(found: dict[Study, list[Path]], commands: Commands) -> str:
    parts = []
    for study, paths in found.items():
        for path in paths:
            with expected_layout(path):
                body = study_body(study, path, commands)
            parts.append(f'<article><h3>{_esc(study.title)}</h3><p class="note">{_esc(path)}</p>{body}</article>')
    return _section("studies", "Studies", "".join(parts))


# -- figures -------------------------------------------------------------------------------------
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: the largest figure embedded (a 300 dpi PNG of a full page is a few MB; anything far larger is not a figure)
FIGURE_MAX_BYTES = 64 * 2**20


def png_data_uri(path: Path) -> str:
    data = check_input_file(path, "figure", max_bytes=FIGURE_MAX_BYTES).read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        raise BiosnnInputError(f"figure {str(path)!r} is not a PNG file")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def figure_groups(pngs: list[Path]) -> list[tuple[str, str, list[Path]]]:
    """``(title, module, pngs)`` per registered figure that has PNGs, then the unregistered PNGs."""
    groups, claimed = [], set()
    for figure in FIGURES:
        mine = [p for p in pngs if p not in claimed and fnmatch(p.stem, figure.outputs)]
        claimed.update(mine)
        if mine:
            groups.append((figure.title, f"biosnn/reporting/figures/{figure.module}.py", mine))
    others = [p for p in pngs if p not in claimed]
    if others:
        groups.append(("Other figures", "", others))
    return groups


def figures_section(pngs: list[Path]) -> str:
    parts = []
    for title, module, paths in figure_groups(pngs):
        made_by = f' <span class="note">({_esc(module)})</span>' if module else ""
        images = "".join(
            f'<figure><img src="{png_data_uri(p)}" alt="{_esc(p.stem)}">'
            f"<figcaption>{_esc(p.name)}</figcaption></figure>"
            for p in paths
        )
        parts.append(f"<article><h3>{_esc(title)}{made_by}</h3>{images}</article>")
    return _section("figures", "Figures", "".join(parts))


# -- the page ------------------------------------------------------------------------------------
@dataclass
class Inputs:
    """What was found under the results directories (and the figures directory)."""

    validation: Path | None
    discretization: Path | None
    studies: dict[Study, list[Path]]
    figures: list[Path]
    absent: list[str]

    @property
    def empty(self) -> bool:
        return not (self.validation or self.discretization or self.studies or self.figures)


def find_inputs(roots: list[Path], figures_dir: Path | None) -> Inputs:
    absent = []

    def first(pattern: str) -> Path | None:
        found = locate(roots, pattern)
        if not found:
            absent.append(pattern)
        return found[0] if found else None

    validation, discretization = first(VALIDATION), first(DISCRETIZATION)
    studies = {}
    for study in STUDIES:
        found = locate(roots, study.pattern)
        if found:
            studies[study] = found
        else:
            absent.append(study.pattern)
    figures = sorted(figures_dir.rglob("*.png")) if figures_dir is not None else []
    if not figures:
        absent.append(f"*.png in {figures_dir}" if figures_dir is not None else "figures (no --figures given)")
    return Inputs(validation, discretization, studies, figures, absent)


def check_inputs(
    roots: Sequence[Path | str], figures_dir: Path | str | None, out: Path | str
) -> tuple[list[Path], Path | None, Path]:
    out = check_output_file(out, "report file")
    roots = [Path(r) for r in roots]
    if not roots:
        raise BiosnnInputError("no results directory given")
    for root in roots:
        if not root.is_dir():
            raise BiosnnInputError(f"results directory {str(root)!r} does not exist or is not a directory")
    if figures_dir is not None:
        figures_dir = Path(figures_dir)
        if not figures_dir.is_dir():
            raise BiosnnInputError(f"figures directory {str(figures_dir)!r} does not exist or is not a directory")
    return roots, figures_dir, out


def contents(sections: list[tuple[str, str]]) -> str:
    links = "".join(f'<li><a href="#{ident}">{_esc(title)}</a></li>' for ident, title in sections)
    return f"<nav><ol>{links}</ol></nav>"


def inputs_note(inputs: Inputs, roots: list[Path]) -> str:
    searched = ", ".join(f"<code>{_esc(r)}</code>" for r in roots)
    absent = "".join(f"<li><code>{_esc(a)}</code></li>" for a in inputs.absent)
    text = f"<p>Results searched in {searched} (in turn: the first directory holding a file wins).</p>"
    if absent:
        text += f'<div id="absent"><p>Absent inputs (their sections are left out):</p><ul>{absent}</ul></div>'
    return text


def page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{_esc(title)}</title><style>{STYLE}</style></head>'
        f"<body><h1>{_esc(title)}</h1>{body}<script>{SCRIPT}</script></body></html>\n"
    )


def build_report(roots: list[Path], figures_dir: Path | None, out: Path) -> Path:
    """Write the report page of the results under ``roots`` (searched in turn) and the PNGs of
    ``figures_dir`` to ``out`` (atomically); return ``out``.

    The output path and every directory are checked before any work; no results at all is an error
    (:class:`~biosnn.core.errors.BiosnnInputError`), and nothing is written.
    """
    from ..core.version import __version__

    roots, figures_dir, out = check_inputs(roots, figures_dir, out)
    inputs = find_inputs(roots, figures_dir)
    if inputs.empty:
        raise BiosnnInputError(
            "no results found under "
            + ", ".join(map(str, roots))
            + (f" nor figures in {str(figures_dir)!r}" if figures_dir else "")
            + f"; looked for {VALIDATION}, {DISCRETIZATION}, "
            + ", ".join(s.pattern for s in STUDIES)
            + " (run `make demo` or a study first)"
        )
    read = [
        inputs.validation,
        inputs.discretization,
        *(p for paths in inputs.studies.values() for p in paths),
        *inputs.figures,
    ]
    check_distinct([(out, "report file")], [(path, "input") for path in read if path is not None])
    for path in inputs.figures:
        check_input_file(path, "figure", max_bytes=FIGURE_MAX_BYTES)
    commands = Commands()
    sections = []
    if inputs.validation:
        sections.append(("validation", "Validation", validation_section(inputs.validation, commands)))
    if inputs.discretization:
        sections.append(
            ("discretization", "Discretization study", discretization_section(inputs.discretization, commands))
        )
    if inputs.studies:
        sections.append(("studies", "Studies", studies_section(inputs.studies, commands)))
    if inputs.figures:
        sections.append(("figures", "Figures", figures_section(inputs.figures)))
    if commands.entries:
        sections.append(("commands", "Commands", commands.render()))
    body = (
        f'<p class="note">biosnn {_esc(__version__)}</p>'
        + contents([(i, t) for i, t, _ in sections])
        + inputs_note(inputs, roots)
        + "".join(html_ for _, _, html_ in sections)
    )
    atomic_write_text(out, page("biosnn report", body))
    return out


STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto; max-width: 1200px;
       padding: 0 1em; color: #1d1d1f; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
h3 { font-size: 1.1em; margin-top: 1.5em; }
.note { color: #555; font-size: .9em; }
.verdict { font-weight: 600; } .verdict.pass { color: #1a7f37; } .verdict.fail { color: #cf222e; }
table { border-collapse: collapse; margin: .6em 0 1em; font-size: .9em; display: block; overflow-x: auto; }
caption { text-align: left; font-weight: 600; padding: .2em 0; white-space: nowrap; }
th, td { border: 1px solid #d0d7de; padding: .25em .55em; }
th { white-space: nowrap; } td { max-width: 36em; vertical-align: top; }
th { background: #f3f4f6; cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " \\25B2"; } th[aria-sort="descending"]::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv td.num { text-align: left; } td.long { min-width: 22em; }
td.num a { color: inherit; text-decoration: none; border-bottom: 1px dotted #888; }
tbody tr:nth-child(even) { background: #fafbfc; }
details { margin: .4em 0; } summary { cursor: pointer; }
figure { margin: .5em 0 1.2em; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
.beside { display: flex; flex-wrap: wrap; gap: 0 2em; align-items: flex-start; }
th[scope="row"] { font-weight: normal; background: #f8f9fa; text-align: right; }
figcaption { font-size: .85em; color: #555; }
pre { background: #f6f8fa; padding: .5em; overflow-x: auto; margin: .2em 0; }
ol.commands li { margin-bottom: .8em; } li:target pre { outline: 2px solid #0969da; }
nav ol { columns: 2; }
"""

SCRIPT = """
(function () {
  function key(row, index, numeric) {
    var c = row.cells[index];
    if (!c) { return numeric ? NaN : ""; }
    return numeric ? parseFloat(c.getAttribute("data-sort")) : c.textContent.trim();
  }
  function sortBy(th) {
    var table = th.closest("table"), body = table.tBodies[0], index = th.cellIndex;
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.every(function (r) {
      var c = r.cells[index];
      return !c || c.textContent.trim() === "" || c.hasAttribute("data-sort");
    });
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    rows.sort(function (a, b) {
      var x = key(a, index, numeric), y = key(b, index, numeric);
      if (numeric) {
        if (isNaN(x) || isNaN(y)) { return isNaN(x) - isNaN(y); }
        return ascending ? x - y : y - x;
      }
      var order = x.localeCompare(y, undefined, {numeric: true});
      return ascending ? order : -order;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable thead th"), function (th) {
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(th); } });
  });
})();
"""
