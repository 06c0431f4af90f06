"""RealTime QA's official generation metrics, for the answer line (issue 13).

Written from the data README (../shared/benchmarks/realtimeqa/README.md, "Official metrics")
and its ``score.py``, which re-implement upstream ``scripts/evaluate_main.py`` and
``scripts/utils/tools.py`` at realtimeqa_public@bc15fba7:

* normalisation: lower-case, delete ASCII punctuation (``string.punctuation``), delete the
  counters 年 歳 人 년, collapse white space (no article removal, unlike SQuAD);
* gold strings: the answer choice(s), several answers joined with spaces in every order;
* EM: normalised strings equal; F1: SQuAD token F1 over the white-space tokens; each the
  maximum over the gold strings, averaged over questions (those ending in "except" are left
  out by ``realtimeqa.questions`` already).

The multiple-choice pick made from the answer line: the first candidate (best first) that
matches a choice, by its text or one of the other spellings the line shows with it ("United
Kingdom, also Britain"), a choice matching when its normalised text equals the candidate's, or
one holds the other as whole words ("Avalanche" / "Colorado Avalanche"); no candidate
matching a choice, or no answer line, is wrong.
"""

from __future__ import annotations

import itertools
import string
from collections import Counter
from collections.abc import Sequence

_PUNCTUATION = frozenset(string.punctuation)
_COUNTERS = ("年", "歳", "人", "년")


def normalize_answer(s: str) -> str:
    """Upstream's order: lower, strip ASCII punctuation, drop CJK counters, collapse spaces."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCTUATION)
    for counter in _COUNTERS:
        s = s.replace(counter, "")
    return " ".join(s.split())


def exact_match(prediction: str, truth: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(truth)


def f1(prediction: str, truth: str) -> float:
    pred, gold = normalize_answer(prediction).split(), normalize_answer(truth).split()
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def truths(choices: Sequence[str], gold: Sequence[int]) -> list[str]:
    """The gold strings: with several answers, every order of them joined with spaces."""
    answers = [choices[i] for i in gold]
    return [" ".join(p) for p in itertools.permutations(answers)]


def generation(
    prediction: str | None, choices: Sequence[str], gold: Sequence[int]
) -> tuple[float, float]:
    """(EM, F1) of one prediction; no prediction scores 0 on both."""
    if not prediction:
        return 0.0, 0.0
    golds = truths(choices, gold)
    return float(max(exact_match(prediction, t) for t in golds)), max(
        f1(prediction, t) for t in golds
    )


def _inside(small: str, big: str) -> bool:
    return bool(small) and f" {small} " in f" {big} "


def choice_pick(candidates: Sequence[str], choices: Sequence[str]) -> int | None:
    """The index of the choice the answer line names: the first candidate matching one."""
    forms = [normalize_answer(c) for c in choices]
    for cand in candidates:
        text = normalize_answer(cand)
        if not text:
            continue
        exact = [i for i, f in enumerate(forms) if f == text]
        if exact:
            return exact[0]
        held = [i for i, f in enumerate(forms) if _inside(text, f) or _inside(f, text)]
        if held:
            return max(held, key=lambda i: len(forms[i]))
    return None
