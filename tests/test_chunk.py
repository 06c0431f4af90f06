"""Chunking invariants. A whitespace token counter stands in for the model's tokenizer:
these tests are about offsets and packing, not about the model."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.chunk import chunk_document, embedding_text, sentence_spans
from assistant.types import Document

from .conftest import SEEDS


def words(texts: list[str]) -> list[int]:
    return [len(t.split()) for t in texts]


def doc(text: str, excluded: tuple[tuple[int, int], ...] = (), fmt: str = "txt") -> Document:
    return Document(id="d.txt", text=text, path="/d.txt", format=fmt, excluded=excluded)


def check_invariants(d: Document, max_tokens: int) -> None:
    chunks = chunk_document(d, words, max_tokens=max_tokens)
    for c in chunks:
        assert c.text == d.text[c.start : c.end]
        assert c.text == c.text.strip() and c.text
        assert words([c.text])[0] <= max_tokens
        assert c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end
        for s, e in d.excluded:
            assert not (c.start < e and s < c.end), "a chunk crosses excluded text"


def test_seed_chunks_fit_and_overlap_by_one_sentence() -> None:
    text = (SEEDS / "002_bf11b34acc15036f.txt").read_text(encoding="utf-8")
    d = doc(text)
    chunks = chunk_document(d, words, max_tokens=60)
    check_invariants(d, 60)
    assert len(chunks) > 5
    overlapping = [
        a for a, b in zip(chunks, chunks[1:]) if len(a.sentences) > 1 and b.start < a.end
    ]
    assert overlapping, "consecutive chunks share a sentence"
    for a, b in zip(chunks, chunks[1:]):
        if b.start < a.end:
            assert b.sentences[0] == a.sentences[-1]


def test_excluded_text_splits_runs() -> None:
    text = "First sentence here. Second one too.\nShare with your friends\nThird sentence follows. Fourth ends it."
    cut = text.index("Share")
    d = doc(text, excluded=((cut, cut + len("Share with your friends")),))
    chunks = chunk_document(d, words, max_tokens=100)
    assert [c.text for c in chunks] == [
        "First sentence here. Second one too.",
        "Third sentence follows. Fourth ends it.",
    ]


def test_a_sentence_longer_than_the_window_is_cut_at_words() -> None:
    text = " ".join(f"w{i}" for i in range(250)) + "."
    chunks = chunk_document(doc(text), words, max_tokens=100)
    assert [words([c.text])[0] for c in chunks] == [100, 100, 50]
    assert "".join(text[c.start : c.end] + " " for c in chunks).strip() == text


def test_sentences_are_segmented_not_split_on_every_period() -> None:
    text = "Dr. Smith met Mr. Jones at 3 p.m. in the U.S. capital. They talked."
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Dr. Smith met Mr. Jones at 3 p.m. in the U.S. capital.",
        "They talked.",
    ]


def test_pdf_text_keeps_hard_wrapped_sentences_whole() -> None:
    text = "A sentence that wraps\nonto the next line. Another.\n\nNew paragraph."
    spans = sentence_spans(text, split_lines=False)
    assert text[spans[0][0] : spans[0][1]] == "A sentence that wraps\nonto the next line."


def test_embedding_text_prefixes_a_title_once() -> None:
    d = doc("Headline\nBody sentence.")
    first = chunk_document(d, words)[0]
    assert embedding_text("Headline", first) == first.text
    assert embedding_text("Other title", first) == "Other title\n" + first.text


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=600),
    st.integers(5, 40),
)
def test_random_text_keeps_every_invariant(text: str, max_tokens: int) -> None:
    check_invariants(doc(text), max_tokens)
