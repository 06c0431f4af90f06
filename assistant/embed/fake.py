"""A deterministic embedder for plumbing tests (no model)."""

from __future__ import annotations

import zlib

import numpy as np

from .common import (
    _normalise,
)


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
        vector: np.ndarray = self.embed([text])[0]
        return vector
