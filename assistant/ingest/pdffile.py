"""PDF: the text of each page, pages joined by a blank line.

``Document.pages`` holds the offset where each page starts, so a quote can name its
page. pypdf is imported on first use (it is only needed for PDFs), and any exception
it raises on a damaged file becomes ``UnreadableFile``: pypdf raises many types, not
all of them its own.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from assistant.ingest.clean import excluded_spans
from assistant.ingest.common import Source, reject, text_field
from assistant.ingest.dates import normalise_date
from assistant.types import Document

if TYPE_CHECKING:
    from pypdf import PdfReader

_PAGE_SEPARATOR = "\n\n"


def read_pdf(source: Source) -> Document:
    reader = _open(source)
    try:
        texts = [_storable(page.extract_text() or "") for page in reader.pages]
    except Exception as exc:  # noqa: BLE001 - damaged streams, bad fonts, ...
        raise reject(source, f"malformed PDF: {_describe(exc)}") from None
    if not any(text.strip() for text in texts):
        raise reject(source, "no extractable text in PDF (scanned images?)")
    text, pages = _join(texts)
    title, author, date = _metadata(reader)
    return Document(
        id=source.id,
        text=text,
        path=source.path,
        format="pdf",
        title=title,
        date=date,
        date_source="markup" if date else None,  # the document information dictionary
        author=author,
        pages=pages,
        excluded=excluded_spans(text),
    )


def _open(source: Source) -> PdfReader:
    if b"%PDF-" not in source.data[:1024]:  # where readers look for the header
        raise reject(source, "malformed PDF: no PDF header")
    import logging

    import pypdf  # lazily: only PDFs need it

    # pypdf logs a warning for every repaired defect; the caller reports what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = pypdf.PdfReader(io.BytesIO(source.data))
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on damaged files
        raise reject(source, f"malformed PDF: {_describe(exc)}") from None
    if _locked(reader):
        raise reject(source, "encrypted PDF (needs a password)")
    try:
        len(reader.pages)  # loads the page tree, where truncation shows
    except Exception as exc:  # noqa: BLE001 - as above
        raise reject(source, f"malformed PDF: {_describe(exc)}") from None
    return reader


def _locked(reader: PdfReader) -> bool:
    """True for an encrypted PDF that the empty user password does not open."""
    try:
        return bool(reader.is_encrypted) and not reader.decrypt("")
    except Exception:  # noqa: BLE001 - unsupported cipher, no crypto library, damage
        return True


def _describe(exc: Exception) -> str:
    if isinstance(exc, AssertionError):  # pypdf asserts on inconsistent structures
        return "inconsistent structure"
    message = " ".join(str(exc).split())[:120]
    return message or type(exc).__name__


def _storable(text: str) -> str:
    """Page text without NULs or lone surrogates, which broken font maps can produce
    and which no store can encode. The text is extracted, so offsets are not at stake."""
    text = text.replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")


def _join(texts: list[str]) -> tuple[str, tuple[int, ...]]:
    starts, offset = [], 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + len(_PAGE_SEPARATOR)
    return _PAGE_SEPARATOR.join(texts), tuple(starts)


def _metadata(reader: PdfReader) -> tuple[str | None, str | None, str | None]:
    """(title, author, date) from the document information dictionary, if any."""
    try:
        info: Mapping[str, Any] = reader.metadata or {}
        return (
            text_field(info.get("/Title")),
            text_field(info.get("/Author")),
            normalise_date(info.get("/CreationDate") or info.get("/ModDate")),
        )
    except Exception:  # noqa: BLE001 - damaged metadata loses the fields, not the text
        return None, None, None
