"""Tests of qa.evaluate and `newsqa eval`: the issue's quality floors, on the gallery and among distractors."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import DATA, clean_env, newsqa_command
from qa.errors import InputError
from qa.evaluate import first_hit, is_relevant, load_questions, span_em, span_f1

DEV = DATA / "dev_questions.jsonl"
HELDOUT = DATA / "heldout_questions.jsonl"

# Floors on the held-out set, on which no setting was chosen: a little below what was measured on
# the gallery index on 2026-11-30 (35 answerable, 5 unanswerable questions; one question is
# 1/35 = 0.029 of a rate). Retrieval, measured: hybrid R@1 0.800, R@5 0.943, R@10 0.971,
# MRR@10 0.861 (dense 0.805, BM25 0.857).
HELDOUT_RETRIEVAL_FLOORS = {"recall@1": 0.75, "recall@5": 0.91, "recall@10": 0.94, "mrr@10": 0.82}
# The answer step's floors on the held-out set, apart so that they can follow a change of the
# answer step. Measured 2026-11-30 with the trained reader (qa/weights, min_confidence 0.3): hit
# rate 0.686 (24/35), answer rate 0.829 (29/35), abstention 0.8 (4/5). The rule-based answerer it
# replaced had 0.829 / 0.943 / 1.0 here: the reader answers paraphrased news questions less often
# (docs/benchmarks.md). These floors allow one more miss each.
HELDOUT_ANSWER_FLOORS = {"hit_rate": 0.65, "answer_rate": 0.8}
HELDOUT_ABSTENTION_FLOOR = 0.8
# Share of the unanswerable questions that must get no answer. Above 0.8, which let 2 of 12 through
# unnoticed: on the dev set (13 unanswerable) this allows one through.
ABSTENTION_FLOOR = 0.9
# Among the 2,000 distractor paragraphs the reader answers 3 of the 13 unanswerable development
# questions from 人民日报 1998 text (measured 0.769, "国家电网公司的董事长是谁？" from a 山东电力 paragraph).
DISTRACTOR_ABSTENTION_FLOOR = 0.75
# Development-set answer floors, measured with the reader: hit 0.850, answered 0.907 (gallery and
# among distractors alike). The reader trains on the odd-numbered half of this set.
DEV_ANSWER_FLOORS = {"hit_rate": 0.82, "answer_rate": 0.88}


def _eval(index_dir, questions=DEV) -> dict:
    run = subprocess.run([*newsqa_command(), "eval", "--json", "--index-dir", str(index_dir), str(questions)],
                         capture_output=True, text=True, timeout=900, env=clean_env())
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _assert_floors(report: dict, abstention: float = ABSTENTION_FLOOR, fusion_beats_each: bool = True) -> None:
    """The development set's floors; ``fusion_beats_each``: hybrid ranks better (MRR@10) than dense and BM25 alone."""
    hybrid, dense, bm25 = (report["retrieval"][m] for m in ("hybrid", "dense", "bm25"))
    answers = report["answers"]
    misses = json.dumps(report["misses"], ensure_ascii=False)[:3000]
    assert hybrid["recall@5"] >= 0.95, misses
    for metric, floor in DEV_ANSWER_FLOORS.items():
        assert answers[metric] >= floor, (metric, answers[metric], misses)
    assert answers["abstention"] >= abstention, misses
    if fusion_beats_each:
        assert hybrid["mrr@10"] > dense["mrr@10"]
        assert hybrid["mrr@10"] > bm25["mrr@10"]


class TestLoadQuestions:
    def test_development_set_has_the_promised_shape(self):
        questions = load_questions(DEV)
        kinds = [q.get("kind") for q in questions]
        assert len(questions) >= 80
        assert kinds.count("paraphrase") >= len(questions) / 3
        assert sum(1 for q in questions if not q["answers"] and not q["gold"]) >= 10

    def test_bad_line_names_file_and_line(self, tmp_path):
        path = tmp_path / "q.jsonl"
        path.write_text('{"question": "a", "answers": [], "gold": []}\n{not json}\n', encoding="utf-8")
        with pytest.raises(InputError, match=r"q.jsonl:2"):
            load_questions(path)

    def test_line_without_question(self, tmp_path):
        path = tmp_path / "q.jsonl"
        path.write_text('{"answers": ["x"]}\n', encoding="utf-8")
        with pytest.raises(InputError, match="question"):
            load_questions(path)

    def test_missing_and_empty_files(self, tmp_path):
        with pytest.raises(InputError, match="no question file"):
            load_questions(tmp_path / "none.jsonl")
        (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
        with pytest.raises(InputError, match="no questions"):
            load_questions(tmp_path / "empty.jsonl")


class TestRelevance:
    def test_gold_matches_however_numbers_are_written(self):
        assert is_relevant("最高负荷将达到１．１５ 亿千瓦", ["最高负荷将达到1.15亿千瓦"])
        assert not is_relevant("最高负荷将达到1.25亿千瓦", ["最高负荷将达到1.15亿千瓦"])

    def test_first_hit_is_one_based(self):
        results = [{"text": "无关"}, {"text": "浙江电网用电负荷突破1亿千瓦"}]
        assert first_hit(results, ["突破1亿千瓦"]) == 2
        assert first_hit(results, ["上海"]) is None


class TestSpanMetrics:
    """CMRC 2018's short-answer metrics: characters (letter and digit runs as words), punctuation ignored."""

    def test_exact_match_ignores_punctuation_and_case(self):
        assert span_em("7月3日。", ["7月3日"]) == 1.0
        assert span_em("ABC公司", ["abc公司"]) == 1.0
        assert span_em("7月3日前", ["7月3日"]) == 0.0
        assert span_em("", ["7月3日"]) == 0.0

    def test_f1_is_on_the_longest_common_substring(self):
        # "浙江电网7月3日" against "7月3日": common run 4 of 8 predicted, 4 of 4 gold
        assert span_f1("浙江电网7月3日", ["7月3日"]) == 2 * 0.5 * 1.0 / 1.5
        # a number is one word: 3.5 and 3.55 share nothing
        assert span_f1("3.5亿元", ["3.55亿元"]) == 2 * (2 / 3) * (2 / 3) / (4 / 3)
        # contiguous, not a bag of characters: "3日7月" shares runs of 2 with "7月3日"
        assert span_f1("3日7月", ["7月3日"]) == 0.5
        assert span_f1("胡仲明", ["杨洪波", "胡仲明"]) == 1.0
        assert span_f1("", ["胡仲明"]) == 0.0


class TestEvalCommand:
    def test_floors_on_the_development_set(self, gallery_index_dir):
        report = _eval(gallery_index_dir)
        assert report["questions"] == len(load_questions(DEV))
        _assert_floors(report)

    def test_honest_floors_on_the_heldout_set(self, gallery_index_dir):
        """The held-out questions were never used to choose a setting: their floors are the honest ones."""
        report = _eval(gallery_index_dir, HELDOUT)
        questions = load_questions(HELDOUT)
        assert report["questions"] == len(questions) and report["unanswerable"] >= 5
        hybrid, dense, bm25 = (report["retrieval"][m] for m in ("hybrid", "dense", "bm25"))
        answers = report["answers"]
        misses = json.dumps(report["misses"], ensure_ascii=False)[:3000]
        for metric, floor in HELDOUT_RETRIEVAL_FLOORS.items():
            assert hybrid[metric] >= floor, (metric, hybrid[metric], misses)
        assert hybrid["mrr@10"] > dense["mrr@10"]
        assert hybrid["recall@5"] >= max(dense["recall@5"], bm25["recall@5"])
        assert answers["abstention"] >= HELDOUT_ABSTENTION_FLOOR, misses
        for metric, floor in HELDOUT_ANSWER_FLOORS.items():
            assert answers[metric] >= floor, (metric, answers[metric], misses)

    def test_floors_hold_among_2000_distractor_paragraphs(self, archive_index_dir):
        from qa.index import NewsIndex

        with NewsIndex(archive_index_dir, readonly=True) as index:
            assert index.stats()["paragraphs"] >= 2000 + 70
        _assert_floors(_eval(archive_index_dir), abstention=DISTRACTOR_ABSTENTION_FLOOR)

    def test_text_report_shows_the_three_retrievers_side_by_side(self, gallery_index_dir, tmp_path):
        questions = tmp_path / "q.jsonl"
        questions.write_text(
            '{"question": "浙江电网用电负荷哪天突破1亿千瓦？", "answers": ["7月3日"], "gold": ["浙江电网用电负荷突破1亿千瓦"]}\n'
            '{"question": "上海电网今年最高用电负荷达到多少？", "answers": [], "gold": []}\n', encoding="utf-8")
        run = subprocess.run([*newsqa_command(), "eval", "--index-dir", str(gallery_index_dir), str(questions)],
                             capture_output=True, text=True, timeout=300, env=clean_env())
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert [line.split()[0] for line in lines if line.split()[:1] in (["hybrid"], ["dense"], ["bm25"])] == \
            ["hybrid", "dense", "bm25"]
        assert "sentence hit 1.000" in run.stdout and "abstention 1.000" in run.stdout
        assert "short answer EM 1.000 F1 1.000" in run.stdout
