"""The catalog: one SQLite file beside the vector store, and the only place that runs SQL
on it. It holds how the index was built (meta, read through ``index.Manifest``), the
folders indexed and their labels (roots), every document with its text, every chunk's
offsets, and the keyword index (``lexical.KeywordIndex``, over the same connection).

Crash safety rests on one rule: a document is marked ``pending`` in a committed
transaction *before* its vectors are written to Chroma, and marked ``ready`` (with its
chunk rows and keyword rows) in one transaction *after*. Whatever instant a process is
killed at, every vector in Chroma that the catalog does not list as ready belongs to
a pending document, and ``pending()`` tells the next run exactly what to clean up.

Transactions are explicit: the connection is in autocommit mode, writers use
``transaction()`` (BEGIN IMMEDIATE .. COMMIT) and readers ``snapshot()`` (one read
transaction), so a reader never holds a transaction open by accident (which froze its
view and held WAL checkpoints back), and everything one question reads — chunk offsets
and the text they slice — comes from one version of the catalog. A reader's connection
is read-only: nothing on the read path writes.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import IndexCorrupt
from .lexical import KeywordIndex
from .types import NO_FILTERS, Chunk, Document, DocumentInfo, Filters

SCHEMA_VERSION = 4
FILENAME = "catalog.sqlite3"

_ROOTS = """CREATE TABLE IF NOT EXISTS roots(
    path TEXT PRIMARY KEY, label TEXT UNIQUE NOT NULL, folder INTEGER NOT NULL DEFAULT 0)"""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
{_ROOTS};
CREATE TABLE IF NOT EXISTS documents(
    id TEXT PRIMARY KEY, root TEXT NOT NULL, path TEXT NOT NULL, format TEXT NOT NULL,
    title TEXT, date TEXT, source TEXT, url TEXT, author TEXT,
    sha256 TEXT NOT NULL, signature TEXT NOT NULL, pages TEXT NOT NULL, text TEXT NOT NULL,
    state TEXT NOT NULL, chunks INTEGER NOT NULL DEFAULT 0, line INTEGER, date_source TEXT);
CREATE INDEX IF NOT EXISTS documents_path ON documents(path);
CREATE TABLE IF NOT EXISTS chunks(
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL, idx INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, sentences TEXT NOT NULL, mentions TEXT);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""

_DOC_COLUMNS = (
    "id, path, format, title, date, source, url, author, sha256, chunks, pages, line, date_source"
)


@dataclass(frozen=True)
class StoredChunk:
    rowid: int
    id: str
    doc_id: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]
    mentions: tuple[tuple[int, int, str], ...] | None = None  # None: not tagged yet


def chunk_id(doc_id: str, index: int) -> str:
    return f"{doc_id}::{index}"


def chunk_index(chunk: str) -> int:
    """The position of a chunk in its document (0: the first), from its id."""
    return int(chunk.rsplit("::", 1)[1])


def _info(row: sqlite3.Row) -> DocumentInfo:
    values = dict(row)
    values["pages"] = tuple(json.loads(values["pages"]))
    return DocumentInfo(**values)


QUICK_CHECK_BYTES = 32 * 1024 * 1024  # SQLite's page check costs ~2 ms per MB; skip it above this
_REBUILD = "rebuild it with `assistant index --rebuild PATH`"


def damage(path: Path) -> str | None:
    """What is wrong with the catalog file at ``path`` as bytes on disk, or None.

    Cheap and read-only: SQLite itself opens a truncated file happily and fails only when
    a query reaches a missing page, so the header's page count is compared with the size."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if size == 0:
        return None  # created but never written: SQLite treats it as an empty database
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return "is not a SQLite database (truncated or overwritten)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    header_valid = (
        header[24:28] == header[92:96]
    )  # the page count is current (SQLite file format §1.3.7)
    if header_valid and pages and size < pages * page_size:
        return f"is truncated ({size} bytes where its header records {pages * page_size})"
    return None


def _lasting_damage(path: Path) -> str | None:
    """``damage()``, asked again while another process may be mid-checkpoint: a checkpoint
    writes the header's new page count before the pages it counts, for a moment."""
    for _ in range(3):
        problem = damage(path)
        if problem is None or not Path(f"{path}-wal").exists():
            return problem
        time.sleep(0.1)
    return problem


class Catalog:
    """One open catalog file. ``readonly`` connections are for readers; a writer (which
    holds the index's write lock) creates the schema and writes in ``transaction()``."""

    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = path
        problem = _lasting_damage(path) if path.exists() else None
        if problem:
            raise IndexCorrupt(f"the catalog {path} {problem}; {_REBUILD}")
        self._counts: dict[tuple[object, ...], int] = {}
        try:
            uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
            self.db = sqlite3.connect(
                uri, uri=True, timeout=30, check_same_thread=False, isolation_level=None
            )
            self.db.row_factory = sqlite3.Row
            self.keywords = KeywordIndex(self.db, self._in_documents)
            if not readonly:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                with self.transaction():
                    self._create_schema()
            problem = self._inconsistency()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise IndexCorrupt(f"the catalog {path} is damaged ({exc}); {_REBUILD}") from exc
        if problem:
            self.db.close()
            raise IndexCorrupt(f"the catalog {path} {problem}; {_REBUILD}")

    def _create_schema(self) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self.db.execute(statement)
        self.keywords.create()

    def _inconsistency(self) -> str | None:
        """Checks cheap enough for every open: SQLite's own page check on small files,
        then the invariants the pending/ready protocol keeps in every committed state."""
        if self.path.exists() and self.path.stat().st_size <= QUICK_CHECK_BYTES:
            result = self.db.execute("PRAGMA quick_check(1)").fetchone()[0]
            if result != "ok":
                return f"is damaged ({result})"
        if not self._has_table("documents"):
            return None  # a reader opening a catalog file that was never given a schema
        with self.snapshot():
            listed, rows = self.db.execute(
                "SELECT (SELECT coalesce(sum(chunks), 0) FROM documents WHERE state = 'ready'),"
                " (SELECT count(*) FROM chunks)"
            ).fetchone()
            keyword = self.keywords.count_chunks()
        if listed != rows:
            return f"lists {listed} chunks for its documents but holds {rows}"
        if keyword != rows:
            return f"holds {rows} chunks but {keyword} in its keyword index"
        return None

    def _has_table(self, name: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
            is not None
        )

    def close(self) -> None:
        self.db.close()

    def close_as_one_file(self) -> None:
        """Close a freshly built catalog so that it is one self-contained file (no WAL beside
        it), ready to be renamed into place (``Index.swap_in``)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("PRAGMA journal_mode=DELETE")
        self.close()

    # -- transactions -------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested calls join the outer one."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: every statement inside sees the same committed state."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")

    # -- meta ---------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        if not self._has_table("meta"):
            return {}
        return {r["key"]: r["value"] for r in self.db.execute("SELECT key, value FROM meta")}

    def set_meta(self, values: dict[str, str]) -> None:
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", values.items()
            )

    # -- roots --------------------------------------------------------------
    def roots(self) -> list[str]:
        """The folders indexed as folders: what a refresh with no paths walks again. (Schema 1
        had no labels and only folders as roots; ``Index.read_old`` reads its roots here too.)"""
        folders = " WHERE folder = 1" if "folder" in _columns(self.db, "roots") else ""
        return [r[0] for r in self.db.execute(f"SELECT path FROM roots{folders} ORDER BY path")]

    def label(self, root: str, *, folder: bool) -> str:
        """The label that starts the ids of documents under ``root``: the folder's name, made
        unique among the index's roots (``articles``, ``articles-2``) and kept for good, so
        ids are unique by construction and stable across runs."""
        with self.transaction():
            row = self.db.execute("SELECT label FROM roots WHERE path = ?", (root,)).fetchone()
            if row is not None:
                if folder:
                    self.db.execute("UPDATE roots SET folder = 1 WHERE path = ?", (root,))
                return str(row[0])
            base = Path(root).name or "root"
            taken = {r[0] for r in self.db.execute("SELECT label FROM roots")}
            label, n = base, 1
            while label in taken:
                n += 1
                label = f"{base}-{n}"
            self.db.execute(
                "INSERT INTO roots(path, label, folder) VALUES (?, ?, ?)",
                (root, label, int(folder)),
            )
            return label

    # -- documents ----------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        rows = self.db.execute(
            f"SELECT {_DOC_COLUMNS} FROM documents WHERE state = 'ready' ORDER BY id"
        )
        return [_info(r) for r in rows]

    def known_ids(self, doc_ids: Iterable[str]) -> list[str]:
        """Those of ``doc_ids`` that name an indexed document, in the order given."""
        ready = {r[0] for r in self.db.execute("SELECT id FROM documents WHERE state = 'ready'")}
        return [i for i in doc_ids if i in ready]

    def infos(self, doc_ids: Iterable[str]) -> dict[str, DocumentInfo]:
        found: dict[str, DocumentInfo] = {}
        for part in _parts(list(set(doc_ids))):
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT {_DOC_COLUMNS} FROM documents WHERE id IN ({marks})", part
            )
            found.update((r["id"], _info(r)) for r in rows)
        return found

    def text(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def path_of(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT path FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def by_path(self) -> dict[str, dict[str, tuple[str, str]]]:
        """path -> {doc id -> (signature, sha256)} for every document, ready or not."""
        out: dict[str, dict[str, tuple[str, str]]] = {}
        for r in self.db.execute("SELECT id, path, signature, sha256, state FROM documents"):
            sig = r["signature"] if r["state"] == "ready" else ""
            out.setdefault(r["path"], {})[r["id"]] = (sig, r["sha256"])
        return out

    def ids_under_root(self, root: str) -> dict[str, str]:
        """doc id -> path for the documents indexed from ``root``."""
        rows = self.db.execute("SELECT id, path FROM documents WHERE root = ?", (root,))
        return {r[0]: r[1] for r in rows}

    def pending(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM documents WHERE state = 'pending'")]

    def has_documents(self) -> bool:
        return bool(self.db.execute("SELECT EXISTS (SELECT 1 FROM documents)").fetchone()[0] == 1)

    def version(self) -> int:
        """Changes whenever another connection (another process) commits to the catalog."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def count_chunks(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def has_chunks(self) -> bool:
        # Not count_chunks() != 0: counting visits every row, and this runs per question.
        return bool(self.db.execute("SELECT EXISTS (SELECT 1 FROM chunks)").fetchone()[0] == 1)

    def changes(self) -> tuple[int, int]:
        """Differs after any commit, this connection's (total_changes) or another's."""
        return self.version(), self.db.total_changes

    def doc_ids(self, filters: Filters) -> list[str]:
        """Ready documents passing the filters."""
        sql, args = _where(filters)
        return [r[0] for r in self.db.execute(f"SELECT id FROM documents WHERE {sql}", args)]

    def count_docs(self, filters: Filters = NO_FILTERS) -> int:
        """How many documents ``doc_ids`` would list, memoised until the catalog changes:
        the count reads every document row (the list it replaced took ~17 ms per question on
        SciFact's 5k abstracts), too slow to repeat per question on a large index."""
        key = (self.changes(), filters)
        if key not in self._counts:
            if len(self._counts) > 64:
                self._counts.clear()
            sql, args = _where(filters)
            self._counts[key] = int(
                self.db.execute(f"SELECT count(*) FROM documents WHERE {sql}", args).fetchone()[0]
            )
        return self._counts[key]

    # -- writing documents (inside transaction()) ------------------------------------
    def retire(self, doc_id: str) -> None:
        """Take a document out of search: its keyword terms and chunk rows go, and the
        row stays behind as a ``pending`` tombstone until its vectors are deleted too."""
        row = self.db.execute(
            "SELECT text, state FROM documents WHERE id = ?", (doc_id,)
        ).fetchone()
        if row is None:
            return
        if row["state"] == "ready":
            self.keywords.remove_terms(row["text"])
        self._drop_chunks(doc_id)
        self.db.execute(
            "UPDATE documents SET state = 'pending', chunks = 0 WHERE id = ?", (doc_id,)
        )

    def drop(self, doc_id: str) -> None:
        self._drop_chunks(doc_id)
        self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def touch(self, signatures: Iterable[tuple[str, str]]) -> None:
        """Record new file signatures, (doc id, signature), for documents whose text did not change."""
        self.db.executemany(
            "UPDATE documents SET signature = ? WHERE id = ?", [(s, i) for i, s in signatures]
        )

    def update_metadata(self, doc: Document, signature: str) -> None:
        """New title, date (and where it came from), source, url and author for a document whose
        text did not change (its manifest row was edited); the keyword index's title column follows."""
        self.db.execute(
            "UPDATE documents SET title = ?, date = ?, date_source = ?, source = ?, url = ?, author = ?,"
            " signature = ? WHERE id = ?",
            (
                doc.title,
                doc.date,
                doc.date_source,
                doc.source,
                doc.url,
                doc.author,
                signature,
                doc.id,
            ),
        )
        rowids = [
            r[0] for r in self.db.execute("SELECT rowid FROM chunks WHERE doc_id = ?", (doc.id,))
        ]
        self.keywords.set_title(rowids, doc.title or "")

    def mark_pending(self, doc: Document, root: str, signature: str) -> None:
        """Step 1 of a write: record the intent before touching the vector store. Only a row
        of the same file is ever replaced; ids are unique by construction (see ``label``),
        and a clash is a bug to stop at, never a reason to overwrite another file's document."""
        path = self.path_of(doc.id)
        if path is not None and path != doc.path:
            raise IndexCorrupt(
                f"two files map to the document id {doc.id!r}: {path} and {doc.path}"
            )
        self.retire(doc.id)
        self.db.execute(
            "INSERT OR REPLACE INTO documents(id, root, path, format, title, date, source, url,"
            " author, sha256, signature, pages, text, state, chunks, line, date_source)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?, 'pending', 0, ?, ?)",
            (
                doc.id,
                root,
                doc.path,
                doc.format,
                doc.title,
                doc.date,
                doc.source,
                doc.url,
                doc.author,
                doc.sha256,
                signature,
                json.dumps(list(doc.pages)),
                doc.text,
                doc.line,
                doc.date_source,
            ),
        )

    def finish(self, doc: Document, chunks: list[Chunk]) -> None:
        """Step 3 of a write: chunk rows and keyword rows in, document ready."""
        for c in chunks:
            cur = self.db.execute(
                'INSERT INTO chunks(id, doc_id, idx, start, "end", sentences, mentions) VALUES (?,?,?,?,?,?,?)',
                (
                    chunk_id(doc.id, c.index),
                    doc.id,
                    c.index,
                    c.start,
                    c.end,
                    json.dumps(c.sentences),
                    None if c.mentions is None else json.dumps(c.mentions),
                ),
            )
            self.keywords.add_chunk(int(cur.lastrowid or 0), doc.title or "", c.text)
        self.keywords.add_terms(doc.text)
        self.db.execute(
            "UPDATE documents SET state = 'ready', chunks = ? WHERE id = ?", (len(chunks), doc.id)
        )

    def _drop_chunks(self, doc_id: str) -> None:
        rows = self.db.execute("SELECT rowid FROM chunks WHERE doc_id = ?", (doc_id,)).fetchall()
        self.keywords.remove_chunks([r[0] for r in rows])
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))

    # -- chunks -------------------------------------------------------------
    def _in_documents(self, rowid: str, doc_ids: list[str]) -> tuple[str, list[object]]:
        """A SQL condition and its parameters, true when the chunk whose rowid is the SQL
        expression ``rowid`` belongs to one of ``doc_ids``: how the keyword index, which knows
        chunks by rowid only, limits a search to documents without naming this catalog's
        tables. The ids travel as one JSON parameter: the read path never writes (a TEMP table
        filled here opened a transaction that froze the reader's view)."""
        return (
            f"(SELECT doc_id FROM chunks WHERE rowid = {rowid}) IN (SELECT value FROM json_each(?))",
            [json.dumps(doc_ids)],
        )

    def chunks_by_id(self, ids: Iterable[str]) -> dict[str, StoredChunk]:
        return self._chunks("id", list(ids))

    def chunks_by_rowid(self, rowids: Iterable[int]) -> dict[int, StoredChunk]:
        return {c.rowid: c for c in self._chunks("rowid", list(rowids)).values()}

    def _chunks(self, column: str, keys: list) -> dict[str, StoredChunk]:  # type: ignore[type-arg]
        out: dict[str, StoredChunk] = {}
        for part in _parts(keys):
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f'SELECT rowid, id, doc_id, start, "end", sentences, mentions FROM chunks WHERE {column} IN ({marks})',
                part,
            )
            for r in rows:
                sentences = tuple(tuple(s) for s in json.loads(r["sentences"]))
                mentions = (
                    None
                    if r["mentions"] is None
                    else tuple(tuple(m) for m in json.loads(r["mentions"]))
                )
                out[r["id"]] = StoredChunk(
                    r["rowid"], r["id"], r["doc_id"], r["start"], r["end"], sentences, mentions
                )
        return out

    # -- named entities (see entities.py) ---------------------------------------------
    def untagged(self) -> list[str]:
        """Ready documents with chunks whose named entities were never found."""
        rows = self.db.execute(
            "SELECT DISTINCT c.doc_id FROM chunks c JOIN documents d ON d.id = c.doc_id"
            " WHERE c.mentions IS NULL AND d.state = 'ready' ORDER BY c.doc_id"
        )
        return [r[0] for r in rows]

    def chunk_spans(self, doc_id: str) -> list[tuple[str, int, int]]:
        rows = self.db.execute(
            'SELECT id, start, "end" FROM chunks WHERE doc_id = ? ORDER BY idx', (doc_id,)
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def set_mentions(self, rows: Iterable[tuple[str, list[tuple[int, int, str]]]]) -> None:
        """(chunk id, its mentions) for chunks already written."""
        self.db.executemany(
            "UPDATE chunks SET mentions = ? WHERE id = ?",
            [(json.dumps(m), chunk) for chunk, m in rows],
        )

    # -- schema 1 -> 2 (see upgrade_from_1) ---------------------------------------------
    def _relabel(self, old_roots: set[str], meta: dict[str, str]) -> list[tuple[str, str, str]]:
        renamed: list[tuple[str, str, str]] = []
        with self.transaction():
            documents = self.db.execute("SELECT id, root FROM documents ORDER BY id").fetchall()
            for root in sorted(old_roots | {r[1] for r in documents}):
                self.label(root, folder=root in old_roots)
            labels = dict(self.db.execute("SELECT path, label FROM roots").fetchall())
            for doc_id, root in documents:
                new_id = f"{labels[root]}/{doc_id}"
                self.db.execute("UPDATE documents SET id = ? WHERE id = ?", (new_id, doc_id))
                for idx, old_chunk in self.db.execute(
                    "SELECT idx, id FROM chunks WHERE doc_id = ?", (doc_id,)
                ).fetchall():
                    renamed.append((old_chunk, chunk_id(new_id, idx), new_id))
                self.db.execute(
                    "UPDATE chunks SET doc_id = ?, id = ? || '::' || idx WHERE doc_id = ?",
                    (new_id, new_id, doc_id),
                )
            self.db.execute("DELETE FROM meta WHERE key = 'dimension'")  # written once, never read
            self.db.executemany(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", meta.items()
            )
        return renamed


# -- files: copies, swaps and upgrades from older schemas (see index.py, migrate.py) --------
def backup(source: Path, target: Path) -> None:
    """Copy the catalog at ``source`` to ``target`` as one consistent file, while other
    processes may be reading or writing it."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def checkpoint(path: Path) -> None:
    """Best effort: move what the WAL beside the catalog file at ``path`` holds into the file."""
    with contextlib.suppress(sqlite3.Error):
        db = sqlite3.connect(path, timeout=30)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()


def upgrade_in_place(path: Path) -> None:
    """Schema 2 or 3 -> ``SCHEMA_VERSION`` in one transaction on the live catalog at
    ``path``: from schema 2 on every step only adds columns."""
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        db.execute("BEGIN IMMEDIATE")
        _add_columns(db)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
        db.execute("COMMIT")
    finally:
        db.close()


def upgrade_from_1(path: Path, meta: dict[str, str]) -> list[tuple[str, str, str]]:
    """Schema 1 -> ``SCHEMA_VERSION`` on a copy of a catalog at ``path``: a killed run's
    leftovers go, roots gain labels, document ids their root's label and chunk ids follow;
    ``meta`` (the new manifest) replaces the old. The copy is left closed as one file.
    Returns (old chunk id, new chunk id, new doc id) for every chunk."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        old_roots = {r[0] for r in db.execute("SELECT path FROM roots")}
        db.execute("DELETE FROM documents WHERE state != 'ready'")  # a killed run's leftovers
        _add_columns(db)
        db.execute("DROP TABLE roots")
        db.execute(_ROOTS)
        db.execute("COMMIT")
    finally:
        db.close()
    catalog = Catalog(path)
    try:
        return catalog._relabel(old_roots, meta)
    finally:
        catalog.close_as_one_file()


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def _add_columns(db: sqlite3.Connection) -> None:
    """Columns later schemas added, NULL in the rows written before them: every in-place step."""
    if "line" not in _columns(db, "documents"):  # JSONL records' lines: filled when read again
        db.execute("ALTER TABLE documents ADD COLUMN line INTEGER")
    if "mentions" not in _columns(db, "chunks"):  # named entities: the indexer tags stored texts
        db.execute("ALTER TABLE chunks ADD COLUMN mentions TEXT")
    if "date_source" not in _columns(db, "documents"):  # schema 4: filled when read again
        db.execute("ALTER TABLE documents ADD COLUMN date_source TEXT")


def _parts(keys: list, size: int = 500) -> Iterator[list]:  # type: ignore[type-arg]
    """SQLite limits the number of bound parameters per statement."""
    for i in range(0, len(keys), size):
        yield keys[i : i + size]


def _where(filters: Filters) -> tuple[str, list[str]]:
    sql = "state = 'ready'"
    args: list[str] = []
    if filters.source:
        source = filters.source
        op = "GLOB" if any(c in source for c in "*?[") else "LIKE"
        pattern = source if op == "GLOB" else f"%{source}%"
        sql += f" AND (id {op} ? OR coalesce(source, '') {op} ? OR coalesce(title, '') {op} ?)"
        args += [pattern] * 3
    for bound, op in ((filters.since, ">="), (filters.until, "<=")):
        if bound:
            sql += f" AND date IS NOT NULL AND substr(date, 1, ?) {op} ?"
            args += [str(len(bound)), bound]
    if filters.as_of:
        sql += " AND (date IS NULL OR substr(date, 1, ?) <= ?)"
        args += [str(len(filters.as_of)), filters.as_of]
    return sql, args
