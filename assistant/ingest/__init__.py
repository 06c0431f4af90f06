"""Ingestion: files on disk -> ``Document`` values, nothing else.

``walk()`` finds the files, ``read()`` turns one into Documents (or raises
``UnreadableFile`` with the reason), and ``excluded_spans()`` marks boilerplate and
repeated paragraphs that the chunker should skip. Offsets are never changed: for
``.txt`` and ``.md`` the Document text is the file itself.
"""

from assistant.ingest.clean import excluded_spans
from assistant.ingest.readers import SUPPORTED_SUFFIXES, read
from assistant.ingest.walk import walk

__all__ = ["SUPPORTED_SUFFIXES", "excluded_spans", "read", "walk"]
