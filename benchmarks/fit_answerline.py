"""Fits the answer line's weights and the quotes' reader weights on dev data only.

    python benchmarks/fit_answerline.py collect [--squad N] [--weeks all|W1,W2]   # reads, caches
    python benchmarks/fit_answerline.py fit                                          # fits, prints
    python benchmarks/fit_answerline.py collect --squad 0 --weeks "" --lists --cache F  # then
    python benchmarks/fit_answerline.py fit --lists --cache F                        # LIST_WEIGHTS

Dev data: SQuAD dev-a indexed as a folder (``squad_folder.py``; questions drawn with seed 11, so
not the 500 that squad_folder.py reports by default; the same articles: dev data) and
the RealTime QA dev weeks (``realtimeqa.py --split dev``). Never a test week.

``collect`` asks each question through the product's own parts (``pipeline.py``: the same
retrieval, the same reader, ``answerline.gather``) and caches, per question, the candidates'
features with their labels (the candidate is an exact match of a gold answer under the set's
official normalisation) and what the quotes are built from, in benchmarks/out/answerline-dev.pkl.

``fit``:
1. the line: logistic regression over ``answerline.FEATURES``, every candidate a row,
   cross-validated by group (a SQuAD article, a RealTime QA week: no group is both fitted and
   scored); reported per set: line EM (the most likely candidate, shown when over the bar), the
   share shown and its precision. The bar: where, on the cross-validated probabilities, refusing a
   line that would be right costs as much as showing one that is wrong.
2. the quotes: ``answer.Policy.reader`` and ``read_rank`` on a small grid, recall@1 / @3 per set,
   with the fitted line weights.
3. ``--lists``: ``LIST_WEIGHTS`` on dev-a's list questions ("Which performers ...", "What two
   ..."; ``answerline.is_list``), every item a row, cross-validated by article; the bar where the
   mean item F1 is best (the items listed against the gold answer split into its items, "Beyoncé
   and Bruno Mars" two).
4. ``--rank``: the weights that only order the quotes (``RANK``), by coordinate search,
   cross-validated over groups dealt into five folds; prints today's recall beside the held-out
   one (2026-12-08: no better, so today's weights stay; benchmarks/JOURNAL.md).
Prints the weights to paste into ``answerline.Weights`` / ``answer.Policy``.
"""

from __future__ import annotations

import argparse
import pickle
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "training"))

CACHE = HERE / "out" / "answerline-dev.pkl"
# The quotes' reader weights tried: (Policy.reader, Policy.read_rank).
GRID = ((0.0, 0.0), (0.3, 0.3), (0.4, 0.6), (0.5, 0.6), (0.4, 0.9), (0.5, 0.9), (0.6, 0.9))


def _squad_questions(n: int) -> list[dict]:
    import reader as training

    examples = training.squad_examples(training.SQUAD / "dev-a-v1.1.json.gz")
    return random.Random(11).sample(examples, n) if n < len(examples) else examples


def _collect_one(lib, reader, question: str, as_of: str | None, k: int = 5) -> dict:  # type: ignore[no-untyped-def]
    from assistant import answer, answerline
    from assistant.types import Filters

    filters = Filters(as_of=as_of)
    catalog = lib.catalog
    with catalog.snapshot():
        passages = lib.retriever.search(question, answer.passages_wanted(k), filters)
        wanted = answerline.LIST_READ if answerline.is_list(question) else answerline.READ
        spans = reader.read(question, passages[:wanted])
        spelling = answerline.canonical(catalog.keywords.variants)
        spellings = {w: spelling(w) for x in spans for w in answerline.words_of(x.text)}
        found = answerline.gather(question, spans, passages, spelling)
        every = catalog.count_docs()
        terms = answer.weigh_terms(question, catalog.keywords.variants, catalog.keywords.df, every)
        texts = {p.document.id: lib.text(p.document.id) for p in passages}
    return {
        "question": question,
        "passages": passages,
        "found": found,
        "spans": spans,
        "spellings": spellings,
        "terms": terms,
        "texts": texts,
        "reference": filters.reference(),
    }


def _squad_rows(reader, examples: list[dict], name: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """``examples`` of dev-a asked over its folder index (built on first use), as set ``name``."""
    import squad_folder

    from assistant import Library

    rows = []
    folder = squad_folder.build_folder()
    with Library(squad_folder.OUT / "index") as lib:
        if not lib.exists():
            lib.add([folder])
        for ex in examples:
            row = _collect_one(lib, reader, ex["question"], None)
            row.update(set=name, group=ex["group"], answers=ex["answers"])
            rows.append(row)
    return rows


def collect(args: argparse.Namespace) -> None:
    import realtimeqa as rt

    from assistant import Library
    from assistant.reader import Reader

    reader = Reader()
    rows: list[dict] = []
    began = time.perf_counter()
    if args.squad:
        rows += _squad_rows(reader, _squad_questions(args.squad), "squad")
        print(f"squad: {len(rows)} questions, {time.perf_counter() - began:.0f} s", flush=True)
    if args.lists:  # every list question of dev-a ("Which bases ...", "What two ..."): LIST_WEIGHTS
        import reader as training

        from assistant import answerline

        examples = training.squad_examples(training.SQUAD / "dev-a-v1.1.json.gz")
        asked = [ex for ex in examples if answerline.is_list(ex["question"])]
        rows += _squad_rows(reader, asked, "lists")
        print(f"lists: {len(rows)} questions, {time.perf_counter() - began:.0f} s", flush=True)
    weeks = rt.DEV if args.weeks == "all" else tuple(w for w in args.weeks.split(",") if w)
    for week in weeks:
        if not (rt.WEEKS_DIR / week / "index").is_dir():
            print(f"{week}: not built, left out", flush=True)
            continue
        qs, arts, lib, _ = rt.build_week(week)
        haystack = rt.norm("\n".join(a.text for a in arts))
        with lib:
            for q in qs:
                row = _collect_one(lib, reader, q.text, q.date.replace("/", "-"))
                row.update(
                    set="rtqa",
                    group=week,
                    answers=[q.choices[g] for g in q.gold],
                    choices=q.choices,
                    gold=q.gold,
                    answerable=any(rt.find(haystack, q.choices[g]) >= 0 for g in q.gold),
                )
                rows.append(row)
        print(f"{week}: {len(qs)} questions, {time.perf_counter() - began:.0f} s", flush=True)
    if args.seeds:  # the labelled seed questions: for the abstention bar
        import json

        labelled = json.loads((ROOT / "tests" / "data" / "answer_questions.json").read_text())
        with Library(HERE / "out" / "seeds-index") as lib:
            if not lib.exists():
                lib.add([ROOT / "seeds"])
            for question, words in labelled["answerable"]:
                row = _collect_one(lib, reader, question, None)
                row.update(set="seeds", group="seeds", answers=words, answerable=True)
                rows.append(row)
            for question in labelled["unanswerable"]:
                row = _collect_one(lib, reader, question, None)
                row.update(set="seeds", group="seeds", answers=[], answerable=False)
                rows.append(row)
    args.cache.parent.mkdir(exist_ok=True)
    with args.cache.open("wb") as f:
        pickle.dump(rows, f)
    print(f"{len(rows)} questions cached in {args.cache}")


def regather(rows: list[dict], by_passage: bool = False) -> None:
    """Each row's candidates made again from its cached spans (as the product makes them now),
    with their labels: the candidate's text is an exact match of a gold answer under the set's
    official normalisation (the seeds' rows get none: they calibrate the quotes' bar only)."""
    import reader as training
    import rtqa_answers as gen
    import squad_folder

    from assistant import answerline

    for row in rows:
        spans = row.get("spans") or [s for f in row["found"] for s, _ in f.spans]
        spellings = row.get("spellings", {})
        row["found"] = answerline.gather(
            row["question"],
            spans,
            row["passages"],
            lambda w, m=spellings: m.get(w, w),
            by_passage=by_passage,
        )
        texts = [f.best[0].text for f in row["found"]]
        if row["set"] == "squad":
            row["labels"] = [training.matches(t, row["answers"])[0] == 1.0 for t in texts]
        elif row["set"] == "lists":
            golds = {training.normalize(i) for a in row["answers"] for i in squad_folder.items(a)}
            row["labels"] = [training.normalize(t) in golds for t in texts]
        elif row["set"] == "rtqa":
            row["labels"] = [
                gen.generation(t, row["choices"], row["gold"])[0] == 1.0 for t in texts
            ]
        else:
            row["labels"] = [False] * len(texts)


def _item_f1(rows: list[dict], probs, owner, bar: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Mean item F1 of the listed candidates (those at ``bar`` or over) against the best of each
    question's gold answers, split into items; and the share of questions given a list."""
    import numpy as np
    from squad_folder import item_f1

    total = given = 0.0
    for i, row in enumerate(rows):
        mine = np.where(owner == i)[0]
        listed = [row["found"][j - mine[0]].best[0].text for j in mine if probs[j] >= bar]
        given += bool(listed)
        total += item_f1(listed, row["answers"])
    return total / len(rows), given / len(rows)


def fit_lists(rows: list[dict], c: float) -> None:
    """LIST_WEIGHTS: every item of every list question a row, cross-validated by article; the bar
    is where the mean item F1 (every listed item against the gold answer's items) is best."""
    import numpy as np

    from assistant.answerline import FEATURES, LIST_WEIGHTS

    X, y, owner = _matrix(rows)
    cv = _cross_validated(X, y, [rows[i]["group"] for i in owner], c)
    w = np.array([getattr(LIST_WEIGHTS, n) for n in FEATURES])
    today = 1 / (1 + np.exp(-(LIST_WEIGHTS.bias + X @ w)))
    print(f"{len(rows)} list questions, {len(y)} items, {y.mean():.3f} right")
    f1, given = _item_f1(rows, today, owner, LIST_WEIGHTS.bar)
    print(
        f"  LIST_WEIGHTS today (bar {LIST_WEIGHTS.bar}): item F1 {f1:.3f}, a list for {given:.2f}"
    )
    bars = [(*_item_f1(rows, cv, owner, b), float(b)) for b in np.arange(0.05, 0.9, 0.025)]
    f1, given, bar = max(bars, key=lambda x: (x[0], x[2]))
    print(f"  cross-validated, bar {bar:.3f}: item F1 {f1:.3f}, a list for {given:.2f}")
    weights = _weights(X, y, c)
    print(
        "LIST_WEIGHTS = Weights(",
        ", ".join(f"{k}={v}" for k, v in weights.items()),
        f", bar={bar:.3f})",
    )


def _cross_validated(X, y, groups, c: float, weight=None):  # type: ignore[no-untyped-def]
    """Each row's probability from a logistic model fitted on the other four of five folds,
    a group (a SQuAD article, a RealTime QA week) never split between folds."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    names = sorted(set(groups))
    random.Random(5).shuffle(names)
    fold_of = {g: n % 5 for n, g in enumerate(names)}
    folds = np.array([fold_of[g] for g in groups])
    weight = np.ones(len(y)) if weight is None else weight
    cv = np.zeros(len(y))
    for k in range(5):
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(X[folds != k], y[folds != k], sample_weight=weight[folds != k])
        cv[folds == k] = model.predict_proba(X[folds == k])[:, 1]
    return cv


def _weights(X, y, c: float, weight=None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The logistic model fitted on every row: ``answerline.Weights``'s fields but the bar."""
    from sklearn.linear_model import LogisticRegression

    from assistant.answerline import FEATURES

    model = LogisticRegression(C=c, max_iter=2000).fit(X, y, sample_weight=weight)
    weights = dict(zip(FEATURES, (round(float(w), 4) for w in model.coef_[0])))
    weights["bias"] = round(float(model.intercept_[0]), 4)
    return weights


def _matrix(rows: list[dict]):  # type: ignore[no-untyped-def]
    import numpy as np

    from assistant.answerline import FEATURES

    X, y, owner = [], [], []
    for i, row in enumerate(rows):
        for f, label in zip(row["found"], row["labels"]):
            X.append([f.features[n] for n in FEATURES])
            y.append(label)
            owner.append(i)
    return np.array(X), np.array(y, dtype=int), np.array(owner)


def _line_scores(rows: list[dict], probs, owner, bar: float) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    import numpy as np

    out: dict[str, dict] = {}
    for name in sorted({r["set"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["set"] == name]
        right = shown = 0
        for i in idx:
            mine = np.where(owner == i)[0]
            if len(mine) == 0:
                continue
            top = mine[int(np.argmax(probs[mine]))]
            if probs[top] >= bar:
                shown += 1
                right += int(rows[i]["labels"][top - mine[0]])
        out[name] = {
            "questions": len(idx),
            "line_em": round(right / len(idx), 4),
            "shown": round(shown / len(idx), 4),
            "precision": round(right / max(1, shown), 4),
        }
    return out


def fit(args: argparse.Namespace) -> None:
    import numpy as np

    every = []
    for path in args.cache:
        with path.open("rb") as f:
            every += pickle.load(f)
    if args.lists:
        rows = [r for r in every if r["set"] == "lists"]
        regather(rows, by_passage=True)
        fit_lists(rows, args.c)
        return
    regather(every, by_passage=args.by_passage)
    rows = [r for r in every if r["set"] not in ("seeds", "lists")]
    X, y, owner = _matrix(rows)
    # Each set weighs as much as the other (RealTime QA's weeks hold far fewer questions).
    sets = np.array([rows[i]["set"] for i in owner])
    weight = np.ones(len(y))
    for name in set(sets):
        weight[sets == name] = len(y) / (len(set(sets)) * (sets == name).sum())
    groups = [f"{rows[i]['set']}:{rows[i]['group']}" for i in owner]
    cv = _cross_validated(X, y, groups, args.c, weight)
    # The bar: refusing a right line costs as much as showing a wrong one.
    best_bar, best_cost = 0.5, float("inf")
    for bar in np.arange(0.05, 0.95, 0.025):
        cost = 0
        for i in range(len(rows)):
            mine = np.where(owner == i)[0]
            if len(mine) == 0:
                continue
            top = mine[int(np.argmax(cv[mine]))]
            right = bool(y[top])
            cost += int(cv[top] >= bar and not right) + int(cv[top] < bar and right)
        if cost < best_cost:
            best_bar, best_cost = float(bar), cost
    print(f"{len(rows)} questions, {len(y)} candidates, {y.mean():.3f} right")
    print("cross-validated line, bar", round(best_bar, 3))
    for name, s in _line_scores(rows, cv, owner, best_bar).items():
        print(f"  {name}: {s}")
    for name, s in _line_scores(rows, cv, owner, 0.0).items():
        print(f"  {name}, always shown: {s}")
    weights = _weights(X, y, args.c, weight)
    print("Weights(", ", ".join(f"{k}={v}" for k, v in weights.items()), f", bar={best_bar:.3f})")
    # The quotes: every labelled row, and the first --quote-squad SQuAD ones (embedding is slow).
    squad = [r for r in every if r["set"] == "squad"][: args.quote_squad]
    quoted = [r for r in every if r["set"] in ("rtqa", "seeds")] + squad
    if args.quotes:
        quotes(quoted, weights, best_bar)
    if args.rank:
        rank(quoted, weights, best_bar)


def _builder(rows: list[dict], weights: dict, bar: float):  # type: ignore[no-untyped-def]
    """``build(row, policy)``: the answer to a cached row under ``policy``, the line's weights
    applied to its candidates first; and ``keep()``, which saves the sentence vectors for the
    next run (embedding them is most of the first run's time)."""
    import squad_folder

    from assistant import Library, answer, answerline

    w = answerline.Weights(**weights, bar=bar)
    vectors = Library(squad_folder.OUT / "index").sentence_vectors  # the product's scorer
    saved = HERE / "out" / "answerline-vectors.pkl"  # sentence vectors kept between runs
    if saved.exists():
        with saved.open("rb") as f:
            vectors._cache.update(pickle.load(f))
    vectors.limit = 10**7
    for row in rows:
        answerline.weigh(row["found"], w)
        row["likely"] = answerline.likely_by_sentence(row["found"])

    def build(row: dict, policy: answer.Policy) -> answer.Answer:
        return answer.build(
            row["question"],
            row["passages"],
            row["terms"],
            vectors,
            texts=row["texts"],
            policy=policy,
            reference=row["reference"],
            likely=row["likely"],
        )

    def keep() -> None:
        with saved.open("wb") as f:
            pickle.dump(vectors._cache, f)

    return build, keep


def quotes(rows: list[dict], weights: dict, bar: float) -> None:
    """The quotes' reader weights on a small grid (recall@1/3 per set at today's bar), then
    the abstention bar for the best of them: each question's best relevance, the bar where
    fewest of the labelled questions (the seeds', RealTime QA dev's) are misjudged, a refused
    answerable one and an answered unanswerable one counting one each."""
    from assistant import answer

    build, keep = _builder(rows, weights, bar)
    base = answer.Policy()
    best: tuple[float, answer.Policy] = (-1.0, base)
    for reader_w, rank_w in GRID:
        policy = replace(base, reader=reader_w, read_rank=rank_w)
        hits = _recall(rows, [build(r, policy) for r in rows])
        line = ", ".join(f"{name} r@1 {h[0]:.3f} r@3 {h[1]:.3f}" for name, h in hits.items())
        print(f"reader={reader_w} read_rank={rank_w}: {line}", flush=True)
        total = sum(h[0] + h[1] for h in hits.values())
        if total > best[0]:
            best = (total, policy)
    keep()
    policy = best[1]
    open_bar = replace(policy, bar=-9.0, support=-9.0)
    labelled = [r for r in rows if "answerable" in r]
    relevance = [max((q.score for q in build(r, open_bar).quotes), default=-9.0) for r in labelled]
    cuts = sorted(set(relevance))
    choices = []
    for lo, hi in zip(cuts, cuts[1:]):
        cut = (lo + hi) / 2
        wrong = sum((rel >= cut) != r["answerable"] for rel, r in zip(relevance, labelled))
        seeds = sum(
            (rel >= cut) != r["answerable"]
            for rel, r in zip(relevance, labelled)
            if r["set"] == "seeds"
        )
        choices.append((wrong, seeds, -(hi - lo), cut))
    wrong, seeds, _, cut = min(choices)
    print(f"bar {cut:.3f}: {wrong} of {len(labelled)} misjudged ({seeds} seeds)")
    final = replace(policy, bar=round(cut, 3))
    hits = _recall(rows, [build(r, final) for r in rows])
    print(
        f"Policy(reader={final.reader}, read_rank={final.read_rank}, bar={final.bar}):",
        ", ".join(f"{name} r@1 {h[0]:.3f} r@3 {h[1]:.3f}" for name, h in hits.items()),
    )


# --rank: the weights that only order the quotes (never whether the articles answer: that is
# relevance against the bar), searched one at a time over multiples of today's values.
RANK = ("passage", "read_rank", "keyword_rank", "dense_rank", "mmr", "same_document")
STEPS = (0.0, 0.5, 0.75, 1.0, 1.5, 2.0)


def rank(rows: list[dict], weights: dict, bar: float, folds: int = 5) -> None:
    """The quotes' ranking weights by coordinate search (two rounds) on recall@1 + @3 summed over
    the sets, cross-validated: the groups (SQuAD articles, RealTime QA weeks, the seeds) dealt
    into ``folds``, each fold scored with the weights searched on the others; then the search on
    every row, whose weights are printed."""
    from assistant import answer

    build, keep = _builder(rows, weights, bar)
    base = answer.Policy()
    memo: dict[tuple[int, answer.Policy], answer.Answer] = {}

    def hits(row_ids: list[int], policy: answer.Policy) -> dict[str, tuple[float, float]]:
        built = []
        for i in row_ids:
            if (i, policy) not in memo:
                memo[(i, policy)] = build(rows[i], policy)
            built.append(memo[(i, policy)])
        return _recall([rows[i] for i in row_ids], built)

    def search(row_ids: list[int]) -> answer.Policy:
        policy = base
        best = sum(a + b for a, b in hits(row_ids, policy).values())
        for _ in range(2):
            for name in RANK:
                for step in STEPS:
                    tried = replace(policy, **{name: round(getattr(base, name) * step, 4)})
                    total = sum(a + b for a, b in hits(row_ids, tried).values())
                    if total > best + 1e-9:
                        best, policy = total, tried
            memo.clear()  # the next round starts elsewhere: keep memory flat
        return policy

    group = [f"{r['set']}:{r.get('group', '')}" for r in rows]
    dealt = random.Random(5).sample(sorted(set(group)), len(set(group)))
    fold_by_group = {g: n % folds for n, g in enumerate(dealt)}
    fold_of = [fold_by_group[g] for g in group]
    held: dict[int, answer.Answer] = {}
    for fold in range(folds):
        policy = search([i for i in range(len(rows)) if fold_of[i] != fold])
        print(f"fold {fold}: " + ", ".join(f"{n}={getattr(policy, n)}" for n in RANK), flush=True)
        for i in range(len(rows)):
            if fold_of[i] == fold:
                held[i] = build(rows[i], policy)
    keep()
    today = _recall(rows, [build(r, base) for r in rows])
    fitted = _recall(rows, [held[i] for i in range(len(rows))])
    for name in today:
        print(
            f"{name}: today r@1 {today[name][0]:.3f} r@3 {today[name][1]:.3f}; "
            f"cross-validated search r@1 {fitted[name][0]:.3f} r@3 {fitted[name][1]:.3f}"
        )
    final = search(list(range(len(rows))))
    print("Policy(" + ", ".join(f"{n}={getattr(final, n)}" for n in RANK) + ")")


def _recall(rows: list[dict], built: list) -> dict[str, tuple[float, float]]:  # type: ignore[type-arg]
    import realtimeqa as rt
    from squad_folder import contains

    hits: dict[str, list[list[bool]]] = {}
    for row, got in zip(rows, built):
        texts = [q.text for q in got.quotes]
        if row["set"] == "squad":
            hit = [contains(" ".join(texts[:k]), row["answers"]) for k in (1, 3)]
        elif row["set"] == "rtqa":
            if not row["answerable"]:
                continue
            first = rt.first_hit(texts, row["choices"], row["gold"])
            hit = [first is not None and first <= k for k in (1, 3)]
        else:
            if not row["answerable"]:
                continue
            hit = [any(w in " ".join(texts[:k]).lower() for w in row["answers"]) for k in (1, 3)]
        hits.setdefault(row["set"], []).append(hit)
    return {
        name: (sum(h[0] for h in v) / len(v), sum(h[1] for h in v) / len(v))
        for name, v in hits.items()
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--squad", type=int, default=1000, help="SQuAD dev-a questions (0: none)")
    c.add_argument("--weeks", default="all", help="RealTime QA dev weeks: all, or W1,W2")
    c.add_argument("--cache", type=Path, default=CACHE)
    c.add_argument("--seeds", action="store_true", help="the labelled seed questions too")
    c.add_argument("--lists", action="store_true", help="dev-a's list questions (fit --lists)")
    f = sub.add_parser("fit")
    f.add_argument("--cache", type=Path, nargs="+", default=[CACHE])
    f.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    f.add_argument("--quotes", action="store_true", help="also the quotes' reader weights")
    f.add_argument("--quote-squad", type=int, default=400, help="SQuAD rows in the quotes' fit")
    f.add_argument(
        "--rank", action="store_true", help="also the quotes' ranking weights, cross-validated"
    )
    f.add_argument(
        "--by-passage",
        action="store_true",
        help="gather as for a list (share within a passage), scored as one line (--lists fits lists)",
    )
    f.add_argument(
        "--lists",
        action="store_true",
        help="LIST_WEIGHTS and their bar, on the cached list questions (by item F1)",
    )
    args = p.parse_args(argv)
    {"collect": collect, "fit": fit}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
