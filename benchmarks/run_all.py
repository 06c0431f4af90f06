"""`make bench`: every figure of benchmarks/RESULTS.md, measured again.

    python benchmarks/run_all.py [--data DIR] [--quick] [--skip-scale] [--scifact-index DIR] [--scale-index DIR]

Runs benchmarks/scifact.py on the train and test splits (one temporary index shared by
both), then benchmarks/speed.py, benchmarks/webpages.py (``--skip-webpages``) and
benchmarks/realtimeqa.py on its dev and test weeks (``--skip-realtimeqa``), and rewrites the generated part of RESULTS.md (between
its ``generated`` markers) with the numbers, the command, the machine and the date.
Raw numbers also land in benchmarks/out/results.json and the test run file in
benchmarks/out/scifact-test.run. ``--skip-scale`` leaves out the >= 100,000-chunk index
(the slow part: it embeds every chunk); ``--quick`` also shortens the speed runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import realtimeqa  # noqa: E402
import scifact  # noqa: E402
import speed  # noqa: E402
import squad_folder  # noqa: E402
import webpages  # noqa: E402

OUT = HERE / "out"
RESULTS = HERE / "RESULTS.md"
START, END = "<!-- generated:start -->", "<!-- generated:end -->"


def machine(load: float) -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory = (
        subprocess.run(["free", "-h"], capture_output=True, text=True)
        .stdout.splitlines()[1]
        .split()[1]
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory} memory, Python {platform.python_version()}, "
        f"load average at start {load:.1f} (other processes share this machine)"
    )


def quality_table(results: dict) -> list[str]:
    lines = [
        "| run | train nDCG@10 | test nDCG@10 | test R@100 | test nDCG@10 (ranx) | ms/query |",
        "|---|---|---|---|---|---|",
    ]
    for name, ndcg, recall in scifact.PUBLISHED:
        lines.append(f"| published: {name} | | {ndcg:.4f} | {recall if recall else '–'} | | |")
    train, test = results["scifact"]["train"]["rows"], results["scifact"]["test"]["rows"]
    for name in test:
        a, b = train.get(name, {}), test[name]
        lines.append(
            f"| **assistant: {name}** | {a.get('ndcg@10', float('nan')):.4f} | **{b['ndcg@10']:.4f}** | "
            f"{b['recall@100']:.4f} | {b['ranx_ndcg@10']:.4f} | {b['ms_per_query']:.0f} |"
        )
    return lines


def speed_table(s: dict) -> list[str]:
    lines = ["| measure | result | baseline (same run) | ratio | goal |", "|---|---|---|---|---|"]
    if "cold" in s:
        c = s["cold"]
        lines.append(
            f"| cold one-shot `assistant -q` (median of {c['runs']}) | {c['assistant_s']:.2f} s | "
            f"`import chromadb` {c['import_chromadb_s']:.2f} s | {c['ratio']:.2f} | ≤ 2.0 |"
        )
    if "warm" in s:
        w = s["warm"]
        lines.append(
            f"| warm answer (`Library.ask`, the REPL path), seeds ({w['chunks']} chunks, {w['n']} questions) | p50 {w['p50_ms']:.1f} ms, "
            f"p95 {w['p95_ms']:.1f} ms; the reader p50 {w['reader_p50_ms']:.0f} ms of it "
            f"({w['passages_read']} passages) | | | p50 ≤ 200 ms |"
        )
    if "throughput" in s:
        t = s["throughput"]
        lines.append(
            f"| indexing throughput ({t['documents']} SciFact abstracts, {t['chunks']} chunks) | "
            f"{t['index_chunks_per_s']:.1f} chunks/s | raw encode {t['encode_chunks_per_s']:.1f} chunks/s | "
            f"{t['ratio']:.2f} | ≥ 0.80 |"
        )
    if "noop" in s:
        n = s["noop"]
        lines.append(
            f"| no-op re-index, 1,000 documents (median of {n['runs']}) | {n['median_s']:.2f} s | "
            f"`python -c pass` {n['python_startup_s']:.2f} s | | ≤ 2 s |"
        )
    if "scale" in s:
        x = s["scale"]
        lines.append(
            f"| warm answer, scale: {x['chunks']:,} chunks (see Scale below; 8 claims × 5) | "
            f"p50 {x['query_p50_ms']:.0f} ms, p95 {x['query_p95_ms']:.0f} ms | | | p50 ≤ 150 ms |"
        )
        lines.append(
            f"| scale index: built in {x['index_s'] / 60:.0f} min, {x['disk_mb']:.0f} MB on disk | "
            f"peak memory {x['peak_rss_mb']:.0f} MB indexing, {x['answer_peak_rss_mb']:.0f} MB answering | | | |"
        )
    return lines


def write_results(results: dict, command: str, load: float) -> None:
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = [
        START,
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine(load)}  ",
        f"Date: {when}",
        "",
    ]
    if "scifact" in results:
        block += ["### SciFact (BEIR), nDCG@10 and Recall@100", "", *quality_table(results), ""]
    if "speed" in results:
        block += ["### Speed", "", *speed_table(results["speed"]), ""]
    if "webpages" in results:
        block += [
            "### Saved web pages (benchmarks/webpages.py)",
            "",
            *results["webpages"]["table"],
            "",
        ]
    if "squad_folder" in results:
        q = results["squad_folder"]
        block += [
            "### SQuAD dev-a as a folder (benchmarks/squad_folder.py)",
            "",
            "| questions | r@1 | r@3 | r@5 | chars top 3 | line EM | line F1 | line shown | EM when shown | list item F1 |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {q['questions']} | {q['recall@1']:.3f} | {q['recall@3']:.3f} | {q['recall@5']:.3f} | "
            f"{q['chars_first_three']} | {q['line_em']:.3f} | {q['line_f1']:.3f} | "
            f"{q['line_shown']:.2f} | {q['line_em_when_shown']:.3f} | "
            f"{q['list_item_f1']:.3f} ({q['list_questions']} questions) |",
            "",
        ]
    for split, found in results.get("realtimeqa", {}).items():
        block += [
            f"### RealTime QA, {split} weeks (benchmarks/realtimeqa.py)",
            "",
            realtimeqa.table(found),
            "",
        ]
    block.append(END)
    text = (
        RESULTS.read_text(encoding="utf-8")
        if RESULTS.exists()
        else f"# Benchmarks\n\n{START}\n{END}\n"
    )
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    RESULTS.write_text(head + "\n".join(block) + tail, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=HERE.parent.parent / "shared" / "benchmarks" / "beir-scifact"
    )
    parser.add_argument("--quick", action="store_true", help="fewer speed runs")
    parser.add_argument(
        "--skip-scale", action="store_true", help="leave out the >= 100,000-chunk index"
    )
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument(
        "--scifact-index",
        type=Path,
        help="build the SciFact index here and keep it; "
        "reused when it already holds the corpus (else a temporary one)",
    )
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument(
        "--skip-webpages", action="store_true", help="leave out the saved-web-page sets"
    )
    parser.add_argument(
        "--skip-realtimeqa", action="store_true", help="leave out the RealTime QA weeks"
    )
    parser.add_argument(
        "--skip-squad", action="store_true", help="leave out SQuAD dev-a as a folder"
    )
    parser.add_argument(
        "--scale-index",
        type=Path,
        help="build the >= 100,000-chunk index here and keep it; "
        "reused, with the figures of the run that built it, when it is there",
    )
    args = parser.parse_args()
    load = os.getloadavg()[0]  # before this run adds its own
    OUT.mkdir(exist_ok=True)
    results: dict = {}
    previous = OUT / "results.json"
    if previous.exists():
        results = json.loads(previous.read_text())
    if not args.skip_quality:
        scratch = Path(tempfile.mkdtemp(prefix="scifact-"))
        index = args.scifact_index or scratch / "index"
        try:
            results["scifact"] = {}
            for split in ("train", "test"):
                run_file = OUT / f"scifact-{split}.run"
                results["scifact"][split] = scifact.main(
                    [
                        "--data",
                        str(args.data),
                        "--split",
                        split,
                        "--run-file",
                        str(run_file),
                        "--index",
                        str(index),
                    ]
                )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if not args.skip_speed:
        extra = ["--runs", "3", "--rounds", "2"] if args.quick else []
        if args.skip_scale:
            extra.append("--skip-scale")
        if args.scale_index:
            extra += ["--scale-index", str(args.scale_index)]
        results["speed"] = speed.main(["--data", str(args.data), *extra])
    if not args.skip_webpages and webpages.DATA.is_dir():
        results["webpages"] = webpages.main([])
    elif not args.skip_webpages:
        print(f"skipped the saved web pages: no {webpages.DATA}", file=sys.stderr)
    if not args.skip_squad:
        squad_folder.main(["--limit", "500"])
        results["squad_folder"] = json.loads((OUT / "squad-folder.json").read_text())
    if not args.skip_realtimeqa and realtimeqa.DATA.is_dir():
        results["realtimeqa"] = {
            split: realtimeqa.main(["--split", split]) for split in ("dev", "test")
        }
    elif not args.skip_realtimeqa:
        print(f"skipped RealTime QA: no {realtimeqa.DATA}", file=sys.stderr)
    previous.write_text(json.dumps(results, indent=2))
    write_results(
        results, "make bench  # python benchmarks/run_all.py " + " ".join(sys.argv[1:]), load
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
