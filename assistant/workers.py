"""Worker processes for work that may hang, crash or exhaust its memory: reading files.

Why processes: a time limit raised as an exception from a signal handler (SIGALRM) can
land in any code, be swallowed there (issue 10: inside a numba GC callback) and cannot
stop a parser stuck in C. A process can be stopped wherever it is stuck, and when one
segfaults or runs out of memory only that process is lost. So ``Pool`` runs a task over
items in worker processes, one item at a time per worker, and turns every way an item
can go wrong into ``Failed(reason)``:

- a task that runs past ``timeout_s`` has its worker terminated (SIGTERM, then SIGKILL
  after a short grace): ``Failed("took longer than 60 s to read")``;
- a worker that dies costs only the item it held: ``"the reader crashed (SIGSEGV)"``,
  ``"the reader was killed (SIGKILL)"`` (the kernel's OOM killer, or a user);
- ``MemoryError`` (past ``max_memory_mb``, an address-space cap set in the worker):
  ``"ran out of memory"``, and the worker is replaced, its heap being suspect;
- any other exception: ``"internal error: ValueError: ..."``, one line; exceptions of
  the ``expected`` types come back whole in ``Failed.error`` (pickled).

A fresh worker takes over after each of these; the rest of the run goes on.

Shape: the parent holds one runner thread per worker. A runner hands its worker one
item, then waits (``multiprocessing.connection.wait``, no signals) for the result, the
worker's death or the deadline. One item in flight per worker is what makes the
deadline that item's alone and a death cost only it. Results are yielded in submission
order: an index built with N workers must equal one built with one, and the indexer's
choices (which of two clashing ids gets a prefix, batch boundaries) follow that order.
At most ``window`` items are handed out ahead of the one the consumer waits for, so
workers keep parsing while the consumer embeds, with memory bounded. The items
iterable is consumed on the caller's thread (it may read SQLite, which is bound to it).

Start method: forkserver. ``fork`` after chromadb's or onnxruntime's threads have
started can copy a lock held by another thread and deadlock the child. ``spawn``
starts a fresh interpreter per worker and imports the readers in each: 0.6-0.7 s a
worker, measured here (benchmarks/workers_speed.py), paid again after every crash or
timeout. The forkserver imports them once (``preload``; 0.8-0.9 s for the first
worker) and forks each later worker from that clean, single-threaded process: 0.01-0.05
s. It is multiprocessing's, one per parent process: it starts on first use and stays,
idle, until the parent exits; ``preload`` counts only for the pool that starts it.
Like spawn, it re-imports the parent's main module in each worker (not for ``python
-m``): a main script's top-level imports are paid per worker, so keep them light.

``jobs=0`` runs tasks in the calling process, for debugging: no time or memory limit,
and a crash takes the caller with it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, cast

from .errors import AssistantError, UnreadableFile

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from .embed import Embedder
    from .types import Chunk, Document

I = TypeVar("I")  # noqa: E741  (item)
T = TypeVar("T")

START_METHOD = "forkserver"
# SIGTERM first, so a task that cleans up on it may; a worker that ignores it is killed.
TERM_GRACE_S = 0.5
# The worker's first message: its initializer finished and it waits for items.
_READY = "ready"
# How often a consumer waiting for a result wakes to let Python see a Ctrl-C (_result).
_WAKE_S = 0.2
# How long a worker may take to start (import the task's module, run the initializer).
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Ok(Generic[T]):
    value: T


@dataclass(frozen=True)
class Failed:
    """Why an item produced no value: a one-line reason, and for exceptions of the
    pool's ``expected`` types the exception itself."""

    reason: str
    error: BaseException | None = None


Outcome = Ok[T] | Failed


class WorkerError(AssistantError):
    """A worker could not be started (its initializer failed or hung)."""


class _Closed(Exception):
    """The pool closed while a runner was about to start a worker."""


class Pool(Generic[I, T]):
    """Runs ``task`` over items in worker processes; see the module docstring.

    ``task``, ``initializer``, ``initargs`` and the items must pickle (module-level
    functions, picklable instances). ``jobs``: worker count (None: one per core; 0: in
    this process, no limits). ``timeout_s``: per item, None for none; ``timeout_for``: an
    item's own, instead (called in this process). ``window``: items
    handed out ahead of the consumer (default ``4 * jobs``). ``preload``: modules the
    forkserver imports once, so that workers start with them loaded.

    Use as a context manager; leaving it (normally, on an exception or on Ctrl-C)
    stops and reaps every worker.
    """

    def __init__(
        self,
        task: Callable[[I], T],
        *,
        jobs: int | None = None,
        timeout_s: float | None = 60.0,
        max_memory_mb: int | None = None,
        expected: tuple[type[BaseException], ...] = (),
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        window: int | None = None,
        preload: Sequence[str] = (),
        timeout_for: Callable[[I], float] | None = None,
    ):
        self.jobs = (os.cpu_count() or 1) if jobs is None else jobs
        if self.jobs < 0:
            raise ValueError(f"jobs must be 0 or more, not {jobs}")
        self.timeout_s = timeout_s
        self._timeout_for = timeout_for
        self.window = max(1, window or 4 * max(self.jobs, 1))
        self._task = task
        self._spec = _WorkerSpec(task, expected, max_memory_mb, initializer, initargs)
        # The task's own module too: each worker would import it to unpickle the task.
        self._preload = (*preload, _module_of(task))
        self._inbox: queue.SimpleQueue[tuple[int, int, I] | None] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._results: dict[int, Outcome[T]] = {}
        self._error: BaseException | None = None
        self._generation = 0
        self._closing = False
        self._slots: list[_Slot] = []
        self._threads: list[threading.Thread] = []

    def deadline(self, item: I) -> float | None:
        """Seconds ``item`` may take: ``timeout_for(item)`` when given (an item's own
        allowance, as for a large file), else ``timeout_s``."""
        return self._timeout_for(item) if self._timeout_for is not None else self.timeout_s

    def __enter__(self) -> Pool[I, T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and debugging)."""
        return [pid for slot in self._slots if (pid := slot.pid) is not None]

    def map(self, items: Iterable[I]) -> Iterator[tuple[I, Outcome[T]]]:
        """``(item, Ok(value) | Failed(reason))`` for each item, in the items' order.

        Stopping early (``break``, an exception in the loop) abandons the items not yet
        yielded; ones already running finish or time out, then their results are dropped.
        """
        if self.jobs == 0:
            return ((item, _call(self._task, item, self._spec.expected)[0]) for item in items)
        self._start()
        return self._ordered(iter(items))

    def close(self) -> None:
        """Stop every worker (a running task is terminated) and the runner threads."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._generation += 1
            self._cond.notify_all()
        for _ in self._threads:
            self._inbox.put(None)
        # Running tasks are terminated; one that ignores SIGTERM is killed after the grace.
        for stop in (_Slot.terminate, _Slot.kill):
            for slot in self._slots:
                stop(slot)  # wakes a runner that waits on a busy worker
            _join(self._threads, TERM_GRACE_S)
        _join(self._threads, 5.0)

    # -- parent side --------------------------------------------------------------

    def _start(self) -> None:
        if self._closing:
            raise ValueError("the pool is closed")
        if self._threads:
            return
        if self._preload:
            with contextlib.suppress(ValueError):  # not every platform has a forkserver
                _context().set_forkserver_preload(list(self._preload))
        for n in range(self.jobs):
            slot = _Slot(self)
            thread = threading.Thread(
                target=self._runner, args=(slot,), name=f"worker-{n}", daemon=True
            )
            self._slots.append(slot)
            self._threads.append(thread)
            thread.start()

    def _ordered(self, items: Iterator[I]) -> Iterator[tuple[I, Outcome[T]]]:
        generation = self._generation
        pending: deque[tuple[int, I]] = deque()
        seq = 0
        try:
            while True:
                while len(pending) < self.window and (item := next(items, _END)) is not _END:
                    pending.append((seq, item))
                    self._inbox.put((generation, seq, item))
                    seq += 1
                if not pending:
                    return
                head, item = pending.popleft()
                yield item, self._result(head)
        finally:
            with self._cond:
                if self._generation == generation:
                    self._generation += 1  # runners skip this map's queued items
                self._results.clear()

    def _result(self, seq: int) -> Outcome[T]:
        with self._cond:
            # A runner always answers (its worker finishes, dies or times out). The wait
            # wakes now and then all the same: Ctrl-C may be delivered to a runner thread,
            # and Python raises KeyboardInterrupt only once the main thread runs again.
            while seq not in self._results:
                if self._error is not None:
                    raise self._error
                if self._closing:
                    raise ValueError("the pool is closed")
                self._cond.wait(_WAKE_S)
            return self._results.pop(seq)

    def _runner(self, slot: _Slot) -> None:
        try:
            while (job := self._inbox.get()) is not None:
                generation, seq, item = job
                if generation != self._generation:
                    continue  # its map was abandoned
                outcome = slot.run(item)
                with self._cond:
                    if generation == self._generation:
                        self._results[seq] = outcome
                        self._cond.notify_all()
        except _Closed:
            pass
        except BaseException as exc:  # noqa: BLE001  (handed to the consumer, raised there)
            with self._cond:
                self._error = self._error or exc
                self._cond.notify_all()
        finally:
            slot.stop()


_END: Any = object()


def _join(threads: list[threading.Thread], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def _module_of(task: Callable[..., Any]) -> str:
    target = getattr(task, "func", task)  # a functools.partial's function
    return str(getattr(target, "__module__", None) or type(target).__module__)


class _Slot:
    """One worker process and the runner's view of it; replaced when it dies.

    Only the runner thread starts, polls and reaps its worker: multiprocessing reads a
    forkserver child's exit status from a pipe, and two threads polling the same
    process can lose it. Process.start() polls every child (``_cleanup``), so starts
    and polls also hold ``_PROCESSES``. Other threads only signal (``terminate``, ``kill``).
    """

    def __init__(self, pool: Pool[Any, Any]):
        self._pool = pool
        self._lock = threading.Lock()  # guards _proc against close() on another thread
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return None if proc is None else proc.pid

    def run(self, item: object) -> Outcome[Any]:
        proc, conn = self._worker()
        try:
            conn.send(item)
        except OSError:  # it died since its last item
            return self._died(proc)
        # A worker whose conn is readable has finished (its result is being written),
        # so only a task still running can miss the deadline.
        limit = self._pool.deadline(item)
        ready = _wait([conn, proc.sentinel], limit)
        if conn in ready or (ready and conn.poll()):
            try:
                outcome, fatal = conn.recv()
            except (EOFError, OSError):  # died while sending
                return self._died(proc)
            if fatal:  # it exits after saying so; wait, so the next item finds a fresh one
                self.stop()
            return cast("Outcome[Any]", outcome)
        if not ready:
            self.stop()
            return Failed(f"took longer than {limit:g} s to read")
        return self._died(proc)

    # Only signals, no poll (see the class docstring): close() calls these from its thread.
    def terminate(self) -> None:
        with self._lock:
            if self._proc is not None:
                self._proc.terminate()

    def kill(self) -> None:
        with self._lock:
            if self._proc is not None:
                self._proc.kill()

    def stop(self) -> int | None:
        """Terminate the worker (if it still runs) and reap it; its exit code."""
        with self._lock:
            proc, conn, self._proc, self._conn = self._proc, self._conn, None, None
        if conn is not None:
            conn.close()
        return None if proc is None else _stop(proc)

    def _died(self, proc: BaseProcess) -> Failed:
        _wait([proc.sentinel], None)
        return Failed(death_reason(self.stop()))

    def _worker(self) -> tuple[BaseProcess, Connection]:
        if self._proc is not None and self._conn is not None:
            return self._proc, self._conn
        ctx = _context()
        conn, child = ctx.Pipe()
        with self._lock, _PROCESSES:
            if self._pool._closing:
                raise _Closed
            proc = ctx.Process(target=_worker_main, args=(child, self._pool._spec), daemon=True)
            proc.name = f"assistant-worker-{proc.name.rsplit('-', 1)[-1]}"
            proc.start()
            self._proc, self._conn = proc, conn
        child.close()
        limit = self._pool.timeout_s
        limit = limit and max(limit, START_TIMEOUT_S)
        ready = _wait([conn, proc.sentinel], limit)
        if conn in ready:
            with contextlib.suppress(EOFError, OSError):
                if conn.recv() == _READY:
                    return proc, conn
        exitcode = self.stop()
        if self._pool._closing:
            raise _Closed
        why = death_reason(exitcode) if ready else f"it took longer than {limit:g} s to start"
        raise WorkerError(f"cannot start a worker process: {why}")


# Held while starting or polling a worker process (see _Slot).
_PROCESSES = threading.Lock()


def _context() -> Any:
    import multiprocessing

    return multiprocessing.get_context(START_METHOD)


def _wait(objects: list[Any], timeout: float | None) -> list[Any]:
    from multiprocessing.connection import wait

    return wait(objects, timeout)


def _stop(proc: BaseProcess) -> int | None:
    """SIGTERM, then SIGKILL after TERM_GRACE_S; reap. The exit code."""
    for send, grace in ((proc.terminate, TERM_GRACE_S), (proc.kill, None)):
        with _PROCESSES:
            if proc.exitcode is not None:
                break
            send()
        _wait([proc.sentinel], grace)
    with _PROCESSES:
        proc.join()
        exitcode = proc.exitcode
        proc.close()
    return exitcode


def death_reason(exitcode: int | None) -> str:
    """A worker's death in words: the signal that ended it, or its exit code."""
    if exitcode is None:
        return "the reader died"
    if exitcode >= 0:
        return f"the reader exited unexpectedly (exit code {exitcode})"
    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        name = f"signal {-exitcode}"
    if -exitcode in (signal.SIGKILL, signal.SIGTERM):
        return f"the reader was killed ({name})"
    return f"the reader crashed ({name})"


# -- worker side ----------------------------------------------------------------------


@dataclass(frozen=True)
class _WorkerSpec:
    task: Callable[[Any], Any]
    expected: tuple[type[BaseException], ...]
    max_memory_mb: int | None
    initializer: Callable[..., object] | None
    initargs: tuple[Any, ...]


def _worker_main(conn: Connection, spec: _WorkerSpec) -> None:
    # Ctrl-C reaches the whole process group; stopping workers is the parent's job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The workers are the parallelism: tokenizers' own thread pool in each would
    # oversubscribe the cores (set here, not in the task: jobs=0 must not change it).
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _die_with_parent()
    _register_reducers()
    if spec.max_memory_mb is not None:
        _limit_memory(spec.max_memory_mb)
    if spec.initializer is not None:
        spec.initializer(*spec.initargs)
    conn.send(_READY)
    while True:
        try:
            item = conn.recv()
        except EOFError:  # the parent closed our pipe: we are done
            return
        outcome, fatal = _call(spec.task, item, spec.expected)
        try:
            conn.send((outcome, fatal))
        except MemoryError:  # pickling the result: the value is lost, not the worker
            conn.send((Failed("ran out of memory"), True))
            return
        except Exception as exc:  # noqa: BLE001  (an unpicklable result)
            conn.send((Failed(f"internal error: cannot send the result: {_one_line(exc)}"), False))
        if fatal:
            return


def _call(
    task: Callable[[Any], Any], item: Any, expected: tuple[type[BaseException], ...]
) -> tuple[Outcome[Any], bool]:
    """The task's outcome, and whether the worker must be replaced after it."""
    try:
        return Ok(task(item)), False
    except MemoryError:
        pass  # outside the handler, so that the traceback and what it holds are freed
    except expected as exc:
        return Failed(_one_line(exc), exc if _pickles(exc) else None), False
    except Exception as exc:  # noqa: BLE001  (one item's bug must not end the run)
        return Failed(f"internal error: {type(exc).__name__}: {_one_line(exc)}"[:200]), False
    return Failed("ran out of memory"), True


def _die_with_parent() -> None:
    """Have the kernel kill this worker when its parent, the forkserver, ends; the
    forkserver ends with the process that owns the pool. So a worker stuck in C does
    not outlive an indexer killed with SIGKILL or SIGTERM, which runs no cleanup."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere such a worker lives until its task ends
    import ctypes
    from multiprocessing import forkserver

    # Every forkserver child inherits the write end of the pipe whose closing tells the
    # forkserver its owner is gone (so that children may start processes of their own);
    # a worker that kept it would keep the forkserver, and so itself, alive.
    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None  # type: ignore[union-attr]
    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the forkserver ended before prctl: nobody waits for us
        os._exit(1)


def _limit_memory(megabytes: int) -> None:
    import resource

    # The address space, not resident memory (Linux enforces no RSS limit): it counts
    # what the worker maps, so leave room for its libraries (~300 MB with the readers).
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = megabytes * 2**20
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _pickles(exc: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001  (any failure means: send the reason alone)
        return False
    return True


@functools.cache
def _register_reducers() -> None:
    # UnreadableFile(path, reason) keeps only its message in args, so the default
    # exception pickling calls UnreadableFile(message) and fails. Registered with
    # copyreg, which both pickle and multiprocessing consult.
    import copyreg

    copyreg.pickle(UnreadableFile, _reduce_unreadable)


def _reduce_unreadable(exc: UnreadableFile) -> tuple[Any, ...]:
    return UnreadableFile, (exc.path, exc.reason)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


# -- the indexer's task: read, parse and chunk one file -------------------------------

CountTokens = Callable[[list[str]], list[int]]
# What read_and_chunk's workers import once, in the forkserver (see Pool's preload).
# Not assistant.embed: it imports numpy, whose OpenBLAS would start threads in the
# forkserver, and a forkserver must stay single-threaded to fork safely.
READ_PRELOAD = ("assistant.ingest", "assistant.chunk", "tokenizers", "pysbd")
# The readers import these on first use: ~0.7 s for HTML, paid by every fresh worker
# unless preloaded, and worth preloading only when such files are to be read.
_PRELOAD_BY_SUFFIX = {
    ".html": ("trafilatura", "htmldate", "lxml.html"),
    ".htm": ("trafilatura", "htmldate", "lxml.html"),
    ".pdf": ("pypdf",),
}


def read_preload(paths: Iterable[Path]) -> tuple[str, ...]:
    """``Pool(preload=...)`` for ``read_and_chunk`` over ``paths``: READ_PRELOAD and
    the libraries of the formats among them. (A name that fails to import is skipped.)"""
    extra = {m for p in paths for m in _PRELOAD_BY_SUFFIX.get(Path(p).suffix.lower(), ())}
    return (*READ_PRELOAD, *sorted(extra))


class ReadResult(NamedTuple):
    documents: list[Document]
    chunks: list[list[Chunk]] | None  # one list per document; None when not chunked
    warnings: list[str]  # parts of the file left out
    notes: tuple[str, ...] = ()  # what failed without costing any text (named entities)


def read_and_chunk(
    path: Path,
    root: Path,
    max_bytes: int,
    count_tokens: CountTokens | None,
    entities: str | None = None,
) -> ReadResult:
    """``ingest.read`` then ``chunk.chunk_document`` for each document (skipped when
    ``count_tokens`` is None), the chunks tagged with named entities by the spaCy pipeline
    ``entities`` (None: not tagged). Raises ``UnreadableFile``, or MemoryError when the
    reader ran out of memory (``ingest.read`` wraps it as an internal error)."""
    from . import ingest
    from .chunk import chunk_document

    warnings: list[str] = []
    try:
        docs = ingest.read(path, root, max_bytes=max_bytes, warnings=warnings)
    except UnreadableFile as exc:
        if isinstance(exc.__cause__, MemoryError):
            raise MemoryError from None
        raise
    chunks = None if count_tokens is None else [chunk_document(d, count_tokens) for d in docs]
    notes: list[str] = []
    if chunks is not None and entities is not None:
        from . import entities as ner

        chunks = [ner.tagged(d.text, c, entities, notes) for d, c in zip(docs, chunks)]
    return ReadResult(docs, chunks, warnings, tuple(notes))


@dataclass(frozen=True)
class ReadAndChunk:
    """``read_and_chunk`` as a picklable Pool task over ``(path, root)`` items; use with
    ``expected=(UnreadableFile,)``."""

    max_bytes: int
    count_tokens: CountTokens | None
    entities: str | None = None  # the spaCy pipeline that tags the chunks; None: not tagged

    def __call__(self, item: tuple[Path, Path]) -> ReadResult:
        return read_and_chunk(item[0], item[1], self.max_bytes, self.count_tokens, self.entities)


@dataclass(frozen=True)
class TagStored:
    """Named entities for a document already indexed (an index older than schema 3):
    items are ``(doc_id, text, chunk spans)``, results each chunk's mentions."""

    entities: str

    def __call__(
        self, item: tuple[str, str, list[tuple[int, int]]]
    ) -> list[list[tuple[int, int, str]]]:
        from . import entities as ner

        return ner.by_chunk(item[2], ner.tag(item[1], self.entities))


@dataclass(frozen=True)
class OnnxTokenCounter:
    """Counts as ``OnnxEmbedder.count_tokens`` does, from an exported model folder; the
    tokenizer is loaded on first use, once per process."""

    folder: str

    def __call__(self, texts: list[str]) -> list[int]:
        tokenizer, lower = _counting_tokenizer(self.folder)
        prepared = [t.lower() for t in texts] if lower else list(texts)
        return [len(e.ids) for e in tokenizer.encode_batch_fast(prepared, add_special_tokens=False)]


@functools.cache
def _counting_tokenizer(folder: str) -> tuple[Any, bool]:
    """``embed._load_tokenizer(path, None)`` and the lower-casing ``_prepare`` applies,
    restated: importing ``embed`` imports numpy, whose OpenBLAS starts threads in every
    worker (and in the forkserver, if preloaded). test_workers holds the two equal."""
    from tokenizers import Tokenizer

    meta = json.loads((Path(folder) / "meta.json").read_text())
    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer, bool(meta["do_lower_case"])


def counter_for(embedder: Embedder) -> CountTokens | None:
    """A picklable token counter equal to ``embedder.count_tokens``, or None when there
    is none (the torch backend: chunk in the parent then)."""
    from .embed import HashEmbedder, OnnxEmbedder

    if isinstance(embedder, OnnxEmbedder):
        return OnnxTokenCounter(str(embedder._folder))
    if isinstance(embedder, HashEmbedder):
        return embedder.count_tokens  # a bound method of a stateless instance pickles
    return None
