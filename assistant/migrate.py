"""In-place upgrades of indexes built by older versions: nothing is embedded again.

A migration writes an upgraded copy of the catalog and of the vectors beside the live
index and swaps it in (``Index.swap_in``), like a rebuild: a failure or Ctrl-C at any
point leaves the old index answering as before.

1 -> 2: document ids gain their folder's label ("a.txt" -> "seeds/a.txt"), so two
folders holding the same relative path no longer collide. Chunk ids and the vectors'
document field follow, so the vectors are copied under their new ids.

2 -> 3: chunks gain a column for their named entities (``entities.py``); it holds NULL
until the indexer, in the same ``assistant index``, tags the stored texts.

3 -> 4: documents gain where their date came from (``Document.date_source``); NULL in the
rows written before, until their file is read again (nothing forces that).

From schema 2 on every step only adds columns, so all of them run at once, in one SQLite
transaction on the live catalog (all or nothing, like the swap): 2 -> 4 as well as 3 -> 4.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from .catalog import FILENAME, SCHEMA_VERSION, Catalog, chunk_id
from .index import MIGRATIONS, Index, Manifest, close_for_swap

# What each step gives, by the schema it starts from (for the note to the user).
_STEPS = {
    1: "document ids gain their folder's label",
    2: "its articles' named entities are found now, from the stored text",
    3: "documents' dates say where they came from once their files are read again",
}
_FIRST_IN_PLACE = 2  # from here on a step only adds columns (``_add_columns``)


def outdated(index: Index) -> Manifest | None:
    """The manifest of ``index`` when it is of an older schema this version can upgrade."""
    _, old = index.read_old()
    if old is None or old.schema == SCHEMA_VERSION or old.schema not in MIGRATIONS:
        return None
    return old


def migrate(
    index: Index,
    old: Manifest,
    chroma_url: str | None = None,
    note: Callable[[str], None] | None = None,
) -> None:
    """Upgrade ``index`` from ``old`` (``outdated``'s). Call with the write lock held and every
    connection to it closed. ``chroma_url``: the server its vectors are on, when not the one its
    manifest names; ``note``: told what is upgraded."""
    if note is not None:
        steps = "; ".join(_STEPS[s] for s in range(old.schema, SCHEMA_VERSION) if s in _STEPS)
        note(
            f"upgrading the index from schema {old.schema} to {SCHEMA_VERSION}: {steps} "
            "(nothing is embedded again)"
        )
    if old.schema >= _FIRST_IN_PLACE:
        _add_in_place(index.catalog_path)
        return
    build = index.build_folder()
    new = Manifest.new(old.model, old.chroma_url, replacing=True)
    target = build / FILENAME
    try:
        _copy(index.catalog_path, target)
        renamed = _relabel(target, new)
        _copy_vectors(index, chroma_url or old.chroma_url, old, new, renamed, target)
        index.swap_in(target, old)
    except BaseException:
        index.discard(new)
        raise
    finally:
        import shutil

        shutil.rmtree(build, ignore_errors=True)


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _relabel(path: Path, manifest: Manifest) -> list[tuple[str, str, str]]:
    """Schema 1 -> 2 on the copy at ``path``; returns (old chunk id, new chunk id, new doc id)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        old_roots = {r[0] for r in db.execute("SELECT path FROM roots")}
        db.execute("DELETE FROM documents WHERE state != 'ready'")  # a killed run's leftovers
        _add_columns(db)
        db.execute("DROP TABLE roots")
        db.execute(
            "CREATE TABLE roots(path TEXT PRIMARY KEY, label TEXT UNIQUE NOT NULL, folder INTEGER NOT NULL DEFAULT 0)"
        )
        db.execute("COMMIT")
    finally:
        db.close()
    catalog = Catalog(path)
    try:
        return _rename(catalog, old_roots, manifest)
    finally:
        close_for_swap(catalog)


def _add_columns(db: sqlite3.Connection) -> None:
    """Columns later schemas added, NULL in the rows written before them: every in-place step."""

    def columns(table: str) -> set[str]:
        return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}

    if "line" not in columns(
        "documents"
    ):  # JSONL records' file lines: filled when a file is read again
        db.execute("ALTER TABLE documents ADD COLUMN line INTEGER")
    if "mentions" not in columns("chunks"):  # named entities: the indexer tags the stored texts
        db.execute("ALTER TABLE chunks ADD COLUMN mentions TEXT")
    if "date_source" not in columns("documents"):  # schema 4: filled when a file is read again
        db.execute("ALTER TABLE documents ADD COLUMN date_source TEXT")


def _add_in_place(path: Path) -> None:
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        db.execute("BEGIN IMMEDIATE")
        _add_columns(db)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
        db.execute("COMMIT")
    finally:
        db.close()


def _rename(
    catalog: Catalog, old_roots: set[str], manifest: Manifest
) -> list[tuple[str, str, str]]:
    db = catalog.db
    renamed: list[tuple[str, str, str]] = []
    with catalog.transaction():
        documents = db.execute("SELECT id, root FROM documents ORDER BY id").fetchall()
        for root in sorted(old_roots | {r[1] for r in documents}):
            catalog.label(root, folder=root in old_roots)
        labels = dict(db.execute("SELECT path, label FROM roots").fetchall())
        for doc_id, root in documents:
            new_id = f"{labels[root]}/{doc_id}"
            db.execute("UPDATE documents SET id = ? WHERE id = ?", (new_id, doc_id))
            for idx, old_chunk in db.execute(
                "SELECT idx, id FROM chunks WHERE doc_id = ?", (doc_id,)
            ).fetchall():
                renamed.append((old_chunk, chunk_id(new_id, idx), new_id))
            db.execute(
                "UPDATE chunks SET doc_id = ?, id = ? || '::' || idx WHERE doc_id = ?",
                (new_id, new_id, doc_id),
            )
        meta = {**manifest.to_meta()}
        db.execute("DELETE FROM meta WHERE key = 'dimension'")  # written once, never read
        db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", meta.items())
    return renamed


def _copy_vectors(
    index: Index,
    url: str | None,
    old: Manifest,
    new: Manifest,
    renamed: list[tuple[str, str, str]],
    target: Path,
) -> None:
    if not renamed:
        return
    catalog = Catalog(target, readonly=True)
    try:
        source = index.open_store(old, url, catalog)
        destination = index.open_store(new, url, catalog, new=True)
        try:
            destination.copy_from(source, renamed)
        finally:
            source.close()
            destination.close()
    finally:
        catalog.close()
