"""The REPL through prompt-toolkit's pipe input, with an injected session and console."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from assistant import Library
from assistant.ask import Settings
from assistant.repl import (
    ALIASES,
    COMMANDS,
    SlashCompleter,
    history_file,
    interactive,
    plain,
    prompt_session,
)


@pytest.fixture
def console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=100, color_system=None, highlight=False), buffer


@pytest.fixture
def pipe() -> Iterator:  # type: ignore[type-arg]
    with create_pipe_input() as inp:
        yield inp


def _run(lib: Library, pipe, console, keys: str, session: PromptSession | None = None) -> str:  # type: ignore[no-untyped-def,type-arg]
    out, buffer = console
    pipe.send_text(keys)
    session = session or PromptSession(input=pipe, output=DummyOutput(), history=InMemoryHistory())
    assert interactive(lib, Settings(), session, out) == 0
    return buffer.getvalue()


def _accepted(session: PromptSession) -> list[str]:  # type: ignore[type-arg]
    """The lines the prompt handed to the session, oldest first (the prompt itself goes to
    DummyOutput, so the console never shows what was typed)."""
    return list(session.history.get_strings())


def test_question_help_open_export_and_ctrl_d(
    seeds_lib: Library, pipe, console, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    export = tmp_path / "notes.md"
    # The 2016 report's number among the sources (numbered in the order the quotes cite them).
    ref = next(
        c.ref
        for c in seeds_lib.ask("Which bases did Russia keep?").citations
        if c.document == "seeds/003_e5a73f4839f377ea.txt"
    )
    keys = f"Which bases did Russia keep?\r/help\r/open {ref}\r/export {export}\r/hepl\r\x04"
    text = _run(seeds_lib, pipe, console, keys)
    assert "Tartous" in text and "Sources" in text
    assert "/filter" in text and "/export FILE" in text  # the help
    # /open: the quote highlighted, its chosen sentence inside the marks
    assert re.search(r"»[^«]*Russia is expected to maintain its naval base at Tartous[^»]*«", text)
    assert "Did you mean /help?" in text
    md = export.read_text()
    assert md.startswith("# Research session") and "## Which bases did Russia keep?" in md
    assert re.search(r"^> .*Russia is expected to maintain its naval base at Tartous", md, re.M)
    assert (
        f"[^q1-{ref}]: Putin Orders Withdrawal of Russian Military From Syria, `seeds/003_e5a73f4839f377ea.txt`"
        in md
    )


def test_ctrl_c_clears_the_line_and_quit_exits(seeds_lib: Library, pipe, console) -> None:  # type: ignore[no-untyped-def]
    session: PromptSession = PromptSession(
        input=pipe, output=DummyOutput(), history=InMemoryHistory()
    )  # type: ignore[type-arg]
    text = _run(
        seeds_lib,
        pipe,
        console,
        "Who won the\x03/k 2\r/filter source=003\r/filter\r/quit\r",
        session,
    )
    # Ctrl-C dropped the line unasked: the next line is "/k 2" alone, not "Who won the/k 2".
    assert _accepted(session)[0] == "/k 2" and "No passage" not in text
    assert (
        "up to 2 quotes" in text
        and "Filter: source=003." in text
        and "Filter was: source=003. Cleared." in text
    )
    assert _accepted(session)[-1] == "/quit" and len(_accepted(session)) == 4


class InterruptedLibrary:
    """Stands in for a Library whose answer the user interrupts: the test is about key
    handling, so nothing is searched."""

    index_dir = Path("unused-index")

    def documents(self) -> list[object]:
        return []

    def ask(self, question: str, **filters: object) -> None:
        raise KeyboardInterrupt


def test_ctrl_c_during_an_answer_keeps_the_session(pipe, console) -> None:  # type: ignore[no-untyped-def]
    try:
        text = _run(InterruptedLibrary(), pipe, console, "Which bases did Russia keep?\r/k 2\r\x04")  # type: ignore[arg-type]
    except KeyboardInterrupt:  # caught here, or it would stop the whole test run
        pytest.fail("Ctrl-C during an answer ended the REPL")
    assert (
        "Interrupted." in text and "up to 2 quotes" in text
    )  # the REPL went on after the interrupt


def test_slash_commands_are_a_registry_with_aliases(seeds_lib: Library, console) -> None:  # type: ignore[no-untyped-def]
    for name, (handler, text) in COMMANDS.items():
        assert name.startswith("/") and callable(handler) and text, name
    assert ALIASES["/exit"] == "/quit"
    out, buffer = console
    assert (
        plain(seeds_lib, Settings(), ["/help", "/EXIT", "Which bases did Russia keep?"], out) == 0
    )
    text = buffer.getvalue()
    assert "(also /exit)" in text and "Tartous" not in text  # /exit left before the question


def test_a_filter_that_matches_nothing_says_how_to_clear_it(seeds_lib: Library, console) -> None:  # type: ignore[no-untyped-def]
    out, buffer = console
    plain(
        seeds_lib,
        Settings(),
        ["/filter source=no-such-article", "Which bases did Russia keep?"],
        out,
    )
    text = buffer.getvalue()
    assert (
        "No indexed article matches the filter source=no-such-article.\n/filter alone clears it."
        in text
    )


def test_history_is_kept_per_index_and_suggests(
    seeds_lib: Library, console, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    with create_pipe_input() as first:
        _run(
            seeds_lib,
            first,
            console,
            "Where did Assad seek asylum?\r\x04",
            prompt_session(seeds_lib, input=first, output=DummyOutput()),
        )
    assert "Where did Assad seek asylum?" in history_file(seeds_lib.index_dir).read_text()
    assert history_file(seeds_lib.index_dir) != history_file(tmp_path / "other")
    again = prompt_session(seeds_lib)  # a later session on the same index remembers it
    assert "Where did Assad seek asylum?" in list(again.history.load_history_strings())
    assert isinstance(again.auto_suggest, AutoSuggestFromHistory)


def test_slash_commands_complete() -> None:
    completer = SlashCompleter()
    found = [c.text for c in completer.get_completions(Document("/ex"), None)]
    assert found == ["/export"]
    assert list(completer.get_completions(Document("Which /ex"), None)) == []


def test_help_wraps_each_description_under_itself_on_a_narrow_terminal(seeds_lib: Library) -> None:
    buffer = io.StringIO()
    out = Console(file=buffer, width=60, color_system=None, highlight=False)
    assert plain(seeds_lib, Settings(), ["/help"], out) == 0
    lines = buffer.getvalue().splitlines()[1:]
    assert len(lines) > len(COMMANDS)  # some descriptions needed a second line at 60 columns
    for line in lines:
        assert len(line) <= 60
        # A command name at two spaces, or a description's next line under the descriptions.
        assert line.startswith("  /") or line.startswith(" " * 12) and line[12] != " ", line


def test_add_indexes_a_folder_without_leaving(tmp_path: Path, pipe, console) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.txt").write_text("The lighthouse at Cape Wrath was automated in 1998.\n")
    (second / "b.txt").write_text("The ferry to Orkney leaves Scrabster at noon every day.\n")
    lib = Library(tmp_path / "index")
    lib.add([first])
    keys = f"/add {second}\rWhen does the ferry to Orkney leave Scrabster?\r/add\r\x04"
    text = _run(lib, pipe, console, keys)
    assert "1 added, 0 updated, 0 unchanged, 0 removed, 0 skipped (1 chunk embedded)" in text
    assert "Scrabster at noon" in text  # the new article answers at once
    assert "/add PATH: give the files or folders to index" in text
    assert {d.id for d in lib.documents()} == {"first/a.txt", "second/b.txt"}
    lib.close()


def test_an_active_filter_is_in_the_prompt_and_in_the_export(
    seeds_lib: Library, pipe, console, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    export = tmp_path / "notes.md"
    session = PromptSession(input=pipe, output=DummyOutput(), history=InMemoryHistory())
    keys = (
        "Which bases did Russia keep?\r/filter source=003\r/asof 2016-03-20\r"
        f"Which bases did Russia keep?\r/export {export}\r\x04"
    )
    _run(seeds_lib, pipe, console, keys, session)
    assert session.message == "[source=003 as_of=2016-03-20] ? "  # the prompt the last line had
    first, second = export.read_text().split("## Which bases did Russia keep?")[1:]
    assert "Asked with" not in first
    assert "*Asked with source=003 as_of=2016-03-20.*" in second


def test_every_citation_number_printed_opens_and_is_exported(
    seeds_lib: Library, pipe, console, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    export = tmp_path / "notes.md"
    refs = [c.ref for c in seeds_lib.ask("Which bases did Russia keep?", k=2).citations]
    assert len(refs) > 2  # the answer line cites articles that no quote does
    opens = "".join(f"/open {ref}\r" for ref in refs)
    text = _run(
        seeds_lib,
        pipe,
        console,
        f"/k 2\rWhich bases did Russia keep?\r{opens}/export {export}\r\x04",
    )
    assert "takes a citation number" not in text
    assert text.count("»") >= len(refs)  # each opened passage has something marked
    md = export.read_text()
    used = set(re.findall(r"\[\^(q1-\d+)\](?!:)", md))
    defined = set(re.findall(r"^\[\^(q1-\d+)\]:", md, re.M))
    assert used == defined == {f"q1-{ref}" for ref in refs}
