"""What a question asks for, read from its wording (no model): the kind of answer (a
person for "who", a place for "where", a number for "how many", by the head noun for
"which X"), the head noun itself, and the entity labels that fit it. The reader ranks
sentences by it (``answer``) and the answer line picks its candidates by it (``answerline``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .text import before_stopword


@dataclass(frozen=True)
class Asks:
    """The kind of answer a question wants, read from its wording (no model)."""

    kind: str | None  # "person", "place", "time", "number", "name", "reason", "yes/no"; None: open
    wants: frozenset[str] = (
        frozenset()
    )  # mention kinds that can hold it: "name", "number", "date", "reason"
    head: str | None = None  # the noun after "which"/"what": "Which *company* ..."


_HEADS = {
    "person": """person people man woman men women actor actress singer player players celebrity
        politician leader official officials president senator senators governor ceo executive star
        athlete rapper musician author artist judge justice candidate lawmaker minister chancellor
        coach designer founder comedian host billionaire king queen prince princess pope chef
        journalist anchor model son daughter wife husband father mother owner mp legend
        child children kids sons daughters sibling siblings brother sister representative
        congressman congresswoman astronaut scientist researcher doctor officer soldier suspect
        defendant witness hostage prisoner survivor spokesperson spokesman spokeswoman ambassador
        diplomat envoy admiral commander director producer writer poet novelist filmmaker activist
        whistleblower monarch heir successor predecessor nominee contestant""",
    "place": """country countries city cities state states nation town region island place county
        continent location capital province territory venue stadium airport park river sea ocean
        neighborhood neighbourhood street area border""",
    "time": "year date day month decade century time",
    "number": """percent percentage number amount price cost age rate total share figure sum score
        temperature distance speed size fee salary fine tax average pay population value worth income""",
    "reason": "reason reasons cause motive",
}
HEAD_KIND = {w: kind for kind, ws in _HEADS.items() for w in ws.split()}
# The head noun of "which X" narrows the labels that fit the answer line: a company is an ORG,
# a film a work (``answerline``).
STORMS = ("storm", "storms", "hurricane", "hurricanes", "typhoon", "cyclone")
WORD_HEADS = frozenset("word words term terms phrase phrases expression expressions slogan".split())
NAME_HEADS = {
    **dict.fromkeys(
        """company companies firm brand carmaker automaker airline retailer bank network
        platform app team club band group organization organisation agency party supermarket
        supermarkets chain startup manufacturer outlet publication newspaper magazine""".split(),
        frozenset({"ORG"}),
    ),
    **dict.fromkeys(
        """film films movie movies book books novel song songs album show shows series
        sitcom play musical documentary painting game podcast""".split(),
        frozenset({"WORK_OF_ART"}),
    ),
    # "Which word was named word of the year?": articles quote the word ("gaslighting").
    **dict.fromkeys(WORD_HEADS, frozenset({"WORK_OF_ART"})),
    **dict.fromkeys(
        "holiday festival event tournament award awards prize".split(), frozenset({"EVENT"})
    ),
    **dict.fromkeys(
        "restaurant hotel museum gallery bridge building station".split(), frozenset({"FAC", "ORG"})
    ),
    **dict.fromkeys(
        "product drug vaccine car vehicle device phone".split(), frozenset({"PRODUCT", "ORG"})
    ),
    # Storms have people's names, and the tagger mostly calls "Nicole" or "Ian" a PERSON.
    **dict.fromkeys(STORMS, frozenset({"EVENT", "PERSON"})),
}
WANTS = {
    "person": frozenset({"name"}),
    "place": frozenset({"name"}),
    "name": frozenset({"name"}),
    "time": frozenset({"date"}),
    "number": frozenset({"number"}),
    "reason": frozenset({"reason"}),
}
_WH = re.compile(
    r"\b(who|whom|whose|where|when|why|how\s+(?:many|much|long|old|far|often|big|large|tall|high)"
    r"|which|what)\b(?:\s+([\w'’-]+(?:\s+[\w'’-]+){0,5}))?",  # room for "of the following high-profile figures"
    re.I,
)
_YES_NO = re.compile(
    r"^(?:is|are|was|were|do|does|did|can|could|will|would|has|have|had|should)\b", re.I
)
_AUXILIARY = frozenset(
    """is are was were do does did has have had will would can could should
    might may must be been being of the a an this that these those it he she they""".split()
)


def question_parts(question: str) -> list[str]:
    """The sentences of a question; a quiz's last one mostly holds what it asks."""
    return [p for p in re.split(r"(?<=[.!?])\s+", question.strip()) if p]


@lru_cache(maxsize=4096)
def asks(question: str) -> Asks:
    """What ``question`` asks for. Quiz questions often set the scene first ("X made history
    this week. Whose seat is she filling?"): the last sentence holding a question word counts."""
    parts = question_parts(question)
    for part in reversed(parts):
        if found := _asks_in(part):
            if found.head in _ACCOUNTS and not (
                found.head.startswith("role") and _IN_A_WORK.search(part)
            ):
                return Asks(None)  # "What role did Russia play in Syria?": an account, no name
            return found
    if parts and _YES_NO.match(parts[-1]):
        return Asks("yes/no")
    return _fill_in(parts[-1] if parts else "")


def _asks_in(part: str) -> Asks | None:
    """What one sentence of a question asks for; None: it holds no question word."""
    if _CALLED.search(part):
        return Asks("name", WANTS["name"])
    if m := _NAME_OF.search(part):  # "What was the name of the storm?": a storm's name
        return _asks("which", m.group(1))
    if (m := _WHAT_IS.search(part)) and (head := _head_of(m.group(1).lower().split())):
        return _asks("what", head)
    m = _question_word(part)
    if (
        m
        and not part.rstrip().endswith("?")
        and (this := _this_noun(part))
        and this.start() < m.start()
    ):
        return _this_asks(
            this
        )  # "This superstar closed out a tour at the stadium where ...:": the superstar
    if m:
        return _asks(
            m.group(1).lower().split()[-1]
            if m.group(1).lower().startswith("how")
            else m.group(1).lower(),
            m.group(2) or "",
        )
    return None


def _question_word(part: str) -> re.Match[str] | None:
    """The question word of ``part``: its first, unless that opens a relative clause after
    a comma and another follows ("West, who changed his name to Ye, is acquiring which
    platform?" asks for a platform, not a person)."""
    found = list(_WH.finditer(part))
    for m in found[:-1]:
        if not (m.group(1).lower() in _RELATIVE and part[: m.start()].rstrip().endswith(",")):
            return m
    return found[-1] if found else None


_RELATIVE = frozenset("who whom whose which where when".split())
_NAME_OF = re.compile(
    r"\bwhat\s+(?:is|are|was|were)\s+the\s+(?:name|names|title)\s+of\s+(?:the|this|that|these|those)\s+"
    r"((?:[\w-]+\s+){0,2}[\w-]+)\s*\?",
    re.I,
)


# "What is his age?", "What are the turkeys' names?": the noun after "what is the" is the head,
# when it says what kind of answer is wanted ("What is Russia's plan?" stays open).
_WHAT_IS = re.compile(
    r"\bwhat\s+(?:is|are|was|were)\s+(?:the\s+)?(?:the|his|her|its|their|[\w-]+['’]s?)\s+"
    r"((?:[\w-]+\s+){0,2}[\w-]+)(?=\s+(?:of|for|in|on|at|that|who|which)\b|\s*\?)",
    re.I,
)
_CALLED = re.compile(
    r"\bwhat\s+(?:is|are|was|were)\b.*\b(?:called|named|known\s+as)\s*\?\s*$", re.I
)
_NAMING = frozenset("name names nickname title".split())
# A quiz's statement with a blank: "... allow it to sell food from:", "... this drug to autism."
_THIS = re.compile(r"\b(?:this|these)\s+((?:[\w-]+\s+){0,2}[\w-]+)", re.I)  # "this 2022 film"
_NOT_HEADS = frozenset(
    """week weekend weeks month months year years season summer winter spring fall
    autumn morning evening night time day days""".split()
)


def _head_of(words: list[str], owners: frozenset[str] = frozenset()) -> str | None:
    """The word of a short noun phrase that says what kind of answer is wanted: the first that
    does ("average yearly pay": "average"; "newly-released horror film": "film"), or the last of
    a compound it opens ("car company": "company"); None if none does."""
    at = next((n for n, w in enumerate(words) if _heads(w)), None)
    if at is None:
        return None
    # A compound's last noun is its head ("car company", "age group", "island nation"), not a
    # possessor's noun ("state's governor" asks for a state: ``owners``).
    while at + 1 < len(words) and _heads(words[at + 1]) and words[at] not in owners:
        at += 1
    return words[at]


def _heads(w: str) -> bool:
    return (
        w in HEAD_KIND
        or w.removesuffix("s") in HEAD_KIND
        or w in _NAMING
        or w in HEAD_FITS
        or w in NAME_HEADS
    )


def _fill_in(part: str) -> Asks:
    """A statement that leaves the answer out: "This luxury fashion house drew backlash ..."
    asks for the house; one ending in ":" for the name that completes it ("... sell food
    from:"), unless what completes it may be a date ("... for the first time since:")."""
    if this := _this_noun(part):
        return _this_asks(this)
    if _SINCE.search(part):  # "... erupted for the first time since:" a date
        return Asks("time", WANTS["time"])
    if part.rstrip().endswith(":") and not _OPEN_TIME.search(part):
        return Asks("name", WANTS["name"])
    return Asks(None)


def _this_noun(part: str) -> re.Match[str] | None:
    """The first "this X" of a statement that names a thing, not a time ("this week")."""
    return next(
        (m for m in _THIS.finditer(part) if m.group(1).lower().split()[0] not in _NOT_HEADS), None
    )


def _this_asks(this: re.Match[str]) -> Asks:
    return _asks("which", _head_of(before_stopword(this.group(1).lower().split())) or "")


_SINCE = re.compile(r"\bsince:\s*$", re.I)
_OPEN_TIME = re.compile(r"\b(?:in|until|before|after):\s*$", re.I)  # a year or a place: left open


_EVENTS = frozenset("happen happened happens happening".split())
_OF_THESE = re.compile(r"^\s*of\s+(?:the\s+following|these|those)\s*", re.I)


def _asks(word: str, following: str) -> Asks:
    kind = {
        "who": "person",
        "whom": "person",
        "whose": "person",
        "where": "place",
        "when": "time",
        "why": "reason",
        "many": "number",
        "much": "number",
        "long": "number",
        "old": "number",
        "far": "number",
        "often": "number",
        "big": "number",
        "large": "number",
        "tall": "number",
        "high": "number",
    }.get(word)
    if kind:
        return Asks(kind, WANTS[kind])
    # which/what: the noun after it says what is wanted ("which company", "what year"), also
    # after "which of these" ("Which of these players did not play for him?").
    original = _OF_WHOSE.sub("", _OF_THESE.sub("", following)).split()
    if not original or original[0].lower() in _AUXILIARY:
        return Asks("name", WANTS["name"]) if word == "which" else Asks(None)
    if (
        word == "what" and original[0].lower() in _EVENTS
    ):  # "What happened at Hmeimim?": an account, no name
        return Asks(None)
    if len(original) > 2 and original[0].lower() in _SORT_OF and original[1].lower() == "of":
        original = original[2:]  # "which type of animal": an animal
    words = [w.lower().removesuffix("'s").removesuffix("’s") for w in original]
    # "which newly-released horror film", "which English rugby club": the noun that says what is
    # wanted may come after the first word; else the first word is the head, as it mostly is,
    # unless it is a name modifying the noun ("which US currency": currency) or a word that
    # only describes it ("which controversial subject", "what critically endangered bird").
    phrase = before_stopword(words)
    # "which children's show", "which women's team": a plural's genitive says what sort the noun
    # after it is ("which country's lawmakers" still asks for a country)
    phrase = [
        w
        for n, w in enumerate(phrase)
        if n == len(phrase) - 1
        or w not in _SORT_GENITIVES
        or not original[n].endswith(("'s", "’s"))
    ]
    common = [w for w, o in zip(phrase, original) if not o[:1].isupper() and not _describes(w)]
    owners = frozenset(w for w, o in zip(words, original) if o.endswith(("'s", "’s")))
    head = (
        _head_of(phrase, owners)
        or next((w for w in phrase if w in _MEMBERS), None)
        or (common or words)[0]
    )
    kind = HEAD_KIND.get(head) or HEAD_KIND.get(head.removesuffix("s")) or "name"
    if head in _MEMBERS or (head.removesuffix("s") == "figure" and _PROMINENT & set(phrase)):
        kind = "person"  # "which top Tory", "which high-profile figures"
    return Asks(kind, WANTS[kind], head)


# Nouns whose answer is an account, not a name: "What impact did the storm have?"
_ACCOUNTS = frozenset(
    """role roles impact impacts effect effects significance importance purpose
    strategy strategies goal goals aim aims objective objectives stance response reaction reactions
    outcome consequence consequences implication implications""".split()
)
# A role in a film is a character: "What role did he play in a Pixar movie?" (Buzz Lightyear)
_IN_A_WORK = re.compile(
    r"\b(?:film|movie|show|series|sitcom|musical|franchise|episode|cast)s?\b", re.I
)
_SORT_OF = frozenset("type kind sort form variety".split())
_SORT_GENITIVES = frozenset("children women men people".split())
# Adjectives quiz questions put before the noun they ask about; an -ly word is an adverb.
_DESCRIBING = frozenset(
    """controversial popular famous major top new former spooky vital common rare
    endangered beloved iconic historic deadly dangerous favorite favourite traditional annual
    mysterious unusual giant huge tiny little big small large young old""".split()
)


def _describes(word: str) -> bool:
    return word in _DESCRIBING or (
        word.endswith("ly") and len(word) > 4 and word not in _NOT_ADVERBS
    )


_NOT_ADVERBS = frozenset("family ally italy july rally assembly supply jelly belly".split())


# "Which of Donald Trump's children ...": the noun after the possessor is the head.
_OF_WHOSE = re.compile(r"^\s*of\s+(?:the\s+)?(?:[\w.-]+\s+){0,3}?[\w.-]+['’]s?\s+(?=\w)", re.I)
# A party's or a faction's member ("which top Tory", "which high-profile Republican"): a person,
# unless a head noun of the tables comes with it ("which Republican state").
_MEMBERS = frozenset(
    "tory tories republican republicans democrat democrats conservative conservatives".split()
)
_PROMINENT = frozenset("high-profile prominent famous public political notable well-known".split())


FITS = {
    "person": frozenset({"PERSON"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "time": frozenset({"DATE", "TIME"}),
    "number": frozenset({"CARDINAL", "MONEY", "PERCENT", "QUANTITY", "DATE"}),  # DATE: a duration
}

# "Which *company* ...": head nouns whose answers have one entity label.
_HEAD_LABELS = {
    "ORG": """company companies firm firms brand brands team teams organization organisation group groups
        network agency bank party club band airline retailer university school network league""",
    "WORK_OF_ART": "film films movie movies show shows series book books song songs album novel play documentary",
    "EVENT": "event events tournament championship festival war storm hurricane",
    "PRODUCT": "product products phone car device app vehicle",
    "NORP": "nationality religion",
    "LAW": "law laws bill bills act",
}
HEAD_FITS = {w: frozenset({label}) for label, ws in _HEAD_LABELS.items() for w in ws.split()}
HEAD_FITS.update(
    {w: NAME_HEADS[w] for w in STORMS}
)  # a storm: an EVENT or a PERSON (see NAME_HEADS)


def fits(wanted: Asks) -> frozenset[str] | None:
    """The entity labels that answer ``wanted`` exactly; None: any label of a wanted kind."""
    if wanted.head and wanted.head in HEAD_FITS:
        return HEAD_FITS[wanted.head]
    return FITS.get(wanted.kind or "")
