"""The worker pool: hangs, crashes and memory exhaustion cost only their own item, results
come back in order, and no worker outlives its pool. Then read_and_chunk in a worker
against ingest.read + chunk_document in-process with the real MiniLM counter.

The tasks live at module level so that workers can unpickle them. The only time
dependence is "a task that never finishes is stopped", which cannot flake.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import config
from assistant.chunk import chunk_document
from assistant.embed import HashEmbedder, OnnxEmbedder, open_embedder
from assistant.errors import UnreadableFile
from assistant.ingest import read
from assistant.workers import (
    Failed,
    Ok,
    OnnxTokenCounter,
    Pool,
    ReadAndChunk,
    counter_for,
    death_reason,
    read_preload,
)

from ._worker_tasks import heavy_modules_after_reading, task, value

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TIMEOUT = "took longer than 2 s to read"


def values(results: list[tuple[object, object]]) -> list[object]:
    return [(i, o.value[0] if isinstance(o, Ok) else o.reason) for i, o in results]  # type: ignore[index]


def test_hanging_tasks_are_stopped_and_the_good_items_between_them_succeed() -> None:
    items = [1, "sleep", 2, "read", 3, "regex", 4, "stubborn", 5]
    with Pool(task, jobs=2, timeout_s=2) as pool:
        results = list(pool.map(items))
    assert values(results) == [
        (1, 1), ("sleep", TIMEOUT), (2, 2), ("read", TIMEOUT), (3, 3),
        ("regex", TIMEOUT), (4, 4), ("stubborn", TIMEOUT), (5, 5),
    ]  # fmt: skip


def test_an_item_may_have_its_own_time_limit() -> None:
    """A large file gets more time than the pool's limit (``timeout_for``); the message
    names the limit that item had."""
    with Pool(
        task, jobs=1, timeout_s=3600, timeout_for=lambda item: 2 if item == "sleep" else 3600
    ) as pool:
        results = list(pool.map([1, "sleep", 2]))
    assert values(results) == [(1, 1), ("sleep", TIMEOUT), (2, 2)]


def test_a_crashed_worker_costs_only_its_item() -> None:
    items = [1, "segv", 2, "abort", 3, "sigkill", 4, "exit", 5]
    with Pool(task, jobs=1, timeout_s=60) as pool:
        results = list(pool.map(items))
    assert values(results) == [
        (1, 1), ("segv", "the reader crashed (SIGSEGV)"),
        (2, 2), ("abort", "the reader crashed (SIGABRT)"),
        (3, 3), ("sigkill", "the reader was killed (SIGKILL)"),
        (4, 4), ("exit", "the reader exited unexpectedly (exit code 3)"), (5, 5),
    ]  # fmt: skip
    pids = [o.value[1] for _, o in results if isinstance(o, Ok)]  # type: ignore[index]
    assert len(set(pids)) == 5, "a fresh worker takes over after each death"


def test_a_worker_past_its_memory_cap_is_replaced() -> None:
    with Pool(task, jobs=1, timeout_s=60, max_memory_mb=1024) as pool:
        results = list(pool.map([1, "memory", 2, "memory", 3]))
    assert values(results) == [
        (1, 1), ("memory", "ran out of memory"), (2, 2), ("memory", "ran out of memory"), (3, 3),
    ]  # fmt: skip
    first, second, third = (o.value[1] for _, o in results if isinstance(o, Ok))  # type: ignore[attr-defined]
    assert first != second != third, "a worker that ran out of memory is not reused"


def test_exceptions_come_back_as_failures_expected_ones_whole() -> None:
    with Pool(task, jobs=1, expected=(UnreadableFile,)) as pool:
        (_, bad), (_, unreadable), (_, good) = pool.map(["value", "unreadable", 7])
    assert bad == Failed(
        "internal error: ValueError: invalid literal for int() with base 10: 'not a number'"
    )
    assert isinstance(unreadable, Failed) and isinstance(unreadable.error, UnreadableFile)
    assert (unreadable.error.path, unreadable.error.reason) == ("/x/a.html", "binary file")
    assert isinstance(good, Ok) and good.value[0] == 7


def test_results_come_in_submission_order_whatever_finishes_first() -> None:
    items = [(1, 0.5), (2, 0.0), "segv", (3, 0.2), (4, 0.0), (5, 0.0)]
    with Pool(value, jobs=3) as pool:
        results = list(pool.map(items))
    assert [i for i, _ in results] == items
    assert [o.value if isinstance(o, Ok) else o.reason for _, o in results] == [
        10, 20, "the reader crashed (SIGSEGV)", 30, 40, 50
    ]  # fmt: skip


def test_one_worker_two_workers_and_in_process_give_the_same_results() -> None:
    items = (
        [(n, 0.0) for n in range(20)] + ["value", "unreadable"] + [(n, 0.0) for n in range(20, 30)]
    )
    runs = []
    for jobs in (1, 2, 0):
        with Pool(value, jobs=jobs, window=3, expected=(UnreadableFile,)) as pool:
            runs.append([(i, o if isinstance(o, Ok) else o.reason) for i, o in pool.map(items)])
    assert runs[0] == runs[1] == runs[2]
    assert len(runs[0]) == len(items)


def test_the_window_bounds_how_far_workers_run_ahead() -> None:
    with Pool(task, jobs=2, window=3) as pool:
        results = pool.map(range(100))
        next(results)
        handed_out = pool._inbox.qsize()  # queued, not yet taken by a runner
    assert handed_out <= 3


def test_stopping_early_leaves_no_worker_behind() -> None:
    before = set(multiprocessing.active_children())  # other tests' business
    with pytest.raises(KeyboardInterrupt), Pool(task, jobs=2, timeout_s=3600) as pool:
        results = pool.map([1, "sleep", "stubborn", "read", 2])
        assert next(results)[0] == 1
        while len(pool.pids) < 2:  # both workers hold an item that never finishes
            time.sleep(0.01)
        pids = pool.pids
        raise KeyboardInterrupt  # as Ctrl-C would, in the consumer's loop
    assert set(multiprocessing.active_children()) <= before
    assert all(not _alive(pid) for pid in pids)


def _parent_with_stuck_workers(then: str = "") -> tuple[subprocess.Popen[str], list[int]]:
    """A process, in a session of its own, whose three workers are stuck: in a sleep, in
    C and ignoring SIGTERM. Returns it once it has printed their pids; it then runs ``then``
    (Python, one line) and waits for a result."""
    script = (
        "import signal, sys, time\n"
        "from assistant.workers import Pool\n"
        "from tests._worker_tasks import task\n"
        "if __name__ == '__main__':\n"
        # As a shell starts a command: Ctrl-C's default handler, SIGINT not blocked (what the
        # test process passes on may differ: say so on stderr when it does).
        "    inherited = (signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, []))\n"
        "    print('inherited SIGINT handler and blocked signals:', *inherited, file=sys.stderr, flush=True)\n"
        "    signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])\n"
        "    with Pool(task, jobs=3, timeout_s=3600) as pool:\n"
        "        try:\n"
        "            results = pool.map([1, 'sleep', 'read', 'stubborn'])\n"
        "            next(results)\n"
        "            while len(pool.pids) < 3:  # each runner has started its worker\n"
        "                time.sleep(0.01)\n"
        "            print(*pool.pids, flush=True)\n"
        f"            {then or 'pass'}\n"
        "            next(results)\n"
        "        except KeyboardInterrupt:\n"
        "            print('interrupted', flush=True)\n"
        "            raise\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 3, proc.stderr.read() if proc.stderr else ""
    return proc, pids


def test_ctrl_c_stops_the_workers_promptly() -> None:
    """A real SIGINT to the process group, as a terminal sends it, while the parent
    waits on its workers."""
    proc, pids = _parent_with_stuck_workers()
    os.killpg(proc.pid, signal.SIGINT)
    out, err = _communicate(proc)
    assert "interrupted" in out and proc.returncode != 0
    assert "KeyboardInterrupt" in err
    assert all(not _alive(pid) for pid in pids)


def test_ctrl_c_that_lands_on_a_runner_thread_still_stops_the_parent() -> None:
    """The kernel hands a process's SIGINT to any of its threads. Sent to a runner thread
    (where a terminal's Ctrl-C may land), it must still interrupt the main thread's wait
    for a result: an untimed wait never woke, and the parent hung with its workers."""
    proc, pids = _parent_with_stuck_workers(
        "from tests._worker_tasks import interrupt_a_runner_once_waiting; interrupt_a_runner_once_waiting(pool)"
    )
    out, err = _communicate(proc)
    assert "interrupted" in out and "KeyboardInterrupt" in err
    assert all(not _alive(pid) for pid in pids)


def _communicate(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Its output once it exits; a hang (60 s: a bound, not a timing) fails the test
    and kills the process group, its workers too."""
    try:
        return proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"the parent hung; stdout {out!r}, stderr {err!r}") from None


def test_workers_do_not_outlive_a_killed_parent() -> None:
    """SIGKILL runs no cleanup in the parent: the kernel must end the workers."""
    proc, pids = _parent_with_stuck_workers()
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30  # a bound for a hang, not a timing: they die at once
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)
    proc.communicate(timeout=30)  # the workers held its output pipes


def test_in_process_mode_captures_failures_the_same_way() -> None:
    with Pool(task, jobs=0, expected=(UnreadableFile,)) as pool:
        results = list(pool.map([1, "value", "unreadable"]))
    assert results[0] == (1, Ok((1, os.getpid())))
    assert [o.reason for _, o in results[1:]] == [  # type: ignore[union-attr]
        "internal error: ValueError: invalid literal for int() with base 10: 'not a number'",
        "/x/a.html: binary file",
    ]


def test_death_reasons_name_the_signal() -> None:
    assert death_reason(-signal.SIGSEGV) == "the reader crashed (SIGSEGV)"
    assert death_reason(-signal.SIGBUS) == "the reader crashed (SIGBUS)"
    assert death_reason(-signal.SIGKILL) == "the reader was killed (SIGKILL)"
    assert death_reason(1) == "the reader exited unexpectedly (exit code 1)"


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie counts as gone: it runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --- read_and_chunk ------------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm() -> OnnxEmbedder:
    # The session's export (conftest points ASSISTANT_CACHE at a temp dir), as Library opens it.
    embedder = open_embedder(cache_dir=config.cache_dir() / "onnx", backend="onnx")
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("articles")
    for seed in sorted(SEEDS.glob("*.txt")):
        (folder / seed.name).write_bytes(seed.read_bytes())
    body = "".join(
        f"<p>{line}</p>" for line in (SEEDS / "000_d410228cbb7e0699.txt").read_text().splitlines()
    )
    (folder / "page.html").write_text(
        f"<html><head><title>A page - Site</title></head><body><nav>Home | News</nav>"
        f"<article><h1>A page</h1>{body}</article><footer>Copyright</footer></body></html>"
    )
    (folder / "empty.txt").write_text("")
    return folder


def test_the_worker_counter_counts_as_the_embedder_does(minilm: OnnxEmbedder) -> None:
    texts = [line for f in sorted(SEEDS.glob("*.txt")) for line in f.read_text().splitlines()]
    texts += ["", "MIXED Case Über naïve café", "word " * 600, "\u201cQuoted,\u201d she said. 3.5%"]
    assert OnnxTokenCounter(str(minilm._folder))(texts) == minilm.count_tokens(texts)


def test_read_and_chunk_in_workers_equals_reading_and_chunking_here(
    minilm: OnnxEmbedder, articles: Path
) -> None:
    files = sorted(articles.iterdir())
    expected = []
    for file in files:
        try:
            docs = read(file, articles)
        except UnreadableFile as exc:
            expected.append(exc.reason)
        else:
            expected.append((docs, [chunk_document(d, minilm.count_tokens) for d in docs], [], ()))
    task = ReadAndChunk(max_bytes=10**6, count_tokens=counter_for(minilm))
    with Pool(task, jobs=2, expected=(UnreadableFile,), preload=read_preload(files)) as pool:
        got = [
            tuple(o.value) if isinstance(o, Ok) else o.error.reason  # type: ignore[union-attr]
            for _, o in pool.map([(f, articles) for f in files])
        ]
    assert got == expected
    assert (
        "empty file" in got and sum(len(c) for r in got if isinstance(r, tuple) for c in r[1]) > 10
    )


def test_workers_import_neither_torch_nor_chromadb(minilm: OnnxEmbedder, articles: Path) -> None:
    with Pool(heavy_modules_after_reading, jobs=1) as pool:
        ((_, outcome),) = pool.map([(articles, str(minilm._folder))])
    assert outcome == Ok([])


def test_the_preload_names_the_libraries_of_the_formats_to_read() -> None:
    base = read_preload([Path("a.txt"), Path("b.md")])
    assert "assistant.ingest" in base and "trafilatura" not in base
    html = read_preload([Path("a.txt"), Path("b.HTML"), Path("c.htm")])
    assert html.count("trafilatura") == 1 and "pypdf" not in html
    assert all(m not in read_preload([Path("x.pdf")]) for m in ("assistant.embed", "numpy"))


def test_counter_for_falls_back_to_none_without_a_picklable_counter() -> None:
    class Other:
        def count_tokens(self, texts: list[str]) -> list[int]:
            return [0] * len(texts)

    assert counter_for(Other()) is None  # type: ignore[arg-type]
    assert counter_for(HashEmbedder())(["a b c"]) == [3]  # type: ignore[misc]
