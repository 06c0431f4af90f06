"""Asking: the one-shot flag, stdin batches and the REPL share this path.

``ask()`` is the one call from a question to an ``Answer``; ``show()`` the one way an
answer is printed (rich or JSON Lines). The REPL adds only its prompt, history and
slash commands on top (``repl.py``, which imports this module; this one imports no
edge but ``render``). ``cli.py`` chooses between them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .types import NO_FILTERS, Filters

if TYPE_CHECKING:
    from rich.console import Console

    from .library import Library
    from .types import Answer

DEFAULT_K = 5


@dataclass(frozen=True)
class Settings:
    """What shapes an answer and how it is shown; the REPL changes it with /k and /filter.
    ``filters`` is the one value that goes down to the catalog as it is."""

    k: int = DEFAULT_K
    filters: Filters = NO_FILTERS
    json: bool = False
    explain: bool = False
    brief: bool = False  # the answer line and one quote (the terminal only; JSON is whole)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        return cls(
            args.k or DEFAULT_K,
            Filters(args.source, args.since, args.until, getattr(args, "as_of", None)),
            args.json,
            args.explain,
            getattr(args, "brief", False),
        )


def ask(lib: Library, question: str, settings: Settings) -> Answer:
    return lib.ask(question, k=settings.k, filters=settings.filters)


def refusal(answer: Answer, settings: Settings) -> str:
    """What an unanswered question says: that the filter let no article through, when it
    did (the answer only knows it searched 0 articles; the settings know why)."""
    if answer.searched == 0 and settings.filters.active():
        return f"No indexed article matches the filter {settings.filters.describe()}."
    return answer.refusal


def show(
    answer: Answer, settings: Settings, out: Console | None = None, *, heading: bool = False
) -> None:
    import sys

    from . import render

    for warning in answer.warnings:  # once a session would do; the reader's state can change
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    message = refusal(answer, settings)
    if settings.json:
        line = json.dumps(
            render.answer_json(answer, settings.explain, message=message), ensure_ascii=False
        )
        if out is None:
            print(line, flush=True)
        else:
            out.out(line, highlight=False)
    else:
        render.answer_view(
            render.brief(answer) if settings.brief else answer,
            out,
            explain=settings.explain,
            heading=heading,
            refusal=message,
        )


def lines(stream: Iterable[str]) -> Iterator[str]:
    """The non-blank lines of ``stream``, stripped."""
    for line in stream:
        if line.strip():
            yield line.strip()


def batch(lib: Library, questions: Iterable[str], settings: Settings) -> int:
    """Answer each line in turn; exit status 0 whether or not anything answers. With
    ``--json`` every input line gets one output line, so outputs line up with inputs: a
    line that cannot be asked (blank, nothing to search for) gets ``{"question", "error"}``.
    Without it, such a line is a one-line error on stderr and the batch goes on."""
    import sys

    from . import render
    from .errors import UsageError

    out = None if settings.json else render.console()
    shown = 0
    for raw in questions:
        question = raw.strip()
        try:
            answer = ask(lib, question, settings)  # a blank line raises "the question is empty"
        except UsageError as exc:
            if settings.json:
                print(
                    json.dumps({"question": question, "error": str(exc)}, ensure_ascii=False),
                    flush=True,
                )
            elif question:
                print(f"assistant: error: {exc}", file=sys.stderr, flush=True)
            continue
        if shown and out is not None:
            out.print()
        show(answer, settings, out, heading=True)
        shown += 1
    return 0
