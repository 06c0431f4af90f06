"""Reference IR metrics with trec_eval's definitions, small enough to read.

``ndcg_cut.10``: binary gains here (every SciFact judgment is 1), discount log2(rank + 1),
the ideal ranking built from the qrels alone (all relevant documents first, whether
retrieved or not), queries without a relevant document skipped. trec_eval sorts a run
by score descending and breaks ties by document id descending; ``ranked()`` does the same,
so a run file read back by trec_eval gives these exact numbers. ``recall_100`` is the
share of a query's relevant documents found in its first 100.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Mapping[str, float]]


def ranked(scores: Mapping[str, float]) -> list[str]:
    """Documents in trec_eval's order: score descending, then document id descending."""
    return sorted(scores, key=lambda d: (scores[d], d), reverse=True)


def ndcg_at(qrels: Qrels, run: Run, k: int = 10) -> dict[str, float]:
    out: dict[str, float] = {}
    for qid, judged in qrels.items():
        relevant = {d for d, g in judged.items() if g > 0}
        if not relevant:
            continue
        order = ranked(run.get(qid, {}))[:k]
        dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(order) if d in relevant)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
        out[qid] = dcg / ideal
    return out


def recall_at(qrels: Qrels, run: Run, k: int = 100) -> dict[str, float]:
    out: dict[str, float] = {}
    for qid, judged in qrels.items():
        relevant = {d for d, g in judged.items() if g > 0}
        if relevant:
            out[qid] = len(relevant & set(ranked(run.get(qid, {}))[:k])) / len(relevant)
    return out


def mean(values: Mapping[str, float]) -> float:
    return sum(values.values()) / len(values) if values else 0.0


def ranx_scores(qrels: Qrels, run: Run) -> dict[str, float]:
    """nDCG@10 and Recall@100 from ranx, the standard implementation we check against."""
    from ranx import Qrels as RQrels
    from ranx import Run as RRun
    from ranx import evaluate

    rq = RQrels({q: dict(d) for q, d in qrels.items()})
    rr = RRun({q: dict(run.get(q, {})) or {"__none__": 0.0} for q in qrels})
    got = evaluate(rq, rr, ["ndcg@10", "recall@100"], make_comparable=True)
    return {"ndcg@10": float(got["ndcg@10"]), "recall@100": float(got["recall@100"])}


def read_trec_run(path: str) -> dict[str, dict[str, float]]:
    run: dict[str, dict[str, float]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            qid, _, doc, _, score, _ = line.split()
            run.setdefault(qid, {})[doc] = float(score)
    return run


def write_trec_run(path: str, run: Run, tag: str, depth: int = 100) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for qid in sorted(run, key=lambda q: (len(q), q)):
            for rank, doc in enumerate(ranked(run[qid])[:depth], start=1):
                handle.write(f"{qid} Q0 {doc} {rank} {run[qid][doc]:.6f} {tag}\n")
