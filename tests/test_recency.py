"""Questions about the present prefer the articles written just before the reference
date (``--as-of``, library ``as_of=``, REPL ``/asof``)."""

from __future__ import annotations

import datetime
import io
import math
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from assistant import Library
from assistant.answer import candidates, recency
from assistant.ask import Settings
from assistant.repl import plain
from assistant.retrieve import SearchPolicy, asks_about_now
from assistant.types import freshness

ARTICLES = {
    "old.md": (
        "2022-01-10",
        "The Harbour Prize went to the novelist Mara Quell at a ceremony in Oslo.",
    ),
    "new.md": (
        "2022-06-13",
        "The Harbour Prize went to the poet Ivo Brandt at a ceremony in Oslo.",
    ),
    "undated.md": (
        None,
        "The Harbour Prize went to the painter Lena Ostrova at a ceremony in Oslo.",
    ),
}


@pytest.fixture
def prize(tmp_path: Path) -> Library:
    folder = tmp_path / "news"
    folder.mkdir()
    for name, (date, text) in ARTICLES.items():
        front = f"---\ntitle: {name}\ndate: {date}\n---\n" if date else f"---\ntitle: {name}\n---\n"
        (folder / name).write_text(front + text + "\n")
    lib = Library(tmp_path / "index")
    lib.add([folder])
    yield lib
    lib.close()


@pytest.mark.parametrize(
    "question, now",
    [
        ("Who won the Harbour Prize this week?", True),
        ("Who is currently leading the race?", True),
        ("What is the latest album?", True),
        ("Which team recently signed him?", True),
        ("Who won the Harbour Prize in 2019?", False),
        ("Who knows how it works now?", False),
    ],
)
def test_questions_about_the_present(question: str, now: bool) -> None:
    assert asks_about_now(question) is now


def test_this_week_prefers_the_article_written_just_before_the_reference_date(
    prize: Library,
) -> None:
    asked = "Who won the Harbour Prize this week?"
    first = prize.search(asked, k=3, as_of="2022-06-15")
    assert first[0].document.id == "news/new.md"
    with Library(prize.index_dir, policy=replace(SearchPolicy(), recency=0.0)) as without:
        unbiased = {p.document.id: p.score for p in without.search(asked, k=3, as_of="2022-06-15")}
    gained = {p.document.id: p.score - unbiased[p.document.id] for p in first}
    # Two days old: nearly the whole bonus; five months old: almost none; undated: none.
    assert gained["news/new.md"] == pytest.approx(
        SearchPolicy().recency * math.exp(-2 / 7), abs=1e-6
    )
    assert 0 < gained["news/old.md"] < 1e-6 and gained["news/undated.md"] == 0
    # As of January, June's article does not exist yet and January's is the recent one.
    january = prize.search(asked, k=3, as_of="2022-01-12")
    assert "news/new.md" not in {p.document.id for p in january}
    assert january[0].document.id == "news/old.md"


def test_asof_in_the_repl_sets_the_reference_date_and_keeps_the_filter(prize: Library) -> None:
    buffer = io.StringIO()
    out = Console(file=buffer, width=100, color_system=None, highlight=False)
    plain(
        prize,
        Settings(),
        [
            "/asof 2022-13-01",
            "/asof 2022-01-12",
            "/filter source=new.md",
            "Who won the Harbour Prize this week?",
            "/filter",
            "/asof",
            "Who won the Harbour Prize this week?",
        ],
        out,
    )
    text = buffer.getvalue()
    assert "/asof: not a date: '2022-13-01'" in text
    assert "Answering as of 2022-01-12." in text and "Answering as of today." in text
    assert "Filter: source=new.md as_of=2022-01-12." in text
    assert "No indexed article matches the filter" in text  # new.md is dated after January
    assert "Filter was: source=new.md as_of=2022-01-12. Cleared." in text
    assert (
        "Ivo Brandt" in text.split("Answering as of today.")[1]
    )  # today: June's article is the recent one


def test_freshness_fades_by_the_week_and_gives_a_future_or_missing_day_nothing() -> None:
    on = datetime.date(2022, 6, 15)
    assert freshness("2022-06-15", on) == 1.0
    assert freshness("2022-06-08T10:00:00", on) == pytest.approx(math.exp(-1))
    # After the reference date (no --as-of, so nothing filtered it out): not "the most recent".
    assert freshness("2022-06-16", on) == 0.0
    assert freshness(None, on) == freshness("2022-06", on) == freshness("not a date", on) == 0.0


def test_the_reader_and_the_retriever_give_a_future_article_no_bonus(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    for name, date in (("future.md", "2999-01-01"), ("past.md", "2001-01-01")):
        (folder / name).write_text(
            f"---\ntitle: {name}\ndate: {date}\n---\n"
            "The Harbour Prize went to the poet Ivo Brandt at a ceremony in Oslo.\n"
        )
    asked = "Who won the Harbour Prize this week?"
    with Library(tmp_path / "index") as lib:
        lib.add([folder])
        with Library(lib.index_dir, policy=replace(SearchPolicy(), recency=0.0)) as without:
            unbiased = {p.document.id: p.score for p in without.search(asked, k=2)}
        found = lib.search(asked, k=2)
    biased = {p.document.id: p.score for p in found}
    assert biased["news/future.md"] == pytest.approx(unbiased["news/future.md"], abs=1e-9)
    bonus = {c.passage.document.id: recency(c, datetime.date.today()) for c in candidates(found)}
    assert bonus == {"news/future.md": 0.0, "news/past.md": pytest.approx(0.0, abs=1e-9)}
