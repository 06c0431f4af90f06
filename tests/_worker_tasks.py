"""Tasks for tests/test_workers.py, run in worker processes.

A module of their own, importing little: workers import it to unpickle a task (and the
forkserver preloads it), so the test module's imports (numpy, via assistant.embed)
would otherwise be in every worker and spoil the check that workers stay light.
"""

from __future__ import annotations

import ctypes
import os
import re
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

from assistant.errors import UnreadableFile
from assistant.workers import OnnxTokenCounter, ReadAndChunk


def _no_core_dump() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not litter the tree


def _segfault() -> None:
    _no_core_dump()
    ctypes.string_at(0)


def _abort() -> None:
    _no_core_dump()
    os.abort()


def _hang_in_c_read() -> None:
    r, _w = os.pipe()  # the write end stays open here, so this read never returns
    os.read(r, 1)


def _hang_ignoring_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL can stop this one
    time.sleep(3600)


def _exhaust_memory() -> None:
    if resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY:
        raise RuntimeError("no memory cap in this worker")  # never eat the machine's memory
    hoard = []
    while True:
        hoard.append(bytearray(32 * 2**20))


def _unreadable() -> None:
    raise UnreadableFile("/x/a.html", "binary file")


ACTIONS = {
    "sleep": lambda: time.sleep(3600),
    "read": _hang_in_c_read,
    # Catastrophic backtracking: stuck inside the C regex engine, which holds the GIL.
    "regex": lambda: re.match(r"(a|aa)+$", "a" * 80 + "b"),
    "stubborn": _hang_ignoring_sigterm,
    "segv": _segfault,
    "abort": _abort,
    "exit": lambda: os._exit(3),
    "sigkill": lambda: os.kill(os.getpid(), signal.SIGKILL),
    "memory": _exhaust_memory,
    "value": lambda: int("not a number"),
    "unreadable": _unreadable,
}


def task(item: object) -> object:
    """Does what a string item names; any other item comes back with the worker's pid."""
    if isinstance(item, str):
        return ACTIONS[item]()
    return (item, os.getpid())


def value(item: object) -> object:
    """``(n, seconds)``: n * 10 after sleeping, so that items finish out of order."""
    if isinstance(item, tuple):
        time.sleep(item[1])
        return item[0] * 10
    return task(item)


def heavy_modules_after_reading(item: tuple[Path, str]) -> list[str]:
    """Read and chunk a page with the real model's counter, then list what got imported."""
    folder, model = item
    result = ReadAndChunk(10**6, OnnxTokenCounter(model))((folder / "page.html", folder))
    assert result.chunks and result.chunks[0]
    return sorted(m for m in ("torch", "chromadb", "onnxruntime", "numpy") if m in sys.modules)


def interrupt_a_runner_once_waiting(pool: Any) -> None:
    """Send SIGINT to a runner thread of ``pool`` once the main thread waits for a result,
    as the kernel may deliver a terminal's Ctrl-C to any thread of the process."""
    import threading

    def send() -> None:
        while not pool._cond._waiters:  # the consumer has not blocked yet
            time.sleep(0.001)
        signal.pthread_kill(pool._threads[0].ident, signal.SIGINT)

    threading.Thread(target=send, daemon=True).start()
