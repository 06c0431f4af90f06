"""The answer engine: verbatim quotes, citations, spread across sources, abstention."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant import Library
from assistant.answer import (
    Policy,
    Quote,
    SentenceVectors,
    Term,
    build,
    heuristic_mentions,
    highlights,
    quotable,
    stem,
    weigh_terms,
)
from assistant.question import asks
from assistant.types import DocumentInfo, Passage

QUESTIONS = json.loads((Path(__file__).parent / "data" / "answer_questions.json").read_text())
BASES = ("tartus", "tartous")
AIRBASE = ("khmeimim", "khmeymim", "hmeimim", "hemeimeem")
# Hard negatives the bar is known to miss (see docs/README-answers.md); at most these may pass.
KNOWN_MISSES = {"Who founded Hayat Tahrir al-Sham?"}
# The ranking bonuses off: quotes in order of relevance (for tests of relevance alone).
UNRANKED = dict(vote=0.0, lead=0.0, recent=0.0, fitting=0.0, keyword_rank=0.0, dense_rank=0.0)


def _verbatim(lib: Library, answer) -> None:  # type: ignore[no-untyped-def]
    for q in answer.quotes + answer.closest:
        assert lib.text(q.document)[q.start : q.end] == q.text
        assert q.text == q.text.strip() and q.text
        assert any(c.ref == q.ref and c.document == q.document for c in answer.citations)


def test_which_bases_quotes_both_bases_from_several_articles(seeds_lib: Library) -> None:
    answer = seeds_lib.ask("Which bases did Russia keep?")
    assert answer.answered
    _verbatim(seeds_lib, answer)
    naming = [
        q
        for q in answer.quotes
        if any(b in q.text.lower() for b in BASES) and any(a in q.text.lower() for a in AIRBASE)
    ]
    docs = {q.document.removeprefix("seeds/")[:3] for q in naming}
    assert {"003", "001"} <= docs  # the 2016 report that Russia would keep them; the 2024 talks
    assert len(docs) >= 2
    for c in answer.citations:
        assert (
            c.title and c.path.endswith(c.document) and c.location and c.location.startswith("line")
        )
    assert answer.quotes[0].rank == max(q.rank for q in answer.quotes)  # the best ranked first


@pytest.mark.parametrize(
    "question",
    [
        "What is the population of Russia?",
        "Who won the 2018 World Cup?",
        "What did Russia do in Ukraine's Donbas in 2014?",
    ],
)
def test_off_topic_questions_abstain_and_show_the_closest(
    seeds_lib: Library, question: str
) -> None:
    answer = seeds_lib.ask(question)
    assert not answer.answered and answer.quotes == ()
    assert answer.refusal == "No passage in the 5 indexed articles answers this."
    assert 0 < len(answer.closest) <= 3
    _verbatim(seeds_lib, answer)


def test_labelled_questions(seeds_lib: Library) -> None:
    """The calibration set: answerable ones quote the expected words, the rest abstain."""
    for question, expected in QUESTIONS["answerable"]:
        answer = seeds_lib.ask(question)
        assert answer.answered, question
        assert any(any(e in q.text.lower() for e in expected) for q in answer.quotes), question
    wrongly = {q for q in QUESTIONS["unanswerable"] if seeds_lib.ask(q).answered}
    assert wrongly <= KNOWN_MISSES


def test_near_duplicates_are_merged(seeds_lib: Library) -> None:
    # 002 repeats its interview with small edits ("substantial" / "considerable reduction").
    answer = seeds_lib.ask("How long is the withdrawal expected to take?", k=8)
    texts = [set(q.text.lower().split()) for q in answer.quotes]
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            assert len(a & b) / len(a | b) < 0.7


def test_filters_narrow_the_articles(seeds_lib: Library) -> None:
    answer = seeds_lib.ask("Which bases did Russia keep?", source="003")
    assert answer.searched == 1 and {q.document for q in answer.quotes} == {
        "seeds/003_e5a73f4839f377ea.txt"
    }
    nothing = seeds_lib.ask("Who won the 2018 World Cup?", source="003")
    assert nothing.refusal == "No passage in the 1 article searched (of 5 indexed) answers this."


# -- the engine alone, on a tiny made-up corpus -----------------------------------------
TEXT_A = "Old news.\nThe fleet stayed at the harbour of Tartus. It kept two frigates of the fleet in Tartus.\n"
TEXT_B = "Later the fleet left the harbour of Tartus for good, the report said.\n"


def _doc(doc_id: str, date: str | None, text: str) -> DocumentInfo:
    return DocumentInfo(
        doc_id, f"/x/{doc_id}", "txt", doc_id.upper(), date, None, None, None, "", 1
    )


def _passage(doc: DocumentInfo, text: str, score: float) -> Passage:
    spans, at = [], 0
    for part in text.replace("\n", " ").split(". "):
        start = text.index(part.strip(), at)
        end = start + len(part.strip()) + (0 if part.strip().endswith(".") else 1)
        spans.append((start, end))
        at = end
    return Passage(f"{doc.id}::0", doc, 0, len(text), text, tuple(spans), score, 1, 1, 0.5, 1.0)


def _bag(texts: list[str]) -> np.ndarray:
    """A bag-of-stems fake embedder over a fixed vocabulary, so separate calls agree."""
    corpus = f"{TEXT_A} {TEXT_B} Where did the fleet stay, Tartus? fleet harbour tartus"
    vocab = sorted({stem(w) for w in corpus.split()})
    rows = np.array(
        [[sum(stem(w) == v for w in t.split()) for v in vocab] for t in texts], dtype=float
    )
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


def _bag_vectors(*corpus: str) -> SentenceVectors:
    """Bag-of-stems sentence vectors over the words of ``corpus`` (a fake embedder whose
    cosine is word overlap, so a test can say which sentence is closer to the question)."""

    def words(text: str) -> list[str]:
        return text.replace(".", " ").replace("?", " ").split()

    vocab = sorted({stem(w) for text in corpus for w in words(text)})

    def bag(texts: list[str]) -> np.ndarray:
        rows = np.array(
            [[sum(stem(w) == v for w in words(t)) for v in vocab] for t in texts], dtype=float
        )
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)

    return SentenceVectors(bag, lambda q: bag([q])[0])


def test_build_joins_touching_sentences_and_orders_dates() -> None:
    a, b = _doc("a.txt", "2016-03-15", TEXT_A), _doc("b.txt", "2024-12-13", TEXT_B)
    terms = (Term("fleet", frozenset({"fleet"}), 1.0), Term("tartus", frozenset({"tartus"}), 1.0))
    answer = build(
        "Where did the fleet stay, Tartus?",
        [_passage(b, TEXT_B, 1.0), _passage(a, TEXT_A, 0.9)],
        terms,
        SentenceVectors(_bag, lambda q: _bag([q])[0]),
        texts={"a.txt": TEXT_A, "b.txt": TEXT_B},
        policy=Policy(bar=0.3, support=0.3),
    )
    assert answer.answered
    texts = {"a.txt": TEXT_A, "b.txt": TEXT_B}
    for q in answer.quotes:
        assert texts[q.document][q.start : q.end] == q.text
    joined = [q for q in answer.quotes if q.document == "a.txt"][0]
    # "It kept two frigates of the fleet in Tartus." leans on the sentence before it: quoted together.
    assert (
        joined.text
        == "The fleet stayed at the harbour of Tartus. It kept two frigates of the fleet in Tartus."
    )
    assert joined.location == "line 2"
    assert [c.date for c in answer.oldest_first()] == ["2016-03-15", "2024-12-13"]


def test_highlights_find_inflections_and_spellings() -> None:
    terms = (Term("bases", frozenset({stem("bases"), stem("tartous")}), 1.0),)
    text = "The base at Tartous and two bases."
    assert [text[s:e] for s, e in highlights(text, terms)] == ["base", "Tartous", "bases"]


# -- what the question asks for, and sentences that hold it ------------------------------
@pytest.mark.parametrize(
    ("question", "kind"),
    [
        (
            "Justice Ketanji Brown Jackson made history this week. Whose seat is she filling?",
            "person",
        ),
        ("Who was the designer of the garment?", "person"),
        ("Where is Khmeimim Air Base located?", "place"),
        ("When did Russia intervene in the Syrian civil war?", "time"),
        ("In what year did the war start?", "time"),
        ("How many troops would Russia keep in Syria?", "number"),
        ("How long will the withdrawal take?", "number"),
        ("Which company bought Twitter?", "name"),
        ("Which country saw its prime minister resign?", "place"),
        ("What percentage of voters turned out?", "number"),
        ("Why did Putin withdraw troops from Syria in 2016?", "reason"),
        ("Did China send troops to Syria?", "yes/no"),
        ("What did Steinmeier say about the Russian decision?", None),
        ("What happened at Hmeimim?", None),
        ("Which of these players did not play for him?", "person"),
        ("Which of the following has said they will not attend?", "name"),
        # quiz forms with no "which" or "who" before the noun that says what is wanted
        (
            "President Joe Biden celebrated a milestone birthday this week. What is his age?",
            "number",
        ),
        ("Florida was hit by a tropical storm. What was the name of the storm?", "name"),
        ("Congress passed the marriage bill. What is it called?", "name"),
        ("What is the capital of Syria?", "place"),
        ("What is the reason for the withdrawal?", "reason"),
        ("What is Russia's plan for the bases?", None),
        # an account, not a name: a role, an impact; but a role in a film is a character
        ("What role did Russia play in Syria?", None),
        ("What impact did the storm have on Florida?", None),
        (
            "Keanu Reeves was voted Sexiest Man Alive. What role did he play in a Pixar movie?",
            "name",
        ),
        ("This luxury fashion house drew backlash this week for an ad campaign:", "name"),
        ("McDonald's will test a partnership that will allow it to sell food from:", "name"),
        ("Lula da Silva was also president in:", None),
        ("Russia kept its bases this year.", None),
        (
            "Kanye West, who changed his name to Ye, is acquiring which social media platform?",
            "name",
        ),
        ("Putin, who ordered the withdrawal, spoke where?", "place"),
        ("In 2016, which country withdrew its jets?", "place"),
        ("Mauna Loa erupted this week for the first time since:", "time"),
        # a statement about "this X" asks for the X, though a relative clause says where or when
        (
            "This superstar closed out a tour at Dodger Stadium, where they first performed 47 years ago:",
            "name",
        ),
        (
            "The first images from this observatory spacecraft wowed viewers when NASA revealed them.",
            "name",
        ),
        # a party's member, a prominent figure, someone's children: people
        ("Which top Tory this week requested an investigation?", "person"),
        ("Which of the following high-profile figures has said they will not attend?", "person"),
        ("Which of Donald Trump’s children has said they will not take part?", "person"),
        ("Which Republican state voted first?", "place"),
        ("The House Committee on Ethics is investigating which representative?", "person"),
    ],
)
def test_question_types(question: str, kind: str | None) -> None:
    assert asks(question).kind == kind


@pytest.mark.parametrize(
    ("question", "head"),
    [
        ("Moviegoers fainted while seeing which newly-released horror film?", "film"),
        ("Which English rugby union club went into administration?", "club"),
        ("Tom Cruise had the biggest opening weekend of his career with this 2022 film.", "film"),
        ("Which country’s lawmakers urged officials to show no leniency?", "country"),
        ("Which bases did Russia keep?", "bases"),
        (
            "Which air base did the jets leave?",
            "air",
        ),  # no known head after "which": the first word
        ("Which of these players did not play for him during his tenure?", "players"),
        ("Which Tory MP is not on the list?", "mp"),
        ("Which franchise legend did the Colts hire?", "legend"),
        # no known head, and the first word a name that modifies it: the first word not capitalised
        ("Anna May Wong will be featured on the back of which US currency?", "currency"),
        ("Which of the following was awarded the world's best cheese?", None),
        # "the name of the X" asks for an X's name
        ("Florida was hit by a tropical storm. What was the name of the storm?", "storm"),
        # a question word opening a relative clause after a comma is not what is asked
        (
            "Kanye West, who changed his name to Ye, is acquiring which social media platform?",
            "platform",
        ),
        ("Which of Donald Trump’s children has said they will not take part?", "children"),
        # a word that only describes the noun is no head; nor is "type of"
        ("What critically endangered bird was spotted for the first time in 140 years?", "bird"),
        ("The Supreme Court issued an order on which controversial subject?", "subject"),
        ("Lava could soon reach which type of infrastructure?", "infrastructure"),
        # a plural's genitive says what sort of show; a singular's asks for the possessor
        ("Which beloved children’s show did he appear on for 47 seasons?", "show"),
        ("Which country's lawmakers urged officials to act?", "country"),
        ("Which state’s governor commuted the sentences?", "state"),
        # a compound's last noun is its head
        ("Which car company unveiled its first electric vehicle?", "company"),
        ("Junkanoo originated on what island nation?", "nation"),
    ],
)
def test_the_head_noun_may_follow_its_adjectives(question: str, head: str) -> None:
    assert asks(question).head == head


def test_heuristic_mentions_find_names_numbers_and_dates() -> None:
    text = "The dress, designed by Jean Louis in 1962, sold for $4.8 million on Tuesday after two days."
    found = {(m.kind, text[m.start : m.end]) for m in heuristic_mentions(text)}
    assert {
        ("name", "Jean Louis"),
        ("date", "1962"),
        ("date", "Tuesday"),
        ("number", "$4.8"),
        ("number", "two"),
        ("reason", "after"),
    } <= found
    assert not any(kind == "name" and span in ("The", "The dress") for kind, span in found)


@pytest.mark.parametrize(
    "text",
    [
        "USA TODAY Sports' NHL experts predict the winners for the first round and the Stanley Cup:",
        "Russian Forces Pull Back From Syrian Air Base Near Latakia",
        "Read more: Russia's new deal with the rebels in Damascus explained.",
        "By John Smith and Jane Doe, staff writers at the Daily Paper.",
        "Soldiers leave the Hmeimim base on Monday. (AP Photo/Hassan Ammar)",
        "Sign up for our newsletter to get the latest news every day.",
        "Who will replace the minister after the scandal this week?",
    ],
)
def test_headlines_teasers_captions_and_bylines_are_not_quoted(text: str) -> None:
    assert not quotable(text)


def test_quotable_prose() -> None:
    assert quotable("Russia kept two bases in Syria, the naval facility at Tartus and Hmeimim.")


def test_a_sentence_that_adds_the_answer_outranks_one_that_restates_the_question() -> None:
    text = (
        "Kim Kardashian damaged a historic Marilyn Monroe dress at the gala. "
        "The historic Monroe dress was designed by Jean Louis and sewn with crystals. "
    )
    doc = _doc("k.txt", None, text)
    question = (
        "Kim Kardashian damaged a historic Marilyn Monroe dress. Who was the designer of the dress?"
    )
    terms = tuple(
        Term(w, frozenset({stem(w)}), 1.0)
        for w in ("kardashian", "historic", "monroe", "dress", "designer")
    )
    vectors = _bag_vectors(text, question)

    answer = build(
        question,
        [_passage(doc, text, 1.0)],
        terms,
        vectors,
        k=1,
        texts={"k.txt": text},
        policy=Policy(bar=0.0, support=0.0, context=0, context_first=0),
    )
    assert "Jean Louis" in answer.quotes[0].text
    assert answer.quotes[0].adds == ("Jean Louis",)
    plain = build(
        question,
        [_passage(doc, text, 1.0)],
        terms,
        vectors,
        k=1,
        texts={"k.txt": text},
        policy=Policy(
            bar=0.0, support=0.0, typed=0.0, restating=0.0, context=0, context_first=0, **UNRANKED
        ),
    )
    assert "Jean Louis" not in plain.quotes[0].text  # without the two terms the restatement wins


def test_a_quote_grows_by_its_better_neighbour_within_the_limit_and_stays_verbatim() -> None:
    text = (
        "# Monroe dress damaged at the gala\n"
        "Kim Kardashian damaged a historic Marilyn Monroe dress at the gala. "
        "The historic Monroe dress was designed by Jean Louis and sewn with crystals. "
        "Tickets for the gala cost thirty thousand dollars for each of the guests. "
    )
    doc = _doc("k.txt", None, text)
    question = (
        "Kim Kardashian damaged a historic Marilyn Monroe dress. Who was the designer of the dress?"
    )
    terms = tuple(
        Term(w, frozenset({stem(w)}), 1.0) for w in ("kardashian", "historic", "monroe", "dress")
    )
    vectors = _bag_vectors(text, question)

    heading = text.index("\n") + 1
    spans = [(0, heading - 1)] + [
        (s + heading, e + heading) for s, e in _passage(doc, text[heading:], 1.0).sentences
    ]
    passage = Passage("k.txt::0", doc, 0, len(text), text, tuple(spans), 1.0, 1, 1, 0.5, 1.0)

    def first_quote(context: int, others: int | None = None) -> Quote:
        policy = Policy(
            bar=0.0,
            support=0.0,
            typed=0.0,
            restating=0.0,
            context_first=context,
            context=context if others is None else others,
            **UNRANKED,
        )
        answer = build(
            question, [passage], terms, vectors, k=1, texts={"k.txt": text}, policy=policy
        )
        quote = answer.quotes[0]
        assert quote.text == text[quote.start : quote.end]
        return quote

    alone = first_quote(0)
    assert alone.text == "Kim Kardashian damaged a historic Marilyn Monroe dress at the gala."
    grown = first_quote(160)  # room for one neighbour: the dress's, not the tickets'
    assert (
        grown.text.startswith(alone.text)
        and "Jean Louis" in grown.text
        and "Tickets" not in grown.text
    )
    assert len(grown.text) <= 160
    assert [grown.text[s:e] for s, e in grown.chosen] == [
        alone.text
    ]  # the sentence chosen, inside its context
    assert "#" not in first_quote(400).text  # a heading is never part of a quote
    assert first_quote(0, others=400).text == alone.text  # the best quote's room is its own
    assert first_quote(160, others=0).text == grown.text


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("What did Putin order this year?", ["putin", "order"]),
        ("Which team won the Stanley Cup this week?", ["team", "won", "stanley", "cup"]),
        ("Who is currently leading the latest polls?", ["leading", "polls"]),
        (
            "How many weeks did the strike last?",
            ["weeks", "strike", "last"],
        ),  # "weeks" here is the topic
    ],
)
def test_words_that_only_place_a_question_in_time_are_no_terms(
    question: str, words: list[str]
) -> None:
    terms = weigh_terms(question, lambda w: [], lambda w: 1, 10)
    assert [t.word for t in terms] == words


# -- ranking beyond relevance: agreement, the lead, recency ----------------------------------
def _first_document(
    question: str, passages: list[Passage], policy: Policy, reference=None, rarity=None
) -> str:  # type: ignore[no-untyped-def]
    texts = {p.document.id: p.text for p in passages}
    answer = build(
        question,
        passages,
        (),
        _bag_vectors(question, *texts.values()),
        k=3,
        texts=texts,
        policy=policy,
        reference=reference,
        rarity=rarity,
    )
    for q in answer.quotes:
        assert texts[q.document][q.start : q.end] == q.text
    return answer.quotes[0].document


# Relevance is only the typed bonus here (no dense or lexical part): every sentence ties on it.
_TIED = Policy(
    dense=0.0,
    lexical=0.0,
    restating=0.0,
    bar=0.05,
    support=0.05,
    context=0,
    context_first=0,
    passage=0.1,
    vote_floor=0.0,
    by_rank=True,
    **UNRANKED,
)


def _tagged(
    doc_id: str, text: str, score: float, chunk: int = 0, date: str | None = None
) -> Passage:
    p = _passage(_doc(doc_id, date, text), text, score)
    return Passage(
        f"{doc_id}::{chunk}", p.document, p.start, p.end, p.text, p.sentences, score, 1, 1, 0.5, 1.0
    )


def test_the_answer_most_articles_agree_on_ranks_first() -> None:
    question = "Which company bought the newspaper?"
    passages = [
        _tagged(
            "z.txt",
            "Staff were told on Monday that Zenith Group bought the newspaper outright.",
            1.0,
        ),
        _tagged(
            "a.txt", "The newspaper was sold to Acme Corp after a long auction this spring.", 0.5
        ),
        _tagged(
            "b.txt", "Analysts said that Acme Corp paid far too much for the old newspaper.", 0.5
        ),
    ]
    assert (
        _first_document(question, passages, _TIED) == "z.txt"
    )  # the best passage, without agreement
    assert _first_document(question, passages, replace(_TIED, vote=0.5)) in {"a.txt", "b.txt"}


def test_an_articles_opening_ranks_above_its_later_sentences() -> None:
    question = "Which company bought the newspaper?"
    passages = [
        _tagged(
            "late.txt",
            "Deep in the report it says Zenith Group bought the newspaper outright.",
            1.0,
            chunk=4,
        ),
        _tagged(
            "lead.txt",
            "Staff were told on Monday that Acme Corp bought the newspaper outright.",
            0.9,
        ),
    ]
    assert _first_document(question, passages, _TIED) == "late.txt"
    assert _first_document(question, passages, replace(_TIED, lead=0.5)) == "lead.txt"


def test_articles_near_the_reference_date_rank_higher_on_questions_about_now() -> None:
    import datetime

    passages = [
        _tagged(
            "old.txt",
            "Staff were told on Monday that Zenith Group bought the newspaper outright.",
            1.0,
            chunk=2,
            date="2022-01-03",
        ),
        _tagged(
            "new.txt",
            "Staff were told on Friday that Acme Corp bought the newspaper outright.",
            0.9,
            chunk=2,
            date="2022-06-10",
        ),
    ]
    recent, june = replace(_TIED, recent=0.5), datetime.date(2022, 6, 11)
    assert (
        _first_document("Which company bought the newspaper this week?", passages, recent, june)
        == "new.txt"
    )
    # No time words, or no reference date: the date does not count.
    assert (
        _first_document("Which company bought the newspaper?", passages, recent, june) == "old.txt"
    )
    assert (
        _first_document("Which company bought the newspaper this week?", passages, recent)
        == "old.txt"
    )


def test_what_every_article_names_is_the_topic_not_the_answer() -> None:
    from assistant.answer import UNMEASURED, rarity

    question = "Which company bought the newspaper?"
    texts = [
        "Staff in Paris were told that Zenith Group bought the newspaper outright.",
        "In Paris the newspaper was sold to Acme Corp after a long auction this spring.",
        "Analysts in Paris said that Acme Corp paid far too much for the old newspaper.",
    ]
    passages = [
        _tagged(name, text, score)
        for name, text, score in zip(("z.txt", "a.txt", "b.txt"), texts, (1.0, 0.5, 0.5))
    ]
    voting = replace(_TIED, vote=0.5)

    def df(word: str) -> int:  # a collection of 100 articles, every one of them from Paris
        return 100 if word == "paris" else sum(word in t.lower().split() for t in texts)

    # Unweighted, "Paris" (named by all three) wins the vote and every sentence holds it: a tie.
    assert _first_document(question, passages, voting) == "z.txt"
    weight = rarity(df, 100)
    assert weight("paris") == 0.0 and weight("acme corp") > 0.0
    # A mention's words as the index counts them: punctuation does not make "Paris." rare.
    assert weight("paris.") == weight("(paris)") == 0.0 and weight("acme corp.") == weight(
        "acme corp"
    )
    assert (
        rarity(lambda word: 100 if word == "us" else 0, 100)("u.s.") == 0.0
    )  # an initialism: "us"
    assert weight("s-400") == weight("800") == UNMEASURED  # no word the index counts: middling
    assert _first_document(question, passages, voting, rarity=weight) in {"a.txt", "b.txt"}
