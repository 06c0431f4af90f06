"""Indexing throughput on a folder of saved HTML pages: ``--jobs 1`` and the default
(one worker per core) against the raw encode throughput of the same embedder, one run.

    python benchmarks/html_index_speed.py [--pages DIR] [--limit 60] [--rounds 2] [--json FILE]

Decompresses the first ``--limit`` trafilatura-eval pages by sorted name (gzipped HTML,
read from ../shared at run time) into a temporary folder as ``.html``. Then, per round,
alternating the order so that a noisy neighbour hits every arm alike:

* ``Library(fresh).add([folder], limits=ReadLimits(jobs=1))``
* the same with ``ReadLimits()`` (the default: one worker per core)
* the default without named entities (``entities="off"``): what spaCy's tagging in the
  workers costs (both arms above tag, as ``assistant index`` does by default)
* raw encode: ``embedder.embed()`` over exactly the texts the indexer embedded, in the
  very batches it passed (recorded from the indexing run), with nothing else around it.

One embedder, opened before the clock starts, is given to every ``Library`` (its ONNX
export and load are timed apart); a small warm-up index starts the forkserver, so that
is not in the timings either. Each index run does pay for its own worker pool (and each
worker's tokenizer): a user's ``assistant index`` does too.

Not in ``run_all.py``: on two loaded cores a round costs about 4.5 s a page.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PAGES = ROOT.parent / "shared" / "benchmarks" / "trafilatura-eval" / "pages"
OUT = ROOT / "benchmarks" / "out" / "html_index_speed.json"
# Workers re-import this module (forkserver): heavy imports stay inside main().


def unpack(pages: Path, folder: Path, limit: int) -> list[Path]:
    folder.mkdir(parents=True)
    out = []
    for page in sorted(pages.glob("*.html.gz"))[:limit]:
        target = folder / page.name.removesuffix(".gz")
        target.write_bytes(gzip.decompress(page.read_bytes()))
        out.append(target)
    return out


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": os.getloadavg(),
    }


class Recorder:
    """Wraps the embedder instance's ``embed`` to keep each batch the indexer passes.
    Set on the instance, so ``workers.counter_for`` still sees an OnnxEmbedder."""

    def __init__(self, embedder) -> None:  # type: ignore[no-untyped-def]
        self.embedder, self.original, self.batches = embedder, embedder.embed, []

    def __enter__(self) -> list[list[str]]:
        def embed(texts, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.batches.append(list(texts))
            return self.original(texts, *args, **kwargs)

        self.embedder.embed = embed
        return self.batches

    def __exit__(self, *exc: object) -> None:
        del self.embedder.embed  # the class's method again


def index(
    folder: Path, work: Path, name: str, embedder, jobs: int | None, entities: str | None = None
) -> tuple[dict, list[list[str]]]:  # type: ignore[no-untyped-def]
    from assistant import Library
    from assistant.indexer import ReadLimits

    lib = Library(work / name, embedder=embedder, entities=entities)
    with Recorder(embedder) as batches:
        started = time.perf_counter()
        report = lib.add([folder], limits=ReadLimits(jobs=jobs))
        seconds = time.perf_counter() - started
    lib.close()
    return {
        "s": seconds,
        "chunks": report.chunks,
        "documents": len(report.added),
        "skipped": len(report.skipped),
    }, batches


def encode(embedder, batches: list[list[str]]) -> dict:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for batch in batches:
        embedder.embed(batch)
    return {"s": time.perf_counter() - started, "chunks": sum(map(len, batches))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=Path, default=PAGES)
    parser.add_argument("--limit", type=int, default=60)  # 2 rounds fit ~10 min on 2 busy cores
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, default=OUT)
    args = parser.parse_args()
    info = machine()
    info["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    from assistant import config
    from assistant.embed import open_embedder

    started = time.perf_counter()
    embedder = open_embedder(cache_dir=config.cache_dir() / "onnx", backend="onnx")
    embedder.embed(["load the model before the clock starts"])
    open_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = unpack(args.pages, work / "pages", args.limit)
        size = sum(f.stat().st_size for f in files)
        print(
            f"{len(files)} pages, {size / 1e6:.1f} MB of HTML; embedder opened in {open_s:.1f} s",
            flush=True,
        )
        unpack(args.pages, work / "warm", 3)
        started = time.perf_counter()
        index(work / "warm", work, "warm-index", embedder, None)  # starts the forkserver
        warm_s = time.perf_counter() - started
        print(f"warm-up (3 pages, default jobs, forkserver start): {warm_s:.1f} s", flush=True)
        rounds = []
        texts: dict[str, list[list[str]]] = {}
        for r in range(args.rounds):
            arms = ["jobs1", "default", "no_entities"]
            arms = arms if r % 2 == 0 else arms[::-1]
            row: dict[str, dict] = {}
            for arm in arms:
                row[arm], texts[arm] = index(
                    work / "pages",
                    work,
                    f"{arm}-{r}",
                    embedder,
                    1 if arm == "jobs1" else None,
                    "off" if arm == "no_entities" else None,
                )
                print(
                    f"round {r} {arm}: {row[arm]['s']:.1f} s, {row[arm]['chunks']} chunks",
                    flush=True,
                )
            row["encode"] = encode(embedder, texts["jobs1"])
            print(f"round {r} encode: {row['encode']['s']:.1f} s", flush=True)
            rounds.append(row)
    same = texts["jobs1"] == texts["default"]
    flat = [t for b in texts["jobs1"] for t in b]
    rate = {
        arm: statistics.median(r[arm]["chunks"] / r[arm]["s"] for r in rounds)
        for arm in ("jobs1", "default", "no_entities", "encode")
    }
    result = {
        **info,
        "command": "python benchmarks/html_index_speed.py " + " ".join(sys.argv[1:]),
        "pages": len(files),
        "html_mb": size / 1e6,
        "chunks": len(flat),
        "chunk_chars_mean": sum(map(len, flat)) / max(1, len(flat)),
        "embed_batches": len(texts["jobs1"]),
        "same_texts_jobs1_default": same,
        "embedder_open_s": open_s,
        "warmup_s": warm_s,
        "rounds": rounds,
        "chunks_per_s": rate,
        "ratio_jobs1_to_encode": rate["jobs1"] / rate["encode"],
        "ratio_default_to_encode": rate["default"] / rate["encode"],
        "ratio_default_to_jobs1": rate["default"] / rate["jobs1"],
        "ratio_default_to_no_entities": rate["default"] / rate["no_entities"],
        "load_after": os.getloadavg(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    for arm in ("jobs1", "default", "no_entities", "encode"):
        print(f"{arm}: {rate[arm]:.1f} chunks/s (median of {len(rounds)})")
    print(
        f"jobs=1 / encode {result['ratio_jobs1_to_encode']:.2f}; default / encode "
        f"{result['ratio_default_to_encode']:.2f}; default / jobs=1 {result['ratio_default_to_jobs1']:.2f}; "
        f"with / without entities {result['ratio_default_to_no_entities']:.2f}; "
        f"same texts: {same}"
    )


if __name__ == "__main__":
    main()
