"""The answer line: the reader's spans merged into candidates, weighed, cited; its failure modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Library, Reader
from assistant.answerline import (
    FEATURES,
    Found,
    Weights,
    attach,
    canonical,
    direct,
    gather,
    is_list,
    key_of,
    likely_by_sentence,
    resolve_day,
    weigh,
)
from assistant.reader import MODEL_PATH, ReadSpan
from assistant.types import Answer, Citation, DocumentInfo, Passage


def _doc(doc_id: str, date: str | None) -> DocumentInfo:
    return DocumentInfo(doc_id, f"/x/{doc_id}", "txt", doc_id, date, None, None, None, "", 1)


def _passage(doc_id: str, text: str, date: str | None = None, start: int = 0) -> Passage:
    spans, at = [], 0
    for part in text.split(". "):
        s = text.index(part, at)
        e = s + len(part) + (0 if part.endswith(".") else 1)
        spans.append((start + s, start + min(e, len(text))))
        at = e
    return Passage(
        f"{doc_id}::0", _doc(doc_id, date), start, start + len(text), text, tuple(spans), 0.5
    )


def _span(passages: list[Passage], p: int, piece: str, score: float, no_answer: float = 0.0):  # type: ignore[no-untyped-def]
    at = passages[p].text.index(piece)
    return ReadSpan(p, at, at + len(piece), piece, score, no_answer)


SPELLINGS = {"khmeimim": ["hmeimim"], "hmeimim": ["khmeimim"]}


def test_spellings_and_articles_make_one_candidate() -> None:
    spelling = canonical(lambda w: SPELLINGS.get(w, []))
    assert key_of("the Khmeimim air base", spelling) == key_of("Hmeimim Air Base", spelling)
    assert key_of("Tartus", spelling) != key_of("Khmeimim", spelling)
    passages = [
        _passage("a.txt", "Russia kept the Khmeimim air base.", "2016-03-15"),
        _passage("b.txt", "Russia kept Hmeimim Air Base.", "2024-12-13"),
    ]
    spans = [
        _span(passages, 0, "the Khmeimim air base", 9.0),
        _span(passages, 1, "Hmeimim Air Base", 8.0),
        _span(passages, 1, "Russia", 2.0),
    ]
    found = gather("Which base did Russia keep?", spans, passages, spelling)
    assert len(found) == 2
    base = next(f for f in found if "air base" in f.key)
    assert base.documents == ["a.txt", "b.txt"] and base.features["support"] > 0
    russia = next(f for f in found if f.key == "russia")
    assert russia.features["echo"] == 1.0  # the question names it: no answer to it
    assert base.features["share"] > russia.features["share"]


def test_the_line_is_verbatim_cited_oldest_first_and_absent_below_the_bar() -> None:
    passages = [
        _passage("new.txt", "Talks are held in Geneva. Nothing else.", "2024-12-13"),
        _passage("old.txt", "The talks began in Geneva on Monday.", "2016-03-15"),
    ]
    spans = [_span(passages, 0, "Geneva", 12.0, 1.0), _span(passages, 1, "Geneva", 10.0, 2.0)]
    question = "Where are the talks held?"
    found = weigh(gather(question, spans, passages), Weights())
    line = direct(found, Weights(bar=0.0))
    assert line is not None and not line.list
    first = line.candidates[0]
    assert first.text == "Geneva" and first.documents == ("old.txt", "new.txt")
    assert first.dates == ("2016-03-15", "2024-12-13")
    texts = {p.document.id: p.text for p in passages}
    assert texts[first.quote.document][first.quote.start : first.quote.end] == first.quote.text
    assert direct(found, Weights(bar=1.0)) is None

    def cite(doc: str, offset: int) -> Citation:
        return Citation(0, doc, doc, f"/x/{doc}", None, "txt", "line 1")

    empty = Answer(question, True, (), (), (), 2)
    cited = attach(empty, line, cite)
    assert [c.document for c in cited.citations] == ["old.txt", "new.txt"]
    assert cited.direct is not None and cited.direct.candidates[0].refs == (1, 2)


def test_different_answers_from_different_articles_are_sources_that_differ() -> None:
    passages = [
        _passage("new.txt", "The base is in Russia now.", "2024-12-13"),
        _passage("old.txt", "The base is in Syria.", "2016-03-15"),
    ]
    spans = [_span(passages, 0, "Russia", 10.0), _span(passages, 1, "Syria", 10.0)]
    found = weigh(gather("Where is the base?", spans, passages))
    line = direct(found, Weights(bar=0.0))
    assert line is not None and line.disagree
    assert [c.text for c in line.candidates] == ["Syria", "Russia"]  # oldest first


def test_a_list_question_gets_every_candidate_over_the_bar() -> None:
    assert is_list("Which bases did Russia keep?") and is_list("What countries border Syria?")
    assert not is_list("Which base is the largest?") and not is_list("What is the capital?")
    passages = [_passage("a.txt", "Russia keeps Tartus and Khmeimim.")]
    spans = [_span(passages, 0, "Tartus", 9.0), _span(passages, 0, "Khmeimim", 8.5)]
    found = weigh(gather("Which bases did Russia keep?", spans, passages, by_passage=True))
    line = direct(found, Weights(bar=0.0), listing=True)
    assert (
        line is not None
        and line.list
        and {c.text for c in line.candidates}
        == {
            "Tartus",
            "Khmeimim",
        }
    )


def test_a_list_item_keeps_the_whole_weight_of_the_span_it_was_read_in() -> None:
    # "Tartus and the Khmeimim airbase" is read as one span: both items are said, so neither
    # gets half of it; and "airbase" is the "air base" of another article.
    passages = [
        _passage("a.txt", "Russia keeps Tartus and the Khmeimim airbase. Troops left Aleppo."),
        _passage("b.txt", "Russia keeps the Khmeimim air base."),
    ]
    spans = [
        _span(passages, 0, "Tartus and the Khmeimim airbase", 9.0),
        _span(passages, 0, "Aleppo", 9.0),
        _span(passages, 1, "Khmeimim air base", 8.0),
    ]
    found = gather("Which bases did Russia keep?", spans, passages, by_passage=True)
    by_key = {f.key: f for f in found}
    assert set(by_key) == {"tartus", "khmeimim airbase", "aleppo"}
    shares = {k: round(f.features["share"], 6) for k, f in by_key.items()}
    assert (
        shares["tartus"]
        == shares["khmeimim airbase"]
        == shares["aleppo"]
        == round(-0.6931471805599453, 6)
    )  # half of passage a's weight each: the span's, and Aleppo's
    assert by_key["khmeimim airbase"].documents == ["a.txt", "b.txt"]


def test_likely_by_sentence_keys_the_sentence_holding_each_span() -> None:
    text = "Old news here. The fleet stayed at Tartus."
    passages = [_passage("a.txt", text, start=100)]
    spans = [_span(passages, 0, "Tartus", 9.0)]
    found = weigh(gather("Where did the fleet stay?", spans, passages))
    assert likely_by_sentence(found) == {("a.txt", 100 + text.index("The fleet")): found[0].likely}


@pytest.mark.parametrize(
    ("text", "dated", "day"),
    [
        ("Monday", "2016-03-15", "2016-03-14"),  # a Tuesday: the Monday before
        ("on Tuesday", "2016-03-15", "2016-03-15"),
        ("next Monday", "2016-03-15", "2016-03-21"),
        ("yesterday", "2016-03-15", "2016-03-14"),
        ("Monday", None, None),  # undated: never guessed
        ("Monday", "2016-03", None),  # a month is no day to count from
        ("March 14", "2016-03-15", None),  # already a date
    ],
)
def test_weekdays_resolve_against_the_articles_date(
    text: str, dated: str | None, day: str | None
) -> None:
    assert resolve_day(text, dated) == day


def test_weighing_is_a_probability_most_likely_first() -> None:
    found = [Found("a", features=dict.fromkeys(FEATURES, 0.0)) for _ in range(2)]
    found[1].features["margin"] = 20.0
    ranked = weigh(found)
    assert ranked[0] is found[1] and 0.0 < ranked[1].likely < ranked[0].likely < 1.0


def test_a_damaged_reader_warns_and_the_quotes_still_come(
    tmp_path: Path, seeds_index: Path
) -> None:
    """A truncated model file: a one-line warning naming it, quotes from retrieval, no line,
    the index untouched."""
    broken = tmp_path / "reader.onnx"
    broken.write_bytes(MODEL_PATH.read_bytes()[:5000])
    with Library(seeds_index, reader=Reader(broken)) as lib:
        got = lib.ask("Which bases did Russia keep?")
        assert (got.quotes or got.closest) and got.direct is None
        assert len(got.warnings) == 1 and str(broken) in got.warnings[0]
        assert "\n" not in got.warnings[0]
        assert len(lib.documents()) == 5


@pytest.mark.parametrize(
    "question",
    [
        "Which bases did Russia keep?",
        "Where were the peace talks held?",
        "Where did Assad seek asylum?",
        "When did Putin announce the withdrawal?",
    ],
)
def test_every_answer_on_the_seeds_is_a_verbatim_slice(seeds_lib: Library, question: str) -> None:
    got = seeds_lib.ask(question, weights=Weights(bar=0.0))  # every candidate over the bar
    assert got.direct is not None
    for c in got.direct.candidates:
        q = c.quote
        assert seeds_lib.text(q.document)[q.start : q.end] == q.text
        assert c.text in q.text  # the answer is read in the sentence it cites
        assert q.ref in {x.ref for x in got.citations} and set(c.refs) <= {
            x.ref for x in got.citations
        }


def test_a_resolved_day_names_the_article_it_was_read_in() -> None:
    from assistant.render import direct_lines
    from assistant.types import Candidate, Direct, Evidence

    said = Candidate(
        "Monday",
        (),
        (1, 2),
        ("old.txt", "new.txt"),
        ("2016-03-01", "2016-03-15"),
        0.9,
        Evidence(2, "new.txt", 0, 20, "It began on Monday."),
        day="2016-03-14",  # resolved against new.txt, where it was read
    )
    cited = tuple(
        Citation(n, doc, None, f"/x/{doc}", date, "txt", "line 1")
        for n, doc, date in ((1, "old.txt", "2016-03-01"), (2, "new.txt", "2016-03-15"))
    )
    got = Answer("When did it begin?", True, (), (), cited, 2, direct=Direct((said,)))
    assert "Monday = 2016-03-14 (article of 2016-03-15 [2])" in direct_lines(got)[0][1]
