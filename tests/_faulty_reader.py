"""A reader for tests/test_indexer_workers.py that misbehaves on files named for it; run in
worker processes, so it imports little (see tests/_worker_tasks.py)."""

from __future__ import annotations

import ctypes
import os
import resource
from dataclasses import dataclass
from pathlib import Path

from assistant.workers import ReadAndChunk, ReadResult


@dataclass(frozen=True)
class FaultyReader(ReadAndChunk):
    def __call__(self, item: tuple[Path, Path]) -> ReadResult:
        name = item[0].stem
        if name == "hang":
            r, _w = os.pipe()
            os.read(r, 1)  # stuck in C: never returns
        if name == "segv":
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            ctypes.string_at(0)
        if name == "memory":
            if resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY:
                raise RuntimeError("no memory cap in this worker")  # never eat the machine's memory
            hoard = []
            while True:
                hoard.append(bytearray(32 * 2**20))
        return super().__call__(item)
