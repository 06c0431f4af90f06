"""Bad input, fuzzed: random bytes, odd Unicode, very long lines, deeply nested or
unclosed HTML, PDFs cut at random offsets and JSONL with bad lines go through the
indexer between good files. No crash, no hang, each bad file indexed or skipped with a
reason, the good files around it indexed. And questions nobody should ask get a clear
message or an honest "no answer", never a traceback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import Library
from assistant.errors import AssistantError, UnreadableFile
from assistant.ingest import SUPPORTED_SUFFIXES, read

from .conftest import run_cli
from .test_ingest import make_pdf

SECONDS_PER_FILE = 20  # generous for a loaded CI machine; a hang is minutes
ODD = (
    "\u0301\u0308\u20dd"  # combining marks
    "\u05d0\u05d1\u0627\u0644\u200f\u202e\u2066"  # Hebrew, Arabic, RTL marks and overrides
    "\x00\x07\x1b\r\t\u2028\ufeff\ufffd"  # NUL, controls, separators, BOM
    "\U0001f600\U00010348"  # astral
    "a Z1."
)
FUZZ = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def odd_text(max_size: int = 400) -> st.SearchStrategy[str]:
    return st.text(st.one_of(st.sampled_from(ODD), st.characters()), max_size=max_size)


def encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # lone surrogates make invalid UTF-8 on purpose


def html(depth: int, text: str, close: bool) -> bytes:
    tags = ["div", "p", "span", "table", "b", "section"]
    opened = "".join(f"<{tags[n % len(tags)]}>" for n in range(depth))
    closed = "".join(f"</{tags[n % len(tags)]}>" for n in reversed(range(depth))) if close else ""
    return encoded(f"<html><head><title>{text[:20]}</title></head><body>{opened}{text}{closed}")


def jsonl(lines: list[object]) -> bytes:
    out = []
    for line in lines:
        out.append(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False))
    return encoded("\n".join(out))


PDF = make_pdf(["Tartus is a port on the coast.", "Hmeimim is an air base.", "A third page."])
JSON_LINES = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"text": odd_text(200)}, optional={"title": odd_text(30), "date": odd_text(12)}
        ),
        st.fixed_dictionaries(
            {"body": st.just("Russia kept Tartus."), "id": st.one_of(st.integers(), odd_text(10))}
        ),
        st.just("{not json"),
        st.just("[1, 2, 3]"),
        st.just("null"),
        st.just(""),
        odd_text(40),
        st.fixed_dictionaries(
            {"text": st.one_of(st.none(), st.integers(), st.lists(st.integers()))}
        ),
    ),
    max_size=8,
)

BAD_FILES = st.one_of(
    st.tuples(st.sampled_from(sorted(SUPPORTED_SUFFIXES)), st.binary(max_size=3000)),
    st.tuples(st.sampled_from([".txt", ".md", ".html", ".jsonl"]), odd_text().map(encoded)),
    st.tuples(
        st.sampled_from([".txt", ".md"]),
        st.integers(1000, 30_000).map(lambda n: b"Tartus " * (n // 7)),
    ),
    st.tuples(st.just(".md"), odd_text(60).map(lambda t: encoded(f"---\ntitle: [{t}\n---\n{t}"))),
    st.tuples(
        st.sampled_from([".html", ".htm"]),
        st.builds(html, st.integers(0, 3000), odd_text(200), st.booleans()),
    ),
    st.tuples(st.just(".pdf"), st.integers(0, len(PDF)).map(lambda n: PDF[:n])),
    st.tuples(st.just(".jsonl"), JSON_LINES.map(jsonl)),
)

GOOD = {
    "before.txt": "Port report\n\nRussia kept its naval facility at Tartus on the Syrian coast.\n",
    "zafter.md": "---\ntitle: Air base\n---\nThe Hmeimim air base near Latakia stayed under Russian control.\n",
}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    lib = Library(tmp_path_factory.mktemp("fuzz") / "index")
    yield lib
    lib.close()


@FUZZ
@given(bad=BAD_FILES)
def test_each_reader_survives_bad_input_between_good_files(
    library: Library, tmp_path_factory: pytest.TempPathFactory, bad: tuple[str, bytes]
) -> None:
    suffix, data = bad
    folder = tmp_path_factory.mktemp("case")
    for name, text in GOOD.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / f"bad{suffix}").write_bytes(data)

    started = time.monotonic()
    try:
        read(folder / f"bad{suffix}", folder)
    except UnreadableFile as exc:
        assert exc.reason.strip() and str(folder / f"bad{suffix}") in str(exc)
    assert time.monotonic() - started < SECONDS_PER_FILE

    report = library.add([folder])
    assert time.monotonic() - started < 3 * SECONDS_PER_FILE
    indexed = set(report.added) | set(report.updated)
    assert {"before.txt", "zafter.md"} <= {i.rsplit("/", 1)[-1] for i in indexed}
    bad_ids = {i for i in indexed if f"bad{suffix}" in i}
    skipped = [s for s in report.skipped if s.path.endswith(f"bad{suffix}")]
    assert bad_ids or skipped, "the bad file was neither indexed nor skipped"
    assert all(s.reason.strip() for s in skipped)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("one-long-line.txt", b"Tartus " * 150_000),  # a 1 MB line without a sentence end
        ("no-spaces.txt", b"x" * 1_000_000),
        (
            "deep.html",
            b"<html><body>" + b"<div>" * 100_000 + b"Tartus is a port." + b"</div>" * 100_000,
        ),
        ("unclosed.html", b"<html><body>" + b"<p><b><i>" * 25_000 + b"Tartus"),
        ("many-lines.jsonl", b"\n".join([b"{bad"] * 50_000 + [b'{"text": "Russia kept Tartus."}'])),
    ],
)
def test_big_pathological_files_are_read_in_bounded_time(
    tmp_path: Path, name: str, data: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    started = time.monotonic()
    try:
        documents = read(path, tmp_path)
    except UnreadableFile as exc:
        assert exc.reason.strip()
    else:
        assert documents and all(d.text for d in documents)
    assert time.monotonic() - started < SECONDS_PER_FILE


# -- questions ------------------------------------------------------------------------------

AWKWARD_QUESTIONS = {
    "empty": "",
    "whitespace": " \t\n  ",
    "100 KB": "Which bases did Russia keep? " * 3500,
    "control characters": "Tartus\x00\x07\x1b[31m\x08?\x7f",
    "only stopwords": "what is the and of it",
    "FTS syntax": 'NEAR(" AND OR * ^ -col:x',
    "odd unicode": "\u202eمحطة\u0301 \U0001f600 \ufeff?",
}


@pytest.mark.parametrize("kind", AWKWARD_QUESTIONS)
def test_awkward_questions_through_the_library(seeds_lib: Library, kind: str) -> None:
    question = AWKWARD_QUESTIONS[kind]
    try:
        passages = seeds_lib.search(question, k=5)
        answer = seeds_lib.ask(question)
    except AssistantError as exc:
        assert str(exc).strip()
        return
    assert len(passages) <= 5
    if kind in ("empty", "whitespace", "only stopwords"):
        assert not answer.answered


@FUZZ
@given(question=odd_text(300))
def test_random_questions_never_raise_anything_unexpected(
    seeds_lib: Library, question: str
) -> None:
    try:
        seeds_lib.ask(question)
    except AssistantError as exc:
        assert str(exc).strip()


def test_awkward_questions_through_the_cli(seeds_index: Path) -> None:
    empty = run_cli("-q", "", "--index", str(seeds_index), "--json", input="")
    assert (
        empty.returncode == 2 and "Traceback" not in empty.stderr
    )  # an empty question is a usage error
    assert empty.stderr.strip().splitlines()[-1] == "assistant: error: the question is empty"
    # One process for the rest: '-q -' reads one question per line.
    lines = [q.replace("\n", " ") for q in AWKWARD_QUESTIONS.values()]
    result = run_cli(
        "-q", "-", "--json", "--index", str(seeds_index), input="\n".join(lines) + "\n"
    )
    assert result.returncode == 0, result.stderr  # a batch answers what it can, line by line
    assert "Traceback" not in result.stderr, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(
        lines
    )  # a line that cannot be asked gets an error object in its place
    assert all("error" in a or not a["answered"] or a["quotes"] for a in answers)
    stopwords = [a for a in answers if a["question"].strip() == AWKWARD_QUESTIONS["only stopwords"]]
    assert stopwords and "nothing to search for" in stopwords[0]["error"]


def test_a_read_past_the_time_limit_is_skipped_and_the_rest_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import Library, indexer

    monkeypatch.setattr(indexer, "READ_SECONDS", 2)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "unclosed.html").write_bytes(b"<html><body>" + b"<p><b><i>" * 60_000 + b"Tartus")
    (folder / "good.txt").write_text("Good\n\nRussia kept the Tartus base.", encoding="utf-8")
    started = time.monotonic()
    report = Library(tmp_path / "idx").add([folder])
    assert time.monotonic() - started < 60
    assert [s.reason for s in report.skipped] == ["took longer than 2 s to read"]
    assert report.added == ["in/good.txt"]
