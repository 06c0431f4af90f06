"""The indexer over worker processes: a file that hangs, crashes its reader or exhausts its
memory costs only itself, and workers change nothing in what is indexed."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant import Library
from assistant.catalog import FILENAME, Catalog
from assistant.embed import HashEmbedder
from assistant.index import Manifest
from assistant.indexer import Indexer, ReadLimits
from assistant.store import VectorStore

from ._faulty_reader import FaultyReader
from .conftest import SEEDS


def test_a_hang_a_crash_and_a_memory_blowup_each_cost_only_their_file(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n, name in enumerate(["a", "hang", "b", "segv", "c", "memory", "d"]):
        (folder / f"{name}.txt").write_text(
            f"Title {n}\n\nThe convoy number {n} left Tartus at dawn.\n", encoding="utf-8"
        )
    index = tmp_path / "index"
    index.mkdir()
    catalog = Catalog(index / FILENAME)
    catalog.set_meta(Manifest.new("hash-64", None).to_meta())
    store = VectorStore(index / "chroma")
    embedder = HashEmbedder()
    limits = ReadLimits(jobs=2, timeout_s=10, max_memory_mb=1024)
    indexer = Indexer(
        catalog,
        lambda: store,
        lambda: embedder,
        max_bytes=10**6,
        limits=limits,
        reader=FaultyReader,
    )
    report = indexer.run([folder])
    assert sorted(report.added) == ["in/a.txt", "in/b.txt", "in/c.txt", "in/d.txt"]
    reasons = {Path(s.path).stem: s.reason for s in report.skipped}
    assert reasons == {
        "hang": "took longer than 10 s to read",
        "segv": "the reader crashed (SIGSEGV)",
        "memory": "ran out of memory",
    }
    assert store.count() == catalog.count_chunks() == 4
    store.close()
    catalog.close()


def _snapshot(index: Path) -> tuple[object, ...]:
    with Library(index, embedder=HashEmbedder()) as lib:
        docs = [(d.id, d.sha256, d.chunks, d.title, d.date) for d in lib.documents()]
        chunks = list(
            lib.catalog.db.execute(
                'SELECT id, doc_id, start, "end", sentences FROM chunks ORDER BY id'
            )
        )
        answer = lib.ask("Which bases did Russia keep?")
        return (
            docs,
            [tuple(c) for c in chunks],
            [(q.document, q.start, q.end) for q in answer.quotes],
        )


def test_an_index_built_with_workers_equals_one_built_in_one(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    built = {}
    for jobs in (1, 2):
        index = tmp_path / f"index-{jobs}"
        with Library(index, embedder=HashEmbedder()) as lib:
            lib.add([articles], limits=ReadLimits(jobs=jobs))
        built[jobs] = _snapshot(index)
    assert built[1] == built[2]


def test_a_large_file_gets_time_to_tag_its_names() -> None:
    """SciFact's 8 MB JSONL took longer than 60 s to read once named entities were tagged,
    and was skipped: the limit grows with the text to tag, and only when it is tagged."""
    from assistant.indexer import read_limit

    assert read_limit(None, 8_000_000, tagging=True) == 60 + 400
    assert read_limit(None, 8_000_000, tagging=False) == read_limit(None, 0, tagging=True) == 60
    assert read_limit(5, 100_000, tagging=True) == 10
