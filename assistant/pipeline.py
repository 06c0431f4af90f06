"""One answer, start to end: question -> retrieve -> read -> rank -> answer.

1. **retrieve** (``retrieve.py``): hybrid search, ``answer.passages_wanted(k)`` passages;
2. **read** (``reader.py``): the trained reader reads the first ``answerline.READ`` of them (more
   for a list question) and points at answer spans;
3. **rank**: the spans become candidates weighed by a fitted model (``answerline.py``); every
   sentence of the passages is scored for relevance and ranked, the reader's belief in the
   answer it holds included (``answer.py``);
4. **answer**: the quotes that clear the bar, best first; the answer line on top when its best
   candidate is likely right, cited.

When the reader cannot run (its model file missing or damaged), the answer says so in
``Answer.warnings`` and is made of quotes alone. Everything reads one snapshot of the catalog,
which the caller holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from . import answer, answerline
from .errors import ModelError
from .types import Answer, Citation, Filters, Passage

if TYPE_CHECKING:
    from .answer import Policy, SentenceVectors
    from .catalog import Catalog
    from .reader import Reader, ReadSpan
    from .retrieve import Retriever


@dataclass
class Parts:
    """What a question is answered with (the ``Library`` holds them, lazily opened)."""

    catalog: Catalog
    retriever: Retriever
    vectors: SentenceVectors
    reader: Reader
    text: Callable[[str], str]


def ask(
    parts: Parts,
    question: str,
    k: int,
    filters: Filters,
    policy: Policy | None = None,
    weights: answerline.Weights | None = None,
) -> Answer:
    catalog = parts.catalog
    passages = parts.retriever.search(question, answer.passages_wanted(k), filters)
    listing = answerline.is_list(question)
    wanted = answerline.LIST_READ if listing else answerline.READ
    spans, warning = _read(parts.reader, question, passages[:wanted])
    spelling = answerline.canonical(catalog.keywords.variants)
    # The quotes' ranking reads each sentence's answer weighed against every span read (as it
    # was fitted); a list's items are weighed each within its own passage (``LIST_WEIGHTS``).
    found = answerline.weigh(
        answerline.gather(question, spans, passages, spelling), answerline.Weights()
    )
    every = catalog.count_docs()
    terms = answer.weigh_terms(question, catalog.keywords.variants, catalog.keywords.df, every)
    texts = {p.document.id: parts.text(p.document.id) for p in passages}
    built = answer.build(
        question,
        passages,
        terms,
        parts.vectors,
        k=k,
        searched=catalog.count_docs(filters),
        indexed=every,
        texts=texts,
        policy=policy or answer.Policy(),
        reference=filters.reference(),
        likely=answerline.likely_by_sentence(found),
    )
    if warning:
        return replace(built, warnings=(warning,))
    if not built.answered:  # no line where no quote answers
        return built
    if listing:
        weights = weights or answerline.LIST_WEIGHTS
        found = answerline.weigh(
            answerline.gather(question, spans, passages, spelling, by_passage=True), weights
        )
    elif weights is not None:
        found = answerline.weigh(found, weights)
    line = answerline.direct(found, weights or answerline.Weights(), texts, listing=listing)
    infos = {p.document.id: p.document for p in passages}

    def cite(doc: str, offset: int) -> Citation | None:
        info = infos.get(doc)
        if info is None:
            return None
        where = answer.location(info, texts.get(doc), offset)
        return Citation(
            0, doc, info.title, info.path, info.date, info.format, where, info.date_source
        )

    return answerline.attach(built, line, cite)


def _read(
    reader: Reader, question: str, passages: list[Passage]
) -> tuple[list[ReadSpan], str | None]:
    """The reader's spans, or none and a one-line warning when it cannot run."""
    try:
        return reader.read(question, passages), None
    except ModelError as e:
        return [], f"no answer line: {e}"
