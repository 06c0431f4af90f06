"""Commands a user types that had no test of their own: `assistant remove` and the REPL's /index."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from rich.console import Console

from assistant import Library
from assistant.ask import Settings
from assistant.cli import main
from assistant.repl import plain

from .conftest import run_cli


def test_remove_through_the_cli(seeds_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(seeds_index, index)
    done = run_cli(
        "remove", "seeds/001_f252c9510e71f429.txt", "seeds/nope.txt", "--index", str(index)
    )
    assert done.returncode == 1  # one id was not indexed
    assert done.stdout.splitlines() == [
        "removed seeds/001_f252c9510e71f429.txt",
        "not indexed: seeds/nope.txt",
    ]
    with Library(index) as lib:
        assert len(lib.documents()) == 4 and lib.store.count() == lib.catalog.count_chunks()


def test_remove_on_a_missing_index_creates_nothing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    index = tmp_path / "none"
    assert main(["remove", "a.txt", "--index", str(index)]) == 1
    assert "no index at" in capsys.readouterr().err and not index.exists()


def test_index_with_no_path_on_a_new_index_says_there_is_nothing_to_refresh(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    index = tmp_path / "new"
    assert main(["index", "--index", str(index)]) == 2
    assert "nothing to refresh" in capsys.readouterr().err and not index.exists()


def test_the_repl_switches_index_and_keeps_the_old_one_on_a_bad_path(
    seeds_index: Path, tmp_path: Path
) -> None:
    buffer = io.StringIO()
    out = Console(file=buffer, width=100, color_system=None, highlight=False)
    lib = Library(tmp_path / "missing")
    lines = [f"/index {tmp_path / 'missing-too'}", "/index", f"/index {seeds_index}", "/sources"]
    plain(lib, Settings(), lines, out=out)
    text = buffer.getvalue()
    assert "error: no index at" in text
    assert f"Index: {seeds_index} (5 articles)" in text
    assert "seeds/003_e5a73f4839f377ea.txt" in text


def test_dates_that_do_not_exist_are_usage_errors(capsys) -> None:  # type: ignore[no-untyped-def]
    for flag, value in (
        ("--as-of", "2020-13-01"),
        ("--since", "2021-02-29"),
        ("--until", "2020-00"),
    ):
        try:
            main(["-q", "x", flag, value])
        except SystemExit as exc:
            assert exc.code == 2
        else:
            raise AssertionError(f"{flag} {value} was accepted")
        assert f"not a date: '{value}'" in capsys.readouterr().err
