"""read_and_chunk in worker processes against in-process, on real saved web pages.

    python benchmarks/workers_speed.py [--pages DIR] [--limit N] [--jobs 1 2]

Decompresses the trafilatura-eval pages (gzipped HTML, read from ../shared at run time)
into a temporary folder, then reads and chunks every page, with the real MiniLM token
counter, three ways: in this process (``Pool(jobs=0)``), and in 1 and 2 worker
processes. Reports pages/s and the ratio to in-process; checks that every way gives
the same documents and chunks. Also times a worker's start-up: the first (with
the forkserver's own) and later ones; ``--start-method spawn`` for comparison.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Light imports only: workers re-import the main module (multiprocessing does, for
# spawn and forkserver alike), so what it imports at the top, each worker pays for.
from assistant import config, workers  # noqa: E402
from assistant.errors import UnreadableFile  # noqa: E402
from assistant.workers import Ok, Pool, ReadAndChunk, _Slot, counter_for, read_preload  # noqa: E402

PAGES = ROOT.parent / "shared" / "benchmarks" / "trafilatura-eval" / "pages"


def unpack(pages: Path, folder: Path, limit: int | None) -> list[Path]:
    files = sorted(pages.glob("*.html.gz"))[:limit]
    out = []
    for page in files:
        target = folder / page.name.removesuffix(".gz")
        target.write_bytes(gzip.decompress(page.read_bytes()))
        out.append(target)
    return out


def run(task: ReadAndChunk, files: list[Path], root: Path, jobs: int) -> tuple[float, list[object]]:
    started = time.perf_counter()
    with Pool(task, jobs=jobs, expected=(UnreadableFile,), preload=read_preload(files)) as pool:
        results = [
            tuple(o.value) if isinstance(o, Ok) else o.reason
            for _, o in pool.map((f, root) for f in files)
        ]
    return time.perf_counter() - started, results


def start_up_times(task: ReadAndChunk, preload: tuple[str, ...], n: int = 6) -> list[float]:
    times: list[float] = []
    original = _Slot._worker

    def timed(slot: _Slot):  # type: ignore[no-untyped-def]
        fresh = slot._proc is None
        started = time.perf_counter()
        worker = original(slot)
        if fresh:
            times.append(time.perf_counter() - started)
        return worker

    _Slot._worker = timed  # type: ignore[method-assign]
    try:
        for _ in range(n):  # a pool each: every start is a fresh worker
            with Pool(task, jobs=1, preload=preload) as pool:
                list(pool.map([]))
                list(pool.map([(Path("/nonexistent.txt"), Path("/"))]))
    finally:
        _Slot._worker = original  # type: ignore[method-assign]
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=Path, default=PAGES)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--start-method", default=workers.START_METHOD, help="to compare: spawn")
    args = parser.parse_args()
    workers.START_METHOD = args.start_method
    from assistant.embed import open_embedder  # numpy: see the imports above

    embedder = open_embedder(cache_dir=config.cache_dir() / "onnx", backend="onnx")
    task = ReadAndChunk(max_bytes=config.max_bytes(), count_tokens=counter_for(embedder))
    with tempfile.TemporaryDirectory() as tmp:
        files = unpack(args.pages, Path(tmp), args.limit)
        size = sum(f.stat().st_size for f in files)
        print(f"{len(files)} pages, {size / 1e6:.1f} MB of HTML")
        starts = start_up_times(task, read_preload(files))
        later = " ".join(f"{s:.3f}" for s in sorted(starts[1:]))
        print(f"{args.start_method} worker start-up: first {starts[0]:.3f} s, then {later} s")
        if not files:
            return
        base_s, base = run(task, files, Path(tmp), 0)
        print(f"in-process: {base_s:.1f} s, {len(files) / base_s:.1f} pages/s")
        for jobs in args.jobs:
            seconds, results = run(task, files, Path(tmp), jobs)
            same = "same results" if results == base else "RESULTS DIFFER"
            print(
                f"jobs={jobs}: {seconds:.1f} s, {len(files) / seconds:.1f} pages/s, "
                f"{base_s / seconds:.2f}x in-process; {same}"
            )


if __name__ == "__main__":
    main()
