"""Chroma server mode against a real server: `chroma run`, shipped in the chromadb
package, started once for this module on a free loopback port and stopped by its pid."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Library, render
from assistant.catalog import FILENAME

from .conftest import SEEDS, run_cli

CHROMA = Path(sys.executable).with_name("chroma")
QUESTIONS = [
    "Which bases did Russia keep?",
    "What happened at Hmeimim?",
    "Who won the 2018 World Cup?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMA.exists():
        pytest.fail(f"the chroma CLI is missing at {CHROMA}")
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(data / "server.log", "wb")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(
        [
            str(CHROMA),
            "run",
            "--path",
            str(data / "db"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not heartbeat(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"chroma run did not start: {(data / 'server.log').read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.2)
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture
def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_index_sources_and_answers_through_the_cli_match_embedded_mode(
    server: str, tmp_path: Path, seeds_index: Path
) -> None:
    index = tmp_path / "remote"
    from assistant.entities import DEFAULT_MODELS

    # Tagged as the local seeds index is: the answers compared below read the named entities.
    built = run_cli(
        "index",
        str(SEEDS),
        "--index",
        str(index),
        env={"ASSISTANT_CHROMA_URL": server, "ASSISTANT_ENTITIES": DEFAULT_MODELS[0]},
    )
    assert built.returncode == 0, built.stderr
    assert "5 added" in built.stdout
    assert not (index / "chroma").exists(), "server mode must not keep vectors locally"

    with Library(seeds_index) as here:
        local_sources = [render.source_json(d) for d in here.documents()]
        local_answer = render.answer_json(here.ask(QUESTIONS[0]))
    sources = run_cli("sources", "--json", "--index", str(index), "--chroma-url", server)
    assert sources.returncode == 0, sources.stderr
    assert json.loads(sources.stdout) == local_sources

    # The index remembers its server: no flag needed once built.
    asked = run_cli("-q", QUESTIONS[0], "--json", "--index", str(index))
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["quotes"] == local_answer["quotes"]
    assert not (index / "chroma").exists(), "a query in server mode must not open a local store"

    with Library(index, chroma_url=server) as remote, Library(seeds_index) as here:
        for question in QUESTIONS:
            assert [p.chunk_id for p in remote.search(question, k=8)] == [
                p.chunk_id for p in here.search(question, k=8)
            ]
            a, b = remote.ask(question), here.ask(question)
            assert (a.answered, [q.text for q in a.quotes]) == (
                b.answered,
                [q.text for q in b.quotes],
            )


def test_incremental_indexing_keeps_client_and_server_in_step(
    server: str, seeds_copy: Path, tmp_path: Path
) -> None:
    with Library(tmp_path / "idx", chroma_url=server) as lib:
        assert len(lib.add([seeds_copy]).added) == 5
        assert lib.add([seeds_copy]).chunks == 0
        (seeds_copy / "000_d410228cbb7e0699.txt").write_text(
            "Tartous changed.\n\nA new body about Tartous.", encoding="utf-8"
        )
        (seeds_copy / "004_548693968b36bd9f.txt").unlink()
        (seeds_copy / "new.md").write_text(
            "---\ntitle: Fresh\n---\nA brand new note on Latakia.\n", encoding="utf-8"
        )
        report = lib.add([seeds_copy])
        assert (report.updated, report.removed, report.added) == (
            ["articles/000_d410228cbb7e0699.txt"],
            ["articles/004_548693968b36bd9f.txt"],
            ["articles/new.md"],
        )
        assert lib.store.count() == lib.catalog.count_chunks()
        assert set(lib.store.ids()) == {
            r[0] for r in lib.catalog.db.execute("SELECT id FROM chunks")
        }
        assert lib.search("brand new note Latakia", k=1)[0].document.id == "articles/new.md"
        assert lib.remove(["articles/new.md"]) == ["articles/new.md"]
        assert lib.store.count() == lib.catalog.count_chunks()


def test_rebuild_replaces_the_server_collection(server: str, tmp_path: Path) -> None:
    import chromadb

    index = tmp_path / "idx"
    with Library(index, chroma_url=server) as lib:
        lib.add([SEEDS / "000_d410228cbb7e0699.txt"])
        old = lib.catalog.meta()["collection"]
        lib.rebuild([SEEDS / "001_f252c9510e71f429.txt"])
        new = lib.catalog.meta()["collection"]
        assert new != old and [d.id for d in lib.documents()] == ["seeds/001_f252c9510e71f429.txt"]
        assert lib.store.count() == lib.catalog.count_chunks()
    port = int(server.rsplit(":", 1)[1])
    names = {c.name for c in chromadb.HttpClient(host="127.0.0.1", port=port).list_collections()}
    assert new in names and old not in names


def test_a_server_that_is_down_is_one_line_naming_it_and_damages_nothing(
    server: str, seeds_copy: Path, tmp_path: Path, dead_url: str
) -> None:
    index = tmp_path / "idx"
    with Library(index, chroma_url=server) as lib:
        lib.add([seeds_copy])
    catalog = (index / FILENAME).read_bytes()

    one_line_error(
        run_cli("-q", QUESTIONS[0], "--index", str(index), "--chroma-url", dead_url), dead_url
    )
    fresh = tmp_path / "fresh"
    one_line_error(
        run_cli("index", str(seeds_copy), "--index", str(fresh), "--chroma-url", dead_url), dead_url
    )
    assert not (fresh / FILENAME).exists()

    (seeds_copy / "000_d410228cbb7e0699.txt").write_text(
        "Changed while the server was down.", encoding="utf-8"
    )
    (seeds_copy / "001_f252c9510e71f429.txt").unlink()
    one_line_error(
        run_cli("index", str(seeds_copy), "--index", str(index), "--chroma-url", dead_url), dead_url
    )
    with Library(index, chroma_url=server) as lib:  # every document still there and searchable
        assert len(lib.documents()) == 5 and not lib.catalog.pending()
        assert lib.store.count() == lib.catalog.count_chunks()
    with Library(index, chroma_url=server) as lib:
        after = lib.add([seeds_copy])
    assert (after.updated, after.removed) == (
        ["articles/000_d410228cbb7e0699.txt"],
        ["articles/001_f252c9510e71f429.txt"],
    )
    assert (index / FILENAME).read_bytes() != catalog


def test_an_embedded_index_is_not_silently_used_with_a_server(
    server: str, seeds_index: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "embedded"
    shutil.copytree(seeds_index, copy)
    one_line_error(
        run_cli("-q", QUESTIONS[0], "--index", str(copy), "--chroma-url", server), "rebuild"
    )


def test_a_client_killed_mid_write_is_repaired_by_the_next_run(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .test_reliability import BATCH, index_cmd, kill_when, make_corpus

    corpus = make_corpus(tmp_path / "corpus", 120, longest=2)
    index = tmp_path / "idx"
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", server)  # the subprocesses inherit it
    seen = kill_when(corpus, index, lambda t, ready, pending: ready > 0 and pending > 0)
    assert seen and seen[1] > 0, seen
    final = subprocess.run(
        index_cmd(corpus, index, BATCH), capture_output=True, text=True, timeout=300
    )
    assert final.returncode == 0, final.stderr
    with Library(index) as lib:
        assert len(lib.documents()) == 120 and not lib.catalog.pending()
        ids = lib.store.ids()
        assert len(ids) == lib.store.count() == lib.catalog.count_chunks()
        assert set(ids) == {r[0] for r in lib.catalog.db.execute("SELECT id FROM chunks")}
