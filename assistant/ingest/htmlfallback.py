"""A small standard-library HTML extractor, used only where trafilatura cannot load.

It keeps paragraph text (preferring what sits inside ``<article>``/``<main>``) and
reads the common metadata tags; it does none of trafilatura's boilerplate scoring.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any, ClassVar

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


def extract(data: bytes) -> dict[str, Any]:
    parser = _ArticleParser()
    parser.feed(_decode(data))
    parser.close()
    return parser.fields()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    return data.decode("cp1252", errors="replace")


class _ArticleParser(HTMLParser):
    """Paragraph text and the usual metadata tags, skipping page furniture."""

    _SKIP: ClassVar[frozenset[str]] = frozenset(
        {"script", "style", "noscript", "template", "svg", "head", "nav", "header"}
        | {"footer", "aside", "form", "button", "select", "iframe", "figure"}
    )
    _BLOCK: ClassVar[frozenset[str]] = frozenset(
        {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "td", "th"}
        | {"article", "section", "main", "blockquote", "pre", "ul", "ol", "dl", "dt", "dd"}
        | {"table", "title"}
    )
    _META: ClassVar[dict[str, str]] = {
        "og:title": "title",
        "twitter:title": "title",
        "article:published_time": "date",
        "date": "date",
        "pubdate": "date",
        "publishdate": "date",
        "datepublished": "date",
        "dc.date": "date",
        "author": "author",
        "article:author": "author",
        "og:url": "url",
        "og:site_name": "sitename",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._skip_depth = 0
        self._article_depth = 0
        self._in_title = False
        self._page_title: list[str] = []
        self._current: list[str] = []
        self._paragraphs: list[tuple[bool, str]] = []  # (inside <article>/<main>, text)
        self._meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "meta":
            self._read_meta(values)
        elif tag == "link" and values.get("rel", "").lower() == "canonical":
            self._meta.setdefault("url", values.get("href", ""))
        elif tag == "time" and values.get("datetime"):
            self._meta.setdefault("date", values["datetime"])
        if tag == "title":
            self._in_title = True
        if tag in self._SKIP:
            self._skip_depth += 1
        if tag in ("article", "main"):
            self._article_depth += 1
        if tag in self._BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
        if tag in self._BLOCK:
            self._flush()
        if tag in ("article", "main") and self._article_depth:
            self._article_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._page_title.append(data)
        elif not self._skip_depth:
            self._current.append(data)

    def _read_meta(self, values: dict[str, str]) -> None:
        name = values.get("property") or values.get("name") or values.get("itemprop", "")
        key = self._META.get(name.lower())
        if key and values.get("content"):
            self._meta.setdefault(key, values["content"])

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        if text:
            self._paragraphs.append((self._article_depth > 0, text))
        self._current = []

    def fields(self) -> dict[str, Any]:
        self._flush()
        in_article = [text for inside, text in self._paragraphs if inside]
        paragraphs = in_article or [text for _, text in self._paragraphs]
        title = self._meta.get("title") or " ".join("".join(self._page_title).split())
        return {**self._meta, "title": title or None, "text": "\n".join(paragraphs)}
