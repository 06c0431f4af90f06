"""``read()``: one file on disk -> the Documents it holds, or ``UnreadableFile``.

Every failure, whatever its cause, leaves here as ``UnreadableFile`` with a short
reason, so an indexing run over thousands of files can skip a bad one, say why, and
carry on.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from assistant.errors import UnreadableFile
from assistant.ingest.common import Source
from assistant.ingest.htmlfile import read_html
from assistant.ingest.jsonlfile import read_jsonl
from assistant.ingest.pdffile import read_pdf
from assistant.ingest.textfile import read_md, read_txt
from assistant.types import Document

_READERS: dict[str, Callable[[Source], Document]] = {
    ".txt": read_txt,
    ".md": read_md,
    ".markdown": read_md,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_READERS) | {".jsonl"}
DEFAULT_MAX_BYTES = 50_000_000


def read(
    path: Path,
    root: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    warnings: list[str] | None = None,
) -> list[Document]:
    """The documents in ``path``: one per file, one per record for ``.jsonl``.

    Ids are ``path`` relative to ``root`` in posix form. Skipped JSONL lines are
    reported by appending ``"file.jsonl:7: reason"`` to ``warnings``.
    Raises ``UnreadableFile`` (and nothing else) when the file cannot be indexed.
    """
    path, root = Path(path), Path(root)
    try:
        return _read(path, root, max_bytes, warnings)
    except UnreadableFile:
        raise
    except Exception as exc:  # a reader bug must not end a whole indexing run
        reason = f"internal error: {type(exc).__name__}: {exc}"
        raise UnreadableFile(str(path), reason[:200]) from exc


def _read(path: Path, root: Path, max_bytes: int, warnings: list[str] | None) -> list[Document]:
    info = _stat(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(str(path), f"unsupported file type {suffix or '(no extension)'}")
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableFile(str(path), "not a regular file")
    source = Source(
        _load(path, info.st_size, max_bytes), os.path.abspath(path), _doc_id(path, root)
    )
    if suffix == ".jsonl":
        return read_jsonl(source, warnings)
    return [_READERS[suffix](source)]


def _stat(path: Path) -> os.stat_result:
    try:
        info = path.stat()
    except OSError as exc:
        raise UnreadableFile(str(path), f"cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        # walk() yields a folder it could not list, so that its reason is reported.
        try:
            os.scandir(path).close()
        except OSError as exc:
            raise UnreadableFile(str(path), f"cannot read folder: {exc.strerror}") from None
        raise UnreadableFile(str(path), "cannot read: Is a directory")
    return info


def _load(path: Path, size: int, max_bytes: int) -> bytes:
    if size > max_bytes:
        raise UnreadableFile(str(path), f"larger than {_size(max_bytes)} limit")
    try:
        with path.open("rb") as handle:
            # Read one byte past the limit: the file may have grown since stat().
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise UnreadableFile(str(path), f"cannot read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise UnreadableFile(str(path), f"larger than {_size(max_bytes)} limit")
    if not data:
        raise UnreadableFile(str(path), "empty file")
    return data


def _size(limit: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if limit >= scale:
            return f"{limit / scale:g} {unit}"
    return f"{limit} bytes"


def _doc_id(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, in posix form ("sub/a.md")."""
    for file, base in ((path, root), (Path(os.path.abspath(path)), Path(os.path.abspath(root)))):
        try:
            return file.relative_to(base).as_posix()
        except ValueError:
            continue
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return path.name
