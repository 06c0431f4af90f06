"""Rendering: library values -> terminal output (rich) or JSON-ready dicts.

Only this module and the other edges (cli, repl) import rich. Consoles honour
``NO_COLOR`` and drop styling when output is not a terminal.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TextIO, cast

from .answer import Policy as AnswerPolicy
from .answer import highlights
from .types import (
    Answer,
    Candidate,
    Citation,
    Direct,
    DocumentInfo,
    Evidence,
    Filters,
    IndexReport,
    Quote,
    Term,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .indexer import Progress


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, highlight=False, soft_wrap=False)
    # Piped: rich pads wrapped lines with spaces; a file or the next program gets none.
    return Console(file=cast("TextIO", _Trimmed(stream)), highlight=False, soft_wrap=False)


class _Trimmed:
    """A text stream that drops the white space at the end of each line written to it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.pending = stream, ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self.stream.write(line.rstrip() + "\n")
        return len(text)

    def flush(self) -> None:  # a line not yet ended goes out as it is
        self.stream.write(self.pending)
        self.pending = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", "utf-8") or "utf-8"


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
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar  # not indexer.Progress, which the callback receives

    bar = Bar(
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
    """What an indexing run did: its warnings and skipped files on stderr, then its summary."""
    *notes, summary = index_lines(report)
    for line in notes:
        note(line)
    print(summary)


def index_lines(report: IndexReport) -> list[str]:
    """The warnings, the skipped files and, last, the summary line of an indexing run."""
    lines = [f"warning: {warning}" for warning in report.warnings]
    lines += [f"skipped {skipped.path}: {skipped.reason}" for skipped in report.skipped]
    if not (report.added or report.updated or report.unchanged or report.removed or report.skipped):
        lines.append("warning: no files found to index (hidden files and folders are left out)")
    return [*lines, f"{report.summary()} ({report.embedded()})"]


def source_json(doc: DocumentInfo) -> dict[str, Any]:
    return {
        "document": doc.id,
        "title": doc.title,
        "date": doc.date,
        "date_source": doc.date_source,
        "source": doc.source,
        "url": doc.url,
        "author": doc.author,
        "path": doc.path,
        "format": doc.format,
        "chunks": doc.chunks,
    }


def sources_table(docs: list[DocumentInfo], out: Console | None = None) -> None:
    """The indexed documents: a table when it fits the width with every id whole, else a
    two-line entry per document (title, then ``id · date · chunks``)."""
    out = out or console()
    if not docs:
        out.print("No documents indexed. Add some with `assistant index PATH`.")
        return
    heading = f"{len(docs)} indexed documents"
    rows = [
        (doc.id, doc.title or "", dated(doc.date, doc.date_source), str(doc.chunks)) for doc in docs
    ]
    table = fitting_table(
        out,
        ("document", "title", "date", "chunks"),
        rows,
        wrap="title",
        right=("chunks",),
        title=heading,
        title_justify="left",
    )
    if table is not None:
        out.print(table)
        return
    out.print(heading, style="table.title", markup=False, highlight=False)
    for doc in docs:
        _entry(
            out,
            "",
            doc.title or doc.id,
            [doc.id, dated(doc.date, doc.date_source) or "undated", f"{doc.chunks} chunks"],
        )


# -- layout by width (litecli's auto-vertical idea): ids users paste are never folded ----
ENTRY_INDENT = 4
WRAP_MIN = 20  # the narrowest a table's wrapping column (a title) may get before the list is used
_PROBE_WIDTH = 1_000_000  # measure a table's natural width, unconstrained by the console


def fitting_table(
    out: Console,
    columns: Sequence[str],
    rows: Sequence[tuple[str, ...]],
    *,
    wrap: str,
    right: Sequence[str] = (),
    **options: Any,
) -> Table | None:
    """A table of ``rows`` in which only column ``wrap`` may wrap (at spaces), or None when
    even then it is wider than ``out``: the caller then lists the rows instead."""
    from rich.measure import Measurement
    from rich.table import Table

    def table(cells: Iterable[tuple[str, ...]]) -> Table:
        made = Table(**options)
        for column in columns:
            made.add_column(
                column,
                justify="right" if column in right else "left",
                no_wrap=column != wrap,
                overflow="fold",
            )
        for row in cells:
            made.add_row(*row)
        return made

    at = list(columns).index(wrap)
    # The narrowest table worth printing: the wrapping column as wide as its longest word,
    # and not squeezed below WRAP_MIN (a title one word per line reads worse than a list).
    probe = table(row[:at] + ("x" * _narrowest(row[at]),) + row[at + 1 :] for row in rows)
    if Measurement.get(out, out.options.update_width(_PROBE_WIDTH), probe).maximum > out.width:
        return None
    return table(rows)


def _narrowest(cell: str) -> int:
    from rich.cells import cell_len

    return max([min(WRAP_MIN, cell_len(cell))] + [cell_len(word) for word in cell.split()])


def hanging(
    out: Console, prefix: str, body: str, *, indent: int | None = None, style: str = ""
) -> None:
    """``prefix + body`` wrapped at spaces to the console's width, the continuation lines
    indented (by ``len(prefix)`` unless ``indent`` is given) so that nothing wraps back to
    column 0. A word longer than a line (an id, a URL) is printed whole, never split."""
    from rich.cells import cell_len

    pad = " " * (cell_len(prefix) if indent is None else indent)
    lines, fresh = [prefix], True
    for word in body.split():
        joined = lines[-1] + ("" if fresh else " ") + word
        if not fresh and cell_len(joined) > out.width:
            lines.append(pad + word)
        else:
            lines[-1] = joined
        fresh = False
    for line in lines:
        out.print(line, style=style, markup=False, highlight=False, soft_wrap=True)


def _entry(out: Console, label: str, head: str, details: Sequence[str]) -> None:
    """One row of a narrow listing: ``label head`` (wrapped, hanging), then the details
    joined by `` · `` on one indented line, the first of them (an id) alone when the line
    would not fit."""
    from rich.cells import cell_len

    hanging(out, f"{label} " if label else "", head, indent=ENTRY_INDENT, style="bold")
    pad = " " * ENTRY_INDENT
    line = pad + " · ".join(d for d in details if d)
    if cell_len(line) > out.width and len(details) > 1:
        out.print(pad + details[0], style="dim", markup=False, highlight=False, soft_wrap=True)
        line = pad + " · ".join(d for d in details[1:] if d)
    out.print(line, style="dim", markup=False, highlight=False, soft_wrap=True)


# -- answers -------------------------------------------------------------------------
QUOTE_BAR = "▌ "
POLICY = AnswerPolicy()


def quote_json(quote: Quote, explain: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ref": quote.ref,
        "text": quote.text,
        "document": quote.document,
        "start": quote.start,
        "end": quote.end,
        "score": quote.score,
        "rank": quote.rank,
        "reader": quote.reader,
        "weak": quote.weak,
        "location": quote.location,
        "chosen": [list(span) for span in quote.chosen],
        "also": [{"ref": r, "start": s, "end": e} for r, s, e in quote.also],
    }
    if explain:
        out["explain"] = {
            "sentence_cosine": quote.dense,
            "lexical_coverage": quote.lexical,
            "matched_terms": list(quote.matched),
            "passage_score": quote.passage_score,
            "dense_rank": quote.dense_rank,
            "keyword_rank": quote.keyword_rank,
        }
    return out


def citation_json(c: Citation) -> dict[str, Any]:
    return {
        "ref": c.ref,
        "document": c.document,
        "title": c.title,
        "date": c.date,
        "date_source": c.date_source,
        "path": c.path,
        "location": c.location,
        "format": c.format,
    }


def direct_json(line: Direct | None) -> dict[str, Any] | None:
    """The answer line as JSON (README: "JSON output"): null when there is none."""
    if line is None:
        return None
    return {
        "list": line.list,
        "disagree": line.disagree,
        "candidates": [
            {
                "text": c.text,
                "variants": list(c.variants),
                "refs": list(c.refs),
                "documents": list(c.documents),
                "dates": list(c.dates),
                "score": c.score,
                "day": c.day,
                "quote": {
                    "ref": c.quote.ref,
                    "document": c.quote.document,
                    "start": c.quote.start,
                    "end": c.quote.end,
                    "text": c.quote.text,
                },
            }
            for c in line.candidates
        ],
    }


def answer_json(
    answer: Answer, explain: bool = False, *, message: str | None = None
) -> dict[str, Any]:
    """The stable JSON contract (README: "JSON output"); extra fields may be added.
    ``message`` replaces the answer's own refusal line (``ask.refusal``)."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "answer": direct_json(answer.direct),
        "quotes": [quote_json(q, explain) for q in answer.quotes],
        "sources": [citation_json(c) for c in answer.citations],
        "closest": [quote_json(q, explain) for q in answer.closest],
        "message": None if answer.answered else message or answer.refusal,
        "warnings": list(answer.warnings),
    }


def dated(date: str | None, source: str | None) -> str:
    """A date as shown, said to be from the text where only an HTML page's prose gave it
    (right less often than its markup); "" when undated."""
    return f"{date} (from the text)" if date and source == "text" else date or ""


def _date_label(answer: Answer, c: Citation) -> str:
    """The source's date, marked oldest/newest when the answer's sources differ in date."""
    if not c.date:
        return "undated"
    label = dated(c.date, c.date_source)
    by_date = answer.oldest_first()
    if len({d.date for d in by_date}) > 1:
        if c.date == by_date[0].date:
            return f"{label}, oldest"
        if c.date == by_date[-1].date:
            return f"{label}, newest"
    return label


# -- the answer line -------------------------------------------------------------------
def _refs(refs: Sequence[int]) -> str:
    return "".join(f"[{r}]" for r in refs)


def _articles(c: Candidate) -> str:
    n = len(c.documents)
    return f"{n} article{'' if n == 1 else 's'}"


def _when(answer: Answer, c: Candidate) -> str:
    """The candidate's articles by date, oldest first: ``2016-03-15 [3], undated [5]``."""
    refs = {x.document: x.ref for x in answer.citations}
    return ", ".join(
        f"{d or 'undated'} [{refs[doc]}]" if doc in refs else (d or "undated")
        for doc, d in zip(c.documents, c.dates)
    )


def _named(c: Candidate) -> str:
    return c.text + (f" (also {', '.join(c.variants)})" if c.variants else "")


def direct_lines(answer: Answer) -> list[tuple[str, str]]:
    """The answer line as (prefix, body) rows, the same for the terminal and Markdown."""
    line = answer.direct
    if line is None or not line.candidates:
        return []
    if line.list:
        n = len(line.candidates)
        rows = [("Answer: ", f"{n} item{'' if n == 1 else 's'}")]
        for c in line.candidates:
            rows.append(
                ("  • ", f"{_named(c)} {_refs(c.refs)} — {_articles(c)}: {_when(answer, c)}")
            )
        return rows
    if line.disagree:
        rows = [("Answer: ", "sources differ —")]
        for c in line.candidates:
            rows.append(("  • ", f"{_named(c)} {_refs(c.refs)} — {_when(answer, c)}"))
        return rows
    first = line.candidates[0]
    body = f"{_named(first)}{_dated(answer, first)} {_refs(first.refs)} — {_articles(first)}"
    for other in line.candidates[1:]:
        body += (
            f"; or {_named(other)}{_dated(answer, other)} {_refs(other.refs)} — {_articles(other)}"
        )
    return [("Answer: ", body)]


def _dated(answer: Answer, c: Candidate) -> str:
    """For "Monday", the day it means in the article it was read in (``answerline.resolve_day``):
    `` = 2016-03-14 (article of 2016-03-15 [1])``."""
    read_in = next((x for x in answer.citations if x.ref == c.quote.ref), None)
    if c.day is None or read_in is None:
        return ""
    return f" = {c.day} (article of {read_in.date} [{read_in.ref}])"


def _holds(document: str, start: int, end: int, sentence: Evidence) -> bool:
    """Whether the slice ``[start, end)`` of ``document`` holds the whole ``sentence``."""
    return document == sentence.document and start <= sentence.start and sentence.end <= end


def direct_view(answer: Answer, out: Console) -> None:
    rows = direct_lines(answer)
    line = answer.direct
    # Each sentence is printed once: an item's sentence that a quote below holds, or that an
    # item above printed, is left to its citation number.
    shown = {(q.document, q.start, q.end) for q in answer.quotes}
    for n, (prefix, body) in enumerate(rows):
        hanging(
            out,
            prefix,
            body,
            indent=4 if prefix.startswith(" ") else len(prefix),
            style="bold" if n == 0 else "",
        )
        if line is not None and line.list and n > 0:  # each item's best sentence, verbatim
            c = line.candidates[n - 1]
            if any(_holds(doc, start, end, c.quote) for doc, start, end in shown):
                continue
            shown.add((c.quote.document, c.quote.start, c.quote.end))
            hanging(
                out,
                "      “",
                f"{' '.join(c.quote.text.split())}” [{c.quote.ref}]",
                indent=7,
                style="dim",
            )
    if rows:
        out.print()


def highlighted(text: str, terms: Sequence[Term], style: str = "") -> Text:
    from rich.text import Text

    out = Text(text, style=style)
    for start, end in highlights(text, terms):
        out.stylize("bold yellow", start, end)
    return out


def _block_quote(out: Console, body: Text, style: str = "") -> None:
    from rich.text import Text

    for line in body.wrap(out, max(20, out.width - len(QUOTE_BAR) - 2)):
        out.print(Text("  " + QUOTE_BAR, style=style or "cyan") + line, soft_wrap=True)


def reflow(text: str) -> tuple[str, list[int]]:
    """A quote as shown, and where each character of ``text`` is in it (-1: white space folded).
    Shown, each paragraph is on its own line and its other white space (hard line breaks of a
    text file, runs of spaces) is single spaces; the text itself stays verbatim in --json."""
    shown: list[str] = []
    where: list[int] = []
    space = ""  # the white space since the last character shown
    for ch in text:
        if ch.isspace():
            space += ch
            where.append(-1)
            continue
        if space and shown:
            shown.append("\n" if space.count("\n") >= 2 else " ")
        space = ""
        where.append(len(shown))
        shown.append(ch)
    return "".join(shown), where


def _context(q: Quote) -> list[tuple[int, int]]:
    """The parts of a quote around its chosen sentences (offsets in ``q.text``)."""
    out, at = [], 0
    for s, e in sorted(q.chosen):
        if s > at:
            out.append((at, s))
        at = max(at, e)
    return out + [(at, len(q.text))] if q.chosen and at < len(q.text) else out


def quote_text(answer: Answer, q: Quote, dim: bool = False) -> Text:
    """A quote reflowed, the question's words highlighted, the context dimmer than the
    sentences chosen (``dim``: all of it, for passages that do not answer)."""
    shown, where = reflow(q.text)
    body = highlighted(shown, answer.terms, "dim" if dim else "")
    for s, e in [] if dim else _context(q):
        kept = [i for i in where[s:e] if i >= 0]
        if kept:
            body.stylize("dim", kept[0], kept[-1] + 1)
    return body


def _quote_block(out: Console, answer: Answer, q: Quote, dim: bool = False) -> None:
    c = answer.citation(q.ref)
    body = quote_text(answer, q, dim)
    body.append(f" [{q.ref}]", style="bold")
    _block_quote(out, body, "dim" if dim else "")
    place = ", ".join(x for x in (q.location, _date_label(answer, c)) if x)
    cite = f"{c.title or c.document} ({place})"
    if q.also:
        cite += "; also in " + ", ".join(f"[{r}]" for r in dict.fromkeys(r for r, _, _ in q.also))
    if q.weak and answer.answered:
        cite += " · a weak match: under the bar, it may not answer"
    hanging(out, "    — ", cite, style="dim")
    out.print()


def citations_table(answer: Answer, out: Console) -> None:
    """The answer's sources: a table when it fits with every id whole, else a two-line
    entry per source (``[n] title``, then ``id · location · date``)."""
    rows = [
        (f"[{c.ref}]", c.title or "", c.document, _date_label(answer, c), c.location or "")
        for c in answer.citations
    ]
    table = fitting_table(
        out,
        ("ref", "title", "document", "date", "location"),
        rows,
        wrap="title",
        right=("ref",),
        title="Sources",
        title_justify="left",
        show_edge=False,
    )
    if table is not None:
        out.print(table)
        return
    out.print("Sources", style="table.title", markup=False, highlight=False)
    for c in answer.citations:
        _entry(
            out,
            f"[{c.ref}]",
            c.title or c.document,
            [c.document, c.location or "", _date_label(answer, c)],
        )


def explain_table(answer: Answer, out: Console) -> None:
    from rich.table import Table

    quotes = answer.quotes or answer.closest
    table = Table(title="Why these quotes", title_justify="left", show_edge=False)
    for column in (
        "quote",
        "rank",
        "score",
        "cosine",
        "lexical",
        "matched",
        "passage",
        "dense rank",
        "keyword rank",
    ):
        # A header breaks between its words, never inside one ("passag/e" at 80 columns);
        # only the matched words wrap.
        table.add_column(
            column.replace(" ", "\n"),
            overflow="fold",
            no_wrap=column != "matched",
            min_width=max(len(word) for word in column.split()),
        )
    for n, q in enumerate(quotes, 1):
        table.add_row(
            f"{n} [{q.ref}]",
            f"{q.rank:.3f}",
            f"{q.score:.3f}",
            f"{q.dense:.3f}",
            f"{q.lexical:.2f}",
            ", ".join(q.matched) or "-",
            f"{q.passage_score:.3f}",
            str(q.dense_rank or "-"),
            str(q.keyword_rank or "-"),
        )
    out.print(table)
    hanging(
        out,
        "",
        "score = 0.6 × sentence cosine + 0.4 × lexical coverage; an answer needs a quote at "
        f"{POLICY.bar:.2f}, the others at {POLICY.support:.2f}. rank = score + the passage's score, "
        "agreement between articles and recency: the order shown",
        indent=2,
        style="dim",
    )


def brief(answer: Answer) -> Answer:
    """The compact form (``--brief``): the answer line and the one quote that holds its
    sentence (else the first); a list's items show their own sentences, so no quote; only the
    sources those cite."""
    line = answer.direct
    if not answer.answered:
        answer = replace(answer, closest=answer.closest[:1])
        cited = {q.ref for q in answer.closest}
    else:
        if line is not None and line.list:
            quotes: tuple[Quote, ...] = ()
        else:
            first = line.candidates[0].quote if line else None
            holding = [
                q for q in answer.quotes if first and _holds(q.document, q.start, q.end, first)
            ]
            quotes = tuple(holding[:1] or answer.quotes[:1])
        answer = replace(answer, quotes=quotes)
        cited = {q.ref for q in quotes}
        for c in line.candidates if line else ():
            cited.update(c.refs)
            if line is not None and line.list:
                cited.add(c.quote.ref)
    return replace(answer, citations=tuple(c for c in answer.citations if c.ref in cited))


def answer_view(
    answer: Answer,
    out: Console | None = None,
    *,
    explain: bool = False,
    heading: bool = False,
    refusal: str | None = None,
) -> None:
    """An answer as block quotes with citation numbers, then its sources; ``refusal``
    replaces the answer's own line when nothing answers (``ask.refusal``)."""
    out = out or console()
    if heading:
        out.print(answer.question, style="bold", markup=False, highlight=False)
    direct_view(answer, out)
    if not answer.answered:
        out.print(refusal or answer.refusal, markup=False)
        if answer.closest:
            out.print("Closest passages — these do not answer the question:", style="dim")
            out.print()
    for q in answer.quotes or answer.closest:
        _quote_block(out, answer, q, dim=not answer.answered)
    if answer.citations:
        citations_table(answer, out)  # dated, the oldest and newest marked: no timeline under it
    if explain:
        out.print()
        explain_table(answer, out)


# -- /open and /export ---------------------------------------------------------------
def paragraph(text: str, start: int, end: int, limit: int = 1200) -> tuple[int, int]:
    """The paragraph around ``text[start:end]``: between blank lines, else between line
    breaks, else a window of ``limit`` characters."""
    import re

    for breaks in (r"\n\s*\n", r"\n"):
        before = [m.end() for m in re.finditer(breaks, text[:start])]
        after = re.search(breaks, text[end:])
        left = before[-1] if before else 0
        right = end + after.start() if after else len(text)
        if right - left <= limit or breaks == r"\n":
            break
    if right - left > limit:
        pad = max(0, (limit - (end - start)) // 2)
        left, right = max(left, start - pad), min(right, end + pad)
    return left, right


def open_view(answer: Answer, ref: int, text: str, out: Console | None = None) -> None:
    """The passage behind citation ``ref``: its paragraph, the quotes highlighted."""
    from rich.text import Text

    out = out or console()
    c = answer.citation(ref)
    quotes: list[tuple[int, int]] = [
        (q.start, q.end) for q in (answer.quotes or answer.closest) if q.ref == ref
    ] or _line_mentions(answer, ref, text)
    first = quotes[0] if quotes else (0, 0)
    left, right = paragraph(text, first[0], first[1])
    while left < right and text[left].isspace():
        left += 1
    while right > left and text[right - 1].isspace():
        right -= 1
    # Without colour (piped, NO_COLOR) the quotes are marked with »…« instead of reverse video.
    marks = ("»", "«") if out.color_system is None else ("", "")
    body = Text("…" if left > 0 and text[left - 1] != "\n" else "")
    at = left
    for start, end in sorted(quotes):
        s, e = max(start, at), min(end, right)
        if s < e:
            body.append(text[at:s])
            body.append(marks[0] + text[s:e] + marks[1], style="reverse")
            at = e
    body.append(text[at:right] + ("…" if right < len(text) and text[right] != "\n" else ""))
    hanging(out, f"[{ref}] ", c.title or c.document, style="bold")
    hanging(
        out,
        "",
        f"{c.document} · {c.location or ''} · {dated(c.date, c.date_source) or 'undated'} · {c.path}",
        indent=4,
        style="dim",
    )
    out.print()
    _block_quote(out, body)


def _line_mentions(answer: Answer, ref: int, text: str) -> list[tuple[int, int]]:
    """Where the answer line's candidates are said in citation ``ref``'s article (for a
    citation the line gives and no quote does): each candidate's sentence there, or its words."""
    line, c = answer.direct, answer.citation(ref)
    found: list[tuple[int, int]] = []
    for cand in line.candidates if line else ():
        if cand.quote.ref == ref:
            found.append((cand.quote.start, cand.quote.end))
            continue
        for doc, offset in zip(cand.documents, cand.offsets):
            if doc != c.document:
                continue
            for form in (cand.text, *cand.variants):
                at = text.find(form, offset)
                if at >= 0:
                    found.append((at, at + len(form)))
                    break
    return found


def export_markdown(
    answers: Sequence[Answer], index: str, filters: Sequence[Filters] | None = None
) -> str:
    """The session as Markdown: each question, its quotes as block quotes with footnotes;
    under a question asked with a filter or a reference date (``filters``, parallel to
    ``answers``), that filter."""
    lines = ["# Research session", "", f"Index: `{index}`", ""]
    notes: list[str] = []
    for n, answer in enumerate(answers, 1):
        lines += [f"## {answer.question}", ""]
        asked = filters[n - 1] if filters and n <= len(filters) else None
        if asked is not None and asked.active():
            lines += [f"*Asked with {asked.describe()}.*", ""]
        answer_line = direct_lines(answer)
        if answer_line:
            # The line's citation numbers become footnotes, as the quotes' are.
            lines += [
                ("**" + prefix.strip() + "** " if not prefix.startswith(" ") else "- ")
                + re.sub(r"\[(\d+)\]", rf"[^q{n}-\1]", body)
                for prefix, body in answer_line
            ] + [""]
        if not answer.answered:
            lines += [answer.refusal, ""]
        for q in answer.quotes:
            label = f"q{n}-{q.ref}"
            lines += [f"> {' '.join(q.text.split())} [^{label}]", ""]
        for c in answer.citations:
            if any(q.ref == c.ref for q in answer.quotes) or answer_line:
                where = ", ".join(
                    x for x in (c.location, dated(c.date, c.date_source) or "undated") if x
                )
                notes.append(
                    f"[^q{n}-{c.ref}]: {c.title or c.document}, `{c.document}`, {where}. {c.path}"
                )
    return "\n".join(lines + notes) + "\n"
