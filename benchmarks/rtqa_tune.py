"""Re-run the reader on the RealTime QA dev weeks from cached retrieval, to compare reader
settings in seconds instead of a full ``realtimeqa.py`` run.

    python benchmarks/rtqa_tune.py [--weeks W1,W2] [--cache DIR]

The week indexes must exist (``realtimeqa.py --split dev``, or ``--build-only``, builds them). For every question
the retrieval that ``Library.ask`` does (passages, weighted terms, texts) is done once and
kept, with every candidate sentence's vector, in ``--cache``; each setting then costs only
``answer.build`` per question. The first row re-runs the product's own Policy and must equal
``realtimeqa.py``'s row for the same weeks: that is the check that the harness is the product.
Dev weeks only: the test weeks are never tuned on.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import realtimeqa as rt  # noqa: E402

from assistant import Library, answer  # noqa: E402
from assistant.types import Filters, day  # noqa: E402

sys.modules.setdefault("rtqa_tune", sys.modules[__name__])  # see Case


@dataclass
class Case:
    # Pickled in the cache as rtqa_tune.Case, run as a script or imported (a study script that
    # imports this module reads the cache the script wrote, and the other way round).
    __module__ = "rtqa_tune"
    q: rt.Question
    answerable: bool
    passages: list
    terms: tuple
    texts: dict
    scope: int
    every: int


RARITY = True  # the product's vote weighting (False: every mention 1, as before)
PASSAGES = 0  # passages read per question (0: the product's ``passages_wanted``)


def load(week: str, cache: Path) -> tuple[Library, list[Case], answer.SentenceVectors]:
    lib = Library(rt.WEEKS_DIR / week / "index")
    vectors = lib.sentence_vectors
    path = cache / f"{week}.pkl"
    if path.exists():
        cases, vectors._cache = pickle.loads(path.read_bytes())
        return lib, cases, vectors
    qs = rt.questions(week)
    haystack = rt.norm("\n".join(a.text for a in rt.articles(week, qs)))
    cases = []
    for q in qs:
        filters = Filters(as_of=q.date.replace("/", "-"))
        passages = lib.retriever.search(q.text, PASSAGES or answer.passages_wanted(5), filters)
        catalog = lib.catalog
        terms = answer.weigh_terms(
            q.text, catalog.keywords.variants, catalog.keywords.df, catalog.count_docs()
        )
        texts = {p.document.id: lib.text(p.document.id) for p in passages}
        cases.append(
            Case(
                q,
                any(rt.find(haystack, q.choices[g]) >= 0 for g in q.gold),
                passages,
                tuple(terms),
                texts,
                catalog.count_docs(filters),
                catalog.count_docs(),
            )
        )
        answer.build(q.text, passages, terms, vectors, k=5, texts=texts)  # fills the vector cache
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps((cases, vectors._cache)))
    return lib, cases, vectors


def evaluate(
    weeks: list[tuple[Library, list[Case], answer.SentenceVectors]],
    policy: answer.Policy,
    line: bool = False,
) -> dict:
    rows = rows_of(weeks, policy, line)
    return rt.summary(rows, {r["id"] for r in rows if r["answerable"]})


def rows_of(
    weeks: list[tuple[Library, list[Case], answer.SentenceVectors]],
    policy: answer.Policy,
    line: bool = False,
) -> list[dict]:
    rows = []
    for lib, cases, vectors in weeks:
        for c in cases:
            built = answer.build(
                c.q.text,
                c.passages,
                list(c.terms),
                vectors,
                k=5,
                searched=c.scope,
                indexed=c.every,
                texts=c.texts,
                policy=policy,
                reference=day(c.q.date.replace("/", "-")),
                rarity=answer.rarity(lib.catalog.keywords.df, c.every) if RARITY else None,
            )
            if line:
                built = lib._with_answer_line(built, Filters(as_of=c.q.date.replace("/", "-")))
            rows.append(
                {"id": c.q.id, "answerable": c.answerable, **rt.scored(built, c.q)}
                if line
                else {"id": c.q.id, "answerable": c.answerable, **_quotes_only(built, c.q)}
            )
    return rows


def _quotes_only(built: answer.Answer, q: rt.Question) -> dict:
    quotes = [x.text for x in built.quotes]
    return {
        "answered": built.answered,
        "hit": rt.first_hit(quotes, q.choices, q.gold),
        "correct": rt.pick(quotes, q.choices) in q.gold,
        "chars3": sum(len(t) for t in quotes[:3]),
    }


def show(name: str, s: dict) -> None:
    keys = (
        "recall@1",
        "recall@3",
        "recall@5",
        "chars_top3",
        "answered",
        "mc_accuracy",
        "line_em",
        "line_mc",
    )
    print(
        f"{name:40s} "
        + " ".join(
            f"{k.split('_')[-1]}={s[k]}" for k in keys if k in s and (s[k] or "line" not in k)
        ),
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", default=",".join(rt.DEV))
    parser.add_argument("--cache", type=Path, default=rt.OUT / "tune")
    parser.add_argument("--line", action="store_true", help="also score the answer line")
    parser.add_argument(
        "--passages", type=int, default=0, help="passages per question (default: the product's)"
    )
    parser.add_argument("--base-only", action="store_true", help="only the product's Policy()")
    parser.add_argument(
        "--cv",
        type=float,
        help="fit the ranking weights (this L2) on all weeks but one, "
        "score that week with the full reader, each week in turn",
    )
    parser.add_argument(
        "--study",
        action="store_true",
        help="fit a sentence score on the weeks, each week held out in turn",
    )
    args = parser.parse_args(argv)
    global PASSAGES
    PASSAGES = args.passages
    if args.passages:
        args.cache = args.cache.with_name(f"{args.cache.name}-{args.passages}")
    chosen = args.weeks.split(",")
    if unknown := sorted(set(chosen) - set(rt.DEV)):
        parser.error(f"not dev weeks: {', '.join(unknown)}")
    weeks = [load(w, args.cache) for w in chosen if (rt.WEEKS_DIR / w / "index").exists()]
    if args.study:
        return study(weeks)
    if args.cv is not None:
        return cross_validate(weeks, args.cv, args.line)
    base = answer.Policy()
    show("product Policy()", evaluate(weeks, base, args.line))
    for name, policy in variants(base) if not args.base_only else ():
        show(name, evaluate(weeks, policy, args.line))


# The ranking features of Policy, on top of relevance ("leans" fitted near 0, "lead" is off: see Policy.lead).
ONTOP = ("score", "passage", "voted", "recent", "n_fitting", "keyword_rank", "dense_rank")
AS_POLICY = {
    "passage": "passage",
    "voted": "vote",
    "recent": "recent",
    "n_fitting": "fitting",
    "keyword_rank": "keyword_rank",
    "dense_rank": "dense_rank",
}
SETTINGS: dict[str, dict] = {  # beside Policy(): the settings to compare (edit while studying)
    "no ranking bonuses (passage 0.5, first quote by relevance)": dict(
        passage=0.5,
        vote=0.0,
        lead=0.0,
        recent=0.0,
        fitting=0.0,
        keyword_rank=0.0,
        dense_rank=0.0,
        by_rank=False,
    ),
    **{f"vote {v}": {"vote": v} for v in (0.15, 0.35, 0.5)},
    "fitting 0.1": {"fitting": 0.1},
}


def as_policy(coef) -> dict:  # type: ignore[no-untyped-def]
    """Listwise weights over ONTOP, divided by the relevance score's, as Policy fields."""
    return {AS_POLICY[k]: round(float(v / coef[0]), 3) for k, v in zip(ONTOP[1:], coef[1:])}


def variants(base: answer.Policy):  # type: ignore[no-untyped-def]
    """The settings to compare (edit while studying)."""
    for name, extras in SETTINGS.items():
        yield name, replace(base, **extras)


# -- a learned sentence score (study) ---------------------------------------------------------
FEATURES = (
    "score",
    "dense",
    "lexical",
    "fit",
    "restates",
    "passage",
    "voted",
    "lead",
    "log_len",
    "dense_rank",
    "keyword_rank",
    "recent",
    "n_fitting",
    "leans",
)


def features(weeks, policy: answer.Policy):  # type: ignore[no-untyped-def]
    """Per candidate sentence: the features, whether its sentence holds a gold choice, its question."""
    import math

    import numpy as np

    from assistant.text import asks_about_now

    X, y, group, week_of = [], [], [], []
    for _, cases, vectors in weeks:
        for c in cases:
            if not c.answerable:
                continue
            found = answer.candidates(c.passages, policy.shape)
            if not found:
                continue
            answer.score(
                found,
                vectors(c.q.text, found),
                list(c.terms),
                policy,
                c.q.text,
                reference=day(c.q.date.replace("/", "-")),
            )
            now = day(c.q.date.replace("/", "-")) if asks_about_now(c.q.text) else None
            for f in found:
                X.append(
                    [
                        f.score,
                        f.dense,
                        f.lexical,
                        f.typed_fit,
                        max(0.0, 1 - f.novel / answer.NOVEL_ENOUGH),
                        f.passage.score,
                        f.voted,
                        float(answer.opening(f)),
                        math.log(len(f.text)),
                        1 / (f.passage.dense_rank or 100),
                        1 / (f.passage.keyword_rank or 100),
                        answer.recency(f, now),
                        min(len(f.fitting), 3) / 3,
                        float(f.quote_start != f.start),
                    ]
                )
                y.append(rt.first_hit([f.text], c.q.choices, c.q.gold) is not None)
                group.append(c.q.id)
                week_of.append(c.q.week)
    return np.array(X), np.array(y), np.array(group), np.array(week_of)


def fit_listwise(X, y, group, l2=0.01, w0=None):  # type: ignore[no-untyped-def]
    """Weights maximising, per question, the softmax probability of its sentences that hold
    the answer (questions with none are left out); L2 on standardised features."""
    import numpy as np
    from scipy.optimize import minimize

    groups = [np.where(group == g)[0] for g in np.unique(group)]
    groups = [ix for ix in groups if y[ix].any()]
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = (X - mu) / sd

    def loss(w):
        total, grad = 0.0, np.zeros_like(w)
        for ix in groups:
            s = Z[ix] @ w
            s = s - s.max()
            e = np.exp(s)
            p = e / e.sum()
            pos = y[ix]
            pp = p[pos].sum()
            total -= np.log(pp + 1e-12)
            # grad of -log(sum_pos p) = sum_all p z - sum_pos (p/pp) z
            grad += p @ Z[ix] - (p[pos] / (pp + 1e-12)) @ Z[ix][pos]
        return total / len(groups) + l2 * w @ w, grad / len(groups) + 2 * l2 * w

    w = minimize(loss, np.zeros(X.shape[1]) if w0 is None else w0, jac=True, method="L-BFGS-B").x
    return w / sd, mu  # raw-feature weights (the offset does not change a ranking)


def cross_validate(weeks, l2: float, line: bool) -> None:  # type: ignore[no-untyped-def]

    base = answer.Policy()
    X, y, group, week_of = features(weeks, replace(base, vote=0.0001))
    cols = [FEATURES.index(f) for f in ONTOP]
    held, plain = [], []
    for week in weeks:
        name = week[1][0].q.week
        train = week_of != name
        coef, _ = fit_listwise(X[train][:, cols], y[train], group[train], l2)
        fitted = replace(base, **as_policy(coef), by_rank=True)
        held += rows_of([week], fitted, line)
        plain += rows_of([week], base, line)
        print(name, as_policy(coef), flush=True)
    for label, rows in (("product Policy()", plain), (f"held-out weights, l2={l2}", held)):
        show(label, rt.summary(rows, {r["id"] for r in rows if r["answerable"]}))


def top1(X, y, group, w) -> float:  # type: ignore[no-untyped-def]
    """Share of questions whose best-scored sentence holds a gold choice."""
    import numpy as np

    s = X @ w
    hits, n = 0, 0
    for g in np.unique(group):
        m = group == g
        n += 1
        hits += bool(y[m][np.argmax(s[m])])
    return hits / n


def study(weeks) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    policy = replace(answer.Policy(), vote=0.0001)
    X, y, group, week_of = features(weeks, policy)
    base = np.zeros(X.shape[1])
    p = answer.Policy()
    base[0], base[5] = 1.0, p.passage
    print("questions", len(np.unique(group)), "sentences", len(y), "positives", int(y.sum()))
    print("product score + passage: top1", round(top1(X, y, group, base), 4))
    on_score = [FEATURES.index(f) for f in ONTOP]
    for l2 in (0.001, 0.01, 0.1):
        hits = []
        for w in np.unique(week_of):
            train, test = week_of != w, week_of == w
            coef, _ = fit_listwise(X[train][:, on_score], y[train], group[train], l2)
            hits.append(
                (
                    top1(X[test][:, on_score], y[test], group[test], coef),
                    len(np.unique(group[test])),
                )
            )
        cv = sum(h * n for h, n in hits) / sum(n for _, n in hits)
        coef, _ = fit_listwise(X[:, on_score], y, group, l2)
        print(
            f"on top of score, l2={l2}: week-held-out top1 {cv:.4f}; fit / score's weight",
            {k: round(float(v / coef[0]), 3) for k, v in zip(ONTOP, coef)},
        )
    for l2 in (0.001, 0.01, 0.1):
        hits = []
        for w in np.unique(week_of):
            train, test = week_of != w, week_of == w
            coef, _ = fit_listwise(X[train], y[train], group[train], l2)
            hits.append((top1(X[test], y[test], group[test], coef), len(np.unique(group[test]))))
        cv = sum(h * n for h, n in hits) / sum(n for _, n in hits)
        coef, _ = fit_listwise(X, y, group, l2)
        print(
            f"listwise l2={l2}: week-held-out top1 {cv:.4f}; all-weeks fit",
            {k: round(float(v), 3) for k, v in zip(FEATURES, coef)},
        )


if __name__ == "__main__":
    main()
