"""The offline study behind RESULTS.md's notes on the SciFact goal, reproducible.

    python benchmarks/study.py --index DIR [--data DIR] [--work DIR]

DIR is a SciFact index made by ``scifact.py --index DIR`` (or ``run_all.py
--scifact-index DIR``), built here when it is missing (~30 min on two cores). ``--work``
keeps what the study embeds besides it (every sentence, and the abstracts cut into
96-token chunks: ~20 min on two cores), so a second run takes a few minutes.

Every idea is a re-scoring, in numpy, of what the product itself produces: the index's
chunk vectors (read back from Chroma), its FTS5 keyword search and its embedder. One
question then costs microseconds, and a weight grid over the 809 train queries seconds.
Weights are chosen on train; the test column is the setting train chose. The first row
re-scores exactly as ``Retriever.search`` does and must equal ``make bench``'s hybrid row:
that is the check that the re-scoring is the product's.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import metrics  # noqa: E402
import scifact  # noqa: E402

from assistant import chunk as chunking  # noqa: E402
from assistant import lexical  # noqa: E402
from assistant.retrieve import (
    SearchPolicy,  # noqa: E402
    scaled,  # noqa: E402
)
from assistant.text import STOPWORDS, fold, query_terms
from assistant.types import Document  # noqa: E402

CANDIDATES = (
    300  # per retriever: what Retriever.search fetches when scifact.py asks for 300 passages
)
DEPTH = 100
DENSE = (
    SearchPolicy().dense_weight
)  # the product's fusion: DENSE x cosine + (1 - DENSE) x BM25 / best


# -- the pieces every idea re-scores ---------------------------------------------------------
@dataclass
class Units:
    """Scored units of one kind (chunks, sentences, ...): a vector each and its document."""

    vectors: np.ndarray
    doc: np.ndarray  # document number (position in the corpus) of each unit
    texts: list[str] | None = None  # what was embedded, where the study needs it again


@dataclass
class Corpus:
    docs: list[dict]
    queries: dict[str, str]
    qrels: dict[str, dict[str, dict[str, int]]]  # split -> qid -> doc -> grade
    chunks: Units  # the product's chunks, in catalog order
    chunk_rowids: dict[int, int]  # catalog rowid -> chunk number
    question: dict[str, np.ndarray]  # qid -> the product's question vector
    db: sqlite3.Connection  # the product's catalog: FTS5 and the corpus vocabulary
    sentences: list[tuple[int, str]]  # every sentence of the index once: (document number, text)
    in_chunk: tuple[
        np.ndarray, np.ndarray
    ]  # (chunk number, sentence number) for each sentence of each chunk


def load(
    index: Path, data: Path, docs_limit: int | None = None, queries_limit: int | None = None
) -> Corpus:
    """The limits take the slice ``scifact.py --split test`` takes with the same ones (so the
    two build the same index), and the first train queries, judged against that slice."""
    docs, queries, train = scifact.load(data, "train")
    docs, test = scifact.subset(docs, scifact.load(data, "test")[2], docs_limit, queries_limit)
    if queries_limit:
        train = dict(sorted(train.items(), key=lambda kv: int(kv[0]))[:queries_limit])
    lib, _ = scifact.build(index, docs)
    number = {d["_id"]: n for n, d in enumerate(docs)}
    rows = list(
        lib.catalog.db.execute("SELECT rowid, id, doc_id, sentences FROM chunks ORDER BY rowid")
    )
    got = lib.store.collection.get(ids=[r[1] for r in rows], include=["embeddings"])
    position = {cid: n for n, cid in enumerate(got["ids"])}
    embeddings = got["embeddings"]
    assert embeddings is not None
    vectors = np.asarray([embeddings[position[r[1]]] for r in rows], dtype=np.float32)
    owner = np.array([number[r[2].split("#", 1)[1]] for r in rows])
    asked = sorted(train.keys() | test.keys())
    question = {q: lib.embedder.embed_query(queries[q]) for q in asked}
    db = sqlite3.connect(f"file:{index / 'catalog.sqlite3'}?mode=ro", uri=True)
    lib.close()
    sentences, in_chunk = _sentences(db, rows, owner)
    return Corpus(
        docs,
        queries,
        {"train": train, "test": test},
        Units(vectors, owner),
        {r[0]: n for n, r in enumerate(rows)},
        question,
        db,
        sentences,
        in_chunk,
    )


def _sentences(
    db: sqlite3.Connection, rows: list, owner: np.ndarray
) -> tuple[list[tuple[int, str]], tuple[np.ndarray, np.ndarray]]:
    """The sentences the chunker found (the chunks' own spans), each once, and which chunks hold them."""
    texts = dict(db.execute("SELECT id, text FROM documents"))
    number: dict[tuple[str, int, int], int] = {}
    sentences: list[tuple[int, str]] = []
    pairs: list[tuple[int, int]] = []
    for n, (_, _, doc_id, spans) in enumerate(rows):
        for start, end in json.loads(spans):
            key = (doc_id, start, end)
            if key not in number:
                number[key] = len(sentences)
                sentences.append((int(owner[n]), texts[doc_id][start:end]))
            pairs.append((n, number[key]))
    a = np.array(pairs)
    return sentences, (a[:, 0], a[:, 1])


def embedded(work: Path, name: str, texts: Callable[[], tuple[list[str], list[int]]]) -> Units:
    """Units embedded by the product's embedder, cached in ``work`` (again when the texts changed)."""
    vec, own = work / f"{name}.npy", work / f"{name}.json"
    strings, docs = texts()
    if not vec.exists() or json.loads(own.read_text())["texts"] != strings:
        from assistant import config
        from assistant.embed import open_embedder

        started = time.perf_counter()
        embedder = open_embedder(cache_dir=config.cache_dir() / "onnx")
        np.save(vec, embedder.embed(strings))
        own.write_text(json.dumps({"texts": strings, "docs": docs}))
        print(
            f"embedded {len(strings)} {name} in {time.perf_counter() - started:.0f} s", flush=True
        )
    saved = json.loads(own.read_text())
    return Units(np.load(vec), np.array(saved["docs"]), saved["texts"])


def sentence_texts(c: Corpus) -> tuple[list[str], list[int]]:
    """Every sentence, embedded as ``title + "\\n" + sentence``."""
    return [f"{c.docs[d]['title']}\n{t}" for d, t in c.sentences], [d for d, _ in c.sentences]


def small_chunks(docs: list[dict], max_tokens: int = 96) -> tuple[list[str], list[int]]:
    from assistant import config
    from assistant.embed import open_embedder

    count = open_embedder(cache_dir=config.cache_dir() / "onnx").count_tokens
    out, owner = [], []
    for n, d in enumerate(docs):
        doc = Document(
            id=d["_id"], text=d["text"], path="scifact", format="jsonl", title=d["title"]
        )
        for c in chunking.chunk_document(doc, count, max_tokens=max_tokens):
            out.append(chunking.embedding_text(d["title"], c))
            owner.append(n)
    return out, owner


# -- keyword scores -------------------------------------------------------------------------
def product_keyword(c: Corpus, qid: str) -> dict[int, float]:
    """The product's keyword candidates: chunk number -> BM25 (higher is better)."""
    hits = lexical.search(c.db, c.queries[qid], CANDIDATES)
    return {c.chunk_rowids[r]: s for r, s in hits if r in c.chunk_rowids}


def chunk_bm25(c: Corpus, expression: str) -> dict[int, float]:
    """BM25 over the product's own chunk rows for any FTS5 question: chunk number -> score."""
    return {
        c.chunk_rowids[r]: v
        for r, v in fts_scores(c.db, "chunks_fts", expression).items()
        if r in c.chunk_rowids
    }


def fts_table(name: str, rows: Iterable[tuple[str, str]]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute(
        f"CREATE VIRTUAL TABLE {name} USING fts5(title, body, tokenize='{lexical.TOKENIZER}')"
    )
    db.executemany(
        f"INSERT INTO {name}(rowid, title, body) VALUES (?, ?, ?)",
        ((n, t, b) for n, (t, b) in enumerate(rows)),
    )
    return db


def fts_scores(
    db: sqlite3.Connection, name: str, expression: str, limit: int | None = None
) -> dict[int, float]:
    if not expression:
        return {}
    sql = f"SELECT rowid, -bm25({name}, 1, 1) AS s FROM {name} WHERE {name} MATCH ? ORDER BY s DESC"
    return dict(db.execute(sql + (f" LIMIT {limit}" if limit else ""), (expression,)).fetchall())


def expression(c: Corpus, text: str) -> str:
    """The FTS5 question lexical.search asks, for the study's other FTS5 tables."""
    return lexical.match_expression(lexical.question_words(c.db, text))


# -- from unit scores to a ranking ------------------------------------------------------------
def _top(values: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest values (all of them when there are fewer)."""
    return np.arange(len(values)) if n >= len(values) else np.argpartition(-values, n)[:n]


def best_per_doc(n_docs: int, owner: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(n_docs, -np.inf)
    np.maximum.at(out, owner, values)
    return out


def ndcg(c: Corpus, split: str, score: Callable[[str], np.ndarray]) -> float:
    """nDCG@10 (metrics.py, trec_eval's definition) of the top DEPTH documents per query."""
    run = {}
    for qid in c.qrels[split]:
        s = score(qid)
        top = np.argsort(-s, kind="stable")[:DEPTH]
        # rounded as scifact.py writes its run file, so ties break the same way
        run[qid] = {c.docs[j]["_id"]: round(float(s[j]), 6) for j in top if np.isfinite(s[j])}
    return metrics.mean(metrics.ndcg_at(c.qrels[split], run))


@dataclass
class Features:
    """Per query: the candidate chunks (dense top ∪ keyword top, as the product fetches) and
    one row of features per candidate; a row per feature name."""

    names: list[str]
    rows: dict[str, tuple[np.ndarray, np.ndarray]]  # qid -> (chunk numbers, features x candidates)

    def score(
        self, c: Corpus, qid: str, weights: dict[str, float], context: float = 0.0
    ) -> np.ndarray:
        """A chunk scores the weighted sum of its features; a document its best chunk. With
        ``context`` > 0 a chunk's score also counts, with that share, the weighted sum of
        its document's best value of each feature among the candidates."""
        cand, x = self.rows[qid]
        w = np.array([weights.get(n, 0.0) for n in self.names])
        owner = c.chunks.doc[cand]
        doc = best_per_doc(len(c.docs), owner, w @ x)
        if context:
            best = np.stack([best_per_doc(len(c.docs), owner, row) for row in x])
            best[~np.isfinite(best)] = 0.0
            seen = np.isfinite(doc)
            doc[seen] = (1 - context) * doc[seen] + context * (w @ best)[seen]
        return doc


def candidate_features(
    c: Corpus,
    keywords: dict[str, dict[int, float]],
    extra: dict[str, Callable[[str, np.ndarray, np.ndarray], np.ndarray]],
) -> Features:
    """Base features ``cos`` (chunk cosine) and ``bm25`` (BM25 / the question's best, from
    ``keywords``: qid -> product_keyword), plus ``extra``: name -> f(qid, candidates,
    cosine of every chunk) -> one value per candidate."""
    rows = {}
    for qid, keyword in keywords.items():
        cos = c.chunks.vectors @ c.question[qid]
        dense = _top(cos, CANDIDATES)
        cand = np.array(sorted(set(dense.tolist()) | set(keyword)))
        kw = scaled(keyword)
        x = [cos[cand], np.array([kw.get(i, 0.0) for i in cand])]
        x += [f(qid, cand, cos) for f in extra.values()]
        rows[qid] = (cand, np.stack(x))
    return Features(["cos", "bm25", *extra], rows)


# -- the table --------------------------------------------------------------------------------
Row = tuple[str, float, float]


def pick(
    c: Corpus, settings: list[dict], score: Callable[..., Callable[[str], np.ndarray]]
) -> tuple[float, float, dict]:
    """The setting best on train, and its train and test nDCG@10."""
    train = [ndcg(c, "train", score(**s)) for s in settings]
    best = max(range(len(settings)), key=train.__getitem__)
    return train[best], ndcg(c, "test", score(**settings[best])), settings[best]


def ascent(
    c: Corpus,
    start: dict[str, float],
    score: Callable[[dict[str, float]], Callable[[str], np.ndarray]],
) -> dict[str, float]:
    """Coordinate ascent on train nDCG@10 over non-negative weights."""
    weights, best = dict(start), ndcg(c, "train", score(start))
    for _ in range(4):
        moved = False
        for name in list(weights):
            for step in (-0.1, -0.04, 0.04, 0.1):
                trial = {**weights, name: max(0.0, weights[name] + step)}
                value = ndcg(c, "train", score(trial))
                if value > best + 2e-4:
                    weights, best, moved = trial, value, True
        if not moved:
            break
    return weights


class Study:
    """The rows of the table, printed as they come."""

    def __init__(self, c: Corpus, sents: Units, small: Units):
        self.c, self.sents, self.small = c, sents, small
        self.table: list[Row] = []
        whole = fts_table("d", ((d["title"], d["text"]) for d in c.docs))
        self.expressions = {q: expression(c, c.queries[q]) for q in c.question}
        self.doc_bm25 = {q: scaled(fts_scores(whole, "d", e)) for q, e in self.expressions.items()}
        self.keyword = {q: product_keyword(c, q) for q in c.question}

    def row(self, name: str, train: float, test: float, how: str = "") -> None:
        self.table.append((name + (f" ({how})" if how else ""), train, test))
        print(f"{train:.4f}  {test:.4f}  {self.table[-1][0]}", flush=True)

    def both(self, name: str, score: Callable[[str], np.ndarray], how: str = "") -> None:
        self.row(name, ndcg(self.c, "train", score), ndcg(self.c, "test", score), how)

    def picked(
        self, name: str, settings: list[dict], score: Callable[..., Callable[[str], np.ndarray]]
    ) -> None:
        train, test, best = pick(self.c, settings, score)
        self.row(name, train, test, ", ".join(f"{k} {v}" for k, v in best.items()))

    def run(self) -> list[Row]:
        self.chunk_level()
        self.small_chunks()
        self.document_level()
        question_side(self.c, self.row)
        return self.table

    def chunk_level(self) -> None:
        """Re-scorings of the product's own candidates."""
        c, n_docs = self.c, len(self.c.docs)
        hub = c.chunks.vectors @ c.chunks.vectors.mean(axis=0)
        f = candidate_features(
            c,
            self.keyword,
            {
                "docbm25": lambda q, cand, _: np.array(
                    [self.doc_bm25[q].get(int(d), 0.0) for d in c.chunks.doc[cand]]
                ),
                "sentence": self._best_sentence(),
                "hub": lambda q, cand, _: hub[cand],
            },
        )
        product = {"cos": DENSE, "bm25": 1 - DENSE}
        self.both(
            "the product's hybrid, re-scored (must equal make bench)",
            lambda q: f.score(c, q, product),
        )
        for name, units in (
            ("200-token chunk (the product's)", c.chunks),
            ("96-token chunk", self.small),
            ("sentence", self.sents),
        ):
            self.both(f"dense only: best {name}", _dense_only(c, units))
        self.both(
            "keyword only, one FTS5 row per abstract instead of per chunk",
            lambda q: _as_array(n_docs, self.doc_bm25[q], -np.inf),
        )
        self.picked(
            "each chunk also scored on its document's BM25",
            [{"weight": w} for w in (0.0, 0.05, 0.1, 0.2, 0.3)],
            lambda weight: lambda q: f.score(c, q, {**product, "docbm25": weight}),
        )
        self.picked(
            "document context: its best cosine and best BM25 count too",
            [{"share": a} for a in (0.0, 0.25, 0.5, 1.0)],
            lambda share: lambda q: f.score(c, q, product, share),
        )
        self.picked(
            "sentence vectors instead of chunk vectors (a chunk's cosine is its best sentence's)",
            [{"dense": w} for w in (0.6, 0.7, 0.8)],
            lambda dense: lambda q: f.score(c, q, {"sentence": dense, "bm25": 1 - dense}),
        )
        w = ascent(
            c,
            {"cos": 0.45, "bm25": 0.3, "sentence": 0.25, "docbm25": 0.0},
            lambda w: lambda q: f.score(c, q, w),
        )
        self.both(
            "chunk + sentence vectors + BM25 + document BM25, ascent",
            lambda q: f.score(c, q, w),
            _fmt(w),
        )
        self.picked(
            "hub penalty: cosine minus beta x similarity to the corpus centroid",
            [{"beta": b} for b in (0.0, 0.1, 0.2, 0.3, 0.5)],
            lambda beta: lambda q: f.score(c, q, {**product, "hub": -DENSE * beta}),
        )

    def _best_sentence(self) -> Callable[[str, np.ndarray, np.ndarray], np.ndarray]:
        """A chunk's cosine to the question through its best sentence."""
        chunk, sentence = self.c.in_chunk

        def feature(q: str, cand: np.ndarray, cos: np.ndarray) -> np.ndarray:
            best = np.full(len(self.c.chunks.doc), -1.0)
            np.maximum.at(best, chunk, self.sents.vectors[sentence] @ self.c.question[q])
            return np.where(best[cand] > -1, best[cand], cos[cand])

        return feature

    def small_chunks(self) -> None:
        """The abstracts cut into 96-token chunks: their own vectors and their own FTS5 rows."""
        c, small = self.c, self.small
        assert small.texts is not None
        table = fts_table(
            "w",
            (
                (c.docs[d]["title"], _body(c.docs[d]["title"], t))
                for t, d in zip(small.texts, small.doc)
            ),
        )
        own = {
            q: scaled(fts_scores(table, "w", e, CANDIDATES)) for q, e in self.expressions.items()
        }

        def hybrid(dense: float, document: float) -> Callable[[str], np.ndarray]:
            def score(q: str) -> np.ndarray:
                cos = small.vectors @ c.question[q]
                cand = np.array(sorted(set(_top(cos, CANDIDATES).tolist()) | set(own[q])))
                kw = np.array([own[q].get(int(i), 0.0) for i in cand])
                whole = np.array([self.doc_bm25[q].get(int(small.doc[i]), 0.0) for i in cand])
                value = dense * cos[cand] + (1 - dense) * ((1 - document) * kw + document * whole)
                return best_per_doc(len(c.docs), small.doc[cand], value)

            return score

        self.picked(
            "96-token chunks, hybrid with their own BM25 and/or the document's",
            [{"dense": w, "document": k} for w in (0.6, 0.7, 0.8, 0.85) for k in (0.0, 0.5, 1.0)],
            hybrid,
        )

    def document_level(self) -> None:
        """Each view's best unit per document, and both BM25s, mixed per document."""
        c, n_docs = self.c, len(self.c.docs)
        names = ["c200", "c96", "sent", "bm25", "docbm25"]
        features = {}
        for q, v in c.question.items():
            keyword = scaled(self.keyword[q])
            kw = np.zeros(n_docs)
            np.maximum.at(kw, c.chunks.doc[list(keyword)], list(keyword.values()))
            views = [
                best_per_doc(n_docs, u.doc, u.vectors @ v)
                for u in (c.chunks, self.small, self.sents)
            ]
            features[q] = np.stack([*views, kw, _as_array(n_docs, self.doc_bm25[q], 0.0)])

        def mix(w: dict[str, float]) -> Callable[[str], np.ndarray]:
            weights = np.array([w[n] for n in names])
            return lambda q: weights @ features[q]

        w = ascent(c, {"c200": 0.25, "c96": 0.25, "sent": 0.25, "bm25": 0.15, "docbm25": 0.1}, mix)
        self.both(
            "every view, document level: best 200- and 96-token chunk, best sentence, BM25s; ascent",
            mix(w),
            _fmt(w),
        )


def _dense_only(c: Corpus, units: Units) -> Callable[[str], np.ndarray]:
    return lambda q: best_per_doc(len(c.docs), units.doc, units.vectors @ c.question[q])


def _as_array(n: int, scores: dict[int, float], missing: float) -> np.ndarray:
    out = np.full(n, missing)
    for d, v in scores.items():
        out[d] = v
    return out


# -- ideas that change the keyword question ---------------------------------------------------
def fused(c: Corpus, qid: str, keyword: dict[int, float], dense: float = DENSE) -> np.ndarray:
    """The product's fusion with another keyword score: dense top ∪ keyword top, cosine and
    BM25 / best, a document as its best chunk."""
    cos = c.chunks.vectors @ c.question[qid]
    top = sorted(keyword, key=keyword.__getitem__, reverse=True)[:CANDIDATES]
    cand = np.array(sorted(set(_top(cos, CANDIDATES).tolist()) | set(top)))
    kw = scaled({i: keyword[i] for i in top})
    value = dense * cos[cand] + (1 - dense) * np.array([kw.get(int(i), 0.0) for i in cand])
    return best_per_doc(len(c.docs), c.chunks.doc[cand], value)


def per_word(c: Corpus, qid: str) -> dict[str, dict[int, float]]:
    """Each content word of the question (with its spelling variants, and the solid forms
    of its hyphenated words, as lexical.search asks) -> chunk -> its BM25 part."""
    out = {}
    for word, variants in lexical.question_words(c.db, c.queries[qid]).items():
        out[word] = chunk_bm25(c, lexical.match_expression({word: variants}))
    return out


def weighted(parts: dict[str, dict[int, float]], weights: dict[str, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for word, hits in parts.items():
        for i, v in hits.items():
            out[i] = out.get(i, 0.0) + weights.get(word, 1.0) * v
    return out


def question_side(c: Corpus, row: Callable[..., None]) -> None:
    from assistant import config
    from assistant.embed import open_embedder

    asked = sorted(c.question)
    parts = {q: per_word(c, q) for q in asked}

    # proximity: adjacent content words of the question found near each other
    def near(q: str, gap: int = 3) -> dict[int, float]:
        words = [fold(m) for m in re.findall(r"\w+", c.queries[q])]
        keep = [i for i, t in enumerate(words) if t not in STOPWORDS and len(t) > 1]
        pairs = dict.fromkeys((words[a], words[b]) for a, b in zip(keep, keep[1:]) if b - a <= gap)
        if not pairs:
            return {}
        return scaled(chunk_bm25(c, " OR ".join(f'NEAR("{a}" "{b}", 3)' for a, b in pairs)))

    proximity = {q: near(q) for q in asked}

    def with_near(w: float) -> Callable[[str], np.ndarray]:
        def score(q: str) -> np.ndarray:
            base = scaled(weighted(parts[q], {}))
            return fused(
                c,
                q,
                {
                    i: (1 - w) * base.get(i, 0.0) + w * proximity[q].get(i, 0.0)
                    for i in base.keys() | proximity[q].keys()
                },
            )

        return score

    tr, te, s = pick(c, [{"w": w} for w in (0.0, 0.1, 0.2, 0.3)], with_near)
    row(
        "proximity: BM25 of NEAR pairs of adjacent question words, mixed into the keyword half",
        tr,
        te,
        f"share {s['w']}",
    )

    # the solid forms of hyphenated question words (birth-weight: birthweight), left out
    def unjoined(dense: float) -> Callable[[str], np.ndarray]:
        def score(q: str) -> np.ndarray:
            solid = set(lexical.joined_forms(c.queries[q])) - set(query_terms(c.queries[q]))
            return fused(
                c, q, weighted({w: h for w, h in parts[q].items() if w not in solid}, {}), dense
            )

        return score

    for dense, name in ((0.0, "keyword alone"), (DENSE, "the hybrid")):
        score = unjoined(dense)
        row(
            f"{name} without looking hyphenated question words up solid (birth-weight: birthweight; "
            "the default before this round)",
            ndcg(c, "train", score),
            ndcg(c, "test", score),
        )

    # word weights from the model: how far the question's vector moves without the word
    embedder = open_embedder(cache_dir=config.cache_dir() / "onnx")
    importance: dict[str, dict[str, float]] = {}
    for q in asked:
        words = list(parts[q])
        if not words:
            importance[q] = {}
            continue
        left_out = [
            re.sub(rf"\b{re.escape(w)}\b", " ", c.queries[q], flags=re.IGNORECASE) for w in words
        ]
        moved = np.maximum(1.0 - embedder.embed(left_out) @ c.question[q], 1e-4)
        importance[q] = dict(zip(words, moved / moved.mean()))

    def by_importance(g: float, dense: float) -> Callable[[str], np.ndarray]:
        return lambda q: fused(
            c, q, weighted(parts[q], {w: v**g for w, v in importance[q].items()}), dense
        )

    for dense, name in ((0.0, "keyword alone"), (DENSE, "in the hybrid")):
        tr, te, s = pick(c, [{"g": g, "dense": dense} for g in (0.0, 0.5, 1.0)], by_importance)
        row(
            f"question words weighted by the model (leave-one-out), {name}",
            tr,
            te,
            f"power {s['g']}",
        )

    # dense-fed lexical feedback: distinctive words of the first pass's best abstracts
    df = dict(c.db.execute("SELECT term, df FROM terms"))
    words_of = [_word_counts(d["title"] + " " + d["text"]) for d in c.docs]

    def feedback(docs: int, words: int, beta: float) -> Callable[[str], np.ndarray]:
        def score(q: str) -> np.ndarray:
            first = fused(c, q, weighted(parts[q], {}))
            asked_words = set(parts[q])
            gain: dict[str, float] = {}
            for d in np.argsort(-first)[:docs]:
                total = sum(words_of[d].values())
                for w, n in words_of[d].items():
                    if w not in asked_words and w in df:
                        gain[w] = gain.get(w, 0.0) + n / total * np.log(len(c.docs) / df[w])
            extra = {
                w: _word_hits(c, w)
                for w in sorted(gain, key=gain.__getitem__, reverse=True)[:words]
            }
            return fused(c, q, weighted({**parts[q], **extra}, dict.fromkeys(extra, beta)))

        return score

    tr, te, s = pick(
        c,
        [{"docs": d, "words": m, "beta": b} for d in (1, 3) for m in (5, 10) for b in (0.1, 0.25)],
        feedback,
    )
    row(
        "dense-fed lexical feedback: distinctive words of the first pass's best abstracts",
        tr,
        te,
        f"{s['docs']} abstracts, {s['words']} words, weight {s['beta']}",
    )


def _word_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in re.findall(r"[^\W\d_]{3,}", text):
        w = fold(m)
        if w not in STOPWORDS:
            counts[w] = counts.get(w, 0) + 1
    return counts


_HITS: dict[tuple[int, str], dict[int, float]] = {}


def _word_hits(c: Corpus, word: str) -> dict[int, float]:
    if (id(c), word) not in _HITS:
        _HITS[id(c), word] = chunk_bm25(c, f'"{word}"')
    return _HITS[id(c), word]


def _fmt(weights: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in weights.items() if v)


def _body(title: str, embedded_text: str) -> str:
    """The chunk text of ``chunking.embedding_text``'s output: without the title line it adds."""
    head, _, rest = embedded_text.partition("\n")
    return rest if rest and title.startswith(head) else embedded_text


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--index",
        type=Path,
        required=True,
        help="a SciFact index from scifact.py (built if missing)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "beir-scifact",
    )
    parser.add_argument(
        "--work", type=Path, default=Path(__file__).resolve().parent / "out" / "study"
    )
    parser.add_argument(
        "--docs", type=int, help="only the first N documents (plus the judged ones), as scifact.py"
    )
    parser.add_argument("--queries", type=int, help="only the first N queries of each split")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    c = load(args.index.resolve(), args.data, args.docs, args.queries)
    sents = embedded(args.work, "sentences", lambda: sentence_texts(c))
    small = embedded(args.work, "chunks96", lambda: small_chunks(c.docs))
    print("train   test    idea", flush=True)
    table = Study(c, sents, small).run()
    (args.work / "study.json").write_text(json.dumps(table, indent=1))
    return table


if __name__ == "__main__":
    main()
