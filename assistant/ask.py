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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from .answer import Answer
    from .library import Library

DEFAULT_K = 5


@dataclass(frozen=True)
class Settings:
    """What shapes an answer and how it is shown; the REPL changes it with /k and /filter."""

    k: int = DEFAULT_K
    source: str | None = None
    since: str | None = None
    until: str | None = None
    json: bool = False
    explain: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        return cls(args.k or DEFAULT_K, args.source, args.since, args.until, args.json, args.explain)

    def filtered(self, source: str | None = None, since: str | None = None, until: str | None = None) -> Settings:
        return replace(self, source=source, since=since, until=until)

    @property
    def has_filter(self) -> bool:
        return bool(self.source or self.since or self.until)

    def describe_filter(self) -> str:
        parts = [f"source={self.source}" if self.source else "", f"since={self.since}" if self.since else "",
                 f"until={self.until}" if self.until else ""]
        return " ".join(p for p in parts if p) or "none"


def ask(lib: Library, question: str, settings: Settings) -> Answer:
    return lib.ask(question, k=settings.k, source=settings.source, since=settings.since, until=settings.until)


def refusal(answer: Answer, settings: Settings) -> str:
    """What an unanswered question says: that the filter let no article through, when it
    did (the answer only knows it searched 0 articles; the settings know why)."""
    if answer.searched == 0 and settings.has_filter:
        return f"No indexed article matches the filter {settings.describe_filter()}."
    return answer.refusal


def show(answer: Answer, settings: Settings, out: Console | None = None, *, heading: bool = False) -> None:
    from . import render

    message = refusal(answer, settings)
    if settings.json:
        line = json.dumps(render.answer_json(answer, settings.explain, message=message), ensure_ascii=False)
        if out is None:
            print(line, flush=True)
        else:
            out.out(line, highlight=False)
    else:
        render.answer_view(answer, out, explain=settings.explain, heading=heading, refusal=message)


def lines(stream: Iterable[str]) -> Iterator[str]:
    """The non-blank lines of ``stream``, stripped."""
    for line in stream:
        if line.strip():
            yield line.strip()


def batch(lib: Library, questions: Iterable[str], settings: Settings) -> int:
    """Answer each question in turn; exit status 0 whether or not anything answers."""
    from . import render

    out = None if settings.json else render.console()
    for n, question in enumerate(questions):
        if n and out is not None:
            out.print()
        show(ask(lib, question, settings), settings, out, heading=True)
    return 0

