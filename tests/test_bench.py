"""The benchmark's own pieces: the reference nDCG agrees with ranx, and
benchmarks/scifact.py runs end to end on a tiny slice of SciFact (skipped without the data)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import metrics  # noqa: E402

DATA = ROOT.parent / "shared" / "benchmarks" / "beir-scifact"


pytestmark = pytest.mark.bench


def test_reference_ndcg_matches_a_hand_computed_case() -> None:
    qrels = {"q": {"a": 1, "b": 1}}
    run = {"q": {"x": 3.0, "a": 2.0, "y": 1.0, "b": 0.5}}
    # relevant at ranks 2 and 4; ideal puts both first
    expected = (1 / 1.584962500721156 + 1 / 2.321928094887362) / (1 + 1 / 1.584962500721156)
    assert metrics.mean(metrics.ndcg_at(qrels, run)) == pytest.approx(expected)
    assert metrics.mean(metrics.recall_at(qrels, run, 3)) == 0.5


def test_reference_ndcg_and_recall_match_ranx_on_random_runs() -> None:
    pytest.importorskip("ranx")
    rng = random.Random(3)
    docs = [f"d{i}" for i in range(60)]
    qrels = {f"q{i}": {d: 1 for d in rng.sample(docs, rng.randint(1, 5))} for i in range(40)}
    run = {q: {d: round(rng.random(), 3) for d in rng.sample(docs, 50)} for q in qrels}
    ranx = metrics.ranx_scores(qrels, run)
    assert metrics.mean(metrics.ndcg_at(qrels, run)) == pytest.approx(ranx["ndcg@10"], abs=1e-9)
    assert metrics.mean(metrics.recall_at(qrels, run)) == pytest.approx(
        ranx["recall@100"], abs=1e-9
    )


def test_trec_run_file_round_trips(tmp_path: Path) -> None:
    run = {"1": {"a": 0.5, "b": 0.25}, "10": {"c": 1.0}}
    path = tmp_path / "x.run"
    metrics.write_trec_run(str(path), run, "tag")
    lines = path.read_text().splitlines()
    assert lines[0] == "1 Q0 a 1 0.500000 tag" and len(lines) == 3
    assert metrics.read_trec_run(str(path)) == run


@pytest.mark.skipif(not (DATA / "corpus.jsonl.gz").exists(), reason="SciFact data not present")
def test_scifact_benchmark_runs_on_a_tiny_slice(tmp_path: Path) -> None:
    import scifact

    run_file = tmp_path / "tiny.run"
    result = scifact.main(
        [
            "--data",
            str(DATA),
            "--split",
            "test",
            "--docs",
            "20",
            "--queries",
            "4",
            "--run-file",
            str(run_file),
            "--index",
            str(tmp_path / "index"),
        ]
    )
    rows = result["rows"]
    assert set(rows) == {"keyword only", "dense only", "hybrid (default)"}
    for row in rows.values():
        assert row["ndcg@10"] == pytest.approx(row["ranx_ndcg@10"], abs=1e-9)
        assert 0 < row["ndcg@10"] <= 1
    lines = run_file.read_text().splitlines()
    qid, q0, doc, rank, score, tag = lines[0].split()
    assert q0 == "Q0" and rank == "1" and tag == "assistant" and "#" not in doc


def test_scale_corpus_is_sentences_in_distinct_copies() -> None:
    import speed

    docs = [
        {"_id": "1", "title": "T one", "text": "First claim here. Second claim there."},
        {"_id": "2", "title": "T two", "text": "Only one sentence."},
    ]
    out = speed.sentence_docs(docs, 7)
    assert len(out) == 7 and len({d["_id"] for d in out}) == 7
    assert len({(d["title"], d["text"]) for d in out}) == 7  # no two chunks alike
    assert [d["text"] for d in out[:3]] == [
        "First claim here.",
        "Second claim there.",
        "Only one sentence.",
    ]


def test_study_scores_a_document_as_its_best_chunk_with_optional_document_context() -> None:
    import types

    import numpy as np
    import study

    corpus = types.SimpleNamespace(
        docs=[{}, {}, {}], chunks=study.Units(np.zeros((4, 2)), np.array([0, 0, 1, 2]))
    )
    features = study.Features(
        ["cos", "bm25"], {"q": (np.array([0, 1, 2]), np.array([[0.8, 0.2, 0.6], [0.0, 1.0, 0.4]]))}
    )
    weights = {"cos": 0.5, "bm25": 0.5}
    plain = features.score(corpus, "q", weights)  # type: ignore[arg-type]
    assert (
        plain[:2] == pytest.approx([0.6, 0.5]) and plain[2] == -np.inf
    )  # document 2 was no candidate
    # with context, document 0 also counts its best cosine (0.8) and best BM25 (1.0) together
    mixed = features.score(corpus, "q", weights, context=0.5)  # type: ignore[arg-type]
    assert mixed[:2] == pytest.approx([0.5 * 0.6 + 0.5 * 0.9, 0.5]) and mixed[2] == -np.inf


@pytest.mark.skipif(not (DATA / "corpus.jsonl.gz").exists(), reason="SciFact data not present")
def test_study_rescoring_equals_the_product_on_a_tiny_slice(tmp_path: Path) -> None:
    """The study's first row re-scores the product's candidates in numpy; it must give what
    the product's own retrieval gives on the same index, or every other row means nothing."""
    import scifact
    import study

    index = tmp_path / "index"
    product = scifact.main(
        [
            "--data",
            str(DATA),
            "--split",
            "test",
            "--docs",
            "30",
            "--queries",
            "6",
            "--index",
            str(index),
            "--no-ablations",
        ]
    )
    table = study.main(
        [
            "--data",
            str(DATA),
            "--index",
            str(index),
            "--work",
            str(tmp_path / "work"),
            "--docs",
            "30",
            "--queries",
            "6",
        ]
    )
    name, _train, test = table[0]
    assert name.startswith("the product's hybrid")
    assert test == pytest.approx(product["rows"]["hybrid (default)"]["ndcg@10"], abs=1e-9)
    assert len(table) == 18 and all(0 <= train <= 1 and 0 <= test <= 1 for _, train, test in table)


def test_realtimeqa_pools_no_figures_across_splits(capsys: pytest.CaptureFixture[str]) -> None:
    # --split all exists to build every week's index at once; asking over it would mix the
    # tuned-on dev weeks into the test figures.
    import realtimeqa

    with pytest.raises(SystemExit) as stopped:
        realtimeqa.main(["--split", "all"])
    assert stopped.value.code == 2
    assert "--build-only" in capsys.readouterr().err


def test_list_item_f1_splits_the_gold_answer_into_items() -> None:
    sys.path.insert(0, str(ROOT / "training"))
    import squad_folder

    gold = ["Beyoncé and Bruno Mars", "Beyoncé"]
    assert squad_folder.items(gold[0]) == ["Beyoncé", "Bruno Mars"]
    assert squad_folder.item_f1(["Bruno Mars", "the Beyoncé"], gold) == 1.0
    assert squad_folder.item_f1(["Beyoncé"], gold) == 1.0  # the best of the gold answers
    assert round(squad_folder.item_f1(["Bruno Mars", "Coldplay"], gold), 3) == 0.5
    assert squad_folder.item_f1([], gold) == 0.0
