"""The span reader on its own: SQuAD's closed setting and its speed.

    python benchmarks/reader_bench.py [--model PATH] [--limit N] [--speed-runs N]

Closed setting: every question of the 24 SQuAD v1.1 dev articles (``dev-a``, never trained on) is
read with its own paragraph through ``assistant.reader.Reader`` (the product's code path, the
shipped int8 file), the best span is the prediction, scored with SQuAD v1.1's official EM / F1.
Speed: 8 passages of 256 tokens (question included) read at once, warm, p50 / p95 over
``--speed-runs`` runs, with the load average beside it; and passages a second read one and 16 at a
time. Writes benchmarks/out/reader.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

import reader as training  # noqa: E402  (training/reader.py: the data loader and the official metric)

from assistant.reader import MAX_TOKENS, MODEL_PATH, STRIDE, Reader  # noqa: E402

# Published SQuAD v1.1 dev rows (all 48 dev articles; dev-a is half of them, by article).
PUBLISHED = [
    ("logistic regression (Rajpurkar et al. 2016)", 40.0, 51.0),
    ("BiDAF (Seo et al. 2017)", 67.7, 77.3),
    ("DrQA document reader (Chen et al. 2017)", 69.5, 78.8),
    ("DistilBERT-base (Sanh et al. 2019)", 77.7, 85.8),
    ("BERT-base (Devlin et al. 2019)", 80.8, 88.5),
]


def closed(path: Path, limit: int | None) -> dict[str, float]:
    began = time.perf_counter()
    result = training.evaluate_reader(path, MAX_TOKENS, STRIDE, limit)
    result["seconds"] = round(time.perf_counter() - began, 1)
    return result


def _passage(tokens: int) -> str:
    # Plain news-like prose, long enough to fill a 256-token window after the question.
    sentence = (
        "Russian officials said on Monday that the withdrawal from the air base would continue. "
    )
    return sentence * (tokens // 14 + 2)


def speed(reader: Reader, runs: int) -> dict[str, float]:
    question = "When did the Russian officials say the withdrawal would continue?"
    reader.read(question, [_passage(240)])  # load, warm
    tokenizer = reader._tokenizer
    passages = []
    for i in range(8):
        text = _passage(240)
        enc = tokenizer.encode(question, text)
        passages.append(text[: enc.offsets[-3][1]] + f" {i}")  # one full window: 256 tokens
    tokens = [len(tokenizer.encode(question, p).ids) for p in passages]
    assert len(reader._windows(question, passages)) == len(passages), "one window a passage"
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        reader.read(question, passages)
        times.append(time.perf_counter() - t)
    times.sort()
    one = []
    for p in passages * 2:
        t = time.perf_counter()
        reader.read(question, [p])
        one.append(time.perf_counter() - t)
    sixteen = []
    for _ in range(max(3, runs // 4)):
        t = time.perf_counter()
        reader.read(question, passages * 2)
        sixteen.append(time.perf_counter() - t)
    return {
        "tokens_per_passage": max(tokens),
        "p50_ms_8x256": round(1000 * statistics.median(times), 1),
        "p95_ms_8x256": round(1000 * times[min(len(times) - 1, int(0.95 * len(times)))], 1),
        "runs": runs,
        "passages_per_s_one_at_a_time": round(1 / statistics.median(one), 1),
        "passages_per_s_16_at_a_time": round(16 / statistics.median(sixteen), 1),
        "load_average": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", type=Path, default=MODEL_PATH)
    p.add_argument(
        "--limit", type=int, default=0, help="score this many dev-a questions (0: all 4,961)"
    )
    p.add_argument("--speed-runs", type=int, default=40)
    p.add_argument("--skip-closed", action="store_true")
    args = p.parse_args(argv)
    reader = Reader(args.model)
    out: dict[str, object] = {
        "model": str(args.model),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    out["speed"] = speed(reader, args.speed_runs)
    print(json.dumps(out["speed"]), flush=True)
    if not args.skip_closed:
        out["closed"] = closed(args.model, args.limit or None)
        print(json.dumps(out["closed"]), flush=True)
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "reader.json").write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
