"""Tests of qa.conversation (FollowupRewriter) and of follow-ups played through `newsqa eval`."""

from __future__ import annotations

import json
import subprocess

from conftest import DATA, clean_env, newsqa_command
from qa.conversation import FollowupRewriter, earlier_exchanges, people, resolve
from qa.evaluate import load_conversations

DEV = DATA / "conversations_dev.jsonl"
HELDOUT = DATA / "conversations_heldout.jsonl"


def _history(*turns: str) -> list[dict]:
    return [{"role": "user" if n % 2 == 0 else "assistant", "content": t} for n, t in enumerate(turns)]


CHAIRMAN = _history("浙能集团的董事长是谁？", "记者专访浙能集团党委书记、董事长胡仲明。[1]")


class TestRewriter:
    """The issue's examples (#15): pointers resolved from the earlier answers, not glued on as words."""

    def test_he_is_the_person_the_last_answer_named(self):
        result = FollowupRewriter().run("那他怎么看能源保供？", CHAIRMAN)
        assert result["rewritten"] and "胡仲明" in result["query"] and "他" not in result["query"], result
        assert result["previous_query"] == "浙能集团的董事长是谁？"

    def test_there_is_the_place_asked_about_not_a_name_swap(self):
        history = _history("绍兴企业综合服务中心实现了什么？", "实现市、县全覆盖。[1]")
        query = FollowupRewriter().run("那里的企业满意度怎么样？", history)["query"]
        assert query.startswith("绍兴企业综合服务中心") and "满意度企业" not in query, query

    def test_these_two_are_what_was_just_asked_about(self):
        history = _history("2022年浙江全社会用电总量是多少？", "2022年我省全社会用电总量为5799亿千瓦时。[1]",
                           "那最高用电负荷呢？", "最高用电负荷超1.02亿千瓦。[1]")
        query = FollowupRewriter().run("这两项数据在全国排第几？", history)["query"]
        assert "这两项" not in query and "用电" in query, query

    def test_predecessor_follow_up_makes_no_non_word(self):
        history = _history("东钱湖镇的党委书记是谁？",
                           "本报讯(记者王丹静 通讯员勇祖轩)近日,镇党委书记杨洪波从他的前任陈建恩手上接过了一张表格。[1]")
        query = FollowupRewriter().run("他的前任是谁？", history)["query"]
        # the reporter of the byline is not who is asked about
        assert query == "杨洪波的前任是谁？", query

    def test_ellipsis_swaps_a_name_or_the_phrase_it_parallels(self):
        assert resolve("那福建呢？", "2022年浙江全社会用电总量是多少？", None) == "2022年福建全社会用电总量是多少？"
        assert resolve("那最高用电负荷呢？", "2022年浙江全社会用电总量是多少？", None) == "2022年浙江最高用电负荷是多少？"
        assert resolve("那党委书记呢？", "浙能集团的董事长是谁？", None) == "浙能集团的党委书记是谁？"
        assert resolve("男子双人三米板呢？", "成都大运会跳水女子双人10米台的冠军是谁？", None) == \
            "成都大运会跳水男子双人三米板的冠军是谁？"

    def test_a_new_place_goes_back_to_the_question_it_fits(self):
        query = resolve("那杭州完成了多少个？", "改造坚持什么理念？ 宁波", None, earlier=("宁波累计完成风貌区建设多少个？",))
        assert query == "杭州累计完成风貌区建设多少个？"

    def test_a_standalone_question_is_left_alone(self):
        question = "宁波把多少个重点镇乡的书记纳入了提级管理？"
        result = FollowupRewriter().run(question, CHAIRMAN)
        assert result["query"] == question and not result["rewritten"]
        assert FollowupRewriter().run("那福建呢？", None) == {"query": "那福建呢？", "rewritten": False,
                                                               "previous_query": None, "previous_answer": None}

    def test_pointer_words_inside_other_words_stay(self):
        # 其他 and 应该 hold 其 and 该, but are no pointers
        assert resolve("应该如何看待其他地区的做法？", "浙能集团的董事长是谁？", None) == "应该如何看待其他地区的做法？"

    def test_history_pairs_questions_with_replies(self):
        pairs = earlier_exchanges(_history("a？", "没有找到答案：检索到的文章都没有提到“上海”", "b？", "答[1]") +
                                  [{"role": "system", "content": "x"}])
        assert pairs == [("a？", None), ("b？", "答")]

    def test_people_joins_a_split_name_and_skips_titles(self):
        assert people("中国选手黄博文和梁朝辉以397.35分获得冠军") == ["黄博文", "梁朝辉"]


def _eval(index_dir, questions) -> dict:
    run = subprocess.run([*newsqa_command(), "eval", "--json", "--index-dir", str(index_dir), str(questions)],
                         capture_output=True, text=True, timeout=900, env=clean_env())
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


class TestConversationSets:
    def test_sets_have_the_promised_shape(self):
        dev, heldout = load_conversations(DEV), load_conversations(HELDOUT)
        followups = [t for c in dev + heldout for t in c["turns"][1:]]
        assert len(followups) >= 60
        assert all(2 <= len(c["turns"]) <= 4 for c in dev + heldout)
        assert sum(1 for c in heldout for _ in c["turns"][1:]) >= len(followups) / 3
        assert sum(1 for t in followups if t.get("unanswerable")) >= 15

    def test_dev_floors(self, gallery_index_dir):
        """Measured 2026-12-01 on the gallery and among 2,000 distractors alike: follow-up hit 0.967
        (29/30), abstention 1.0 (8/8), first turns 1.0 (20/20)."""
        report = _eval(gallery_index_dir, DEV)
        misses = json.dumps(report["misses"], ensure_ascii=False)[:3000]
        assert report["followups"]["hit_rate"] >= 0.93, misses
        assert report["followups"]["abstention"] >= 0.87, misses
        assert report["first_turns"]["hit_rate"] >= 0.95, misses

    def test_heldout_floors(self, gallery_index_dir):
        """Measured once, 2026-12-01, after the rewriter was settled on the dev set: follow-up hit
        0.765 (13/17), abstention 0.8 (8/10), first turns 1.0 (13/13). Below #15's target of 0.90:
        these floors guard what was reached, one miss below it."""
        report = _eval(gallery_index_dir, HELDOUT)
        misses = json.dumps(report["misses"], ensure_ascii=False)[:3000]
        assert report["followups"]["answerable"] == 17 and report["followups"]["unanswerable"] == 10
        assert report["followups"]["hit_rate"] >= 0.70, misses
        assert report["followups"]["abstention"] >= 0.70, misses
        assert report["first_turns"]["hit_rate"] >= 0.92, misses
