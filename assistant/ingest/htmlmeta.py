"""What a saved web page says about itself, beside its article text: the headline,
the strings that are links, the titles its markup declares.

A citation shows the title, so it should be the headline ("Big News Today"), not the
``<title>`` with its site name and section ("Big News Today - Example | World"). The
headline a reader sees is usually a heading (``<h1>``, sometimes ``<h2>``); the site
name is usually a segment of the ``<title>`` or of ``og:title``. So a heading that
agrees with a declared title is taken as it stands on the page, and only where no
heading agrees is a declared title used, without the segments that name the site.
Measured on trafilatura-eval's 845 annotated titles (benchmarks/webpages.py): 0.80
exact, against 0.58 for trafilatura's own title.
"""

from __future__ import annotations

import bisect
import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# A heading agrees with a declared title at this similarity (difflib ratio of the
# casefolded texts): close enough for "&" vs "und" or a dropped word, not for two
# different headlines of the same page.
_AGREE = 0.6
# A declared title's segment that is this similar to the site name is the site name.
_SITE_NAME = 0.8
# Only the first headings are candidates: the headline comes before the teasers.
_MAX_HEADINGS = 30
_MAX_HEADING_CHARS = 300
# Titles are cut at these separators: " - ", " | ", " :: ", " » " and their kin, and
# at the unspaced ones that never occur inside a headline (|, ·, », •).
_SEPARATOR = re.compile(r"(\s+[|\-–—·›»:•⋆~/]+\s+|\s*[|·›»•⋆]\s*)")
_MAX_SEGMENTS = 8
# A shorter link text inside a line is a word that happens to be linked.
_MIN_LINK_CHARS = 12


@dataclass(frozen=True)
class PageFeatures:
    headings: tuple[tuple[str, str], ...]  # (tag, text) of h1/h2 in document order
    meta_titles: tuple[str, ...]  # og:title, twitter:title
    page_title: str  # <title>
    site_names: tuple[str, ...]  # og:site_name, application-name
    link_texts: tuple[str, ...]  # folded text of every link, sorted by length
    link_set: frozenset[str]

    def title_lines(self) -> list[str]:
        """Folded strings that a headline line at the top of the text may repeat."""
        texts = [text for tag, text in self.headings if tag == "h1"]
        return [fold(t) for t in [*texts, *self.meta_titles, self.page_title] if t]


EMPTY = PageFeatures((), (), "", (), (), frozenset())


def fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def page_features(tree: Any) -> PageFeatures:
    """Read the features from an lxml HTML tree (before extraction changes it)."""
    headings = []
    for element in tree.iter("h1", "h2"):
        text = _clean(element.text_content())
        if text and len(text) <= _MAX_HEADING_CHARS:
            headings.append((str(element.tag), text))
        if len(headings) >= _MAX_HEADINGS:
            break
    meta = [
        _clean(value)
        for name in ("og:title", "twitter:title")
        for value in tree.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content')
    ]
    title = tree.find(".//title")
    sites = tree.xpath(
        '//meta[@property="og:site_name" or @name="application-name" or @name="og:site_name"]/@content'
    )
    links = {fold(a.text_content()) for a in tree.iter("a")} - {""}
    return PageFeatures(
        headings=tuple(headings),
        meta_titles=tuple(t for t in dict.fromkeys(meta) if t),
        page_title=_clean(title.text_content()) if title is not None else "",
        site_names=tuple(s for s in (_clean(v) for v in sites) if s),
        link_texts=tuple(sorted(links, key=len)),
        link_set=frozenset(links),
    )


def _similarity(a: str, b: str) -> float:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < _AGREE or matcher.quick_ratio() < _AGREE:
        return 0.0
    return matcher.ratio()


def _split(title: str) -> tuple[list[str], list[str]]:
    """Segments of a title and the separators between them."""
    pieces = _SEPARATOR.split(title)
    return [p.strip() for p in pieces[0::2]], pieces[1::2]


def _headline_runs(title: str) -> list[str]:
    """The title, and each run of its segments that holds its longest segment.

    The longest segment is taken to be the headline's (site names and sections are
    short), so "Site » Blog » Headline" offers "Headline" but never "Site".
    """
    segments, _ = _split(title)
    segments = [s for s in segments if s]
    if len(segments) <= 1 or len(segments) > _MAX_SEGMENTS:
        return [title]
    longest = max(range(len(segments)), key=lambda n: len(segments[n]))
    runs = [title]
    for begin in range(longest + 1):
        for end in range(longest + 1, len(segments) + 1):
            runs.append(" ".join(segments[begin:end]))
    return runs


def _without_site_name(title: str, site_names: Sequence[str]) -> str:
    """``title`` less its leading and trailing segments that name the site."""
    segments, separators = _split(title)
    names = [fold(n) for n in site_names]
    keep = [
        n
        for n, segment in enumerate(segments)
        if segment and not any(_similarity(fold(segment), name) >= _SITE_NAME for name in names)
    ]
    if not keep or len(keep) == len(segments):
        return title
    first, last = keep[0], keep[-1]
    text = segments[first]
    for n in range(first + 1, last + 1):
        text += separators[n - 1] + segments[n]
    return text.strip() or title


def headline(features: PageFeatures, extracted: str | None) -> str | None:
    """The page's headline: a heading that agrees with a declared title, as printed;
    else og:title (or the extractor's title, or ``<title>``) without its site name."""
    declared = [*features.meta_titles, features.page_title]
    declared = [t for t in declared if t] or ([extracted] if extracted else [])
    runs = {fold(run) for title in declared for run in _headline_runs(title)}
    best, best_score = None, 0.0
    for tag, text in features.headings:
        folded = fold(text)
        score = max((_similarity(folded, run) for run in runs), default=0.0)
        if tag != "h1":
            score -= 0.05  # an h2 that agrees as well as an h1 is a teaser's
        # Near-ties go to the longer heading: a site-name h1 may match a short run too.
        if score > best_score + 0.02 or (
            score > best_score - 0.02 and best and len(text) > len(best)
        ):
            best, best_score = text, max(score, best_score)
    if best is not None and best_score >= _AGREE:
        return best
    fallback = next(iter(features.meta_titles), None) or extracted or features.page_title
    if not fallback:
        return None
    return _without_site_name(fallback, features.site_names)


def is_link_line(line: str, features: PageFeatures, threshold: float) -> bool:
    """Whether ``line`` is a link's text, or one link's text makes up at least
    ``threshold`` of it (a teaser: the linked headline and its one-line summary)."""
    folded = fold(line.lstrip("-•* "))
    if not folded:
        return False
    if folded in features.link_set:
        return True
    # Only links long enough to reach the threshold can cover the line.
    links = features.link_texts
    start = bisect.bisect_left(links, max(_MIN_LINK_CHARS, threshold * len(folded)), key=len)
    end = bisect.bisect_right(links, len(folded), key=len)
    return any(link in folded for link in links[start:end])


# The first line of the text repeats the headline at this similarity or more.
_HEADLINE_LINE = 0.9


def is_headline(line: str, features: PageFeatures) -> bool:
    folded = fold(line)
    return bool(folded) and any(
        _similarity(folded, title) >= _HEADLINE_LINE for title in features.title_lines()
    )
