"""assistant: answers questions over a folder of articles with verbatim, cited quotes.

    >>> from assistant import Library
    >>> lib = Library("index")
    >>> lib.add(["seeds"])
    >>> answer = lib.ask("Which bases did Russia keep?")
    >>> for quote in answer.quotes:
    ...     print(quote.ref, quote.text)
    >>> if answer.direct:  # the answer line, when the reader finds a likely answer
    ...     print(answer.direct.candidates[0].text)

Importing this package is cheap: torch, onnxruntime and chromadb load on first use.
"""

from .errors import AssistantError, IndexLocked, IndexMismatch, IndexNotFound
from .library import Library
from .reader import Reader, ReadSpan
from .types import (
    Answer,
    Candidate,
    Chunk,
    Citation,
    Direct,
    Document,
    DocumentInfo,
    Evidence,
    IndexReport,
    Passage,
    Quote,
)

__all__ = [
    "Answer",
    "AssistantError",
    "Candidate",
    "Chunk",
    "Citation",
    "Direct",
    "Document",
    "DocumentInfo",
    "Evidence",
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
