"""No network by default: indexing and answering run in a subprocess whose sockets may
reach loopback only (a sitecustomize patches ``socket``), with the offline and telemetry
switches the test suite sets taken away, so nothing but the code's own defaults keeps it
off the network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT, SEEDS

GUARD = """
import os, socket

_LOG = os.environ["NETWORK_GUARD_LOG"]
_LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")


def _local(host):
    return host is None or str(host).startswith(_LOOPBACK) or str(host) == "::1"


def _refuse(what):
    with open(_LOG, "a") as log:
        log.write(repr(what) + "\\n")
    raise OSError(101, f"network blocked by the test: {what!r}")


def _guard(original):
    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            _refuse(address)
        return original(self, address)
    return connect


socket.socket.connect = _guard(socket.socket.connect)
socket.socket.connect_ex = _guard(socket.socket.connect_ex)
_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, *args, **kwargs):
    if not _local(host):
        _refuse(("dns", host))
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = getaddrinfo
"""


def guarded(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    guard = tmp_path / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "ANONYMIZED_TELEMETRY")
    }
    env.update(PYTHONPATH=str(guard), NETWORK_GUARD_LOG=str(tmp_path / "attempts.log"))
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )


def test_the_guard_blocks_the_outside_world(tmp_path: Path) -> None:
    result = guarded(
        tmp_path, "-c", "import socket; socket.create_connection(('192.0.2.1', 443), timeout=2)"
    )
    assert result.returncode != 0 and "network blocked by the test" in result.stderr
    assert (tmp_path / "attempts.log").exists()


def test_indexing_and_answering_need_no_network(tmp_path: Path, seeds_index: Path) -> None:
    # seeds_index made the model's ONNX export in this session's cache: the export is
    # covered by the embedder's own tests; here the everyday path is.
    index = str(tmp_path / "index")
    built = guarded(tmp_path, "-m", "assistant", "index", str(SEEDS), "--index", index)
    assert built.returncode == 0, built.stderr
    asked = guarded(
        tmp_path, "-m", "assistant", "-q", "Which bases did Russia keep?", "--index", index
    )
    assert asked.returncode == 0, asked.stderr
    assert "Tartus" in asked.stdout or "Khmeimim" in asked.stdout
    attempts = tmp_path / "attempts.log"
    assert not attempts.exists(), attempts.read_text()
