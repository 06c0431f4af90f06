"""The facade users hold: ``Library(index_dir)``.

Opening a Library touches nothing on disk; the catalog, the vector store and the
embedding model are each opened on first use, so listing sources never loads a model
and a no-op re-index never imports Chroma. The index folder's life (open, verify,
create, migrate, rebuild, lock) belongs to ``index.Index``; a Library holds the open
parts and follows other processes' writes (``refresh``).

An embedder and a store can be injected (``embedder=``, ``store=``): the plumbing tests
use a deterministic fake embedder, the behaviour tests the real model.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from . import config
from .catalog import Catalog
from .errors import IndexNotFound, UsageError
from .index import Index, Manifest, close_for_swap
from .retrieve import Retriever, SearchPolicy
from .text import query_terms
from .types import Answer, DocumentInfo, Filters, IndexReport, Passage

if TYPE_CHECKING:
    from .answer import Policy as AnswerPolicy
    from .answer import SentenceVectors
    from .answerline import Weights as LineWeights
    from .embed import Embedder
    from .indexer import Indexer, ProgressFn, ReadLimits
    from .reader import Reader
    from .store import VectorStore


class Library:
    """A folder of indexed articles: add files, search them, ask them questions."""

    def __init__(
        self,
        index_dir: str | os.PathLike[str] | None = None,
        *,
        model: str | None = None,
        chroma_url: str | None = None,
        policy: SearchPolicy | None = None,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        entities: str | None = None,
        reader: Reader | None = None,
    ):
        """``entities``: the spaCy pipeline that finds named entities when indexing ("off":
        none; default ``$ASSISTANT_ENTITIES``, else the installed en_core_web_sm). ``reader``:
        the answer reader (default: the shipped model, loaded on the first question)."""
        self.index_dir = config.index_dir(index_dir)
        self.index = Index(self.index_dir)
        self._model = config.model_name(model)
        self._chroma_url = config.chroma_url(chroma_url)
        self.policy = policy or SearchPolicy()
        self._catalog: Catalog | None = None
        self._manifest: Manifest | None = None
        self._catalog_file: tuple[int, int] | None = None
        self._store: VectorStore | None = None
        self._store_version = 0
        self._embedder: Embedder | None = embedder
        self._injected_embedder = embedder
        self._note: Callable[[str], None] | None = None  # where a writer says what takes long
        self._injected_store = store
        self._entities = entities
        self._retriever: Retriever | None = None
        self._sentence_vectors: SentenceVectors | None = None
        self._reader = reader

    # -- lazily opened parts ------------------------------------------------
    def exists(self) -> bool:
        return self.index.exists()

    @property
    def catalog(self) -> Catalog:
        """The catalog, opened read-only (writes go through ``add``/``remove``/``rebuild``)."""
        if self._catalog is None:
            catalog, manifest = self.index.open_reader()
            try:
                self.index.check(manifest, model=self._model, chroma_url=self._chroma_url)
            except BaseException:
                catalog.close()
                raise
            self._catalog, self._manifest, self._catalog_file = (
                catalog,
                manifest,
                self.index.file_id(),
            )
        return self._catalog

    @property
    def manifest(self) -> Manifest | None:
        self.catalog  # noqa: B018 - opening the catalog reads the manifest
        return self._manifest

    @property
    def model_id(self) -> str:
        from .embed import DEFAULT_MODEL

        if self._model:
            return self._model
        if self._injected_embedder is not None:
            return self._injected_embedder.model_id
        recorded = self.manifest.model if self.exists() and self.manifest else None
        return recorded or DEFAULT_MODEL

    def _new_model(self) -> str:
        """The model a new index is built with (never read from a catalog being made)."""
        from .embed import DEFAULT_MODEL

        if self._injected_embedder is not None and not self._model:
            return self._injected_embedder.model_id
        return self._model or DEFAULT_MODEL

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._open_embedder(self.model_id)
        return self._embedder

    def _open_embedder(self, model: str) -> Embedder:
        from .embed import DEFAULT_MODEL, needs_export, open_embedder

        # The ONNX export is made once per model and shared by every index (see config.cache_dir).
        name, cache = None if model == DEFAULT_MODEL else model, config.cache_dir() / "onnx"
        if self._note is not None and needs_export(name, cache):
            self._note(f"preparing the model {model} for first use (once, about 10 s) ...")
        embedder = open_embedder(name, cache_dir=cache)
        # The retriever and the answer's sentence scorer both need the question's vector:
        # memoised, a question is embedded once.
        embedder.embed_query = functools.lru_cache(maxsize=64)(embedder.embed_query)  # type: ignore[method-assign]
        return embedder

    def _open_embedder_in_background(self) -> threading.Thread | None:
        """Open the model while chromadb imports. onnxruntime builds its session without
        holding the GIL, so on a cold one-shot question the two overlap on two cores. numpy,
        onnxruntime and tokenizers are imported here first, on this thread: numpy imported
        from two threads at once can fail half-initialised. A failure in the thread is left
        for ``self.embedder`` to raise again on the caller's thread."""
        if self._embedder is not None:
            return None
        import numpy  # noqa: F401
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401

        model = self.model_id

        def run() -> None:
            with contextlib.suppress(
                Exception
            ):  # re-raised by self.embedder on the caller's thread
                embedder = self._open_embedder(model)
                if self._embedder is None:
                    self._embedder = embedder

        thread = threading.Thread(target=run, name="open-embedder", daemon=True)
        thread.start()
        return thread

    def _open_reader_in_background(self) -> None:
        """Load the reader's model while chromadb imports and the question is searched (only on
        the way to an answer: a search alone never reads). Its ``load`` holds a lock, so the
        first read waits for it; a failure is raised again, as a warning, by the first read."""
        reader = self.reader

        def run() -> None:
            with contextlib.suppress(Exception):
                reader.load()

        threading.Thread(target=run, name="open-reader", daemon=True).start()

    @property
    def chroma_url(self) -> str | None:
        """The Chroma server holding this index's vectors (None: embedded, in the index folder):
        ``--chroma-url``, then ``$ASSISTANT_CHROMA_URL``, then the URL the index was built with."""
        if self._chroma_url or not self.exists():
            return self._chroma_url
        return self.manifest.chroma_url if self.manifest else None

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            if self._injected_store is not None:
                self._store = self._injected_store
                self._store_version = self.catalog.version()
                return self._store
            manifest = self.manifest or Manifest.new(self.model_id, self.chroma_url)
            store = self.index.open_store(manifest, self.chroma_url, self.catalog)
            try:
                self._store_version = self.index.verify(self.catalog, store)
            except BaseException:
                store.close()
                raise
            self._store = store
        return self._store

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            opening = self._open_embedder_in_background() if self._store is None else None
            try:
                store = self.store
            finally:
                if opening is not None:
                    opening.join()
            self._retriever = Retriever(self.catalog, store, self.embedder, self.policy)
        return self._retriever

    def refresh(self) -> None:
        """Catch up with writes made by other processes; called before every search.

        SQLite readers see other processes' commits at once, but an embedded Chroma client
        keeps serving the vectors it loaded when it opened. So when the catalog changed
        under us the vector store is reopened, and when the catalog file itself was
        replaced (another process rebuilt the index) everything is."""
        if self._catalog is None:
            return
        if self.index.file_id() != self._catalog_file:
            self.close()
        elif self._store is not None and self._catalog.version() != self._store_version:
            if not self.chroma_url and self._injected_store is None:
                self._close_store()  # a server serves every client the same vectors
            else:
                self._store_version = self._catalog.version()

    def _close_store(self) -> None:
        self._retriever = None
        store, self._store = self._store, None
        if store is not None and store is not self._injected_store:
            store.close()

    # -- writing ------------------------------------------------------------
    def add(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        max_bytes: int | None = None,
        progress: ProgressFn | None = None,
        on_wait: Callable[[str], None] | None = None,
        limits: ReadLimits | None = None,
    ) -> IndexReport:
        """Index files and folders; unchanged files cost nothing. With no paths, refresh
        every folder indexed before. ``limits``: how many worker processes read the files,
        and the time and memory each file may take (see ``indexer.ReadLimits``)."""
        targets = _existing(paths)
        self._note = on_wait
        if not targets and not self.exists():
            raise UsageError(
                f"nothing to refresh: the index at {self.index_dir} does not exist yet; "
                "give the files or folders to index"
            )
        if not self.exists():
            self._check_can_build()  # a model or server that fails leaves no index behind
        made = not self.index_dir.exists()
        with self.index.lock(on_wait):
            from . import migrate

            old = migrate.outdated(self.index)
            if old is not None:
                self.close()  # the upgrade may replace the catalog: no connection stays open on it
                migrate.migrate(self.index, old, self._chroma_url, on_wait)
            catalog, manifest = self.index.open_writer(
                lambda: Manifest.new(self._new_model(), self._chroma_url)
            )
            try:
                self.index.check(manifest, model=self._model, chroma_url=self._chroma_url)
                targets = targets or [Path(r) for r in catalog.roots()]
                if not targets:
                    raise UsageError(
                        f"nothing to refresh: no folder has been indexed in {self.index_dir}"
                    )
                with contextlib.closing(
                    self._indexer(catalog, manifest, max_bytes, progress, limits)
                ) as indexer:
                    return indexer.run(targets)
            finally:
                # Left behind only when it holds something (an interrupted first run keeps what it committed).
                made = made and not catalog.documents()
                catalog.close()
                self.refresh()
                if made:  # this call made the folder and indexed nothing: leave nothing behind
                    self.close()
                    shutil.rmtree(self.index_dir, ignore_errors=True)

    def _check_can_build(self) -> None:
        self.embedder  # noqa: B018 - raises ModelError for a model that cannot be loaded
        if self._chroma_url:
            from .store import probe

            probe(self._chroma_url)

    def _indexer(
        self,
        catalog: Catalog,
        manifest: Manifest,
        max_bytes: int | None,
        progress: ProgressFn | None,
        limits: ReadLimits | None = None,
    ) -> Indexer:
        store: list[VectorStore] = []

        def open_store() -> VectorStore:
            if not store:
                if self._injected_store is not None:
                    store.append(self._injected_store)
                else:
                    url = self._chroma_url or manifest.chroma_url
                    store.append(self.index.open_store(manifest, url, catalog))
            return store[0]

        def embedder() -> (
            Embedder
        ):  # the writer's manifest names the model: no reader is opened for it
            if self._embedder is None:
                self._embedder = self._open_embedder(self._model or manifest.model)
            return self._embedder

        # The writing path only: a question never reads files, so it never imports the indexer.
        from .entities import model_name
        from .indexer import Indexer, ReadLimits

        return Indexer(
            catalog,
            open_store,
            embedder,
            max_bytes=config.max_bytes(max_bytes),
            progress=progress,
            closing=store,
            limits=limits or ReadLimits(),
            entities=model_name(self._entities),
        )

    def remove(self, doc_ids: Iterable[str]) -> list[str]:
        """Remove documents by id; returns the ids that were indexed."""
        if not self.index_dir.is_dir():  # nothing to remove from: create nothing either
            raise IndexNotFound(
                f"no index at {self.index_dir}; build one with `assistant index PATH`"
            )
        with self.index.lock(None):
            if not self.exists():
                raise IndexNotFound(
                    f"no index at {self.index_dir}; build one with `assistant index PATH`"
                )
            catalog, manifest = self.index.open_writer(
                lambda: Manifest.new(self._new_model(), self._chroma_url)
            )
            try:
                ids = catalog.known_ids(doc_ids)
                if ids:
                    with contextlib.closing(
                        self._indexer(catalog, manifest, None, None)
                    ) as indexer:
                        indexer.remove(ids)
                return ids
            finally:
                catalog.close()
                self.refresh()

    def rebuild(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        max_bytes: int | None = None,
        progress: ProgressFn | None = None,
        on_wait: Callable[[str], None] | None = None,
        limits: ReadLimits | None = None,
    ) -> IndexReport:
        """Build the index again from ``paths`` (or the folders it had) and swap it in only
        when complete: until then, and after any failure, the old index is untouched."""
        targets = _existing(paths)
        self._note = on_wait
        with self.index.lock(on_wait):
            roots, old = self.index.read_old()
            targets = targets or [Path(r) for r in roots]
            if not targets:
                raise UsageError("nothing to rebuild from: give the files or folders to index")
            # The model the index was built with, unless another is asked for; checked (loaded)
            # before anything is built.
            from .embed import DEFAULT_MODEL

            self._model = self._model or (old.model if old and old.model else DEFAULT_MODEL)
            self._check_can_build()
            url = self._chroma_url or (old.chroma_url if old else None)
            manifest = Manifest.new(self.model_id, url, replacing=True)
            self._swap_build(targets, manifest, old, max_bytes, progress, limits)
        self.close()
        return self._last_report

    def _swap_build(
        self,
        targets: list[Path],
        manifest: Manifest,
        old: Manifest | None,
        max_bytes: int | None,
        progress: ProgressFn | None,
        limits: ReadLimits | None,
    ) -> None:
        build = self.index.build_folder()
        catalog = Catalog(build / "catalog.sqlite3")
        indexer: Indexer | None = None
        try:
            catalog.set_meta(manifest.to_meta())
            indexer = self._indexer(catalog, manifest, max_bytes, progress, limits)
            self._last_report = indexer.run(targets)
            indexer.close()
            close_for_swap(catalog)
            self.close()
            self.index.swap_in(build / "catalog.sqlite3", old)
        except BaseException:
            if indexer is not None:
                indexer.close()
            catalog.close()
            self.index.discard(manifest)
            raise
        finally:
            shutil.rmtree(build, ignore_errors=True)

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
            raise IndexNotFound(
                f"the index at {self.index_dir} is empty; add articles with `assistant index PATH`"
            )

    def search(
        self,
        question: str,
        k: int = 5,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        as_of: str | None = None,
        filters: Filters | None = None,
    ) -> list[Passage]:
        """The ``k`` passages that best match ``question``, best first. ``as_of``: the
        reference date; documents dated after it are left out (undated ones stay)."""
        filters = filters or Filters(source, since, until, as_of)
        self._prepare(question)
        with self.catalog.snapshot():
            return self.retriever.search(question, k, filters)

    def _prepare(self, question: str) -> None:
        if not question.strip():
            raise UsageError("the question is empty")
        if not query_terms(question):
            raise UsageError(
                f"nothing to search for in {question.strip()!r}: it holds only common words or punctuation"
            )
        self.refresh()
        self.require_documents()

    def ask(
        self,
        question: str,
        k: int = 5,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        as_of: str | None = None,
        filters: Filters | None = None,
        policy: AnswerPolicy | None = None,
        weights: LineWeights | None = None,
    ) -> Answer:
        """Up to ``k`` verbatim quotes that answer ``question``, cited, and the answer line when
        the reader finds a likely answer; or a plain "nothing answers this" with the closest
        passages (``pipeline.py``). Everything one answer reads comes from one version of the
        catalog."""
        from . import pipeline

        filters = filters or Filters(source, since, until, as_of)
        self._prepare(question)
        if self._retriever is None:  # a cold start: the reader loads while the store opens
            self._open_reader_in_background()
        parts = pipeline.Parts(
            self.catalog, self.retriever, self.sentence_vectors, self.reader, self.text
        )
        with self.catalog.snapshot():
            return pipeline.ask(parts, question, k, filters, policy, weights)

    @property
    def reader(self) -> Reader:
        if self._reader is None:
            from .reader import Reader

            self._reader = Reader()
        return self._reader

    @property
    def sentence_vectors(self) -> SentenceVectors:
        if self._sentence_vectors is None:
            from .answer import SentenceVectors

            embedder = self.embedder
            self._sentence_vectors = SentenceVectors(
                lambda texts: embedder.embed(texts), embedder.embed_query
            )
        return self._sentence_vectors

    def close(self) -> None:
        self._close_store()
        catalog, self._catalog = self._catalog, None
        if catalog is not None:
            catalog.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _existing(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The paths to index, each checked to exist before anything is created or changed."""
    targets = [Path(p) for p in paths]
    missing = [str(p) for p in targets if not p.exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    return targets
