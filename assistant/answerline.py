"""The answer line: what the reader points at in the retrieved passages, merged and weighed.

Pipeline (``Library.ask``): retrieve -> the reader (``reader.py``) reads the first ``READ``
passages -> its spans become **candidates** here -> the best candidate, when likely right, is the
answer line; the sentence it was read in ranks higher among the quotes (``answer.build`` gets
each sentence's ``likely`` as a relevance and ranking feature).

A candidate is one answer however often and however spelled: spans are grouped by their words,
folded, without a leading article, each name word replaced by its canonical corpus spelling
(Hmeimim and Khmeimim are one candidate, ``lexical.variants``). How likely a candidate is right
is a logistic model over what the reader and the retriever say about it (``Weights``):

* ``score``: its best span's start + end logit; ``margin``: that over its passage's no-answer score;
* ``share``: log of its spans' share of the softmax over every span read (DrQA's aggregation);
* ``support``: log of the number of articles whose passages give it;
* ``rank``: 1 / (1 + the index of the best passage giving it), retrieval's own opinion;
* ``echo``: the share of its words the question already holds (an answer rarely repeats the question);
* ``length``: log of its word count.

The weights and the bar were fitted on dev data only (SQuAD dev-a as a folder, the RealTime QA dev
weeks; ``benchmarks/fit_answerline.py``), cross-validated: the bar is where refusing a line that
would be right costs as much as showing one that is wrong. No line is shown below it, even when
quotes are.

A **list** question ("Which bases ...?", a plural noun after which/what) gets every candidate over
its bar, one row each: ``LIST_WEIGHTS``, fitted the same way on dev-a's list questions, each item
weighed within its passage, the bar where the mean item F1 is best. Two candidates over the bar
from different articles with different answers are "sources differ", oldest first; from the same
articles, a close second ("X; or Y").

Pure: no I/O. The caller gives the passages, the reader's spans and the corpus spellings.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .text import STOPWORDS, WORD, fold
from .types import Answer, Candidate, Citation, Direct, Evidence, Passage, day

if TYPE_CHECKING:
    from .reader import ReadSpan

READ = 8  # passages the reader reads (first of the retrieved): recall against speed
OVERLAP = 0.3  # share of two spans' union that they share, at which they are one answer
LIST_READ = 16  # ... for a list question, whose items are spread over more passages


@dataclass(frozen=True)
class Weights:
    """Logistic weights of P(candidate is the answer); fitted by ``benchmarks/fit_answerline.py``."""

    bias: float = -2.3998
    score: float = 0.0171
    margin: float = 0.0816
    share: float = 0.5075
    support: float = 0.0616
    rank: float = 2.2332
    echo: float = 0.1427
    length: float = -0.7299
    bar: float = 0.325  # P a candidate needs to be shown


# A list's items: each weighed against its own passage's other spans (``gather(by_passage=True)``).
LIST_WEIGHTS = Weights(
    bias=-5.8895,
    score=0.222,
    margin=0.0941,
    share=0.621,
    support=0.0541,
    rank=3.719,
    echo=-0.2386,
    length=-0.2891,
    bar=0.2,
)

FEATURES = ("score", "margin", "share", "support", "rank", "echo", "length")


@dataclass
class Found:
    """One candidate while it is weighed: the spans that say it, best first."""

    key: str
    spans: list[tuple[ReadSpan, Passage]] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)  # its spellings (spans of its very key)
    features: dict[str, float] = field(default_factory=dict)
    likely: float = 0.0
    origins: set[int] = field(default_factory=set, repr=False)  # the read spans it came from

    @property
    def best(self) -> tuple[ReadSpan, Passage]:
        return self.spans[0]

    @property
    def documents(self) -> list[str]:
        return list(dict.fromkeys(p.document.id for _, p in self.spans))


_ARTICLE = frozenset({"the", "a", "an"})


def words_of(text: str) -> list[str]:
    return [fold(w) for w in WORD.findall(text)]


def key_of(text: str, spelling: Callable[[str], str]) -> str:
    """What makes two spans one answer: their words folded, a leading article dropped, each
    word in its canonical spelling."""
    words = words_of(text)
    while words and words[0] in _ARTICLE:
        words = words[1:]
    return " ".join(spelling(w) for w in words)


def canonical(variants: Callable[[str], Sequence[str]]) -> Callable[[str], str]:
    """The first, alphabetically, of a word's corpus spellings: one name for all of them."""
    seen: dict[str, str] = {}

    def spelling(word: str) -> str:
        if word not in seen:
            seen[word] = min([word, *variants(word)]) if not word.isdigit() else word
        return seen[word]

    return spelling


def gather(
    question: str,
    spans: Sequence[ReadSpan],
    passages: Sequence[Passage],
    spelling: Callable[[str], str] = lambda w: w,
    *,
    by_passage: bool = False,
) -> list[Found]:
    """The candidates of one question with their features (``likely`` not yet set). A span
    that mostly overlaps a better one of its passage ("President Vladimir Putin", "Vladimir
    Putin") adds to that one's candidate. ``by_passage``, for a list's items: coordinated spans
    split ("A, B and C"), candidates inside others merged, ``share`` within each passage's own
    spans (each passage may give its own item). On one answer's questions (SQuAD dev) the
    splitting and merging cost 0.017 EM: there they are off."""
    found: dict[str, Found] = {}
    taken: list[tuple[int, int, int, Found]] = []  # passage, start, end, its candidate
    tidied = [t for t in map(tidy, spans) if t is not None]
    # A list's items: "Tartus port and the Khmeimim airbase" is two, and each keeps the whole
    # span's weight (the reader said both): a candidate's ``origins`` are the spans it came from.
    parts = [(part, n) for n, t in enumerate(tidied) for part in (items(t) if by_passage else [t])]
    for span, n in sorted(parts, key=lambda x: -x[0].score):
        into = next(
            (f for p, s, e, f in taken if p == span.passage and _overlap(span, s, e) >= OVERLAP),
            None,
        )
        key = key_of(span.text, spelling)
        closed = key.replace(" ", "")  # one name written open or closed: "air base", "airbase"
        if into is None:
            if not key:
                continue
            into = found.setdefault(closed, Found(key))
            taken.append((span.passage, span.start, span.end, into))
        into.spans.append((span, passages[span.passage]))
        if closed == into.key.replace(" ", ""):
            into.forms.append(" ".join(span.text.split()))
        into.origins.add(n)
    if not found:
        return []
    if by_passage:  # a list's items, whatever they are called: "Tartous", "Tartous port"
        found = _nested(found)
    kept = {n: tidied[n] for f in found.values() for n in f.origins}
    top = max(t.score for t in kept.values())
    total = sum(math.exp(t.score - top) for t in kept.values())
    per_passage: dict[int, float] = {}
    for t in kept.values():
        per_passage[t.passage] = per_passage.get(t.passage, 0.0) + math.exp(t.score - top)
    asked = {spelling(fold(w)) for w in WORD.findall(question)}
    for f in found.values():
        span, _ = f.best
        words = f.key.split()
        content = [w for w in words if w not in STOPWORDS] or words
        mass = sum(
            math.exp(kept[n].score - top)
            for n in f.origins
            if not by_passage or kept[n].passage == span.passage
        )
        f.features = {
            "score": span.score,
            "margin": max(s.margin for s, _ in f.spans),
            "share": math.log(mass / (per_passage[span.passage] if by_passage else total)),
            "support": math.log(len(f.documents)),
            "rank": 1 / (1 + min(s.passage for s, _ in f.spans)),
            "echo": sum(w in asked for w in content) / len(content),
            "length": math.log(len(words)),
        }
    return list(found.values())


_TRAIL = ".,;:!?"
_LEAD = ",;:."


def tidy(span: ReadSpan) -> ReadSpan | None:
    """``span`` without the punctuation at its edges ("Geneva." -> "Geneva"; "U.S." keeps its
    stop); None for a span that crosses a paragraph break (a title and the text below it)."""
    text = span.text
    if "\n\n" in text.strip():
        return None
    s, e = 0, len(text)
    while e > s and (text[e - 1] in _TRAIL or text[e - 1].isspace()):
        if text[e - 1] == "." and e >= 3 and text[e - 3] == ".":  # an initialism: "U.S."
            break
        e -= 1
    while s < e and (text[s] in _LEAD or text[s].isspace()):
        s += 1
    if s == e:
        return None
    return replace(span, start=span.start + s, end=span.start + e, text=text[s:e])


_AND = re.compile(r"\s*(?:,\s*(?:and|or)\s+|,\s*|\s+(?:and|or)\s+|;\s*)")


def items(span: ReadSpan) -> list[ReadSpan]:
    """The parts of a coordinated span ("A, B, and C"), each a verbatim slice with the span's
    scores; the span itself when it is no list."""
    cuts = list(_AND.finditer(span.text))
    if not cuts:
        return [span]
    out, at = [], 0
    for m in [*cuts, None]:
        end = m.start() if m else len(span.text)
        if end > at:
            out.append(
                replace(span, start=span.start + at, end=span.start + end, text=span.text[at:end])
            )
        at = m.end() if m else at
    return [t for t in map(tidy, out) if t is not None] or [span]


def _nested(found: dict[str, Found]) -> dict[str, Found]:
    """Candidates whose content words lie inside a better one's are that one ("Tartous" and
    "Tartous naval base"; "Putin" and "Vladimir Putin"): better = its best span scores higher."""
    order = sorted(found.values(), key=lambda f: -f.best[0].score)
    kept: list[tuple[frozenset[str], Found]] = []
    for f in order:
        words = frozenset(w for w in f.key.split() if w not in STOPWORDS)
        into = next((k for w, k in kept if words and w and (words <= w or w <= words)), None)
        if into is None:
            kept.append((words, f))
        else:
            into.spans.extend(f.spans)
            into.origins |= f.origins
    return {f.key: f for _, f in kept}


def _overlap(span: ReadSpan, start: int, end: int) -> float:
    shared = min(span.end, end) - max(span.start, start)
    return max(0, shared) / (max(span.end, end) - min(span.start, start))


def weigh(found: list[Found], weights: Weights = Weights()) -> list[Found]:
    """Sets each candidate's ``likely`` (0..1); returns them most likely first."""
    for f in found:
        z = weights.bias + sum(getattr(weights, n) * f.features[n] for n in FEATURES)
        f.likely = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
    return sorted(found, key=lambda f: -f.likely)


# "Which bases ...", "What countries ...", "Name the ...": a plural noun after the wh-word.
_LIST = re.compile(
    r"^\s*(?:(?:which|what)\s+(?:[a-z-]+\s+)?(?P<noun>[a-z-]{3,}s)\b(?<!ss)"
    r"|(?:name|list)\s+(?:the|all|every)\b)",
    re.I,
)
_NOT_NOUN = frozenset({"was", "is", "has", "does", "its", "this", "thus", "us"})


def is_list(question: str) -> bool:
    m = _LIST.match(question)
    return m is not None and fold(m.group("noun") or "") not in _NOT_NOUN


def likely_by_sentence(found: Sequence[Found]) -> dict[tuple[str, int], float]:
    """Each read sentence's belief, by (document id, sentence start): the quotes' ranking
    feature, the ``likely`` of the best candidate read in it."""
    out: dict[tuple[str, int], float] = {}
    for f in found:
        for span, p in f.spans:
            at = (p.document.id, _sentence(p, span)[0])
            out[at] = max(out.get(at, 0.0), f.likely)
    return out


def _sentence(p: Passage, span: ReadSpan) -> tuple[int, int]:
    """The sentence of ``p`` holding ``span``, in document offsets (the passage if none)."""
    at = p.start + span.start
    for start, end in p.sentences:
        if start <= at < end:
            return start, max(end, p.start + span.end)
    return p.start, p.end


def direct(
    found: Sequence[Found],
    weights: Weights = Weights(),
    texts: Mapping[str, str] | None = None,
    *,
    listing: bool = False,
) -> Direct | None:
    """The answer line from weighed candidates (most likely first); None below the bar.
    ``listing``: a list question's candidates (``gather(by_passage=True)``), every one shown."""
    shown = [f for f in found if f.likely >= weights.bar]
    if not shown:
        return None
    if listing:
        return Direct(tuple(_candidate(f, texts) for f in shown), list=True)
    cands = [_candidate(f, texts) for f in shown[:2]]
    # Different articles, of different dates, saying different things: the sources differ.
    if (
        len(cands) == 2
        and not set(cands[0].documents) & set(cands[1].documents)
        and cands[0].dates[0] != cands[1].dates[0]
    ):
        return Direct(tuple(sorted(cands, key=lambda c: _oldest(c.dates[0]))), disagree=True)
    return Direct(tuple(cands))


def _oldest(date: str | None) -> tuple[bool, str]:
    """Sort key: dated first, oldest first; undated last."""
    return (date is None, date or "")


def _candidate(f: Found, texts: Mapping[str, str] | None) -> Candidate:
    span, p = f.best
    s, e = _sentence(p, span)
    full = (texts or {}).get(p.document.id)
    sentence = full[s:e] if full is not None else p.text[s - p.start : e - p.start]
    by_doc: dict[str, tuple[str | None, int]] = {}
    for sp, q in f.spans:
        by_doc.setdefault(q.document.id, (q.document.date, q.start + sp.start))
    docs = sorted(by_doc, key=lambda d: _oldest(by_doc[d][0]))
    text = " ".join(span.text.split())
    spellings: dict[str, str] = {}  # one form per spelling, up to a leading article and case
    for form in f.forms:
        spellings.setdefault(key_of(form, lambda w: w), form)
    return Candidate(
        text=span.text,
        variants=tuple(v for k, v in spellings.items() if k != key_of(text, lambda w: w))[:3],
        refs=(),
        documents=tuple(docs),
        dates=tuple(by_doc[d][0] for d in docs),
        score=round(f.likely, 4),
        quote=Evidence(0, p.document.id, s, e, sentence),
        offsets=tuple(by_doc[d][1] for d in docs),
        day=resolve_day(span.text, p.document.date),
    )


# -- weekdays and "yesterday" ---------------------------------------------------------
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = re.compile(
    r"^(?:(?P<which>on|last|this|next)\s+)?(?P<day>" + "|".join(_DAYS) + r"|today|tonight"
    r"|yesterday|tomorrow)$",
    re.I,
)


def resolve_day(text: str, dated: str | None) -> str | None:
    """The calendar day a weekday or "yesterday" means in an article dated ``dated``: "Monday"
    in an article of Tuesday 2016-03-15 is 2016-03-14 (the last Monday on or before its date;
    "next Monday" the first after). None for other text and for an undated article."""
    m = _RELATIVE.match(" ".join(text.split()))
    when = day(dated)
    if m is None or when is None:
        return None
    word, which = m.group("day").lower(), (m.group("which") or "").lower()
    shift = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}.get(word)
    if shift is None:
        gap = (when.weekday() - _DAYS.index(word)) % 7
        shift = (7 - gap) % 7 or 7 if which == "next" else -gap
    return (when + datetime.timedelta(days=shift)).isoformat()


# -- citing the line -------------------------------------------------------------------
def attach(
    answer: Answer,
    line: Direct | None,
    cite: Callable[[str, int], Citation | None],
) -> Answer:
    """``answer`` with its answer line, each candidate's articles cited; an article only the
    line names (a list's item read beyond the quotes) is cited after the answer's own sources
    (``cite(document id, offset)`` makes its citation, or None)."""
    if line is None:
        return replace(answer, direct=None)
    refs = {c.document: c.ref for c in answer.citations}
    extra: list[Citation] = []
    for cand in line.candidates:
        for doc, offset in zip(cand.documents, cand.offsets):
            if doc not in refs and (made := cite(doc, offset)) is not None:
                made = replace(made, ref=len(refs) + 1)
                refs[doc] = made.ref
                extra.append(made)
    fixed = tuple(
        replace(
            c,
            refs=tuple(dict.fromkeys(refs[d] for d in c.documents if d in refs)),
            quote=replace(c.quote, ref=refs.get(c.quote.document, 0)),
        )
        for c in line.candidates
    )
    return replace(
        answer, citations=answer.citations + tuple(extra), direct=replace(line, candidates=fixed)
    )
