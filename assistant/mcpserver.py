"""MCP server: the index as tools an agent can call (``assistant mcp``).

An edge like ``cli.py``: each tool is a thin call into the same ``Library`` path the CLI
uses (``ask``, ``search``, ``documents``, ``text``), returned twice — as structured
content (the models below, which are the tools' output schemas) and as a short text
rendering for a model to read. Domain errors become tool errors here, once, as one
line; the server never dies on a bad call.

Why these choices:

* The official SDK's ``MCPServer`` (mcp 2.x) speaks the protocol; nothing here parses
  JSON-RPC. Over stdio the SDK points fd 1 at stderr while it serves, so a stray print
  cannot corrupt the stream; loading before that is fenced the same way (``_quiet``).
* The model and the store load once, before serving, so every call is warm. Each call
  goes through ``Library.search`` (directly or via ``ask``), which calls ``refresh()``:
  another process's indexing or rebuild is followed as in the REPL.
* One ``Library`` is shared by every call and is not meant for concurrent use, so calls
  take a lock (tools run on the SDK's worker threads).
* HTTP serves loopback only (127.0.0.1, localhost, ::1). The server has no
  authentication, so a non-loopback host is refused rather than exposed; the SDK's DNS
  rebinding protection is on for these hosts.
* ``index(paths)`` exists only with ``--allow-index DIR``, and only for paths that
  resolve (symlinks followed) inside one of those folders.

Offsets are positions in the indexed document text counted in Unicode code points
(Python ``str`` indices): ``quote.text == text[start:end]``.
"""

import argparse
import contextlib
import functools
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote as urlquote

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError, UnexpectedToolError
from mcp.types import CallToolResult, Resource, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from . import __version__
from .answer import location
from .chunk import sentence_spans
from .errors import AssistantError, IndexNotFound, UsageError
from .library import Library
from .retrieve import date_bound
from .types import Answer, DocumentInfo, Quote

URI_PREFIX = "assistant://document/"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
ASK_K = (1, 20)
SEARCH_K = (1, 50)
CONTEXT = (0, 10)

T = TypeVar("T")


# -- structured results (the tools' output schemas) ------------------------------------
class QuoteOut(BaseModel):
    ref: int = Field(description="citation number, an index into sources")
    text: str = Field(description="verbatim: equals the document's text[start:end]")
    document: str = Field(description="document id (path relative to the indexed folder)")
    start: int = Field(description="offset of the first code point in the document text")
    end: int = Field(description="offset just past the last code point")
    location: str | None = Field(description="'line N' for text, 'page N' for PDF")
    score: float = Field(description="relevance; an answered question has a quote over the bar")
    rank: float = Field(description="what the quotes are ordered by, best first")
    weak: bool = Field(default=False, description="under the bar: it may not answer on its own")
    also: list[dict[str, int]] = Field(
        default=[], description="the same sentence in other documents: ref, start, end"
    )


_DATE_SOURCE = (
    "where the date came from: 'markup' (the file's metadata), 'text' (only an HTML page's "
    "prose: less reliable), 'manifest' (the folder's manifest); null when undated or not known"
)


class CitationOut(BaseModel):
    ref: int
    document: str
    title: str | None
    path: str
    date: str | None = Field(description="ISO 8601, or null when the document is undated")
    date_source: str | None = Field(default=None, description=_DATE_SOURCE)
    url: str | None
    location: str | None


class CandidateOut(BaseModel):
    text: str = Field(description="the answer, verbatim in quote.text")
    variants: list[str] = Field(description="other spellings of it seen in the articles")
    refs: list[int] = Field(description="citation numbers of the articles that say it")
    documents: list[str] = Field(description="the articles that say it, oldest first")
    dates: list[str | None] = Field(description="their dates, parallel to documents; null: undated")
    score: float = Field(description="the fitted probability that it is right, 0..1")
    day: str | None = Field(
        description="a weekday or 'yesterday' resolved against its article's date; else null"
    )
    quote: dict[str, Any] = Field(
        description="the sentence it was read in: ref, document, start, end, text (verbatim)"
    )


class AnswerLineOut(BaseModel):
    line: str = Field(description="the answer line as the terminal shows it")
    candidates: list[CandidateOut] = Field(
        description="best first: two for a close second or a disagreement, every item of a list"
    )
    list: bool = Field(description="a list question: every item the articles support")
    disagree: bool = Field(
        description="the sources give different answers (see each candidate's dates)"
    )


class AskResult(BaseModel):
    question: str
    answered: bool = Field(description="false: no passage answers; see message and closest")
    answer: AnswerLineOut | None = Field(
        description="the answer itself, found verbatim in the quotes; null when none"
    )
    quotes: list[QuoteOut] = Field(description="best first; empty when not answered")
    closest: list[QuoteOut] = Field(
        description="when not answered: the nearest passages, which do NOT answer"
    )
    sources: list[CitationOut] = Field(description="one per cited document, by ref")
    message: str | None = Field(description="the refusal line when not answered")
    searched: int = Field(description="documents searched (after filters)")
    as_of: str | None = Field(
        description="the reference date applied, or null when none was applied"
    )
    warnings: list[str] = Field(
        default=[], description="one-line warnings, e.g. the reader could not run (no line)"
    )


class PassageOut(BaseModel):
    rank: int
    document: str
    title: str | None
    date: str | None
    start: int
    end: int
    text: str = Field(description="verbatim: equals the document's text[start:end]")
    location: str | None
    score: float = Field(description="fused retrieval score, higher is better")
    dense_rank: int | None
    keyword_rank: int | None


class SearchResult(BaseModel):
    query: str
    passages: list[PassageOut]


class SourceOut(BaseModel):
    document: str
    uri: str = Field(description="the document as an MCP resource")
    title: str | None
    date: str | None
    date_source: str | None = Field(default=None, description=_DATE_SOURCE)
    source: str | None
    url: str | None
    author: str | None
    path: str
    format: str
    chunks: int


class SourcesResult(BaseModel):
    documents: list[SourceOut]


class ReadResult(BaseModel):
    document: str
    title: str | None
    start: int
    end: int
    text: str = Field(description="the document's text[start:end], verbatim")
    context_start: int
    context_end: int
    before: str = Field(description="text[context_start:start]: the sentences before")
    after: str = Field(description="text[end:context_end]: the sentences after")
    location: str | None
    length: int = Field(description="the document text's length in code points")


class IndexResult(BaseModel):
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    skipped: list[dict[str, str]] = Field(description="files not indexed: path and reason")
    chunks: int = Field(description="chunks embedded in this run")


def _result(model: BaseModel, text: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=model.model_dump(mode="json"),
    )


# -- argument checks: each failure is one line -------------------------------------------
def _in_range(name: str, value: int, bounds: tuple[int, int]) -> int:
    low, high = bounds
    if not low <= value <= high:
        raise ToolError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _date(name: str, value: str | None) -> str | None:
    """A date bound as the CLI takes it: YYYY, YYYY-MM or YYYY-MM-DD, and a real date."""
    if value is None or value == "":
        return None
    try:
        return date_bound(value)
    except ValueError as exc:
        raise ToolError(f"{name}: {exc}") from None


@functools.cache
def _uri(doc_id: str) -> str:
    return URI_PREFIX + urlquote(doc_id, safe="/")


# -- rendering ---------------------------------------------------------------------------
def _quote_out(q: Quote) -> QuoteOut:
    also = [{"ref": r, "start": s, "end": e} for r, s, e in q.also]
    return QuoteOut(
        ref=q.ref,
        text=q.text,
        document=q.document,
        start=q.start,
        end=q.end,
        location=q.location,
        score=q.score,
        rank=q.rank,
        weak=q.weak,
        also=also,
    )


def _answer_line(answer: Answer) -> AnswerLineOut | None:
    """The answer line (``answerline.py``), or None when the answer has none."""
    from .render import direct_json, direct_lines

    found = direct_json(answer.direct)
    if found is None:
        return None
    line = " ".join(" ".join(row) for row in direct_lines(answer))
    cands = [CandidateOut(**c) for c in found["candidates"]]
    return AnswerLineOut(
        line=" ".join(line.split()),
        candidates=cands,
        list=found["list"],
        disagree=found["disagree"],
    )


def _cite(q: QuoteOut, citations: dict[int, CitationOut]) -> str:
    c = citations[q.ref]
    where = ", ".join(x for x in (q.location, c.date or "undated") if x)
    return f'[{q.ref}] "{q.text}" — {c.title or c.document} ({c.document}, {where}; offsets {q.start}-{q.end})'


def _ask_text(r: AskResult) -> str:
    cites = {c.ref: c for c in r.sources}
    if r.answered:
        lines = [r.answer.line] if r.answer else []
        lines += [_cite(q, cites) for q in r.quotes]
    else:
        lines = [r.message or "No passage answers this."]
        if r.closest:
            lines.append("Closest passages — these do not answer the question:")
            lines += [_cite(q, cites) for q in r.closest]
    return "\n".join(lines)


# -- the tools -----------------------------------------------------------------------------
class Tools:
    """The tools over one Library; plain methods, so they can be called without MCP."""

    def __init__(self, lib: Library, allow_index: Sequence[str | os.PathLike[str]] = ()):
        self.lib = lib
        self.roots = [Path(p).resolve() for p in allow_index]
        self._lock = threading.Lock()

    def _call(self, fn: Callable[[], T]) -> T:
        """Run one library call: serialised, with domain errors as one-line tool errors."""
        with self._lock:
            try:
                return fn()
            except AssistantError as exc:
                raise ToolError(str(exc)) from None

    def warm(self) -> None:
        """Open the catalog, the store and the model, and run one search, so calls are warm."""
        try:
            self.lib.require_documents()
        except IndexNotFound:
            if self.roots:
                return  # nothing indexed yet: index() will build it, and load the model then
            raise
        self.lib.ask("Which warm-up question opens every part?", 1)
        sentence_spans("Warm up. The sentence splitter loads on first use.")

    def ask(
        self,
        question: Annotated[str, Field(description="the question, in plain words")],
        k: Annotated[
            int,
            Field(
                description="at most k quotes (1-20)",
                json_schema_extra={"minimum": 1, "maximum": 20},
            ),
        ] = 5,
        source: Annotated[
            str | None,
            Field(
                description="only documents whose id, title or source contains this (or matches it as a glob)"
            ),
        ] = None,
        since: Annotated[
            str | None,
            Field(description="only documents dated on or after: YYYY, YYYY-MM or YYYY-MM-DD"),
        ] = None,
        until: Annotated[
            str | None,
            Field(description="only documents dated on or before: YYYY, YYYY-MM or YYYY-MM-DD"),
        ] = None,
        as_of: Annotated[
            str | None,
            Field(
                description="reference date (YYYY[-MM[-DD]]): documents dated after it are left out"
            ),
        ] = None,
    ) -> Annotated[CallToolResult, AskResult]:
        """Answer a question with verbatim, cited quotes from the indexed articles, or say
        plainly that no passage answers it (then `closest` lists the nearest passages, which
        do not answer). Every quote's text equals its document's text[start:end]. `as_of`: the
        reference date (documents dated after it are left out; undated ones stay)."""
        _in_range("k", k, ASK_K)
        since, until, when = _date("since", since), _date("until", until), _date("as_of", as_of)
        answer = self._call(
            lambda: self.lib.ask(
                question, k, source=source or None, since=since, until=until, as_of=when
            )
        )
        result = AskResult(
            question=answer.question,
            answered=answer.answered,
            answer=_answer_line(answer),
            quotes=[_quote_out(q) for q in answer.quotes],
            closest=[_quote_out(q) for q in answer.closest],
            sources=self._citations(answer),
            message=None if answer.answered else answer.refusal,
            searched=answer.searched,
            as_of=when,
            warnings=list(answer.warnings),
        )
        return _result(result, _ask_text(result))

    def _citations(self, answer: Answer) -> list[CitationOut]:
        infos = self._call(lambda: self.lib.catalog.infos(c.document for c in answer.citations))
        return [
            CitationOut(
                ref=c.ref,
                document=c.document,
                title=c.title,
                path=c.path,
                date=c.date,
                date_source=c.date_source,
                url=infos[c.document].url if c.document in infos else None,
                location=c.location,
            )
            for c in answer.citations
        ]

    def search(
        self,
        query: Annotated[str, Field(description="what to look for")],
        k: Annotated[
            int,
            Field(
                description="number of passages (1-50)",
                json_schema_extra={"minimum": 1, "maximum": 50},
            ),
        ] = 10,
        source: Annotated[
            str | None, Field(description="only documents whose id, title or source contains this")
        ] = None,
        since: Annotated[
            str | None,
            Field(description="only documents dated on or after: YYYY, YYYY-MM or YYYY-MM-DD"),
        ] = None,
        until: Annotated[
            str | None,
            Field(description="only documents dated on or before: YYYY, YYYY-MM or YYYY-MM-DD"),
        ] = None,
    ) -> Annotated[CallToolResult, SearchResult]:
        """The passages (chunks of whole sentences) that best match the query, best first,
        with their ranks in the dense and keyword lists. Passages are retrieved, not judged:
        use ask() for quotes that answer a question."""
        _in_range("k", k, SEARCH_K)
        since, until = _date("since", since), _date("until", until)
        found = self._call(
            lambda: self.lib.search(query, k, source=source or None, since=since, until=until)
        )
        texts = self._call(lambda: {d: self.lib.text(d) for d in {p.document.id for p in found}})
        passages = [
            PassageOut(
                rank=n,
                document=p.document.id,
                title=p.document.title,
                date=p.document.date,
                start=p.start,
                end=p.end,
                text=p.text,
                location=location(p.document, texts[p.document.id], p.start),
                score=round(p.score, 4),
                dense_rank=p.dense_rank,
                keyword_rank=p.keyword_rank,
            )
            for n, p in enumerate(found, 1)
        ]
        lines = [
            f"[{p.rank}] {p.title or p.document} ({p.document}, {p.location}, offsets {p.start}-{p.end}): {p.text}"
            for p in passages
        ]
        return _result(
            SearchResult(query=query, passages=passages), "\n".join(lines) or "No passages."
        )

    def sources(self) -> Annotated[CallToolResult, SourcesResult]:
        """The indexed documents: id, title, date, source, path, format, chunk count, and
        the resource URI that returns the document's full text."""
        docs = self._call(self.lib.documents)
        out = [
            SourceOut(
                document=d.id,
                uri=_uri(d.id),
                title=d.title,
                date=d.date,
                date_source=d.date_source,
                source=d.source,
                url=d.url,
                author=d.author,
                path=d.path,
                format=d.format,
                chunks=d.chunks,
            )
            for d in docs
        ]
        lines = [f"{d.document}  {d.title or ''}  ({d.date or 'undated'})" for d in out]
        return _result(
            SourcesResult(documents=out), "\n".join([f"{len(out)} indexed documents", *lines])
        )

    def read(
        self,
        document: Annotated[str, Field(description="document id, as in a quote's `document`")],
        start: Annotated[int, Field(description="offset of the passage's first code point")],
        end: Annotated[int, Field(description="offset just past the passage's last code point")],
        context: Annotated[
            int,
            Field(
                description="whole sentences to show before and after (0-10)",
                json_schema_extra={"minimum": 0, "maximum": 10},
            ),
        ] = 1,
    ) -> Annotated[CallToolResult, ReadResult]:
        """The passage text[start:end] of a document with `context` whole sentences before
        and after it, so a quote can be checked in context."""
        _in_range("context", context, CONTEXT)
        text, info = self._call(
            lambda: (self.lib.text(document), self.lib.catalog.infos([document]).get(document))
        )
        if not 0 <= start < end <= len(text):
            raise ToolError(
                f"offsets {start}-{end} out of range: need 0 <= start < end <= {len(text)} for {document!r}"
            )
        left, right = _around(
            text, start, end, context, pdf=info is not None and info.format == "pdf"
        )
        result = ReadResult(
            document=document,
            title=info.title if info else None,
            start=start,
            end=end,
            text=text[start:end],
            context_start=left,
            context_end=right,
            before=text[left:start],
            after=text[end:right],
            location=location(info, text, start) if info else None,
            length=len(text),
        )
        return _result(result, f"{result.before}»{result.text}«{result.after}")

    def index(
        self,
        paths: Annotated[
            list[str], Field(description="files or folders inside the folders the server allows")
        ],
    ) -> Annotated[CallToolResult, IndexResult]:
        """Add files and folders to the index (incremental: unchanged files cost nothing).
        Only paths inside the folders given to the server with --allow-index."""
        if not paths:
            raise ToolError("give at least one path")
        targets = [self._allowed(p) for p in paths]
        report = self._call(lambda: self.lib.add(targets))
        result = IndexResult(
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
            removed=report.removed,
            chunks=report.chunks,
            skipped=[{"path": s.path, "reason": s.reason} for s in report.skipped],
        )
        lines = [report.summary() + f" ({report.embedded()})"]
        lines += [f"skipped {s.path}: {s.reason}" for s in report.skipped]
        return _result(result, "\n".join(lines))

    def _allowed(self, path: str) -> Path:
        resolved = Path(path).expanduser().resolve()
        if not any(resolved == root or root in resolved.parents for root in self.roots):
            allowed = ", ".join(str(r) for r in self.roots)
            raise ToolError(f"{path}: outside the folders this server may index ({allowed})")
        if not resolved.exists():
            raise ToolError(f"{path}: no such file or folder")
        return resolved

    def document(self, doc_id: str) -> str:
        """A document's full text (the resource behind assistant://document/<id>)."""
        with self._lock:
            try:
                return self.lib.text(doc_id)
            except AssistantError as exc:
                raise ResourceNotFoundError(str(exc)) from None

    def resources(self) -> list[Resource]:
        docs: list[DocumentInfo] = self._call(self.lib.documents)
        return [
            Resource(
                uri=_uri(d.id),
                name=d.id,
                title=d.title,
                mime_type="text/plain",
                description=f"{d.format}, {d.date or 'undated'}: {d.path}",
            )
            for d in docs
        ]


@functools.lru_cache(maxsize=32)
def _sentences(text: str, pdf: bool) -> tuple[tuple[int, int], ...]:
    return tuple(sentence_spans(text, split_lines=not pdf))


def _around(text: str, start: int, end: int, context: int, *, pdf: bool) -> tuple[int, int]:
    """``[start, end)`` widened by ``context`` whole sentences on each side (a sentence the
    passage begins or ends inside counts as one of them)."""
    spans = _sentences(text, pdf)
    before = [s for s, _ in reversed(spans) if s < start]  # nearest first
    after = [e for _, e in spans if e > end]
    left = before[min(context, len(before)) - 1] if context and before else start
    right = after[min(context, len(after)) - 1] if context and after else end
    return min(left, start), max(right, end)


# -- the server ----------------------------------------------------------------------------
class _Server(MCPServer):
    """MCPServer with the indexed documents listed as resources, and argument errors
    reported in one line (pydantic's own message spans several)."""

    def __init__(self, tools: Tools, **kwargs: Any):
        super().__init__(**kwargs)
        self._tools = tools

    async def list_resources(self) -> list[Resource]:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(self._tools.resources)

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, ValidationError):
                raise
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in cause.errors()
            )
            raise ToolError(f"bad arguments for {name}: {problems}") from cause


def build(tools: Tools) -> MCPServer:
    server = _Server(
        tools,
        name="assistant",
        version=__version__,
        instructions="Answers questions over a folder of indexed articles with verbatim, cited quotes. "
        "Use ask() for answers, search() for raw passages, sources() for the documents, and read() to "
        "check a quote in its context. Quote text always equals the document text at [start:end].",
        log_level="WARNING",
    )
    reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    for fn in (tools.ask, tools.search, tools.sources, tools.read):
        server.add_tool(fn, annotations=reads)
    if tools.roots:
        server.add_tool(
            tools.index,
            annotations=ToolAnnotations(
                read_only_hint=False,
                destructive_hint=False,
                idempotent_hint=True,
                open_world_hint=False,
            ),
        )
    server.resource(
        URI_PREFIX + "{+doc_id}",
        name="document",
        mime_type="text/plain",
        description="an indexed document's full text; offsets index it",
    )(tools.document)
    return server


def parse_http(value: str) -> tuple[str, int]:
    """``[HOST:]PORT`` with a loopback HOST (default 127.0.0.1); PORT 0 picks a free one."""
    host, _, port = value.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or int(port) > 65535:
        raise UsageError(
            f"--http: not a port: {value!r} (use [HOST:]PORT, e.g. 8765 or 127.0.0.1:8765)"
        )
    if host not in LOOPBACK:
        raise UsageError(
            f"--http: refusing to serve on {host}: the server has no authentication, so it listens "
            f"on loopback only ({', '.join(LOOPBACK)})"
        )
    return host, int(port)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Send anything written to stdout (by Python or by a C library) to stderr meanwhile:
    in stdio mode stdout carries only the protocol."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise AssistantError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    return sock


def _serve_http(server: MCPServer, host: str, port: int) -> None:
    import anyio
    import uvicorn

    sock = _listen(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    # The SDK turns DNS rebinding protection on for these loopback hosts.
    app = server.streamable_http_app(host=host)
    print(f"assistant mcp: serving http://{shown}:{bound}/mcp", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    anyio.run(lambda: uvicorn.Server(config).serve(sockets=[sock]))


def run(lib: Library, args: argparse.Namespace) -> int:
    """``assistant mcp``: load once, then serve on stdio (default) or ``--http``."""
    http = parse_http(args.http) if args.http else None
    tools = Tools(lib, args.allow_index or ())
    for root in tools.roots:
        if not root.is_dir():
            raise UsageError(f"--allow-index: not a folder: {root}")
    with _quiet():
        tools.warm()
        server = build(tools)
    if http:
        _serve_http(server, *http)
    else:
        server.run("stdio")
    return 0
