"""The discretization study's figures render from its stored results (no simulation), and refuse results
without what they draw."""

import json
import shutil
from pathlib import Path

import pytest

from biosnn.core.errors import BiosnnInputError
from biosnn.reporting.figures import by_module, module_of

STORED = Path(__file__).resolve().parents[2] / "biosnn" / "reporting" / "figures" / "results" / "discretization.json"
#: a 300 dpi PNG of a figure with lines and text is far larger than an empty one
MIN_PNG_BYTES = 10_000


def _check(directory: Path, stem: str):
    png, pdf = directory / f"{stem}.png", directory / f"{stem}.pdf"
    assert png.stat().st_size > MIN_PNG_BYTES
    assert pdf.read_bytes()[:4] == b"%PDF"


def test_conventions_render_from_the_stored_results(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(STORED, results / "discretization.json")
    written = module_of(by_module("fig_conventions")).render([results], tmp_path / "out")
    assert sorted(p.name for p in written) == ["conventions.pdf", "conventions.png"]
    _check(tmp_path / "out", "conventions")


def test_convergence_renders_a_small_study(tmp_path):
    """Two models of the stored study (a spiking one with every discretization, the non-spiking readout):
    one row of panels per model (the whole stored study renders the same way, in ~10 s)."""
    data = json.loads(STORED.read_text())
    keep = lambda r: r["model"] in ("plif", "li")  # noqa: E731
    small = dict(data, rows=[r for r in data["rows"] if keep(r)], orders=[o for o in data["orders"] if keep(o)])
    (tmp_path / "discretization.json").write_text(json.dumps(small))
    written = module_of(by_module("fig_convergence")).render([tmp_path], tmp_path)
    assert sorted(p.name for p in written) == ["convergence.pdf", "convergence.png"]
    _check(tmp_path, "convergence")


def test_refuses_results_without_rows_or_examples(tmp_path):
    (tmp_path / "discretization.json").write_text(json.dumps({"study": "discretization", "rows": [], "orders": []}))
    with pytest.raises(BiosnnInputError, match="no rows"):
        module_of(by_module("fig_convergence")).render([tmp_path], tmp_path)
    with pytest.raises(BiosnnInputError, match="convention example"):
        module_of(by_module("fig_conventions")).render([tmp_path], tmp_path)
