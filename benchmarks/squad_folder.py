"""SQuAD's dev-a articles indexed as a folder, every question asked through the library.

    python benchmarks/squad_folder.py [--limit N] [--seed S] [--lists]

The research-assistant setting: the 24 articles of ``../shared/benchmarks/squad/dev-a`` are written
as text files (title, then its paragraphs) into benchmarks/out/squad-dev-a/articles and indexed once
(kept for the next run); each question is asked with no paragraph given.

Measured, per question (official SQuAD v1.1 normalisation):
- quotes: recall@1/3/5 (a gold answer inside one of the first k quotes) and the characters of the
  first three;
- the answer line (``Answer.direct``, the trained reader's): EM / F1 over all questions (no line
  scores 0), the share with a line, and EM where a line is shown;
- list questions (``answerline.is_list``: "Which performers ...", "What two ..."): the mean item F1
  of the listed items against the gold answer split into its items ("Beyoncé and Bruno Mars": two;
  the best of the gold answers; no list scores 0);
- milliseconds per question (the whole ``Library.ask``, reader included).
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

from assistant import Library, answerline  # noqa: E402
from assistant.reader import Reader  # noqa: E402

OUT = HERE / "out" / "squad-dev-a"


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


def contains(text: str, answers: list[str]) -> bool:
    norm = f" {training.normalize(text)} "
    return any(f" {training.normalize(a)} " in norm for a in answers if training.normalize(a))


def items(text: str) -> list[str]:
    """A gold answer's items, split as the product splits a list's spans."""
    from assistant.reader import ReadSpan

    return [t.text for t in answerline.items(ReadSpan(0, 0, len(text), text, 0.0, 0.0))]


def item_f1(listed: list[str], answers: list[str]) -> float:
    """F1 of the items listed against the best of the gold answers, split into items."""
    got = {training.normalize(t) for t in listed}
    best = 0.0
    for answer in answers:
        gold = {training.normalize(t) for t in items(answer)}
        right = len(got & gold)
        if right:
            best = max(best, 2 * right / (len(got) + len(gold)))
    return best


def best(pred: str | None, answers: list[str]) -> tuple[float, float]:
    return training.matches(pred, answers) if pred else (0.0, 0.0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--limit", type=int, default=500, help="questions, drawn with --seed (0: all 4,961)"
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--model", type=Path, default=None, help="reader ONNX file (default: the shipped one)"
    )
    p.add_argument(
        "--lists", action="store_true", help="every list question (289) and no other; no --limit"
    )
    args = p.parse_args(argv)
    folder = build_folder()
    examples = training.squad_examples(training.SQUAD / "dev-a-v1.1.json.gz")
    if args.lists:
        examples = [ex for ex in examples if answerline.is_list(ex["question"])]
    elif args.limit:
        examples = random.Random(args.seed).sample(examples, args.limit)
    rows = []
    with Library(OUT / "index", reader=Reader(args.model) if args.model else None) as lib:
        if not lib.exists():
            print(lib.add([folder]).summary(), flush=True)
        lib.ask(examples[0]["question"])  # warm: the model and the reader loaded
        began = time.perf_counter()
        for n, ex in enumerate(examples, 1):
            t = time.perf_counter()
            answer = lib.ask(ex["question"], k=5)
            ms = 1000 * (time.perf_counter() - t)
            quotes = [q.text for q in answer.quotes]
            line = answer.direct.candidates[0].text if answer.direct else None
            rows.append(
                {
                    "hit": [contains(" ".join(quotes[:k]), ex["answers"]) for k in (1, 3, 5)],
                    "chars3": sum(len(q) for q in quotes[:3]),
                    "line": best(line, ex["answers"]),
                    "shown": line is not None,
                    "list": answerline.is_list(ex["question"]),
                    "items": item_f1(
                        [c.text for c in answer.direct.candidates]
                        if answer.direct and answer.direct.list
                        else [],
                        ex["answers"],
                    ),
                    "ms": ms,
                }
            )
            if n % 100 == 0:
                print(f"{n}/{len(examples)} {time.perf_counter() - began:.0f} s", flush=True)
    n = len(rows)
    shown = sum(r["shown"] for r in rows)
    result: dict[str, object] = {
        "questions": n,
        "recall@1": round(sum(r["hit"][0] for r in rows) / n, 4),
        "recall@3": round(sum(r["hit"][1] for r in rows) / n, 4),
        "recall@5": round(sum(r["hit"][2] for r in rows) / n, 4),
        "chars_first_three": round(sum(r["chars3"] for r in rows) / n),
        "line_em": round(sum(r["line"][0] for r in rows) / n, 4),
        "line_f1": round(sum(r["line"][1] for r in rows) / n, 4),
        "line_shown": round(shown / n, 4),
        "line_em_when_shown": round(sum(r["line"][0] for r in rows) / max(1, shown), 4),
        "list_questions": sum(r["list"] for r in rows),
        "list_item_f1": round(
            sum(r["items"] for r in rows if r["list"]) / max(1, sum(r["list"] for r in rows)), 4
        ),
        "ms_p50": round(sorted(r["ms"] for r in rows)[n // 2]),
        "seed": None if args.lists else args.seed,
    }
    print(json.dumps(result, indent=2))
    (HERE / "out").mkdir(exist_ok=True)
    name = "squad-folder-lists.json" if args.lists else "squad-folder.json"
    (HERE / "out" / name).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
