"""assistant: answers questions over a folder of articles with verbatim, cited quotes.

    >>> from assistant import Library
    >>> lib = Library("index")
    >>> lib.add(["seeds"])
    >>> answer = lib.ask("Which bases did Russia keep?")
    >>> for quote in answer.quotes:
    ...     print(quote.ref, quote.text)

Importing this package is cheap: torch, onnxruntime and chromadb load on first use.
"""

from .answer import Answer, Citation, Quote
from .errors import AssistantError, IndexLocked, IndexMismatch, IndexNotFound
from .library import Library
from .reader import Reader, ReadSpan
from .types import Chunk, Document, DocumentInfo, IndexReport, Passage

__all__ = [
    "Answer",
    "AssistantError",
    "Chunk",
    "Citation",
    "Document",
    "DocumentInfo",
    "IndexLocked",
    "IndexMismatch",
    "IndexNotFound",
    "IndexReport",
    "Library",
    "Passage",
    "Quote",
    "ReadSpan",
    "Reader",
]
__version__ = "0.1.0"
