"""Where state lives and the settings that shape an index.

One resolver for the index folder: ``--index DIR``, then ``$ASSISTANT_INDEX``, then
``./index``. The model and Chroma server resolve the same way (flag, then
``$ASSISTANT_MODEL`` / ``$ASSISTANT_CHROMA_URL``, then the value the index recorded).
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_INDEX = "index"


def index_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    chosen = explicit or os.environ.get("ASSISTANT_INDEX") or DEFAULT_INDEX
    return Path(chosen).expanduser().resolve()


def model_name(explicit: str | None = None) -> str | None:
    return explicit or os.environ.get("ASSISTANT_MODEL") or None


def chroma_url(explicit: str | None = None) -> str | None:
    return explicit or os.environ.get("ASSISTANT_CHROMA_URL") or None


def max_bytes(explicit: int | None = None) -> int:
    if explicit is not None:
        return explicit
    env = os.environ.get("ASSISTANT_MAX_BYTES")
    if env and env.isdigit():
        return int(env)
    from .ingest.readers import DEFAULT_MAX_BYTES  # the readers enforce the limit: one default

    return DEFAULT_MAX_BYTES


def cache_dir() -> Path:
    """Where derived files shared by every index live (the ONNX export of a model):
    ``$ASSISTANT_CACHE``, else ``$XDG_CACHE_HOME/assistant``, else ``~/.cache/assistant``."""
    explicit = os.environ.get("ASSISTANT_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "assistant"
