"""`biosnn report`: the page's structure, read back with an HTML parser (no browser; tests/reporting/test_report_browser.py
opens it in chromium)."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_inputs import write_discretization, write_figures, write_png, write_studies, write_validation

from biosnn.cli import main
from biosnn.core.results import StudyResults, command_line
from biosnn.equivalence.validate import validate_command
from biosnn.reporting.report import build_report, sweep_rows

VOID = {"meta", "link", "img", "br", "hr", "input"}
NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$|^-?(nan|inf)$")


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, attrs, parent, [], ""

    def iter(self, tag: str | None = None):
        for child in self.children:
            if tag is None or child.tag == tag:
                yield child
            yield from child.iter(tag)

    def all_text(self) -> str:
        return self.text + "".join(c.all_text() for c in self.children)


class Tree(HTMLParser):
    """The page as a tree of :class:`Node` (text kept on the innermost open element)."""

    def __init__(self, text: str):
        super().__init__()
        self.root = self.current = Node("document", {}, None)
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"</{tag}> closes nothing"
        self.current = node.parent

    def handle_data(self, data):
        self.current.text += data


def parse(path: Path) -> Node:
    return Tree(path.read_text()).root


@pytest.fixture
def results(tmp_path):
    """Two results directories (validation first, the rest second) and a figures directory."""
    write_validation(tmp_path / "demo")
    (tmp_path / "stored").mkdir()
    write_discretization(tmp_path / "stored")
    write_studies(tmp_path / "stored")
    write_figures(tmp_path / "figs")
    return [tmp_path / "demo", tmp_path / "stored"], tmp_path / "figs"


def sections(page: Node) -> dict[str, Node]:
    return {s.attrs["id"]: s for s in page.iter("section")}


def test_every_section_is_rendered_when_its_input_exists(results, tmp_path):
    roots, figs = results
    page = parse(build_report(roots, figs, tmp_path / "report.html"))
    found = sections(page)
    assert list(found) == ["validation", "discretization", "studies", "figures", "commands"]
    studies = [h.all_text() for h in found["studies"].iter("h3")]
    assert len(studies) == 5 and any("Gamma-cascade" in t for t in studies)
    assert any("perturbation" in t for t in studies)
    absent = [li.all_text() for li in next(d for d in page.iter("div") if d.attrs.get("id") == "absent").iter("li")]
    assert absent == ["lee_digits.json", "lee_mnist.json", "delay_rounding.json", "oracle_errors.json", "plif_tau.json"]
    captions = [c.all_text() for c in found["discretization"].iter("caption")]
    assert captions[:2] == ["orders: 2", "conventions: 1"]
    headers = [th.all_text() for th in next(found["discretization"].iter("table")).iter("th")]
    assert headers == [
        "model",
        "discretization",
        "reference",
        "measure",
        "declared_order",
        "measured_order",
        "scenario",
    ]
    validation = found["validation"].all_text()
    assert "lif" in validation and "network_gamma" in validation and "PASS" in validation


def test_absent_inputs_are_named_and_their_sections_left_out(tmp_path):
    write_validation(tmp_path / "only")
    page = parse(build_report([tmp_path / "only"], None, tmp_path / "report.html"))
    assert list(sections(page)) == ["validation", "commands"]
    absent = [li.all_text() for li in next(d for d in page.iter("div") if d.attrs.get("id") == "absent").iter("li")]
    assert absent == [
        "discretization.json",
        "lee_convergence.json",
        "lee_digits.json",
        "lee_mnist.json",
        "delay_rounding.json",
        "oracle_errors.json",
        "gamma_dt_table*.json",
        "timing*/training.json",
        "timing*/sweep.sqlite",
        "plif_tau.json",
        "scaling.json",
        "figures (no --figures given)",
    ]


def test_every_number_is_a_link_to_a_listed_command(results, tmp_path):
    roots, figs = results
    page = parse(build_report(roots, figs, tmp_path / "report.html"))
    anchors = {li.attrs["id"]: li for li in sections(page)["commands"].iter("li")}
    numbers = 0
    for td in page.iter("td"):
        text = td.all_text().strip()
        if not all(NUMBER.match(part.strip()) for part in text.split(",")) or not text:
            assert td.attrs.get("class") != "num", text
            continue
        numbers += 1
        links = list(td.iter("a"))
        assert len(links) == 1 and links[0].attrs["href"].startswith("#cmd-"), text
        assert links[0].attrs["href"][1:] in anchors, text
    assert numbers > 60
    listed = {li.attrs["id"]: next(li.iter("pre")).all_text() for li in anchors.values()}
    assert "biosnn validate --models lif network_gamma --target numpy --seed 0 --out demo-report" in listed.values()
    assert "python validation/gamma_dt_table.py --out results/gamma_dt_table.json" in listed.values()
    # the sweep records no command: it is the timing study's, recorded in the training file beside it
    recorded = "python validation/timing_study.py --out results/timing --quick"
    sweep_anchor = next(k for k, v in listed.items() if v == recorded)
    sweep_table = next(
        t for t in sections(page)["studies"].iter("table") if any("torch 1 ms" in th.all_text() for th in t.iter("th"))
    )
    assert {a.attrs["href"] for a in sweep_table.iter("a")} == {f"#{sweep_anchor}"}


def test_a_sweep_without_a_training_file_links_to_the_documented_command(results, tmp_path):
    roots, figs = results
    (roots[1] / "timing" / "training.json").unlink()
    page = parse(build_report(roots, figs, tmp_path / "report.html"))
    listed = [next(li.iter("pre")).all_text() for li in sections(page)["commands"].iter("li")]
    assert f"python validation/timing_study.py --out {roots[1] / 'timing'}" in listed


def test_figures_are_embedded_and_grouped_by_the_registry(results, tmp_path):
    roots, figs = results
    page = parse(build_report(roots, figs, tmp_path / "report.html"))
    images = list(page.iter("img"))
    assert [img.attrs["alt"] for img in images] == ["lee_convergence", "my_extra_plot"]
    for img in images:
        prefix, data = img.attrs["src"].split(",", 1)
        assert prefix == "data:image/png;base64"
        assert base64.b64decode(data) == (figs / f"{img.attrs['alt']}.png").read_bytes()
    groups = [h.all_text() for h in sections(page)["figures"].iter("h3")]
    assert groups[0].startswith("Lee et al. WTA layer") and "fig_lee_convergence" in groups[0]
    assert groups[1] == "Other figures"


def test_the_page_loads_nothing(results, tmp_path):
    roots, figs = results
    out = build_report(roots, figs, tmp_path / "report.html")
    page = parse(out)
    for node in page.iter():
        for attr in ("src", "href"):
            value = node.attrs.get(attr)
            if value is not None:
                assert value.startswith(("#", "data:")), (node.tag, value[:80])
    assert not [s for s in page.iter("script") if "src" in s.attrs] and not list(page.iter("iframe"))
    assert not re.search(r"url\(|@import", out.read_text())


def test_tables_are_sortable_and_text_escaped(results, tmp_path):
    roots, figs = results
    conventions = json.loads((roots[1] / "discretization.json").read_text())
    conventions["conventions"][0]["description"] = "<script>alert('x')</script> & <b>"
    (roots[1] / "discretization.json").write_text(json.dumps(conventions))
    out = build_report(roots, figs, tmp_path / "report.html")
    page = parse(out)
    assert "<script>alert" not in out.read_text() and "&lt;script&gt;alert" in out.read_text()
    assert len(list(page.iter("script"))) == 1 and "sortBy" in next(page.iter("script")).all_text()
    tables = list(page.iter("table"))
    assert tables and all("sortable" in t.attrs.get("class", "").split() and list(t.iter("thead")) for t in tables)
    for td in page.iter("td"):
        if td.attrs.get("class") == "num":
            float(td.attrs["data-sort"])  # the key the script sorts numeric columns by


def test_results_are_taken_from_the_first_directory_holding_them(results, tmp_path):
    roots, figs = results
    first = json.loads((roots[1] / "scaling.json").read_text())
    first["points"][0]["torch_inference"] = 12345.0
    (roots[0] / "scaling.json").write_text(json.dumps(first))
    text = sections(parse(build_report(roots, figs, tmp_path / "report.html")))["studies"].all_text()
    assert "1.234e+04" in text and str(roots[0] / "scaling.json") in text
    assert str(roots[1] / "scaling.json") not in text


def test_the_sweep_is_averaged_over_perturbation_seeds(results):
    roots, _ = results
    path = roots[1] / "timing" / "sweep.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("UPDATE points SET seed = 1, accuracy = 0.5 WHERE strength = 1.0 AND backend = 'torch'")
        db.execute(
            "INSERT INTO points SELECT network, dataset, kind, strength, 0, backend, dt, 0.7, n_samples, "
            "agreement, input_spikes, lost_spikes, binned, seconds, code_version FROM points "
            "WHERE strength = 1.0 AND backend = 'torch'"
        )
    db.close()
    rows = sweep_rows(path)
    assert [r["strength"] for r in rows] == [0.0, 0.5, 1.0] and [r["seeds"] for r in rows] == [1, 1, 2]
    assert rows[2]["torch 1 ms"] == pytest.approx(0.6) and rows[2]["brian2 0.25 ms"] == pytest.approx(0.746)
    assert list(rows[0]) == [
        "network",
        "dataset",
        "kind",
        "strength",
        "seeds",
        "torch 1 ms",
        "brian2 1 ms",
        "brian2 0.25 ms",
    ]


def _fails(argv, capsys, message: str):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_input_exits_2_and_writes_nothing(results, tmp_path, capsys):
    roots, figs = results
    out = tmp_path / "out" / "report.html"
    good = [str(r) for r in roots]
    _fails(["report", "--results", *good, str(tmp_path / "missing"), "--out", str(out)], capsys, "does not exist")
    _fails(
        ["report", "--results", *good, "--figures", str(tmp_path / "nofigs"), "--out", str(out)],
        capsys,
        "figures directory",
    )
    (tmp_path / "empty").mkdir()
    _fails(["report", "--results", str(tmp_path / "empty"), "--out", str(out)], capsys, "no results found")
    (tmp_path / "afile").write_text("")
    _fails(["report", "--results", *good, "--out", str(tmp_path / "afile" / "report.html")], capsys, "not a directory")
    _fails(["report", "--results", *good, "--out", str(tmp_path)], capsys, "is a directory")
    (roots[1] / "scaling.json").write_text("{not json")
    _fails(["report", "--results", *good, "--out", str(out)], capsys, "scaling.json")
    (roots[1] / "scaling.json").unlink()
    write_png(figs / "broken.png").write_bytes(b"GIF89a")
    _fails(["report", "--results", *good, "--figures", str(figs), "--out", str(out)], capsys, "not a PNG")
    broken = json.loads((roots[0] / "report.json").read_text())
    del broken["models"]["lif"]["cases"][0]["agreement"]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "report.json").write_text(json.dumps(broken))
    _fails(["report", "--results", str(tmp_path / "broken"), "--out", str(out)], capsys, "does not have the layout")
    assert not (tmp_path / "out").exists()
    assert main(["report", "--results", *good, "--out", str(out)]) == 0 and out.is_file()
    assert "report:" in capsys.readouterr().out


def test_the_commands_are_recorded():
    assert (
        command_line(["validation/lee_digits.py", "--out", "my results/x.json"])
        == "python validation/lee_digits.py --out 'my results/x.json'"
    )
    assert command_line(["/somewhere/.venv/bin/biosnn", "validate", "--out", "r"]) == "biosnn validate --out r"
    assert (
        validate_command(["li", "wta"], target="numpy", seed=3, out_dir="a b")
        == "biosnn validate --models li wta --target numpy --seed 3 --out 'a b'"
    )
    assert validate_command(None, target="cython", seed=0, out_dir="r").startswith("biosnn validate --models all ")


def test_study_results_record_their_command(tmp_path):
    results = StudyResults(tmp_path / "study.json", "study", command="python validation/x.py --out study.json")
    results.add({"accuracy": 0.5}, "k")
    assert json.loads((tmp_path / "study.json").read_text())["command"] == "python validation/x.py --out study.json"
    StudyResults(tmp_path / "other.json", "study").add({"accuracy": 0.5}, "k")
    assert json.loads((tmp_path / "other.json").read_text())["command"] == command_line()


def test_an_older_validation_report_gets_its_equivalent_command(tmp_path):
    report = json.loads(write_validation(tmp_path / "old").read_text())
    del report["command"]
    (tmp_path / "old" / "report.json").write_text(json.dumps(report))
    page = parse(build_report([tmp_path / "old"], None, tmp_path / "report.html"))
    listed = [next(li.iter("pre")).all_text() for li in sections(page)["commands"].iter("li")]
    assert listed == [f"biosnn validate --models lif network_gamma --target numpy --seed 0 --out {tmp_path / 'old'}"]
