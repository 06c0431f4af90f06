"""The CLI's edges, in-process (a subprocess adds nothing to a layout; test_cli_ask.py
runs the user-visible paths as a subprocess): output by terminal width."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from functools import partial

import pytest
from rich.console import Console

from assistant import DocumentInfo, Library, render

# -- layout by width -----------------------------------------------------------------------
BOX = tuple("┏┃┡│└━╇┳┻┗┛┓")


def _rendered(width: int, draw) -> list[str]:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    draw(Console(file=buffer, width=width, color_system=None, highlight=False))
    return buffer.getvalue().splitlines()


def _check_lines(lines: list[str], width: int, ids: set[str], starts: tuple[str, ...]) -> None:
    text = "\n".join(lines)
    for doc_id in ids:  # every id the user may paste into `remove` is whole on one line
        assert any(doc_id in line for line in lines), f"{doc_id} split at width {width}:\n{text}"
    for line in lines:
        assert len(line.rstrip()) <= width, line
        if line and not line[0].isspace():  # nothing wraps back to column 0
            assert line.startswith(starts), f"{line!r} starts at column 0 (width {width}):\n{text}"


@pytest.mark.parametrize("width", [60, 80, 140])
def test_answers_keep_ids_whole_and_citations_indented(seeds_lib: Library, width: int) -> None:
    for question in ("Which bases did Russia keep?", "What happened at Hmeimim?", "Who won the 2018 World Cup?"):
        answer = seeds_lib.ask(question)
        lines = _rendered(width, partial(render.answer_view, answer, explain=True))
        ids = {c.document for c in answer.citations}
        starts = ("Sources", "Why these quotes", "score =", "No passage", "Closest passages", "[", *BOX)
        _check_lines(lines, width, ids, starts)
        table = any(line.lstrip().startswith("ref ") for line in lines)
        if width != 80:  # at 80 it depends on how long the ids are
            assert table == (width > 80), "a table where it fits with ids whole, else a list"


def _long_id(doc: DocumentInfo) -> DocumentInfo:
    """The seed under an id like the ones that were folded at 80 columns (``ru|ssia-...``)."""
    slug = "-".join(re.findall(r"\w+", (doc.title or doc.id).lower())[:6])
    return replace(doc, id=f"2024/{slug}.html")


@pytest.mark.parametrize("width", [60, 80, 140])
@pytest.mark.parametrize("ids", ["seed", "long"])
def test_sources_keep_ids_whole(seeds_lib: Library, width: int, ids: str) -> None:
    docs = [d if ids == "seed" else _long_id(d) for d in seeds_lib.documents()]
    lines = _rendered(width, lambda out: render.sources_table(docs, out))
    titles = tuple(d.title or d.id for d in docs)
    firsts = tuple(line for line in lines if line and not line[0].isspace() and any(t.startswith(line) for t in titles))
    _check_lines(lines, width, {d.id for d in docs}, ("5 indexed documents", *BOX, *firsts))


def test_wide_output_is_unchanged_where_it_fits(seeds_lib: Library) -> None:
    answer = seeds_lib.ask("Which bases did Russia keep?", k=2)
    lines = _rendered(140, lambda out: render.answer_view(answer, out))
    assert "    — Putin Orders Withdrawal of Russian Military From Syria (line 15, undated)" in lines
    header = lines[[line.strip() for line in lines].index("Sources") + 1]
    assert header.split() == ["ref", "┃", "title", "┃", "document", "┃", "date", "┃", "location"]
