"""Document -> Chunks: sentence-aware, sized for the embedding model, offsets kept.

Why these numbers: MiniLM reads at most 256 tokens. A chunk holds at most
``max_tokens`` (200) model tokens so the title prefix added at embedding time (at most
``TITLE_TOKENS``) and the two special tokens still fit: nothing is ever truncated by
the embedder. Consecutive chunks share one sentence so an answer that straddles a
boundary is still found whole. Chunks never cross text that the reader excluded
(boilerplate, repeated paragraphs): such text is simply absent from every chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from .types import Chunk, Document, Span

CountTokens = Callable[[list[str]], list[int]]

MAX_TOKENS = 200
OVERLAP_SENTENCES = 1
TITLE_TOKENS = 48

_BLOCK_BREAK = re.compile(r"\n\s*\n")
_LINE_BREAK = re.compile(r"\n")


@lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    import pysbd  # lazy: pysbd compiles many regexes on import

    return pysbd.Segmenter(language="en", clean=False)


def _blocks(text: str, split_lines: bool) -> list[Span]:
    """Paragraph spans. Prose formats break sentences at every newline; PDF text is
    hard-wrapped, so there only blank lines end a paragraph."""
    pattern = _LINE_BREAK if split_lines else _BLOCK_BREAK
    spans, begin = [], 0
    for m in pattern.finditer(text):
        spans.append((begin, m.start()))
        begin = m.end()
    spans.append((begin, len(text)))
    return [s for s in spans if text[s[0] : s[1]].strip()]


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# A boundary no sentence splitter would argue with: a word of three or more letters,
# lower case but for the first and not a known abbreviation (or a number, a closing
# bracket, a percent sign), then . ! or ?, an optional closing quote or bracket, white
# space, and an upper-case letter. pysbd costs ~50 ms
# per abstract, more than embedding it; splitting at these first and running pysbd only
# on the pieces that still hold a possible boundary (". " after anything else) keeps
# its judgement on abbreviations, initials and decimals at a fraction of the cost.
_PLAIN_END = re.compile(
    r"(?:\b[A-Za-z][a-z]{2,}|\b\d{2,}|[)%\]])[.!?][\"'\u201d\u2019)\]]?(\s+)(?=[\"\u201c(\[]?[A-Z])"
)
_ABBREVIATIONS = frozenset(
    "approx incl resp viz etc fig figs ref refs vol nos dept univ corp inc ltd est cit seq spp "
    "subsp var jan feb mar apr jun jul aug sep sept oct nov dec gen col mrs prof capt sen rep "
    "gov sgt maj adm cmdr lieut messrs ave blvd rev hon".split()
)
_MAYBE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?:\s+\S|[^\W\d_])")


def _inside_quote(block: str, at: int) -> bool:
    """pysbd keeps a quoted passage whole; leave boundaries inside quotes to it."""
    return (
        block.count("\u201c", 0, at) > block.count("\u201d", 0, at)
        or block.count('"', 0, at) % 2 == 1
    )


def _plain_pieces(block: str) -> list[tuple[int, int]]:
    pieces, begin = [], 0
    for m in _PLAIN_END.finditer(block):
        word = block[m.start() : m.start(1)].rstrip(".!?\"'\u201d\u2019)]").lower()
        if word in _ABBREVIATIONS or _inside_quote(block, m.start()):
            continue
        pieces.append((begin, m.start(1)))
        begin = m.end(1)
    pieces.append((begin, len(block)))
    return pieces


def _segment(block: str) -> list[tuple[int, int]]:
    """Sentences of one block as offsets into it (untrimmed)."""
    out: list[tuple[int, int]] = []
    for begin, end in _plain_pieces(block):
        piece = block[begin:end]
        if not _MAYBE_END.search(piece):
            out.append((begin, end))
            continue
        # pysbd with clean=False almost always returns pieces that concatenate back to
        # its input; find each one rather than trust that, so an odd input cannot shift
        # every later offset (or run past the end of the text).
        cursor = begin
        for sentence in _segmenter().segment(piece):
            core = sentence.strip()
            if not core:
                continue
            found = block.find(core, cursor, end)
            if found < 0:
                continue
            out.append((found, found + len(core)))
            cursor = found + len(core)
    return out


def sentence_spans(text: str, split_lines: bool = True) -> list[Span]:
    """Every sentence of ``text`` as trimmed ``[start, end)`` offsets, in order."""
    spans: list[Span] = []
    for b_start, b_end in _blocks(text, split_lines):
        block = text[b_start:b_end]
        if not split_lines:
            # pysbd ends a sentence at any newline; a hard-wrapped line is not one.
            # Same length, so offsets still line up.
            block = block.replace("\n", " ")
        for start, end in _segment(block):
            start, end = _trim(text, b_start + start, b_start + end)
            if end > start:
                spans.append((start, end))
    return spans


def _merged(spans: Sequence[Span]) -> list[Span]:
    """Sorted, with overlapping or touching spans joined: disjoint, in text order."""
    out: list[Span] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _runs(spans: list[Span], excluded: Sequence[Span]) -> list[list[Span]]:
    """Group kept sentences into runs that no excluded span interrupts. One sweep over the
    sentences and the merged excluded spans, both in text order: a long file with
    thousands of repeated paragraphs stays linear (checking every excluded span for every
    sentence took an hour on 50 MB)."""
    cuts = _merged(excluded)
    runs: list[list[Span]] = [[]]
    j = 0
    for start, end in spans:
        while j < len(cuts) and cuts[j][1] <= start:
            j += 1  # ends before this sentence, so before every later one
        if j < len(cuts) and cuts[j][0] < end:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((start, end))
    return [r for r in runs if r]


def _split_long(text: str, span: Span, count: CountTokens, limit: int) -> list[Span]:
    """Cut a sentence longer than ``limit`` tokens at word boundaries."""
    words = [
        (m.start() + span[0], m.end() + span[0])
        for m in re.finditer(r"\S+", text[span[0] : span[1]])
    ]
    sizes = count([text[s:e] for s, e in words])
    pieces, begin, used = [], words[0][0], 0
    for (s, _), size in zip(words, sizes):
        if used and used + size > limit:
            pieces.append(_trim(text, begin, s))
            begin, used = s, 0
        used += size
    pieces.append(_trim(text, begin, words[-1][1]))
    return [p for p in pieces if p[1] > p[0]]


def _pack(sentences: list[Span], sizes: list[int], limit: int, overlap: int) -> list[list[int]]:
    """Greedy packing of sentence indexes into chunks of at most ``limit`` tokens,
    each chunk after the first starting with the last ``overlap`` sentences of the one before."""
    chunks: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, size in enumerate(sizes):
        if current and used + size > limit:
            chunks.append(current)
            carry = [j for j in current[-overlap:] if overlap] if len(current) > overlap else []
            carry_size = sum(sizes[j] for j in carry)
            if carry_size + size > limit:
                carry, carry_size = [], 0
            current, used = list(carry), carry_size
        current.append(i)
        used += size
    if current:
        chunks.append(current)
    return chunks


def chunk_document(
    doc: Document,
    count_tokens: CountTokens,
    *,
    max_tokens: int = MAX_TOKENS,
    overlap: int = OVERLAP_SENTENCES,
) -> list[Chunk]:
    text = doc.text
    spans = sentence_spans(text, split_lines=doc.format != "pdf")
    chunks: list[Chunk] = []
    for run in _runs(spans, doc.excluded):
        sizes = count_tokens([text[s:e] for s, e in run])
        sentences: list[Span] = []
        kept: list[int] = []
        for span, size in zip(run, sizes):
            parts = (
                [span] if size <= max_tokens else _split_long(text, span, count_tokens, max_tokens)
            )
            sentences.extend(parts)
            kept.extend([size] if len(parts) == 1 else count_tokens([text[s:e] for s, e in parts]))
        for group in _pack(sentences, kept, max_tokens, overlap):
            start, end = sentences[group[0]][0], sentences[group[-1]][1]
            chunks.append(
                Chunk(
                    doc_id=doc.id,
                    index=len(chunks),
                    start=start,
                    end=end,
                    text=text[start:end],
                    sentences=tuple(sentences[i] for i in group),
                )
            )
    return chunks


def embedding_text(title: str | None, chunk: Chunk) -> str:
    """What the model reads for a chunk: the document title, then the chunk. The title
    tells the model what a passage is about when the passage never names it; it is
    skipped when the chunk already begins with it (a .txt headline)."""
    if not title or chunk.text.startswith(title.strip()):
        return chunk.text
    words = title.split()
    # ~1.3 tokens per word keeps the prefix well inside TITLE_TOKENS without a tokenizer call.
    return " ".join(words[: int(TITLE_TOKENS / 1.5)]) + "\n" + chunk.text
