"""The facade users hold: ``Library(index_dir)``.

Opening a Library touches nothing on disk; the catalog, the vector store and the
embedding model are each opened on first use, so listing sources never loads a model
and a no-op re-index never imports Chroma.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from . import chunk as chunking
from . import config
from .catalog import FILENAME, SCHEMA_VERSION, Catalog
from .errors import (
    AssistantError,
    IndexCorrupt,
    IndexLocked,
    IndexMismatch,
    IndexNotFound,
    UsageError,
)
from .indexer import Indexer, ProgressFn
from .retrieve import Filters, Policy, Retriever
from .types import DocumentInfo, IndexReport, Passage

if TYPE_CHECKING:
    from .answer import Answer, SentenceVectors
    from .answer import Policy as AnswerPolicy
    from .embed import Embedder
    from .store import VectorStore

LOCKFILE = "write.lock"


def _chunking_params() -> str:
    return json.dumps(
        {"max_tokens": chunking.MAX_TOKENS, "overlap": chunking.OVERLAP_SENTENCES, "title_tokens": chunking.TITLE_TOKENS},
        sort_keys=True,
    )


def _server_mode(meta: dict[str, str]) -> bool:
    """Whether an index keeps its vectors in a Chroma server (recorded when it was made)."""
    return bool(meta.get("chroma_url")) or meta.get("collection", "chunks") != "chunks"


class Library:
    """A folder of indexed articles: add files, search them, ask them questions."""

    def __init__(
        self,
        index_dir: str | os.PathLike[str] | None = None,
        *,
        model: str | None = None,
        chroma_url: str | None = None,
        policy: Policy | None = None,
    ):
        self.index_dir = config.index_dir(index_dir)
        self._model = config.model_name(model)
        self._chroma_url = config.chroma_url(chroma_url)
        self.policy = policy or Policy()

    # -- lazily opened parts ------------------------------------------------
    def exists(self) -> bool:
        return (self.index_dir / FILENAME).exists()

    @cached_property
    def catalog(self) -> Catalog:
        if not self.exists():
            if (self.index_dir / "chroma").is_dir():
                raise IndexCorrupt(
                    f"the catalog {self.index_dir / FILENAME} is missing but vectors are still there; "
                    "rebuild the index with `assistant index --rebuild PATH`"
                )
            raise IndexNotFound(f"no index at {self.index_dir}; build one with `assistant index PATH`")
        self._catalog_file = self._file_id()
        catalog = Catalog(self.index_dir)
        try:
            self._check(catalog.meta(), catalog)
        except AssistantError:
            catalog.close()
            raise
        return catalog

    def _file_id(self) -> tuple[int, int] | None:
        try:
            st = (self.index_dir / FILENAME).stat()
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _check(self, meta: dict[str, str], catalog: Catalog) -> None:
        if not meta:
            if catalog.db.execute("SELECT 1 FROM documents LIMIT 1").fetchone():
                raise IndexCorrupt(
                    f"the catalog in {self.index_dir} has documents but no record of how they were "
                    "indexed; rebuild it with `assistant index --rebuild PATH`"
                )
            return
        if self._chroma_url and not _server_mode(meta):
            raise IndexMismatch(
                f"the index at {self.index_dir} keeps its vectors in its own folder, not in a Chroma "
                f"server; rebuild it with `assistant index --rebuild PATH --chroma-url {self._chroma_url}` "
                "or use another --index"
            )
        built = meta.get("model")
        if self._model and built and self._model != built:
            raise IndexMismatch(
                f"the index at {self.index_dir} was built with the model {built}, not {self._model}; "
                f"rebuild it with `assistant index --rebuild PATH --model {self._model}` or use another --index"
            )
        if meta.get("schema") != str(SCHEMA_VERSION) or meta.get("chunking") != _chunking_params():
            raise IndexMismatch(
                f"the index at {self.index_dir} was built by another version of assistant; "
                "rebuild it with `assistant index --rebuild PATH`"
            )

    @property
    def model_id(self) -> str:
        from .embed import DEFAULT_MODEL

        recorded = self.catalog.meta().get("model") if self.exists() else None
        return self._model or recorded or DEFAULT_MODEL

    @cached_property
    def embedder(self) -> Embedder:
        return self._open_embedder(self.model_id)

    @staticmethod
    def _open_embedder(model: str) -> Embedder:
        from .embed import DEFAULT_MODEL, open_embedder

        # The ONNX export is made once per model and shared by every index (see config.cache_dir).
        embedder = open_embedder(None if model == DEFAULT_MODEL else model, cache_dir=config.cache_dir() / "onnx")
        # The retriever and the answer's sentence scorer both need the question's vector:
        # memoised, a question is embedded once.
        embedder.embed_query = functools.lru_cache(maxsize=64)(embedder.embed_query)  # type: ignore[method-assign]
        return embedder

    def _open_embedder_in_background(self) -> threading.Thread:
        """Open the model while chromadb imports. onnxruntime builds its session without
        holding the GIL, so on a cold one-shot question the two overlap on two cores. numpy,
        onnxruntime and tokenizers are imported here first, on this thread: numpy imported
        from two threads at once can fail half-initialised. A failure in the thread is left
        for ``self.embedder`` to raise again on the caller's thread."""
        import numpy  # noqa: F401
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401

        model = self.model_id

        def run() -> None:
            with contextlib.suppress(Exception):  # re-raised by self.embedder on the caller's thread
                self.__dict__.setdefault("embedder", self._open_embedder(model))

        thread = threading.Thread(target=run, name="open-embedder", daemon=True)
        thread.start()
        return thread

    @property
    def chroma_url(self) -> str | None:
        """The Chroma server holding this index's vectors (None: embedded, in the index folder):
        ``--chroma-url``, then ``$ASSISTANT_CHROMA_URL``, then the URL the index was built with."""
        if self._chroma_url or not self.exists():
            return self._chroma_url
        return self.catalog.meta().get("chroma_url") or None

    @cached_property
    def store(self) -> VectorStore:
        from .store import DIRNAME, VectorStore

        meta, url = self.catalog.meta(), self.chroma_url
        if not url and _server_mode(meta):
            raise IndexMismatch(
                f"the index at {self.index_dir} keeps its vectors in a Chroma server; "
                "give its URL with --chroma-url or $ASSISTANT_CHROMA_URL"
            )
        chunks = self.catalog.count_chunks()
        if not url and chunks and not (self.index_dir / DIRNAME).is_dir():
            raise IndexCorrupt(
                f"the vector store {self.index_dir / DIRNAME} is missing but the catalog lists {chunks} "
                "chunks; rebuild the index with `assistant index --rebuild PATH`"
            )
        store = VectorStore(self.index_dir, collection=meta.get("collection", "chunks"), url=url)
        try:
            self._verify(store)
        except AssistantError:
            store.close()
            raise
        return store

    def _verify(self, store: VectorStore) -> None:
        """Every committed state of the pending/ready protocol with nothing pending has one
        vector per catalog chunk. The counts are compared only when no other process
        committed meanwhile (the catalog's data version did not move)."""
        before = self.catalog.version()
        pending, chunks = self.catalog.pending(), self.catalog.count_chunks()
        held = store.count()
        self._store_version = self.catalog.version()
        if pending or before != self._store_version or held == chunks:
            return
        where = f"the Chroma server at {store.url}" if store.url else "the vector store"
        raise IndexCorrupt(
            f"the catalog in {self.index_dir} lists {chunks} chunks but {where} holds {held}; "
            "rebuild the index with `assistant index --rebuild PATH`"
        )

    def refresh(self) -> None:
        """Catch up with writes made by other processes; called before every search.

        SQLite readers see other processes' commits at once, but an embedded Chroma client
        keeps serving the vectors it loaded when it opened. So when the catalog changed
        under us the vector store is reopened, and when the catalog file itself was
        replaced (another process rebuilt the index) everything is."""
        if "catalog" not in self.__dict__:
            return
        if self._file_id() != self._catalog_file:
            self.close()
        elif "store" in self.__dict__ and self.catalog.version() != self._store_version:
            if not self.chroma_url:  # a server serves every client the same vectors
                self._close_store()
            else:
                self._store_version = self.catalog.version()

    def _close_store(self) -> None:
        self.__dict__.pop("retriever", None)
        store = self.__dict__.pop("store", None)
        if store is not None:
            store.close()

    @cached_property
    def retriever(self) -> Retriever:
        opening = None if "embedder" in self.__dict__ else self._open_embedder_in_background()
        try:
            store = self.store
        finally:
            if opening is not None:
                opening.join()
        return Retriever(self.catalog, store, self.embedder, self.policy)

    # -- writing ------------------------------------------------------------
    @contextmanager
    def _write_lock(self, on_wait: Callable[[str], None] | None) -> Iterator[None]:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / LOCKFILE, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is None:
                    raise IndexLocked(f"another process is writing to the index at {self.index_dir}") from None
                on_wait(f"waiting for another process writing to the index at {self.index_dir} ...")
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _create(self) -> None:
        """Make the catalog and record how this index is built. A new catalog starts with no
        vectors: any left in the folder (a rebuild killed half way) are thrown away."""
        if self._chroma_url and not self.exists():
            from .store import probe

            probe(self._chroma_url)  # a server that is down leaves no half-made index behind
        catalog = Catalog(self.index_dir)
        if not catalog.meta():
            import uuid

            url = self._chroma_url
            if not url:
                shutil.rmtree(self.index_dir / "chroma", ignore_errors=True)
            catalog.set_meta(
                {
                    "schema": str(SCHEMA_VERSION),
                    "model": self.model_id,
                    "chunking": _chunking_params(),
                    "collection": "chunks" if not url else f"assistant-{uuid.uuid4().hex[:12]}",
                    **({"chroma_url": url} if url else {}),
                }
            )
        catalog.close()

    def add(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        max_bytes: int | None = None,
        progress: ProgressFn | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> IndexReport:
        """Index files and folders; unchanged files cost nothing. With no paths, refresh
        every folder indexed before."""
        with self._write_lock(on_wait):
            self._create()
            targets = [Path(p) for p in paths] or [Path(r) for r in self.catalog.roots()]
            report = self._indexer(max_bytes, progress).run(targets)
            self._record_dimension()
            return report

    def _indexer(self, max_bytes: int | None, progress: ProgressFn | None) -> Indexer:
        return Indexer(
            self.catalog,
            lambda: self.store,
            lambda: self.embedder,
            max_bytes=config.max_bytes(max_bytes),
            progress=progress,
        )

    def _record_dimension(self) -> None:
        if "embedder" in self.__dict__ and "dimension" not in self.catalog.meta():
            self.catalog.set_meta({"dimension": str(self.embedder.dimension)})

    def remove(self, doc_ids: Iterable[str]) -> list[str]:
        """Remove documents by id; returns the ids that were indexed."""
        with self._write_lock(None):
            known = {d.id for d in self.catalog.documents()}
            ids = [i for i in doc_ids if i in known]
            if ids:
                self._indexer(None, None)._remove(ids)
            return ids

    def rebuild(self, paths: Iterable[str | os.PathLike[str]], **kwargs) -> IndexReport:  # type: ignore[no-untyped-def]
        """Throw the index away and build it again from ``paths`` (or the folders it had)."""
        targets = list(paths)
        with self._write_lock(kwargs.get("on_wait")):
            old: dict[str, str] = {}
            if self.exists():
                try:  # a damaged catalog cannot say which folders it had: the caller must name them
                    catalog = Catalog(self.index_dir, readonly=True)
                    targets, old = targets or list(catalog.roots()), catalog.meta()
                    catalog.close()
                except AssistantError:
                    pass
            self.close()
            # Vectors first: a catalog without vectors is detected as damaged, vectors without
            # a catalog are thrown away when the next catalog is made (see _create).
            shutil.rmtree(self.index_dir / "chroma", ignore_errors=True)
            for name in (FILENAME, f"{FILENAME}-wal", f"{FILENAME}-shm"):
                (self.index_dir / name).unlink(missing_ok=True)
            if _server_mode(old) and (self._chroma_url or old.get("chroma_url")):
                from .store import drop_collection

                drop_collection(self._chroma_url or old["chroma_url"], old["collection"])
        return self.add(targets, **kwargs)

    # -- reading ------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        self.refresh()
        return self.catalog.documents()

    def text(self, doc_id: str) -> str:
        text = self.catalog.text(doc_id)
        if text is None:
            raise IndexNotFound(f"no document {doc_id!r} in the index")
        return text

    def require_documents(self) -> None:
        """Raise ``IndexNotFound``, saying how to fix it, when nothing is indexed."""
        if not self.catalog.has_chunks():
            raise IndexNotFound(f"the index at {self.index_dir} is empty; add articles with `assistant index PATH`")

    def search(
        self,
        question: str,
        k: int = 5,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[Passage]:
        """The ``k`` passages that best match ``question``, best first."""
        if not question.strip():
            raise UsageError("the question is empty")
        self.refresh()
        self.require_documents()
        return self.retriever.search(question, k, Filters(source, since, until))

    def ask(
        self,
        question: str,
        k: int = 5,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        policy: AnswerPolicy | None = None,
    ) -> Answer:
        """Up to ``k`` verbatim quotes that answer ``question``, cited; or a plain "nothing
        answers this" with the closest passages (see ``answer.py`` for how quotes are chosen)."""
        from . import answer, lexical

        passages = self.search(question, answer.passages_wanted(k), source=source, since=since, until=until)
        scope = self.catalog.count_docs(source=source, since=since, until=until)
        every = self.catalog.count_docs(source=None, since=None, until=None)
        db = self.catalog.db

        def df(term: str) -> int:
            row = db.execute("SELECT df FROM terms WHERE term = ?", (term,)).fetchone()
            return int(row[0]) if row else 0

        terms = answer.weigh_terms(question, lambda w: lexical.variants(db, w), df, every)
        texts = {p.document.id: self.text(p.document.id) for p in passages}
        return answer.build(
            question, passages, terms, self._sentence_vectors, k=k, searched=scope, texts=texts,
            policy=policy or answer.Policy(),
        )

    @cached_property
    def _sentence_vectors(self) -> SentenceVectors:
        from .answer import SentenceVectors

        return SentenceVectors(lambda texts: self.embedder.embed(texts), self.embedder.embed_query)

    def close(self) -> None:
        self._close_store()
        catalog = self.__dict__.pop("catalog", None)
        if catalog is not None:
            catalog.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
