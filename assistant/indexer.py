"""Indexing: walk paths, decide what changed, and write new chunks to both stores.

Incremental by file signature (size and mtime) first and content hash second, so a
no-op run reads no file and embeds nothing. Documents are written in batches of about
``BATCH_CHUNKS`` chunks through the catalog's pending/ready protocol (see
``catalog.py``): batching keeps the embedder's batches full and Chroma's round trips
few, and a crash loses at most the batch in flight, which the next run cleans up.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import chunk as chunking
from . import ingest
from .catalog import Catalog, chunk_id
from .errors import UnreadableFile
from .types import Chunk, Document, IndexReport, SkippedFile

if TYPE_CHECKING:
    from .embed import Embedder
    from .store import VectorStore

BATCH_CHUNKS = 256
# No file may hold indexing up: pathological HTML (tens of thousands of unclosed tags) reads
# in time that grows with its size, and the size limit alone allows 50 MB of it.
READ_SECONDS = 60


@dataclass(frozen=True)
class Progress:
    files_done: int
    files_total: int
    chunks_done: int
    current: str = ""


ProgressFn = Callable[[Progress], None]


class _ReadTimeout(BaseException):
    """Raised by the alarm. A BaseException, like KeyboardInterrupt, so that readers'
    catch-all handlers (which turn any failure into a reason) let it through."""


@contextmanager
def _time_limit(path: Path, seconds: int) -> Iterator[None]:
    """Turn a read that runs past ``seconds`` into a skipped file. SIGALRM works only on
    the main thread; elsewhere (a REPL's /index on a worker) the read is unbounded."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise _ReadTimeout

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    except _ReadTimeout:
        raise UnreadableFile(str(path), f"took longer than {seconds} s to read") from None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def signature(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


@dataclass
class _Plan:
    """What a run will do, decided before anything is embedded."""

    write: list[tuple[Document, str, str]] = dataclasses.field(default_factory=list)  # doc, root, sig
    touch: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # doc id, new signature
    remove: list[str] = dataclasses.field(default_factory=list)
    planned: dict[str, str] = dataclasses.field(default_factory=dict)  # doc id -> the file it comes from


class Indexer:
    def __init__(
        self,
        catalog: Catalog,
        store: Callable[[], VectorStore],
        embedder: Callable[[], Embedder],
        *,
        max_bytes: int,
        progress: ProgressFn | None = None,
        closing: list[VectorStore] | None = None,
    ):
        self.catalog = catalog
        self._store, self._embedder = store, embedder
        self.max_bytes = max_bytes
        self.progress = progress or (lambda p: None)
        self._closing = closing if closing is not None else []
        self._labels: dict[str, str] = {}

    def close(self) -> None:
        """Close the vector store this indexer opened, if it did."""
        while self._closing:
            self._closing.pop().close()

    # -- repair -------------------------------------------------------------
    def repair(self) -> list[str]:
        """Finish what a killed run left: drop pending documents from both stores."""
        pending = self.catalog.pending()
        if pending:
            self._store().delete_docs(pending)
            with self.catalog.transaction():
                for doc_id in pending:
                    self.catalog.drop(doc_id)
        return pending

    # -- planning -----------------------------------------------------------
    def run(self, paths: Iterable[Path]) -> IndexReport:
        self.repair()
        report = IndexReport()
        files, roots = self._walk(paths, report)
        known = self.catalog.by_path()
        plan = _Plan()
        for n, (file, root) in enumerate(files, start=1):
            self._plan_file(file, root, known.get(str(file), {}), plan, report)
            self.progress(Progress(n, len(files), 0, str(file)))
        seen = {str(f) for f, _ in files}
        for folder in roots:
            for doc_id, path in self.catalog.ids_under_root(folder).items():
                if path not in seen and doc_id not in plan.remove:
                    plan.remove.append(doc_id)
        self._apply(plan, report, len(files))
        return report

    def _walk(self, paths: Iterable[Path], report: IndexReport) -> tuple[list[tuple[Path, Path]], list[str]]:
        files: list[tuple[Path, Path]] = []
        roots: list[str] = []
        for path in paths:
            if not path.exists():
                report.skipped.append(SkippedFile(str(path), "no such file or directory"))
                continue
            if path.is_dir():
                roots.append(str(path.resolve()))
            files.extend((f.absolute(), r) for f, r in ingest.walk([path]))
        for root in roots:
            self._labels[root] = self.catalog.label(root, folder=True)
        return files, roots

    def _label(self, root: Path) -> str:
        key = str(root.resolve())
        if key not in self._labels:
            self._labels[key] = self.catalog.label(key, folder=False)
        return self._labels[key]

    def _plan_file(
        self, file: Path, root: Path, known: dict[str, tuple[str, str]], plan: _Plan, report: IndexReport
    ) -> None:
        try:
            sig = signature(file)
        except OSError as exc:
            report.skipped.append(SkippedFile(str(file), f"cannot read: {exc.strerror}"))
            return
        if known and all(s == sig for s, _ in known.values()):
            report.unchanged.extend(known)
            return
        try:
            warnings: list[str] = []
            with _time_limit(file, READ_SECONDS):
                docs = ingest.read(file, root, max_bytes=self.max_bytes, warnings=warnings)
        except UnreadableFile as exc:
            # A failure may pass (a busy machine, a permission glitch): the version indexed
            # before stays searchable, and goes only when the file itself is gone.
            kept = "; the version indexed before is kept" if known else ""
            report.skipped.append(SkippedFile(str(file), exc.reason + kept, kept=bool(known)))
            return
        report.skipped.extend(SkippedFile(str(file), w) for w in warnings)
        label = self._label(root)
        ids = set()
        for doc in docs:
            doc = dataclasses.replace(doc, id=f"{label}/{doc.id}")
            if doc.id in plan.planned and plan.planned[doc.id] != doc.path:
                report.skipped.append(SkippedFile(str(file), f"its id {doc.id} is taken by {plan.planned[doc.id]}"))
                continue
            plan.planned[doc.id] = doc.path
            ids.add(doc.id)
            previous = known.get(doc.id)
            if previous and previous[1] == doc.sha256 and previous[0]:
                plan.touch.append((doc.id, sig))
                report.unchanged.append(doc.id)
            else:
                plan.write.append((doc, str(root.resolve()), sig))
                (report.updated if previous else report.added).append(doc.id)
        plan.remove.extend(i for i in known if i not in ids)

    # -- writing ------------------------------------------------------------
    def _apply(self, plan: _Plan, report: IndexReport, files_total: int) -> None:
        if plan.touch:
            with self.catalog.transaction():
                self.catalog.touch(plan.touch)
        if plan.remove:
            self.remove(plan.remove)
            report.removed.extend(plan.remove)
        done = 0
        for batch in self._batches(plan.write):
            done += self._write(batch)
            report.chunks = done
            self.progress(Progress(files_total, files_total, done, batch[-1][0][0].path))

    def remove(self, doc_ids: list[str]) -> None:
        store = self._store()  # opened first: a store that cannot be reached changes nothing
        with self.catalog.transaction():
            for doc_id in doc_ids:
                self.catalog.retire(doc_id)
        store.delete_docs(doc_ids)
        with self.catalog.transaction():
            for doc_id in doc_ids:
                self.catalog.drop(doc_id)

    def _batches(self, items: list[tuple[Document, str, str]]):  # type: ignore[no-untyped-def]
        count = self._embedder().count_tokens
        batch: list[tuple[tuple[Document, str, str], list[Chunk]]] = []
        size = 0
        for item in items:
            chunks = chunking.chunk_document(item[0], count)
            batch.append((item, chunks))
            size += len(chunks)
            if size >= BATCH_CHUNKS:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch

    def _write(self, batch: list[tuple[tuple[Document, str, str], list[Chunk]]]) -> int:
        store = self._store()  # opened first: a store that cannot be reached changes nothing
        with self.catalog.transaction():
            for (doc, root, sig), _ in batch:
                self.catalog.mark_pending(doc, root, sig)
        ids, texts, owners = [], [], []
        for (doc, _, _), chunks in batch:
            for c in chunks:
                ids.append(chunk_id(doc.id, c.index))
                texts.append(chunking.embedding_text(doc.title, c))
                owners.append(doc.id)
        store.delete_docs([doc.id for (doc, _, _), _ in batch])  # vectors of a previous version
        if texts:
            store.upsert(ids, self._embedder().embed(texts), owners)
        with self.catalog.transaction():
            for (doc, _, _), chunks in batch:
                self.catalog.finish(doc, chunks)
        return len(texts)


