"""Keyword index and spelling variants, on a real SQLite FTS5 catalog."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant import lexical
from assistant.catalog import Catalog
from assistant.text import query_terms
from assistant.types import Chunk, Document

CORPUS = [
    "Russia keeps the Khmeimim airbase and the port of Tartus.",
    "Jets left Hmeimim. The county council met in the country.",
    "Russia will maintain its naval base at Tartous and an airbase at Khmeymim.",
    "Forces withdrew from the Hemeimeem air base southeast of Lattakia.",
    "A county is not a country; counties differ from countries.",
]


def _db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    lexical.create(db)
    for n, text in enumerate(CORPUS, 1):
        lexical.add_chunk(db, n, "", text)
        lexical.add_terms(db, text)
    return db


def test_skeleton_keeps_first_letter_and_drops_vowels_and_doubles() -> None:
    assert lexical.skeleton("hmeimim") == "hmmm"
    assert lexical.skeleton("hemeimeem") == "hmmm"
    assert lexical.skeleton("khmeymim") == "khmmm"
    assert lexical.skeleton("tartous") == lexical.skeleton("tartus") == "trts"


def test_every_spelling_of_the_base_expands_to_the_others() -> None:
    db = _db()
    spellings = {"khmeimim", "hmeimim", "khmeymim", "hemeimeem"}
    for word in spellings:
        assert set(lexical.variants(db, word.capitalize())) == spellings - {word}
    assert lexical.variants(db, "Tartous") == ["tartus"]
    assert lexical.variants(db, "tartus") == ["tartous"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("khmeimim", "hemeimeem"),
        ("hmeimim", "khmeymim"),
        ("tartus", "tartous"),
        ("latakia", "lattakia"),
        ("zelensky", "zelenskyy"),
        ("zelenskiy", "zelensky"),
        ("mohammed", "muhammad"),
        ("scholz", "schulz"),
        ("lopes", "lopez"),
        ("gaddafi", "qadhafi"),
        ("ukraine", "ukrainian"),
        ("qatar", "qatari"),
    ],
)
def test_spellings_of_one_name_sound_alike(a: str, b: str) -> None:
    assert lexical.spelled_alike(a, b) and lexical.spelled_alike(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # all were variants when every vowel blurred into one and any letter could change
        ("russian", "syrian"),
        ("kardashian", "kurdish"),
        ("tartus", "states"),
        ("pankov", "peskov"),
        ("martin", "morton"),
        ("geneva", "guliyeva"),
        ("ellen", "yellen"),
        ("congo", "huang"),
    ],
)
def test_different_names_do_not(a: str, b: str) -> None:
    assert not lexical.spelled_alike(a, b) and not lexical.spelled_alike(b, a)


def test_common_words_are_not_expanded() -> None:
    db = _db()
    assert lexical.variants(db, "county") == []
    assert lexical.variants(db, "country") == []


def test_search_finds_other_spellings_and_ranks_by_bm25() -> None:
    db = _db()
    hits = lexical.search(db, "Where is Hmeimim?", 10)
    assert {rowid for rowid, _ in hits} == {1, 2, 3, 4}
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)


def test_terms_are_counted_and_forgotten_per_document() -> None:
    db = _db()
    lexical.remove_terms(db, CORPUS[3])
    assert db.execute("SELECT count(*) FROM terms WHERE term = 'hemeimeem'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM term_keys WHERE term = 'hemeimeem'").fetchone()[0] == 0
    assert db.execute("SELECT df FROM terms WHERE term = 'russia'").fetchone()[0] == 2


def test_query_terms_drop_stopwords_and_punctuation() -> None:
    assert query_terms("Which bases did Russia keep?") == ["bases", "russia", "keep"]
    assert query_terms("the of and") == []
    assert lexical.search(_db(), '"" OR AND NEAR(', 5) == []


def test_a_hyphenated_question_word_also_finds_it_written_solid() -> None:
    db = sqlite3.connect(":memory:")
    lexical.create(db)
    for n, text in enumerate(
        ["Birthweight and later disease.", "The birth-weight of twins.", "Weight of the fleet."], 1
    ):
        lexical.add_chunk(db, n, "", text)
    assert lexical.joined_forms("Is birth-weight linked to PD-1 or e-mail use?") == [
        "birthweight",
        "pd1",
        "email",
    ]
    found = {rowid for rowid, _ in lexical.search(db, "birth-weight", 10)}
    assert found == {1, 2, 3}  # solid, hyphenated, and (for "weight" alone) the third
    assert {rowid for rowid, _ in lexical.search(db, "birth weight", 10)} == {
        2,
        3,
    }  # two words: no join


def test_a_search_limited_to_documents_returns_only_their_chunks(tmp_path: Path) -> None:
    """The catalog says which chunks are whose (``Catalog._in_documents``); the keyword
    index applies it without naming the catalog's tables."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    rowids: dict[str, set[int]] = {}
    for n, text in enumerate(CORPUS):
        doc = Document(id=f"seeds/{n}.txt", text=text, path=f"/seeds/{n}.txt", format="txt")
        chunk = Chunk(doc.id, 0, 0, len(text), text, ((0, len(text)),))
        with catalog.transaction():
            catalog.mark_pending(doc, "/seeds", "sig")
            catalog.finish(doc, [chunk])
        rowids[doc.id] = {c.rowid for c in catalog.chunks_by_id([f"{doc.id}::0"]).values()}
    everywhere = {r for r, _ in catalog.keywords.search("Where is Hmeimim?", 10)}
    assert everywhere == set().union(*(rowids[f"seeds/{n}.txt"] for n in range(4)))
    some = ["seeds/1.txt", "seeds/3.txt", "seeds/4.txt"]
    found = {r for r, _ in catalog.keywords.search("Where is Hmeimim?", 10, doc_ids=some)}
    assert found == rowids["seeds/1.txt"] | rowids["seeds/3.txt"]
    assert catalog.keywords.search("Where is Hmeimim?", 10, doc_ids=[]) == []
    catalog.close()
