"""Keyword search: SQLite FTS5 (BM25, Porter stemming) kept in the catalog database and
updated chunk by chunk, never rebuilt whole.

Spelling variants. Names transliterated from Arabic or Russian are spelled many ways
(Khmeimim, Hmeimim, Khmeymim, Hemeimeem; Tartus, Tartous). Rather than keep an alias
list, the catalog keeps the corpus vocabulary with, for each word, its document
frequency and how many documents write it capitalised. A question word is expanded to
the corpus words that

* are names: capitalised in most documents that use them (so "county" never
  expands to "country"),
* share its consonant skeleton within one deletion (first letter kept, vowels and
  doubled letters dropped: hmeimim -> hmmm, khmeymim -> khmmm, tartous -> trts), found
  through an index of skeleton deletion keys (the SymSpell trick) instead of a scan, and
* sound alike (``spelled_alike``): the same consonants once kh is read as h and a silent h
  is dropped, c/k/q/g and s/z taken as one, vowels and doubled letters as they roughly sound
  (hemeimeem -> hImImIm, khmeimim -> hmImIm), with one small edit of room (two in long words);
  or one is made from the other (Ukraine, Ukrainian).

``KeywordIndex`` owns the FTS and term tables; the module's functions take a connection
so the benchmarks' studies can ask the same questions of their own tables.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable

from .text import ALPHA, fold, query_terms

TOKENIZER = "porter unicode61 remove_diacritics 2"
MIN_VARIANT_LENGTH = 5

_SCHEMA = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, body, tokenize='{TOKENIZER}');
CREATE TABLE IF NOT EXISTS terms(term TEXT PRIMARY KEY, df INTEGER NOT NULL, cap INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS term_keys(key TEXT NOT NULL, term TEXT NOT NULL, PRIMARY KEY(key, term));
"""


def create(db: sqlite3.Connection) -> None:
    db.executescript(_SCHEMA)


# -- writes -----------------------------------------------------------------
def add_chunk(db: sqlite3.Connection, rowid: int, title: str, body: str) -> None:
    db.execute("INSERT INTO chunks_fts(rowid, title, body) VALUES (?, ?, ?)", (rowid, title, body))


def remove_chunks(db: sqlite3.Connection, rowids: list[int]) -> None:
    db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(r,) for r in rowids])


def _doc_terms(text: str) -> dict[str, int]:
    """Distinct words of a document -> 1 if it mostly writes the word capitalised."""
    seen: dict[str, list[int]] = {}
    for m in ALPHA.finditer(text):
        word = m.group()
        counts = seen.setdefault(fold(word), [0, 0])
        counts[0] += 1
        counts[1] += word[0].isupper()
    return {term: int(caps * 2 > n) for term, (n, caps) in seen.items()}


def add_terms(db: sqlite3.Connection, text: str) -> None:
    terms = _doc_terms(text)
    known = _existing(db, terms)
    db.executemany(
        "INSERT INTO terms(term, df, cap) VALUES (?, 1, ?)"
        " ON CONFLICT(term) DO UPDATE SET df = df + 1, cap = cap + excluded.cap",
        terms.items(),
    )
    fresh = [t for t in terms if t not in known and len(t) >= MIN_VARIANT_LENGTH]
    db.executemany(
        "INSERT OR IGNORE INTO term_keys(key, term) VALUES (?, ?)",
        [(key, t) for t in fresh for key in skeleton_keys(t)],
    )


def remove_terms(db: sqlite3.Connection, text: str) -> None:
    terms = _doc_terms(text)
    db.executemany(
        "UPDATE terms SET df = df - 1, cap = cap - ? WHERE term = ?",
        [(cap, t) for t, cap in terms.items()],
    )
    gone = [r[0] for r in db.execute("SELECT term FROM terms WHERE df <= 0")]
    db.executemany("DELETE FROM term_keys WHERE term = ?", [(t,) for t in gone])
    db.execute("DELETE FROM terms WHERE df <= 0")


def _existing(db: sqlite3.Connection, terms: Iterable[str]) -> set[str]:
    words = list(terms)
    found: set[str] = set()
    for i in range(0, len(words), 500):
        part = words[i : i + 500]
        marks = ",".join("?" * len(part))
        found.update(
            r[0] for r in db.execute(f"SELECT term FROM terms WHERE term IN ({marks})", part)
        )
    return found


# -- variants ---------------------------------------------------------------
def skeleton(word: str) -> str:
    letters = [c for i, c in enumerate(word) if i == 0 or c != word[i - 1]]
    return letters[0] + "".join(c for c in letters[1:] if c not in "aeiouy") if letters else ""


def skeleton_keys(word: str) -> set[str]:
    skel = skeleton(word)
    if len(skel) < 3:
        return set()
    return {skel} | {skel[:i] + skel[i + 1 :] for i in range(len(skel))}


# How a spelling sounds, roughly: transliterations of one name differ in vowels ("Khmeymim",
# "Hemeimeem"), doubled letters, a silent h ("Khmeimim", "Hmeimim") and c/k/q/g or s/z, rarely
# in their other consonants. Blurring every vowel into one, as before, made "Russian" a
# spelling of "Syrian" and "Kardashian" one of "Kurdish".
_LIKE = {**dict.fromkeys("ckqg", "k"), **dict.fromkeys("sz", "s"), **dict.fromkeys("fvw", "f")}
_VOWELS = {"a": "A", "e": "I", "i": "I", "y": "I", "o": "U", "u": "U"}
# A name and the word made from it: Ukraine, Ukrainian; Qatar, Qatari; China, Chinese.
_DERIVED = frozenset("n an ian ns ans ians i is ese y".split())


def sound(word: str) -> str:
    """``word`` (folded) as it roughly sounds: kh as h, an h after a consonant dropped, a y
    before a vowel as j, doubled letters once, each run of vowels as the class of its first
    (A; I for e, i, y; U for o, u): khmeimim, hmeimim -> hmImIm; tartous, tartus -> tArtUs."""
    word = re.sub(
        r"y(?=[aeiou])",
        "j",
        re.sub(r"(?<=[^aeiouyh])h", "", word.replace("kh", "h").replace("ph", "f")),
    )
    out: list[str] = []
    for i, c in enumerate(word):
        if c in _VOWELS:
            if i and word[i - 1] in _VOWELS:
                continue
            c = _VOWELS[c]
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


def _step(a: str, b: str) -> tuple[int, int, int]:
    """One sound for another, as (consonants changed, edits, vowel classes changed)."""
    if a == b:
        return (0, 0, 0)
    if a in "AIU" and b in "AIU":
        return (0, 1, 1)
    if a not in "AIU" and b not in "AIU" and _LIKE.get(a, a) == _LIKE.get(b, b):
        return (0, 1, 0)
    return (1, 1, 0)


def _gap(c: str) -> tuple[int, int, int]:
    return (c not in "AIUh", 1, 0)  # a vowel or an h may be put in or left out; other letters not


def _edits(a: str, b: str) -> tuple[int, int, int]:
    """The fewest edits from sound ``a`` to sound ``b``: (consonants changed, put in or left
    out; all edits; vowel classes changed), fewest consonants first."""

    def plus(x: tuple[int, int, int], y: tuple[int, int, int]) -> tuple[int, int, int]:
        return (x[0] + y[0], x[1] + y[1], x[2] + y[2])

    previous = [(0, 0, 0)]
    for cb in b:
        previous.append(plus(previous[-1], _gap(cb)))
    for ca in a:
        current = [plus(previous[0], _gap(ca))]
        for j, cb in enumerate(b, 1):
            current.append(
                min(
                    plus(previous[j], _gap(ca)),
                    plus(current[j - 1], _gap(cb)),
                    plus(previous[j - 1], _step(ca, cb)),
                )
            )
        previous = current
    return previous[-1]


def _consonants(sounded: str) -> str:
    return "".join(_LIKE.get(c, c) for c in sounded if c not in "AIUh")


def _derived(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    roots = (short, short[:-1]) if short[-1] in "aeiouy" else (short,)
    return any(long.startswith(r) and long[len(r) :] in _DERIVED for r in roots)


def spelled_alike(a: str, b: str) -> bool:
    """Whether folded words ``a`` and ``b`` may be one name: the same sound but for one alike
    edit (two in words of eight sounds or more) and, in words of seven letters or more, one
    vowel class (Mohammed, Muhammad); or one made from the other (Ukraine, Ukrainian)."""
    if _derived(a, b):
        return True
    x, y = sound(a), sound(b)
    if _consonants(x) != _consonants(
        y
    ):  # no edit can change one (most candidates end here, cheaply)
        return False
    _, edits, vowels = _edits(x, y)  # no consonant edits: the consonants are the same
    room = 2 if max(len(x), len(y)) >= 8 else 1
    return edits <= room and vowels <= (min(len(a), len(b)) >= 7)


def _is_name(db: sqlite3.Connection, term: str) -> bool | None:
    row = db.execute("SELECT df, cap FROM terms WHERE term = ?", (term,)).fetchone()
    return None if row is None else row[1] * 2 > row[0]


def variants(db: sqlite3.Connection, word: str) -> list[str]:
    """Corpus spellings of the name ``word`` (folded), itself excluded."""
    term = fold(word)
    keys = skeleton_keys(term)
    if len(term) < MIN_VARIANT_LENGTH or not keys or _is_name(db, term) is False:
        return []
    marks = ",".join("?" * len(keys))
    rows = db.execute(
        f"SELECT DISTINCT k.term FROM term_keys k JOIN terms t ON t.term = k.term"
        f" WHERE k.key IN ({marks}) AND t.cap * 2 > t.df",
        list(keys),
    )
    return sorted(c for (c,) in rows if c != term and spelled_alike(c, term))


# -- search -----------------------------------------------------------------
_HYPHENATED = re.compile(r"([^\W_]+)-(?=([^\W_]+))")


def joined_forms(question: str) -> list[str]:
    """Hyphenated words of the question written solid, as some articles write them:
    birth-weight -> birthweight, e-mail -> email. (The tokenizer already splits the
    hyphenated form into its parts, which find the articles that keep the hyphen.)"""
    return list(dict.fromkeys(fold(a + b) for a, b in _HYPHENATED.findall(question)))


def expand(db: sqlite3.Connection, terms: list[str]) -> dict[str, list[str]]:
    return {t: variants(db, t) for t in terms}


def question_words(db: sqlite3.Connection, question: str) -> dict[str, list[str]]:
    """What keyword search looks for: each content word with its corpus spelling variants,
    and the question's hyphenated words written solid."""
    expanded = expand(db, query_terms(question))
    return {**expanded, **{w: [] for w in joined_forms(question) if w not in expanded}}


def match_expression(expanded: dict[str, list[str]]) -> str:
    words = [w for term, alts in expanded.items() for w in [term, *alts]]
    return " OR ".join(f'"{w}"' for w in dict.fromkeys(words))


def search(
    db: sqlite3.Connection,
    question: str,
    limit: int,
    *,
    within: tuple[str, list[object]] | None = None,
    weights: tuple[float, float] = (1.0, 1.0),
) -> list[tuple[int, float]]:
    """(chunk rowid, BM25 score higher-is-better) best first. ``within``: a SQL condition on
    ``f.rowid`` and its parameters, which chunks may be returned (see ``Scope``)."""
    expression = match_expression(question_words(db, question))
    if not expression:
        return []
    sql = (
        f"SELECT f.rowid, -bm25(chunks_fts, {weights[0]}, {weights[1]}) AS score FROM chunks_fts f"
        " WHERE"
    )
    args: list[object] = []
    if within is not None:
        sql += f" {within[0]} AND"
        args += within[1]
    sql += " chunks_fts MATCH ? ORDER BY score DESC LIMIT ?"
    args += [expression, limit]
    return [(int(r[0]), float(r[1])) for r in db.execute(sql, args)]


# Which chunks belong to some documents, as a SQL condition on a chunk rowid (the SQL expression
# given) and its parameters: the catalog's to say (``Catalog._in_documents``), since it alone
# holds which chunk is whose; the keyword index only knows chunks by rowid.
Scope = Callable[[str, list[str]], tuple[str, list[object]]]


class KeywordIndex:
    """The keyword tables of one catalog connection: chunk text in FTS5, and the corpus
    vocabulary (document frequency, capitalisation, skeleton keys) behind spelling variants."""

    def __init__(self, db: sqlite3.Connection, scope: Scope):
        self.db, self.scope = db, scope

    def create(self) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self.db.execute(statement)

    def count_chunks(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0])

    def add_chunk(self, rowid: int, title: str, body: str) -> None:
        add_chunk(self.db, rowid, title, body)

    def remove_chunks(self, rowids: list[int]) -> None:
        remove_chunks(self.db, rowids)

    def add_terms(self, text: str) -> None:
        add_terms(self.db, text)

    def set_title(self, rowids: list[int], title: str) -> None:
        self.db.executemany(
            "UPDATE chunks_fts SET title = ? WHERE rowid = ?", [(title, r) for r in rowids]
        )

    def remove_terms(self, text: str) -> None:
        remove_terms(self.db, text)

    def variants(self, word: str) -> list[str]:
        return variants(self.db, word)

    def df(self, term: str) -> int:
        """How many documents use ``term`` (folded)."""
        row = self.db.execute("SELECT df FROM terms WHERE term = ?", (term,)).fetchone()
        return int(row[0]) if row else 0

    def search(
        self,
        question: str,
        limit: int,
        *,
        doc_ids: list[str] | None = None,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[tuple[int, float]]:
        """(chunk rowid, BM25 score) best first, from the documents ``doc_ids`` when given."""
        if doc_ids is None:
            return search(self.db, question, limit, weights=weights)
        if not doc_ids:
            return []
        within = self.scope("f.rowid", doc_ids)
        return search(self.db, question, limit, within=within, weights=weights)
