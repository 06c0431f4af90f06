"""Plain text and Markdown: the text is the file, byte for byte decoded.

Offsets index the decoded file, so ``Document.text[start:end]`` is exactly what the
file holds there. The one exception is a UTF-8 byte order mark: it is not text, so
it is dropped and offsets then count from the first character after it.

Metadata comes from what the file states plainly: a headline as the first line, a
labelled dateline near the top, a "Source: ..." line, Markdown front matter. Nothing
is guessed from prose.
"""

from __future__ import annotations

import re

from assistant.ingest.clean import excluded_spans, merge_spans
from assistant.ingest.common import Source, decode_utf8, reject, text_field
from assistant.ingest.dates import find_date, normalise_date
from assistant.types import Document

_MAX_TITLE_CHARS = 200
_DATELINE_LINES = 5
_LABEL = re.compile(
    r"^(?:(?:published|updated|posted)\s+(?:on|at)\s+"
    r"|(?:published|updated|posted|date|dated|dateline)\s*:\s*)",
    re.IGNORECASE,
)
# Three lowercase words in a row, or a full stop at the end: a sentence, not a dateline.
_PROSE = re.compile(r"\b[a-z]+\s+[a-z]+\s+[a-z]+\b|\.$")
_METADATA_LINE = re.compile(
    r"^\s*(?:published|date|updated|posted|source|original source|by|author|url)\b\s*:",
    re.IGNORECASE,
)
_SOURCE = re.compile(
    r"^[ \t]*(?:original[ \t]+)?source[ \t]*:[ \t]*(\S.{0,100}?)[ \t]*\r?$",
    re.IGNORECASE | re.MULTILINE,
)
_NAME = r"[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}"
_BYLINE = re.compile(rf"^(?:By|BY|by)\s+({_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*)\s*$")
_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\r?\n(?P<yaml>.*?)^(?:---|\.\.\.)[ \t]*\r?$\n?", re.DOTALL | re.MULTILINE
)
_HEADING = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def read_txt(source: Source) -> Document:
    text = decode_utf8(source)
    if not text.strip():
        raise reject(source, "empty file")
    lines = _non_empty_lines(text)
    title = _headline(lines[0])
    date = _dateline(
        lines[1 if title else 0 : _DATELINE_LINES]
    )  # a headline's date is not a dateline
    return Document(
        id=source.id,
        text=text,
        path=source.path,
        format="txt",
        title=title,
        date=date,
        date_source="markup" if date else None,  # a dateline is the file's own statement
        source=_source_line(text),
        author=_byline(lines),
        excluded=excluded_spans(text),
    )


def read_md(source: Source) -> Document:
    text = decode_utf8(source)
    if not text.strip():
        raise reject(source, "empty file")
    body_start, meta = _front_matter(text)
    body = text[body_start:]
    if not body.strip():
        raise reject(source, "no text after the front matter")
    lines = _non_empty_lines(body)
    spans = [(start + body_start, end + body_start) for start, end in excluded_spans(body)]
    if body_start:
        # The front matter is metadata, never article text: keep it out of chunks.
        spans.insert(0, (0, body_start))
    date = normalise_date(meta.get("date")) or _dateline(lines[:_DATELINE_LINES])
    return Document(
        id=source.id,
        text=text,
        path=source.path,
        format="md",
        title=text_field(meta.get("title")) or _first_heading(body),
        date=date,
        date_source="markup" if date else None,
        source=text_field(meta.get("source")) or _source_line(body),
        url=text_field(meta.get("url")),
        author=text_field(meta.get("author")) or _byline(lines),
        excluded=merge_spans(text, spans),
    )


def _non_empty_lines(text: str, limit: int = 100_000) -> list[str]:
    lines = []
    for line in text.splitlines():
        if line.strip():
            lines.append(line.strip())
            if len(lines) >= limit:
                break
    return lines


def _headline(line: str) -> str | None:
    """The first line, when it reads like a headline rather than a paragraph."""
    if len(line) > _MAX_TITLE_CHARS or not any(c.isalpha() for c in line):
        return None
    if line.endswith((",", ";", ":")) or _METADATA_LINE.match(line):
        return None
    return " ".join(line.split())


def _dateline(lines: list[str]) -> str | None:
    """A date from a line that is a dateline: labelled, or little else but the date."""
    for line in lines:
        label = _LABEL.match(line)
        if label:
            found = normalise_date(line[label.end() :]) or find_date(line[label.end() :])
            if found:
                return found
        elif len(line) <= 80 and not _PROSE.search(line):
            found = find_date(line)
            if found:
                return found
    return None


def _source_line(text: str) -> str | None:
    match = _SOURCE.search(text)
    return match.group(1) if match else None


def _byline(lines: list[str]) -> str | None:
    """Author from a short "By Name" line at the top or the bottom of the article."""
    for line in lines[:_DATELINE_LINES] + lines[-3:]:
        match = _BYLINE.match(line)
        if match:
            return " ".join(match.group(1).split())
    return None


def _front_matter(text: str) -> tuple[int, dict[object, object]]:
    """(offset where the body starts, parsed fields) for a leading YAML block."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return 0, {}
    return match.end(), _parse_yaml(match.group("yaml"))


def _parse_yaml(block: str) -> dict[object, object]:
    import yaml  # lazily: only front matter needs it

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        fields = yaml.load(block, Loader=loader)
    except Exception:  # noqa: BLE001 - malformed front matter: keep the text, drop the fields
        return {}
    return fields if isinstance(fields, dict) else {}


def _first_heading(body: str) -> str | None:
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING.match(line)
        if match:
            return _headline(match.group(1).strip())
    return None
