"""The reader's training data and metric (training/reader.py), without training anything."""

from __future__ import annotations

import sys

import pytest

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "training"))
import reader as training  # noqa: E402

needs_data = pytest.mark.skipif(
    not (training.SQUAD / "train-du-v1.1.json.gz").exists(), reason="../shared absent"
)


def test_the_metric_is_squads() -> None:
    assert training.normalize("The  Denver Broncos!") == "denver broncos"
    assert training.f1("Denver Broncos", "the Denver Broncos") == 1.0
    assert round(training.f1("Broncos won", "Denver Broncos"), 3) == 0.5
    examples = [
        {"id": "a", "answers": ["Denver Broncos", "Broncos"]},
        {"id": "b", "answers": ["1815"]},
    ]
    assert training.score({"a": "broncos", "b": "in 1815"}, examples) == {
        "exact_match": 50.0,
        "f1": 83.33,
        "n": 2,
    }


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(training.base_path())


def test_windows_point_at_the_answer_or_at_cls(tokenizer) -> None:  # type: ignore[no-untyped-def]
    context = (
        " ".join(f"Sentence {i} says nothing of note." for i in range(60))
        + " The treaty was signed in Vienna."
    )
    example = {
        "question": "Where was the treaty signed?",
        "context": context,
        "answers": ["Vienna"],
        "starts": [context.index("Vienna")],
        "group": "g",
        "paragraph": "p",
    }
    pairs = training.question_pairs([example], negatives=0.0, seed=0)
    feats = training.train_features(tokenizer, pairs, max_len=64, stride=16)
    assert len(feats) > 5  # the context spans many windows
    answered = [f for f in feats if f[2]]
    assert len(answered) == 1  # only the last window holds the answer: the others learn "no answer"
    ids, _, start, end = answered[0]
    assert tokenizer.decode(ids[start : end + 1]) == "vienna"
    assert all(f[2] == f[3] == 0 for f in feats if f is not answered[0])


def test_hard_negatives_are_look_alikes_that_do_not_answer() -> None:
    paragraphs = [
        "The treaty was signed in Vienna in 1815 by the great powers.",  # the question's own
        "The treaty's signing powers met again in Paris, not in Vienna.",  # holds the answer
        "The great powers signed the treaty after long talks.",  # the look-alike
        "Rainfall in the region is highest in spring.",
    ]

    def example(i: int, question: str, answer: str) -> dict:  # type: ignore[type-arg]
        context = paragraphs[i]
        return {
            "question": question,
            "context": context,
            "answers": [answer],
            "starts": [context.index(answer)],
            "group": "squad-0",
            "paragraph": f"squad-0-{i}",
        }

    examples = [
        example(0, "Where did the great powers sign the treaty?", "Vienna"),
        example(3, "When is rainfall highest?", "spring"),
        example(2, "Who signed the treaty?", "great powers"),
        example(1, "Where did the powers meet again?", "Paris"),
    ]
    pairs = training.hard_negatives(examples, per_question=1)
    first = [p for p in pairs if p[0] == examples[0]["question"]]
    assert first == [(examples[0]["question"], paragraphs[2], -1, "")]
    for question, context, start, text in pairs:
        asked = next(e for e in examples if e["question"] == question)
        assert context != asked["context"] and asked["answers"][0] not in context
        assert (start, text) == (-1, "")


@needs_data
def test_training_data_never_holds_a_dev_article_or_a_2022_week() -> None:
    train = training.squad_examples(training.SQUAD / "train-du-v1.1.json.gz")
    dev = training.squad_examples(training.SQUAD / "dev-a-v1.1.json.gz")
    assert not {e["context"] for e in train} & {e["context"] for e in dev}
    news = training.rtqa_examples(training.RTQA)
    assert len(news) > 2000 and not any(e["id"].startswith("2022") for e in news)
    for e in news[:200]:
        assert e["context"][e["starts"][0] :].startswith(e["answers"][0])
