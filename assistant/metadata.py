"""A folder's metadata file: ``manifest.csv`` (or ``manifest.jsonl``) beside the articles
supplies or overrides the title, date, source, url and author of the files it names.

Plain ``.txt`` files carry no date, and a saved page's own metadata can be wrong; a
reader keeps one file of what it knows, like PaperQA2's manifest. Columns: ``file`` (the
path relative to the folder, required), then any of ``title``, ``date``, ``source``,
``url``, ``author``; an empty cell leaves the file's own value. A row that names no file
in the folder, or holds a date that is not one, is a one-line warning naming the row;
the other rows apply. A row's date is said to be the manifest's (``date_source``).

How an edit takes effect without embedding again: a file's row is part of its signature
(``row_key``), so editing, adding or deleting the row makes the next run read the file
again; its text has not changed, so only its metadata is updated in the catalog.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

NAMES = ("manifest.csv", "manifest.jsonl")
FIELDS = ("title", "date", "source", "url", "author")
_PARTIAL_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


@dataclass
class FolderMetadata:
    """The rows of one folder's manifest, by file path relative to the folder."""

    path: Path | None = None
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def row_key(self, relative: str) -> str:
        """A short fingerprint of the file's row ("" when it has none)."""
        # Of the manifest's own cells only: the label added to a date is no edit of the row,
        # so indexes built before it keep their signatures.
        row = {k: v for k, v in self.rows.get(relative, {}).items() if k in FIELDS}
        if not row:
            return ""
        return hashlib.sha1(json.dumps(row, sort_keys=True).encode()).hexdigest()[:12]


def is_manifest(file: Path, root: Path) -> bool:
    return file.parent == root and file.name in NAMES


def load(root: Path, files: set[str]) -> FolderMetadata:
    """The manifest of the folder ``root``, checked against ``files`` (relative paths)."""
    found = next((root / n for n in NAMES if (root / n).is_file()), None)
    meta = FolderMetadata(found)
    if found is None:
        return meta
    try:
        records = list(_records(found))
    except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
        meta.warnings.append(f"{found}: cannot be read ({exc}); ignored")
        return meta
    for where, record in records:
        problem = _apply(meta, record, files)
        if problem:
            meta.warnings.append(f"{found}:{where}: {problem}; row ignored")
    return meta


def _records(path: Path):  # type: ignore[no-untyped-def]
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".jsonl":
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError(f"line {n} is not a JSON object")
                yield n, {k: "" if v is None else str(v) for k, v in record.items()}
        return
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or "file" not in reader.fieldnames:
        raise ValueError("it has no 'file' column")
    for record in reader:
        yield reader.line_num, {k: v or "" for k, v in record.items() if k}


def _apply(meta: FolderMetadata, record: dict[str, str], files: set[str]) -> str | None:
    name = record.get("file", "").strip().removeprefix("./")
    if not name:
        return "no file named"
    if name not in files:
        return f"no file {name!r} in the folder"
    values = {k: record[k].strip() for k in FIELDS if record.get(k, "").strip()}
    if "date" in values:
        date = _date(values["date"])
        if date is None:
            return f"not a date: {values['date']!r} (use YYYY, YYYY-MM, YYYY-MM-DD or an ISO timestamp)"
        values["date"] = date
        values["date_source"] = "manifest"
    meta.rows[name] = values
    return None


def _date(value: str) -> str | None:
    if _PARTIAL_DATE.fullmatch(value):
        parts = [int(p) for p in value.split("-")]
        try:
            dt.date(parts[0], *(parts[1:] + [1] * (3 - len(parts))))
        except ValueError:
            return None
        return value
    try:
        return dt.datetime.fromisoformat(value).isoformat()
    except ValueError:
        return None
