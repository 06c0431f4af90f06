"""Docs that cannot drift: the README's CLI reference is the real --help output, and its
library example runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, SEEDS

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = ["", "index", "sources", "remove"]


def help_text(command: str) -> str:
    args = [sys.executable, "-m", "assistant", *([command] if command else []), "--help"]
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout


def reference() -> str:
    """The CLI reference block as the README should hold it (regenerate with
    ``python -c "from tests.test_docs import reference; print(reference())"``)."""
    parts = [f"$ assistant {c + ' ' if c else ''}--help\n{help_text(c)}" for c in COMMANDS]
    return "```text\n" + "\n".join(parts) + "```"


def test_cli_reference_is_the_real_help() -> None:
    assert reference() in README, "README's CLI reference is stale; regenerate it (see reference())"


def test_library_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = re.search(r"## Library\n.*?```python\n(.*?)```", README, re.S)
    assert block, "README has a Library section with a python example"
    (tmp_path / "seeds").symlink_to(SEEDS)
    monkeypatch.chdir(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", block.group(1)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "Tartous" in out.stdout or "Tartus" in out.stdout
