"""Open-domain answers: CMRC 2018 trial paragraphs indexed among the distractor archive, asked through `newsqa eval`.

CMRC 2018 trial is the reader's development split (never trained on; its abstention threshold
was chosen on it). A fifth of its paragraphs are held back from the index, so their questions
have no answer there (bench/cmrc_issues.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, copy_index, newsqa_command

# Measured 2026-11-30 on this set (bench/abstention.py at the default threshold): sentence hit
# 0.824, EM 0.310, F1 0.609, answered 0.964, abstention 0.949. The floors sit a little below.
# Issue #11 asks for hit 0.90, EM 0.50 and F1 0.70: not reached yet (docs/benchmarks.md).
FLOORS = {"hit_rate": 0.80, "short_answer_em": 0.28, "short_answer_f1": 0.58, "abstention": 0.92, "answer_rate": 0.94}


@pytest.fixture(scope="module")
def cmrc_archive(archive_index_dir, tmp_path_factory):
    """(index dir, question file): the gallery, 2,000 distractor paragraphs and 4/5 of CMRC 2018 trial;
    the questions of its development split (420) and of its held-back fifth (197)."""
    base = tmp_path_factory.mktemp("cmrc")
    source = ROOT.parent / "shared" / "data" / "reading" / "cmrc2018_trial.json"
    if not source.is_file():
        pytest.fail(f"CMRC 2018 trial is missing at {source} (shared/data/reading)")
    built = subprocess.run([sys.executable, str(ROOT / "bench" / "cmrc_issues.py"), str(base), "--source", str(source)],
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    index_dir = copy_index(archive_index_dir, base / "index")
    run = subprocess.run([*newsqa_command(), "index", "-q", "--index-dir", str(index_dir),
                          *map(str, sorted((base / "issues").glob("*.html")))], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    return index_dir, base / "questions.jsonl"


class TestOpenDomainCMRC:
    def test_floors_of_the_trained_reader(self, cmrc_archive):
        index_dir, questions = cmrc_archive
        run = subprocess.run([*newsqa_command(), "eval", "--json", "--index-dir", str(index_dir), str(questions)],
                             capture_output=True, text=True, timeout=1200)
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert report["unanswerable"] >= 190 and report["answerable"] >= 400
        answers = report["answers"]
        failed = {k: round(answers[k], 3) for k, floor in FLOORS.items() if answers[k] < floor}
        assert not failed, f"below the floors {FLOORS}: {failed}"
        assert report["retrieval"]["hybrid"]["recall@5"] >= 0.95
