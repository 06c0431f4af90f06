"""The MCP server as an agent meets it: a real ``python -m assistant mcp`` subprocess,
spoken to with the SDK's own client over stdio and over streamable HTTP on a free
loopback port. One server per transport for the whole module (the model loads once)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, SEEDS, run_cli

pytest.importorskip("mcp")

from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

from assistant.answer import Policy  # noqa: E402

CALL_TIMEOUT = (
    180  # seconds for one call on a loaded 2-core machine (the first ask embeds sentences)
)
START_TIMEOUT = 300  # seconds for the server to load the model and the store
SEED_QUESTIONS = ["Which bases did Russia keep?", "What happened at Hmeimim?"]
OFF_TOPIC = "Who won the 2018 World Cup?"


class SyncClient:
    """The SDK's async Client driven from plain test functions: one task on a private
    event loop holds the connection open (anyio needs enter and exit in one task) and
    runs the calls it is handed."""

    def __init__(self, server: Any):
        self._loop = asyncio.new_event_loop()
        self._requests: asyncio.Queue[Any] | None = None
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._main(server),), daemon=True
        )
        self._thread.start()
        self._ready.result(timeout=START_TIMEOUT)

    async def _main(self, server: Any) -> None:
        self._requests = asyncio.Queue()
        try:
            async with Client(server, read_timeout_seconds=CALL_TIMEOUT) as client:
                self._ready.set_result(None)
                while (item := await self._requests.get()) is not None:
                    call, done = item
                    try:
                        done.set_result(await call(client))
                    except Exception as exc:
                        done.set_exception(exc)
        except Exception as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise

    def run(self, call: Callable[[Client], Awaitable[Any]]) -> Any:
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        assert self._requests is not None
        self._loop.call_soon_threadsafe(self._requests.put_nowait, (call, done))
        return done.result(timeout=CALL_TIMEOUT)

    def call(self, tool: str, **arguments: Any) -> Any:
        return self.run(lambda c: c.call_tool(tool, arguments))

    def close(self) -> None:
        if self._requests is not None:
            self._loop.call_soon_threadsafe(self._requests.put_nowait, None)
        self._thread.join(timeout=60)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


@contextmanager
def _http_server(index: Path) -> Iterator[str]:
    """``assistant mcp --http 127.0.0.1:0``; yields the URL it prints once it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "mcp", "--index", str(index), "--http", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []

    def drain() -> None:  # keeps reading so the server never blocks on a full pipe
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    try:
        deadline, url = time.monotonic() + START_TIMEOUT, None
        while url is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            match = re.search(r"serving (http://127\.0\.0\.1:\d+/mcp)", line)
            url = match.group(1) if match else None
        assert url, f"the HTTP server did not start: {''.join(seen)}"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.stdout is not None and proc.stdout.read() == "", (
        "nothing goes to stdout in HTTP mode either"
    )


@pytest.fixture(scope="module", params=["stdio", "http"])
def server(request: pytest.FixtureRequest, seeds_index: Path) -> Iterator[SyncClient]:
    if request.param == "stdio":
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "assistant", "mcp", "--index", str(seeds_index)],
            env=_env(),
            cwd=ROOT,
        )
        client = SyncClient(params)
        yield client
        client.close()
    else:
        with _http_server(seeds_index) as url:
            client = SyncClient(url)
            yield client
            client.close()


@pytest.fixture(scope="module")
def texts(seeds_index: Path) -> dict[str, str]:
    from assistant import Library

    with Library(seeds_index) as lib:
        return {d.id: lib.text(d.id) for d in lib.documents()}


def test_lists_the_read_only_tools(server: SyncClient) -> None:
    tools = {t.name: t for t in server.run(lambda c: c.list_tools()).tools}
    assert set(tools) == {"ask", "search", "sources", "read"}  # no index() without --allow-index
    for tool in tools.values():
        assert tool.output_schema, f"{tool.name} has typed results"
        assert tool.annotations is not None and tool.annotations.read_only_hint
        assert tool.description
    assert set(tools["ask"].input_schema["properties"]) == {
        "question",
        "k",
        "source",
        "since",
        "until",
        "as_of",
    }
    assert tools["ask"].input_schema["required"] == ["question"]


def _check_verbatim(quotes: list[dict[str, Any]], texts: dict[str, str]) -> None:
    for q in quotes:
        assert q["text"] == texts[q["document"]][q["start"] : q["end"]]
        assert q["text"].strip()


@pytest.mark.parametrize("question", SEED_QUESTIONS)
def test_seed_questions_get_verbatim_quotes(
    server: SyncClient, texts: dict[str, str], question: str
) -> None:
    result = server.call("ask", question=question, k=5)
    assert not result.is_error
    answer = result.structured_content
    assert answer["answered"] is True and answer["message"] is None and answer["closest"] == []
    assert 1 <= len(answer["quotes"]) <= 5
    _check_verbatim(answer["quotes"], texts)
    cited = {c["ref"]: c for c in answer["sources"]}
    for q in answer["quotes"]:
        assert cited[q["ref"]]["document"] == q["document"]
        assert q["text"] in result.content[0].text  # the text rendering quotes it too
    assert max(q["score"] for q in answer["quotes"]) >= Policy().bar  # the bar is reached
    assert answer["quotes"][0]["rank"] == max(q["rank"] for q in answer["quotes"])
    if "bases" in question:
        assert re.search(r"Tarto?us", " ".join(q["text"] for q in answer["quotes"]))


def test_off_topic_question_is_refused(server: SyncClient, texts: dict[str, str]) -> None:
    result = server.call("ask", question=OFF_TOPIC)
    assert not result.is_error
    answer = result.structured_content
    assert answer["answered"] is False and answer["quotes"] == []
    assert answer["message"] == "No passage in the 5 indexed articles answers this."
    assert answer["closest"], "the nearest passages are shown, marked as not answering"
    _check_verbatim(answer["closest"], texts)
    assert result.content[0].text.startswith(answer["message"])
    assert "do not answer" in result.content[0].text


BAD_CALLS = [
    ("ask", {"question": ""}, "question is empty"),
    ("ask", {"question": "   "}, "question is empty"),
    ("ask", {"question": "Which bases?", "k": 0}, "k must be between 1 and 20"),
    ("ask", {"question": "Which bases?", "k": 21}, "k must be between 1 and 20"),
    ("ask", {"question": "Which bases?", "k": "many"}, "k"),
    ("ask", {"question": "Which bases?", "since": "2020-13"}, "since: not a date"),
    ("ask", {"question": "Which bases?", "until": "last year"}, "until: not a date"),
    ("ask", {"question": "Which bases?", "as_of": "2021-02-29"}, "as_of: not a date"),
    ("ask", {}, "question"),
    ("search", {"query": "Tartus", "k": 51}, "k must be between 1 and 50"),
    ("search", {"query": ""}, "question is empty"),
    (
        "read",
        {"document": "no-such-file.txt", "start": 0, "end": 5},
        "no document 'no-such-file.txt'",
    ),
    ("read", {"document": "DOC", "start": 10, "end": 10}, "out of range"),
    ("read", {"document": "DOC", "start": -1, "end": 5}, "out of range"),
    ("read", {"document": "DOC", "start": 0, "end": 10**9}, "out of range"),
    (
        "read",
        {"document": "DOC", "start": 0, "end": 5, "context": 11},
        "context must be between 0 and 10",
    ),
    ("index", {"paths": ["/"]}, "index"),  # not offered without --allow-index
]


def test_bad_arguments_are_one_line_tool_errors(server: SyncClient, texts: dict[str, str]) -> None:
    doc = sorted(texts)[0]
    for tool, arguments, expected in BAD_CALLS:
        arguments = {k: doc if v == "DOC" else v for k, v in arguments.items()}
        result = server.call(tool, **arguments)
        message = result.content[0].text
        assert result.is_error, (tool, arguments, message)
        assert expected in message and "\n" not in message, (tool, arguments, message)
    # ... and the server is still there, answering.
    again = server.call("ask", question=SEED_QUESTIONS[0])
    assert not again.is_error and again.structured_content["answered"]


def test_read_shows_a_quote_in_its_sentences(server: SyncClient, texts: dict[str, str]) -> None:
    quote = server.call("ask", question=SEED_QUESTIONS[0], k=1).structured_content["quotes"][0]
    doc, start, end = quote["document"], quote["start"], quote["end"]
    wide = server.call("read", document=doc, start=start, end=end, context=1).structured_content
    assert wide["text"] == quote["text"] == texts[doc][start:end]
    assert (
        wide["before"] + wide["text"] + wide["after"]
        == texts[doc][wide["context_start"] : wide["context_end"]]
    )
    assert wide["context_start"] < start and wide["context_end"] > end  # a sentence on each side
    assert wide["length"] == len(texts[doc]) and wide["location"] == quote["location"]
    wider = server.call("read", document=doc, start=start, end=end, context=3).structured_content
    assert (
        wider["context_start"] <= wide["context_start"]
        and wider["context_end"] >= wide["context_end"]
    )
    bare = server.call("read", document=doc, start=start, end=end, context=0).structured_content
    assert (bare["before"], bare["after"]) == ("", "")


def test_search_returns_ranked_verbatim_passages(server: SyncClient, texts: dict[str, str]) -> None:
    result = server.call("search", query="Hmeimim air base", k=4)
    passages = result.structured_content["passages"]
    assert [p["rank"] for p in passages] == [1, 2, 3, 4]
    for p in passages:
        assert p["text"] == texts[p["document"]][p["start"] : p["end"]]
    only = server.call(
        "search", query="Hmeimim air base", source=passages[0]["document"]
    ).structured_content
    assert {p["document"] for p in only["passages"]} == {passages[0]["document"]}


def test_sources_and_document_resources(server: SyncClient, texts: dict[str, str]) -> None:
    docs = server.call("sources").structured_content["documents"]
    assert sorted(d["document"] for d in docs) == sorted(texts)
    listed = server.run(lambda c: c.list_resources()).resources
    assert sorted(str(r.uri) for r in listed) == sorted(d["uri"] for d in docs)
    for d in docs[:2]:
        contents = server.run(lambda c, uri=d["uri"]: c.read_resource(uri)).contents
        assert contents[0].text == texts[d["document"]]


def test_non_loopback_http_is_refused() -> None:
    out = run_cli("mcp", "--http", "0.0.0.0:8765", timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    assert (
        out.stderr.strip()
        .splitlines()[-1]
        .startswith("assistant: error: --http: refusing to serve on 0.0.0.0")
    )


def test_stdout_carries_nothing_but_the_protocol(seeds_index: Path, tmp_path: Path) -> None:
    """Loading the model and the store writes nothing to stdout; end of input ends the server."""
    out = run_cli("mcp", "--index", str(seeds_index), input="", timeout=START_TIMEOUT)
    assert (out.returncode, out.stdout) == (0, ""), out.stderr
    missing = run_cli("mcp", "--index", str(tmp_path / "nothing"), input="", timeout=START_TIMEOUT)
    assert missing.returncode == 1 and missing.stdout == ""
    assert (
        missing.stderr.strip().startswith("assistant: error: no index at")
        and missing.stderr.count("\n") == 1
    )


def test_index_tool_is_confined_and_followed(tmp_path: Path) -> None:
    """In process (the SDK's in-memory transport): with --allow-index the index() tool
    indexes only inside the allowed folder, and documents indexed by another Library
    (as by another process) show up without a restart."""
    import shutil

    from assistant import Library
    from assistant.mcpserver import Tools, build

    allowed, elsewhere = tmp_path / "allowed", tmp_path / "elsewhere"
    allowed.mkdir()
    elsewhere.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    shutil.copy(seeds[0], allowed)
    shutil.copy(seeds[1], elsewhere)
    (allowed / "escape").symlink_to(elsewhere)
    index = tmp_path / "index"
    tools = Tools(Library(index), [allowed])
    tools.warm()  # nothing indexed yet: no error, nothing loaded

    async def session() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Client(build(tools)) as client:
            out["tools"] = {t.name for t in (await client.list_tools()).tools}
            out["outside"] = await client.call_tool("index", {"paths": [str(elsewhere)]})
            out["escape"] = await client.call_tool("index", {"paths": [str(allowed / "escape")]})
            out["inside"] = await client.call_tool("index", {"paths": [str(allowed)]})
            with Library(index) as other:
                other.add([elsewhere])
            out["sources"] = await client.call_tool("sources", {})
        return out

    out = asyncio.run(session())
    assert "index" in out["tools"]
    for key in ("outside", "escape"):
        assert (
            out[key].is_error
            and "outside the folders this server may index" in out[key].content[0].text
        )
    assert not out["inside"].is_error and len(out["inside"].structured_content["added"]) == 1
    assert len(out["sources"].structured_content["documents"]) == 2
    tools.lib.close()
