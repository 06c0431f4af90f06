"""Word helpers every pure module shares: folding a word as the keyword index sees it, the
stopwords, a question's content words, and the words that place a question in time. Pure, no
I/O: the keyword index itself (SQL) is ``lexical.py``."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    tell say says said according""".split()
)


def before_stopword(words: Iterable[str]) -> list[str]:
    """The words up to the first stopword: a question's noun phrase ("horror film that ...")."""
    return list(itertools.takewhile(lambda w: w not in STOPWORDS, words))


# Words that place a question in time rather than name its topic ("this week", "recently"):
# the reference date answers them (retrieve.py's recency bonus), and an article that answers
# rarely says "this week" of its own news. "now" alone is too common in claims to count.
NOW = re.compile(
    r"\b(?:this\s+(?:week|weekend|month|year|season)|recent(?:ly)?|latest|currently|right\s+now"
    r"|as\s+of\s+now|(?:is|are)\s+now|today|newly)\b",
    re.I,
)


def asks_about_now(question: str) -> bool:
    return NOW.search(question) is not None


WORD = re.compile(r"\w+")
ALPHA = re.compile(r"[^\W\d_]{2,}")  # the words the terms table counts


def fold(word: str) -> str:
    """Lower case without diacritics, as FTS5's unicode61 tokenizer sees a word."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_terms(question: str) -> list[str]:
    """The question's content words, folded, in order, without repeats."""
    words = [fold(w) for w in WORD.findall(question)]
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and len(w) > 1 or w.isdigit()))
