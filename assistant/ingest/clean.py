"""Spans of an article to leave out of chunks, found without changing the text.

Scraped articles carry footers ("Share with your friends", "Leave a Reply") and
scrapers often paste a story, or part of it, twice. Deleting those would shift every
offset, and offsets must index the file so quotes can be checked against it. So the
text stays as it is and this module only says which ``[start, end)`` spans the
chunker should skip.

Units are lines: in scraped text one line is one paragraph (or a headline, or a
footer). Blank-line separated blocks are compared too, so a hard-wrapped paragraph
pasted again is caught as a whole.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assistant.types import Span

# Footer lines are short; a longer line is a paragraph that merely starts alike.
_MAX_BOILERPLATE_CHARS = 160
_MAX_SOCIAL_CHARS = 330

# Matched against the whole line, casefolded, without markdown markers around it.
_BOILERPLATE = re.compile(
    r"""(?x)
    share(\ (this|the)(\ (article|story|post|page))?)?
        (\ (with\ your\ friends|on\ \w+(\ \w+)?|via\ \w+))?[:!.]?
    | (please\ )?follow\ us(\ on\ .*)?
    | (enter|submit)\ your\ e-?mail(\ address)?\b.*
    | delivered\ by\ feedburner
    | leave\ an?\ (reply|replay|comment)(\ cancel\ reply)?
    | (cancel\ reply|post\ (a\ )?comment|add\ a\ comment|\d+\ comments?|comments?)
    | your\ e-?mail\ address\ will\ not\ be\ published\b.*
    | required\ fields\ are\ marked\b.*
    | (original\ )?source:\ \S.{0,100}
    | read\ (more|also|next)\b.{0,100}
    | continue\ reading\b.{0,100}
    | click\ here\ to\b.{0,100}
    | subscribe\b.*
    | sign\ up\ (for|to)\b.*\bnewsletter\b.*
    | (advertisement|sponsored(\ content)?|print(\ this)?|like\ this:|related\ articles?:?)
    """
)
# Embedded posts: the post's text (up to a tweet's length) ending in its picture link,
# and the attribution line "— Name (@handle) December 13, 2024".
_SOCIAL = re.compile(
    r"""(?x)
    .{0,300}\b(pic\.twitter\.com|t\.co)/\w+.{0,20}
    | [—–-]\ .{1,80}\(@\w{1,20}\)\ \w+\ \d{1,2},\ \d{4}
    | a\ post\ shared\ by\ .{1,80}
    """
)

# A heading that starts a teaser list of other stories; what follows it is dropped
# too when only a little text remains (a footer, not an article section).
_RELATED = re.compile(
    r"(check|see|read) also|related( posts| articles| stories| news)?|"
    r"you (may|might) also like|more (stories|news)|recommended( for you)?|also read"
)
_MAX_TAIL_LINES = 5
_MAX_TAIL_CHARS = 1500

# Near-duplicates: word 3-shingle Jaccard similarity of at least this much, for
# paragraphs of at least _MIN_NEAR_WORDS words. The re-worded copy in seed 002 scores
# 0.63; unrelated paragraphs of the seeds score under 0.2.
_NEAR_THRESHOLD = 0.6
_MIN_NEAR_WORDS = 6
# Exact repeats of very short lines ("Yes.", "[1]") are left alone.
_MIN_EXACT_WORDS = 3
# A shingle shared by more paragraphs than this is too common to find candidates by.
_MAX_POSTINGS = 50
# Near-duplicates are looked for among the first this many paragraphs only: a text
# longer than that is a book or a dump, not a scraped article, and would cost seconds.
_MAX_NEAR_UNITS = 20_000

_MIN_LINK_RUN = 2

_WORD = re.compile(r"\w+")
_MARKERS = " \t\r\f\v#>*_|"


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    text: str


def excluded_spans(text: str) -> tuple[Span, ...]:
    """Sorted, non-overlapping ``[start, end)`` spans of boilerplate and repeats.

    Spans separated only by whitespace are merged into one.
    """
    lines = _lines(text)
    spans = [(u.start, u.end) for u in lines if _is_boilerplate(u.text)]
    spans += _related_tail(lines)
    spans += _repeated(lines + _blocks(text, lines))
    return merge_spans(text, spans)


def html_excluded_spans(
    text: str, *, is_headline: Callable[[str], bool], is_link: Callable[[str], bool]
) -> tuple[Span, ...]:
    """The spans to skip in text extracted from a web page.

    Not the same rules as ``excluded_spans``: measured on saved news pages
    (benchmarks/webpages.py), their article bodies include embedded posts and lines
    that recur legitimately (a recipe's "Eat every 2-3 hours", a Q&A's questions), so
    repeats and social-post lines stay. Added instead: the headline at the top (it is
    the title, which the embedder already prefixes) and runs of lines that are a
    link's text (teasers of other stories, menus) that trafilatura let through.
    """
    lines = _lines(text)
    spans = [(u.start, u.end) for u in lines if _is_footer(u.text)]
    spans += _related_tail(lines)
    if lines and is_headline(lines[0].text):
        spans.append((lines[0].start, lines[0].end))
    spans += _link_runs(lines, is_link)
    return merge_spans(text, spans)


def _is_footer(line: str) -> bool:
    return (
        len(line) <= _MAX_BOILERPLATE_CHARS
        and _BOILERPLATE.fullmatch(_normal_line(line)) is not None
    )


def _link_runs(lines: list[_Unit], is_link: Callable[[str], bool]) -> list[Span]:
    """Runs of at least _MIN_LINK_RUN link lines, and any run that ends the text.

    One link line amid prose is a paragraph that happens to be linked; two in a row,
    or links after the last paragraph, are a list of other pages.
    """
    flags = [is_link(u.text) for u in lines]
    spans: list[Span] = []
    n = 0
    while n < len(lines):
        if not flags[n]:
            n += 1
            continue
        end = n
        while end < len(lines) and flags[end]:
            end += 1
        if end - n >= _MIN_LINK_RUN or end == len(lines):
            spans.extend((u.start, u.end) for u in lines[n:end])
        n = end
    return spans


def _lines(text: str) -> list[_Unit]:
    """Non-blank lines, trimmed to their content."""
    units = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group(0)
        stripped = line.strip()
        if stripped:
            start = match.start() + len(line) - len(line.lstrip())
            units.append(_Unit(start, start + len(stripped), stripped))
    return units


def _blocks(text: str, lines: list[_Unit]) -> list[_Unit]:
    """Blank-line separated blocks of two or more lines."""
    blocks: list[list[_Unit]] = []
    run: list[_Unit] = []
    for unit in lines:
        if run and text[run[-1].end : unit.start].count("\n") > 1:
            blocks.append(run)
            run = []
        run.append(unit)
    blocks.append(run)
    return [
        _Unit(run[0].start, run[-1].end, text[run[0].start : run[-1].end])
        for run in blocks
        if len(run) > 1
    ]


def _normal_line(line: str) -> str:
    return " ".join(line.strip(_MARKERS).casefold().split())


def _is_boilerplate(line: str) -> bool:
    if len(line) > _MAX_SOCIAL_CHARS:
        return False
    normal = _normal_line(line)
    if _SOCIAL.fullmatch(normal):
        return True
    return len(line) <= _MAX_BOILERPLATE_CHARS and _BOILERPLATE.fullmatch(normal) is not None


def _related_tail(lines: list[_Unit]) -> list[Span]:
    """The "Check Also" heading, and the teaser after it when it ends the text."""
    spans = []
    for n, unit in enumerate(lines):
        if len(unit.text) > 60 or not _RELATED.fullmatch(_normal_line(unit.text).rstrip(":")):
            continue
        tail = lines[n + 1 :]
        if len(tail) <= _MAX_TAIL_LINES and sum(len(u.text) for u in tail) <= _MAX_TAIL_CHARS:
            spans.append((unit.start, lines[-1].end))
            break
        spans.append((unit.start, unit.end))
    return spans


def _repeated(units: list[_Unit]) -> list[Span]:
    """Units equal or near-equal to an earlier unit (the first copy is kept)."""
    seen: dict[str, int] = {}  # normalised text -> end of its first occurrence
    near = _NearIndex()
    spans = []
    for unit in sorted(units, key=lambda u: (u.start, u.end)):
        words = _WORD.findall(unit.text.casefold())
        key = "".join(words)
        if len(words) >= _MIN_EXACT_WORDS and seen.get(key, unit.start + 1) <= unit.start:
            spans.append((unit.start, unit.end))
            continue
        seen.setdefault(key, unit.end)
        if len(words) >= _MIN_NEAR_WORDS and near.add(unit, words):
            spans.append((unit.start, unit.end))
    return spans


class _NearIndex:
    """Word 3-shingle sets of the units seen so far, indexed by shingle."""

    def __init__(self) -> None:
        self._postings: defaultdict[int, list[int]] = defaultdict(list)
        self._units: list[tuple[int, int]] = []  # (end, number of shingles)

    def add(self, unit: _Unit, words: list[str]) -> bool:
        """Index ``unit``; True when it is a near-duplicate of an earlier unit."""
        if len(self._units) >= _MAX_NEAR_UNITS:
            return False
        # Hashes stand in for the shingles: a collision costs at most one wrong
        # candidate count, and the index stays small.
        shingles = {hash(s) for s in zip(words, words[1:], words[2:], strict=False)}
        found = self._has_earlier(unit.start, shingles)
        for shingle in shingles:
            self._postings[shingle].append(len(self._units))
        self._units.append((unit.end, len(shingles)))
        return found

    def _has_earlier(self, start: int, shingles: set[int]) -> bool:
        shared: Counter[int] = Counter()
        for shingle in shingles:
            ids = self._postings.get(shingle)
            # Shingles common to many units ("one of the") find no useful candidates.
            if ids and len(ids) <= _MAX_POSTINGS:
                shared.update(ids)
        for n, common in shared.items():
            end, size = self._units[n]
            # Only a unit that ends before this one starts is "earlier": a block is
            # not a repeat of its own first line.
            jaccard = common / (len(shingles) + size - common)
            if end <= start and jaccard >= _NEAR_THRESHOLD:
                return True
        return False


def merge_spans(text: str, spans: Iterable[Span]) -> tuple[Span, ...]:
    """Sort spans and merge those that overlap or are separated only by whitespace."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip()):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)
