"""assistant: answers questions over a folder of articles with verbatim, cited quotes.

    >>> from assistant import Library
    >>> lib = Library("index")
    >>> lib.add(["seeds"])
    >>> for p in lib.search("Which bases did Russia keep?", k=3):
    ...     print(p.document.title, p.text[:60])

Importing this package is cheap: torch, onnxruntime and chromadb load on first use.
"""

from .errors import AssistantError, IndexLocked, IndexMismatch, IndexNotFound
from .library import Library
from .types import Chunk, Document, DocumentInfo, IndexReport, Passage

__all__ = [
    "AssistantError",
    "Chunk",
    "Document",
    "DocumentInfo",
    "IndexLocked",
    "IndexMismatch",
    "IndexNotFound",
    "IndexReport",
    "Library",
    "Passage",
]
__version__ = "0.1.0"
