"""The answer line: the answer itself, found in the quotes, above them.

For a question with an answer type (who, where, when, how many, which X: ``question.asks``)
the answer line names the entity, number or date that the answering sentences give. It is
*extractive*: every candidate's text is a slice of a cited sentence (``Evidence``), never
written by a model, so it can be checked against the source like any quote.

How candidates are found and ranked (``direct``):

* **Mentions of the kind asked for** in each sentence (``Said``): the named entities stored
  in the index when the sentence carries them (a spaCy label that fits the kind: PERSON for
  "who", GPE/LOC/FAC for "where" ...), else ``answer.heuristic_mentions``. A mention the
  question already names is no answer ("Who did Kim Kardashian ..." never answers
  "Kim Kardashian"); words of the question at a mention's edges are trimmed off it
  ("Supreme Court Justice Stephen Breyer" -> "Justice Stephen Breyer"), and a number runs on
  into its scale and unit ("$1.5 billion", "June 24, 2022").
* **A kind of thing** ("which animals", "which color", "which sport": ``THINGS``) is mostly
  answered by a common noun no tagger labels ("lions", "gray", "football"): plain words of
  the sentences are candidates too, and every candidate counts by how near its meaning is to
  the head noun (``kinship``: the embedding model's cosine, passed in by the library), so a
  verb, an adjective or the zoo's name falls away. Such a question is never a list.
* **One candidate per thing**, however it is spelled: mentions whose distinctive words
  (not stopwords, not generic words such as "air", "base", "port") are the same, or one set
  inside the other ("Assad" in "Bashar al-Assad"), with words matched by folding, by stem
  and by the corpus spelling variants of ``KeywordIndex.variants`` (Khmeimim, Hmeimim,
  Khmeymim, Hemeimeem are one air base), are one candidate. Its ``variants`` are the
  distinct spellings seen.
* **Score**: each sentence holding the candidate adds its relevance (the quote's score),
  discounted by the quote's rank, times how well the mention fits the asked type and how
  close it sits to the question's own words in the sentence. The best occurrence counts
  whole, the others at ``Weights.support`` each: a thing several articles say outranks a
  thing one sentence mentions in passing.
* **No line** when the question was refused, asks for no entity (why, yes/no, open "what
  did ... say"), or no candidate reaches ``Weights.bar``. **Close second**: a second
  candidate within ``Weights.close`` of the first is shown too; when each of the two is
  said by an article that does not say the other, the line says **sources differ** and
  lists each answer with its articles' dates, oldest first (undated ones as undated).
* **Lists** ("Which bases ...", a plural head noun, "who were ..."): every item the
  collection supports, one row each, its best sentence, its articles and their dates. The
  library passes the sentences of a wider search (every passage matching the question's
  topic, not only the quotes) as ``extra``; a sentence counts for a list when it names the
  head noun ("bases": base, airbase) near the item.

Pure: no I/O. Offsets of ``Mention`` are relative to the sentence text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from . import gazetteer
from .answer import Answer, Citation, Mention, heuristic_mentions, location, stem, stems_of
from .question import HEAD_KIND, NAME_HEADS, WORD_HEADS, Asks, asks, question_parts
from .text import STOPWORDS, before_stopword, fold
from .types import DocumentInfo, Passage

KINDS = frozenset(
    {"person", "place", "time", "number", "name"}
)  # the kinds that get an answer line
LIST_PASSAGES = 100  # a list question's wider search: passages read for items beyond the quotes


@dataclass(frozen=True)
class Weights:
    """The answer line's knobs (tuned on RealTime QA dev weeks and the seeds only)."""

    bar: float = 0.25  # the first candidate's score must reach this
    context: float = (
        0.8  # a count of the asked noun in a quote's context, against one in its sentence
    )
    close: float = 0.85  # a second candidate at this share of the first's score is shown too
    support: float = 0.25  # each further article adds this share of its best occurrence
    decay: float = 0.5  # a quote of rank r counts 1 / (1 + decay * r)
    near: float = 0.35  # share of the score that depends on closeness to the question's words
    untyped: float = 0.7  # a heuristic mention (no entity label) of the wanted kind
    mislabelled: float = 0.35  # an entity whose label fits the kind only loosely
    single: float = 0.6  # a one-word name where a person is asked for (most people have two)
    uncounted: float = (
        0.0  # "how many troops": a number not followed by "troops" (or a share, a sum) is no answer
    )
    actor: float = 0.3  # a person the question's verb follows ("Who announced ...?": "Putin on Monday announced")
    subject: float = 0.3  # "which company cut ties ...?": a sentence's first fitting mention counts this much more
    beside: float = 0.5  # one answer named by the question's head noun ("the storm Nicole") counts this much more
    other_place: float = (
        0.4  # "which state": a place the gazetteer says is no state (a city, a country)
    )
    public_body: float = (
        0.4  # "which company": an agency, a ministry, a court ("FDA", "the Department of Justice")
    )
    common: float = (
        1.0  # "which animal": a common noun ("lions"), for a head that names a kind of thing
    )
    kin_floor: float = (
        0.2  # ... its meaning's similarity to the head noun at which it stops counting
    )
    kin_full: float = 0.6  # ... and at which it counts whole
    list_bar: float = 0.30  # share of the best item's score a list item needs
    list_near: int = 4  # words between a list item and the head noun ("bases") at most


@dataclass(frozen=True)
class Evidence:
    """The verbatim sentence a candidate is taken from: ``text == document_text[start:end]``."""

    ref: int
    document: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Candidate:
    """One answer: its text (verbatim in ``quote``), the other spellings seen, the citations
    and articles that say it (``documents`` and ``dates`` oldest first; a date is None for an
    undated article) and its score."""

    text: str
    variants: tuple[str, ...]
    refs: tuple[int, ...]
    documents: tuple[str, ...]
    dates: tuple[str | None, ...]
    score: float
    quote: Evidence
    offsets: tuple[int, ...] = ()  # where each article says it: its best sentence's start


@dataclass(frozen=True)
class Direct:
    """The answer line. ``type``: the kind asked for (``Asks.kind``); ``candidates``: best
    first (two for a close second or a disagreement, every item for a list)."""

    type: str
    candidates: tuple[Candidate, ...]
    list: bool = False
    disagree: bool = False


@dataclass(frozen=True)
class Said:
    """A sentence that may hold answers: from a quote, or from the wider search of a list."""

    ref: int | None  # the citation number, when the answer cites its document already
    document: DocumentInfo | str
    start: int
    end: int
    text: str
    weight: float  # how well the sentence answers: the quote's score, or its passage's
    rank: int = 0  # the quote's rank (0 first); wider-search sentences rank after the quotes
    mentions: tuple[Mention, ...] = ()  # offsets in ``text``; empty: heuristics
    also: tuple[
        tuple[int, str], ...
    ] = ()  # the same sentence in other articles: (ref, document id)
    context: bool = False  # the text a quote grew by around its chosen sentences

    @property
    def doc_id(self) -> str:
        return self.document if isinstance(self.document, str) else self.document.id


# -- what a question asks for -------------------------------------------------------------
_NOT_PLURAL = frozenset(
    """news series species means gas its this analysis basis
    crisis thesis is was has does class glass boss chess press business physics politics economics
    mathematics olympics athletics""".split()
)
_PLURAL_WHO = re.compile(r"\bwho\s+(?:are|were|have|all)\b", re.I)
# "Who is Michael Kofman?" asks what he is (the quotes say it), not for another name.
_IDENTITY = re.compile(r"\s*(?i:who)\s+(?i:is|was|are|were)\s+(?:[A-Z][\w.'’-]*\s*)+\??\s*$")
_NAME_LIST = re.compile(r"\b(?:name|list)\s+(?:the|all|every|some)\b", re.I)
# "Which of these players ...", "which of the following figures has said ...": one of a set
# of choices, unless a number asks for more ("which two of these").
_ONE_OF = re.compile(r"\bwhich\s+of\s+(?:these|those|the\s+following)\b", re.I)


def is_list(question: str, wanted: Asks | None = None) -> bool:
    """A list question: a plural head noun ("Which bases ...", "What countries ..."), "who
    are/were ...", "name all ..."; "which two companies" asks for two, still a list."""
    wanted = wanted or asks(question)
    head = wanted.head
    if _ONE_OF.search(question) or asks_thing(wanted):
        return False  # "Which animals escaped?" asks for a kind of thing ("lions"), not a list of names
    # "virus", "campus", "bonus": a word ending in "us" is no plural
    if (
        head
        and head.endswith("s")
        and head not in _NOT_PLURAL
        and not head.endswith(("ss", "us"))
        and len(head) > 3
    ):
        return True
    # "who are" asks for a list only where "who" is the question word ("Florida residents
    # who are still recovering ... What was the storm's name?" asks for one name).
    plural_who = wanted.kind == "person" and _PLURAL_WHO.search(
        question_parts(question)[-1] if question else ""
    )
    return bool(plural_who or _NAME_LIST.search(question))


def singular(word: str) -> str:
    w = fold(word)
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "xes", "ches", "shes", "zes")):
        return w[:-2]
    return w[:-1] if w.endswith("s") and not w.endswith("ss") else w


# -- mentions of the kind asked for -------------------------------------------------------
LABELS = {
    "person": frozenset({"PERSON"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "time": frozenset({"DATE", "TIME"}),
    "number": frozenset({"CARDINAL", "MONEY", "PERCENT", "QUANTITY"}),
    "name": frozenset(
        {"ORG", "PRODUCT", "WORK_OF_ART", "EVENT", "FAC", "LAW", "PERSON", "GPE", "LOC", "NORP"}
    ),
}
LOOSE = {  # labels that can still hold the kind asked for, less likely
    "person": frozenset({"ORG", "NORP", "GPE"}),
    "place": frozenset({"ORG"}),  # a nationality ("Iranian", NORP) is no place: dev EM +1
    "time": frozenset({"CARDINAL"}),
    "number": frozenset({"DATE", "TIME", "ORDINAL"}),
    "name": frozenset({"LANGUAGE"}),
}
HEURISTIC = {"person": "name", "place": "name", "name": "name", "time": "date", "number": "number"}
# Words that do not tell one thing from another ("Khmeimim Air Base" is "Khmeimim").
GENERIC = frozenset(
    """air airbase airport base bases port naval navy military city town county state
    gallery museum theatre theater hall center centre stadium bridge station park
    province region district island islands river lake mount mountain street avenue road square
    university college school hospital church company group party team club council ministry
    department agency army force forces""".split()
)
TITLES = frozenset(
    """mr mrs ms dr sir dame lord lady gov governor sen senator rep president
    vice prime minister justice judge gen general col chancellor king queen prince princess
    pope secretary mayor chief ceo coach""".split()
)
_SCALE = re.compile(
    r"\s?(?:%|percent|per cent|hundred|thousand|million|billion|trillion|[mb]n)\b", re.I
)
_JOIN = re.compile(r",?\s{1,2}$")  # what may stand between the parts of a date
_SPACE = re.compile(r"\s{1,2}$")  # ... and of a number
_WORD = re.compile(r"[\w'’.&$%-]+")
_COUNTED = frozenset(
    """two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
    hundred thousand million billion dozen half january february march april may june july august september
    october november december monday tuesday wednesday thursday friday saturday sunday""".split()
)
_GENERIC_AFTER = re.compile(r" ([A-Z][a-z]+)\b")
_POSSESSOR = re.compile(r"(?:['’]s|s['’]) (?=[A-Z])")
_GLUED = re.compile(r"[^\W\d_]-?$")


WORKS = frozenset(k for k, v in NAME_HEADS.items() if "WORK_OF_ART" in v)


def _kind_fit(m: Mention, kind: str, w: Weights, head: str | None = None) -> float:
    """How well a mention can hold the kind asked for: 1 for an entity label that fits
    (for "which company", an ORG), ``mislabelled`` for one that fits loosely, ``untyped``
    for a heuristic mention of the right sort, 0 when it cannot."""
    label = m.label
    exact = NAME_HEADS.get(head or "") if kind == "name" else None
    if label:
        if label in (exact or LABELS[kind]):
            return 1.0
        return w.mislabelled if label in LOOSE[kind] or (exact and label in LABELS[kind]) else 0.0
    return w.untyped if m.kind == HEURISTIC[kind] else 0.0


_QUOTED = re.compile(r"[\"“]([A-Z0-9][^\"“”\n]{0,60}?)[\"”]")


_QUOTED_WORDS = re.compile(r"[\"“‘]([^\W\d_][\w'’ -]{0,40}?)[\"”’]")


def titles(text: str, words: bool = False) -> list[Mention]:
    """Phrases in quotation marks that start with a capital: how articles name films, books,
    songs and shows ("Terrifier 2", “Hillbilly Elegy”). ``words``: any short quoted phrase, as
    articles write a word they talk about (“gaslighting”)."""
    if words:
        return [
            Mention(m.start(1), m.end(1), "name", "WORK_OF_ART")
            for m in _QUOTED_WORDS.finditer(text)
            if len(m.group(1).split()) <= 4
        ]
    return [
        Mention(m.start(1), m.end(1), "name", "WORK_OF_ART")
        for m in _QUOTED.finditer(text)
        if len(m.group(1).split()) <= 8
    ]


# Heads that name a kind of thing, whose answer is mostly a common noun no entity label marks
# ("Which animals escaped?" "lions"; "which color", "which sport", "which staple ... is rationed").
THINGS = frozenset(
    """animal bird fish insect creature species pet breed food dish drink beverage snack
    fruit vegetable crop plant tree flower staple ingredient meal item product drug medicine medication
    disease illness virus condition infection symptom chemical substance material metal mineral color
    colour sport energy fuel weapon toy gift costume getup outfit instrument infrastructure industry
    subject topic technology planet organ body currency coin equipment gear garment clothing accessory
    activity hobby trend phenomenon shape symbol emoji dessert treat cuisine spice herb sauce cheese
    bread cereal grain tool appliance gadget furniture fabric gemstone gem element gas pest parasite
    bacteria fungus mammal reptile dinosaur aircraft airplane plane jet helicopter ship warship frigate vessel
    boat submarine missile rocket drone satellite spacecraft""".split()
)


def asks_thing(wanted: Asks) -> bool:
    return wanted.kind == "name" and bool(wanted.head) and singular(wanted.head or "") in THINGS


_PLAIN = re.compile(r"[A-Za-z][a-z'’-]*[a-z]")
_NO_THING = frozenset(
    "one ones thing things way ways lot lots kind kinds type types part parts".split()
)


def common_nouns(text: str, asked: frozenset[str]) -> list[Mention]:
    """Each plain word, and each two side by side, that may name a thing ("lions", "deli
    meat"): lower case (or opening the sentence), no stopword, no number word, none of the
    question's own. They overlap; a verb or an adjective among them is told apart later, by
    meaning (``_by_meaning``)."""
    words = [m for m in _PLAIN.finditer(text) if _plain(m, asked)]
    out = [Mention(m.start(), m.end(), "noun") for m in words]
    out += [
        Mention(a.start(), b.end(), "noun")
        for a, b in zip(words, words[1:])
        if text[a.end() : b.start()] == " "
    ]
    return out


def _plain(m: re.Match[str], asked: frozenset[str]) -> bool:
    word = m.group()
    folded = fold(word)
    return (
        (word.islower() or (m.start() == 0 and word[1:].islower()))
        and folded not in STOPWORDS
        and folded not in _COUNTED
        and folded not in _NO_THING
        and stem(word) not in asked
    )


def spans(
    text: str, found: Sequence[Mention], kind: str, w: Weights = Weights(), head: str | None = None
) -> list[tuple[int, int, float]]:
    """(start, end, fit) of the mentions of ``text`` that can hold ``kind``; a date runs on
    into the day and year after it, a number into its scale ("1.5 billion", "28%")."""
    out: list[tuple[int, int, float]] = []
    for m in sorted(found, key=lambda m: (m.start, -m.end)):
        fit = _kind_fit(m, kind, w, head)
        if fit <= 0:
            continue
        start, end = m.start, m.end
        if (
            "\n" in text[start:end]
        ):  # a tagger's span across a line break ("Rolls-Royce.\n\nRolls-Royce")
            end = start + text[start:end].index("\n")
        if _unbalanced(text[start:end]):
            continue  # "Maverick” Mitchell": a tagger's span across a title's closing quote
        if m.kind == "number" and _GLUED.search(text, 0, start):
            continue  # "S-400", "F-35", "COVID-19": a name with digits, no count
        if kind in ("number", "time"):
            end = _run_on(text, end, found, kind)
            if (
                kind == "time"
                and head == "year"
                and (years := list(_YEAR.finditer(text, start, end)))
            ):
                start, end = years[-1].span()  # "What year ...?" "January 2025": 2025
        else:  # "Khmeimim Air| Base": a tagger's span cut before a capitalised generic word
            while (more := _GENERIC_AFTER.match(text, end)) and fold(more.group(1)) in GENERIC:
                end = more.end()
        if kind != "number" and (cut := _POSSESSOR.search(text, start, end)):
            start = cut.end()  # "London's National Gallery": the gallery, not London
        if out and start < out[-1][1]:  # inside the one before (a run-on, or a nested entity)
            continue
        out.append((start, end, fit))
    return out


_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_IN_YEAR = re.compile(
    r"\b(?:in|during)\s+((?:1[89]|20)\d\d)\b", re.I
)  # "when did it start in 2024?"


def _year_of(piece: str, dated: str | None) -> str | None:
    """The year a date mention names: its own ("March 14, 2016"), else its article's ("Tuesday")."""
    own = _YEAR.search(piece) or _YEAR.match(dated or "")
    return own.group() if own else None


def _unbalanced(piece: str) -> bool:
    return piece.count("“") != piece.count("”") or piece.count('"') % 2 == 1


def _run_on(text: str, end: int, found: Sequence[Mention], kind: str) -> int:
    """Extend a number over its scale word, a date over the day and year that follow it."""
    while True:
        scale = _SCALE.match(text, end)
        if scale and kind == "number":
            end = scale.end()
            continue
        join = (
            _JOIN if kind == "time" else _SPACE
        )  # "June 24, 2022"; but "9-year, $360 million" is two
        nxt = next(
            (
                m
                for m in found
                if end < m.start <= end + 2
                and join.fullmatch(text[end : m.start] + " ")
                and (m.kind in ("date", "number") or m.label in LABELS[kind])
            ),
            None,
        )
        if nxt is None or kind == "number" and nxt.kind == "date":
            return end
        end = nxt.end


def trim(
    text: str, start: int, end: int, asked: frozenset[str], kind: str, head: str | None = None
) -> tuple[int, int]:
    """The span without the question's own words, titles, stopwords and punctuation at its
    edges, so "the Colorado Avalanche" is "Colorado Avalanche"; still a slice of ``text``. The
    question's head noun, capitalised at the end, is part of the name ("which gallery":
    "National Gallery", not "National")."""
    kept = stem(head) if head else None
    words = [(m.start() + start, m.end() + start) for m in _WORD.finditer(text[start:end])]

    def drop(span: tuple[int, int]) -> bool:
        word = text[span[0] : span[1]].strip(".,'’")
        folded = fold(word).removesuffix("'s").removesuffix("’s")  # "That’s the fee ...": no name
        if kind in (
            "number",
            "time",
        ):  # "at least 17", "later than January 2025": from the number on
            return not (any(c.isdigit() for c in word) or folded in _COUNTED)
        return (
            not folded
            or folded in STOPWORDS
            or stem(word) in asked
            or (kind == "person" and folded.strip(".") in TITLES)
        )

    while words and drop(words[0]):
        words.pop(0)
    while (
        kind == "number"
        and len(words) > 1
        and text[words[-1][0]].isupper()
        and stem(text[slice(*words[-1])]) in asked
    ):
        words.pop()  # "77 Christmas| trees": the question's own name, run into by the tagger
    while (
        words and drop(words[-1]) and kind not in ("number", "time")
    ):  # "45 days", "June 24, 2022" stay whole
        last = text[words[-1][0] : words[-1][1]]
        if len(words) > 1 and last[:1].isupper() and stem(last.strip(".,'’")) == kept:
            break
        words.pop()
    if not words:
        return start, start
    s, e = words[0][0], words[-1][1]
    while e > s and text[e - 1] in ".,;:'’\"”)":
        e -= 1
    if text[s:e].endswith(("'s", "’s")):
        e -= 2
    while s < e and text[s] in "\"“'‘(":
        s += 1
    if (
        kind not in ("number", "time")
        and (the := _THE_BEFORE.search(text, max(0, s - 4), s))
        and gazetteer.takes_article(text[s:e])
    ):
        s = the.start()  # "the Bahamas", "The New York Times": the article is part of the name
    return s, e


_THE_BEFORE = re.compile(r"\b[Tt]he\s$")


_TITLE_BEFORE = re.compile(
    r"(?:\b([A-Z][a-z]+|former)\s+)?\b((?:Vice\s+)?President|Prime\s+Minister|Gov\.|Governor"
    r"|Rep\.|Sen\.|Senator|Chancellor|King|Queen|Prince|Princess|Pope|Mayor)\s+$"
)


def titled(text: str, start: int, head: str | None = None) -> int:
    """Where a person's name starts with the office written before it ("Florida Gov. Ron
    DeSantis", "French President Emmanuel Macron", "former President Donald Trump"): how
    news names an office holder, and what tells two people of one name apart. A stopword
    before the office is no part of it ("When President Biden ...")."""
    m = _TITLE_BEFORE.search(text, max(0, start - 40), start)
    if not m or (head and singular(m.group(2).split()[-1]) == singular(head)):
        return start  # "Which US president ...?": "President" only restates the question
    before = m.group(1)
    if before and before != "former" and fold(before) in STOPWORDS:
        return m.start(2)
    return m.start()


# -- one candidate per thing ------------------------------------------------------------------
def distinctive(text: str, kind: str) -> tuple[str, ...]:
    """The words that tell this thing from others, folded: no stopwords, generic nouns or
    titles; for a number its digits (so "45 days" is "45")."""
    words = [fold(w.strip(".,'’")) for w in _WORD.findall(text)]
    if kind == "number":
        digits = tuple(
            w.replace(",", "").lstrip("$£€").rstrip("%")
            for w in words
            if any(c.isdigit() for c in w)
        )
        return digits or tuple(w for w in words if w not in STOPWORDS)
    out = tuple(
        w for w in words if w and w not in STOPWORDS and w not in GENERIC and w not in TITLES
    )
    return out or tuple(w for w in words if w)


@dataclass
class _Item:
    kind: str
    keys: set[str]  # distinctive words, folded
    forms: dict[str, float] = field(default_factory=dict)  # surface text -> summed score
    spelled: dict[tuple[str, ...], dict[str, int]] = field(
        default_factory=dict
    )  # spelling -> its forms, counted
    hits: list[tuple[float, Said, int, int]] = field(
        default_factory=list
    )  # (score, sentence, start, end)
    plain: bool = (
        False  # a common noun's words ("lions"), not a name the tagger or the patterns found
    )


class _Same:
    """Whether two words name the same thing: folded, stemmed, or corpus spelling variants."""

    def __init__(self, variants: Callable[[str], Iterable[str]]):
        self.variants = variants
        self._seen: dict[str, frozenset[str]] = {}

    def forms(self, word: str) -> frozenset[str]:
        if word not in self._seen:
            alternatives = self.variants(word) if word.isalpha() and len(word) >= 5 else ()
            self._seen[word] = frozenset({word, stem(word), *alternatives})
        return self._seen[word]

    def word(self, a: str, b: str) -> bool:
        # One a spelling of the other, not two words sharing a third: the corpus's variants are
        # loose ("chris" and "irsay" both list "caruso"), and through one they merged Irsay
        # and Strauss into Chris Ballard.
        if a == b:
            return True
        return bool({a, stem(a)} & self.forms(b) or {b, stem(b)} & self.forms(a))

    def inside(self, small: Iterable[str], big: Iterable[str]) -> bool:
        return all(any(self.word(a, b) for b in big) for a in small)


def _merge(items: list[_Item], same: _Same) -> list[_Item]:
    """Items that name one thing become one: the same distinctive words, or one's inside the other's."""
    merged: list[_Item] = []
    # Merging only joins forms, so with no acronym among the items' forms none ever arises.
    acronyms = any(_acronyms(i) for i in items)
    for item in sorted(items, key=lambda i: -len(i.keys)):
        target = next(
            (
                m
                for m in merged
                if _one_thing(item, m, same)
                or acronyms
                and (_abbreviates(item, m) or _abbreviates(m, item))
            ),
            None,
        )
        if target is None:
            merged.append(item)
            continue
        target.keys |= item.keys if same.inside(target.keys, item.keys) else set()
        for form, value in item.forms.items():
            target.forms[form] = target.forms.get(form, 0.0) + value
        for spelling, forms in item.spelled.items():
            counted = target.spelled.setdefault(spelling, {})
            for form, n in forms.items():
                counted[form] = counted.get(form, 0) + n
        target.hits += item.hits
    return merged


def _one_thing(a: _Item, b: _Item, same: _Same) -> bool:
    """The same distinctive words, or one's inside the other's ("Assad", "Bashar al-Assad");
    for plain words only the same ones: "lions" is not "lions managed"."""
    small, big = same.inside(a.keys, b.keys), same.inside(b.keys, a.keys)
    return small and big if a.plain or b.plain else small or big


def _acronyms(item: _Item) -> set[str]:
    return {f for f in item.forms if f.isupper() and f.isalpha() and 2 <= len(f) <= 6}


def _abbreviates(short: _Item, full: _Item) -> bool:
    """ "KFC" and "Kentucky Fried Chicken", "FDA" and "Food and Drug Administration": an
    acronym written in capitals that is the initials of the other's distinctive words."""
    acronyms = _acronyms(short)
    return bool(acronyms) and any(
        len(spelling) >= 2 and "".join(w[0] for w in spelling).upper() in acronyms
        for spelling in full.spelled
    )


# -- scoring ---------------------------------------------------------------------------------------
def _closeness(text: str, start: int, end: int, asked: frozenset[str]) -> float:
    """1 next to a word of the question, falling to 0 some 60 characters away (a sentence
    that answers names the answer close to what the question asks about)."""
    spots = [
        m.start()
        for m in re.finditer(r"\w+", text)
        if stem(m.group()) in asked and not start <= m.start() < end
    ]
    if not spots:
        return 0.0
    gap = min(min(abs(s - start), abs(s - end)) for s in spots)
    return max(0.0, 1 - gap / 60)


_HOW_MANY = re.compile(r"\bhow\s+many\s+((?:[\w'’-]+\s+){0,3}[\w'’-]+)", re.I)
_AGE = frozenset({stem("age"), stem("old")})
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
_PREPOSITIONS = frozenset(
    """across among amid around throughout since per via within without toward towards
    during despite following worldwide nationwide""".split()
)
_PER = re.compile(r"%|\bper\s?cent\b|^\W*[$£€]", re.I)


_PAST = frozenset(
    """left won lost made took got went came saw said fled fell hit held kept sold bought paid ran
    began begun spent brought caught drew flew grew knew led met put rose sent set shot sat stood struck threw
    told thought wore wrote became broke chose died""".split()
)


def counted(question: str) -> str | None:
    """The stem of what "how many" counts ("how many Senate seats ...": seat)."""
    m = _HOW_MANY.search(question)
    if not m:
        return None
    phrase = before_stopword(m.group(1).lower().split())
    # The noun phrase ends at its verb: "How many planes left Syria?" counts planes, not Syria.
    verb = next(
        (
            i
            for i, word in enumerate(phrase)
            if i and (word in _PAST or word.endswith("ed") and len(word) > 4)
        ),
        None,
    )
    phrase = phrase[:verb] if verb else phrase
    ends = [
        i for i, word in enumerate(phrase) if word in _PREPOSITIONS
    ]  # "lives across the US": lives
    phrase = phrase[: ends[0]] if ends else phrase
    return stem(phrase[-1]) if phrase else None


_DATELINE = re.compile(
    r"\W*[A-Z]{3}[A-Z.'’ ]*(?:,\s+[A-Z][\w.]*(?:\s[A-Z][\w.]*)?)?\s*(?:\([\w .]+\)\s*)?[-–—]\s"
)
# A kicker: a few words, the first capitalised and the others not, and a colon ("Historic
# hurricane: Nicole's landfall ...", "Where the storm hit: ..."); a name and a colon ("Joe
# Biden: ...") is no kicker.
_KICKER = re.compile(r"\s*[A-Z][a-z'’-]*(?: [a-z][a-z'’-]*){1,4}:\s")
_TIME_UNITS = ("second", "minute", "hour", "day", "week", "month", "year", "decade")
_SPAN_OF_TIME = re.compile(
    r"^(?:(?:about|nearly|almost|just|only|over|more than|less than|the past|the last)\s+)?"
    r"(?:\d[\d,.]*|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    rf"a few|several|many|a couple of)\s+(?:(?:{'|'.join(_TIME_UNITS)})s?|centur(?:y|ies))$",
    re.I,
)
_DURATIONS = frozenset(stem(u) for u in _TIME_UNITS)  # what "how many" counts when it asks how long
# A date right after "since" or "began in" is when something started ("involvement since autumn of
# 2015", "the intervention began in 2015"), which answers "When did it start?" but not "When did
# Putin announce the withdrawal?".
_STARTED = re.compile(
    r"(?:\bsince|\b(?:began|begun|begin|begins|started|starts|start|starting|beginning|launched)"
    r"(?:\s+(?:in|on|at))?)\s+(?:(?:the\s+)?(?:autumn|fall|spring|summer|winter|early|late|"
    r"middle|mid|end|start|beginning)(?:\s+of)?\s+)?$",
    re.I,
)
_STARTS = frozenset(
    stem(w) for w in "begin began begun start started launch launched first since onset".split()
)
_STARTED_DOING = re.compile(
    r"\b(?:begin|began|begun|start|started|launch|launched)\s+(?:to\s+)?([a-z]+ing|[a-z]+)\b", re.I
)


def _started(question: str) -> str | None:
    """The stem of what a question asks the start of: "When did Russia start withdrawing?" withdraw."""
    m = _STARTED_DOING.search(question)
    word = m.group(1).lower() if m else ""
    return stem(word) if word and word not in STOPWORDS else None


_YEAR_OF_THING = re.compile(
    r"\s+([a-z][a-z-]+)"
)  # the noun a year modifies: "its 2015 intervention"
_DETERMINED = re.compile(r"(?:\b(?:its|the|a|his|her|their|this|that)|['’]s)\s+$", re.I)


def _other_time(
    text: str, start: int, end: int, asked: frozenset[str], started: str | None
) -> bool:
    """Whether the date ``text[start:end]`` is the time of something the question does not ask
    about: a start ("since autumn of 2015", "began in 2015") where it asks none, or the start of
    something else ("involvement since 2015" for "start withdrawing"); or a year that dates a
    noun of its own ("its 2015 intervention" for "When did Assad fall?")."""
    if began := _STARTED.search(text, max(0, start - 40), start):
        if not asked & _STARTS:
            return True
        if started and not any(
            _akin(w, (started,))
            for w in _TOKEN.findall(text[max(0, began.start() - 60) : began.start()])
        ):
            return True
    of = _YEAR_OF_THING.match(text, end)
    return bool(
        of
        and _YEAR.fullmatch(text, start, end)
        and _DETERMINED.search(text, 0, start)
        and of.group(1) not in STOPWORDS
        and not _akin(of.group(1), asked)
    )


def _akin(word: str, stems: Collection[str]) -> bool:
    """``word`` is one of ``stems``, or shares its first six letters with one ("intervention", "intervene")."""
    st = stem(word)
    return st in stems or len(st) >= 6 and any(len(o) >= 6 and o[:6] == st[:6] for o in stems)


def _counts(text: str, start: int, end: int, noun: str) -> bool:
    """A count of ``noun``: not a share or a sum, and the noun within three words after it
    ("45 days", "51 seats to the GOP's 49", "600,000 free range turkeys")."""
    if _PER.search(text[start:end]):
        return False
    after = [stem(x) for x in _TOKEN.findall(text[start : end + 60]) if x != ","]
    return noun in after[: len(_TOKEN.findall(text[start:end])) + 3]


# "Which company cut ties with Kyrie Irving?" asks for the one who did it: the subject, which a
# sentence that answers mostly names first ("Nike is suspending its relationship with ...").
# "Which word did Merriam-Webster select?" asks for an object, anywhere in the sentence.
_SUBJECT = re.compile(
    r"^\s*(?:which|what|who)\b(?!(?:\s+[\w'’-]+){0,4}?\s+(?:did|does|do)\b)", re.I
)
_OPENING = 40  # characters: a mention this early may be the sentence's subject


_WHO_VERB = re.compile(r"^\s*who\s+([a-z]+ed|[a-z]+s)\b", re.I)


def _asked_verb(question: str, wanted: Asks) -> str | None:
    """The stem of the verb a "who" question asks the doer of ("Who announced ...": announc)."""
    parts = question_parts(question)
    m = _WHO_VERB.match(parts[-1]) if parts and wanted.kind == "person" else None
    if not m or m.group(1).lower() in _NOT_VERBS:
        return None
    return stem(m.group(1))


_NOT_VERBS = frozenset("is was has does his this".split())


ACTOR_CHARS = 30


def _does(text: str, end: int, verb: str) -> bool:
    """Whether the question's verb follows the mention within a few words ("Putin on Monday announced")."""
    return any(stem(w) == verb for w in _TOKEN.findall(text[end : end + ACTOR_CHARS])[:4])


def asks_subject(question: str) -> bool:
    parts = question_parts(question)
    return bool(parts and _SUBJECT.search(parts[-1]))


def _occurrences(
    said: Sequence[Said],
    wanted: Asks,
    asked: frozenset[str],
    w: Weights,
    near_head: Callable[[Said, int, int], bool] | None = None,
    noun: str | None = None,
    when: Mapping[str, str | None] | None = None,
    subject: bool = False,
    listing: bool = False,
    thing: bool = False,
    years: frozenset[str] = frozenset(),
    verb: str | None = None,
    started: str | None = None,
) -> list[_Item]:
    """Every fitting mention of ``said`` as an item. ``near_head``: for a list (``listing``),
    only mentions the head noun names count; for one answer, those it names count more."""
    kind = wanted.kind or "name"
    only_named = listing and near_head is not None and not thing  # for a thing, its meaning tells
    where = kind == "place" and wanted.head is None
    near = near_head or (lambda s, start, end: False)
    business = kind == "name" and bool(wanted.head) and singular(wanted.head or "") in BUSINESSES
    items: list[_Item] = []
    for s in said:
        found = mentions_in(s.text, s.mentions)
        if kind == "name" and wanted.head in WORKS:
            found = titles(s.text, words=wanted.head in WORD_HEADS) + found
        opening = _DATELINE.match(s.text) or _KICKER.match(s.text)
        fitting = spans(s.text, found, kind, w, wanted.head)
        tagged = len(fitting)  # the spans after these are plain words
        if thing:  # plain words overlap each other: each is its own span
            fitting += [
                (m.start, m.end, w.common)
                for m in common_nouns(s.text, asked)
                if not any(m.start < e and b < m.end for b, e, _ in fitting)
            ]
        for n, (start, end, fit) in enumerate(fitting):
            if opening and start < opening.end():
                continue  # "WASHINGTON (AP) —": where the story was filed; "Historic hurricane:", a kicker
            named = near(s, start, end)  # checked first, untrimmed
            if only_named and not named:  # most of a wide search
                continue
            if named and not listing:  # "the storm Nicole", "social media platform Parler"
                fit *= 1 + w.beside
            if subject and n == 0 and start < _OPENING:
                fit *= 1 + w.subject
            if verb and _does(s.text, end, verb):
                fit *= 1 + w.actor  # "Who announced ...?": "Putin on Monday announced"
            start, end = trim(s.text, start, end, asked, kind, wanted.head)
            if kind == "number" and asked & _AGE and _ORDINAL.fullmatch(s.text, start, end):
                end -= 2  # "his 80th birthday" answers "What is his age?" with 80
            name = s.text[start:end]  # what tells it apart: without the office ("French President")
            if kind == "person" and start < end:
                start = titled(s.text, start, wanted.head)
            piece = s.text[start:end]
            if not piece or stems_of(name) <= asked or (only_named and not near(s, start, end)):
                continue
            spelled = keys = distinctive(name, kind)
            if kind not in ("number", "time") and (named_country := gazetteer.country(piece)):
                keys = tuple(
                    named_country.split()
                )  # "Britain", "the UK": one answer, spelled two ways
            fit *= _head_fit(piece, kind, wanted.head, business, w)
            if kind == "time" and _SPAN_OF_TIME.match(piece) and not s.text.startswith(" ago", end):
                continue  # "When did Pelosi become speaker?": "two decades" is how long, not when
            if kind == "time" and _other_time(s.text, start, end, asked, started):
                continue
            year = _year_of(piece, (when or {}).get(s.doc_id)) if kind == "time" else None
            if years and year not in (None, *years):
                continue  # "When did Russia start withdrawing in 2024?": not a Tuesday of an article of 2016
            if kind == "time" and wanted.head == "year" and not _YEAR.search(piece):
                # "What year ...?" "on Monday", in an article of 2016-03-15: the year 2016 (one
                # candidate with a "2016" said elsewhere); in an undated article, no year at all.
                if not year:
                    continue
                spelled = keys = (year,)
            if kind == "person" and len(keys) == 1:
                fit *= w.single
            if noun and not _counts(s.text, start, end, noun):
                fit *= w.uncounted
            elif noun in _DURATIONS:  # "how many days": "45 days" answers it, though tagged a DATE
                fit = max(fit, 1.0)
            if s.context and kind == "person" and len(keys) > 1:
                fit = 0.0  # no support, but a full name to show: "Tom Brady" for the "Brady" sentences say
            elif s.context and not (noun and fit > 0 and _counts(s.text, start, end, noun)):
                continue  # context counts only where it counts what "how many" asks about
            elif s.context:
                fit *= w.context
            close = _closeness(s.text, start, end, asked)
            value = s.weight / (1 + w.decay * s.rank) * fit * (1 - w.near + w.near * close)
            if only_named and s.text.startswith(("'s", "’s"), end):
                continue  # "Khmeimim Air Base, Moscow's largest installation": Moscow is no base
            if where and _OWNS.match(s.text, end) and not _PLACE_AFTER.match(s.text, end):
                continue  # "Where are the bases?" "Moscow's largest installation": an owner, not where
            spelling = _spelling(piece, spelled)
            items.append(
                _Item(
                    kind,
                    set(keys),
                    {piece: value},
                    {spelled: {spelling: 1}},
                    [(value, s, start, end)],
                    plain=n >= tagged,
                )
            )
    return items


_PLACE_NOUNS = """coast coastline shore north south east west northeast northwest southeast southwest
    northern southern eastern western central capital outskirts interior heartland countryside"""
_OWNS = re.compile(r"['’]s\s+[a-z]")  # "Moscow's largest installation"
# ... unless a place follows: "Florida's Gulf Coast", "Iran's capital", "Syria's north".
_PLACES = "|".join(
    sorted(set(_PLACE_NOUNS.split()) | {w for w, k in HEAD_KIND.items() if k == "place"})
)
_PLACE_AFTER = re.compile(r"['’]s\s+(?:[a-z-]+\s+){0,2}(?:" + _PLACES + r")\b")


# What "which company" (or app, platform) asks for, and what the tagger also calls an ORG but is no business.
BUSINESSES = frozenset(
    """company firm brand carmaker automaker airline retailer bank supermarket chain
    startup manufacturer drugmaker maker giant app platform network website outlet""".split()
)
_PUBLIC_WORDS = frozenset(
    """administration agency department commission committee center centers centre
    centres bureau ministry council office authority court parliament congress senate government police
    fda cdc nasa fbi cia nhs sec ftc fcc epa who un nato eu irs dhs doj tsa faa nhtsa""".split()
)


def _head_fit(piece: str, kind: str, head: str | None, business: bool, w: Weights) -> float:
    """What the head noun rules out that the entity label does not (1: nothing): "which
    state" a city or a country (``_place_fit``), "which company" a public body (``business``,
    decided once per question). A kind of thing is weighed by meaning instead (``_by_meaning``)."""
    fit = _place_fit(piece, head, w) if kind == "place" and head else 1.0
    return fit * w.public_body if business and _public_body(piece) else fit


def _public_body(piece: str) -> bool:
    return any(fold(word.strip(".,'’")) in _PUBLIC_WORDS for word in _WORD.findall(piece))


_PLACE_HEADS = {"country": "country", "nation": "country", "state": "state", "city": "city"}


def _place_fit(piece: str, head: str, w: Weights) -> float:
    """``other_place`` for a place the question's head noun rules out: "which state" answered
    with a city or a country, "which city" with a state, a country or a region ("the Upper
    Midwest"); else 1."""
    want = _PLACE_HEADS.get(singular(head))
    if want is None:
        return 1.0
    found = gazetteer.place_type(piece)
    if want == "city":
        return w.other_place if found and gazetteer.key(piece) not in gazetteer.CITY_TOO else 1.0
    return 1.0 if found == want else w.other_place


def _spelling(piece: str, keys: tuple[str, ...]) -> str:
    """The slice of ``piece`` from its first distinctive word to its last: how this mention
    spells the thing ("KHmeimim Air" spells it "KHmeimim")."""
    spots = [m for m in _WORD.finditer(piece) if fold(m.group().strip(".,'’")) in keys]
    return piece[spots[0].start() : spots[-1].end()].strip(".,'’") if spots else piece


def _usual(forms: Mapping[str, int]) -> str:
    """The most used form; among equals one written as names usually are ("Khmeimim", not "KHmeimim")."""
    return max(forms, key=lambda f: (forms[f], not _odd_caps(f), -len(f)))


def _score(item: _Item, w: Weights, raw: bool = False) -> float:
    """The best occurrence whole, one more per article at ``support`` of its value.
    ``raw``: without the discount for a quote's rank (whether two answers are close)."""
    best: dict[str, float] = {}
    for value, s, _, _ in item.hits:
        value = value * (1 + w.decay * s.rank) if raw else value
        for doc in (s.doc_id, *(d for _, d in s.also)):
            best[doc] = max(best.get(doc, 0.0), value)
    values = sorted(best.values(), reverse=True)
    return values[0] + w.support * sum(values[1:]) if values else 0.0


def _text_of(item: _Item) -> str:
    """The form the sentences support best ("JetBlue" over one "JetBlue Airways"); among equals the
    fullest (most distinctive words). Fullest first had dev EM 0.178, best supported 0.194. A
    date with its year comes first, and a person's full name (dev: EM the same, "Kevin Durant"
    for "Durant")."""
    dated = item.kind == "time"  # a date with its year ("March 14, 2016") over "Monday"
    full = item.kind == "person"  # a full name ("Tom Brady") over the surname later sentences use
    return max(
        item.forms,
        key=lambda f: (
            dated and bool(_YEAR.search(f)),
            full and len(distinctive(f, item.kind)) > 1,
            item.forms[f],
            len(distinctive(f, item.kind)),
            not _odd_caps(f),
            -len(f),
        ),
    )


def _odd_caps(form: str) -> bool:
    return any(w[1:2].isupper() and not w.isupper() for w in form.split())


# -- the answer line ----------------------------------------------------------------------------
def quote_said(answer: Answer) -> list[Said]:
    """The sentences the answer's quotes were chosen for (their stored mentions if any). The
    context a quote grows by is for the reader: counted too, at 0.3 or 0.6 of a chosen
    sentence, it lowered dev EM (0.173 -> 0.157 / 0.162). It comes with ``context`` set, and
    counts only as a count of the noun "how many" asks about (``Weights.context``): dev EM
    0.327 -> 0.331, one question ("saved ... how many lives": "more than 3 million lives")."""
    docs = {c.ref: c.document for c in answer.citations}
    said = []
    # Discounted by relevance order, not the order shown (``Policy.by_rank``): dev EM 0.227 -> 0.235.
    by_score = sorted(range(len(answer.quotes)), key=lambda i: -answer.quotes[i].score)
    place = {i: n for n, i in enumerate(by_score)}
    for i, q in enumerate(answer.quotes):
        n = place[i]
        also = tuple((r, docs.get(r, "")) for r, _, _ in q.also)
        chosen = q.chosen or ((0, len(q.text)),)
        for s, e, context in _with_context(chosen, len(q.text)):
            mentions = tuple(
                Mention(m.start - s, m.end - s, m.kind, m.label)
                for m in q.mentions
                if s <= m.start and m.end <= e
            )
            said.append(
                Said(
                    q.ref,
                    q.document,
                    q.start + s,
                    q.start + e,
                    q.text[s:e],
                    q.score,
                    n,
                    mentions,
                    also,
                    context,
                )
            )
    return said


def _with_context(chosen: Sequence[tuple[int, int]], length: int) -> list[tuple[int, int, bool]]:
    """The chosen spans, and the context between and around them, in text order."""
    out, at = [], 0
    for s, e in sorted(chosen):
        if s > at:
            out.append((at, s, True))
        out.append((s, e, False))
        at = max(at, e)
    if at < length:
        out.append((at, length, True))
    return out


def mentions_in(text: str, stored: Sequence[Mention]) -> list[Mention]:
    """The stored named entities of a sentence, and the patterns' mentions where none
    overlaps: a small tagger misses rare names ("the Hemeimeem air base"), which the
    patterns still see (unlabelled, so they count less)."""
    out = list(stored)
    taken = [(m.start, m.end) for m in stored]
    out += [
        m for m in heuristic_mentions(text) if not any(m.start < e and s < m.end for s, e in taken)
    ]
    return out


def direct(
    answer: Answer,
    variants: Callable[[str], Iterable[str]] = lambda word: (),
    *,
    extra: Sequence[Said] = (),
    dates: Mapping[str, str | None] | None = None,
    weights: Weights = Weights(),
    kinship: Kinship | None = None,
) -> Direct | None:
    """The answer line of ``answer`` (None: no line). ``variants``: corpus spellings of a
    word (``KeywordIndex.variants``); ``extra``: the sentences of the wider search for a
    list question, their documents cited by the caller (``attach`` numbers them);
    ``dates``: document id -> date for documents the answer does not cite; ``kinship``: how
    near in meaning each text is to a word (the embedding model), which lets "which animal"
    be answered by a common noun ("lions") and not by the zoo's name."""
    wanted = asks(answer.question)
    if not answer.answered or wanted.kind not in KINDS or _IDENTITY.match(answer.question):
        return None
    listing = is_list(answer.question, wanted)
    asked = stems_of(answer.question)
    near_head = _near_head(wanted, weights) if wanted.head else None
    same = _Same(variants)
    when = {c.document: c.date for c in answer.citations} | dict(dates or {})
    thing = kinship is not None and asks_thing(wanted)
    years = frozenset(_IN_YEAR.findall(answer.question))
    noun, subject, verb = (
        counted(answer.question),
        asks_subject(answer.question),
        _asked_verb(answer.question, wanted),
    )
    started = _started(answer.question) if wanted.kind == "time" else None
    quoted = quote_said(answer)

    def ranked_items(listing: bool) -> list[tuple[float, _Item]]:
        said = quoted + (list(extra) if listing else [])
        items = _occurrences(
            said,
            wanted,
            asked,
            weights,
            near_head,
            noun,
            when,
            subject,
            listing,
            thing,
            years,
            verb,
            started,
        )
        if thing and kinship is not None:
            items = _by_meaning(items, wanted.head or "", kinship, weights)
        return sorted(((_score(i, weights), i) for i in _merge(items, same)), key=lambda x: -x[0])

    ranked = ranked_items(listing)
    if listing and (not ranked or ranked[0][0] < weights.bar):
        # No mention the head noun names ("Which two supermarkets plan to merge?": the quotes say
        # "Kroger and Albertsons" with no "supermarket" beside it): the quotes' best answer, as for one.
        listing, ranked = False, ranked_items(False)
    if not ranked or ranked[0][0] < weights.bar:
        return None
    if listing:
        kept = [_candidate(i, v, when) for v, i in ranked if v >= weights.list_bar * ranked[0][0]]
        # A list's rows: the items most articles name first, then by score.
        kept.sort(key=lambda c: (-len(c.documents), -c.score))
        return Direct(wanted.kind or "name", tuple(kept), list=True)
    # Close: the runner-up's support, rank aside, near the winner's (ranking itself trusts the first quotes).
    close = len(ranked) > 1 and _score(ranked[1][1], weights, True) >= weights.close * _score(
        ranked[0][1], weights, True
    )
    shown = ranked[:2] if close else ranked[:1]
    candidates = tuple(_candidate(i, v, when) for v, i in shown)
    return Direct(wanted.kind or "name", candidates, disagree=_differ(candidates))


# texts, a word -> each text's similarity in meaning to the word (cosine, about -1 to 1)
Kinship = Callable[[Sequence[str], str], Sequence[float]]
MEANT = 48  # forms weighed by meaning at most, the best scored first (each costs an embedding)


def _by_meaning(items: list[_Item], head: str, kinship: Kinship, w: Weights) -> list[_Item]:
    """For a head that names a kind of thing, every mention counts by how near its meaning
    is to the head ("lions" to "animals", "gray" to "color"), entity or common noun alike:
    nothing from ``kin_floor`` down, whole from ``kin_full`` up. A verb or an adjective
    ("escaped", "popular") is far from any kind of thing. A mention holding the head word
    itself is half as near: "American Bird Conservancy" is no bird, though it says one.
    Every name is weighed, and the ``MEANT`` best scored plain words."""
    names = {next(iter(i.forms)).lower() for i in items if not i.plain}
    plain: dict[str, float] = {}
    for i in items:
        if i.plain and (form := next(iter(i.forms)).lower()) not in names:
            plain[form] = max(plain.get(form, 0.0), *i.forms.values())
    texts = sorted(names) + sorted(plain, key=lambda f: -plain[f])[:MEANT]
    near = dict(zip(texts, kinship(texts, head))) if texts else {}
    kept = stem(head)
    out = []
    for item in items:
        form = next(iter(item.forms))
        kin = float(near.get(form.lower(), w.kin_floor))
        if kept in stems_of(form):
            kin = w.kin_floor + (kin - w.kin_floor) / 2
        share = min(1.0, max(0.0, (kin - w.kin_floor) / (w.kin_full - w.kin_floor)))
        if share > 0:
            out.append(
                replace(
                    item,
                    forms={f: v * share for f, v in item.forms.items()},
                    hits=[(v * share, s, a, b) for v, s, a, b in item.hits],
                )
            )
    return out


_LINKS = frozenset("at in of on near the a an its their his her and or & , 's ’s".split())


def _near_head(wanted: Asks, w: Weights) -> Callable[[Said, int, int], bool]:
    """For a list: the item is named by the head noun ("bases": "Tartus naval base", "the
    base at Tartous", "an airbase at Khmeymim and Tartus port"): at most ``list_near`` words
    apart, with only generic words and links ("at", "and", "of") between them. So "Moscow"
    in "these bases are crucial for Moscow's operations" is no base."""
    head = singular(wanted.head or "")

    def near(s: Said, start: int, end: int) -> bool:
        starts, folded, heads = _heads(s.text, head)
        inside = [i for i, at in enumerate(starts) if start <= at < end]
        if not heads or not inside:
            return False
        if any(h in inside for h in heads):
            return True  # "Khmeimim Air Base"
        for h in heads:
            i = max(inside) if h > max(inside) else min(inside)
            between = folded[min(h, i) + 1 : max(h, i)]
            if len(between) <= w.list_near and all(f in _LINKS or f in GENERIC for f in between):
                return True
        return False

    return near


@lru_cache(maxsize=8192)
def _heads(text: str, head: str) -> tuple[tuple[int, ...], tuple[str, ...], tuple[int, ...]]:
    """A sentence's word starts, its words folded, and which of them are the head noun."""
    words = list(_TOKEN.finditer(text))
    folded = tuple(fold(m.group()) for m in words)
    heads = tuple(
        i for i, f in enumerate(folded) if len(f) >= len(head) and singular(f).endswith(head)
    )
    return tuple(m.start() for m in words), folded, heads


_TOKEN = re.compile(r"\w+|,")


def _differ(candidates: Sequence[Candidate]) -> bool:
    """Two answers each said by an article that does not say the other."""
    if len(candidates) < 2:
        return False
    a, b = set(candidates[0].documents), set(candidates[1].documents)
    return bool(a - b) and bool(b - a)


def _candidate(item: _Item, value: float, when: Mapping[str, str | None]) -> Candidate:
    best = max(item.hits, key=lambda h: h[0])
    text = _text_of(item)
    # The evidence must hold the text shown: the best sentence holding that very form.
    holding = [h for h in item.hits if h[1].text[h[2] : h[3]] == text]
    _, s, _, _ = max(holding, key=lambda h: h[0]) if holding else best
    if not holding:
        text = s.text[best[2] : best[3]]
    docs: dict[str, int | None] = {}
    starts: dict[str, int] = {}
    for _, hit, _, _ in sorted(item.hits, key=lambda h: -h[0]):
        docs.setdefault(hit.doc_id, hit.ref)
        starts.setdefault(hit.doc_id, hit.start)
        for ref, doc in hit.also:
            docs.setdefault(doc, ref)
    order = sorted(docs, key=lambda d: (when.get(d) is None, when.get(d) or "", d))
    shown = set(distinctive(text, item.kind))
    # Not a spelling the text shows already ("Vladimir Putin" in "Russian President Vladimir Putin").
    # Nor one that differs by an ending only ("lion" for "lions").
    spellings = [
        u
        for spelling, forms in item.spelled.items()
        if set(spelling) != shown
        and not re.search(rf"(?<!\w){re.escape(u := _usual(forms))}(?!\w)", text)
        and stems_of(u) != stems_of(text)
    ]
    return Candidate(
        text=text,
        variants=tuple(dict.fromkeys(spellings)),
        refs=tuple(sorted({r for r in docs.values() if r is not None})),
        documents=tuple(order),
        dates=tuple(when.get(d) for d in order),
        score=round(value, 4),
        quote=Evidence(s.ref or 0, s.doc_id, s.start, s.end, s.text),
        offsets=tuple(starts.get(d, 0) for d in order),
    )


# -- numbering the wider search's articles ---------------------------------------------------------
def attach(
    answer: Answer,
    line: Direct | None,
    infos: Mapping[str, DocumentInfo] | None = None,
    text_of: Callable[[str], str | None] = lambda doc: None,
) -> Answer:
    """``answer`` with its answer line; articles only the wider search found (a list's items)
    are cited after the answer's own sources, so every item's articles have a number."""
    if line is None:
        return replace(answer, direct=None)
    refs = {c.document: c.ref for c in answer.citations}
    extra: list[Citation] = []
    for cand in line.candidates:
        for doc in cand.documents:
            if doc not in refs and infos and doc in infos:
                refs[doc] = len(refs) + 1
                info = infos[doc]
                where = location(info, text_of(doc), _offset(line, doc))
                extra.append(
                    Citation(
                        refs[doc],
                        doc,
                        info.title,
                        info.path,
                        info.date,
                        info.format,
                        where,
                        info.date_source,
                    )
                )
    fixed = tuple(
        replace(
            c,
            refs=tuple(sorted({refs[d] for d in c.documents if d in refs})),
            quote=replace(c.quote, ref=refs.get(c.quote.document, c.quote.ref)),
        )
        for c in line.candidates
    )
    return replace(
        answer, citations=answer.citations + tuple(extra), direct=replace(line, candidates=fixed)
    )


def count_first(answer: Answer) -> Answer:
    """For a count ("how many days ...?"), the quote the answer line's count is taken from
    comes first: the line reads what is counted ("45 days" for "how many days"), which the
    quotes' ranking does not. Dev weeks, recall@1: +5 questions, -1 (for every kind of answer
    it was +8, -12: a name the line prefers is less often the answer than the first quote)."""
    line = getattr(answer, "direct", None)
    if line is None or line.list or line.type != "number" or not answer.quotes:
        return answer
    best = line.candidates[0]
    at = next(
        (
            i
            for i, q in enumerate(answer.quotes)
            if q.document == best.quote.document
            and q.start <= best.quote.start
            and best.quote.end <= q.end
        ),
        None,
    )
    if not at:
        return answer
    quotes = (answer.quotes[at], *answer.quotes[:at], *answer.quotes[at + 1 :])
    return replace(answer, quotes=quotes)


def _offset(line: Direct, doc: str) -> int:
    """Where the first candidate said by ``doc`` is said in it."""
    return next((o for c in line.candidates for d, o in zip(c.documents, c.offsets) if d == doc), 0)


def sentences_of(
    passages: Iterable[Passage], *, quotable: Callable[[str], bool] | None = None
) -> list[Said]:
    """The sentences of retrieved passages, each once, weighted by its passage's fused
    score, with the passage's stored named entities where it has them."""
    seen: set[tuple[str, int, int]] = set()
    out: list[Said] = []
    for p in passages:
        for s, e in p.sentences:
            key = (p.document.id, s, e)
            if key in seen:
                continue
            seen.add(key)
            text = p.text[s - p.start : e - p.start]
            if quotable is not None and not quotable(text):
                continue
            out.append(Said(None, p.document, s, e, text, p.score, 3, _stored(p, s, e, text)))
    return out


def _stored(p: Passage, start: int, end: int, text: str) -> tuple[Mention, ...]:
    """The passage's stored entities inside one sentence (offsets in it); () when untagged."""
    from .answer import sentence_mentions

    return sentence_mentions(p, start, end, text) or ()
