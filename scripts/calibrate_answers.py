"""Calibrate the abstention bar on labelled seed questions.

For every question in tests/data/answer_questions.json, the best candidate sentence's
relevance is computed with the bar switched off. The bar is then put in the middle of
the widest gap that best separates answerable from unanswerable questions, and the
accuracy of that bar is printed, also under leave-one-out.

    .venv/bin/python scripts/calibrate_answers.py [INDEX_DIR]    # indexes seeds/ if needed
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


def _ask(lib: Library, question: str, policy: Policy):  # type: ignore[no-untyped-def]
    return lib.ask(question, k=1, policy=policy)


def threshold(pos: list[float], neg: list[float]) -> tuple[float, int]:
    """Midpoint between adjacent scores that makes the fewest errors (widest gap on ties)."""
    points = sorted(set(pos + neg))
    cuts = [(a + b) / 2 for a, b in zip(points, points[1:])]
    def errors(t: float) -> int:
        return sum(p < t for p in pos) + sum(n >= t for n in neg)
    def gap(t: float) -> float:
        return min(abs(t - x) for x in points)
    best = min(cuts, key=lambda t: (errors(t), -gap(t)))
    return best, errors(best)


def main() -> None:
    data = json.loads(QUESTIONS.read_text())
    pos_q = [q for q, _ in data["answerable"]]
    neg_q = data["unanswerable"]
    index = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "index"
    lib = Library(index)
    if not lib.exists():
        lib.add([ROOT / "seeds"])
    pos, neg = best_scores(lib, pos_q), best_scores(lib, neg_q)
    for label, qs, scores in (("answerable", pos_q, pos), ("unanswerable", neg_q, neg)):
        print(f"-- {label}")
        for q, s in sorted(zip(qs, scores), key=lambda x: x[1]):
            print(f"{s:.3f}  {q}")
    bar, wrong = threshold(pos, neg)
    print(f"bar {bar:.3f}: {wrong} of {len(pos) + len(neg)} misjudged; "
          f"lowest answerable {min(pos):.3f}, highest unanswerable {max(neg):.3f}")
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
