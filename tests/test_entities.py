"""Named entities at index time (entities.py): found by the real spaCy pipeline in the
workers, stored with the chunks, added to an older index without embedding again, and
used by the reader."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant import Library, entities
from assistant.errors import IndexMismatch, UsageError

from .conftest import SEEDS

MODEL = entities.DEFAULT_MODELS[0]


def _chunk_rows(index: Path) -> list[tuple[str, int, int, str | None]]:
    db = sqlite3.connect(index / "catalog.sqlite3")
    try:
        return db.execute('SELECT doc_id, start, "end", mentions FROM chunks').fetchall()
    finally:
        db.close()


def test_tag_finds_people_places_and_numbers_as_document_offsets() -> None:
    text = "Intro line.\n\nVladimir Putin ordered 3,000 troops out of Syria on 14 March 2016."
    found = entities.tag(text, MODEL)
    labels = {text[s:e]: label for s, e, label in found}
    assert labels.get("Vladimir Putin") == "PERSON"
    assert labels.get("Syria") == "GPE"
    assert any(label == "CARDINAL" and "3,000" in t for t, label in labels.items())
    assert found == sorted(found)


@given(st.text(alphabet="ab \n.", max_size=3000))
def test_pieces_cover_the_text_exactly(text: str) -> None:
    pieces = entities._pieces(text)
    assert "".join(p for _, p in pieces) == text
    assert all(text[o : o + len(p)] == p for o, p in pieces)


def test_by_chunk_keeps_each_mention_inside_its_span() -> None:
    mentions = [(0, 3, "ORG"), (5, 9, "GPE"), (8, 12, "PERSON"), (20, 25, "DATE")]
    assert entities.by_chunk([(0, 10), (8, 30)], mentions) == [
        [(0, 3, "ORG"), (5, 9, "GPE")],
        [(8, 12, "PERSON"), (20, 25, "DATE")],
    ]


def test_a_named_pipeline_that_is_not_installed_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ASSISTANT_ENTITIES", "no_such_pipeline")
    with pytest.raises(UsageError, match="no spaCy pipeline 'no_such_pipeline'"):
        entities.model_name()
    monkeypatch.setenv("ASSISTANT_ENTITIES", "off")
    assert entities.model_name() is None
    assert entities.model_name(MODEL) == MODEL


def test_the_seeds_index_stores_named_entities_that_slice_their_text(seeds_lib: Library) -> None:
    rows = _chunk_rows(seeds_lib.index_dir)
    assert rows and all(m is not None for *_, m in rows)
    import json

    labels = set()
    for doc_id, start, end, mentions in rows:
        text = seeds_lib.text(doc_id)
        for s, e, label in json.loads(mentions or "[]"):
            assert start <= s < e <= end and text[s:e].strip() == text[s:e]
            labels.add(label)
    assert {"PERSON", "GPE", "ORG", "DATE"} <= labels


def test_an_index_of_schema_2_gains_entities_on_the_next_index_without_embedding(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    index = tmp_path / "index"
    with Library(index, entities="off") as lib:
        lib.add([folder])
    assert {m for *_, m in _chunk_rows(index)} == {None}
    # What schema 2 looked like: no mentions column.
    db = sqlite3.connect(index / "catalog.sqlite3")
    db.execute("ALTER TABLE chunks DROP COLUMN mentions")
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    db.commit()
    db.close()
    with Library(index, entities=MODEL) as lib:
        with pytest.raises(IndexMismatch, match="upgrades it in place"):
            lib.ask("Which bases did Russia keep?")
        notes: list[str] = []
        report = lib.add([folder], on_wait=notes.append)
        assert report.chunks == 0 and report.tagged == 5 and len(report.unchanged) == 5
        assert any("schema 2 to " in n and "named entities" in n for n in notes)
        assert all(m is not None for *_, m in _chunk_rows(index))
        assert lib.ask("Which bases did Russia keep?").answered
        assert lib.add([folder]).tagged == 0  # once


def test_indexing_without_entities_still_answers(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    with Library(tmp_path / "index", entities="off") as lib:
        lib.add([folder])
        got = lib.ask("Which bases did Russia keep?")
    assert got.answered and got.direct is not None


def test_a_tagger_that_fails_costs_only_the_entities_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Vladimir Putin ordered the troops out of Syria in March 2016.\n")
    broken = tmp_path / "not-a-pipeline"
    broken.mkdir()  # a folder, so it is accepted as a pipeline name; spaCy cannot load it
    with Library(tmp_path / "index", entities=str(broken)) as lib:
        report = lib.add([folder])
        assert report.added == ["articles/a.txt"] and report.skipped == []
        assert any("a.txt: named entities not found" in w for w in report.warnings)
        assert lib.ask("Who ordered the troops out of Syria?").answered
    assert {m for *_, m in _chunk_rows(tmp_path / "index")} == {None}
