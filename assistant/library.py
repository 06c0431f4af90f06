"""The facade users hold: ``Library(index_dir)``.

Opening a Library touches nothing on disk; the catalog, the vector store and the
embedding model are each opened on first use, so listing sources never loads a model
and a no-op re-index never imports Chroma.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from . import chunk as chunking
from . import config
from .catalog import FILENAME, SCHEMA_VERSION, Catalog
from .errors import AssistantError, IndexLocked, IndexMismatch, IndexNotFound
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
            raise IndexNotFound(f"no index at {self.index_dir}; build one with `assistant index PATH`")
        catalog = Catalog(self.index_dir)
        self._check(catalog.meta())
        return catalog

    def _check(self, meta: dict[str, str]) -> None:
        if not meta:
            return
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
        from .embed import DEFAULT_MODEL, open_embedder

        model = self.model_id
        # The ONNX export is made once per model and shared by every index (see config.cache_dir).
        return open_embedder(None if model == DEFAULT_MODEL else model, cache_dir=config.cache_dir() / "onnx")

    @cached_property
    def store(self) -> VectorStore:
        from .store import VectorStore

        collection = self.catalog.meta().get("collection", "chunks")
        return VectorStore(self.index_dir, collection=collection, url=self._chroma_url)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.catalog, self.store, self.embedder, self.policy)

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
        """Make the catalog and record how this index is built."""
        catalog = Catalog(self.index_dir)
        if not catalog.meta():
            import uuid

            catalog.set_meta(
                {
                    "schema": str(SCHEMA_VERSION),
                    "model": self.model_id,
                    "chunking": _chunking_params(),
                    "collection": "chunks" if not self._chroma_url else f"assistant-{uuid.uuid4().hex[:12]}",
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
            if not targets and self.exists():
                try:
                    targets = list(Catalog(self.index_dir, readonly=True).roots())
                except AssistantError:
                    targets = []  # a damaged catalog: the caller must name the folders
            self.close()
            for name in (FILENAME, f"{FILENAME}-wal", f"{FILENAME}-shm"):
                (self.index_dir / name).unlink(missing_ok=True)
            shutil.rmtree(self.index_dir / "chroma", ignore_errors=True)
        return self.add(targets, **kwargs)

    # -- reading ------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return self.catalog.documents()

    def text(self, doc_id: str) -> str:
        text = self.catalog.text(doc_id)
        if text is None:
            raise IndexNotFound(f"no document {doc_id!r} in the index")
        return text

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
        if not self.catalog.count_chunks():
            raise IndexNotFound(f"the index at {self.index_dir} is empty; add articles with `assistant index PATH`")
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
        scope = len(self.catalog.doc_ids(source=source, since=since, until=until))
        every = scope if not any((source, since, until)) else len(self.catalog.doc_ids(source=None, since=None, until=None))
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

        return SentenceVectors(lambda texts: self.embedder.embed(texts))

    def close(self) -> None:
        for name in ("retriever", "store", "catalog"):
            part = self.__dict__.pop(name, None)
            if name == "catalog" and part is not None:
                part.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
