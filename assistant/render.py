"""Rendering: library values -> terminal output (rich) or JSON-ready dicts.

Only this module and the other edges (cli, repl) import rich. Consoles honour
``NO_COLOR`` and drop styling when output is not a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .types import DocumentInfo, IndexReport

if TYPE_CHECKING:
    from rich.console import Console

    from .indexer import Progress


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def index_progress() -> Iterator[Any]:
    """A progress callback: a rich bar on a terminal, a plain line per batch when piped."""
    if not sys.stderr.isatty():
        last = [0]

        def plain(p: Progress) -> None:
            if p.chunks_done > last[0]:
                last[0] = p.chunks_done
                note(f"embedded {p.chunks_done} chunks ({p.files_done}/{p.files_total} files read)")

        yield plain
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[chunks]} chunks"),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
    )
    task = bar.add_task("indexing", total=None, chunks=0)
    with bar:
        def rich_update(p: Progress) -> None:
            bar.update(task, total=p.files_total, completed=p.files_done, chunks=p.chunks_done)

        yield rich_update


def index_report(report: IndexReport) -> None:
    for skipped in report.skipped:
        note(f"skipped {skipped.path}: {skipped.reason}")
    print(f"{report.summary()} ({report.chunks} chunks embedded)")


def source_json(doc: DocumentInfo) -> dict[str, Any]:
    return {
        "document": doc.id,
        "title": doc.title,
        "date": doc.date,
        "source": doc.source,
        "url": doc.url,
        "author": doc.author,
        "path": doc.path,
        "format": doc.format,
        "chunks": doc.chunks,
    }


def sources_table(docs: list[DocumentInfo], out: Console | None = None) -> None:
    from rich.table import Table

    out = out or console()
    if not docs:
        out.print("No documents indexed. Add some with `assistant index PATH`.")
        return
    table = Table(title=f"{len(docs)} indexed documents", title_justify="left")
    for column in ("document", "title", "date", "chunks"):
        table.add_column(column, overflow="fold", justify="right" if column == "chunks" else "left")
    for doc in docs:
        table.add_row(doc.id, doc.title or "", doc.date or "", str(doc.chunks))
    out.print(table)
