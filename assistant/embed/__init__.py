"""Sentence embeddings: the ``Embedder`` interface and its implementations.

Why ONNX: ``import sentence_transformers`` (torch + transformers) takes about 7 s, far
more than a one-shot query may spend. So the default path runs the same weights
through onnxruntime, with the ``tokenizers`` library for tokenisation and pooling done
in numpy; it never imports torch. The ONNX graph is exported once, with torch, into
``<cache_dir>/<slug of model_id>/``::

    model.onnx       the transformer: (input_ids, attention_mask[, token_type_ids])
                     -> last_hidden_state, dynamic batch and sequence axes
    tokenizer.json   the fast tokenizer sentence-transformers itself uses
    meta.json        pooling modes, normalize, max_tokens, dimension, lower-casing

The folder is written under a temporary name and renamed into place only after the
ONNX output has been checked against sentence-transformers' on a few probe texts, so a
killed or wrong export never leaves a folder that looks usable.

Exporter: torch 2.13's ``torch.onnx.export`` defaults to the dynamo exporter. We use
the TorchScript one (``dynamo=False``) with eager attention instead: it exports MiniLM
in ~2 s rather than ~10 s, and its graph is one onnxruntime can fuse (the dynamo/SDPA
graph is not), which made inference ~20-30% faster on long chunks. Tracing fixes Python
branches to the example input; the probe check above is the guard against that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.errors import ModelError

from .common import DEFAULT_MODEL as DEFAULT_MODEL
from .common import _check_path, _default_cache_dir, _is_exported, _slug
from .export import _describe as _describe
from .export import _export as _export
from .export import _ExportFailed as _ExportFailed
from .fake import HashEmbedder as HashEmbedder
from .fallback import TorchEmbedder as TorchEmbedder
from .onnx import OnnxEmbedder as OnnxEmbedder
from .onnx import _batches as _batches

_BACKENDS = ("auto", "onnx", "torch")


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors for cosine search."""

    model_id: str
    dimension: int
    max_tokens: int

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def open_embedder(
    model: str | None = None, *, cache_dir: Path | None = None, backend: str = "auto"
) -> Embedder:
    """Open ``model`` (None: the bundled all-MiniLM-L6-v2) with the given backend.

    "onnx" exports the model into ``cache_dir`` on first use; "auto" is "onnx",
    falling back to "torch" when the model cannot be exported. Raises ``ModelError``.
    """
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, not {backend!r}")
    model_id = DEFAULT_MODEL if model in (None, DEFAULT_MODEL) else str(model)
    _check_path(model_id)
    if backend == "torch":
        return TorchEmbedder(model_id)
    folder = Path(cache_dir or _default_cache_dir()) / _slug(model_id)
    try:
        if not _is_exported(folder):
            _export(model_id, folder)
    except _ExportFailed as exc:
        if backend == "onnx":
            raise ModelError(str(exc)) from exc
        embedder = TorchEmbedder(model_id)
        embedder.onnx_error = str(exc)
        return embedder
    return OnnxEmbedder(folder, model_id)


def needs_export(model: str | None, cache_dir: Path | None = None) -> bool:
    """Whether opening ``model`` will first export it to ONNX (several seconds, once)."""
    model_id = DEFAULT_MODEL if model in (None, DEFAULT_MODEL) else str(model)
    try:
        _check_path(model_id)
    except ModelError:
        return False  # opening it fails at once, with its own message
    return not _is_exported(Path(cache_dir or _default_cache_dir()) / _slug(model_id))
