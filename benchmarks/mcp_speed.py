"""Warm ``ask`` through the MCP server against the same questions through ``Library.ask``.

    python benchmarks/mcp_speed.py [--index DIR] [--rounds 6] [--json FILE]

One ``assistant mcp`` server is started over stdio with the SDK's client (as an agent
starts it) on an index of the seeds (built in a temporary folder unless ``--index`` is
given). Every question is asked once through each path first (the first ask of a question
embeds its candidate sentences; later ones find them cached, as in the REPL). Then each
round asks every question through MCP and through ``Library.ask`` in this process,
alternating, so a noisy neighbour hits both alike. Both paths keep their question-vector
memo, so the difference is what the protocol costs: JSON-RPC over a pipe, argument
validation, the structured result and its text rendering.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEEDS = ROOT / "seeds"
QUESTIONS = [
    "Which bases did Russia keep?",
    "What happened at Hmeimim?",
    "How many troops were withdrawn?",
    "What is the role of the Tartus naval facility?",
    "Who won the 2018 World Cup?",
]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, load average at start {load:.1f}"


async def measure(index: Path, rounds: int) -> dict[str, Any]:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    from assistant import Library

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "assistant", "mcp", "--index", str(index)],
        env=ENV,
        cwd=ROOT,
    )
    lib = Library(index)
    mcp_ms: list[float] = []
    lib_ms: list[float] = []
    started = time.perf_counter()
    async with Client(params) as client:
        start_s = time.perf_counter() - started
        for q in QUESTIONS:  # warm-up: each question once through each path
            await client.call_tool("ask", {"question": q})
            lib.ask(q)
        for _ in range(rounds):
            for q in QUESTIONS:
                t = time.perf_counter()
                result = await client.call_tool("ask", {"question": q})
                mcp_ms.append(1000 * (time.perf_counter() - t))
                assert not result.is_error, result.content
                t = time.perf_counter()
                lib.ask(q)
                lib_ms.append(1000 * (time.perf_counter() - t))
    lib.close()
    p50_mcp, p50_lib = percentile(mcp_ms, 50), percentile(lib_ms, 50)
    return {
        "calls": len(mcp_ms),
        "questions": len(QUESTIONS),
        "server_start_s": round(start_s, 2),
        "mcp_p50_ms": round(p50_mcp, 1),
        "mcp_p95_ms": round(percentile(mcp_ms, 95), 1),
        "library_p50_ms": round(p50_lib, 1),
        "library_p95_ms": round(percentile(lib_ms, 95), 1),
        "ratio_p50": round(p50_mcp / p50_lib, 2),
        "overhead_p50_ms": round(p50_mcp - p50_lib, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--index", type=Path, help="an index of the seeds (default: built in a temporary folder)"
    )
    parser.add_argument(
        "--rounds", type=int, default=6, help="rounds of every question (default 6: 30 calls)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    header = {"machine": machine(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or Path(tmp) / "index"
        if args.index is None:
            subprocess.run(
                [sys.executable, "-m", "assistant", "index", str(SEEDS), "--index", str(index)],
                check=True,
                env=ENV,
                stdout=subprocess.DEVNULL,
                cwd=ROOT,
            )
        figures = {**header, **asyncio.run(measure(index, args.rounds))}
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
