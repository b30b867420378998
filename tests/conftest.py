"""Shared fixtures: the sample issue indexed once per session, and live `newsqa serve` servers."""

from __future__ import annotations

import os
import re
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
SETTINGS_PREFIX = "NEWSQA_"  # every setting newsqa reads from the environment starts so (README)


# ---------------------------------------------------------------------- settings
def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any NEWSQA_* setting, plus ``extra``: for subprocesses.

    A NEWSQA_LLM_URL, NEWSQA_PRECISION, NEWSQA_THREADS or NEWSQA_INDEX of the shell that runs the
    tests must not reach a server or a CLI run (int8 alone drops a quality floor); a test that
    wants a setting passes it here.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIX)}
    env.update(HF_HUB_OFFLINE="1")
    env.update(extra)
    return env


def _drop_settings() -> dict[str, str]:
    return {k: os.environ.pop(k) for k in [k for k in os.environ if k.startswith(SETTINGS_PREFIX)]}


@pytest.fixture(scope="session", autouse=True)
def _no_settings_for_the_session():
    """No NEWSQA_* setting from the shell reaches the session's indexes and servers (set up first)."""
    saved = _drop_settings()
    yield
    _drop_settings()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _no_settings_in_a_test():
    """Each test starts without NEWSQA_* settings, and one a test (or an in-process `newsqa`
    command, which writes --threads and --precision there) leaves behind is dropped after it."""
    _drop_settings()
    yield
    _drop_settings()


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
                         capture_output=True, text=True, timeout=600, env=clean_env())
    assert run.returncode == 0, run.stderr
    return directory


@pytest.fixture(scope="session")
def archive_index_dir(gallery_index_dir, tmp_path_factory) -> Path:
    """The gallery index plus a distractor archive of ~2,000 real 人民日报 paragraphs (bench/distractors.py)."""
    base = tmp_path_factory.mktemp("archive")
    issues = base / "issues"
    built = subprocess.run([sys.executable, str(ROOT / "bench" / "distractors.py"), str(issues), "--paragraphs", "2000"],
                           capture_output=True, text=True, timeout=300, env=clean_env())
    assert built.returncode == 0, built.stderr
    directory = copy_index(gallery_index_dir, base / "index")
    run = subprocess.run([*newsqa_command(), "index", "--index-dir", str(directory), *map(str, sorted(issues.glob("*.txt")))],
                         capture_output=True, text=True, timeout=1200, env=clean_env())
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
    """A TCP port on 127.0.0.1 that is free right now, and may be taken by anyone a moment later:
    for a port that must stay dead use ``dead_port``; a server is best started on port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def dead_port() -> int:
    """A port on 127.0.0.1 where a connection is refused for the whole test: it is held bound by
    this fixture and never listened on, so no other process can start serving on it meanwhile."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


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


def start_server(index_dir: Path, log: Path, token: str | None = None, sample: bool = True,
                 store: str | None = None) -> LiveServer:
    """Start `newsqa serve` on a port the kernel picks (--port 0) and wait until it answers there.

    The port is read from the line the server prints once it listens: no port is picked free,
    released and then hoped to be still free when the server binds it.

    Args:
        index_dir: the index directory to serve.
        log: file receiving the server's stdout and stderr.
        token: NEWSQA_TOKEN for the server (None: unset, writes from loopback only).
        sample: let the server index the bundled sample when the index is empty.
        store: a store URI to serve instead of ``index_dir`` (``--store``, e.g. milvus://127.0.0.1:PORT).
    """
    import httpx

    env = clean_env(GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    if token:
        env["NEWSQA_TOKEN"] = token
    where = ["--store", store] if store else ["--index-dir", str(index_dir)]
    cmd = newsqa_command() + ["serve", *where, "--host", "127.0.0.1", "--port", "0"]
    if not sample:
        cmd.append("--no-sample")
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=log.parent)
    server = LiveServer("", index_dir, token, log, process)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"newsqa serve exited with {process.returncode}:\n{server.output()}")
        found = re.search(r"chat at (http://127\.0\.0\.1:\d+)/", server.output())
        if found:
            server.url = found.group(1)
            try:
                if httpx.get(f"{server.url}/api/health", timeout=2).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
        time.sleep(0.3)  # polling interval, not synchronisation
    server.stop()
    pytest.fail(f"newsqa serve did not answer within {SERVER_START_TIMEOUT:.0f} s:\n{server.output()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    """One `newsqa serve` for the session with NEWSQA_TOKEN set, started on an empty index directory
    as on a fresh machine: it indexes the bundled sample before it answers.

    Tests that add issues to it remove them again; none counts on the sample being the only issue
    (a leftover of one failed test must not fail the others).
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
