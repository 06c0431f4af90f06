"""The catalog: one SQLite file beside the vector store holding what was built how
(meta), which folders were indexed (roots), every document with its text, every
chunk's offsets, and the keyword index (see ``lexical.py``).

Crash safety rests on one rule: a document is marked ``pending`` in a committed
transaction *before* its vectors are written to Chroma, and marked ``ready`` (with its
chunk rows and keyword rows) in one transaction *after*. Whatever instant a process is
killed at, every vector in Chroma that the catalog does not list as ready belongs to
a pending document, and ``pending()`` tells the next run exactly what to clean up.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import lexical
from .errors import IndexCorrupt
from .types import Chunk, Document, DocumentInfo

SCHEMA_VERSION = 1
FILENAME = "catalog.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roots(path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS documents(
    id TEXT PRIMARY KEY, root TEXT NOT NULL, path TEXT NOT NULL, format TEXT NOT NULL,
    title TEXT, date TEXT, source TEXT, url TEXT, author TEXT,
    sha256 TEXT NOT NULL, signature TEXT NOT NULL, pages TEXT NOT NULL, text TEXT NOT NULL,
    state TEXT NOT NULL, chunks INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS documents_path ON documents(path);
CREATE TABLE IF NOT EXISTS chunks(
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL, idx INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, sentences TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""

_DOC_COLUMNS = "id, path, format, title, date, source, url, author, sha256, chunks, pages"


@dataclass(frozen=True)
class StoredChunk:
    rowid: int
    id: str
    doc_id: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]


def chunk_id(doc_id: str, index: int) -> str:
    return f"{doc_id}::{index}"


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
    header_valid = header[24:28] == header[92:96]  # the page count is current (SQLite file format §1.3.7)
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
    def __init__(self, index_dir: Path, *, readonly: bool = False):
        path = index_dir / FILENAME
        problem = _lasting_damage(path) if path.exists() else None
        if problem:
            raise IndexCorrupt(f"the catalog {path} {problem}; {_REBUILD}")
        self._counts: dict[tuple[object, ...], int] = {}
        try:
            uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
            self.db = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            if not readonly:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                with self.db:
                    self.db.executescript(_SCHEMA)
                    lexical.create(self.db)
            problem = self._inconsistency(path)
        except sqlite3.DatabaseError as exc:
            raise IndexCorrupt(f"the catalog {path} is damaged ({exc}); {_REBUILD}") from exc
        if problem:
            self.db.close()
            raise IndexCorrupt(f"the catalog {path} {problem}; {_REBUILD}")

    def _inconsistency(self, path: Path) -> str | None:
        """Checks cheap enough for every open: SQLite's own page check on small files,
        then the invariants the pending/ready protocol keeps in every committed state."""
        if path.exists() and path.stat().st_size <= QUICK_CHECK_BYTES:
            result = self.db.execute("PRAGMA quick_check(1)").fetchone()[0]
            if result != "ok":
                return f"is damaged ({result})"
        listed, rows, keyword = self.db.execute(
            "SELECT (SELECT coalesce(sum(chunks), 0) FROM documents WHERE state = 'ready'),"
            " (SELECT count(*) FROM chunks), (SELECT count(*) FROM chunks_fts)"
        ).fetchone()
        if listed != rows:
            return f"lists {listed} chunks for its documents but holds {rows}"
        if keyword != rows:
            return f"holds {rows} chunks but {keyword} in its keyword index"
        return None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.db:
            yield self.db

    # -- meta ---------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.db.execute("SELECT key, value FROM meta")}

    def set_meta(self, values: dict[str, str]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", values.items()
            )

    # -- roots --------------------------------------------------------------
    def roots(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT path FROM roots ORDER BY path")]

    def add_root(self, root: str) -> None:
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO roots(path) VALUES (?)", (root,))

    # -- documents ----------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        rows = self.db.execute(
            f"SELECT {_DOC_COLUMNS} FROM documents WHERE state = 'ready' ORDER BY id"
        )
        return [_info(r) for r in rows]

    def document(self, doc_id: str) -> DocumentInfo | None:
        row = self.db.execute(
            f"SELECT {_DOC_COLUMNS} FROM documents WHERE id = ? AND state = 'ready'", (doc_id,)
        ).fetchone()
        return _info(row) if row else None

    def infos(self, doc_ids: Iterable[str]) -> dict[str, DocumentInfo]:
        ids = list(set(doc_ids))
        found: dict[str, DocumentInfo] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT {_DOC_COLUMNS} FROM documents WHERE id IN ({marks})", part
            )
            found.update((r["id"], _info(r)) for r in rows)
        return found

    def text(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
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

    def version(self) -> int:
        """Changes whenever another connection (another process) commits to the catalog."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def count_chunks(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def has_chunks(self) -> bool:
        # Not count_chunks() != 0: counting visits every row, and this runs per question.
        return self.db.execute("SELECT EXISTS (SELECT 1 FROM chunks)").fetchone()[0] == 1

    def changes(self) -> tuple[int, int]:
        """Differs after any commit, this connection's (total_changes) or another's."""
        return self.version(), self.db.total_changes

    def doc_ids(self, *, source: str | None, since: str | None, until: str | None) -> list[str]:
        """Ready documents passing the filters. ``source`` matches the source field or the
        document id (case-insensitive substring or glob); dates compare as ISO strings."""
        sql, args = self._where(source, since, until)
        return [r[0] for r in self.db.execute(f"SELECT id FROM documents WHERE {sql}", args)]

    def count_docs(self, *, source: str | None, since: str | None, until: str | None) -> int:
        """How many documents ``doc_ids`` would list, memoised until the catalog changes:
        the count reads every document row (the list it replaced took ~17 ms per question on
        SciFact's 5k abstracts), too slow to repeat per question on a large index."""
        key = (self.changes(), source, since, until)
        if key not in self._counts:
            if len(self._counts) > 64:
                self._counts.clear()
            sql, args = self._where(source, since, until)
            self._counts[key] = int(self.db.execute(f"SELECT count(*) FROM documents WHERE {sql}", args).fetchone()[0])
        return self._counts[key]

    @staticmethod
    def _where(source: str | None, since: str | None, until: str | None) -> tuple[str, list[str]]:
        sql = "state = 'ready'"
        args: list[str] = []
        if source:
            op = "GLOB" if any(c in source for c in "*?[") else "LIKE"
            pattern = source if op == "GLOB" else f"%{source}%"
            sql += f" AND (id {op} ? OR coalesce(source, '') {op} ? OR coalesce(title, '') {op} ?)"
            args += [pattern] * 3
        if since:
            sql += " AND date IS NOT NULL AND substr(date, 1, ?) >= ?"
            args += [str(len(since)), since]
        if until:
            sql += " AND date IS NOT NULL AND substr(date, 1, ?) <= ?"
            args += [str(len(until)), until]
        return sql, args

    def retire(self, doc_id: str) -> None:
        """Take a document out of search: its keyword terms and chunk rows go, and the
        row stays behind as a ``pending`` tombstone until its vectors are deleted too."""
        row = self.db.execute("SELECT text, state FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return
        if row["state"] == "ready":
            lexical.remove_terms(self.db, row["text"])
        self._drop_chunks(doc_id)
        self.db.execute("UPDATE documents SET state = 'pending', chunks = 0 WHERE id = ?", (doc_id,))

    def drop(self, doc_id: str) -> None:
        self._drop_chunks(doc_id)
        self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def mark_pending(self, doc: Document, root: str, signature: str) -> None:
        """Step 1 of a write: record the intent before touching the vector store."""
        self.retire(doc.id)
        self.db.execute(
            "INSERT OR REPLACE INTO documents(id, root, path, format, title, date, source, url,"
            " author, sha256, signature, pages, text, state, chunks)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?, 'pending', 0)",
            (
                doc.id, root, doc.path, doc.format, doc.title, doc.date, doc.source, doc.url,
                doc.author, doc.sha256, signature, json.dumps(list(doc.pages)), doc.text,
            ),
        )

    def finish(self, doc: Document, chunks: list[Chunk]) -> None:
        """Step 3 of a write: chunk rows and keyword rows in, document ready."""
        for c in chunks:
            cur = self.db.execute(
                'INSERT INTO chunks(id, doc_id, idx, start, "end", sentences) VALUES (?,?,?,?,?,?)',
                (chunk_id(doc.id, c.index), doc.id, c.index, c.start, c.end, json.dumps(c.sentences)),
            )
            lexical.add_chunk(self.db, int(cur.lastrowid or 0), doc.title or "", c.text)
        lexical.add_terms(self.db, doc.text)
        self.db.execute(
            "UPDATE documents SET state = 'ready', chunks = ? WHERE id = ?", (len(chunks), doc.id)
        )

    def _drop_chunks(self, doc_id: str) -> None:
        rows = self.db.execute("SELECT rowid FROM chunks WHERE doc_id = ?", (doc_id,)).fetchall()
        lexical.remove_chunks(self.db, [r[0] for r in rows])
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))

    # -- chunks -------------------------------------------------------------
    def chunks_by_id(self, ids: Iterable[str]) -> dict[str, StoredChunk]:
        return self._chunks("id", list(ids))

    def chunks_by_rowid(self, rowids: Iterable[int]) -> dict[int, StoredChunk]:
        return {c.rowid: c for c in self._chunks("rowid", list(rowids)).values()}

    def _chunks(self, column: str, keys: list) -> dict[str, StoredChunk]:  # type: ignore[type-arg]
        out: dict[str, StoredChunk] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f'SELECT rowid, id, doc_id, start, "end", sentences FROM chunks WHERE {column} IN ({marks})',
                part,
            )
            for r in rows:
                sentences = tuple(tuple(s) for s in json.loads(r["sentences"]))
                out[r["id"]] = StoredChunk(r["rowid"], r["id"], r["doc_id"], r["start"], r["end"], sentences)  # type: ignore[arg-type]
        return out

    def chunk_ids_of(self, doc_id: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE doc_id = ? ORDER BY idx", (doc_id,))]
