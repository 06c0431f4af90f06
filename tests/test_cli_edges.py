"""The CLI's edges, in-process through ``main()`` (a subprocess adds nothing to a message
or a layout; test_cli_ask.py runs the user-visible paths as a subprocess): flag placement,
--max-size units, the filter that matches nothing, output by terminal width, the import
graph of the edge modules, and a command whose optional extra is not installed (a subprocess:
only a fresh interpreter can be without a package this one has loaded)."""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from rich.console import Console

from assistant import DocumentInfo, Library, render
from assistant.ask import Settings, show
from assistant.cli import main
from assistant.types import Filters

from .conftest import ROOT

EDGES = ("cli", "ask", "repl", "render")


def test_json_flag_before_or_after_sources(
    seeds_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["--json", "sources"], ["sources", "--json"]):
        assert main([*argv, "--index", str(seeds_index)]) == 0
        docs = json.loads(capsys.readouterr().out)
        assert len(docs) == 5 and docs[0]["document"].endswith("000_d410228cbb7e0699.txt"), argv
    assert main(["sources", "--index", str(seeds_index)]) == 0
    assert capsys.readouterr().out.startswith("5 indexed documents")  # no flag: the table


def test_max_size_is_in_megabytes_of_a_million_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "over.txt").write_bytes(b"\0" * 1_000_001)  # one byte over 1 MB
    (folder / "limit.txt").write_bytes(b"\0" * 1_000_000)  # exactly 1 MB: read (and found binary)
    assert main(["index", str(folder), "--max-size", "1", "--index", str(tmp_path / "index")]) == 3
    skipped = dict(re.findall(r"skipped .*?(\w+\.txt): (.*)", capsys.readouterr().err))
    assert skipped["over.txt"] == "larger than 1 MB limit"
    assert "larger than" not in skipped["limit.txt"]


def test_a_usage_error_in_a_subcommand_prints_its_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", str(tmp_path / "nonexistent"), "--index", str(tmp_path / "index")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("usage: assistant index ") and err[-1].startswith(
        "assistant: error: no such file"
    )
    assert not (tmp_path / "index").exists()


def test_indexing_only_skipped_files_leaves_no_index_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "tool").write_bytes(b"\x7fELF\0\0")
    assert main(["index", str(tmp_path / "articles"), "--index", str(tmp_path / "index")]) == 3
    assert "0 chunks embedded" in capsys.readouterr().out
    assert not (tmp_path / "index").exists()  # the next question says "no index", not "empty index"


def test_indexing_only_skipped_files_into_an_index_keeps_what_it_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.txt").write_text("The ferry leaves Scrabster at noon.\n")
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "tool").write_bytes(b"\x7fELF\0\0")
    index = str(tmp_path / "index")
    assert main(["index", str(tmp_path / "articles"), "--index", index]) == 0
    assert main(["index", str(tmp_path / "tools"), "--index", index]) == 3
    with Library(index) as lib:
        assert [d.id for d in lib.documents()] == ["articles/a.txt"]  # not removed, not emptied


def test_a_question_with_nothing_to_search_for_says_so(
    seeds_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for question in ("???", "the of and"):
        assert main(["-q", question, "--index", str(seeds_index)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("assistant: error: nothing to search for"), question


def test_an_empty_folder_says_no_files_were_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / ".hidden.txt").write_text("Not looked at.\n", encoding="utf-8")
    assert main(["index", str(tmp_path / "articles"), "--index", str(tmp_path / "index")]) == 0
    captured = capsys.readouterr()
    assert "no files found" in captured.err and captured.out.startswith("0 added")


def test_a_filter_that_matches_nothing_says_so(
    seeds_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "-q",
        "Which bases did Russia keep?",
        "--source",
        "no-such-article",
        "--index",
        str(seeds_index),
    ]
    assert main([*argv, "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert (
        not obj["answered"]
        and obj["message"] == "No indexed article matches the filter source=no-such-article."
    )
    assert main(argv) == 0
    assert (
        "No indexed article matches the filter source=no-such-article." in capsys.readouterr().out
    )
    assert main(["-q", "Who won the 2018 World Cup?", "--json", "--index", str(seeds_index)]) == 0
    unfiltered = json.loads(capsys.readouterr().out)  # no filter: the answer's own refusal
    assert unfiltered["message"] == "No passage in the 5 indexed articles answers this."


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
    for question in (
        "Which bases did Russia keep?",
        "What happened at Hmeimim?",
        "Who won the 2018 World Cup?",
    ):
        answer = seeds_lib.ask(question)
        lines = _rendered(width, partial(render.answer_view, answer, explain=True))
        ids = {c.document for c in answer.citations}
        starts = (
            "Answer: ",
            "Sources",
            "Why these quotes",
            "score =",
            "No passage",
            "Closest passages",
            "[",
            *BOX,
        )
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
    firsts = tuple(
        line
        for line in lines
        if line and not line[0].isspace() and any(t.startswith(line) for t in titles)
    )
    _check_lines(lines, width, {d.id for d in docs}, ("5 indexed documents", *BOX, *firsts))


@pytest.mark.parametrize("width", [50, 140])
def test_open_keeps_the_id_and_path_whole(seeds_lib: Library, width: int) -> None:
    answer = seeds_lib.ask("Which bases did Russia keep?", k=2)
    c = answer.citation(1)
    lines = _rendered(
        width, lambda out: render.open_view(answer, 1, seeds_lib.text(c.document), out)
    )
    header = lines[: lines.index("")]
    _check_lines(header, max(width, len(c.path) + 4), {c.document, c.path}, ("[1] ", c.document))
    if width == 140:  # where it fits, one line each, as before
        assert header == [f"[1] {c.title}", f"{c.document} · {c.location} · {c.date} · {c.path}"]


def test_wide_output_is_unchanged_where_it_fits(seeds_lib: Library) -> None:
    answer = seeds_lib.ask("Which bases did Russia keep?", k=2)
    lines = _rendered(140, lambda out: render.answer_view(answer, out))
    first = answer.quotes[0]
    cited = answer.citation(first.ref)
    # At 140 columns the attribution is one line: title, location and date unwrapped.
    assert any(
        line.startswith(f"    — {cited.title} ({first.location}, {cited.date}")
        and line.endswith(")")
        for line in lines
    ), lines
    header = lines[[line.strip() for line in lines].index("Sources") + 1]
    assert header.split() == ["ref", "┃", "title", "┃", "document", "┃", "date", "┃", "location"]


def test_show_passes_the_filter_message_to_rich_output(seeds_lib: Library) -> None:
    settings = Settings(filters=Filters(source="zzz"))
    answer = seeds_lib.ask("Which bases did Russia keep?", source="zzz")
    lines = _rendered(80, lambda out: show(answer, settings, out))
    assert lines == ["No indexed article matches the filter source=zzz."]


# -- import graph --------------------------------------------------------------------------
def _edge_imports(module: str) -> set[str]:
    """The edge modules ``module`` imports, at any level (lazy imports included)."""
    tree = ast.parse((ROOT / "assistant" / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            found |= {n.split(".")[0] for n in names if n and n.split(".")[0] in EDGES}
    return found


def test_edge_modules_import_without_a_cycle() -> None:
    graph = {module: _edge_imports(module) for module in EDGES}
    assert "repl" not in graph["ask"] and "cli" not in graph["ask"], graph

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start]
        )

    assert not [m for m in EDGES if reaches(m, m)], graph


def test_the_mcp_command_without_its_extra_names_the_extra(tmp_path: Path) -> None:
    """``sys.modules["mcp"] = None`` makes every import of the SDK fail as if it were not
    installed; the command says which extra to install, in one line, before opening anything."""
    script = (
        "import sys; sys.modules['mcp'] = None; sys.argv[0] = 'assistant';"
        "from assistant.cli import run; run()"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, "mcp", "--index", str(tmp_path / "index")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == (
        "assistant: error: the MCP server needs the 'mcp' extra: pip install 'assistant[mcp]'\n"
    )
    assert not (tmp_path / "index").exists()


def test_a_quote_shows_its_context_dimmer_than_the_sentence_chosen(seeds_lib: Library) -> None:
    answer = seeds_lib.ask("Which bases did Russia keep?", k=5)
    grown = [q for q in answer.quotes if q.chosen != ((0, len(q.text)),)]
    assert grown, "some quote holds context around its chosen sentence"
    console = Console(file=io.StringIO(), color_system="truecolor")
    for q in grown:
        body = render.quote_text(answer, q)
        shown, where = render.reflow(q.text)
        assert body.plain == shown
        chosen = {where[i] for s, e in q.chosen for i in range(s, e) if where[i] >= 0}
        for i, ch in enumerate(shown):
            if ch.strip():
                assert bool(body.get_style_at_offset(console, i).dim) is (i not in chosen), (
                    q.text,
                    i,
                )


def test_the_chunk_count_is_said_in_good_english() -> None:
    from assistant.types import IndexReport

    assert [IndexReport(chunks=n).embedded() for n in (0, 1, 2)] == [
        "0 chunks embedded",
        "1 chunk embedded",
        "2 chunks embedded",
    ]
