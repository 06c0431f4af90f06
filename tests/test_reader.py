"""The span reader: the committed int8 model, run as users run it (onnxruntime, no torch)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import ModelError
from assistant.reader import MODEL_PATH, Reader, ReadSpan

ROOT = Path(__file__).resolve().parent.parent
CARD = MODEL_PATH.with_name("reader.md")

PASSAGES = [
    "Russia will keep its naval base at Tartus and the Hmeimim air base, officials said on Monday.",
    "The weather in Moscow was cold. Snow fell for three days in a row.",
    "President Vladimir Putin ordered the main part of the Russian forces to start withdrawing "
    "from Syria on March 14, 2016.",
]


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def test_spans_are_verbatim_slices_best_first(reader: Reader) -> None:
    spans = reader.read("When did Putin order the withdrawal from Syria?", PASSAGES)
    assert spans
    for span in spans:
        assert isinstance(span, ReadSpan)
        assert PASSAGES[span.passage][span.start : span.end] == span.text
        assert span.text == span.text.strip() and span.text
    scores = [s.score for s in spans]
    assert scores == sorted(scores, reverse=True)
    assert len({(s.passage, s.start, s.end) for s in spans}) == len(spans)


def test_it_points_at_the_answer_and_its_passage(reader: Reader) -> None:
    best = reader.read("When did Putin order the withdrawal from Syria?", PASSAGES)[0]
    assert best.passage == 2 and "2016" in best.text
    # The passage that answers clears its no-answer score by more than the one that does not.
    spans = reader.read("When did Putin order the withdrawal from Syria?", PASSAGES[1:])
    margins = {s.passage: s.margin for s in spans}
    assert margins[1] > margins[0]


def test_objects_with_text_are_read_like_strings(reader: Reader) -> None:
    class Passage:
        def __init__(self, text: str) -> None:
            self.text = text

    question = "Which bases did Russia keep?"
    as_text = reader.read(question, PASSAGES[:1])
    as_objects = reader.read(question, [Passage(PASSAGES[0])])
    assert [(s.start, s.end, s.text) for s in as_text] == [
        (s.start, s.end, s.text) for s in as_objects
    ]


def test_nothing_to_read(reader: Reader) -> None:
    assert reader.read("Which bases did Russia keep?", []) == []
    assert reader.read("Which bases did Russia keep?", ["", "   "]) == []
    assert reader.read("   ", PASSAGES) == []


def test_a_long_passage_is_read_across_windows(reader: Reader) -> None:
    filler = " ".join(f"Item {i} of the list was read aloud at the meeting." for i in range(80))
    text = filler + " The treaty was signed in Vienna in 1815 by the five powers."
    spans = reader.read("Where was the treaty signed?", [text])
    assert len(reader._windows("Where was the treaty signed?", [text])) > 3  # far over one window
    best = spans[0]
    assert best.text.startswith("Vienna") and text[best.start : best.end] == best.text
    assert best.start > len(filler)  # found in the last window


def test_a_word_is_never_cut(reader: Reader) -> None:
    spans = reader.read("Which bases did Russia keep?", PASSAGES[:1], per_passage=10)
    words = set(re.findall(r"\w+", PASSAGES[0]))
    for span in spans:
        assert set(re.findall(r"\w+", span.text)) <= words


def test_a_missing_model_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "reader.onnx"
    with pytest.raises(ModelError, match="reader.onnx is missing"):
        Reader(missing).read("Who?", ["Somebody did."])


def test_a_truncated_model_is_a_one_line_error(tmp_path: Path) -> None:
    broken = tmp_path / "reader.onnx"
    broken.write_bytes(MODEL_PATH.read_bytes()[:100_000])
    with pytest.raises(ModelError) as caught:
        Reader(broken).read("Who?", ["Somebody did."])
    assert str(broken) in str(caught.value) and "\n" not in str(caught.value)


def test_reading_never_imports_torch() -> None:
    code = (
        "import sys; from assistant.reader import Reader; "
        "s = Reader().read('Who did it?', ['Somebody did it.']); "
        "print(bool(s), [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True []"


def test_the_card_describes_the_committed_file() -> None:
    card = CARD.read_text()
    digest = hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()
    assert digest in card
    assert MODEL_PATH.stat().st_size <= 26_000_000
    for needed in ("all-MiniLM-L6-v2", "Apache-2.0", "CC BY-SA 4.0", "make train-reader", "F1"):
        assert needed in card
    scores = json.loads(re.search(r"```json\n(.*?)\n```", card, re.S).group(1))  # type: ignore[union-attr]
    assert scores["int8_sha256"] == digest


def test_a_span_never_leaves_a_bracket_open(reader: Reader) -> None:
    text = "Russia is talking with Hayat Tahrir al-Sham (HTS) about its bases, an official said."
    for span in reader.read("Which rebel group is Russia talking with?", [text], per_passage=10):
        assert span.text.count("(") == span.text.count(")"), span.text
        assert text[span.start : span.end] == span.text
