"""Extractive answers: question + retrieved passages (+ the reader's candidates) -> verbatim,
cited quotes.

How quotes are chosen. Retrieval ranks chunks; an answer is made of sentences. Every
sentence of the retrieved passages is a candidate (headings, headlines, teasers ending in
":", photo captions, bylines, "Read more" lines and fragments are not: ``quotable``) and
gets a relevance score

    relevance = DENSE * cosine(question, sentence) + LEXICAL * coverage
                + READER * likely - RESTATING * [adds few content words to the question's own]

where ``coverage`` is the IDF-weighted share of the question's content words that the
sentence contains, matched by stem and by the corpus spellings of names (Hmeimim finds
Khmeimim), and ``likely`` is how likely the best answer the reader read in the sentence is
right (``answerline.py``; 0 for a sentence it did not read). IDF matters: a word every article
uses ("Russia", "Syria" in the seeds) adds almost nothing, so a question that only shares such
words with the articles does not look answered.

Relevance decides *whether* the articles answer (the bar below); a **rank** decides the order:
relevance plus the passage's fused retrieval score and list ranks, the reader's ``likely``
again, and on questions about the present the article's closeness to the reference date.
Its weights were fitted on dev data (``benchmarks/fit_answerline.py``).

Near-duplicate sentences (cosine >= DUPLICATE, or the same words) are merged into the
best one, which keeps the others as ``also``. Quotes are then picked greedily by MMR on the
rank with a penalty for a document already quoted, so the answer spreads across sources,
and shown in the order chosen: the best ranked first, each next one the best of the rest
after those penalties (so ``Quote.rank``, taken before them, need not fall; sorting by it cost
RealTime QA dev recall@3 0.708 -> 0.692). A chosen sentence that leans on the one before it
("It ...", "He said ...") is quoted with it, and chosen sentences that touch are joined: a
quote is always one exact slice ``document_text[start:end]``.

Abstention: a quote must clear ``Policy.bar`` on relevance. When none does, the answer
says so and keeps the closest candidates apart, as not answering.

Pure: no I/O. The caller supplies the passages, the question's weighted terms, the
document texts (for line numbers), a sentence embedder and the reader's ``likely`` by sentence.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from .text import NOW, STOPWORDS, asks_about_now, fold, query_terms
from .types import Answer, Citation, DocumentInfo, Passage, Quote, Span, Term, freshness

if TYPE_CHECKING:
    import numpy as np

    EmbedFn = Callable[[list[str]], np.ndarray]

__all__ = ["Answer", "Citation", "Policy", "Quote", "Term", "build", "location"]


@dataclass(frozen=True)
class Policy:
    dense: float = 0.6  # weight of the sentence's cosine to the question
    lexical: float = 0.4  # weight of the IDF-weighted share of question words it contains
    # The reader's weights and the bar: fitted on dev (``benchmarks/fit_answerline.py``): the
    # weights on a grid by recall@1 + recall@3 (SQuAD dev-a, RealTime QA dev, the seeds), the
    # bar where fewest labelled questions (seeds, RTQA dev) are misjudged, a refused answerable
    # one and an answered unanswerable one counting one each (46 of 308).
    reader: float = 0.6  # weight of the reader's ``likely`` in relevance
    restating: float = 0.10  # penalty for adding nothing to the question's own words
    bar: float = 0.489  # relevance the best quote must reach
    support: float = 0.40  # relevance the further quotes of an answered question must reach
    # Ranking: the order quotes are chosen and shown in (the bar stays on relevance alone).
    passage: float = 0.5  # the fused retrieval score of the sentence's passage
    read_rank: float = 0.9  # the reader's ``likely`` once more, in ranking only
    keyword_rank: float = 0.06  # bonus x 1 / its passage's rank in the keyword search
    dense_rank: float = 0.1  # bonus x 1 / its passage's rank in the dense search
    recent: float = 0.7  # bonus x exp(-age / 7 days) for an article dated near the reference date,
    #                      on questions about the present ("this week": ``asks_about_now``)
    mmr: float = 0.25  # penalty per unit of similarity to a quote already chosen
    same_document: float = 0.15  # penalty per quote already taken from the same document
    duplicate: float = 0.92  # cosine at or above which two sentences say the same thing
    closest: int = 3  # candidates shown, as not answering, when nothing clears the bar
    context: int = 225  # a quote grows by neighbouring sentences up to this many characters (0: no)
    context_first: int = 600  # the same for the best quote: the likeliest to hold the answer


# -- question terms ---------------------------------------------------------------
_WORD = re.compile(r"\w+(?:-\w+)*")
# Words that frame a question rather than name what it is about; absent from an article,
# they would count as missing topic words ("How many troops ...", "What happened at ...").
FRAMING = frozenset(
    """many much long often happen happened happens mean means meant take takes took make
    makes made like kind sort type way ways thing things anything something go goes went
    know known think get gets got give given show shows showed
    role roles job jobs position occupation profession""".split()
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer: a C extension, imported on first use

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(fold(word)))


def words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, stem) of every word; hyphenated words also count by their parts."""
    out = []
    for m in _WORD.finditer(text):
        out.append((m.start(), m.end(), stem(m.group())))
        if "-" in m.group():
            out.extend((m.start(), m.end(), stem(part)) for part in m.group().split("-") if part)
    return out


def weigh_terms(
    question: str, variants: Callable[[str], list[str]], df: Callable[[str], int], documents: int
) -> tuple[Term, ...]:
    """The question's content words with their spellings and IDF weights. Words that only
    place the question in time ("this year", "recently") are none: "What did Putin order this
    year?" is answered by a sentence on the order that never says "year"."""
    terms = []
    for word in query_terms(NOW.sub(" ", question)):
        if word in FRAMING:
            continue
        spellings = [word, *variants(word)]
        seen = max((df(s) for s in spellings + [stem(word)]), default=0)
        # Softened IDF: a word in every article still counts a little, one in none ~3.5x more.
        weight = math.log(1 + (documents + 1) / (seen + 0.5))
        terms.append(Term(word, frozenset(stem(s) for s in spellings), weight))
    return tuple(terms)


@lru_cache(maxsize=50_000)
def stems_of(text: str) -> frozenset[str]:
    return frozenset(st for _, _, st in words(text))


def coverage(stems: frozenset[str], terms: Sequence[Term]) -> tuple[float, tuple[str, ...]]:
    total = sum(t.weight for t in terms)
    found = [t for t in terms if t.stems & stems]
    return (sum(t.weight for t in found) / total if total else 0.0), tuple(t.word for t in found)


def highlights(text: str, terms: Iterable[Term]) -> list[Span]:
    """Spans of ``text`` holding one of the question's words (any spelling, any inflection)."""
    wanted = set().union(*(t.stems for t in terms))
    spans = sorted({(s, e) for s, e, st in words(text) if st in wanted})
    return [sp for i, sp in enumerate(spans) if i == 0 or sp[0] >= spans[i - 1][1]]


def novelty(stems: frozenset[str], question_stems: frozenset[str]) -> int:
    """How many content words a sentence adds to the question's own."""
    return len(stems - question_stems - _stop_stems())


@lru_cache(maxsize=1)
def _stop_stems() -> frozenset[str]:
    return frozenset(stem(w) for w in STOPWORDS)


# -- candidates -------------------------------------------------------------------
_LEANS_BACK = re.compile(r"(?:it|this|these|that|those|they|he|she|such|however|but)\b", re.I)
_TERMINAL = re.compile(r"""[.!?]["'”’)\]\d\s]*$""")


@dataclass
class _Candidate:
    passage: Passage
    start: int
    end: int
    text: str
    quote_start: int  # where the quote begins: the sentence, or the one before it leans on
    vector: np.ndarray | None = None
    dense: float = 0.0
    lexical: float = 0.0
    matched: tuple[str, ...] = ()
    novel: int = 0  # content words beyond the question's own
    likely: float = 0.0  # the reader's belief in the best answer it read in the sentence
    score: float = 0.0
    rank: float = 0.0
    also: list[_Candidate] = field(default_factory=list)


# Lines of a page that are not the article's prose: captions and photo credits, bylines,
# calls to read, watch, share or subscribe. Plain substrings (case-folded) where they can be:
# a quotable check runs for every sentence of every retrieved passage.
_NOT_PROSE = (
    "(photo",
    "photo:",
    "photos:",
    "photograph:",
    "image:",
    "credit:",
    "illustration:",
    "getty images",
    "ap photo",
    "file photo",
    "pictured",
    "/ap)",
    "/ ap)",
    "/afp",
    "/reuters",
    "contributed to this report",
    "all rights reserved",
    "newsletter",
    "sign up",
)
_CALL = re.compile(
    r"\W*(?:Read|Click|Tap|Subscribe|Watch|Listen|Download|Follow|Related|Advertisement|See also"
    r"|More:|Also read|Get the|Join|Share this|This story|Copyright)\b"
    r"|(?:By|BY)\s+[A-Z][\w.'’-]+\s+[A-Z]"  # a byline: "By Jane Doe ..."
)
_HANDLE = re.compile(r"@\w{2,}")


@lru_cache(maxsize=50_000)
def quotable(text: str) -> bool:
    """Headings, teasers, captions, bylines, fragments and questions are not quotable answers."""
    words = text.split()
    n = len(words)
    if n < 5 or text.lstrip().startswith("#") or text.rstrip().endswith("?"):
        return False
    terminal = bool(_TERMINAL.search(text))
    lower = text.casefold()
    if text.rstrip().endswith(":") or any(s in lower for s in _NOT_PROSE) or _CALL.match(text):
        return False
    if "@" in text and _HANDLE.search(text):
        return False
    # A headline: no full stop, most words capitalised ("Russia Pulls Troops From Syria Base").
    if not terminal and sum(w[:1].isupper() for w in words) >= 0.6 * n:
        return False
    return terminal or n >= 14


def candidates(passages: Sequence[Passage]) -> list[_Candidate]:
    """Every quotable sentence once (chunks overlap), with the passage that ranked best."""
    found: dict[tuple[str, int, int], _Candidate] = {}
    for p in passages:
        for i, (s, e) in enumerate(p.sentences):
            text = p.text[s - p.start : e - p.start]
            key = (p.document.id, s, e)
            if key in found or not quotable(text):
                continue
            lean = i > 0 and _LEANS_BACK.match(text) is not None
            found[key] = _Candidate(p, s, e, text, p.sentences[i - 1][0] if lean else s)
    return list(found.values())


# -- sentence vectors ---------------------------------------------------------------
class SentenceVectors:
    """Embeds candidate sentences, remembering each passage's sentence vectors so a warm
    session embeds nothing but the question (which the retriever has embedded already:
    ``embed_query`` is expected to be memoised)."""

    def __init__(
        self, embed: EmbedFn, embed_query: Callable[[str], np.ndarray], limit: int = 20_000
    ):
        self.embed, self.embed_query, self.limit = embed, embed_query, limit
        self._cache: dict[tuple[str, int, int, str], np.ndarray] = {}

    def __call__(self, question: str, found: list[_Candidate]) -> np.ndarray:
        keys = [(c.passage.document.id, c.start, c.end, c.text) for c in found]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            if len(self._cache) + len(missing) > self.limit:
                self._cache.clear()
            self._cache.update(zip(missing, self.embed([k[3] for k in missing])))
        for c, key in zip(found, keys):
            c.vector = self._cache[key]
        return self.embed_query(question)


# -- scoring and choosing -------------------------------------------------------------
def score(
    found: list[_Candidate],
    question_vector: np.ndarray,
    terms: Sequence[Term],
    policy: Policy,
    question: str = "",
    reference: datetime.date | None = None,
    likely: Mapping[tuple[str, int], float] | None = None,
) -> None:
    """Relevance and rank (module docstring). ``likely``: the reader's belief by (document id,
    sentence start)."""
    asked = stems_of(question)
    now = reference if reference is not None and asks_about_now(question) else None
    ranks = _tied_ranks([c.passage for c in found])
    for c in found:
        assert c.vector is not None
        c.dense = float(c.vector @ question_vector)
        sentence_stems = stems_of(c.text)
        c.lexical, c.matched = coverage(sentence_stems, terms)
        c.novel = novelty(sentence_stems, asked)
        c.likely = (likely or {}).get((c.passage.document.id, c.start), 0.0)
        restates = max(0.0, 1 - c.novel / NOVEL_ENOUGH)
        c.score = (
            policy.dense * c.dense
            + policy.lexical * c.lexical
            + policy.reader * c.likely
            - policy.restating * restates
        )
        c.rank = c.score + policy.passage * c.passage.score + _extras(c, policy, now, ranks)


def _tied_ranks(passages: Iterable[Passage]) -> dict[tuple[str, float | None], int]:
    """Each passage's dense and keyword rank, passages of equal score sharing the best of their
    ranks: equal chunks (an article that repeats a paragraph) tie in any order, and the order
    of a tie must not change the answer (a Chroma server and a local store list ties apart)."""
    best: dict[tuple[str, float | None], int] = {}
    for p in passages:
        for kind, value, rank in (
            ("dense", p.dense_score, p.dense_rank),
            ("keyword", p.keyword_score, p.keyword_rank),
        ):
            if rank:
                best[(kind, value)] = min(best.get((kind, value), rank), rank)
    return best


def _extras(
    c: _Candidate,
    policy: Policy,
    now: datetime.date | None,
    ranks: Mapping[tuple[str, float | None], int],
) -> float:
    """What ranks a relevant sentence above another beyond its relevance."""
    p = c.passage
    value = policy.read_rank * c.likely
    if p.keyword_rank:
        value += policy.keyword_rank / ranks.get(("keyword", p.keyword_score), p.keyword_rank)
    if p.dense_rank:
        value += policy.dense_rank / ranks.get(("dense", p.dense_score), p.dense_rank)
    if policy.recent:
        value += policy.recent * recency(c, now)
    return value


def recency(c: _Candidate, now: datetime.date | None) -> float:
    """The article's ``freshness`` on ``now``; 0 when the question is not about the present
    (``now`` None)."""
    return freshness(c.passage.document.date, now) if now is not None else 0.0


# A mention with no word the keyword index counts (a number, "S-400") has no document frequency:
# it weighs as a word of middling rarity. As the rarest (1.0) "S-400", named once in the seeds,
# won their vote for "Which bases did Russia keep?" (dev weeks: the same at 0.3 and 0.5).
NOVEL_ENOUGH = 4  # new content words at which a sentence stops counting as a restatement


def merge_duplicates(found: list[_Candidate], policy: Policy) -> list[_Candidate]:
    """Keep the best of each group of sentences that say the same thing."""
    import numpy as np

    kept: list[_Candidate] = []
    by_words: dict[tuple[str, ...], _Candidate] = {}
    vectors: np.ndarray | None = None  # row i: kept[i]'s vector (filled as sentences are kept)
    for c in sorted(found, key=lambda c: -c.rank):
        same = tuple(c.text.casefold().split())
        twin = by_words.get(same)
        if twin is None and kept:
            assert vectors is not None
            similar = vectors[: len(kept)] @ _vector(c)
            best = int(similar.argmax())
            twin = kept[best] if similar[best] >= policy.duplicate else None
        if twin is None:
            if vectors is None:
                vectors = np.empty((len(found), len(_vector(c))), dtype=_vector(c).dtype)
            vectors[len(kept)] = _vector(c)
            by_words[same] = c
            kept.append(c)
        elif twin.passage.document.id != c.passage.document.id:
            twin.also.append(c)
    return kept


def _vector(c: _Candidate) -> np.ndarray:
    assert c.vector is not None, "sentence vectors are set before scoring"
    return c.vector


def choose(found: list[_Candidate], k: int, policy: Policy) -> list[_Candidate]:
    """Greedy MMR: relevance, less similarity to what is chosen, less repeating a document."""
    chosen: list[_Candidate] = []
    pool = list(found)
    while pool and len(chosen) < k:

        def value(c: _Candidate) -> float:
            similar = max((float(_vector(c) @ _vector(s)) for s in chosen), default=0.0)
            repeats = sum(s.passage.document.id == c.passage.document.id for s in chosen)
            return c.rank - policy.mmr * max(similar, 0.0) - policy.same_document * repeats

        best = max(pool, key=value) if chosen else max(pool, key=lambda c: c.rank)
        chosen.append(best)
        pool.remove(best)
    return chosen


# -- building the answer -----------------------------------------------------------------
def location(doc: DocumentInfo, text: str | None, offset: int) -> str | None:
    """Where a quote is, in words a reader can find: the page of a PDF; the file line of a
    JSONL record (a record is one line); the paragraph of an HTML page's extracted text
    (its lines are not the file's); the line of a .txt or .md file, whose text is the file."""
    if doc.format == "pdf":
        page = doc.page_at(offset)
        return None if page is None else f"page {page}"
    if doc.format == "jsonl":
        return f"line {doc.line}" if doc.line else None
    if text is None:
        return None
    unit = "paragraph" if doc.format in ("html", "htm") else "line"
    return f"{unit} {text.count(chr(10), 0, offset) + 1}"


def widen(
    c: _Candidate, neighbours: Mapping[tuple[str, int], _Candidate], limit: int
) -> tuple[int, int]:
    """The quote around ``c``: its sentence, grown by the better scored of the quotable
    sentences just before and after it while the whole stays within ``limit`` characters.
    A sentence often states the topic and the next one the answer ("... a historic dress."
    "It was designed by Jean Louis."): a second sentence lets the quote hold both."""
    start, end = c.quote_start, c.end
    doc, spans = c.passage.document.id, c.passage.sentences
    starts = [s for s, _ in spans]
    if start not in starts or limit <= 0:
        return start, end
    lo = starts.index(start)
    hi = lo + next((i for i, (s, e) in enumerate(spans[lo:]) if e >= end), 0)
    while True:
        sides = [
            (i, neighbours.get((doc, spans[i][0]))) for i in (lo - 1, hi + 1) if 0 <= i < len(spans)
        ]
        fitting = [
            (i, n)
            for i, n in sides
            if n is not None
            and n.end == spans[i][1]
            and max(end, spans[i][1]) - min(start, spans[i][0]) <= limit
        ]
        if not fitting:
            return start, end
        i, _ = max(fitting, key=lambda side: side[1].score)
        lo, hi = min(lo, i), max(hi, i)
        start, end = spans[lo][0], spans[hi][1]


_Span = tuple[
    _Candidate, int, int, tuple[Span, ...]
]  # a quote: best sentence, start, end, chosen parts


def _spans(
    chosen: list[_Candidate],
    texts: Mapping[str, str],
    neighbours: Mapping[tuple[str, int], _Candidate],
    policy: Policy,
) -> list[_Span]:
    """Quote spans, the best (first) one with more context; those of one document that
    overlap or have only white space between are joined. Each keeps the parts that were
    chosen (the rest is context around them)."""
    spans: list[_Span] = []
    for n, c in enumerate(chosen):
        start, end = widen(c, neighbours, policy.context_first if n == 0 else policy.context)
        part = (c.quote_start, c.end)
        text_of = _slicer(c, texts)
        for i, (other, s, e, parts) in enumerate(spans):
            if other.passage.document.id != c.passage.document.id:
                continue
            gap = (e, start) if e <= start else (end, s) if end <= s else (0, 0)
            if gap[1] - gap[0] <= 3 and not text_of(*gap).strip():
                spans[i] = (other, min(s, start), max(e, end), (*parts, part))
                break
        else:
            spans.append((c, start, end, (part,)))
    return spans


class _Refs:
    """Citation numbers, one per document, in order of first use."""

    def __init__(self, texts: Mapping[str, str]):
        self.texts = texts
        self.docs: dict[str, DocumentInfo] = {}
        self.offsets: dict[str, list[int]] = {}

    def ref(self, doc: DocumentInfo, offset: int) -> int:
        self.docs.setdefault(doc.id, doc)
        self.offsets.setdefault(doc.id, []).append(offset)
        return list(self.docs).index(doc.id) + 1

    def citations(self) -> tuple[Citation, ...]:
        return tuple(self._citation(n, doc) for n, doc in enumerate(self.docs.values(), start=1))

    def _citation(self, n: int, doc: DocumentInfo) -> Citation:
        found = [
            location(doc, self.texts.get(doc.id), o) for o in sorted(set(self.offsets[doc.id]))
        ]
        places = [p for p in dict.fromkeys(found) if p is not None]
        where = None
        if places:
            kind = places[0].split()[0]
            where = (
                places[0]
                if len(places) == 1
                else f"{kind}s " + ", ".join(p.split()[1] for p in places)
            )
        return Citation(
            n, doc.id, doc.title, doc.path, doc.date, doc.format, where, doc.date_source
        )


def _quote(refs: _Refs, span: _Span, text_of: Callable[[int, int], str], bar: float) -> Quote:
    c, start, end, parts = span
    doc = c.passage.document
    ref = refs.ref(doc, c.start)  # cited where its best sentence is, not where its context begins
    also = tuple((refs.ref(d.passage.document, d.start), d.start, d.end) for d in c.also)
    return Quote(
        ref=ref,
        document=doc.id,
        start=start,
        end=end,
        text=text_of(start, end),
        score=round(c.score, 4),
        location=location(doc, refs.texts.get(doc.id), c.start),
        dense=round(c.dense, 4),
        lexical=round(c.lexical, 4),
        passage_score=round(c.passage.score, 4),
        dense_rank=c.passage.dense_rank,
        keyword_rank=c.passage.keyword_rank,
        matched=c.matched,
        also=also,
        chosen=tuple(sorted((s - start, e - start) for s, e in set(parts))),
        rank=round(c.rank, 4),
        reader=round(c.likely, 4),
        weak=c.score < bar,
    )


def _slicer(c: _Candidate, texts: Mapping[str, str]) -> Callable[[int, int], str]:
    full = texts.get(c.passage.document.id)
    if full is not None:
        return lambda s, e: full[s:e]
    p = c.passage
    return lambda s, e: p.text[s - p.start : e - p.start]


def build(
    question: str,
    passages: Sequence[Passage],
    terms: Sequence[Term],
    vectors: Callable[[str, list[_Candidate]], np.ndarray],
    *,
    k: int = 5,
    searched: int = 0,
    indexed: int = 0,
    texts: Mapping[str, str] | None = None,
    policy: Policy = Policy(),
    reference: datetime.date | None = None,
    likely: Mapping[tuple[str, int], float] | None = None,
) -> Answer:
    """The answer to ``question`` from ``passages``: up to ``k`` quotes clearing the bar.
    ``reference``: the date a question about the present is asked on (None: rank no article as
    recent); ``likely``: the reader's belief by (document id, sentence start) (``answerline``)."""
    texts = texts or {}
    found = candidates(passages)
    if found:
        score(found, vectors(question, found), terms, policy, question, reference, likely)
    neighbours = {(c.passage.document.id, c.start): c for c in found}
    found = merge_duplicates(found, policy)
    answered = any(c.score >= policy.bar for c in found)
    if answered:
        chosen = choose([c for c in found if c.score >= min(policy.support, policy.bar)], k, policy)
    else:
        chosen = choose(found, policy.closest, policy)
    refs = _Refs(texts)
    quotes = tuple(
        _quote(refs, span, _slicer(span[0], texts), policy.bar)
        for span in _spans(chosen, texts, neighbours, policy)
    )
    return Answer(
        question=question,
        answered=answered,
        quotes=quotes if answered else (),
        closest=() if answered else quotes,
        citations=refs.citations(),
        searched=searched,
        terms=tuple(terms),
        indexed=indexed,
    )


def passages_wanted(k: int) -> int:
    """How many passages to read sentences from for ``k`` quotes. Chunk ranking is coarse
    (a chunk's best sentence can sit at rank 9 or 10 when its neighbours are off topic), so
    ``k`` limits the quotes, never the pool they are chosen from. 24: on the RealTime QA dev
    weeks 16 -> 24 passages raised recall@3 by 0.03; 32 added little more at a third more
    sentences to embed."""
    return max(24, 2 * k)
