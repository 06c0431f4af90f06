"""SciFact (BEIR) retrieval quality of the product's own indexing and retrieval.

    python benchmarks/scifact.py --data ../shared/benchmarks/beir-scifact --split test \\
        --run-file benchmarks/out/scifact-test.run

Indexes every abstract (title + text, one JSONL record each, through the product's .jsonl
reader) into a temporary index (or ``--index DIR``, reused when it already holds the
corpus), runs every query of the split through ``Retriever.search`` and writes a TREC run
(``qid Q0 docid rank score tag``, 100 documents per query, a document scoring as its best
passage). Prints nDCG@10 and Recall@100 from the reference implementation in
``metrics.py`` (trec_eval's definitions) and from ranx, beside the published rows and
the ablations keyword only / dense only / hybrid (the default policy).

The data is read where it lies and copied only into the temporary folder; it never
enters the project.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import gzip
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import metrics  # noqa: E402

from assistant import Library  # noqa: E402
from assistant.retrieve import SearchPolicy  # noqa: E402

FILE = "scifact.jsonl"
DEPTH = 100
PUBLISHED = [  # nDCG@10 on the 300 test queries (see the data's README)
    ("BM25, BEIR paper (Elasticsearch, multifield)", 0.665, None),
    ("BM25, Anserini flat", 0.6789, 0.9253),
    ("BM25, bm25s (MTEB baseline)", 0.68736, 0.91267),
    ("all-MiniLM-L6-v2 (MTEB)", 0.64508, 0.925),
    ("ColBERT (BEIR paper)", 0.671, None),
    ("BM25 + cross-encoder (BEIR paper)", 0.688, None),
    ("bge-small-en-v1.5 (MTEB)", 0.71273, 0.945),
    ("bge-base-en-v1.5 (MTEB)", 0.74345, 0.96267),
]


def load(data: Path, split: str) -> tuple[list[dict], dict[str, str], dict[str, dict[str, int]]]:
    with gzip.open(data / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        corpus = [json.loads(line) for line in handle]
    with open(data / "queries.jsonl", encoding="utf-8") as handle:
        queries = {
            q["_id"]: q["text"] for q in map(json.loads, handle)
        }  # text only, never metadata
    qrels: dict[str, dict[str, int]] = collections.defaultdict(dict)
    with open(data / "qrels" / f"{split}.tsv", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            qid, doc, score = line.rstrip("\n").split("\t")
            qrels[qid][doc] = int(score)
    return corpus, queries, dict(qrels)


def subset(
    corpus: list[dict], qrels: dict, docs: int | None, queries: int | None
) -> tuple[list[dict], dict]:
    """A small slice for tests: the first ``queries`` queries, their relevant documents
    plus the first ``docs`` documents."""
    if queries:
        qrels = dict(sorted(qrels.items(), key=lambda kv: int(kv[0]))[:queries])
    if docs:
        wanted = {d for judged in qrels.values() for d in judged}
        corpus = [d for n, d in enumerate(corpus) if n < docs or d["_id"] in wanted]
    return corpus, qrels


def build(index: Path, corpus: list[dict]) -> tuple[Library, dict[str, float]]:
    folder = index.parent / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE
    lines = [
        json.dumps({"_id": d["_id"], "title": d["title"], "text": d["text"]}, ensure_ascii=False)
        for d in corpus
    ]
    body = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != body:
        path.write_text(body, encoding="utf-8")
    lib = Library(index)
    started = time.perf_counter()
    report = lib.add([folder])
    seconds = time.perf_counter() - started
    if report.skipped:  # a skipped corpus scores 0 everywhere: say why instead
        raise SystemExit("SciFact: " + "; ".join(f"{s.path}: {s.reason}" for s in report.skipped))
    return lib, {
        "seconds": seconds,
        "chunks_embedded": report.chunks,
        "chunks": lib.catalog.count_chunks(),
    }


class _CachedQueries:
    """The ablations ask the same questions; embed each once (not part of any timing)."""

    def __init__(self, embedder):  # type: ignore[no-untyped-def]
        self._embedder, self._cache = embedder, {}

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self._embedder, name)

    def embed_query(self, text: str):  # type: ignore[no-untyped-def]
        if text not in self._cache:
            self._cache[text] = self._embedder.embed_query(text)
        return self._cache[text]


def documents(lib: Library, question: str) -> dict[str, float]:
    """Top DEPTH documents for ``question``, each scoring as its best passage."""
    scores: dict[str, float] = {}
    for passage in lib.retriever.search(question, k=DEPTH * 3):
        doc = passage.document.id.split("#", 1)[1]
        scores.setdefault(doc, round(passage.score, 6))
        if len(scores) == DEPTH:
            break
    return scores


def evaluate(
    lib: Library,
    policy: SearchPolicy,
    queries: dict[str, str],
    qrels: dict,
    run_file: Path | None,
    tag: str,
) -> dict[str, float]:
    lib.retriever.policy = policy
    started = time.perf_counter()
    run = {qid: documents(lib, queries[qid]) for qid in qrels}
    seconds = time.perf_counter() - started
    if run_file:
        metrics.write_trec_run(str(run_file), run, tag, DEPTH)
        run = metrics.read_trec_run(str(run_file))  # score what trec_eval will read
    ours = {
        "ndcg@10": metrics.mean(metrics.ndcg_at(qrels, run)),
        "recall@100": metrics.mean(metrics.recall_at(qrels, run)),
    }
    theirs = metrics.ranx_scores(qrels, run)
    return {
        **ours,
        "ranx_ndcg@10": theirs["ndcg@10"],
        "ranx_recall@100": theirs["recall@100"],
        "ms_per_query": 1000 * seconds / max(len(qrels), 1),
    }


ABLATIONS = {
    "keyword only": {"retrievers": ("keyword",)},
    "dense only": {"retrievers": ("dense",)},
    "hybrid (default)": {},
}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the beir-scifact folder")
    parser.add_argument("--split", choices=("train", "test"), default="test")
    parser.add_argument(
        "--run-file", type=Path, help="where to write the hybrid (default) TREC run"
    )
    parser.add_argument(
        "--index", type=Path, help="index folder to build or reuse (default: a temporary one)"
    )
    parser.add_argument(
        "--docs", type=int, help="only the first N documents (plus the judged ones)"
    )
    parser.add_argument("--queries", type=int, help="only the first N queries of the split")
    parser.add_argument("--no-ablations", action="store_true", help="run the default policy only")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)

    corpus, queries, qrels = load(args.data, args.split)
    corpus, qrels = subset(corpus, qrels, args.docs, args.queries)
    scratch = None if args.index else Path(tempfile.mkdtemp(prefix="scifact-"))
    index = args.index.resolve() if args.index else scratch / "index"
    try:
        lib, built = build(index, corpus)
        lib.retriever.embedder = _CachedQueries(lib.embedder)
        print(
            f"SciFact {args.split}: {len(corpus)} documents, {len(qrels)} queries; index {index} "
            f"({built['chunks']} chunks, {built['chunks_embedded']} embedded in {built['seconds']:.0f} s)"
        )
        default = lib.policy
        rows = {}
        names = ["hybrid (default)"] if args.no_ablations else list(ABLATIONS)
        for name in names:
            policy = dataclasses.replace(default, **ABLATIONS[name])
            run_file = args.run_file if name == "hybrid (default)" else None
            rows[name] = evaluate(lib, policy, queries, qrels, run_file, "assistant")
        lib.close()
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    report(args.split, rows)
    result = {
        "split": args.split,
        "documents": len(corpus),
        "queries": len(qrels),
        "index": built,
        "rows": rows,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


def report(split: str, rows: dict[str, dict[str, float]]) -> None:
    print(f"\n{'run':50s} {'nDCG@10':>8s} {'R@100':>7s}  (ranx nDCG@10, R@100)  ms/query")
    if split == "test":
        for name, ndcg, recall in PUBLISHED:
            print(
                f"{'published: ' + name:50s} {ndcg:8.4f} {recall if recall else float('nan'):7.4f}"
            )
    for name, row in rows.items():
        print(
            f"{'assistant: ' + name:50s} {row['ndcg@10']:8.4f} {row['recall@100']:7.4f}  "
            f"({row['ranx_ndcg@10']:.4f}, {row['ranx_recall@100']:.4f})  {row['ms_per_query']:8.1f}"
        )


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    main()
