"""HTML pages: the main article text, without navigation, ads and comments.

trafilatura does the extraction. It is imported on first use because it pulls in
lxml and several extractors, and ``import assistant`` must stay fast. Where it cannot
be imported (trafilatura 2.x needs the separate ``lxml_html_clean`` package), a small
standard-library extractor takes over so HTML files are still indexed, less cleanly.

The text is the extracted text, not the file, so offsets index ``Document.text``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from assistant.ingest.clean import excluded_spans
from assistant.ingest.common import Source, reject, text_field
from assistant.ingest.dates import normalise_date
from assistant.types import Document

# Extraction time grows with the element count (about 0.3 ms per element with
# trafilatura); past this a page is a data dump, not an article.
_MAX_TAGS = 200_000


def read_html(source: Source) -> Document:
    if b"\x00" in source.data:
        raise reject(source, "binary file")
    if source.data.count(b"<") > _MAX_TAGS:
        raise reject(source, f"HTML too complex to extract (over {_MAX_TAGS} tags)")
    extract = _trafilatura_extractor() or _fallback_extractor()
    try:
        fields = extract(source.data)
    except Exception as exc:  # noqa: BLE001 - any parser failure means "cannot read"
        raise reject(source, f"cannot extract HTML: {type(exc).__name__}") from None
    text = fields.get("text") or ""
    if not text.strip():
        raise reject(source, "no article text found")
    return Document(
        id=source.id,
        text=text,
        path=source.path,
        format="html",
        title=text_field(fields.get("title")),
        date=normalise_date(fields.get("date")),
        url=text_field(fields.get("url")),
        author=text_field(fields.get("author")),
        source=text_field(fields.get("sitename")),
        excluded=excluded_spans(text),
    )


_Extractor = Callable[[bytes], dict[str, Any]]


def _fallback_extractor() -> _Extractor:
    from assistant.ingest.htmlfallback import extract

    return extract


@functools.cache
def _trafilatura_extractor() -> _Extractor | None:
    """A function bytes -> fields using trafilatura, or None where it cannot load."""
    try:
        import trafilatura
        from trafilatura.settings import set_date_params, use_config
    except ImportError:
        return None
    config = use_config()
    # The caller enforces its own size limit; trafilatura's own (20 MB) would
    # otherwise turn a big page into "no text" without saying why.
    config.set("DEFAULT", "MAX_FILE_SIZE", str(10**10))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")

    def extract(data: bytes) -> dict[str, Any]:
        document = trafilatura.bare_extraction(
            data,
            with_metadata=True,
            include_comments=False,
            # Dates from metadata and markup only: a date guessed from the prose is
            # more often wrong than missing.
            date_extraction_params=set_date_params(extensive=False),
            config=config,
        )
        if document is None:
            return {}
        return document.as_dict() if hasattr(document, "as_dict") else dict(document)

    return extract
