"""The index folder's life: how it was built (``Manifest``), and ``Index``, which owns
opening, verifying, creating, migrating, rebuilding-by-swap and locking it.

Layout of an index folder::

    catalog.sqlite3    the catalog (see catalog.py); its meta table holds the Manifest
    chroma/            embedded Chroma vectors; a rebuilt or migrated index uses chroma-<hex>/,
                       the folder its Manifest names
    write.lock         held (flock) by the one process writing
    .build-<hex>/      a rebuild or migration in progress, swapped in only when complete

Why a swap: a rebuild or a migration writes a complete new catalog and vector folder
beside the live ones, then replaces the catalog file in one rename. Until that rename
the old index answers and is untouched; after it, the new one does. A failure anywhere
(a model that cannot load, a server that is down, Ctrl-C) leaves the old index as it
was, and the next writer throws the half-built parts away. Readers notice the replaced
catalog file (``Library.refresh``) and reopen everything.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import chunk as chunking
from .catalog import FILENAME, SCHEMA_VERSION, Catalog, checkpoint
from .errors import AssistantError, IndexCorrupt, IndexLocked, IndexMismatch, IndexNotFound

if TYPE_CHECKING:
    from .store import VectorStore

LOCKFILE = "write.lock"
DEFAULT_VECTORS = "chroma"
DEFAULT_COLLECTION = "chunks"
_BUILD_PREFIX = ".build-"
_REBUILD = "rebuild it with `assistant index --rebuild PATH`"


def chunking_params() -> str:
    return json.dumps(
        {
            "max_tokens": chunking.MAX_TOKENS,
            "overlap": chunking.OVERLAP_SENTENCES,
            "title_tokens": chunking.TITLE_TOKENS,
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class Manifest:
    """How an index was built: recorded in the catalog when it is made, checked on every open."""

    schema: int
    model: str
    chunking: str  # JSON of the chunker's parameters
    collection: str = DEFAULT_COLLECTION
    vectors: str = DEFAULT_VECTORS  # the folder of embedded vectors, in the index folder
    chroma_url: str | None = None  # the server holding the vectors, when there is one

    @property
    def server(self) -> bool:
        """Whether the vectors live in a Chroma server (a server index has its own collection)."""
        return bool(self.chroma_url) or self.collection != DEFAULT_COLLECTION

    @classmethod
    def new(cls, model: str, chroma_url: str | None, *, replacing: bool = False) -> Manifest:
        """A new index's manifest. One that will replace another (a rebuild, a migration) gets
        a vector folder of its own, so both can exist until the swap."""
        tag = uuid.uuid4().hex[:12]
        if chroma_url:
            return cls(
                SCHEMA_VERSION,
                model,
                chunking_params(),
                f"assistant-{tag}",
                DEFAULT_VECTORS,
                chroma_url,
            )
        vectors = f"{DEFAULT_VECTORS}-{tag}" if replacing else DEFAULT_VECTORS
        return cls(SCHEMA_VERSION, model, chunking_params(), vectors=vectors)

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> Manifest | None:
        if not meta:
            return None
        try:
            schema = int(meta.get("schema", "0"))
        except ValueError:
            schema = 0
        return cls(
            schema=schema,
            model=meta.get("model", ""),
            chunking=meta.get("chunking", ""),
            collection=meta.get("collection", DEFAULT_COLLECTION),
            vectors=meta.get("vectors", DEFAULT_VECTORS),
            chroma_url=meta.get("chroma_url") or None,
        )

    def to_meta(self) -> dict[str, str]:
        meta = {
            "schema": str(self.schema),
            "model": self.model,
            "chunking": self.chunking,
            "collection": self.collection,
            "vectors": self.vectors,
        }
        if self.chroma_url:
            meta["chroma_url"] = self.chroma_url
        return meta


class Index:
    """One index folder on disk. Holds no open handles itself: it opens catalogs and stores
    for the ``Library``, and runs the operations that replace them."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.catalog_path = folder / FILENAME

    def exists(self) -> bool:
        return self.catalog_path.exists()

    def file_id(self) -> tuple[int, int] | None:
        """Identifies the catalog file: it changes when a rebuild swaps in a new one."""
        try:
            st = self.catalog_path.stat()
        except OSError:
            return None
        return st.st_dev, st.st_ino

    # -- opening ------------------------------------------------------------------
    def open_reader(self) -> tuple[Catalog, Manifest | None]:
        if not self.exists():
            if any(self.folder.glob(f"{DEFAULT_VECTORS}*")):
                raise IndexCorrupt(
                    f"the catalog {self.catalog_path} is missing but vectors are still there; "
                    "rebuild the index with `assistant index --rebuild PATH`"
                )
            raise IndexNotFound(f"no index at {self.folder}; build one with `assistant index PATH`")
        catalog = Catalog(self.catalog_path, readonly=True)
        try:
            manifest = self._manifest(catalog)
            if manifest is not None and manifest.schema != SCHEMA_VERSION:
                raise IndexMismatch(self._version_message(manifest))
        except BaseException:
            catalog.close()
            raise
        return catalog, manifest

    def _version_message(self, manifest: Manifest) -> str:
        if manifest.schema < SCHEMA_VERSION and manifest.schema in MIGRATIONS:
            return (
                f"the index at {self.folder} was built by an older version of assistant; "
                "`assistant index` upgrades it in place (nothing is embedded again)"
            )
        return f"the index at {self.folder} was built by another version of assistant; {_REBUILD}"

    def _manifest(self, catalog: Catalog) -> Manifest | None:
        manifest = Manifest.from_meta(catalog.meta())
        if manifest is None and catalog.has_documents():
            raise IndexCorrupt(
                f"the catalog in {self.folder} has documents but no record of how they were "
                f"indexed; {_REBUILD}"
            )
        return manifest

    def check(
        self, manifest: Manifest | None, *, model: str | None, chroma_url: str | None
    ) -> None:
        """Refuse to use an index with another model, chunking or kind of store than asked."""
        if manifest is None:
            return
        if chroma_url and not manifest.server:
            raise IndexMismatch(
                f"the index at {self.folder} keeps its vectors in its own folder, not in a Chroma "
                f"server; rebuild it with `assistant index --rebuild PATH --chroma-url {chroma_url}` "
                "or use another --index"
            )
        if model and manifest.model and model != manifest.model:
            raise IndexMismatch(
                f"the index at {self.folder} was built with the model {manifest.model}, not {model}; "
                f"rebuild it with `assistant index --rebuild PATH --model {model}` or use another --index"
            )
        if manifest.chunking != chunking_params():
            raise IndexMismatch(
                f"the index at {self.folder} was built by another version of assistant; {_REBUILD}"
            )

    def open_store(
        self, manifest: Manifest, url: str | None, catalog: Catalog, *, new: bool = False
    ) -> VectorStore:
        from .store import VectorStore

        if not url and manifest.server:
            raise IndexMismatch(
                f"the index at {self.folder} keeps its vectors in a Chroma server; "
                "give its URL with --chroma-url or $ASSISTANT_CHROMA_URL"
            )
        folder = self.folder / manifest.vectors
        if not url and not new and catalog.has_chunks() and not folder.is_dir():
            raise IndexCorrupt(
                f"the vector store {folder} is missing but the catalog lists {catalog.count_chunks()} "
                f"chunks; {_REBUILD}"
            )
        return VectorStore(folder, collection=manifest.collection, url=url)

    def verify(self, catalog: Catalog, store: VectorStore) -> int:
        """Every committed state of the pending/ready protocol with nothing pending has one
        vector per catalog chunk. The counts are compared only when no other process
        committed meanwhile (the catalog's data version did not move). Returns that version."""
        before = catalog.version()
        pending, chunks = catalog.pending(), catalog.count_chunks()
        held = store.count()
        after = catalog.version()
        if pending or before != after or held == chunks:
            return after
        where = f"the Chroma server at {store.url}" if store.url else "the vector store"
        raise IndexCorrupt(
            f"the catalog in {self.folder} lists {chunks} chunks but {where} holds {held}; {_REBUILD}"
        )

    # -- writing ------------------------------------------------------------------
    @contextmanager
    def lock(self, on_wait: Callable[[str], None] | None) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / LOCKFILE, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is None:
                    raise IndexLocked(
                        f"another process is writing to the index at {self.folder}"
                    ) from None
                on_wait(f"waiting for another process writing to the index at {self.folder} ...")
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def open_writer(self, new: Callable[[], Manifest]) -> tuple[Catalog, Manifest]:
        """The writable catalog (made, with ``new()``'s manifest, when there is none). Call
        with the lock held. Leftovers of killed rebuilds are thrown away first."""
        created = not self.exists()
        catalog = Catalog(self.catalog_path)
        try:
            manifest = self._manifest(catalog)
            if manifest is None:
                manifest = new()
                catalog.set_meta(manifest.to_meta())
            self._clean_leftovers(manifest, fresh=created)
        except BaseException:
            catalog.close()
            raise
        return catalog, manifest

    def _clean_leftovers(self, manifest: Manifest, *, fresh: bool) -> None:
        """Half-built rebuilds, and vector folders the manifest does not name (a new
        catalog starts with no vectors: any left in the folder belonged to a lost one)."""
        for path in self.folder.glob(f"{_BUILD_PREFIX}*"):
            shutil.rmtree(path, ignore_errors=True)
        for path in self.folder.glob(f"{DEFAULT_VECTORS}*"):
            if path.is_dir() and (path.name != manifest.vectors or (fresh and not manifest.server)):
                shutil.rmtree(path, ignore_errors=True)

    def build_folder(self) -> Path:
        path = self.folder / f"{_BUILD_PREFIX}{uuid.uuid4().hex[:12]}"
        path.mkdir(parents=True)
        return path

    def swap_in(self, built: Path, old: Manifest | None) -> None:
        """Make the complete catalog ``built`` the index's (one rename), then drop what the
        old one used. The new catalog was closed as the last connection, so it has no WAL of
        its own; the old catalog's WAL is checkpointed into it first and then removed, so no
        connection opened after the rename can read the old WAL's frames as the new file's."""
        if self.exists():
            checkpoint(self.catalog_path)
        os.replace(built, self.catalog_path)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.catalog_path}{suffix}")
        self.discard(old)

    def discard(self, manifest: Manifest | None) -> None:
        """Best effort: the vectors of a catalog no longer in use."""
        if manifest is None:
            return
        if manifest.server and manifest.chroma_url:
            from .store import drop_collection

            drop_collection(manifest.chroma_url, manifest.collection)
        elif not manifest.server:
            shutil.rmtree(self.folder / manifest.vectors, ignore_errors=True)

    def read_old(self) -> tuple[list[str], Manifest | None]:
        """The folders and manifest of the index as it is, or nothing when it is too damaged to say."""
        if not self.exists():
            return [], None
        try:
            catalog = Catalog(self.catalog_path, readonly=True)
        except AssistantError:
            return [], None
        try:
            return catalog.roots(), Manifest.from_meta(catalog.meta())
        except sqlite3.Error:
            return [], None
        finally:
            catalog.close()


def close_for_swap(catalog: Catalog) -> None:
    """Close a freshly built catalog so that it is one self-contained file."""
    catalog.close_as_one_file()


# Schema versions that ``Library`` can migrate in place (see ``migrate.py``).
MIGRATIONS = frozenset({1, 2, 3})
