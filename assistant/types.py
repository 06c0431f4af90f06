"""Typed values that flow through the engine.

Data flows one way: ``Path -> Document -> Chunk -> vectors -> index/`` and
``question -> Passage list -> Answer``. Every offset is a ``[start, end)`` pair of
character positions into ``Document.text``; for ``.txt`` and ``.md`` files that text
is the decoded file content itself, so offsets index the file exactly.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

Span = tuple[int, int]


def day(value: str | None) -> datetime.date | None:
    """The calendar day of an ISO date ("2022-06-17", or a longer timestamp); None for a
    month, a year, nothing or an unreadable value."""
    try:
        return datetime.date.fromisoformat(value[:10]) if value and len(value) >= 10 else None
    except ValueError:
        return None


FRESH_DAYS = 7.0  # how fast "this week" fades: a week-old article keeps 1/e of the recency bonus


def freshness(value: str | None, reference: datetime.date, days: float = FRESH_DAYS) -> float:
    """exp(-age / days) for an article dated ``age`` days before ``reference``. An undated one
    gets 0, and so does one dated after it: the retriever and the reader share this, so neither
    mistakes a future date for the most recent."""
    dated = day(value)
    if dated is None or dated > reference:
        return 0.0
    return math.exp(-(reference - dated).days / days)


@dataclass(frozen=True)
class Document:
    """One article, as read from disk, before chunking."""

    # The folder's label, then the path relative to it: "seeds/a.txt"; "notes.jsonl#<record id>"
    # for JSONL records. Readers give the relative part; the indexer adds the label.
    id: str
    text: str
    path: str  # absolute path of the file it came from
    format: str  # "txt", "md", "html", "pdf", "jsonl"
    title: str | None = None
    date: str | None = None  # ISO 8601 (YYYY-MM-DD or a full timestamp) when known
    # Where the date came from: "markup" (the file's metadata: meta tags, PDF info, front
    # matter, a labelled dateline), "text" (only the prose of an HTML page, right less
    # often), "manifest" (the folder's manifest.csv); None when undated.
    date_source: str | None = None
    source: str | None = None
    url: str | None = None
    author: str | None = None
    # Offsets in ``text`` where each PDF page begins (page n starts at pages[n-1]); empty otherwise.
    pages: tuple[int, ...] = ()
    # Spans of ``text`` left out of chunks: boilerplate footers and repeated paragraphs.
    excluded: tuple[Span, ...] = ()
    line: int | None = None  # the file line a JSONL record is on (a record is one line)

    @property
    def sha256(self) -> str:
        import hashlib

        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one document, sized for the embedding model."""

    doc_id: str
    index: int
    start: int
    end: int
    text: str  # == document.text[start:end]
    sentences: tuple[Span, ...]  # absolute offsets of each sentence inside the chunk
    # Named entities inside it, (start, end, spaCy label) in document offsets; None: not
    # tagged (tagging off, or an index older than schema 3). See ``entities.py``.
    mentions: tuple[tuple[int, int, str], ...] | None = None


@dataclass(frozen=True)
class DocumentInfo:
    """What the index knows about a document (everything but the chunk vectors)."""

    id: str
    path: str
    format: str
    title: str | None
    date: str | None
    source: str | None
    url: str | None
    author: str | None
    sha256: str
    chunks: int
    pages: tuple[int, ...] = ()
    line: int | None = None  # see Document.line
    date_source: str | None = None  # see Document.date_source; None also for rows before schema 4

    def page_at(self, offset: int) -> int | None:
        """1-based PDF page holding ``offset``, or None for formats without pages."""
        if not self.pages:
            return None
        page = 1
        for n, begin in enumerate(self.pages, start=1):
            if begin <= offset:
                page = n
        return page


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the scores that ranked it."""

    chunk_id: str
    document: DocumentInfo
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...]
    score: float  # fused score, higher is better
    dense_rank: int | None = None  # 1-based rank in the dense list, None if absent
    keyword_rank: int | None = None
    dense_score: float | None = None  # cosine similarity
    keyword_score: float | None = None  # BM25, higher is better
    mentions: tuple[tuple[int, int, str], ...] | None = None  # as Chunk.mentions


@dataclass(frozen=True)
class Filters:
    """Which documents a search may return; the one value that carries them from the CLI,
    the REPL or a library call down to the catalog. ``source`` matches the source field,
    the title or the document id (case-insensitive substring, or a glob with ``*?[``);
    ``since``/``until`` are ISO date prefixes (YYYY, YYYY-MM or YYYY-MM-DD), inclusive, and
    leave undated documents out; ``as_of`` leaves out only documents dated after it."""

    source: str | None = None
    since: str | None = None
    until: str | None = None
    # The reference date ("as of"): documents dated after it are left out; undated ones stay.
    as_of: str | None = None

    def active(self) -> bool:
        return any((self.source, self.since, self.until, self.as_of))

    def reference(self) -> datetime.date:
        """The day questions about the present are asked on: ``as_of``'s, else today."""
        return day(self.as_of) or datetime.date.today()

    def describe(self) -> str:
        parts = [f"{name}={value}" for name, value in vars(self).items() if value]
        return " ".join(parts) or "none"


NO_FILTERS = Filters()


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str
    kept: bool = False  # the version indexed before is still searchable (the failure may pass)


@dataclass
class IndexReport:
    """What one indexing run did (filled in as the run goes, so not frozen)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    chunks: int = 0  # chunks embedded in this run
    warnings: list[str] = field(default_factory=list)  # e.g. a bad row of a folder's manifest
    tagged: int = 0  # documents indexed before whose named entities this run found

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.skipped)} skipped"
        ) + (f", {self.tagged} tagged with named entities" if self.tagged else "")

    def embedded(self) -> str:
        return f"{self.chunks} chunk{'' if self.chunks == 1 else 's'} embedded"


# -- answers ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    """A content word of the question, with what counts as finding it in a sentence."""

    word: str
    stems: frozenset[str]  # stems of the word and of its corpus spelling variants
    weight: float  # IDF over the indexed documents


@dataclass(frozen=True)
class Citation:
    ref: int
    document: str  # document id: the path relative to the indexed folder
    title: str | None
    path: str
    date: str | None
    format: str
    location: str | None  # "line 12", "lines 3, 40", "page 2"
    date_source: str | None = None  # where the date came from: see Document.date_source


@dataclass(frozen=True)
class Quote:
    """A verbatim slice of one document, with the numbers that chose it."""

    ref: int
    document: str
    start: int
    end: int
    text: str  # == document_text[start:end]
    score: float  # relevance, comparable with Policy.bar
    location: str | None
    dense: float  # cosine of the best sentence to the question
    lexical: float  # share of the question's weighted words it contains
    passage_score: float  # fused retrieval score of the passage it came from
    dense_rank: int | None  # the passage's rank in the dense list
    keyword_rank: int | None  # the passage's rank in the keyword (BM25) list
    matched: tuple[str, ...] = ()  # question words found in it
    also: tuple[tuple[int, int, int], ...] = ()  # the same sentence elsewhere: (ref, start, end)
    chosen: tuple[
        Span, ...
    ] = ()  # the sentences chosen, as offsets in ``text``; the rest is context
    rank: float = 0.0  # what the quotes are ordered by, best first (``answer.Policy``)
    reader: float = 0.0  # the reader's belief that its best span answers (0..1; 0: none read)
    # Under the bar: it does not answer on its own (a further quote of an answered question,
    # kept for context: shown marked).
    weak: bool = False


@dataclass(frozen=True)
class Evidence:
    """The verbatim sentence an answer is read from: ``text == document_text[start:end]``."""

    ref: int
    document: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Candidate:
    """One answer: its text (verbatim in ``quote``, the sentence the reader read it in), the
    other spellings seen, the citations and articles that say it (``documents`` and ``dates``
    oldest first; a date is None for an undated article), and how likely it is right (0..1)."""

    text: str
    variants: tuple[str, ...]
    refs: tuple[int, ...]
    documents: tuple[str, ...]
    dates: tuple[str | None, ...]
    score: float
    quote: Evidence
    offsets: tuple[int, ...] = ()  # where each article says it (document offsets)
    # A weekday or "yesterday" resolved against its article's date (ISO day); None otherwise.
    day: str | None = None


@dataclass(frozen=True)
class Direct:
    """The answer line: ``candidates`` best first (one; two for a close second or when the
    articles differ; every item for a list)."""

    candidates: tuple[Candidate, ...]
    list: bool = False
    disagree: bool = False


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    quotes: tuple[Quote, ...]  # best first; empty when not answered
    closest: tuple[Quote, ...]  # when not answered: the nearest candidates, which do not answer
    citations: tuple[Citation, ...]
    searched: int  # documents searched (the index, or those the filters let through)
    terms: tuple[Term, ...] = ()
    indexed: int = 0  # documents in the index (0: not told; taken to be ``searched``)
    direct: Direct | None = None  # the answer line (``answerline.py``); None: no line
    warnings: tuple[str, ...] = ()  # e.g. the reader could not run: no answer line

    def citation(self, ref: int) -> Citation:
        return next(c for c in self.citations if c.ref == ref)

    def oldest_first(self) -> list[Citation]:
        """Dated citations by date, oldest first (undated ones are left out)."""
        return sorted((c for c in self.citations if c.date), key=lambda c: c.date or "")

    @property
    def refusal(self) -> str:
        noun = "article" if self.searched == 1 else "articles"
        if self.searched < self.indexed:  # a filter or an as-of date left articles out
            return f"No passage in the {self.searched} {noun} searched (of {self.indexed} indexed) answers this."
        return f"No passage in the {self.searched} indexed {noun} answers this."
