"""Numbers that cannot go stale: every study number the README and the docs quote is generated.

A Markdown file marks each generated passage with a pair of HTML comments (invisible once rendered)::

    <!-- numbers: gamma-dt -->
    ...generated text, never edited by hand...
    <!-- /numbers -->

The name after ``numbers:`` is a block of :data:`BLOCKS`: a function that reads the stored results
(:data:`biosnn.reporting.figures.STORED_RESULTS`, or the directories given) and returns the passage.
``biosnn numbers FILE ...`` (``make numbers``) rewrites every block of the files (atomically) and
``biosnn numbers --check FILE ...`` rewrites nothing and fails naming each block whose text differs
from what its results give; the fast test suite runs the check on the README and every page under
``docs/``, so a number edited by hand, or a results file replaced without regenerating the text, fails.

Every statistic a block quotes rests on at least :data:`biosnn.studies.statistics.MIN_SEEDS` seeds
(a block refuses fewer) and is written as mean +- sd and a bootstrap 95% interval; a block names the
results file and the command that made it.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import BiosnnInputError
from ...core.io import atomic_path, check_input_file
from ..figures import STORED_RESULTS, locate

#: one generated passage: a line ``<!-- numbers: NAME -->``, the text, a line ``<!-- /numbers -->``
BLOCK = re.compile(r"^<!-- numbers: (?P<name>[a-z0-9-]+) -->\n(?P<body>.*?)^<!-- /numbers -->$", re.S | re.M)
#: a line that opens or closes a block (any spelling), to catch a malformed one (no partner, a bad name)
MARK = re.compile(r"^[ \t]*<!--\s*/?\s*numbers\b[^\n]*-->[ \t]*$", re.M | re.I)
#: a fence line of a fenced code block (CommonMark: three or more backticks or tildes, indented or not);
#: marks shown inside one are examples, never blocks
FENCE_LINE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})")
#: the largest Markdown file read (a README is tens of kB)
MAX_BYTES = 4 * 2**20


@dataclass(frozen=True)
class Block:
    """A generated passage: ``render(roots)`` reads results under ``roots`` (searched in turn) and returns
    Markdown ending in a newline; ``inputs`` are the glob patterns it reads (for error messages)."""

    name: str
    render: Callable[[Sequence[Path]], str]
    inputs: tuple[str, ...]


BLOCKS: dict[str, Block] = {}


def register(name: str, *inputs: str) -> Callable:
    """Decorator: register ``render(roots) -> str`` as block ``name`` reading ``inputs``."""

    def wrap(render: Callable[[Sequence[Path]], str]) -> Callable[[Sequence[Path]], str]:
        if name in BLOCKS:
            raise ValueError(f"block {name!r} registered twice")
        BLOCKS[name] = Block(name, render, inputs)
        return render

    return wrap


def results_file(roots: Sequence[Path], pattern: str, what: str) -> Path:
    """The one file matching ``pattern`` under the first of ``roots`` that has it, or a clear error."""
    found = locate(roots, pattern)
    if not found:
        raise BiosnnInputError(f"{what}: no {pattern} under {', '.join(str(r) for r in roots)}; run its study first")
    if len(found) > 1:
        raise BiosnnInputError(f"{what}: {pattern} matches {len(found)} files ({', '.join(map(str, found))})")
    return found[0]


def render_block(name: str, roots: Sequence[Path | str] = (STORED_RESULTS,)) -> str:
    """The generated text of block ``name`` from the results under ``roots``."""
    _load_generators()
    if name not in BLOCKS:
        raise BiosnnInputError(f"unknown numbers block {name!r}; known: {', '.join(sorted(BLOCKS))}")
    for root in roots:
        if not Path(root).is_dir():
            raise BiosnnInputError(f"results directory {str(root)!r} is not a directory")
    try:
        text = BLOCKS[name].render([Path(r) for r in roots])
    except (KeyError, IndexError, TypeError, AttributeError, ValueError, ZeroDivisionError) as err:
        if isinstance(err, BiosnnInputError):
            raise
        raise BiosnnInputError(
            f"numbers block {name!r}: its results ({', '.join(BLOCKS[name].inputs)} under "
            f"{', '.join(map(str, roots))}) do not have the layout its study writes ({type(err).__name__}: {err})"
        ) from None
    return text if text.endswith("\n") else text + "\n"


def _prose(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into (is_prose, part) at fenced code blocks (CommonMark's rule: a fence closes on a line of
    the same character at least as long; an unclosed fence runs to the end of the text)."""
    parts: list[tuple[bool, str]] = []
    current: list[str] = []
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        match = FENCE_LINE.match(line)
        if fence is None and match:
            parts.append((True, "".join(current)))
            current, fence = [line], match["fence"]
        elif fence is not None and match and match["fence"][0] == fence[0] and len(match["fence"]) >= len(fence):
            if line.strip() == match["fence"]:  # a closing fence carries no info string
                current.append(line)
                parts.append((False, "".join(current)))
                current, fence = [], None
            else:
                current.append(line)
        else:
            current.append(line)
    parts.append((fence is None, "".join(current)))
    return parts


def _check_marks(text: str, where: str) -> None:
    marks = len(MARK.findall(text))
    blocks = len(BLOCK.findall(text))
    if marks != 2 * blocks:
        raise BiosnnInputError(
            f"{where}: {marks} numbers marks but {blocks} well-formed blocks: every '<!-- numbers: name -->' line "
            "needs a '<!-- /numbers -->' after it, and a name of lower-case letters, digits and dashes"
        )


def refresh(text: str, roots: Sequence[Path | str] = (STORED_RESULTS,), where: str = "text") -> tuple[str, list[str]]:
    """``text`` with every block regenerated (marks inside fenced code are left alone), and the names of
    the blocks whose text changed."""
    changed: list[str] = []
    cache: dict[str, str] = {}

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in cache:
            cache[name] = render_block(name, roots)
        if match["body"] != cache[name]:
            changed.append(name)
        return f"<!-- numbers: {name} -->\n{cache[name]}<!-- /numbers -->"

    out = []
    for prose, part in _prose(text):
        if prose:
            _check_marks(part, where)
            part = BLOCK.sub(replace, part)
        out.append(part)
    return "".join(out), changed


def read_markdown(path: Path | str) -> str:
    """A Markdown file to refresh (a regular file of at most :data:`MAX_BYTES`, UTF-8), its line endings kept."""
    path = check_input_file(path, "Markdown")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise BiosnnInputError(f"{path}: {size} bytes; a Markdown page of at most {MAX_BYTES} is expected")
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except UnicodeDecodeError as err:
        raise BiosnnInputError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None


def update(
    paths: Sequence[Path | str], roots: Sequence[Path | str] = (STORED_RESULTS,), *, check: bool = False
) -> dict[Path, list[str]]:
    """Regenerate every block of ``paths`` (rewritten atomically, only when a block changed); with
    ``check`` nothing is written. Returns the changed (stale) block names per file. Every file is read
    and every block rendered before any file is written."""
    new: dict[Path, tuple[str, list[str]]] = {}
    for path in map(Path, paths):
        text = read_markdown(path)
        crlf = "\r\n" in text
        refreshed, changed = refresh(text.replace("\r\n", "\n") if crlf else text, roots, where=str(path))
        new[path] = (refreshed.replace("\n", "\r\n") if crlf else refreshed, changed)
    if not check:
        for path, (text, changed) in new.items():
            if changed:
                target = Path(os.path.realpath(path))  # a symlinked page: rewrite its target, keep the link
                mode = stat.S_IMODE(target.stat().st_mode)
                with atomic_path(target) as tmp:
                    with open(tmp, "w", encoding="utf-8", newline="") as fh:
                        fh.write(text)
                os.chmod(target, mode)
    return {path: changed for path, (_, changed) in new.items() if changed}


def blocks_in(text: str) -> list[str]:
    """The block names ``text`` marks, in order."""
    return [m["name"] for prose, part in _prose(text) if prose for m in BLOCK.finditer(part)]


def _load_generators() -> None:
    from . import discretization, lee, plif, studies, timing  # noqa: F401  (registers every block)
