"""The interactive session: prompt-toolkit for the prompt, history and completion; every
question goes through ``ask.ask`` and ``ask.show``, as one-shot questions do.

When standard input is not a terminal the same session reads lines without a prompt, so
``echo "question" | assistant`` prints plain answers (slash commands work there too).
"""

from __future__ import annotations

import difflib
import hashlib
import shlex
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import ask, config
from .errors import AssistantError
from .library import Library
from .retrieve import date_bound
from .types import Filters

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from rich.console import Console

    from .types import Answer

Handler = Callable[["Session", str], "bool | None"]


class Command(NamedTuple):
    handler: Handler  # called with the session and the rest of the line; False ends the session
    help: str


# The slash commands, in /help's order, and other names for them (litecli's special
# commands): @slash below fills both.
COMMANDS: dict[str, Command] = {}
ALIASES: dict[str, str] = {}


def slash(name: str, help: str, *aliases: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(handler, help)
        ALIASES.update(dict.fromkeys(aliases, name))
        return handler

    return register


def aliases_of(name: str) -> list[str]:
    return [alias for alias, target in ALIASES.items() if target == name]


def history_file(index_dir: Path) -> Path:
    """One history per index, kept with the other per-user state (``config.cache_dir``)."""
    key = hashlib.sha1(str(index_dir).encode()).hexdigest()[:16]
    path = config.cache_dir() / "history" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class Session:
    """What a session remembers: the library, the settings and the answers so far."""

    def __init__(self, lib: Library, settings: ask.Settings, out: Console):
        self.lib, self.settings, self.out = lib, settings, out
        self.answers: list[Answer] = []
        # The filter and reference date each answer was asked under, for /export.
        self.filters: list[Filters] = []

    def prompt_text(self) -> str:
        """The prompt: "? ", after the active filter and reference date when there is one."""
        filters = self.settings.filters
        return f"[{filters.describe()}] ? " if filters.active() else "? "

    def handle(self, line: str) -> bool:
        """Answer a question or run a slash command; False when the session should end."""
        line = line.strip()
        if not line:
            return True
        try:
            if line.startswith("/"):
                return self.command(line)
            answer = ask.ask(self.lib, line, self.settings)
            self.answers.append(answer)
            self.filters.append(self.settings.filters)
            ask.show(answer, self.settings, self.out)
            if answer.searched == 0 and self.settings.filters.active() and not self.settings.json:
                self.say("/filter alone clears it.", style="dim")
        except AssistantError as exc:
            self.say(f"error: {exc}")
        return True

    def say(self, message: str, style: str = "") -> None:
        self.out.print(message, style=style, markup=False, highlight=False)

    def command(self, line: str) -> bool:
        name, _, rest = line.partition(" ")
        name = ALIASES.get(name.lower(), name.lower())
        found = COMMANDS.get(name)
        if found is None:
            close = difflib.get_close_matches(name, [*COMMANDS, *ALIASES], n=1, cutoff=0.4)
            hint = f" Did you mean {close[0]}?" if close else ""
            self.say(f"Unknown command {name}.{hint} /help lists the commands.")
            return True
        return found.handler(self, rest.strip()) is not False

    # -- slash commands, registered in /help's order ----------------------------------
    @slash("/help", "this list")
    def cmd_help(self, rest: str) -> None:
        self.say("Type a question, or one of:")
        # Wrapped here, so that a long description continues under itself, not at the margin.
        width = max(self.out.width, 40)
        for name, (_, text) in COMMANDS.items():
            also = aliases_of(name)
            line = text + (f" (also {', '.join(also)})" if also else "")
            head = f"  {name:<9} "
            self.say(
                textwrap.fill(
                    line,
                    width=width - 1,
                    initial_indent=head,
                    subsequent_indent=" " * len(head),
                    break_on_hyphens=False,
                )
            )

    @slash("/sources", "the indexed articles")
    def cmd_sources(self, rest: str) -> None:
        from . import render

        render.sources_table(self.lib.documents(), self.out)

    @slash(
        "/open", "/open N: the passage behind citation N of the last answer, the quote highlighted"
    )
    def cmd_open(self, rest: str) -> None:
        from . import render

        last = self.answers[-1] if self.answers else None
        refs = {c.ref for c in last.citations} if last else set()  # every number it printed
        if not rest.isdigit() or int(rest) not in refs:
            self.say(
                f"/open N takes a citation number of the last answer ({_span(refs)})."
                if refs
                else "No answer yet: ask a question first."
            )
            return
        document = last.citation(int(rest)).document  # type: ignore[union-attr]
        render.open_view(last, int(rest), self.lib.text(document), self.out)  # type: ignore[arg-type]

    @slash("/k", "/k N: how many quotes an answer may have")
    def cmd_k(self, rest: str) -> None:
        if rest:
            if not rest.isdigit() or int(rest) < 1:
                self.say("/k takes a positive whole number, e.g. /k 3.")
                return
            self.settings = replace(self.settings, k=int(rest))
        self.say(
            f"Answers have up to {self.settings.k} quote{'' if self.settings.k == 1 else 's'}."
        )

    @slash(
        "/filter",
        "/filter [source=TEXT] [since=DATE] [until=DATE]: limit the articles; alone, show and clear",
    )
    def cmd_filter(self, rest: str) -> None:
        if not rest:
            self.say(f"Filter was: {self.settings.filters.describe()}. Cleared.")
            self.settings = replace(
                self.settings, filters=Filters(as_of=self.settings.filters.as_of)
            )
            return
        try:
            values = _filter_values(rest)
        except ValueError as exc:
            self.say(str(exc))
            return
        self.settings = replace(
            self.settings, filters=Filters(**values, as_of=self.settings.filters.as_of)
        )
        self.say(f"Filter: {self.settings.filters.describe()}.")

    @slash(
        "/asof",
        "/asof DATE: answer as of DATE (later articles left out, recent ones first); alone, back to today",
    )
    def cmd_asof(self, rest: str) -> None:
        try:
            as_of = date_bound(rest.strip()) if rest.strip() else None
        except ValueError as exc:
            self.say(f"/asof: {exc}.")
            return
        self.settings = replace(self.settings, filters=replace(self.settings.filters, as_of=as_of))
        self.say(f"Answering as of {as_of}." if as_of else "Answering as of today.")

    @slash(
        "/export", "/export FILE: this session's questions and answers as Markdown with footnotes"
    )
    def cmd_export(self, rest: str) -> None:
        from . import render

        if not rest:
            self.say("/export FILE: give the file to write, e.g. /export notes.md")
            return
        path = Path(rest).expanduser()
        try:
            path.write_text(
                render.export_markdown(self.answers, str(self.lib.index_dir), self.filters),
                encoding="utf-8",
            )
        except OSError as exc:
            self.say(f"cannot write {path}: {exc.strerror}")
            return
        self.say(f"Wrote {len(self.answers)} answers to {path}.")

    @slash("/add", "/add PATH ...: index files and folders into this index, without leaving")
    def cmd_add(self, rest: str) -> None:
        if not rest:
            self.say("/add PATH: give the files or folders to index, e.g. /add ~/articles")
            return
        from . import render

        paths = [str(Path(p).expanduser()) for p in shlex.split(rest)]
        for line in render.index_lines(self.lib.add(paths, on_wait=self.say)):
            self.say(line)  # what `assistant index` says, here on the session's console

    @slash("/index", "/index PATH: switch to another index")
    def cmd_index(self, rest: str) -> None:
        if not rest:
            self.say(f"Index: {self.lib.index_dir}")
            return
        lib = Library(rest)
        lib.require_documents()  # raises, and the session keeps the old index
        self.lib.close()
        self.lib, self.answers = lib, []
        self.say(f"Index: {lib.index_dir} ({len(lib.documents())} articles)")

    @slash("/quit", "leave (Ctrl-D too); Ctrl-C clears the line", "/exit")
    def cmd_quit(self, rest: str) -> bool:
        return False


def _span(refs: set[int]) -> str:
    return ", ".join(str(r) for r in sorted(refs))


def _filter_values(rest: str) -> dict[str, str | None]:
    values: dict[str, str | None] = {"source": None, "since": None, "until": None}
    for word in shlex.split(rest):
        key, sep, value = word.partition("=")
        if not sep:
            key, value = "source", word
        if key not in values or not value:
            raise ValueError(f"/filter takes source=TEXT, since=DATE, until=DATE, not {word!r}.")
        values[key] = value if key == "source" else date_bound(value)
    return values


# -- the two front ends -------------------------------------------------------------------
def plain(
    lib: Library, settings: ask.Settings, lines: Iterable[str], out: Console | None = None
) -> int:
    """Questions (and slash commands) line by line, answers without prompt decoration."""
    from . import render

    session = Session(lib, settings, out or render.console())
    for n, line in enumerate(ask.lines(lines)):
        if n and not settings.json:
            session.out.print()
        if not line.startswith("/") and not settings.json:
            session.say(line, style="bold")
        if not session.handle(line):
            break
    return 0


class SlashCompleter:
    """Completes slash commands at the start of the line, nothing else."""

    def __new__(cls) -> Any:
        from prompt_toolkit.completion import Completer, Completion

        class _Completer(Completer):
            def get_completions(self, document: Any, complete_event: Any) -> Iterator[Completion]:
                text = document.text_before_cursor
                if text.startswith("/") and " " not in text:
                    for name, (_, meta) in COMMANDS.items():
                        if name.startswith(text.lower()):
                            yield Completion(
                                name, start_position=-len(text), display_meta=meta.split(":")[0]
                            )

        return _Completer()


def prompt_session(lib: Library, **kwargs: Any) -> PromptSession[str]:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.history import FileHistory

    return PromptSession(
        history=FileHistory(str(history_file(lib.index_dir))),
        auto_suggest=AutoSuggestFromHistory(),
        completer=SlashCompleter(),
        complete_while_typing=True,
        **kwargs,
    )


def interactive(
    lib: Library,
    settings: ask.Settings,
    prompt: PromptSession[str] | None = None,
    out: Console | None = None,
) -> int:
    """The REPL: Ctrl-C clears the line (or stops the answer being made), Ctrl-D or /quit
    leaves with status 0."""
    from . import render

    prompt = prompt or prompt_session(lib)
    session = Session(lib, settings, out or render.console())
    count = len(lib.documents())
    session.say(
        f"{count} articles in {lib.index_dir}. Ask a question; /help for commands, Ctrl-D to leave.",
        style="dim",
    )
    while True:
        try:
            line = prompt.prompt(session.prompt_text())
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        try:
            if not session.handle(line):
                break
        except KeyboardInterrupt:  # during an answer: drop it and prompt again
            session.say("Interrupted.", style="dim")
    return 0
