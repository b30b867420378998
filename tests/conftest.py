"""Shared fixtures: the sample issue indexed once per session, and live `newsqa serve` servers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "qa" / "samples" / "zjrb-2023-08-01.txt"
SERVER_TOKEN = "test-token-0123456789"
SERVER_START_TIMEOUT = 180.0


# ---------------------------------------------------------------------- index
@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory) -> Path:
    """An index directory holding the bundled sample issue, built once per session.

    Read it freely; to write, copy it first (``index_copy`` / ``copy_index``).
    """
    from qa.index import NewsIndex

    directory = tmp_path_factory.mktemp("sample-index")
    with NewsIndex(directory) as index:
        index.add(SAMPLE)
    return directory


DATA = ROOT / "tests" / "data"
# The development set's questions are about the sample issue and these gallery files.
GALLERY = ["zjrb-2023-08-01.txt", "multipage-2024-03-05.txt", "gbk-2022-11-11.txt", "issue.html", "weekly.md"]


@pytest.fixture(scope="session")
def gallery_index_dir(tmp_path_factory) -> Path:
    """An index of the sample issue and the test gallery (what the question sets ask about)."""
    directory = tmp_path_factory.mktemp("gallery-index")
    run = subprocess.run([*newsqa_command(), "index", "--index-dir", str(directory), *(str(DATA / f) for f in GALLERY)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return directory


@pytest.fixture(scope="session")
def archive_index_dir(gallery_index_dir, tmp_path_factory) -> Path:
    """The gallery index plus a distractor archive of ~2,000 real 人民日报 paragraphs (bench/distractors.py)."""
    base = tmp_path_factory.mktemp("archive")
    issues = base / "issues"
    built = subprocess.run([sys.executable, str(ROOT / "bench" / "distractors.py"), str(issues), "--paragraphs", "2000"],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    directory = copy_index(gallery_index_dir, base / "index")
    run = subprocess.run([*newsqa_command(), "index", "--index-dir", str(directory), *map(str, sorted(issues.glob("*.txt")))],
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr
    return directory


def copy_index(source: Path, target: Path) -> Path:
    """Copy an index directory (for tests that write to it); the write lock file is not copied."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("write.lock"))
    return target


@pytest.fixture()
def index_copy(sample_index_dir, tmp_path) -> Path:
    """A private, writable copy of the sample index directory."""
    return copy_index(sample_index_dir, tmp_path / "index")


# ---------------------------------------------------------------------- live server
def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def newsqa_command() -> list[str]:
    """The `newsqa` console script of this interpreter's environment (or ``python -m qa.cli``)."""
    script = Path(sys.executable).with_name("newsqa")
    return [str(script)] if script.exists() else [sys.executable, "-m", "qa.cli"]


@dataclass
class LiveServer:
    """A `newsqa serve` subprocess on 127.0.0.1."""

    url: str  # base URL, no trailing slash
    index_dir: Path
    token: str | None
    log: Path
    process: subprocess.Popen

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header for writes."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(index_dir: Path, log: Path, token: str | None = None, sample: bool = True) -> LiveServer:
    """Start `newsqa serve` on a free port and wait until /api/health answers.

    Args:
        index_dir: the index directory to serve.
        log: file receiving the server's stdout and stderr.
        token: NEWSQA_TOKEN for the server (None: unset, writes from loopback only).
        sample: let the server index the bundled sample when the index is empty.
    """
    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "NEWSQA_TOKEN"}
    env.update(HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    if token:
        env["NEWSQA_TOKEN"] = token
    cmd = newsqa_command() + ["serve", "--index-dir", str(index_dir), "--host", "127.0.0.1", "--port", str(port)]
    if not sample:
        cmd.append("--no-sample")
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=log.parent)
    server = LiveServer(f"http://127.0.0.1:{port}", index_dir, token, log, process)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"newsqa serve exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/api/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.stop()
    pytest.fail(f"newsqa serve did not answer within {SERVER_START_TIMEOUT:.0f} s:\n{server.output()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    """One `newsqa serve` for the session with NEWSQA_TOKEN set, started on an empty index directory
    as on a fresh machine: it indexes the bundled sample before it answers.

    Tests that add issues to it remove them again, so the sample stays the only issue.
    """
    base = tmp_path_factory.mktemp("live-server")
    server = start_server(base / "index", base / "server.log", token=SERVER_TOKEN, sample=True)
    yield server
    server.stop()


# ---------------------------------------------------------------------- generative endpoint
@pytest.fixture
def llm(monkeypatch):
    """A local chat-completions server whose replies the test scripts (see tests/fake_llm.py)."""
    from fake_llm import serve_fake_llm

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)  # requests to 127.0.0.1 must not go through a proxy
    with serve_fake_llm() as server:
        yield server
