"""Shared fixtures: real Chroma in temp dirs, the real offline MiniLM (its ONNX export
made once and kept in .cache/test-onnx for later sessions), and no test ever touching
./index or the network."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session", autouse=True)
def _offline_session(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    cache = tmp_path_factory.mktemp("cache")
    os.environ["ASSISTANT_CACHE"] = str(cache)
    # The embedding model's ONNX export is kept between test sessions (it is written atomically,
    # under a temporary name renamed into place): the rest of the cache (REPL history) is fresh.
    kept = ROOT / ".cache" / "test-onnx"
    kept.mkdir(parents=True, exist_ok=True)
    (cache / "onnx").symlink_to(kept, target_is_directory=True)
    os.environ.pop("ASSISTANT_CHROMA_URL", None)
    os.environ.pop("ASSISTANT_MODEL", None)
    # Named entities cost each fresh worker ~3 s of loading spaCy: tests of plumbing index
    # without them; the seeds index below and tests/test_entities.py use the real model.
    os.environ["ASSISTANT_ENTITIES"] = "off"


@pytest.fixture(autouse=True)
def _index_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    index = tmp_path / "index"
    monkeypatch.setenv("ASSISTANT_INDEX", str(index))
    return index


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the five seeds, built once; tests must only read it."""
    from assistant import Library
    from assistant.entities import DEFAULT_MODELS

    index = tmp_path_factory.mktemp("seeds") / "index"
    with Library(index, entities=DEFAULT_MODELS[0]) as lib:
        lib.add([SEEDS])
    return index


@pytest.fixture
def seeds_lib(seeds_index: Path):  # type: ignore[no-untyped-def]
    from assistant import Library

    lib = Library(seeds_index)
    yield lib
    lib.close()


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    target = tmp_path / "articles"
    shutil.copytree(SEEDS, target)
    return target


def run_cli(
    *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: int = 300
):  # type: ignore[no-untyped-def]
    """The CLI as a user runs it: a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


# `make test-fast` leaves these out: servers, killed processes, worker pools, cold subprocess
# starts and the benchmarks' own checks. CI runs everything (`make test`).
_SLOW_MODULES = {
    "test_bench",
    "test_server",
    "test_reliability",
    "test_fuzz",
    "test_workers",
    "test_indexer_workers",
    "test_network",
    "test_mcp",
}


# and these single tests, each a cold start of its own (a model export, a fresh interpreter).
_SLOW_TESTS = {
    "test_the_first_index_says_it_prepares_the_model",
    "test_library_example_runs",
    "test_cli_index_reports_and_noop_is_cheap",
    "test_reading_never_imports_torch",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module is not None else ""
        if module in _SLOW_MODULES or item.name in _SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
