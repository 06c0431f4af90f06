"""Indexing: walk paths, decide what changed, and write new chunks to both stores.

Incremental by file signature (size and mtime) first and content hash second, so a
no-op run reads no file and embeds nothing. Files that changed are read, parsed and
chunked in worker processes (``workers.Pool``) while this process embeds and writes:
parsing overlaps embedding, and a file that hangs, crashes its reader or exhausts its
memory costs only itself (skipped, with the reason). Results come back in the walk's
order, so an index built with N workers equals one built with one.

Documents are written in batches of about ``BATCH_CHUNKS`` chunks through the catalog's
pending/ready protocol (see ``catalog.py``): batching keeps the embedder's batches full
and Chroma's round trips few, and a crash loses at most the batch in flight, which the
next run cleans up. Only this process writes the stores.

Ids are unique by construction: the label of the file's folder (``Catalog.label``) and
the path relative to it, checked against the run's own plan as well.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import chunk as chunking
from . import ingest, metadata
from .catalog import FILENAME, Catalog, chunk_id
from .errors import UnreadableFile
from .index import DEFAULT_VECTORS, LOCKFILE
from .types import Chunk, Document, IndexReport, SkippedFile

if TYPE_CHECKING:
    from .embed import Embedder
    from .store import VectorStore
    from .workers import Outcome, ReadResult

BATCH_CHUNKS = 256
# No file may hold indexing up: pathological HTML (tens of thousands of unclosed tags) reads
# in time that grows with its size, and the size limit alone allows 50 MB of it.
READ_SECONDS = 60
# Finding named entities takes time in proportion to the text (spaCy's tagger: about 63,000
# characters a second on a quiet core, issue 12): a file gets a second per this many bytes on
# top of the limit, so an 8 MB JSONL of 5,000 abstracts is read, not skipped as a hang.
TAG_BYTES_PER_S = 20_000


@dataclass(frozen=True)
class Progress:
    files_done: int
    files_total: int
    chunks_done: int
    current: str = ""


ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True)
class ReadLimits:
    """How files are read: ``jobs`` worker processes (None: one fewer than the cores, at
    least one, because this process embeds at the same time and embedding is ~90% of the
    work: on 2 busy cores a second worker made indexing 6% slower, benchmarks/RESULTS.md; 0: in this
    process, without limits, for debugging), each file within ``timeout_s`` seconds and,
    when set, ``max_memory_mb`` of address space per worker."""

    jobs: int | None = None
    timeout_s: float | None = None  # None: READ_SECONDS, read when the run starts
    max_memory_mb: int | None = None


def _index_part(path: Path) -> bool:
    """A file or folder of an index (this one or another) kept among the articles: its
    catalog, vectors and lock, which are no articles. Only those: a file beside them that
    was indexed stays walked, so it is not taken for gone and removed."""
    name = path.name
    ours = name.startswith((FILENAME, DEFAULT_VECTORS)) or name == LOCKFILE  # chroma-<hex> too
    return ours and (path.parent / FILENAME).is_file()


def read_limit(timeout_s: float | None, size: int, tagging: bool) -> float:
    """Seconds a file of ``size`` bytes may take to read: the limit (``READ_SECONDS`` when
    None), and when its named entities are tagged too, the tagger's time on top."""
    limit = READ_SECONDS if timeout_s is None else timeout_s
    return limit + (round(size / TAG_BYTES_PER_S) if tagging else 0)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the reader will say why it cannot read it


def signature(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


_Item = tuple[Document, str, str, list[Chunk] | None]  # doc, root, signature, its chunks if made


@dataclass
class _Run:
    """What one run has decided so far."""

    report: IndexReport
    files_total: int
    planned: dict[str, str] = dataclasses.field(default_factory=dict)  # doc id -> its file
    folders: dict[str, metadata.FolderMetadata] = dataclasses.field(default_factory=dict)  # by root
    remove: list[str] = dataclasses.field(default_factory=list)
    files_done: int = 0


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
        limits: ReadLimits = ReadLimits(),  # noqa: B008 - frozen
        reader: Callable[
            [int, Callable[[list[str]], list[int]] | None],
            Callable[[tuple[Path, Path]], ReadResult],
        ]
        | None = None,
        entities: str | None = None,
    ):
        self.catalog = catalog
        self._store, self._embedder = store, embedder
        self.max_bytes = max_bytes
        self.progress = progress or (lambda p: None)
        self.limits = limits
        self._reader = reader  # the worker task's factory; tests give one that misbehaves
        self.entities = entities  # the spaCy pipeline that finds named entities; None: none
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

    # -- the run --------------------------------------------------------------
    def run(self, paths: Iterable[Path]) -> IndexReport:
        self.repair()
        report = IndexReport()
        files, roots = self._walk(paths)
        run = _Run(report, len(files))
        files = self._load_metadata(files, roots, run)
        run.files_total = len(files)
        known = self.catalog.by_path()
        to_read: list[tuple[Path, Path, str]] = []
        for file, root in files:
            sig = self._changed(file, root, known.get(str(file), {}), run)
            if sig is not None:
                to_read.append((file, root, sig))
        seen = {str(f) for f, _ in files}
        for folder in roots:  # files gone from a folder indexed before
            run.remove.extend(
                i for i, path in self.catalog.ids_under_root(folder).items() if path not in seen
            )
        if run.remove:
            self.remove(run.remove)
            report.removed.extend(run.remove)
            run.remove = []
        self._write_all(self._planned(to_read, known, run), run)
        if run.remove:
            self.remove(run.remove)
            report.removed.extend(run.remove)
        if self.entities is not None:
            self._tag_stored(run)
        return report

    def _walk(self, paths: Iterable[Path]) -> tuple[list[tuple[Path, Path]], list[str]]:
        files: list[tuple[Path, Path]] = []
        roots: list[str] = []
        for path in paths:
            if path.is_dir():
                roots.append(str(path.resolve()))
            files.extend((f.absolute(), r) for f, r in ingest.walk([path], skip=_index_part))
        for root in roots:
            self._labels[root] = self.catalog.label(root, folder=True)
        return files, roots

    def _label(self, root: Path) -> str:
        key = str(root.resolve())
        if key not in self._labels:
            self._labels[key] = self.catalog.label(key, folder=False)
        return self._labels[key]

    def _load_metadata(
        self, files: list[tuple[Path, Path]], roots: list[str], run: _Run
    ) -> list[tuple[Path, Path]]:
        """Each indexed folder's manifest (see ``metadata.py``); the manifest files themselves
        are not articles."""
        for root in roots:
            under = {f.relative_to(r).as_posix() for f, r in files if str(r) == root}
            folder = metadata.load(Path(root), under)
            run.report.warnings.extend(folder.warnings)
            run.folders[root] = folder
        return [(f, r) for f, r in files if not metadata.is_manifest(f, r)]

    def _row(self, file: Path, root: Path, run: _Run) -> tuple[dict[str, str], str]:
        """The manifest's values for ``file``, and their fingerprint."""
        folder = run.folders.get(str(root))
        if folder is None:
            return {}, ""
        relative = file.relative_to(root).as_posix()
        return folder.rows.get(relative, {}), folder.row_key(relative)

    def _changed(
        self, file: Path, root: Path, known: dict[str, tuple[str, str]], run: _Run
    ) -> str | None:
        """The file's signature when it must be read; None when it is unchanged or unreadable.
        A manifest row is part of the signature: editing it makes the file be read again."""
        try:
            key = self._row(file, root, run)[1]
            sig = signature(file) + (f"|{key}" if key else "")
        except OSError as exc:
            run.report.skipped.append(
                SkippedFile(str(file), f"cannot read: {exc.strerror}", kept=bool(known))
            )
            self._step(run, file)
            return None
        if known and all(s == sig for s, _ in known.values()):
            run.report.unchanged.extend(known)
            self._step(run, file)
            return None
        return sig

    def _step(self, run: _Run, file: Path, chunks_done: int | None = None) -> None:
        run.files_done += 1
        self.progress(
            Progress(run.files_done, run.files_total, chunks_done or run.report.chunks, str(file))
        )

    # -- reading (in worker processes) ---------------------------------------------
    def _read(
        self, to_read: list[tuple[Path, Path, str]]
    ) -> Iterator[tuple[tuple[Path, Path, str], Outcome[ReadResult]]]:
        if not to_read:
            return
        from .workers import Pool, ReadAndChunk, counter_for, read_preload

        counter = counter_for(self._embedder())
        task = (
            self._reader(self.max_bytes, counter)
            if self._reader
            else ReadAndChunk(self.max_bytes, counter, self.entities)
        )
        with Pool(
            task,
            jobs=self._jobs(),
            timeout_s=self._timeout(),
            max_memory_mb=self.limits.max_memory_mb,
            expected=(UnreadableFile,),
            preload=read_preload(f for f, _, _ in to_read),
            timeout_for=lambda item: self._timeout(_size(item[0])),
        ) as pool:
            items = [(file, root) for file, root, _ in to_read]
            for (file, root, sig), (_, outcome) in zip(to_read, pool.map(items)):
                yield (file, root, sig), outcome

    def _planned(
        self,
        to_read: list[tuple[Path, Path, str]],
        known: dict[str, dict[str, tuple[str, str]]],
        run: _Run,
    ) -> Iterator[_Item]:
        """The documents to write, file by file as the workers finish them."""
        from .workers import Failed

        touch: list[tuple[str, str]] = []
        retitle: list[tuple[Document, str]] = []
        for (file, root, sig), outcome in self._read(to_read):
            before = known.get(str(file), {})
            if isinstance(outcome, Failed):
                reason = (
                    outcome.error.reason
                    if isinstance(outcome.error, UnreadableFile)
                    else outcome.reason
                )
                # A failure may pass (a busy machine, a permission glitch): the version indexed
                # before stays searchable, and goes only when the file itself is gone.
                kept = "; the version indexed before is kept" if before else ""
                run.report.skipped.append(SkippedFile(str(file), reason + kept, kept=bool(before)))
            else:
                result = outcome.value
                run.report.skipped.extend(SkippedFile(str(file), w) for w in result.warnings)
                run.report.warnings.extend(f"{file}: {n}" for n in result.notes)
                yield from self._plan_documents(
                    file, root, sig, result, before, run, touch, retitle
                )
            self._step(run, file)
        if touch or retitle:
            with self.catalog.transaction():
                self.catalog.touch(touch)
                for doc, sig in retitle:
                    self.catalog.update_metadata(doc, sig)

    def _plan_documents(
        self,
        file: Path,
        root: Path,
        sig: str,
        result: ReadResult,
        before: dict[str, tuple[str, str]],
        run: _Run,
        touch: list[tuple[str, str]],
        retitle: list[tuple[Document, str]],
    ) -> Iterator[_Item]:
        label, ids = self._label(root), set()
        row: dict[str, Any] = dict(self._row(file, root, run)[0])
        chunk_lists: list[list[Chunk] | None] = [None] * len(result.documents)
        if result.chunks is not None:
            chunk_lists = list(result.chunks)
        for doc, chunks in zip(result.documents, chunk_lists):
            doc = dataclasses.replace(doc, id=f"{label}/{doc.id}", **row)
            if run.planned.get(doc.id, doc.path) != doc.path:
                run.report.skipped.append(
                    SkippedFile(str(file), f"its id {doc.id} is taken by {run.planned[doc.id]}")
                )
                continue
            run.planned[doc.id] = doc.path
            ids.add(doc.id)
            previous = before.get(doc.id)
            if previous and previous[1] == doc.sha256 and previous[0]:
                # The same text: nothing to embed, but its metadata may have changed (the manifest).
                if self._metadata_changed(doc):
                    retitle.append((doc, sig))
                else:
                    touch.append((doc.id, sig))
                run.report.unchanged.append(doc.id)
                continue
            (run.report.updated if previous else run.report.added).append(doc.id)
            if chunks is not None:
                chunks = [dataclasses.replace(c, doc_id=doc.id) for c in chunks]
            yield doc, str(root.resolve()), sig, chunks
        run.remove.extend(i for i in before if i not in ids)

    def _metadata_changed(self, doc: Document) -> bool:
        stored = self.catalog.infos([doc.id]).get(doc.id)
        return stored is None or any(
            getattr(stored, f) != getattr(doc, f) for f in (*metadata.FIELDS, "date_source")
        )

    # -- named entities of documents indexed before schema 3 --------------------------
    def _tag_stored(self, run: _Run) -> None:
        """Tag the stored text of documents whose chunks have no named entities yet, in
        the workers; only the chunks' mentions are written (no reading, no embedding)."""
        assert self.entities is not None
        fresh = set(run.report.added) | set(
            run.report.updated
        )  # tagged as read (or failed: warned)
        untagged = [d for d in self.catalog.untagged() if d not in fresh]
        if not untagged:
            return
        from .workers import Failed, Pool, TagStored

        spans = {d: self.catalog.chunk_spans(d) for d in untagged}
        items = [
            (d, self.catalog.text(d) or "", [(s, e) for _, s, e in spans[d]]) for d in untagged
        ]
        with Pool(
            TagStored(self.entities),
            jobs=self._jobs(),
            timeout_s=self._timeout(),
            max_memory_mb=self.limits.max_memory_mb,
            timeout_for=lambda item: self._timeout(len(item[1])),
        ) as pool:
            for (doc_id, _, _), (_, outcome) in zip(items, pool.map(items)):
                if isinstance(outcome, Failed):  # the answer falls back to guessing its names
                    run.report.warnings.append(
                        f"{doc_id}: named entities not found ({outcome.reason})"
                    )
                    continue
                with self.catalog.transaction():
                    self.catalog.set_mentions(
                        (c, m) for (c, _, _), m in zip(spans[doc_id], outcome.value)
                    )
                run.report.tagged += 1

    def _jobs(self) -> int:
        return (
            self.limits.jobs if self.limits.jobs is not None else max(1, (os.cpu_count() or 1) - 1)
        )

    def _timeout(self, size: int = 0) -> float:
        return read_limit(self.limits.timeout_s, size, tagging=self.entities is not None)

    # -- writing ------------------------------------------------------------
    def _write_all(self, items: Iterable[_Item], run: _Run) -> None:
        batch: list[tuple[_Item, list[Chunk]]] = []
        size = 0
        for item in items:
            chunks = item[3] if item[3] is not None else self._chunk_here(item[0], run)
            batch.append((item, chunks))
            size += len(chunks)
            if size >= BATCH_CHUNKS:
                self._flush(batch, run)
                batch, size = [], 0
        if batch:
            self._flush(batch, run)

    def _chunk_here(self, doc: Document, run: _Run) -> list[Chunk]:
        """Chunks made in this process (an embedder with no picklable token counter)."""
        chunks = chunking.chunk_document(doc, self._embedder().count_tokens)
        if self.entities is None:
            return chunks
        from . import entities as ner

        notes: list[str] = []
        chunks = ner.tagged(doc.text, chunks, self.entities, notes)
        run.report.warnings.extend(f"{doc.path}: {n}" for n in notes)
        return chunks

    def _flush(self, batch: list[tuple[_Item, list[Chunk]]], run: _Run) -> None:
        run.report.chunks += self._write(batch)
        self.progress(
            Progress(run.files_done, run.files_total, run.report.chunks, batch[-1][0][0].path)
        )

    def remove(self, doc_ids: list[str]) -> None:
        store = self._store()  # opened first: a store that cannot be reached changes nothing
        with self.catalog.transaction():
            for doc_id in doc_ids:
                self.catalog.retire(doc_id)
        store.delete_docs(doc_ids)
        with self.catalog.transaction():
            for doc_id in doc_ids:
                self.catalog.drop(doc_id)

    def _write(self, batch: list[tuple[_Item, list[Chunk]]]) -> int:
        store = self._store()  # opened first: a store that cannot be reached changes nothing
        with self.catalog.transaction():
            for (doc, root, sig, _), _ in batch:
                self.catalog.mark_pending(doc, root, sig)
        ids, texts, owners = [], [], []
        for (doc, _, _, _), chunks in batch:
            for c in chunks:
                ids.append(chunk_id(doc.id, c.index))
                texts.append(chunking.embedding_text(doc.title, c))
                owners.append(doc.id)
        store.delete_docs([doc.id for (doc, _, _, _), _ in batch])  # vectors of a previous version
        if texts:
            store.upsert(ids, self._embedder().embed(texts), owners)
        with self.catalog.transaction():
            for (doc, _, _, _), chunks in batch:
                self.catalog.finish(doc, chunks)
        return len(texts)
