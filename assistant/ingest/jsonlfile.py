"""JSON Lines: one article per line, each becoming its own Document.

A record needs a "text" (or "body") string; "title", "date" (or "published_at"),
"source", "url" and "author" are optional. Its id is ``file.jsonl#<record id>``,
the record id being its "_id" or "id" field, else its 1-based line number, so ids
stay stable when other lines change. A bad line is skipped with a warning; a file
with no good line at all is unreadable.
"""

from __future__ import annotations

import json

from assistant.ingest.clean import excluded_spans
from assistant.ingest.common import Source, decode_utf8, reject, text_field
from assistant.ingest.dates import normalise_date
from assistant.types import Document


class _BadRecord(Exception):
    """Why one line is skipped."""


def read_jsonl(source: Source, warnings: list[str] | None = None) -> list[Document]:
    text = decode_utf8(source)
    if not text.strip():
        raise reject(source, "empty file")
    documents: list[Document] = []
    ids: set[str] = set()
    problems: list[tuple[int, str]] = []
    # split("\n"), not splitlines(): JSON strings may hold raw U+2028 and friends.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            document = _record(source, number, line, ids)
        except _BadRecord as problem:
            problems.append((number, str(problem)))
            continue
        ids.add(document.id)
        documents.append(document)
    if not documents:
        number, why = problems[0]
        raise reject(source, f"no valid JSON record (line {number}: {why})")
    if warnings is not None:
        warnings.extend(f"{source.id}:{number}: {why}" for number, why in problems)
    return documents


def _record(source: Source, number: int, line: str, ids: set[str]) -> Document:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        raise _BadRecord("not valid JSON") from None
    if not isinstance(record, dict):
        raise _BadRecord("not a JSON object")
    text = record.get("text", record.get("body"))
    if not isinstance(text, str) or not text.strip():
        raise _BadRecord('no "text" or "body" string')
    if not _encodable(text):
        raise _BadRecord("text is not valid Unicode (lone surrogate)")
    doc_id = f"{source.id}#{_record_id(record, number)}"
    if doc_id in ids:
        raise _BadRecord(f"duplicate id {doc_id!r}")
    date = normalise_date(record.get("date") or record.get("published_at"))
    return Document(
        id=doc_id,
        text=text,
        path=source.path,
        format="jsonl",
        title=text_field(record.get("title")),
        date=date,
        date_source="markup" if date else None,  # the record's own field
        source=text_field(record.get("source")),
        url=text_field(record.get("url")),
        author=text_field(record.get("author")),
        excluded=excluded_spans(text),
        line=number,
    )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _record_id(record: dict[str, object], number: int) -> str:
    for key in ("_id", "id"):
        value = record.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, str | int) and str(value).strip() and _encodable(str(value)):
            return str(value).strip()
    return str(number)
