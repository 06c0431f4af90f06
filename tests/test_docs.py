"""Docs that cannot drift: the README stays a first page, every relative link in it and in
docs/ resolves, every long option it names is one that `--help` lists (the CLI reference is
`--help` itself), and its library example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from .conftest import ROOT, SEEDS, run_cli

README_FILE = ROOT / "README.md"
README = README_FILE.read_text(encoding="utf-8")
DOCS = sorted((ROOT / "docs").glob("*.md"))
MAX_README_BYTES = 10_240
COMMANDS = ["", "index", "sources", "remove", "mcp"]

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def links(page: Path) -> list[str]:
    """The targets of a page's Markdown links, code blocks left out."""
    return LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8")))


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(h) for h in re.findall(r"^#+\s+(.+)$", text, re.M)}


def test_readme_is_a_first_page() -> None:
    size = len(README.encode("utf-8"))
    assert size <= MAX_README_BYTES, f"README.md is {size} bytes; move detail into docs/"


def resolves(page: Path, target: str) -> bool:
    """Whether a relative link of ``page`` names a file that exists (and, into a Markdown
    file, one of its headings); links with a scheme (https:, mailto:) are not checked."""
    if re.match(r"[a-z][a-z0-9+.-]*:", target):
        return True
    path, _, anchor = target.partition("#")
    file = (page.parent / unquote(path)).resolve() if path else page
    if not file.exists():
        return False
    return not anchor or file.suffix != ".md" or anchor in anchors(file)


@pytest.mark.parametrize("page", [README_FILE, *DOCS], ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    broken = [target for target in links(page) if not resolves(page, target)]
    assert not broken, f"{page.name} links to what does not exist: {broken}"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in links(README_FILE)}
    assert [p.name for p in DOCS if p.resolve() not in linked] == []


@pytest.fixture(scope="module")
def listed_options() -> set[str]:
    """Every long option `assistant --help` and its subcommands' `--help` list."""
    options: set[str] = set()
    for command in COMMANDS:
        out = run_cli(*([command] if command else []), "--help", timeout=60)
        assert out.returncode == 0, out.stderr
        options |= set(OPTION.findall(out.stdout))
    return options


def test_readme_names_only_real_options(listed_options: set[str]) -> None:
    named = set(OPTION.findall(README))
    assert "--json" in named
    assert named - listed_options == set(), "README names options that --help does not list"


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
