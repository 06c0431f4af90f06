"""SQuAD's dev-a articles indexed as a folder, every question asked through the library.

    python benchmarks/squad_folder.py [--limit N] [--passages N] [--seed S]

The research-assistant setting: the 24 articles of ``../shared/benchmarks/squad/dev-a`` are written
as text files (title, then its paragraphs) into benchmarks/out/squad-dev-a/articles and indexed once
(kept for the next run); each question is asked with no paragraph given.

Measured, per question (official SQuAD v1.1 normalisation):
- quotes: recall@1/3/5 (a gold answer inside one of the first k quotes) and the characters of the
  first three;
- the answer line as the product shows it today (``Answer.direct``): EM / F1 over all questions
  (no line scores 0), the share with a line, and EM where a line is shown;
- the reader's line: ``assistant.reader.Reader`` reading the first ``--passages`` retrieved
  passages; its best span, shown when its margin over the no-answer score clears a bar; EM / F1 and
  the share shown at several bars (dev data: this is where the bar is chosen);
- the reader's quotes: the sentence holding each passage's best span, by span score: recall@1/3/5.
Writes benchmarks/out/squad-folder.json.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

import reader as training  # noqa: E402  (the SQuAD loader and the official metric)

from assistant import Library  # noqa: E402
from assistant.reader import Reader, ReadSpan  # noqa: E402
from assistant.types import Passage  # noqa: E402

OUT = HERE / "out" / "squad-dev-a"
BARS = (-99.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0)


def build_folder() -> Path:
    """The 24 articles as text files: the title on the first line, paragraphs apart."""
    import gzip

    folder = OUT / "articles"
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(training.SQUAD / "dev-a-v1.1.json.gz", "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    for n, article in enumerate(data):
        title = article["title"].replace("_", " ")
        body = "\n\n".join(p["context"].strip() for p in article["paragraphs"])
        name = re.sub(r"\W+", "_", article["title"])[:60]
        (folder / f"{n:02d}_{name}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return folder


def sentence_of(passage: Passage, span: ReadSpan) -> str:
    """The sentence of ``passage`` that holds ``span`` (offsets in the passage's text)."""
    at = passage.start + span.start
    for start, end in passage.sentences:
        if start <= at < end:
            return passage.text[start - passage.start : end - passage.start]
    return passage.text


def contains(text: str, answers: list[str]) -> bool:
    norm = f" {training.normalize(text)} "
    return any(f" {training.normalize(a)} " in norm for a in answers if training.normalize(a))


def best(pred: str | None, answers: list[str]) -> tuple[float, float]:
    return training.matches(pred, answers) if pred else (0.0, 0.0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--limit", type=int, default=500, help="questions, drawn with --seed (0: all 4,961)"
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--passages", type=int, default=8, help="passages the reader reads")
    p.add_argument(
        "--model", type=Path, default=None, help="reader ONNX file (default: the shipped one)"
    )
    args = p.parse_args(argv)
    folder = build_folder()
    examples = training.squad_examples(training.SQUAD / "dev-a-v1.1.json.gz")
    if args.limit:
        examples = random.Random(args.seed).sample(examples, args.limit)
    reader = Reader(args.model)
    rows = []
    with Library(OUT / "index") as lib:
        if not lib.exists():
            print(lib.add([folder]).summary(), flush=True)
        began = time.perf_counter()
        ask_s = read_s = 0.0
        for n, ex in enumerate(examples, 1):
            t = time.perf_counter()
            answer = lib.ask(ex["question"], k=5)
            passages = lib.search(ex["question"], k=args.passages)
            t2 = time.perf_counter()
            spans = reader.read(ex["question"], passages, per_passage=1)
            t3 = time.perf_counter()
            ask_s += t2 - t
            read_s += t3 - t2
            quotes = [q.text for q in answer.quotes]
            read_quotes = [sentence_of(passages[x.passage], x) for x in spans]
            line = (
                answer.direct.candidates[0].text
                if answer.direct and answer.direct.candidates
                else None
            )
            top = spans[0] if spans else None
            rows.append(
                {
                    "hit": [contains(" ".join(quotes[:k]), ex["answers"]) for k in (1, 3, 5)],
                    "chars3": sum(len(q) for q in quotes[:3]),
                    "line": best(line, ex["answers"]),
                    "shown": line is not None,
                    "read": best(top.text if top else None, ex["answers"]),
                    "margin": top.margin if top else float("-inf"),
                    "read_hit": [
                        contains(" ".join(read_quotes[:k]), ex["answers"]) for k in (1, 3, 5)
                    ],
                    "read_chars3": sum(len(q) for q in read_quotes[:3]),
                    "in_passages": contains(" ".join(x.text for x in passages), ex["answers"]),
                }
            )
            if n % 100 == 0:
                print(f"{n}/{len(examples)} {time.perf_counter() - began:.0f} s", flush=True)
    n = len(rows)
    result: dict[str, object] = {
        "questions": n,
        "recall@1": sum(r["hit"][0] for r in rows) / n,
        "recall@3": sum(r["hit"][1] for r in rows) / n,
        "recall@5": sum(r["hit"][2] for r in rows) / n,
        "chars_first_three": sum(r["chars3"] for r in rows) / n,
        "line_em": sum(r["line"][0] for r in rows) / n,
        "line_f1": sum(r["line"][1] for r in rows) / n,
        "line_shown": sum(r["shown"] for r in rows) / n,
        "line_em_when_shown": sum(r["line"][0] for r in rows if r["shown"])
        / max(1, sum(r["shown"] for r in rows)),
        "reader_quotes": {
            "recall@1": sum(r["read_hit"][0] for r in rows) / n,
            "recall@3": sum(r["read_hit"][1] for r in rows) / n,
            "recall@5": sum(r["read_hit"][2] for r in rows) / n,
            "chars_first_three": sum(r["read_chars3"] for r in rows) / n,
        },
        "answer_in_read_passages": sum(r["in_passages"] for r in rows) / n,
        "passages_read": args.passages,
        "ms_ask": 1000 * ask_s / n,
        "ms_read": 1000 * read_s / n,
    }
    reader_rows = []
    for bar in BARS:
        shown = [r for r in rows if r["margin"] > bar]
        reader_rows.append(
            {
                "bar": bar,
                "shown": len(shown) / n,
                "em": sum(r["read"][0] for r in shown) / n,
                "f1": sum(r["read"][1] for r in shown) / n,
                "em_when_shown": sum(r["read"][0] for r in shown) / max(1, len(shown)),
            }
        )
    result["reader_line"] = reader_rows
    print(json.dumps(result, indent=2))
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "squad-folder.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
