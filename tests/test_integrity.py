"""The index keeps what it has: ids that cannot collide, readers that follow writers,
rebuilds and migrations that swap in only when complete, failures that keep the last
good version. Plumbing tests use the deterministic fake embedder; the rest the real model."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from assistant import Library
from assistant.catalog import FILENAME, SCHEMA_VERSION
from assistant.chunk import _runs
from assistant.embed import HashEmbedder
from assistant.errors import AssistantError, IndexNotFound, UsageError
from assistant.index import Manifest
from assistant.store import VectorStore

from .conftest import SEEDS, run_cli


def fake(index: Path) -> Library:
    return Library(index, embedder=HashEmbedder())


def note(folder: Path, text: str, name: str = "notes.txt") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"Notes\n\n{text}\n", encoding="utf-8")
    return folder


def test_the_same_relative_path_in_two_folders_is_two_documents(tmp_path: Path) -> None:
    x = note(tmp_path / "x", "The icebreaker Yamal docked at Tartus.")
    y = note(tmp_path / "y", "A convoy left Latakia at dawn.")
    with fake(tmp_path / "index") as lib:
        report = lib.add([x, y])
        assert sorted(report.added) == ["x/notes.txt", "y/notes.txt"]
        assert {d.id for d in lib.documents()} == {"x/notes.txt", "y/notes.txt"}
        assert lib.store.count() == lib.catalog.count_chunks() == 2
        again = lib.add([x, y])
        assert again.chunks == 0 and sorted(again.unchanged) == ["x/notes.txt", "y/notes.txt"]


def test_folders_of_the_same_name_get_distinct_stable_labels(tmp_path: Path) -> None:
    folders = [
        note(tmp_path / p / "articles", f"Article number {n} about Tartus.")
        for n, p in enumerate("abc")
    ]
    with fake(tmp_path / "index") as lib:
        for folder in folders:
            assert len(lib.add([folder]).added) == 1
        ids = [d.id for d in lib.documents()]
        assert ids == ["articles-2/notes.txt", "articles-3/notes.txt", "articles/notes.txt"]
        texts = {lib.text(i) for i in ids}
        assert len(texts) == 3  # no file replaced another's document
        for folder in folders:  # the same labels on every later run, and nothing embedded again
            again = lib.add([folder])
            assert again.chunks == 0 and len(again.unchanged) == 1 and not again.added
        assert [d.id for d in lib.documents()] == ids


def test_a_filtered_search_leaves_the_reader_following_writers(tmp_path: Path) -> None:
    folder = note(tmp_path / "articles", "The icebreaker Yamal docked at Tartus.")
    index = tmp_path / "index"
    with fake(index) as writer:
        writer.add([folder])
    reader = fake(index)
    try:
        assert reader.search("icebreaker", k=3, source="notes")
        assert not reader.catalog.db.in_transaction  # nothing left open by the filtered search
        note(folder, "A second icebreaker, the Taymyr, reached Latakia.", "more.txt")
        with fake(index) as writer:
            writer.add([folder])
        hits = reader.search("Taymyr Latakia", k=3, source="more")
        assert [h.document.id for h in hits] == ["articles/more.txt"]
    finally:
        reader.close()


def test_a_failed_rebuild_leaves_the_index_as_it_was(seeds_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(seeds_index, index)
    refused = run_cli(
        "index",
        "--rebuild",
        str(SEEDS),
        "--model",
        str(tmp_path / "no-such-model"),
        "--index",
        str(index),
    )
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    with Library(index) as lib:
        assert len(lib.documents()) == 5
        assert lib.ask("Which bases did Russia keep?").answered
        assert lib.add([SEEDS]).chunks == 0  # still bound to its own model: nothing to embed
    assert not list(index.glob(".build-*"))


def test_a_rebuild_interrupted_half_way_leaves_the_old_index_answering(tmp_path: Path) -> None:
    folder = note(tmp_path / "articles", "The icebreaker Yamal docked at Tartus.")
    index = tmp_path / "index"
    with fake(index) as lib:
        lib.add([folder])

    def interrupt(progress: object) -> None:
        raise KeyboardInterrupt

    with fake(index) as lib, pytest.raises(KeyboardInterrupt):
        lib.rebuild([folder], progress=interrupt)
    with fake(index) as lib:
        assert [h.document.id for h in lib.search("icebreaker", k=1)] == ["articles/notes.txt"]
        assert lib.store.count() == lib.catalog.count_chunks() == 1
    with fake(index) as lib:  # and the next writer throws away what was half built
        lib.add([folder])
    assert not list(index.glob(".build-*"))
    assert sorted(p.name for p in index.iterdir() if p.name.startswith("chroma")) == ["chroma"]


def test_a_rebuild_swaps_in_a_complete_index(tmp_path: Path) -> None:
    folder = note(tmp_path / "articles", "The icebreaker Yamal docked at Tartus.")
    index = tmp_path / "index"
    with fake(index) as lib:
        lib.add([folder])
        reader = fake(index)
        assert reader.search("icebreaker", k=1)
        report = lib.rebuild([])
        assert report.added == ["articles/notes.txt"]
        # A reader opened before the swap follows it.
        assert [h.document.id for h in reader.search("icebreaker", k=1)] == ["articles/notes.txt"]
        reader.close()
    vectors = [p.name for p in index.iterdir() if p.name.startswith("chroma")]
    assert len(vectors) == 1 and vectors[0].startswith("chroma-")


def test_a_file_that_fails_to_read_keeps_its_last_good_version(tmp_path: Path) -> None:
    folder = note(tmp_path / "articles", "The icebreaker Yamal docked at Tartus. " * 20)
    with fake(tmp_path / "index") as lib:
        lib.add([folder])
        (folder / "notes.txt").write_text(
            "Notes\n\nThe icebreaker changed. " * 40, encoding="utf-8"
        )
        report = lib.add([folder], max_bytes=100)  # this run cannot read it
        assert [s.kept for s in report.skipped] == [True]
        assert "the version indexed before is kept" in report.skipped[0].reason
        assert not report.removed and [d.id for d in lib.documents()] == ["articles/notes.txt"]
        assert "Yamal" in lib.text("articles/notes.txt")
        retried = lib.add([folder])  # the next run that can read it updates it
        assert retried.updated == ["articles/notes.txt"] and "changed" in lib.text(
            "articles/notes.txt"
        )
        (folder / "notes.txt").unlink()
        assert lib.add([folder]).removed == ["articles/notes.txt"]


def test_bad_paths_and_an_empty_refresh_are_usage_errors_that_create_nothing(
    tmp_path: Path,
) -> None:
    index = tmp_path / "index"
    with pytest.raises(UsageError, match="no such file"):
        fake(index).add([tmp_path / "nonexistent"])
    with pytest.raises(UsageError, match="nothing to refresh"):
        fake(index).add([])
    with pytest.raises(IndexNotFound):
        fake(index).remove(["a.txt"])
    assert not index.exists()
    done = run_cli("index", str(tmp_path / "nonexistent"), "--index", str(index))
    assert done.returncode == 2 and not index.exists()


def _downgrade_to_schema_1(index: Path) -> None:
    """Turn a schema-2 index into what version 1 wrote: ids without the folder label,
    roots without labels, vectors under the old ids in ``chroma``."""
    db = sqlite3.connect(index / FILENAME, isolation_level=None)
    meta = dict(db.execute("SELECT key, value FROM meta"))
    manifest = Manifest.from_meta(meta)
    assert manifest is not None
    rows = db.execute(
        "SELECT c.id, c.idx, d.id FROM chunks c JOIN documents d ON d.id = c.doc_id"
    ).fetchall()
    renamed = [
        (cid, f"{doc.split('/', 1)[1]}::{idx}", doc.split("/", 1)[1]) for cid, idx, doc in rows
    ]
    db.execute("BEGIN")
    db.execute("UPDATE documents SET id = substr(id, instr(id, '/') + 1)")
    db.execute(
        "UPDATE chunks SET doc_id = substr(doc_id, instr(doc_id, '/') + 1), id = substr(id, instr(id, '/') + 1)"
    )
    roots = [r[0] for r in db.execute("SELECT path FROM roots WHERE folder = 1")]
    db.execute("DROP TABLE roots")
    db.execute("CREATE TABLE roots(path TEXT PRIMARY KEY)")
    db.executemany("INSERT INTO roots VALUES (?)", [(r,) for r in roots])
    db.execute("ALTER TABLE documents DROP COLUMN date_source")  # schema 4's
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    db.execute("DELETE FROM meta WHERE key = 'vectors'")
    db.execute("COMMIT")
    db.close()
    old = VectorStore(index / manifest.vectors)
    shutil.rmtree(index / "chroma-old", ignore_errors=True)
    target = VectorStore(index / "chroma-old")
    target.copy_from(old, renamed)
    old.close()
    target.close()
    shutil.rmtree(index / manifest.vectors)
    (index / "chroma-old").rename(index / "chroma")


def test_an_index_of_schema_1_is_migrated_in_place_without_embedding(tmp_path: Path) -> None:
    folder = note(tmp_path / "articles", "The icebreaker Yamal docked at Tartus.")
    note(folder, "A convoy left Latakia at dawn.", "convoy.txt")
    index = tmp_path / "index"
    with fake(index) as lib:
        lib.add([folder])
    _downgrade_to_schema_1(index)
    with pytest.raises(AssistantError, match="upgrades it in place"), fake(index) as lib:
        lib.documents()
    with fake(index) as lib:
        report = lib.add([])
        assert report.chunks == 0 and sorted(report.unchanged) == [
            "articles/convoy.txt",
            "articles/notes.txt",
        ]
        assert lib.store.count() == lib.catalog.count_chunks() == 2
        assert [h.document.id for h in lib.search("convoy Latakia", k=1)] == ["articles/convoy.txt"]
        meta = dict(lib.catalog.db.execute("SELECT key, value FROM meta").fetchall())
    assert meta["schema"] == str(SCHEMA_VERSION) and "dimension" not in meta
    assert [p.name for p in index.iterdir() if p.name.startswith("chroma")] == [meta["vectors"]]
    assert "date_source" in _columns(index, "documents")


def _columns(index: Path, table: str) -> set[str]:
    db = sqlite3.connect(index / FILENAME)
    try:
        return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
    finally:
        db.close()


@pytest.mark.parametrize("schema", [3, 2])
def test_an_index_of_schema_2_or_3_gains_date_sources_in_place_without_embedding(
    tmp_path: Path, schema: int
) -> None:
    folder = note(
        tmp_path / "articles", "Published: 2016-03-14\n\nThe icebreaker Yamal docked at Tartus."
    )
    index = tmp_path / "index"
    with Library(index, embedder=HashEmbedder(), entities="off") as lib:
        lib.add([folder])
    # What schema 3 looked like: no date_source column; schema 2 had no mentions column either.
    db = sqlite3.connect(index / FILENAME, isolation_level=None)
    db.execute("BEGIN")
    db.execute("ALTER TABLE documents DROP COLUMN date_source")
    if schema == 2:
        db.execute("ALTER TABLE chunks DROP COLUMN mentions")
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(schema),))
    db.execute("COMMIT")
    db.close()
    with pytest.raises(AssistantError, match="upgrades it in place"), fake(index) as lib:
        lib.documents()
    notes: list[str] = []
    with Library(index, embedder=HashEmbedder(), entities="off") as lib:
        report = lib.add([folder], on_wait=notes.append)
        assert report.chunks == 0 and report.unchanged == ["articles/notes.txt"]
        (doc,) = lib.documents()
        meta = dict(lib.catalog.db.execute("SELECT key, value FROM meta").fetchall())
    assert any(
        f"schema {schema} to {SCHEMA_VERSION}" in n and "where they came from" in n for n in notes
    )
    assert meta["schema"] == str(SCHEMA_VERSION) == "4"
    assert {"date_source", "line"} <= _columns(index, "documents") and "mentions" in _columns(
        index, "chunks"
    )
    # Rows written before keep no label until their file is read again; nothing forces that.
    assert (doc.date, doc.date_source) == ("2016-03-14", None)


def test_a_dateline_is_labelled_markup_and_an_undated_file_has_no_label(tmp_path: Path) -> None:
    folder = note(
        tmp_path / "articles", "Published: 2016-03-14\n\nThe icebreaker Yamal docked at Tartus."
    )
    note(folder, "A convoy left Latakia at dawn.", "convoy.txt")
    with fake(tmp_path / "index") as lib:
        lib.add([folder])
        labels = {d.id: (d.date, d.date_source) for d in lib.documents()}
    assert labels == {
        "articles/notes.txt": ("2016-03-14", "markup"),
        "articles/convoy.txt": (None, None),
    }


@pytest.mark.parametrize("seed", range(30))
def test_runs_skip_exactly_the_sentences_an_excluded_span_touches(seed: int) -> None:
    import random

    rng = random.Random(seed)
    cursor, spans = 0, []
    for _ in range(rng.randint(0, 40)):
        cursor += rng.randint(0, 3)
        length = rng.randint(1, 9)
        spans.append((cursor, cursor + length))
        cursor += length
    excluded = [
        (s, s + rng.randint(1, 30))
        for s in (rng.randint(0, cursor + 5) for _ in range(rng.randint(0, 8)))
    ]

    def brute() -> list[list[tuple[int, int]]]:
        runs: list[list[tuple[int, int]]] = [[]]
        for span in spans:
            if any(span[0] < e and s < span[1] for s, e in excluded):
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append(span)
        return [r for r in runs if r]

    assert _runs(spans, excluded) == brute()


def test_sources_json_lists_labelled_ids(tmp_path: Path) -> None:
    folder = note(tmp_path / "articles", "The icebreaker Yamal docked at Tartus.")
    index = tmp_path / "index"
    with fake(index) as lib:
        lib.add([folder])
    listed = json.loads(
        run_cli(
            "sources", "--json", "--index", str(index), env={"ASSISTANT_MODEL": "hash-64"}
        ).stdout
    )
    assert [s["document"] for s in listed] == ["articles/notes.txt"]


def test_a_folder_manifest_supplies_metadata_and_edits_apply_without_embedding(
    tmp_path: Path,
) -> None:
    folder = note(tmp_path / "articles", "The icebreaker Yamal docked at Tartus.")
    note(folder, "A convoy left Latakia at dawn.", "convoy.txt")
    (folder / "manifest.csv").write_text(
        "file,title,date,source\n"
        "notes.txt,Icebreaker at Tartus,2016-03-15,Reuters\n"
        "missing.txt,Nothing,2020-01-01,\n"
        "convoy.txt,,not-a-date,\n",
        encoding="utf-8",
    )
    with fake(tmp_path / "index") as lib:
        first = lib.add([folder])
        assert sorted(first.added) == [
            "articles/convoy.txt",
            "articles/notes.txt",
        ]  # the manifest is no article
        assert len(first.warnings) == 2
        assert "manifest.csv:3" in first.warnings[0] and "missing.txt" in first.warnings[0]
        assert "manifest.csv:4" in first.warnings[1] and "not-a-date" in first.warnings[1]
        docs = {d.id: d for d in lib.documents()}
        assert (docs["articles/notes.txt"].title, docs["articles/notes.txt"].date) == (
            "Icebreaker at Tartus",
            "2016-03-15",
        )
        assert (
            docs["articles/notes.txt"].source == "Reuters"
            and docs["articles/convoy.txt"].date is None
        )
        (folder / "manifest.csv").write_text(
            "file,date\nnotes.txt,2017-01-02\nconvoy.txt,2018\n", encoding="utf-8"
        )
        second = lib.add([folder])
        assert (
            second.chunks == 0 and not second.added and not second.updated and not second.warnings
        )
        docs = {d.id: d for d in lib.documents()}
        assert (
            docs["articles/notes.txt"].date == "2017-01-02"
            and docs["articles/notes.txt"].title == "Notes"
        )
        assert docs["articles/convoy.txt"].date == "2018"
        assert [h.document.id for h in lib.search("convoy", k=1, since="2018")] == [
            "articles/convoy.txt"
        ]
        assert lib.add([folder]).chunks == 0


def test_the_first_index_says_it_prepares_the_model(tmp_path: Path) -> None:
    folder = note(tmp_path / "articles", "The icebreaker Yamal docked at Tartus.")
    done = run_cli(
        "index",
        str(folder),
        "--index",
        str(tmp_path / "index"),
        env={"ASSISTANT_CACHE": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr
    assert "preparing the model sentence-transformers/all-MiniLM-L6-v2 for first use" in done.stderr
    again = run_cli(
        "index",
        str(folder),
        "--index",
        str(tmp_path / "index"),
        env={"ASSISTANT_CACHE": str(tmp_path / "cache")},
    )
    assert "preparing the model" not in again.stderr


def test_as_of_leaves_out_later_documents_and_keeps_undated_ones(tmp_path: Path) -> None:
    folder = note(tmp_path / "articles", "The convoy left Tartus in the spring.", "early.txt")
    note(folder, "The convoy left Tartus in the winter.", "late.txt")
    note(folder, "The convoy left Tartus at some point.", "undated.txt")
    (folder / "manifest.csv").write_text(
        "file,date\nearly.txt,2016-03-15\nlate.txt,2024-12-13\n", encoding="utf-8"
    )
    with fake(tmp_path / "index") as lib:
        lib.add([folder])
        found = {h.document.id for h in lib.search("convoy Tartus", k=5, as_of="2020")}
        assert found == {"articles/early.txt", "articles/undated.txt"}
        answer = lib.ask("When did the convoy leave Tartus?", as_of="2016-03-14")
        assert answer.searched == 1 and {q.document for q in answer.quotes + answer.closest} <= {
            "articles/undated.txt"
        }


def test_locations_name_what_a_reader_can_find_in_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    records = [
        json.dumps({"text": f"Filler record number {n} about nothing much at all."})
        for n in range(40)
    ]
    records.append(
        json.dumps(
            {
                "title": "Icebreaker",
                "text": "Intro line.\nThe icebreaker Yamal docked at Tartus on Monday.",
            }
        )
    )
    (folder / "feed.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    body = "".join(
        f"<p>Paragraph {n} is about the weather in the north today.</p>\n" for n in range(5)
    )
    (folder / "page.html").write_text(
        f"<html><head><title>Convoy</title></head><body><article><h1>Convoy</h1>{body}"
        "<p>A convoy of trucks left Latakia at dawn on Tuesday morning.</p></article></body></html>",
        encoding="utf-8",
    )
    (folder / "crlf.txt").write_bytes(
        "\ufeffTitle line\r\n\r\nThe ferry Sparta reached Novorossiysk on Friday.\r\n".encode()
    )
    with Library(tmp_path / "index") as lib:
        lib.add([folder])
        jsonl = lib.ask("Where did the icebreaker Yamal dock?", k=1)
        assert (
            jsonl.quotes[0].document == "articles/feed.jsonl#41"
            and jsonl.quotes[0].location == "line 41"
        )
        html = lib.ask("Where did the convoy of trucks leave from?", k=1)
        assert html.quotes[0].location and html.quotes[0].location.startswith("paragraph ")
        crlf = lib.ask("Which port did the ferry Sparta reach?", k=1).quotes[0]
        raw = (folder / "crlf.txt").read_bytes().decode("utf-8")
        text = raw.removeprefix(
            "\ufeff"
        )  # offsets count code points after the BOM; newlines are kept as written
        assert lib.text(crlf.document) == text
        assert text[crlf.start : crlf.end] == crlf.text and crlf.location == "line 3"


def test_a_list_answer_reads_one_version_of_the_index_while_a_writer_adds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from assistant import answer as answer_module
    from assistant.answer import Policy
    from assistant.answerline import LIST_WEIGHTS

    folder = note(
        tmp_path / "articles",
        "The icebreaker Yamal docked at the port of Tartus yesterday.",
        "a.txt",
    )
    index = tmp_path / "index"
    with fake(index) as writer:
        writer.add([folder])
    build = answer_module.build

    def build_while_a_writer_adds(*args, **kwargs):  # type: ignore[no-untyped-def]
        built = build(*args, **kwargs)
        note(folder, "The icebreaker Taymyr docked at the port of Latakia yesterday.", "b.txt")
        with fake(index) as other:
            assert other.add([folder]).added == ["articles/b.txt"]
        return built

    monkeypatch.setattr(answer_module, "build", build_while_a_writer_adds)
    with fake(index) as reader:
        got = reader.ask(
            "Which ports did the icebreakers dock at?",
            policy=Policy(bar=0.0, support=0.0),
            weights=replace(LIST_WEIGHTS, bar=0.0),
        )
        assert got.answered and got.direct is not None and got.direct.list
        said = {c.text for c in got.direct.candidates}
        assert any("Tartus" in t for t in said) and not any("Latakia" in t for t in said)
        # the line read the quotes' version
        assert {c.document for c in got.citations} == {"articles/a.txt"}
        assert (
            reader.search("Taymyr Latakia", k=3)[0].document.id == "articles/b.txt"
        )  # the next read sees it
