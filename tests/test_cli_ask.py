"""Asking through the CLI as a user runs it: a subprocess, exit codes, the JSON contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.render import reflow

from .conftest import run_cli

QUOTE_KEYS = {
    "ref": int,
    "text": str,
    "document": str,
    "start": int,
    "end": int,
    "score": float,
    "rank": float,
}
SOURCE_KEYS = {
    "ref": int,
    "document": str,
    "title": (str, type(None)),
    "date": (str, type(None)),
    "path": str,
    "location": (str, type(None)),
}


def _check_contract(obj: dict, index_root: Path | None = None) -> None:  # type: ignore[type-arg]
    assert isinstance(obj["question"], str) and isinstance(obj["answered"], bool)
    refs = set()
    for s in obj["sources"]:
        for key, kind in SOURCE_KEYS.items():
            assert isinstance(s[key], kind), key
        refs.add(s["ref"])
    for q in obj["quotes"] + obj.get("closest", []):
        for key, kind in QUOTE_KEYS.items():
            assert isinstance(q[key], kind), key
        assert q["ref"] in refs
        path = next(s["path"] for s in obj["sources"] if s["ref"] == q["ref"])
        assert path.endswith(q["document"])
        content = Path(path).read_text(encoding="utf-8")  # .txt: the document text is the file
        assert content[q["start"] : q["end"]] == q["text"]
        assert q["chosen"] and all(
            0 <= s < e <= len(q["text"]) and q["text"][s:e].strip() for s, e in q["chosen"]
        )
    ranks = [q["rank"] for q in obj["quotes"]]
    assert not ranks or ranks[0] == max(ranks)  # the best ranked first (the rest in MMR order)


def test_one_shot_json(seeds_index: Path) -> None:
    result = run_cli(
        "-q",
        "Which bases did Russia keep?",
        "--json",
        "--explain",
        "-k",
        "4",
        "--index",
        str(seeds_index),
    )
    assert result.returncode == 0, result.stderr
    obj = json.loads(result.stdout)
    _check_contract(obj)
    assert obj["answered"] and 2 <= len(obj["quotes"]) <= 4
    assert len({q["document"] for q in obj["quotes"]}) >= 2
    assert {"dense_rank", "keyword_rank", "sentence_cosine", "lexical_coverage"} <= obj["quotes"][
        0
    ]["explain"].keys()


def test_stdin_batch_json_lines_and_abstention(seeds_index: Path) -> None:
    questions = "Who is Michael Kofman?\n\nWho won the 2018 World Cup?\nthe of and ???\n"
    result = run_cli("-q", "-", "--json", "--index", str(seeds_index), input=questions)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4  # one output line per input line, the blank one included
    first, blank, second, nothing = (json.loads(line) for line in lines)
    assert blank == {"question": "", "error": "the question is empty"}
    assert nothing["question"] == "the of and ???" and "nothing to search for" in nothing["error"]
    for obj in (first, second):
        _check_contract(obj)
    assert first["answered"] and "Carnegie" in first["quotes"][0]["text"]
    assert not second["answered"] and second["quotes"] == [] and second["closest"]
    assert second["message"] == "No passage in the 5 indexed articles answers this."


def test_piped_text_has_no_ansi_and_reads_stdin_without_a_prompt(seeds_index: Path) -> None:
    result = run_cli(
        "--index",
        str(seeds_index),
        input="Which bases did Russia keep?\n/k 1\nWhere did Assad seek asylum?\n",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (
        "\x1b[" not in out and out.splitlines()[0] == "Which bases did Russia keep?"
    )  # no "? " prompt
    assert (
        "Tartous" in out and "[1]" in out and "Sources" in out and "2016-03-15" in out
    )  # seeds/manifest.csv
    first, _, second = out.partition("Answers have up to 1 quote.")
    assert first.count("\n    — ") >= 2 and second.count("\n    — ") == 1  # /k 1 took effect
    assert "Assad has since sought asylum in Russia." in " ".join(second.replace("▌", " ").split())


def test_a_quote_is_shown_reflowed_one_line_per_paragraph() -> None:
    text = "  Russia kept\nthe base.\n\n\n  Tartous   stayed. "
    shown, where = reflow(text)
    assert shown == "Russia kept the base.\nTartous stayed."
    assert all(shown[where[i]] == ch for i, ch in enumerate(text) if where[i] >= 0)
    assert [where[i] for i in (0, 2, 23, 28)] == [-1, 0, -1, 22]


def test_missing_index(tmp_path: Path) -> None:
    missing = run_cli("-q", "anything", "--index", str(tmp_path / "nothing"))
    assert missing.returncode == 1 and missing.stdout == ""
    assert (
        len(missing.stderr.strip().splitlines()) == 1 and "assistant index PATH" in missing.stderr
    )


def test_bad_flags(capsys: pytest.CaptureFixture[str]) -> None:  # argparse's own path: in-process
    with pytest.raises(SystemExit) as exit_:
        main(["-q", "x", "-k", "0"])
    assert exit_.value.code == 2
    err = capsys.readouterr()
    assert (
        err.out == ""
        and err.err.startswith("usage:")
        and "-k: not a positive whole number: '0'" in err.err
    )


def test_a_quote_is_located_at_its_chosen_sentence_not_its_context(seeds_index: Path) -> None:
    result = run_cli(
        "-q",
        "Which bases did Russia keep?",
        "--source",
        "003",
        "--json",
        "--index",
        str(seeds_index),
    )
    obj = json.loads(result.stdout)
    content = Path(obj["sources"][0]["path"]).read_text(encoding="utf-8")

    def line(offset: int) -> str:
        return f"line {content.count(chr(10), 0, offset) + 1}"

    for q in obj["quotes"]:  # at one of the sentences it was chosen for, never at its context
        assert q["location"] in {line(q["start"] + s) for s, _ in q["chosen"]}
    answering = content.index("Russia is expected to maintain its naval base at Tartous")
    quote = next(q for q in obj["quotes"] if q["start"] <= answering < q["end"])
    assert quote["location"] == line(answering) == "line 15"


def test_piped_output_at_80_columns_is_clean(seeds_index: Path) -> None:
    result = run_cli(
        "-q",
        "Which bases did Russia keep?",
        "-k",
        "2",
        "--explain",
        "--index",
        str(seeds_index),
        env={"COLUMNS": "80"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines)  # no trailing spaces
    header = " ".join(lines[lines.index("Why these quotes") + 1 :][:3])
    for word in (
        "quote",
        "rank",
        "score",
        "cosine",
        "lexical",
        "matched",
        "passage",
        "dense",
        "keyword",
    ):
        assert re.search(rf"\b{word}\b", header), word  # never split mid-word
    assert "Sources by date" not in result.stdout  # the sources list dates them already


def test_each_sentence_is_printed_once(seeds_index: Path) -> None:
    result = run_cli(
        "-q",
        "Which bases did Russia keep?",
        "-k",
        "2",
        "--index",
        str(seeds_index),
        env={"COLUMNS": "80"},
    )
    shown = run_cli(
        "-q", "Which bases did Russia keep?", "-k", "2", "--index", str(seeds_index), "--json"
    )
    answer = json.loads(shown.stdout)
    flat = " ".join(" ".join(line.strip(" ▌“”") for line in result.stdout.splitlines()).split())
    quoted = [q["text"] for q in answer["quotes"]]
    sentences = [c["quote"]["text"] for c in answer["answer"]["candidates"]] + quoted
    assert any(sentences[0] in q for q in quoted)  # the line's sentence is quoted below it
    for sentence in sentences:  # ... and printed once
        assert flat.count(" ".join(sentence.split())) == 1, sentence
    assert len(result.stdout.splitlines()) < 45


def test_brief_prints_the_line_and_one_quote(seeds_index: Path) -> None:
    whole = run_cli("--index", str(seeds_index), "-q", "Where were the peace talks held?")
    short = run_cli(
        "--index", str(seeds_index), "-q", "Where were the peace talks held?", "--brief"
    )
    assert whole.returncode == short.returncode == 0
    assert short.stdout.splitlines()[0] == whole.stdout.splitlines()[0]  # the same answer first
    assert short.stdout.count("\n    — ") == 1 < whole.stdout.count("\n    — ")
    refused = run_cli("--index", str(seeds_index), "-q", "Who won the 2018 World Cup?", "--brief")
    assert refused.stdout.count("\n    — ") == 1 and "[2]" not in refused.stdout
