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

from collections.abc import Callable
from pathlib import Path

from .catalog import (
    FILENAME,
    SCHEMA_VERSION,
    Catalog,
    backup,
    upgrade_from_1,
    upgrade_in_place,
)
from .index import MIGRATIONS, Index, Manifest

# What each step gives, by the schema it starts from (for the note to the user).
_STEPS = {
    1: "document ids gain their folder's label",
    2: "its articles' named entities are found now, from the stored text",
    3: "documents' dates say where they came from once their files are read again",
}
_FIRST_IN_PLACE = 2  # from here on a step only adds columns (``catalog.upgrade_in_place``)


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
        upgrade_in_place(index.catalog_path)
        return
    build = index.build_folder()
    new = Manifest.new(old.model, old.chroma_url, replacing=True)
    target = build / FILENAME
    try:
        backup(index.catalog_path, target)
        renamed = upgrade_from_1(target, new.to_meta())
        _copy_vectors(index, chroma_url or old.chroma_url, old, new, renamed, target)
        index.swap_in(target, old)
    except BaseException:
        index.discard(new)
        raise
    finally:
        import shutil

        shutil.rmtree(build, ignore_errors=True)


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
