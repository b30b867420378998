"""Tests of the index: add, re-add, replace, remove, crash safety, concurrent reads (real model, SQLite, FAISS)."""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import copy_index
from qa.errors import IndexMismatchError, InputError
from qa.index import DB_NAME, NewsIndex, check_date, issue_key, stable_id
from qa.parse import parse_issue

SAMPLE = Path(__file__).resolve().parent.parent / "qa" / "samples" / "zjrb-2023-08-01.txt"
NEWSQA = [sys.executable, "-m", "qa.cli"]


def _variant(directory: Path, date: str, edit: str | None = None) -> Path:
    """A copy of the sample as another day's issue, optionally with one paragraph edited."""
    text = SAMPLE.read_text(encoding="utf-8")
    if edit:
        text = text.replace("7月3日,浙江电网用电负荷突破1亿千瓦", edit)
    path = directory / f"zjrb-{date}.txt"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory) -> Path:
    """An index holding the sample issue, built once for this module (copy it before writing)."""
    directory = tmp_path_factory.mktemp("index")
    with NewsIndex(directory) as index:
        index.add(SAMPLE)
    return directory


@pytest.fixture()
def index_copy(sample_index, tmp_path) -> NewsIndex:
    target = tmp_path / "index"
    shutil.copytree(sample_index, target)
    index = NewsIndex(target)
    yield index
    index.close()


def _consistent(directory: Path) -> dict:
    """Check an index directory the way a crash could have broken it; return its issue counts."""
    with NewsIndex(directory) as index:
        assert index.verify() == {"missing": [], "orphans": []}
        db = index.db
        for issue_id, n in db.execute("SELECT issue_id, paragraphs FROM issues"):
            assert db.execute("SELECT count(*) FROM paragraphs WHERE issue_id=?", (issue_id,)).fetchone()[0] == n
        n_par = db.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
        assert db.execute("SELECT count(*) FROM paragraphs_fts").fetchone()[0] == n_par
        assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] >= n_par
        if n_par:
            assert index.keyword_search("浙江电网用电负荷", 3)
        return {row["issue_id"]: row["paragraphs"] for row in index.issues()}


class TestIds:
    def test_stable_id_is_deterministic_and_positive(self):
        assert stable_id("zjrb-2023-08-01", "abc", 1) == stable_id("zjrb-2023-08-01", "abc", 1)
        assert stable_id("zjrb-2023-08-01", "abc", 1) != stable_id("zjrb-2023-08-01", "abc", 2)
        assert 0 < stable_id("x") < 2**63

    def test_issue_key_from_paper_date_and_page(self):
        issue = parse_issue(SAMPLE)
        assert issue_key(issue) == f"{issue.paper}-2023-08-01"
        issue.page = "01"
        assert issue_key(issue).endswith("-p01")

    def test_check_date(self):
        assert check_date("2023-08-01") == "2023-08-01"
        for bad in ("2023-13-01", "2023/08/01", "yesterday", "2023-8-1"):
            with pytest.raises(InputError):
                check_date(bad)


class TestNewsIndex:
    def test_add_stores_every_paragraph(self, sample_index):
        issue = parse_issue(SAMPLE)
        with NewsIndex(sample_index, readonly=True) as index:
            [row] = index.issues()
            assert row["date"] == "2023-08-01"
            assert row["paragraphs"] == len(issue.paragraphs) >= 40
            stats = index.stats()
            assert stats["paragraphs"] == len(issue.paragraphs)
            assert stats["vectors"] >= stats["paragraphs"]
            assert stats["model"] and stats["dim"] > 0

    def test_readd_unchanged_does_no_work(self, index_copy):
        before = index_copy.stats()["vector_file"]
        result = index_copy.add(SAMPLE)
        assert result.status == "unchanged" and result.embedded == 0
        assert index_copy.stats()["vector_file"] == before

    def test_the_same_file_parsed_into_other_paragraphs_is_replaced(self, sample_index, tmp_path):
        """An index written by an older parser (no 副题 paragraphs) is brought up to date by indexing
        the same file again; the stored count stands for what that parser made of it."""
        directory = copy_index(sample_index, tmp_path / "older")
        with sqlite3.connect(directory / DB_NAME) as db:
            db.execute("UPDATE issues SET paragraphs = paragraphs - 1")
        with NewsIndex(directory) as index:
            result = index.add(SAMPLE)
            assert result.status == "replaced" and result.embedded == 0  # the same paragraphs reuse vectors
            assert index.stats()["paragraphs"] == len(parse_issue(SAMPLE).paragraphs) == result.paragraphs

    def test_corrected_file_replaces_exactly_that_issue(self, index_copy, tmp_path):
        other = index_copy.add(_variant(tmp_path, "2023-08-02"))
        assert other.status == "added" and other.embedded == 0  # identical paragraphs reuse vectors
        fixed = _variant(tmp_path, "2023-08-01", edit="7月4日,浙江电网用电负荷首次突破1亿千瓦")
        result = index_copy.add(fixed)
        assert result.status == "replaced"
        assert 1 <= result.embedded <= 3  # only the edited paragraph's windows
        hits = index_copy.keyword_search("首次突破", 5, date_from="2023-08-01", date_to="2023-08-01")
        assert hits
        meta = index_copy.passages([pid for pid, _ in hits])
        assert any("7月4日" in m["text"] for m in meta.values())
        # the old paragraph is gone from that issue, the other issue still has it
        old = index_copy.keyword_search("7月3日 浙江电网", 10)
        dates = {m["date"] for m in index_copy.passages([pid for pid, _ in old]).values() if "7月3日" in m["text"]}
        assert dates == {"2023-08-02"}
        assert _consistent(index_copy.dir) == {"zjrb-2023-08-01": result.paragraphs, "zjrb-2023-08-02": other.paragraphs}

    def test_remove(self, index_copy):
        [row] = index_copy.issues()
        assert index_copy.remove(row["issue_id"]) is True
        assert index_copy.issues() == []
        assert index_copy.remove(row["issue_id"]) is False
        assert index_copy.vectors().ntotal == 0
        assert index_copy.keyword_search("浙江电网", 5) == []

    def test_filters_apply_inside_search(self, index_copy, tmp_path):
        index_copy.add(_variant(tmp_path, "2023-09-01"), paper="other")
        qvec = index_copy.encoder.encode_queries(["浙江电网用电负荷哪天突破1亿千瓦"])[0]
        only_other = index_copy.dense_search(qvec, 10, paper="other")
        assert len(only_other) == 10
        dates = {m["date"] for m in index_copy.passages([p for p, _ in only_other]).values()}
        assert dates == {"2023-09-01"}
        assert index_copy.dense_search(qvec, 5, date_from="2024-01-01") == []
        kw = index_copy.keyword_search("电网", 10, date_to="2023-08-31")
        assert kw and {m["date"] for m in index_copy.passages([p for p, _ in kw]).values()} == {"2023-08-01"}

    def test_other_model_is_a_clear_error(self, index_copy):
        with index_copy.db:
            index_copy.db.execute("UPDATE meta SET value='some/other-model' WHERE key='model'")
        reopened = NewsIndex(index_copy.dir)
        with pytest.raises(IndexMismatchError, match="other-model"):
            reopened.encoder  # noqa: B018

    def test_repair_reembeds_missing_and_drops_orphans(self, index_copy):
        index = index_copy.vectors().copy()
        ids = index.ids()
        index.remove(ids[:3])
        index.add(np.asarray([12345], dtype=np.int64), np.ones((1, index.dim), dtype=np.float32) / np.sqrt(index.dim))
        name = index_copy.stats()["vector_file"]
        index.save(index_copy.dir / name)
        reopened = NewsIndex(index_copy.dir)
        report = reopened.verify()
        assert len(report["missing"]) == 3 and report["orphans"] == [12345]
        with reopened.writer():
            pass
        assert reopened.verify() == {"missing": [], "orphans": []}

    def test_a_killed_writes_temporary_vector_file_is_cleaned_by_the_next_write(self, index_copy, tmp_path):
        # What a write killed inside VectorIndex.save leaves: a temporary file as large as the index.
        name = index_copy.stats()["vector_file"]
        leftover = index_copy.dir / f"{name}.tmp-k1ll3d"
        shutil.copyfile(index_copy.dir / name, leftover)
        index_copy.add(_variant(tmp_path, "2023-08-09"))
        assert not leftover.exists()
        assert not [p.name for p in index_copy.dir.iterdir() if ".tmp-" in p.name]

    def test_vector_files_and_database_have_one_file_mode(self, index_copy, tmp_path):
        index_copy.add(_variant(tmp_path, "2023-08-10"))
        modes = {p.name: p.stat().st_mode & 0o777 for p in index_copy.dir.iterdir()
                 if p.name == DB_NAME or p.name.startswith("vectors-")}
        assert len(modes) >= 2 and len(set(modes.values())) == 1, {k: oct(v) for k, v in modes.items()}

    def test_a_write_appends_to_the_vector_log_instead_of_rewriting_the_index(self, index_copy, tmp_path):
        before = index_copy.stats()
        snapshot = index_copy.dir / before["vector_file"]
        size, mtime = snapshot.stat().st_size, snapshot.stat().st_mtime_ns
        result = index_copy.add(_variant(tmp_path, "2023-08-11", edit="7月4日,浙江电网用电负荷首次突破1亿千瓦"))
        after = index_copy.stats()
        assert after["vector_file"] == before["vector_file"]  # the snapshot is not written again
        assert (snapshot.stat().st_size, snapshot.stat().st_mtime_ns) == (size, mtime)
        # The log holds what changed: one record of the new windows (id + 384 floats each).
        added = after["vectors"] - before["vectors"]
        assert added >= result.paragraphs
        assert added * (8 + 4 * index_copy.vectors().dim) <= after["vector_log_bytes"] < added * (8 + 4 * 384) + 200
        # Another process (a fresh open) replays the log and sees the same vectors.
        with NewsIndex(index_copy.dir, readonly=True) as reader:
            assert reader.verify() == {"missing": [], "orphans": []}
            assert len(reader.vectors()) == after["vectors"]
        removed = index_copy.remove("zjrb-2023-08-11")
        assert removed and index_copy.stats()["vector_file"] == before["vector_file"]
        assert _consistent(index_copy.dir) == {"zjrb-2023-08-01": before["paragraphs"]}

    def test_compact_folds_the_log_into_a_new_snapshot(self, index_copy, tmp_path, monkeypatch):
        index_copy.add(_variant(tmp_path, "2023-08-12", edit="7月5日,浙江电网用电负荷再次突破1亿千瓦"))
        logged = index_copy.stats()
        assert logged["vector_log_bytes"] > 0
        out = subprocess.run([*NEWSQA, "compact", "--index-dir", index_copy.dir, "--json"], capture_output=True,
                             text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["folded_log_bytes"] == logged["vector_log_bytes"]
        with NewsIndex(index_copy.dir, readonly=True) as reader:
            stats = reader.stats()
            assert stats["vector_file"] != logged["vector_file"] and stats["vector_log_bytes"] == 0
            assert len(reader.vectors()) == logged["vectors"]
            assert reader.verify() == {"missing": [], "orphans": []}
        # A write folds the log by itself once it outgrows its bound.
        import qa.index

        monkeypatch.setattr(qa.index, "LOG_COMPACT_MIN_BYTES", 1)
        monkeypatch.setattr(qa.index, "LOG_COMPACT_FRACTION", 0.0)
        reopened = NewsIndex(index_copy.dir)
        reopened.add(_variant(tmp_path, "2023-08-13", edit="7月6日,浙江电网用电负荷又一次突破1亿千瓦"))
        assert reopened.stats()["vector_log_bytes"] == 0 and reopened.stats()["vector_file"] != stats["vector_file"]
        reopened.close()

    def test_readonly_missing_index_is_a_clear_error(self, tmp_path):
        from qa.errors import NewsQAError

        with pytest.raises(NewsQAError, match="no index"):
            NewsIndex(tmp_path / "nothing", readonly=True)


class TestIndexCommand:
    def _run(self, *args, env=None, **kw):
        return subprocess.run([*NEWSQA, *map(str, args)], capture_output=True, text=True,
                              env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}, **kw)

    def test_bad_files_are_skipped_and_the_rest_indexed(self, tmp_path):
        good = _variant(tmp_path, "2023-08-05")
        (tmp_path / "binary-2023-08-06.txt").write_bytes(bytes(range(256)) * 8)
        (tmp_path / "empty-2023-08-07.txt").write_text("   \n\n", encoding="utf-8")
        out = self._run("index", tmp_path, "--index-dir", tmp_path / "idx", "-q")
        assert out.returncode == 1
        assert "binary-2023-08-06.txt" in out.stderr and "empty-2023-08-07.txt" in out.stderr
        assert "Traceback" not in out.stderr
        assert "1 added" in out.stdout
        listing = self._run("list", "--index-dir", tmp_path / "idx", "--json")
        assert good.stem in listing.stdout

    def test_missing_path_and_bad_date(self, tmp_path):
        out = self._run("index", tmp_path / "nope.txt", "--index-dir", tmp_path / "idx")
        assert out.returncode == 1 and "no such file" in out.stderr
        out = self._run("index", SAMPLE, "--date", "2023-02-30", "--index-dir", tmp_path / "idx")
        assert out.returncode == 2 and "not a date" in out.stderr and "Traceback" not in out.stderr


    def test_model_settings_are_applied_and_reported(self, tmp_path):
        out = self._run("index", SAMPLE, "--index-dir", tmp_path / "idx", "-q", "--json",
                        "--threads", "1", "--precision", "fp32", "--batch-size", "8")
        assert out.returncode == 0, out.stderr
        summary = json.loads(out.stdout)
        assert summary["added"] == 1 and summary["embedded"] >= summary["paragraphs"] > 0
        assert (summary["engine"], summary["threads"], summary["batch_size"]) == ("torch-fp32", 1, 8)

    def test_bad_model_settings_are_one_line_errors(self, tmp_path):
        out = self._run("index", SAMPLE, "--index-dir", tmp_path / "idx", "--threads", "0")
        assert out.returncode == 2 and "--threads" in out.stderr
        out = self._run("index", SAMPLE, "--index-dir", tmp_path / "idx", "--model", "no-such-model")
        assert out.returncode == 2 and "unknown embedding model" in out.stderr and "Traceback" not in out.stderr
        out = self._run("index", SAMPLE, "--index-dir", tmp_path / "idx2", env={"NEWSQA_PRECISION": "fp8"})
        assert out.returncode == 2 and "precision" in out.stderr and "Traceback" not in out.stderr


# A writer that stops after each os.fsync and os.replace of a write (all of which come before its
# SQLite commit) until told "go" on stdin: the test can kill it there, inside the write, every time.
_PAUSING_WRITER = r"""
import os, sys
from pathlib import Path

real_fsync, real_replace = os.fsync, os.replace

def pause(what):
    sys.stdout.write(what + "\n")
    sys.stdout.flush()
    if sys.stdin.readline() != "go\n":
        os._exit(3)

def fsync(fd):
    real_fsync(fd)
    pause("fsync")

def replace(src, dst, *args, **kwargs):
    real_replace(src, dst, *args, **kwargs)
    pause("replace " + os.path.basename(str(dst)))

os.fsync, os.replace = fsync, replace

from qa.index import NewsIndex
from qa.parse import parse_issue

with NewsIndex(sys.argv[1]) as index:
    print("ready", flush=True)
    # One write per issue, as a small batch would be: several writes to kill inside.
    index.add_many([parse_issue(Path(f)) for f in sys.argv[2:]], batch_paragraphs=1)
print("done", flush=True)
"""


class TestCrashSafety:
    """Kill -9 a writer inside its writes (and at random moments); the index must open and hold
    whole issues only, and every write that did commit must still be there."""

    def test_kill_inside_writes(self, tmp_path):
        index_dir = tmp_path / "idx"
        with NewsIndex(index_dir) as index:
            index.add(SAMPLE)
        expected = {"zjrb-2023-08-01": len(parse_issue(SAMPLE).paragraphs)}
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        rng = random.Random(20230801)
        files: list[Path] = []
        mid_write, rounds = 0, 8
        for round_ in range(rounds):
            new = []
            for n in range(2):  # different text per issue, so that every issue really embeds
                day = 2 + 2 * round_ + n
                text = SAMPLE.read_text(encoding="utf-8").replace("浙江", f"浙江{day}号")
                path = tmp_path / f"zjrb-2023-{8 + day // 28:02d}-{1 + day % 28:02d}.txt"
                path.write_text(text, encoding="utf-8")
                new.append(path)
                expected[issue_key(parse_issue(path))] = len(parse_issue(path).paragraphs)
            files += new
            before = _consistent(index_dir)
            # Each issue is one write with at least one pause (its vector log fsynced; a new
            # snapshot: temporary file fsynced, renamed, directory fsynced). Round 0 kills at random.
            target = 0 if round_ == 0 else rng.randint(1, 2)
            proc = subprocess.Popen([sys.executable, "-c", _PAUSING_WRITER, str(index_dir), *map(str, new)],
                                    env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
            pauses, killed_inside = 0, False
            for line in proc.stdout:
                if line.startswith("ready") and target == 0:
                    time.sleep(rng.uniform(0.0, 2.0))  # somewhere in the embedding or the write
                    break
                if line.startswith(("fsync", "replace")):
                    pauses += 1
                    if pauses == target:
                        killed_inside = True
                        break
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
            proc.kill()
            proc.wait(timeout=60)
            mid_write += killed_inside
            issues = _consistent(index_dir)
            assert set(before) <= set(issues), "a committed issue was lost"
            for issue_id, n in issues.items():  # every stored issue is whole
                assert n == expected[issue_id], (issue_id, n)
        assert mid_write >= 5, f"only {mid_write} of {rounds} kills landed inside a write"
        final = subprocess.run([sys.executable, "-m", "qa.cli", "index", *map(str, files), "--index-dir", index_dir,
                                "-q"], env=env, capture_output=True, text=True)
        assert final.returncode == 0, final.stderr
        assert _consistent(index_dir) == expected
        assert not [p.name for p in index_dir.iterdir() if ".tmp-" in p.name]


class _GatedEncoder:
    """The writer's encoder, except that each passage batch waits until the test lets it through:
    the test reads the index at a known point inside each write (before its commit)."""

    def __init__(self, encoder):
        self._encoder = encoder
        self.calls: queue.Queue[threading.Event] = queue.Queue()

    def encode_passages(self, *args, **kwargs):
        go = threading.Event()
        self.calls.put(go)
        assert go.wait(120), "the test never let the write go on"
        return self._encoder.encode_passages(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._encoder, name)


class TestConcurrentRead:
    def test_reader_answers_while_writer_commits(self, sample_index, tmp_path):
        """A reader in another thread, while two issues are written: each time a write is held inside
        its embedding step, the reader sees exactly what is committed (every paragraph of every stored
        issue found by a vector search, nothing of the issue in progress), and after each commit the
        new issue whole; meanwhile a reading thread never fails and never gets a hit without its row."""
        directory = tmp_path / "index"
        shutil.copytree(sample_index, directory)
        reader = NewsIndex(directory, readonly=True)
        qvec = reader.encoder.encode_queries(["浙江电网用电负荷哪天突破1亿千瓦"])[0]
        errors = []
        stop = threading.Event()

        def read():
            while not stop.is_set():
                try:
                    hits = reader.dense_search(qvec, 50)
                    meta = reader.passages([p for p, _ in hits])
                    # a hit is never without its metadata: vectors and rows change together
                    assert len(meta) == len(hits)
                except Exception as exc:  # noqa: BLE001 - collected and asserted below
                    errors.append(exc)

        def state() -> tuple[int, int, int]:
            """(issues, paragraphs the issues say they have, paragraphs a vector search finds)."""
            issues = reader.issues()
            found = reader.dense_search(qvec, 1000)
            return len(issues), sum(i["paragraphs"] for i in issues), len(found)

        one = state()
        assert one[0] == 1 and one[1] == one[2] > 10
        writer = NewsIndex(directory)
        gate = _GatedEncoder(writer.encoder)
        writer._encoder = gate
        done: list[int] = []  # issues committed by the writer thread so far
        failures: list[BaseException] = []

        def write():
            try:
                for day in (2, 3):  # different text each day, so that each write embeds
                    text = SAMPLE.read_text(encoding="utf-8").replace("浙江", f"浙江{day}号")
                    writer.add(text.encode("utf-8"), paper="zjrb", date=f"2023-08-0{day}")
                    done.append(day)
            except BaseException as exc:  # noqa: BLE001 - asserted below
                failures.append(exc)

        thread = threading.Thread(target=read)
        writing = threading.Thread(target=write)
        thread.start()
        writing.start()
        held = []
        try:
            while writing.is_alive() or not gate.calls.empty():
                try:
                    go = gate.calls.get(timeout=1)
                except queue.Empty:
                    continue
                issues, listed, found = state()  # the write is held before its commit
                held.append((len(done), issues))
                assert issues == 1 + len(done) and listed == found, (held, listed, found)
                go.set()
            writing.join(120)
        finally:
            stop.set()
            while not gate.calls.empty():
                gate.calls.get().set()
            thread.join()
            writer.close()
        assert not failures and not errors, (failures, errors[:3])
        assert {d for d, _ in held} == {0, 1}, held  # the reader looked inside both writes
        issues, listed, found = state()
        assert issues == 3 and listed == found > one[1]
