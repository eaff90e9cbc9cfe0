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

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import BiosnnInputError
from ...core.io import atomic_write_text, check_input_file
from ..figures import STORED_RESULTS, locate

#: one generated passage: ``<!-- numbers: NAME -->`` + newline, the text, ``<!-- /numbers -->``
BLOCK = re.compile(r"<!-- numbers: (?P<name>[a-z0-9-]+) -->\n(?P<body>.*?)<!-- /numbers -->", re.S)
#: an opening or closing mark, to catch a malformed one (no partner, or a name outside the pattern)
MARK = re.compile(r"<!-- /?numbers\b[^>]*-->")
#: a fenced code block (``` or ~~~ lines): marks shown inside one are examples, never blocks
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
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
    text = BLOCKS[name].render([Path(r) for r in roots])
    return text if text.endswith("\n") else text + "\n"


def _prose(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into (is_prose, part): fenced code blocks are not prose."""
    parts, end = [], 0
    for fence in FENCE.finditer(text):
        parts += [(True, text[end : fence.start()]), (False, fence.group())]
        end = fence.end()
    return parts + [(True, text[end:])]


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
    """A Markdown file to refresh (a regular file of at most :data:`MAX_BYTES`, UTF-8)."""
    path = check_input_file(path, "Markdown file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise BiosnnInputError(f"{path}: {size} bytes; a Markdown page of at most {MAX_BYTES} is expected")
    try:
        return path.read_text(encoding="utf-8")
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
        new[path] = refresh(read_markdown(path), roots, where=str(path))
    if not check:
        for path, (text, changed) in new.items():
            if changed:
                atomic_write_text(path, text)
    return {path: changed for path, (_, changed) in new.items() if changed}


def blocks_in(text: str) -> list[str]:
    """The block names ``text`` marks, in order."""
    return [m["name"] for prose, part in _prose(text) if prose for m in BLOCK.finditer(part)]


def _load_generators() -> None:
    from . import discretization, lee, plif, studies, timing  # noqa: F401  (registers every block)
