"""The core engine end to end: real files, real Chroma, the real offline MiniLM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import IndexMismatch, IndexNotFound, Library
from assistant.catalog import FILENAME, Catalog
from assistant.errors import UsageError

from .conftest import SEEDS, run_cli

BASES = ("tartus", "tartous")
AIRBASE = ("khmeimim", "khmeymim", "hmeimim", "hemeimeem")


def test_every_chunk_and_sentence_is_an_exact_slice_of_its_file(seeds_index: Path) -> None:
    catalog = Catalog(seeds_index / FILENAME, readonly=True)
    docs = catalog.documents()
    assert len(docs) == 5
    for doc in docs:
        content = Path(doc.path).read_text(encoding="utf-8")
        assert catalog.text(doc.id) == content
        rows = catalog.db.execute(
            'SELECT id, start, "end", sentences FROM chunks WHERE doc_id = ?', (doc.id,)
        )
        chunks = list(rows)
        assert len(chunks) == doc.chunks > 0
        for row in chunks:
            start, end = row["start"], row["end"]
            assert 0 <= start < end <= len(content)
            for s, e in json.loads(row["sentences"]):
                assert start <= s < e <= end
                assert content[s:e] == content[s:e].strip()


def test_boilerplate_and_repeats_stay_out_of_chunks(seeds_index: Path) -> None:
    catalog = Catalog(seeds_index / FILENAME, readonly=True)
    bodies = [r[0] for r in catalog.db.execute("SELECT body FROM chunks_fts")]
    joined = "\n".join(bodies)
    assert "Share with your friends" not in joined
    assert "Delivered by FeedBurner" not in joined
    interview = "thank you for joining us today"
    assert (
        sum(body.lower().count(interview) for body in bodies) <= 2
    )  # first copy, maybe overlapped once


def test_which_bases_ranks_tartus_and_khmeimim_in_top3(seeds_lib: Library) -> None:
    top = seeds_lib.search("Which bases did Russia keep?", k=3)
    texts = [p.text.lower() for p in top]
    assert any(any(b in t for b in BASES) for t in texts)
    assert any(any(a in t for a in AIRBASE) for t in texts)
    assert any(any(b in t for b in BASES) and any(a in t for a in AIRBASE) for t in texts)


def test_hmeimim_finds_every_other_spelling(seeds_lib: Library) -> None:
    passages = seeds_lib.search("What happened at Hmeimim?", k=12)
    found = " ".join(p.text.lower() for p in passages)
    for spelling in AIRBASE:
        assert spelling in found, spelling
    for (
        spelling
    ) in AIRBASE:  # each spelling is reached by keyword search itself (the variant expansion)
        assert any(spelling in p.text.lower() and p.keyword_rank is not None for p in passages), (
            spelling
        )


def test_tartous_matches_tartus(seeds_lib: Library) -> None:
    hits = seeds_lib.retriever.keyword("Tartous", 20, None)
    chunks = seeds_lib.catalog.chunks_by_id(hits)
    docs = {c.doc_id for c in chunks.values()}
    assert any(d.startswith("seeds/001") for d in docs)  # writes "Tartus" only
    assert any(d.startswith("seeds/003") for d in docs)  # writes "Tartous"


def test_passages_carry_ranks_scores_and_metadata(seeds_lib: Library) -> None:
    passages = seeds_lib.search("S-400 air defence systems dismantled", k=5)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    for p in passages:
        assert p.dense_rank or p.keyword_rank
        assert p.document.title and p.document.path.endswith(p.document.id)
        assert seeds_lib.text(p.document.id)[p.start : p.end] == p.text


def test_source_filter_limits_documents(seeds_lib: Library) -> None:
    passages = seeds_lib.search("withdrawal", k=5, source="seeds/004_*")
    assert passages and {p.document.id for p in passages} == {"seeds/004_548693968b36bd9f.txt"}
    assert seeds_lib.search("withdrawal", k=5, source="no-such-source") == []


def test_incremental_add_change_delete(seeds_copy: Path, tmp_path: Path) -> None:
    lib = Library(tmp_path / "idx")
    first = lib.add([seeds_copy])
    assert len(first.added) == 5 and first.chunks > 0
    again = lib.add([seeds_copy])
    assert again.chunks == 0 and len(again.unchanged) == 5
    (seeds_copy / "000_d410228cbb7e0699.txt").write_text(
        "Tartous changed.\n\nA new body about Tartous.", encoding="utf-8"
    )
    (seeds_copy / "004_548693968b36bd9f.txt").unlink()
    (seeds_copy / "new.md").write_text(
        "---\ntitle: Fresh\ndate: 2025-01-02\n---\nA brand new note on Latakia.\n", encoding="utf-8"
    )
    third = lib.add([seeds_copy])
    assert third.updated == ["articles/000_d410228cbb7e0699.txt"]
    assert third.removed == ["articles/004_548693968b36bd9f.txt"]
    assert third.added == ["articles/new.md"]
    ids = {d.id for d in lib.documents()}
    assert "articles/004_548693968b36bd9f.txt" not in ids and "articles/new.md" in ids
    assert lib.store.count() == lib.catalog.count_chunks()
    assert set(lib.store.ids()) == {r[0] for r in lib.catalog.db.execute("SELECT id FROM chunks")}
    hits = lib.search("brand new note Latakia", k=1)
    assert hits[0].document.id == "articles/new.md" and hits[0].document.date == "2025-01-02"


def test_remove_by_id(seeds_copy: Path, tmp_path: Path) -> None:
    lib = Library(tmp_path / "idx")
    lib.add([seeds_copy])
    assert lib.remove(["articles/001_f252c9510e71f429.txt", "nope"]) == [
        "articles/001_f252c9510e71f429.txt"
    ]
    assert len(lib.documents()) == 4
    assert lib.store.count() == lib.catalog.count_chunks()


def test_model_mismatch_is_refused(seeds_index: Path) -> None:
    with pytest.raises(IndexMismatch, match="rebuild"):
        Library(seeds_index, model="sentence-transformers/all-mpnet-base-v2").documents()
    result = run_cli("sources", "--index", str(seeds_index), "--model", "other-model")
    assert result.returncode == 1
    assert "rebuild" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="assistant index"):
        Library(tmp_path / "none").search("anything")
    result = run_cli("-q", "anything", "--index", str(tmp_path / "none"))
    assert result.returncode == 1 and "assistant index PATH" in result.stderr


def test_sources_json(seeds_index: Path) -> None:
    result = run_cli("sources", "--json", "--index", str(seeds_index))
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 5
    for row in rows:
        assert {"document", "title", "date", "path", "chunks"} <= row.keys()
        assert row["chunks"] > 0 and Path(row["path"]).exists()


def test_cli_index_reports_and_noop_is_cheap(seeds_copy: Path, tmp_path: Path) -> None:
    index = str(tmp_path / "cli-index")
    first = run_cli("index", str(seeds_copy), "--index", index)
    assert first.returncode == 0, first.stderr
    assert "5 added" in first.stdout
    noop = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "assistant",
            "index",
            str(seeds_copy),
            "--index",
            index,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert noop.returncode == 0 and "5 unchanged" in noop.stdout
    imported = noop.stderr
    assert (
        "chromadb" not in imported and "torch" not in imported
    )  # nothing to write, nothing heavy loaded


BAD_FILES = {
    "binary.txt": b"\x00\x01\x02binary\x00",
    "empty.txt": b"",
    "latin1.txt": "caf\xe9 cr\xe8me".encode("latin-1"),
    "broken.pdf": b"%PDF-1.4\n1 0 obj garbage",
    "nothing.html": b"<html><body><script>var a=1;</script></body></html>",
    "picture.png": b"\x89PNG\r\n\x1a\n",
    "big.txt": b"word " * 300_000,
}


def test_each_bad_input_is_skipped_with_its_reason(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name, data in BAD_FILES.items():
        (folder / name).write_bytes(data)
    (folder / "good.txt").write_text(
        "Good article\n\nRussia kept the Tartus base.", encoding="utf-8"
    )
    index = str(tmp_path / "idx")
    result = run_cli("index", str(folder), "--index", index, "--max-size", "1")
    assert result.returncode == 3, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert len(lines) == len(BAD_FILES)
    for name in BAD_FILES:
        assert any(name in line and line.split(": ", 1)[1] for line in lines), name
    assert "1 added" in result.stdout
    sources = json.loads(run_cli("sources", "--json", "--index", index).stdout)
    assert [s["document"] for s in sources] == ["mixed/good.txt"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli("-k", "zero", "-q", "x").returncode == 2
    assert run_cli("--since", "yesterday", "-q", "x").returncode == 2
    assert run_cli("index", "--bogus").returncode == 2


def test_an_empty_question_is_a_usage_error(seeds_index: Path) -> None:
    done = run_cli("-q", "  ", "--index", str(seeds_index))
    assert done.returncode == 2 and done.stdout == ""
    # argparse's convention for usage errors: the usage line(s), then one error line.
    assert done.stderr.strip().splitlines()[-1] == "assistant: error: the question is empty"
    with Library(seeds_index) as lib, pytest.raises(UsageError):
        lib.ask("")


def test_import_is_light() -> None:
    code = "import assistant, sys; print(sorted(m for m in ('torch','chromadb','onnxruntime','sentence_transformers','rich','prompt_toolkit') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_is_light() -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "assistant", "--help"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "index" in out.stdout
    assert "chromadb" not in out.stderr and "torch" not in out.stderr


def test_public_surface_is_stable() -> None:
    import assistant

    assert sorted(assistant.__all__) == assistant.__all__
    for name in assistant.__all__:
        assert hasattr(assistant, name)


def test_seeds_are_the_shared_seeds_byte_for_byte() -> None:
    shared = SEEDS.parent.parent / "shared" / "seeds"
    if not shared.exists():
        pytest.fail(f"../shared/seeds is missing at {shared}")
    # seeds/manifest.csv is ours: it dates the five articles (the shared seeds carry no dates).
    assert sorted(p.name for p in SEEDS.iterdir() if p.name != "manifest.csv") == sorted(
        p.name for p in shared.iterdir()
    )
    for p in shared.iterdir():
        assert (SEEDS / p.name).read_bytes() == p.read_bytes()


def test_keyword_only_passages_are_scored_with_their_real_cosine(seeds_index: Path) -> None:
    """A passage the dense list missed is fused with its true similarity, not with 0."""
    from assistant import chunk as chunking
    from assistant.retrieve import SearchPolicy

    with Library(seeds_index, policy=SearchPolicy(candidates=2)) as lib:
        question = "Hemeimeem air base"  # the other spellings are found by keyword only
        passages = lib.search(question, k=4)
        missed = [p for p in passages if p.dense_rank is None and p.keyword_rank is not None]
        assert missed, "the question should draw a keyword-only passage with two candidates"
        for p in missed:
            piece = chunking.Chunk(p.document.id, 0, p.start, p.end, p.text, ())
            vector = lib.embedder.embed([chunking.embedding_text(p.document.title, piece)])[0]
            expected = float(vector @ lib.embedder.embed_query(question))
            assert p.dense_score == pytest.approx(expected, abs=1e-4)
            assert p.score > 0.7 * expected - 1e-6  # the cosine went into the fused score


def test_the_count_of_documents_searched_follows_writes(seeds_copy: Path, tmp_path: Path) -> None:
    """The count is memoised; a write through the same library must still move it."""
    with Library(tmp_path / "idx") as lib:
        lib.add([seeds_copy])
        assert lib.ask("Which bases did Russia keep?").searched == 5
        (seeds_copy / "extra.txt").write_text(
            "Extra\n\nRussia kept a base at Tartus.\n", encoding="utf-8"
        )
        lib.add([seeds_copy])
        assert lib.ask("Which bases did Russia keep?").searched == 6
        assert lib.ask("Which bases did Russia keep?", source="extra").searched == 1


def test_store_vectors_reads_back_stored_vectors_and_tolerates_unknown_ids(
    seeds_lib: Library,
) -> None:
    some = seeds_lib.search("Tartus", k=1)[0].chunk_id
    got = seeds_lib.store.vectors([some])
    assert list(got) == [some] and got[some].shape == (384,)
    # What a reader meets while another process is writing: ids its client does not hold.
    assert seeds_lib.store.vectors(["no-such-doc::0"]) == {}


def test_an_index_kept_among_the_articles_is_not_indexed(seeds_copy: Path) -> None:
    """`assistant index .` with the default ./index: the index's own files were skipped as
    unsupported, each time, and the run ended with "some files skipped"."""
    with Library(seeds_copy / "index") as lib:
        first = lib.add([seeds_copy])
        again = lib.add([seeds_copy])
    assert not first.skipped and not again.skipped
    assert len(first.added) == 5 and len(again.unchanged) == 5


def test_an_article_beside_an_index_is_still_indexed_and_kept(
    seeds_copy: Path, tmp_path: Path
) -> None:
    """Only an index's own parts are left out of the walk: an article kept in the same folder
    as another index is read, and not taken for gone (removed) on the next run."""
    other = seeds_copy / "notes"
    with Library(other) as lib:  # another index, built in a folder of the articles
        lib.add([SEEDS / "003_e5a73f4839f377ea.txt"])
    (other / "note.txt").write_text(
        "A note\n\nRussia kept the port of Tartus in 2016.\n", encoding="utf-8"
    )
    with Library(tmp_path / "index") as lib:
        first = lib.add([seeds_copy])
        again = lib.add([seeds_copy])
    assert not first.skipped and "articles/notes/note.txt" in first.added
    assert not again.removed and "articles/notes/note.txt" in again.unchanged
