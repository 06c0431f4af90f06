"""Hybrid retrieval: dense (Chroma, cosine) and keyword (FTS5 BM25 with spelling
variants) candidates, fused into one ranking.

Fusion is a weighted sum of the cosine similarity and the BM25 score divided by the
best BM25 score of the question, not reciprocal rank fusion: RRF throws away how far
apart the scores are, and on SciFact's train queries the score-aware combination ranked
better (see benchmarks/RESULTS.md). Neither half is min-max normalised over the
candidates: the lowest candidate depends on how many were fetched, and a passage's score
should not change with ``k``. The weights were tuned on SciFact's 809 train queries only.

A keyword candidate the dense list missed gets its real cosine (its vector is fetched
from the store), not 0: scoring it as if it were unrelated to the question ranked such
passages too low (SciFact train nDCG@10 0.745 -> 0.747, test 0.737 -> 0.741). A dense
candidate with no keyword match gets 0 for that half, which is what BM25 says of it.

Recency. A question about the present ("this week", "recently", "latest", "now",
"currently", "this year") prefers what was written just before the reference date (the
``as_of`` filter, else today): a passage's fused score gains ``recency * exp(-age / days)``
for an article dated ``age`` days before it. Articles dated after it are filtered out by
``as_of`` already; undated ones, and those dated only to a month or year, gain nothing and
lose nothing. Tuned on the RealTime QA dev weeks (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from .catalog import Catalog, StoredChunk
from .text import asks_about_now
from .types import FRESH_DAYS, NO_FILTERS, DocumentInfo, Filters, Passage, freshness

if TYPE_CHECKING:
    from .embed import Embedder
    from .store import VectorStore


K = TypeVar("K")

_DATE_BOUND = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def date_bound(value: str) -> str:
    """Check a ``since``/``until`` bound: YYYY, YYYY-MM or YYYY-MM-DD, compared with
    documents' ISO dates as a prefix. Raises ValueError with a message fit for a user."""
    if _DATE_BOUND.fullmatch(value):
        parts = [int(p) for p in value.split("-")]
        try:
            datetime.date(parts[0], *(parts[1:] + [1] * (3 - len(parts))))
            return value
        except ValueError:
            pass  # 2020-13 or 2021-02-29: the right shape, but no such date
    raise ValueError(f"not a date: {value!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")


@dataclass(frozen=True)
class SearchPolicy:
    candidates: int = 50  # per retriever, before fusion
    retrievers: tuple[str, ...] = ("dense", "keyword")  # the benchmark's ablations drop one
    dense_weight: float = 0.7  # tuned on SciFact train: 0.5 -> 0.738, 0.7 -> 0.744
    title_weight: float = 1.0  # BM25 weight of the title column against the body's 1.0
    recency: float = 0.10  # fused-score bonus for an article dated on the reference date
    recency_days: float = FRESH_DAYS  # ... falling by e every this many days before it


def scaled(scores: Mapping[K, float]) -> dict[K, float]:
    """Scores divided by the best one: BM25 has no fixed range, and the best keyword
    match of every question then weighs the same against cosine similarity."""
    top = max(scores.values(), default=0.0)
    return (
        {key: value / top for key, value in scores.items()}
        if top > 0
        else dict.fromkeys(scores, 0.0)
    )


def _ranks(scores: dict[str, float]) -> dict[str, int]:
    ordered = sorted(scores, key=scores.__getitem__, reverse=True)
    return {key: n for n, key in enumerate(ordered, start=1)}


class Retriever:
    def __init__(
        self,
        catalog: Catalog,
        store: VectorStore,
        embedder: Embedder,
        policy: SearchPolicy | None = None,
    ):
        self.catalog, self.store, self.embedder = catalog, store, embedder
        self.policy = policy or SearchPolicy()

    def dense(self, question: str, limit: int, doc_ids: list[str] | None) -> dict[str, float]:
        vector = self.embedder.embed_query(question)
        return dict(self.store.query(vector, limit, doc_ids))

    def cosines(self, question: str, chunk_ids: list[str]) -> dict[str, float]:
        """Cosine similarity of the question to chunks the dense list did not return."""
        stored = self.store.vectors(chunk_ids)
        vector = self.embedder.embed_query(question)
        return {cid: float(vec @ vector) for cid, vec in stored.items()}

    def keyword(self, question: str, limit: int, doc_ids: list[str] | None) -> dict[str, float]:
        weights = (self.policy.title_weight, 1.0)
        hits = self.catalog.keywords.search(question, limit, doc_ids=doc_ids, weights=weights)
        chunks = self.catalog.chunks_by_rowid(rowid for rowid, _ in hits)
        return {chunks[rowid].id: score for rowid, score in hits if rowid in chunks}

    def search(self, question: str, k: int = 5, filters: Filters = NO_FILTERS) -> list[Passage]:
        doc_ids = self.catalog.doc_ids(filters) if filters.active() else None
        limit = max(self.policy.candidates, k)
        use = self.policy.retrievers
        dense = self.dense(question, limit, doc_ids) if "dense" in use else {}
        keyword = self.keyword(question, limit, doc_ids) if "keyword" in use else {}
        cosine = dict(dense)
        if dense and keyword:
            cosine.update(self.cosines(question, [cid for cid in keyword if cid not in dense]))
        fused = self.fuse(cosine, keyword)
        if self.policy.recency and asks_about_now(question):
            fused = self.recent_first(fused, filters.reference())
        best = sorted(fused, key=fused.__getitem__, reverse=True)
        return self._passages(best, fused, dense, keyword, cosine, k)

    def fuse(self, cosine: dict[str, float], keyword: dict[str, float]) -> dict[str, float]:
        """``cosine`` holds every dense candidate and, where known, the keyword ones."""
        w = self.policy.dense_weight if cosine and keyword else float(bool(cosine))
        kw = scaled(keyword)
        return {
            cid: w * cosine.get(cid, 0.0) + (1 - w) * kw.get(cid, 0.0)
            for cid in cosine.keys() | kw.keys()
        }

    def recent_first(self, fused: dict[str, float], reference: datetime.date) -> dict[str, float]:
        """``fused`` with the recency bonus (see the module docstring)."""
        infos = self.catalog.infos({cid.rsplit("::", 1)[0] for cid in fused})
        out = dict(fused)
        for cid in fused:
            info = infos.get(cid.rsplit("::", 1)[0])
            if info:
                out[cid] += self.policy.recency * freshness(
                    info.date, reference, self.policy.recency_days
                )
        return out

    def _passages(
        self,
        order: list[str],
        fused: dict[str, float],
        dense: dict[str, float],
        keyword: dict[str, float],
        cosine: dict[str, float],
        k: int,
    ) -> list[Passage]:
        # Vectors of a document being rewritten may briefly have no catalog rows; skip them.
        chunks = self.catalog.chunks_by_id(order[: k * 2 + 10])
        order = [cid for cid in order if cid in chunks][:k]
        infos = self.catalog.infos(chunks[cid].doc_id for cid in order)
        texts = {doc: self.catalog.text(doc) or "" for doc in infos}
        dense_rank, keyword_rank = _ranks(dense), _ranks(keyword)
        return [
            _passage(
                chunks[cid],
                infos[chunks[cid].doc_id],
                texts[chunks[cid].doc_id],
                fused[cid],
                dense_rank.get(cid),
                keyword_rank.get(cid),
                cosine.get(cid),
                keyword.get(cid),
            )
            for cid in order
            if chunks[cid].doc_id in infos
        ]


def _passage(
    chunk: StoredChunk,
    info: DocumentInfo,
    text: str,
    score: float,
    d_rank: int | None,
    k_rank: int | None,
    d_score: float | None,
    k_score: float | None,
) -> Passage:
    return Passage(
        chunk_id=chunk.id,
        document=info,
        start=chunk.start,
        end=chunk.end,
        text=text[chunk.start : chunk.end],
        sentences=chunk.sentences,
        score=score,
        dense_rank=d_rank,
        keyword_rank=k_rank,
        dense_score=d_score,
        keyword_score=k_score,
        mentions=chunk.mentions,
    )
