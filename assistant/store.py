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
    except _server_errors() as exc:
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


def _server_errors() -> tuple[type[BaseException], ...]:
    """What a Chroma client raises when its server is down, refuses or fails: transport
    errors (httpx), Chroma's own errors and the OS's. Anything else is a bug and propagates."""
    import httpx
    from chromadb.errors import ChromaError

    return (httpx.HTTPError, ChromaError, OSError, ValueError)


def _local_errors() -> tuple[type[BaseException], ...]:
    """What embedded Chroma raises when its files are damaged or unreadable."""
    import sqlite3

    from chromadb.errors import ChromaError

    return (ChromaError, sqlite3.Error, OSError)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


class VectorStore:
    """The chunk vectors of one index: an embedded Chroma in ``folder``, or a collection on
    the server at ``url``. Chroma's failures are mapped here, once, by type: a server's to
    ``StoreUnavailable``, damaged local files to ``IndexCorrupt``; other errors are bugs."""

    def __init__(self, folder: Path, *, collection: str = "chunks", url: str | None = None):
        self.url = url
        if url:
            self.client = _http_client(url)
        else:
            import chromadb

            try:
                self.client = chromadb.PersistentClient(path=str(folder), settings=_settings())
            except _local_errors() as exc:
                raise IndexCorrupt(
                    f"the vector store in {folder} cannot be opened: {_reason(exc)}"
                ) from exc
        self.collection = self._call(
            lambda: self.client.get_or_create_collection(
                collection, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )
        )

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        """Run a Chroma call, turning its expected failures into domain errors."""
        errors = _server_errors() if self.url else _local_errors()
        try:
            return fn(**kwargs)
        except errors as exc:
            where = f"the Chroma server at {self.url}" if self.url else "the vector store"
            cls = StoreUnavailable if self.url else IndexCorrupt
            raise cls(f"{where} failed: {_reason(exc)}") from exc

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, docs: Sequence[str]) -> None:
        for i in range(0, len(ids), _BATCH):
            part = slice(i, i + _BATCH)
            metadatas: list[Any] = [{"doc": d} for d in docs[part]]
            self._call(
                self.collection.upsert,
                ids=list(ids[part]),
                embeddings=vectors[part],
                metadatas=metadatas,
            )

    def delete_docs(self, doc_ids: Sequence[str]) -> None:
        for i in range(0, len(doc_ids), 500):
            part = list(doc_ids[i : i + 500])
            self._call(self.collection.delete, where={"doc": {"$in": part}})

    def query(
        self, vector: np.ndarray, k: int, doc_ids: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first."""
        if doc_ids is not None and not doc_ids:
            return []
        where: Any = {"doc": {"$in": doc_ids}} if doc_ids is not None else None
        # No count() first to keep n_results within the collection: Chroma >= 1.0 returns
        # what it holds (nothing, when empty), and a count took ~6 ms per question on SciFact's
        # 12k vectors, growing with the collection.
        result = self._call(
            lambda: self.collection.query(
                query_embeddings=[vector], n_results=k, where=where, include=["distances"]
            )
        )
        return [
            (cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], result["distances"][0])
        ]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these chunk ids (ids not stored are left out)."""
        import numpy as np  # numpy is only a type name at module level: keep the import cheap
        from chromadb.errors import ChromaError

        if not ids:
            return {}
        try:
            got = self._call(lambda: self.collection.get(ids=list(ids), include=["embeddings"]))
        except IndexCorrupt as exc:
            # While another process writes, the catalog (SQLite) can list chunks whose vectors
            # this embedded client has not loaded yet, and Chroma fails the whole get (with one
            # of its own errors) rather than leave them out. Callers then score without these
            # cosines (as 0); the next refresh reopens the store. A server that is down is not
            # this case: its StoreUnavailable propagates.
            if isinstance(exc.__cause__, ChromaError):
                return {}
            raise
        return {
            cid: np.asarray(vec, dtype=np.float32)
            for cid, vec in zip(got["ids"], got["embeddings"])
        }

    def copy_from(
        self, other: VectorStore, renamed: Sequence[tuple[str, str, str]], batch: int = 1000
    ) -> None:
        """Copy vectors from ``other`` under new ids: (old chunk id, new chunk id, new doc id)."""
        for i in range(0, len(renamed), batch):
            part = renamed[i : i + batch]
            got = other._call(
                lambda p=part: other.collection.get(
                    ids=[o for o, _, _ in p], include=["embeddings"]
                )
            )
            found = dict(zip(got["ids"], got["embeddings"]))
            keep = [(n, d, found[o]) for o, n, d in part if o in found]
            if len(keep) != len(part):
                raise IndexCorrupt(
                    f"the vector store lacks {len(part) - len(keep)} of the vectors the catalog lists"
                )
            if keep:
                import numpy as np

                vectors = np.asarray([v for _, _, v in keep], dtype=np.float32)
                self.upsert([n for n, _, _ in keep], vectors, [d for _, d, _ in keep])

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
