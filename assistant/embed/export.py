"""Exporting a sentence-transformers model to ONNX, once per model, atomically: the only
code that imports torch (through sentence-transformers)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    _CACHE_FORMAT,
    _MIN_COSINE,
    _OPSET,
    _PROBES,
    _STALE_EXPORT_S,
    _is_exported,
    _load_sentence_transformer,
    _one_line,
    _st_dimension,
)
from .onnx import _POOLING, OnnxEmbedder


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
