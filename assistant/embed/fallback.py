"""sentence-transformers on torch, for models the ONNX path cannot export."""

from __future__ import annotations

import numpy as np

from .common import (
    _load_sentence_transformer,
    _st_dimension,
)


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
        vector: np.ndarray = self.embed([text])[0]
        return vector
