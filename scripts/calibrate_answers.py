"""Calibrate the abstention bar on labelled seed questions and the RealTime QA dev weeks.

For every question in tests/data/answer_questions.json, the best candidate sentence's
relevance is computed with the bar switched off; with ``--dev``, also for every question of
the RealTime QA dev weeks (benchmarks/realtimeqa.py builds their indexes), labelled
answerable when a gold choice's text is in that week's articles. The bar is then put in the
middle of the widest gap among the cuts that misjudge fewest questions of both sets
together: refusing an answerable question costs as much as answering an unanswerable one.
The misjudged counts are printed per set, also under leave-one-out.

    .venv/bin/python scripts/calibrate_answers.py [INDEX_DIR] [--dev]   # indexes seeds/ if needed
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from assistant import Library
from assistant.answer import Policy

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "answer_questions.json"


def best_scores(lib: Library, questions: list[str]) -> list[float]:
    """The relevance of each question's best sentence, with no bar at all."""
    open_policy = replace(Policy(), bar=-1.0)
    out = []
    for q in questions:
        answer = _ask(lib, q, open_policy)
        out.append(max((x.score for x in answer.quotes), default=0.0))
    return out


# Not k=1: the first quote is the best *ranked* (Policy.by_rank), and the bar asks whether any
# sentence is relevant enough, so the most relevant must be among the quotes read.
CANDIDATES = 50


def _ask(lib: Library, question: str, policy: Policy):  # type: ignore[no-untyped-def]
    return lib.ask(question, k=CANDIDATES, policy=policy)


def threshold(
    pos: list[float], neg: list[float], prefer: tuple[list[float], list[float]] | None = None
) -> tuple[float, int]:
    """Midpoint between adjacent scores that makes the fewest errors. Ties go to the cut
    that misjudges fewest of ``prefer`` (the hand-labelled seeds, whose labels are exact where
    the dev labels come from string matching), then to the widest gap."""
    points = sorted(set(pos + neg))
    cuts = [(a + b) / 2 for a, b in zip(points, points[1:])]

    def errors(t: float, p: list[float] = pos, n: list[float] = neg) -> int:
        return sum(x < t for x in p) + sum(x >= t for x in n)

    def gap(t: float) -> float:
        return min(abs(t - x) for x in points)

    best = min(cuts, key=lambda t: (errors(t), errors(t, *prefer) if prefer else 0, -gap(t)))
    return best, errors(best)


def dev_scores() -> tuple[list[float], list[float]]:
    """Best-sentence relevance of the RealTime QA dev questions: (answerable, unanswerable)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import realtimeqa

    pos, neg = [], []
    for week in realtimeqa.DEV:
        if not (realtimeqa.WEEKS_DIR / week / "index").exists():
            print(
                f"dev week {week}: not built (run benchmarks/realtimeqa.py --split dev), left out",
                file=sys.stderr,
            )
            continue
        qs = realtimeqa.questions(week)
        arts = realtimeqa.articles(week, qs)
        haystack = realtimeqa.norm("\n".join(a.text for a in arts))
        lib, _ = realtimeqa.index_week(week, realtimeqa.write_folder(week, arts))
        for q, score in zip(qs, best_scores(lib, [q.text for q in qs])):
            answerable = any(realtimeqa.find(haystack, q.choices[g]) >= 0 for g in q.gold)
            (pos if answerable else neg).append(score)
        lib.close()
    return pos, neg


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--dev"]
    data = json.loads(QUESTIONS.read_text())
    pos_q = [q for q, _ in data["answerable"]]
    neg_q = data["unanswerable"]
    index = Path(args[0]) if args else Path(tempfile.mkdtemp()) / "index"
    lib = Library(index)
    if not lib.exists():
        lib.add([ROOT / "seeds"])
    pos, neg = best_scores(lib, pos_q), best_scores(lib, neg_q)
    for label, qs, scores in (("answerable", pos_q, pos), ("unanswerable", neg_q, neg)):
        print(f"-- {label}")
        for q, s in sorted(zip(qs, scores), key=lambda x: x[1]):
            print(f"{s:.3f}  {q}")
    seeds = (pos, neg)
    if "--dev" in sys.argv:
        dev_pos, dev_neg = dev_scores()
        pos, neg = pos + dev_pos, neg + dev_neg
    bar, wrong = threshold(pos, neg, seeds if "--dev" in sys.argv else None)
    print(
        f"bar {bar:.3f}: {wrong} of {len(pos) + len(neg)} misjudged; "
        f"lowest answerable {min(pos):.3f}, highest unanswerable {max(neg):.3f}"
    )
    if "--dev" in sys.argv:
        for label, (p, n) in (("seeds", seeds), ("dev", (dev_pos, dev_neg))):
            print(
                f"  {label}: {sum(x < bar for x in p)} of {len(p)} answerable refused, "
                f"{sum(x >= bar for x in n)} of {len(n)} unanswerable answered"
            )
    loo = 0
    for i in range(len(pos)):
        t, _ = threshold(pos[:i] + pos[i + 1 :], neg)
        loo += pos[i] < t
    for i in range(len(neg)):
        t, _ = threshold(pos, neg[:i] + neg[i + 1 :])
        loo += neg[i] >= t
    print(f"leave-one-out: {loo} of {len(pos) + len(neg)} misjudged")


if __name__ == "__main__":
    main()
