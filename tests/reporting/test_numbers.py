"""Numbers that cannot go stale (biosnn/reporting/numbers): every study number the README and docs/ quote is
a generated block, and the check fails when one differs from what its stored results give."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from biosnn.core.errors import BiosnnInputError
from biosnn.reporting.figures import STORED_RESULTS
from biosnn.reporting.numbers import BLOCKS, blocks_in, refresh, render_block, update

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_quoted_study_number_matches_its_stored_results():
    stale = update(PAGES, check=True)
    assert not stale, f"regenerate with `make numbers`: {stale}"


def test_the_readme_quotes_its_studies_through_blocks_only():
    names = blocks_in((ROOT / "README.md").read_text())
    render_block("gamma-dt")  # loads the registry
    assert names and set(names) <= set(BLOCKS)
    used = {name for page in PAGES for name in blocks_in(page.read_text())}
    assert used == set(BLOCKS), f"registered but quoted nowhere: {set(BLOCKS) - used}"


def _first_block(text: str) -> tuple[int, int]:
    start = text.index("<!-- numbers: ")
    return start, text.index("<!-- /numbers -->", start)


def test_a_number_edited_by_hand_is_caught_and_regenerated(tmp_path):
    page = tmp_path / "README.md"
    original = (ROOT / "README.md").read_text()
    start, end = _first_block(original)
    body = original[start:end]
    digit = next(i for i, c in enumerate(body) if c.isdigit() and i > body.index("-->"))
    edited = original[: start + digit] + str((int(body[digit]) + 1) % 10) + original[start + digit + 1 :]
    page.write_text(edited)
    name = blocks_in(edited)[0]
    assert update([page], check=True) == {page: [name]}
    assert page.read_text() == edited  # --check writes nothing
    assert update([page]) == {page: [name]}
    assert page.read_text() == original


def test_a_replaced_results_file_makes_the_text_stale(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(STORED_RESULTS, results)
    data = json.loads((results / "delay_rounding.json").read_text())
    data["runs"][0]["accuracy_brian2"] = 0.5
    (results / "delay_rounding.json").write_text(json.dumps(data))
    stale = update(PAGES, [results], check=True)
    assert [names for names in stale.values()] == [["delay-rounding"]]


def test_a_statistic_over_fewer_than_five_seeds_is_refused(tmp_path):
    data = json.loads((STORED_RESULTS / "delay_rounding.json").read_text())
    data["runs"] = [run for run in data["runs"] if run["config"]["seed"] < 4]
    (tmp_path / "delay_rounding.json").write_text(json.dumps(data))
    with pytest.raises(BiosnnInputError, match="at least 5"):
        render_block("delay-rounding", [tmp_path])


@pytest.mark.parametrize(
    "text, message",
    [
        ("<!-- numbers: gamma-dt -->\nx\n", "numbers marks"),  # no closing mark
        ("<!-- numbers: Gamma_dt -->\nx\n<!-- /numbers -->", "numbers marks"),  # a name outside the pattern
        ("<!-- numbers: no-such-study -->\nx\n<!-- /numbers -->", "unknown numbers block"),
    ],
)
def test_malformed_blocks_are_refused(text, message):
    with pytest.raises(BiosnnInputError, match=message):
        refresh(text)


def test_the_command_checks_rewrites_and_refuses(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Intro.\n<!-- numbers: delay-rounding -->\nstale\n<!-- /numbers -->\nOutro.\n")
    command = [sys.executable, "-m", "biosnn", "numbers"]
    check = subprocess.run([*command, "--check", str(page)], capture_output=True, text=True)
    assert check.returncode == 1 and "delay-rounding differs" in check.stderr
    assert "stale" in page.read_text()
    write = subprocess.run([*command, str(page)], capture_output=True, text=True)
    assert write.returncode == 0, write.stderr
    assert page.read_text().startswith("Intro.\n<!-- numbers: delay-rounding -->\n| delays |")
    again = subprocess.run([*command, "--check", str(page)], capture_output=True, text=True)
    assert again.returncode == 0 and "matches" in again.stdout
    refused = subprocess.run([*command, str(tmp_path)], capture_output=True, text=True)
    assert refused.returncode == 2 and "regular file" in refused.stderr


def test_a_mark_shown_in_a_code_fence_is_an_example_not_a_block():
    text = "```\n<!-- numbers: no-such-study -->\nexample\n<!-- /numbers -->\n```\n<!-- numbers: delay-rounding -->\nold\n<!-- /numbers -->\n"
    new, changed = refresh(text)
    assert changed == ["delay-rounding"] and new.startswith("```\n<!-- numbers: no-such-study -->\nexample\n")
    assert blocks_in(text) == ["delay-rounding"]


def _stale_page(text_before: str = "Intro.\n", newline: str = "\n") -> str:
    return (text_before + "<!-- numbers: delay-rounding -->\nold\n<!-- /numbers -->\nOutro.\n").replace("\n", newline)


def test_a_rewrite_keeps_line_endings_mode_and_links(tmp_path):
    import os
    import stat

    crlf = tmp_path / "crlf.md"
    crlf.write_bytes(_stale_page(newline="\r\n").encode())
    target = tmp_path / "target.md"
    target.write_text(_stale_page())
    os.chmod(target, 0o600)
    link = tmp_path / "link.md"
    link.symlink_to(target)
    update([crlf, link])
    data = crlf.read_bytes()
    assert b"| delays |" in data and data.count(b"\r\n") == data.count(b"\n")  # every line still CRLF
    assert link.is_symlink() and "| delays |" in target.read_text()  # the link kept, its target rewritten
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "example",
    [
        "````\n```\n<!-- numbers: no-such -->\n```\n````\n",  # a longer fence holding a shorter one
        "- item\n\n    ```\n    <!-- numbers: no-such -->\n    ```\n",  # an indented fence in a list
        "Inline: `<!-- numbers: no-such -->` is text.\n",  # not a line of its own
    ],
)
def test_examples_of_marks_are_left_alone(example):
    new, changed = refresh(_stale_page(example))
    assert changed == ["delay-rounding"] and new.startswith(example)


def test_an_unclosed_fence_hides_the_rest_of_the_page():
    text = "```\n" + _stale_page()
    assert refresh(text) == (text, [])


def test_a_malformed_results_file_is_a_clear_error(tmp_path):
    (tmp_path / "delay_rounding.json").write_text(json.dumps({"runs": [{"config": {"seed": 0}}]}))
    with pytest.raises(BiosnnInputError, match="do not have the layout its study writes"):
        render_block("delay-rounding", [tmp_path])
    (tmp_path / "delay_rounding.json").write_text("[1, 2]")
    with pytest.raises(BiosnnInputError, match="JSON object"):
        render_block("delay-rounding", [tmp_path])
    with pytest.raises(BiosnnInputError, match="not a directory"):
        render_block("delay-rounding", [tmp_path / "missing"])
