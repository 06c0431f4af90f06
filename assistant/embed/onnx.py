"""The default backend: a sentence-transformers model exported to ONNX, run through
onnxruntime with the ``tokenizers`` library and pooling in numpy (never torch)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    _MAX_PADDING,
    _normalise,
)


class OnnxEmbedder:
    """A sentence-transformers model run through onnxruntime from an exported folder."""

    backend = "onnx"

    def __init__(self, folder: Path, model_id: str):
        meta = json.loads((folder / "meta.json").read_text())
        self.model_id = model_id
        self.dimension: int = meta["dimension"]
        self.max_tokens: int = meta["max_tokens"]
        self._pooling: list[str] = meta["pooling"]
        self._lower: bool = meta["do_lower_case"]
        self._pad_id: int = meta["pad_id"]
        self._pad_token: str = meta["pad_token"]
        # This tokenizer truncates as sentence-transformers does; _counter counts everything.
        self._tokenizer = _load_tokenizer(folder / "tokenizer.json", self.max_tokens)
        self._folder = folder
        self._session = _open_session(folder / "model.onnx")
        self._inputs = [i.name for i in self._session.get_inputs()]

    @functools.cached_property
    def _counter(self) -> Any:
        # On first use: only indexing counts tokens, and loading a tokenizer costs a
        # one-shot question ~0.1 s.
        return _load_tokenizer(self._folder / "tokenizer.json", None)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Model tokens per text, special tokens excluded, nothing truncated."""
        encodings = self._counter.encode_batch_fast(self._prepare(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """One normalised row per text, in input order; texts over max_tokens are truncated."""
        encodings = self._tokenizer.encode_batch_fast(self._prepare(texts))
        lengths = [len(e.ids) for e in encodings]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for rows in _batches(lengths, batch_size):
            out[rows] = self._embed_batch([encodings[i] for i in rows])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed([text])[0]
        return vector

    def _prepare(self, texts: list[str]) -> list[str]:
        return [t.lower() for t in texts] if self._lower else list(texts)

    def _embed_batch(self, encodings: list[Any]) -> np.ndarray:
        length = max(len(e.ids) for e in encodings)
        for e in encodings:
            e.pad(length, pad_id=self._pad_id, pad_token=self._pad_token)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self._session.run(None, {name: feeds[name] for name in self._inputs})[0]
        mask = feeds["attention_mask"].astype(np.float32)
        pooled = np.concatenate([_POOLING[mode](hidden, mask) for mode in self._pooling], axis=1)
        return _normalise(pooled)


def _load_tokenizer(path: Path, max_tokens: int | None) -> Any:
    # Imported here, not at module level, like onnxruntime below: `import assistant.embed`
    # stays cheap for commands that never embed.
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    # tokenizer.json may carry its own settings (MiniLM's pads and truncates to 128).
    tokenizer.no_padding()
    if max_tokens is None:
        tokenizer.no_truncation()
    else:
        tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


def _open_session(path: Path) -> Any:
    import onnxruntime as ort  # ~0.2 s: lazy, as tokenizers

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.log_severity_level = 3  # errors only: warnings would litter the CLI's stderr
    # Optimising the graph is a third of opening a session, paid by every one-shot
    # question: the first session saves its optimised graph beside the export (per
    # onnxruntime version, whose fused ops it may hold) and later ones load that as is.
    optimized = path.with_name(f"{path.stem}.optimized-ort{ort.__version__}.onnx")
    if optimized.is_file():
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(optimized), options, providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001  (damaged or foreign: optimise again below)
            options = _reset_level(ort, options)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    tmp = optimized.with_name(f".{optimized.name}.{os.getpid()}")
    options.optimized_model_filepath = str(tmp)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    # A read-only cache still works, just without the saving; os.replace is atomic, so a
    # concurrent reader sees all of the file or none of it.
    with contextlib.suppress(OSError):
        os.replace(tmp, optimized)
    return session


def _reset_level(ort: Any, old: Any) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = old.intra_op_num_threads
    options.log_severity_level = old.log_severity_level
    return options


def _batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Row numbers grouped into batches of similar token length, longest first.

    Every row of a batch is padded to its longest, and on CPU padding costs as much as
    text while a small batch costs little extra, so a batch also ends where padding
    would pass _MAX_PADDING of its tokens. Longest first: a batch that does not fit in
    memory fails at once, not at the end.
    """
    batches: list[list[int]] = []
    batch: list[int] = []
    real = 0
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        padded = (len(batch) + 1) * lengths[batch[0]] if batch else 0
        if batch and (
            len(batch) == batch_size or padded > (1 + _MAX_PADDING) * (real + lengths[i])
        ):
            batches.append(batch)
            batch, real = [], 0
        batch.append(i)
        real += lengths[i]
    return [*batches, batch] if batch else batches


# Pooling as sentence-transformers' Pooling module does it, for right-padded batches:
# hidden is (n, length, d), mask is (n, length) with 1 for real tokens.
def _mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    pooled: np.ndarray = (hidden * mask[..., None]).sum(1) / np.maximum(
        mask.sum(1, keepdims=True), 1e-9
    )
    return pooled


def _mean_sqrt_len(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    total = (hidden * mask[..., None]).sum(1)
    pooled: np.ndarray = total / np.sqrt(np.maximum(mask.sum(1, keepdims=True), 1e-9))
    return pooled


def _max(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    pooled: np.ndarray = np.where(mask[..., None] > 0, hidden, -np.inf).max(1)
    return pooled


def _weighted_mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask * np.arange(1, mask.shape[1] + 1, dtype=np.float32)
    total = (hidden * weights[..., None]).sum(1)
    pooled: np.ndarray = total / np.maximum(weights.sum(1, keepdims=True), 1e-9)
    return pooled


def _last_token(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    last = np.maximum(mask.sum(1).astype(np.int64) - 1, 0)
    pooled: np.ndarray = hidden[np.arange(len(hidden)), last]
    return pooled


_POOLING = {
    "mean": _mean,
    "mean_sqrt_len_tokens": _mean_sqrt_len,
    "cls": lambda hidden, mask: hidden[:, 0],
    "max": _max,
    "weightedmean": _weighted_mean,
    "lasttoken": _last_token,
}
