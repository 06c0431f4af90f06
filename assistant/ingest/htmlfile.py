"""HTML pages: the main article text, without navigation, ads and comments.

trafilatura does the extraction. It is imported on first use because it pulls in
lxml and several extractors, and ``import assistant`` must stay fast. Where it cannot
be imported (trafilatura 2.x needs the separate ``lxml_html_clean`` package), a small
standard-library extractor takes over so HTML files are still indexed, less cleanly.

The text is the extracted text, not the file, so offsets index ``Document.text``.
On top of trafilatura: the headline as the title (htmlmeta.py); an article body that
the page splits into several containers joined, and what the page hides left out,
before extraction; a publication date searched for in the page's text where its
markup gives none, and said to be from the text (``Document.date_source``); and the
headline line and runs of link text left out of chunks (clean.html_excluded_spans).
The figures behind each choice are in benchmarks/RESULTS.md, "Saved web pages
(issue 10)".
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from assistant.ingest.clean import html_excluded_spans
from assistant.ingest.common import Source, reject, text_field
from assistant.ingest.dates import normalise_date
from assistant.ingest.htmlmeta import EMPTY, PageFeatures, headline, is_headline, is_link_line
from assistant.types import Document

# Extraction time grows with the element count (about 0.3 ms per element with
# trafilatura); past this a page is a data dump, not an article.
_MAX_TAGS = 200_000
# A stray NUL in a saved page (seen in real ones) is dropped; past this share of
# NULs the file is not text at all.
_MAX_NUL_SHARE = 0.01
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# A line is a link's text when one link makes up this much of it.
_LINK_SHARE = 0.8
# What the page hides (display:none, the hidden attribute) is not what a reader sees; often
# it is a second copy of the article kept for schema.org microdata. It is left out of the
# text (trafilatura's metadata still reads it), unless it is most of the page: a page
# hidden until a script shows it.
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_HIDDEN_MARK = "data-assistant-hidden"
_MAX_HIDDEN_SHARE = 0.8
# A container of the page's (div/section) holding at least this many paragraphs of its own
# is an article section, not a teaser card; paragraphs are at least this long.
_MIN_SECTION_PARAGRAPHS = 3
_MIN_PARAGRAPH_CHARS = 40


def read_html(source: Source) -> Document:
    data = _text_bytes(source)
    if data.count(b"<") > _MAX_TAGS:
        raise reject(source, f"HTML too complex to extract (over {_MAX_TAGS} tags)")
    extract = _trafilatura_extractor() or _fallback_extractor()
    try:
        fields = extract(data)
    except Exception as exc:  # noqa: BLE001 - any parser failure means "cannot read"
        raise reject(source, f"cannot extract HTML: {type(exc).__name__}") from None
    text = fields.get("text") or ""
    if not text.strip():
        raise reject(source, "no article text found")
    features: PageFeatures = fields.get("features") or EMPTY
    date = normalise_date(fields.get("date"))
    return Document(
        id=source.id,
        text=text,
        path=source.path,
        format="html",
        title=text_field(fields.get("title")),
        date=date,
        # The markup's dates (meta tags, JSON-LD, <time>: htmldate's fast search) or, where it
        # has none, one found only in the page's text and URL (the extensive search), which is
        # right less often (see RESULTS.md) and so is labelled.
        date_source=(fields.get("date_source") or "markup") if date else None,
        url=text_field(fields.get("url")),
        author=text_field(fields.get("author")),
        source=text_field(fields.get("sitename")),
        excluded=html_excluded_spans(
            text,
            is_headline=lambda line: is_headline(line, features),
            is_link=lambda line: is_link_line(line, features, _LINK_SHARE),
        ),
    )


def _text_bytes(source: Source) -> bytes:
    """The page's bytes, ready for the parser, or ``UnreadableFile`` for a binary file."""
    data = source.data
    if data.startswith(_UTF16_BOMS):
        # UTF-16 is text with a NUL in every other byte: re-encode it rather than refuse it.
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise reject(source, "binary file") from None
    nuls = data.count(b"\x00")
    if nuls > _MAX_NUL_SHARE * len(data):
        raise reject(source, "binary file")
    # lxml stops at a NUL, so one stray NUL would cost the rest of the page.
    return data.replace(b"\x00", b"") if nuls else data


_Extractor = Callable[[bytes], dict[str, Any]]


def _fallback_extractor() -> _Extractor:
    from assistant.ingest.htmlfallback import extract

    return extract


@functools.cache
def _trafilatura_extractor() -> _Extractor | None:
    """A function bytes -> fields using trafilatura, or None where it cannot load."""
    try:
        import trafilatura
        from htmldate import find_date
        from trafilatura.settings import set_date_params, use_config
        from trafilatura.utils import load_html
    except ImportError:
        return None
    config = use_config()
    # The caller enforces its own size limit; trafilatura's own (20 MB) would
    # otherwise turn a big page into "no text" without saying why.
    config.set("DEFAULT", "MAX_FILE_SIZE", str(10**10))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")

    def extract(data: bytes) -> dict[str, Any]:
        tree = load_html(data)
        if tree is None:
            return {}
        # Read before extraction: trafilatura works on a copy, but the features
        # must describe the page as published.
        features = _features(tree)
        _join_split_body(tree)  # after the features: they describe the page as published
        document = trafilatura.bare_extraction(
            tree,
            with_metadata=True,
            include_comments=False,
            # The markup's dates first (meta tags, JSON-LD, <time>): they are the
            # most often right (see RESULTS.md).
            date_extraction_params=set_date_params(extensive=False),
            config=config,
            prune_xpath=f"//*[@{_HIDDEN_MARK}]" if _mark_hidden(tree) else None,
        )
        if document is None:
            return {}
        fields = document.as_dict() if hasattr(document, "as_dict") else dict(document)
        fields["date_source"] = "markup"
        if not fields.get("date"):
            # Only where the markup has no date: htmldate's extensive search, which
            # also reads dates written in the page's text and URLs.
            fields["date"] = find_date(tree, **set_date_params(extensive=True))
            fields["date_source"] = "text"
        fields["features"] = features
        fields["title"] = (
            headline(features, fields.get("title")) if features else fields.get("title")
        )
        return fields

    return extract


def _features(tree: Any) -> PageFeatures | None:
    from assistant.ingest.htmlmeta import page_features

    try:
        return page_features(tree)
    except (ValueError, TypeError):  # odd markup: do without, not fail the page
        return None


def _mark_hidden(tree: Any) -> bool:
    """Mark the elements the page hides, for trafilatura to prune; False when there are
    none or they hold most of the page's text (then nothing is marked)."""
    body = tree.find(".//body")
    if body is None:
        return False
    hidden = [
        e
        for e in body.xpath(".//*[@hidden or @style]")
        if e.get("hidden") is not None or _HIDDEN_STYLE.search(e.get("style") or "")
    ]
    if not hidden:
        return False
    marked = set(hidden)
    outermost = [e for e in hidden if not any(a in marked for a in e.iterancestors())]
    if sum(len(e.text_content()) for e in outermost) >= _MAX_HIDDEN_SHARE * len(
        body.text_content()
    ):
        return False
    for element in outermost:
        element.set(_HIDDEN_MARK, "")
    return True


def _join_split_body(tree: Any) -> None:
    """Join an article body that the page splits into containers of one kind.

    Sites put ads or widgets between parts of an article, each part in its own
    container with the same tag and class; trafilatura keeps only the first part.
    Containers of the same tag and class that each hold several paragraphs are
    sections of one text, so the later ones' children move into the first.
    """
    groups: defaultdict[tuple[str, str], list[Any]] = defaultdict(list)
    candidates = f"//*[self::div or self::section][@class][count(p) >= {_MIN_SECTION_PARAGRAPHS}]"
    for element in tree.xpath(candidates):
        kind = " ".join(element.get("class").split())
        if kind and _own_paragraphs(element) >= _MIN_SECTION_PARAGRAPHS:
            groups[(str(element.tag), kind)].append(element)
    for first, *others in groups.values():
        for other in others:
            if _nested(first, other):
                continue
            first.extend(list(other))  # moves them; the emptied container stays


def _own_paragraphs(element: Any) -> int:
    return sum(
        1
        for child in element
        if child.tag == "p" and len(child.text_content().strip()) >= _MIN_PARAGRAPH_CHARS
    )


def _nested(a: Any, b: Any) -> bool:
    return any(x is a for x in b.iterancestors()) or any(x is b for x in a.iterancestors())
