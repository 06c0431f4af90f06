"""Reliability, proven the hard way: indexing killed with SIGKILL at several moments,
damaged indexes detected on open and rebuilt, and two processes on one index."""

from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import Library
from assistant.catalog import FILENAME
from assistant.errors import IndexCorrupt, IndexLocked

from .conftest import ROOT, SEEDS, run_cli

PLACES = ["Tartus", "Latakia", "Hmeimim", "Aleppo", "Palmyra", "Idlib", "Homs", "Deir ez-Zor"]
WORDS = (
    "troops convoy base aircraft withdrawal agreement ministry officials reported satellite images "
    "showed ships port runway helicopters equipment negotiations lease naval garrison supplies "
    "analysts warned observers confirmed sources said the government denied"
).split()
QUESTIONS = [
    "Which ships left Tartus?",
    "What did officials say about Palmyra?",
    "helicopters at Homs",
]


def make_corpus(folder: Path, count: int, seed: int = 7, longest: int = 5) -> Path:
    """``count`` short articles of one to ``longest`` sentences, deterministic."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        sentences = []
        for _ in range(rng.randint(1, longest)):
            words = rng.choices(WORDS, k=rng.randint(6, 14))
            words.insert(rng.randrange(len(words)), rng.choice(PLACES))
            sentences.append(" ".join(words).capitalize() + ".")
        title = f"Report {n} from {rng.choice(PLACES)}"
        (folder / f"doc{n:03d}.txt").write_text(
            title + "\n\n" + " ".join(sentences) + "\n", encoding="utf-8"
        )
    return folder


def snapshot(index: Path) -> dict[str, object]:
    """Everything an index holds, in a comparable form; asserts there is no duplicate or
    orphan chunk in Chroma or in the keyword index."""
    with Library(index) as lib:
        db = lib.catalog.db
        docs = sorted(
            tuple(r) for r in db.execute("SELECT id, sha256, state, chunks FROM documents")
        )
        chunks = sorted(tuple(r) for r in db.execute('SELECT id, doc_id, start, "end" FROM chunks'))
        rowids = {r[0] for r in db.execute("SELECT rowid FROM chunks")}
        fts = [r[0] for r in db.execute("SELECT rowid FROM chunks_fts")]
        terms = sorted(tuple(r) for r in db.execute("SELECT term, df, cap FROM terms"))
        vectors = lib.store.ids()
        assert not lib.catalog.pending()
        assert len(vectors) == len(set(vectors)) == lib.store.count()
        assert set(vectors) == {c[0] for c in chunks}, "orphan or missing vectors"
        assert sorted(fts) == sorted(rowids), "orphan or missing keyword rows"
        answers = [[p.chunk_id for p in lib.search(q, k=5)] for q in QUESTIONS]
    return {"docs": docs, "chunks": chunks, "terms": terms, "answers": answers}


def ready_and_pending(index: Path) -> tuple[int, int]:
    try:
        db = sqlite3.connect(f"file:{index / FILENAME}?mode=ro", uri=True, timeout=1)
        try:
            rows = dict(
                db.execute("SELECT state, count(*) FROM documents GROUP BY state").fetchall()
            )
        finally:
            db.close()
    except sqlite3.Error:
        return 0, 0
    return rows.get("ready", 0), rows.get("pending", 0)


def index_cmd(folder: Path, index: Path, batch: int | None = None) -> list[str]:
    args = ["index", str(folder), "--index", str(index)]
    if batch is None:
        return [sys.executable, "-m", "assistant", *args]
    # Smaller write batches than the default give a kill more moments to land in.
    code = f"import sys, assistant.indexer as i; i.BATCH_CHUNKS = {batch}; from assistant.cli import main; sys.exit(main({args!r}))"
    return [sys.executable, "-c", code]


def kill_when(folder: Path, index: Path, moment, timeout: float = 120):  # type: ignore[no-untyped-def]
    """Start indexing and SIGKILL it as soon as ``moment(elapsed, ready, pending)`` is true.
    Returns (ready, pending) seen at the kill, or None if the run finished first."""
    proc = subprocess.Popen(
        index_cmd(folder, index, BATCH),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    start = time.monotonic()
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - start
            state = ready_and_pending(index)
            if moment(elapsed, *state):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return state
            assert elapsed < timeout, "indexing did not reach the moment in time"
            time.sleep(0.01)
        return None
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


BATCH = 48


@pytest.mark.slow
def test_sigkill_at_any_moment_then_the_next_run_equals_an_uninterrupted_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = make_corpus(tmp_path / "corpus", 300, longest=3)
    reference = tmp_path / "reference"
    monkeypatch.setattr("assistant.indexer.BATCH_CHUNKS", BATCH)
    with Library(reference) as lib:
        total = len(lib.add([corpus]).added)
    expected = snapshot(reference)

    index = tmp_path / "killed"
    moments = [
        ("during start-up", lambda t, ready, pending: t > 1.0),
        ("while the first batch's vectors are written", lambda t, ready, pending: pending > 0),
        ("while a later batch is written", lambda t, ready, pending: ready > 0 and pending > 0),
        ("right after a batch is ready", lambda t, ready, pending: ready > 0 and pending == 0),
    ]
    kills = []
    for name, moment in moments:
        seen = kill_when(corpus, index, moment)
        kills.append((name, seen))
        if seen is not None and seen[0] == total:
            break
    assert sum(seen is not None for _, seen in kills) >= 3, kills
    assert any(seen and seen[1] for _, seen in kills), f"no kill hit a write in flight: {kills}"

    final = subprocess.run(
        index_cmd(corpus, index, BATCH), cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert final.returncode == 0, final.stderr
    assert snapshot(index) == expected


# -- damage ------------------------------------------------------------------------------


@pytest.fixture
def damaged(seeds_index: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "damaged"
    shutil.copytree(seeds_index, copy)  # the session's seeds index, copied: damage only the copy
    return copy


def _truncate(index: Path) -> None:
    path = index / FILENAME
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _drop_one_documents_vectors(index: Path) -> None:
    with Library(index) as lib:
        lib.store.delete_docs([lib.documents()[0].id])


def _forget_manifest(index: Path) -> None:
    db = sqlite3.connect(index / FILENAME)
    with db:
        db.execute("DELETE FROM meta")
    db.close()


def _miscount_chunks(index: Path) -> None:
    db = sqlite3.connect(index / FILENAME)
    with db:
        db.execute("UPDATE documents SET chunks = chunks + 1 WHERE rowid = 1")
    db.close()


DAMAGE = {
    "truncated catalog": (_truncate, "truncated"),
    "overwritten catalog": (
        lambda i: (i / FILENAME).write_bytes(b"\0" * 4096),
        "not a SQLite database",
    ),
    "deleted vector store": (lambda i: shutil.rmtree(i / "chroma"), "vector store .* is missing"),
    "deleted catalog": (lambda i: (i / FILENAME).unlink(), "catalog .* is missing"),
    "vectors missing for a document": (
        _drop_one_documents_vectors,
        r"lists \d+ chunks but the vector store holds \d+",
    ),
    "manifest lost": (_forget_manifest, "no record of how they were indexed"),
    "manifest miscounts chunks": (
        _miscount_chunks,
        r"lists \d+ chunks for its documents but holds \d+",
    ),
}


@pytest.mark.parametrize("kind", DAMAGE)
def test_damage_is_detected_on_open_with_what_is_wrong(damaged: Path, kind: str) -> None:
    harm, message = DAMAGE[kind]
    harm(damaged)
    with pytest.raises(IndexCorrupt, match=message) as caught, Library(damaged) as lib:
        lib.search("Which bases did Russia keep?")
    assert "assistant index --rebuild PATH" in str(caught.value)


def test_damaged_index_is_reported_in_one_line_and_rebuilt_from_sources(damaged: Path) -> None:
    _truncate(damaged)
    refused = run_cli("sources", "--index", str(damaged))
    assert refused.returncode == 1
    assert (
        refused.stderr.count("\n") == 1
        and "truncated" in refused.stderr
        and "Traceback" not in refused.stderr
    )
    rebuilt = run_cli("index", "--rebuild", str(SEEDS), "--index", str(damaged))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "5 added" in rebuilt.stdout
    with Library(damaged) as lib:
        assert len(lib.documents()) == 5 and lib.store.count() == lib.catalog.count_chunks()
        assert lib.search("Which bases did Russia keep?", k=1)


def test_vectors_left_without_a_catalog_are_thrown_away(damaged: Path) -> None:
    (damaged / FILENAME).unlink()  # as if a rebuild was killed between its two deletions
    with Library(damaged) as lib:
        lib.add([SEEDS / "000_d410228cbb7e0699.txt"])
        assert lib.store.count() == lib.catalog.count_chunks() > 0
        assert {d.id for d in lib.documents()} == {"seeds/000_d410228cbb7e0699.txt"}


# -- concurrency ---------------------------------------------------------------------------


def test_a_second_writer_waits_for_the_lock_with_a_message(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    with open(index / "write.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(IndexLocked, match="another process is writing"):
            Library(index).remove(["anything"])  # a caller that cannot wait is refused
        writer = subprocess.Popen(
            index_cmd(SEEDS, index),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        waited = ""
        deadline = time.monotonic() + 60
        while "waiting" not in waited and time.monotonic() < deadline:
            assert writer.stderr is not None
            waited += writer.stderr.readline()
        assert "waiting for another process" in waited
        assert (
            writer.poll() is None and not (index / FILENAME).exists()
        )  # nothing written while waiting
        fcntl.flock(lock, fcntl.LOCK_UN)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert "5 added" in out


def test_a_reader_keeps_answering_while_another_process_indexes_and_sees_the_new_documents(
    tmp_path: Path,
) -> None:
    first, second = make_corpus(tmp_path / "a", 10, seed=1), make_corpus(tmp_path / "b", 30, seed=2)
    (second / "news.txt").write_text(
        "Icebreaker news\n\nThe icebreaker Yamal docked at Tartus carrying volunteers.\n",
        encoding="utf-8",
    )
    index = tmp_path / "index"
    with Library(index) as writer:
        writer.add([first])
    reader = Library(index)
    assert reader.search("icebreaker Yamal", k=3)[0].document.id.startswith("a/doc")
    proc = subprocess.Popen(
        index_cmd(second, index), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    answered = 0
    while proc.poll() is None:
        assert reader.search("Which ships left Tartus?", k=5)
        answered += 1
        time.sleep(0.1)
    assert proc.returncode in (0, 3), proc.stderr.read() if proc.stderr else ""
    assert answered > 0
    top = reader.search("icebreaker Yamal", k=3)[0]
    assert top.document.id == "b/news.txt"
    assert top.dense_rank == 1, "the reader's vector store did not see the other process's vectors"
    assert reader.store.count() == reader.catalog.count_chunks()
    reader.close()


def test_the_repl_keeps_answering_while_another_process_indexes_and_sees_new_documents_next(
    tmp_path: Path,
) -> None:
    index = tmp_path / "index"
    with Library(index) as lib:
        lib.add([make_corpus(tmp_path / "a", 10, seed=3)])
    more = make_corpus(tmp_path / "b", 15, seed=4)
    (more / "news.txt").write_text(
        "Icebreaker news\n\nThe icebreaker Yamal docked at Tartus carrying volunteers.\n",
        encoding="utf-8",
    )
    repl = subprocess.Popen(
        [sys.executable, "-m", "assistant", "--index", str(index), "--json"],
        cwd=ROOT,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert repl.stdin is not None and repl.stdout is not None

    def ask(question: str) -> dict[str, object]:
        repl.stdin.write(question + "\n")  # type: ignore[union-attr]
        repl.stdin.flush()  # type: ignore[union-attr]
        line = repl.stdout.readline()  # type: ignore[union-attr]
        assert line, repl.stderr.read() if repl.stderr else ""
        return json.loads(line)  # type: ignore[no-any-return]

    def cited(answer: dict[str, object]) -> set[str]:
        return {s["document"] for s in answer["sources"]} | {
            q["document"] for q in answer["closest"]
        }  # type: ignore[index, union-attr]

    try:
        assert "b/news.txt" not in cited(ask("Where did the icebreaker Yamal dock?"))
        writer = subprocess.Popen(
            index_cmd(more, index), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        answered = 0
        while writer.poll() is None or not answered:
            assert ask("Which ships left Tartus?")["question"]
            answered += 1
        assert writer.wait() == 0, writer.stderr.read() if writer.stderr else ""
        answer = ask("Where did the icebreaker Yamal dock?")
        assert answer["answered"] and answer["sources"][0]["document"] == "b/news.txt", answer  # type: ignore[index]
    finally:
        repl.stdin.close()
        repl.wait(timeout=60)


def test_an_index_folder_that_cannot_be_made_is_one_line() -> None:
    result = run_cli("index", str(SEEDS), "--index", "/proc/no-such-index")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "/proc/no-such-index" in result.stderr and "Traceback" not in result.stderr
