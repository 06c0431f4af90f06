"""The vector store: the only module that imports chromadb.

Chroma's parallel lists are unpacked here and go no further. Vectors are stored with
their chunk id and the id of their document (``doc``), which is all Chroma needs to
know: texts, offsets and metadata live in the catalog.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .errors import IndexCorrupt, StoreUnavailable, UsageError

if TYPE_CHECKING:
    import numpy as np

DIRNAME = "chroma"
_BATCH = 4096  # below Chroma's max batch size


def _settings() -> Any:
    # Set before chromadb reads its configuration: Chroma must never phone home.
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    from chromadb.config import Settings  # lazy: chromadb takes ~1 s to import

    return Settings(anonymized_telemetry=False, allow_reset=False)


def _http_client(url: str) -> Any:
    import chromadb

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(f"not a Chroma server URL: {url} (expected http://HOST:PORT)")
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=_settings()
        )
        client.heartbeat()
    except Exception as exc:  # chromadb raises many types for a refused connection
        raise StoreUnavailable(f"cannot reach the Chroma server at {url}: {_reason(exc)}") from exc
    return client


def probe(url: str) -> None:
    """Raise ``StoreUnavailable`` (or ``UsageError``) unless a Chroma server answers at ``url``."""
    _http_client(url).close()


def drop_collection(url: str, name: str) -> None:
    """Best effort: delete a collection on a server (after a rebuild made a new one)."""
    try:
        client = _http_client(url)
        client.delete_collection(name)
        client.close()
    except Exception:  # noqa: BLE001 - a leftover collection wastes space on the server; it breaks nothing
        pass


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


class VectorStore:
    def __init__(self, index_dir: Path, *, collection: str = "chunks", url: str | None = None):
        self.url = url
        if url:
            self.client = _http_client(url)
        else:
            import chromadb

            try:
                self.client = chromadb.PersistentClient(path=str(index_dir / DIRNAME), settings=_settings())
            except Exception as exc:
                raise IndexCorrupt(f"the vector store in {index_dir / DIRNAME} cannot be opened: {_reason(exc)}") from exc
        self.collection = self._call(
            lambda: self.client.get_or_create_collection(
                collection, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )
        )

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        """Run a Chroma call, turning its failures into domain errors."""
        try:
            return fn(**kwargs)
        except Exception as exc:
            where = f"the Chroma server at {self.url}" if self.url else "the vector store"
            cls = StoreUnavailable if self.url else IndexCorrupt
            raise cls(f"{where} failed: {_reason(exc)}") from exc

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, docs: Sequence[str]) -> None:
        for i in range(0, len(ids), _BATCH):
            part = slice(i, i + _BATCH)
            metadatas: list[Any] = [{"doc": d} for d in docs[part]]
            self._call(self.collection.upsert, ids=list(ids[part]), embeddings=vectors[part], metadatas=metadatas)

    def delete_docs(self, doc_ids: Sequence[str]) -> None:
        for i in range(0, len(doc_ids), 500):
            part = list(doc_ids[i : i + 500])
            self._call(self.collection.delete, where={"doc": {"$in": part}})

    def query(self, vector: np.ndarray, k: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first."""
        if doc_ids is not None and not doc_ids:
            return []
        where: Any = {"doc": {"$in": doc_ids}} if doc_ids is not None else None
        # No count() first to keep n_results within the collection: Chroma >= 1.0 returns
        # what it holds (nothing, when empty), and a count took ~6 ms per question on SciFact's
        # 12k vectors, growing with the collection.
        result = self._call(
            lambda: self.collection.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
        )
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], result["distances"][0])]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these chunk ids (ids not stored are left out)."""
        import numpy as np  # numpy is only a type name at module level: keep the import cheap

        if not ids:
            return {}
        try:
            got = self.collection.get(ids=list(ids), include=["embeddings"])
        except Exception:  # noqa: BLE001 - see below
            # While another process writes, the catalog (SQLite) can list chunks whose vectors
            # this embedded client has not loaded yet, and Chroma fails the whole get rather
            # than leave them out. Callers then score without these cosines (as 0), which is
            # what they did before this lookup existed; the next refresh reopens the store.
            return {}
        return {cid: np.asarray(vec, dtype=np.float32) for cid, vec in zip(got["ids"], got["embeddings"])}

    def close(self) -> None:
        """Release the client. Chroma shares one in-process system per path and stops it
        when its last client closes, so a store opened again afterwards reads the files anew
        (how a reader sees vectors another process wrote; see ``Library.refresh``)."""
        close = getattr(self.client, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):  # closing must never fail a caller that is done
                close()

    def count(self) -> int:
        return int(self._call(self.collection.count))

    def ids(self) -> list[str]:
        return list(self._call(lambda: self.collection.get(include=[]))["ids"])

    def delete_ids(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), _BATCH):
            part = list(ids[i : i + _BATCH])
            self._call(self.collection.delete, ids=part)
