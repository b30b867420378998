"""Tests of qa.conversation (FollowupRewriter) and of follow-ups played through `newsqa eval`."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import DATA, clean_env, newsqa_command
from qa.answer import Answerer
from qa.conversation import (FollowupRewriter, earlier_exchanges, ellipsis_content, joined, not_new, people, places, resolve,
                             topic)
from qa.evaluate import evaluate_conversations, load_conversations
from qa.index import NewsIndex

DEV = DATA / "conversations_dev.jsonl"
DEV2 = DATA / "conversations_dev2.jsonl"  # written for the second pass on #15
DEV3 = DATA / "conversations_dev3.jsonl"  # written for the third pass, before tuning on it
DEV4 = DATA / "conversations_dev4.jsonl"  # written for the fourth pass, before tuning on it
# Held-out sets, each measured once and then, its misses studied, used for development.
RETIRED = {n: DATA / f"conversations_heldout{n}_retired.jsonl"
           for n in (1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 14, 15, 16, 17, 19, 20, 23, 24, 25, 26, 27, 30, 31, 32, 33)}
# Measured at the end of each pass (21 and 22 from session 12 on, 28, 29, 34-37 from session 13
# on), their misses not read, never tuned on.
HELDOUT = {n: DATA / f"conversations_heldout{n}.jsonl" for n in (9, 12, 18, 21, 22, 28, 29, 34, 35, 36, 37)}


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
        # "浙江全省" is one place: 杭州 takes the place of both words.
        assert resolve("那杭州有多少家共富工坊？", "浙江全省建了多少家共富工坊？", None) == "杭州建了多少家共富工坊？"
        assert resolve("那党委书记呢？", "浙能集团的董事长是谁？", None) == "浙能集团的党委书记是谁？"
        assert resolve("男子双人三米板呢？", "成都大运会跳水女子双人10米台的冠军是谁？", None) == \
            "成都大运会跳水男子双人三米板的冠军是谁？"

    def test_after_a_question_with_no_answer_an_ellipsis_goes_back_to_the_last_answered(self):
        history = _history("政府工作报告提的今年GDP增长目标是多少？", "今年全省地区生产总值预期增长5.5%左右。[1]",
                           "报告是谁作的？", "没有找到答案：检索到的3段文字都没有给出这个问题的答案")
        query = FollowupRewriter().run("城乡居民收入呢？", history)["query"]
        assert "城乡居民收入" in query and "谁" not in query and "多少" in query, query
        # With an answer to the last question, the ellipsis is asked of it.
        history[-1] = {"role": "assistant", "content": "省长王浩作政府工作报告。[1]"}
        assert "谁" in FollowupRewriter().run("那副省长呢？", history)["query"]

    def test_a_time_takes_the_place_of_the_time_asked_before(self):
        assert resolve("去年一整年呢？", "截至7月27日，7月份浙江全社会用电量是多少？", None) == \
            "去年一整年浙江全社会用电量是多少？"  # a whole year has no day of the month asked before  # 7月 of 7月27日 is a date
        assert resolve("去年一整年呢？", "那整个8月份预计要用多少电？", None) == "那去年一整年预计要用多少电？"
        assert resolve("那二季度呢？", "一季度全省进出口多少？", None) == "二季度全省进出口多少？"
        # A phrase with its own year takes the place of a phrase; the previous year goes, a compared one stays.
        query = resolve("去年全年的用电总量呢？", "今年浙江用电负荷破亿千瓦，比2022年提前了几天？", None)
        assert "今年" not in query and "去年全年的用电总量" in query and "比2022年" in query, query

    def test_this_and_a_noun_is_the_phrase_the_conversation_named_it_by(self):
        assert resolve("这个村在哪个县？", "新光村建起的数字驾驶舱能实时显示哪些数据？", None) == "新光村在哪个县？"
        query = resolve("这个办法是哪些部门制定的？", "出台以后已经有多少干部被容错免责了？", None,
                        earlier=("浙江今年出台的容错纠错实施办法细化了多少种容错情形？",))
        assert query == "实施办法是哪些部门制定的？", query

    def test_this_alone_before_a_noun_points_back_too(self):
        query = resolve("这消息是从哪个部门获悉的？", "今年西湖龙井特级茶青均价涨了多少？", "特级茶青均价同比上涨约5%。")
        assert query.startswith("今年西湖龙井特级茶青") and query.endswith("消息是从哪个部门获悉的？"), query

    def test_a_follow_up_opening_with_words_of_the_topic_says_them_once(self):
        assert joined("杭州给老小区加装电梯每台", "加装电梯最难的是哪一步") == "杭州给老小区加装电梯最难的是哪一步"
        assert joined("金华至衢州的跨省通勤公交", "票价多少？") == "金华至衢州的跨省通勤公交票价多少？"
        assert joined("今年全省地区生产总值", "今年城乡居民收入呢") == "今年全省地区生产总值今年城乡居民收入呢"  # a time shared is no topic

    def test_a_short_question_with_nouns_of_its_own_is_left_alone(self):
        assert resolve("为什么今年春茶品质好？", "今年西湖龙井特级茶青收购均价涨了多少？", None) == "为什么今年春茶品质好？"

    def test_a_short_follow_up_counting_nothing_is_about_what_was_counted(self):
        query = resolve("从哪一年开始试点的？", "浙江试点建设了多少家特色产业工程师协同创新中心？", None)
        assert "特色产业工程师协同创新中心" in query and query.endswith("从哪一年开始试点的？"), query
        # A follow-up that counts asks of the topic, not of what was counted before.
        assert resolve("同比增长多少？", "今年迎峰度夏期间浙江全社会用电最高负荷预计达到多少？", None) == \
            "今年迎峰度夏期间浙江全社会用电最高负荷同比增长多少？"

    def test_these_and_a_noun_are_that_noun_of_the_topic(self):
        query = resolve("这些人平均每月多挣多少？", "全省的共富工坊一共带动了多少人就业？", None)
        assert query.startswith("全省的共富工坊") and query.endswith("的人平均每月多挣多少？"), query

    def test_that_noun_of_a_place_the_question_names_is_left_alone(self):
        query = resolve("和睦新村那个楼道最后有几户人家同意装电梯？", "杭州今年计划新增加装多少台电梯？", None)
        assert query == "和睦新村楼道最后有几户人家同意装电梯？", query

    def test_that_noun_of_a_person_just_resolved_is_left_alone(self):
        history = _history("拱墅区和睦新村的张阿姨今年多大年纪？", "住在拱墅区和睦新村的张阿姨今年78岁。[1]")
        query = FollowupRewriter().run("她那个楼道有几户居民签字同意装电梯？", history)["query"]
        assert query == "张阿姨楼道有几户居民签字同意装电梯？", query

    def test_this_time_and_a_noun_points_back_like_this_one(self):
        query = resolve("这次会议一共要开几天？", "政府工作报告定了多少经济增速目标？", None)
        assert "这次" not in query and query.endswith("会议一共要开几天？"), query

    def test_this_alone_before_a_verb_is_what_the_conversation_is_about(self):
        history = _history("杭州老小区加装电梯可以提取公积金吗？", "今年起,杭州…并开通公积金提取通道,居民负担明显减轻。[1]")
        query = FollowupRewriter().run("这个是从什么时候开始的", history)["query"]
        assert query.startswith("杭州老小区") and "公积金" in query and "这个" not in query, query
        # 这个 before a noun jieba tags a verb (做法) is no bare pointer.
        assert "做法" in resolve("这个做法推广到了哪些省份？", "全省有多少家共富工坊？", None)

    def test_this_and_a_classifier_points_back_too(self):
        # jieba cuts "这条线路" 这/条/线路.
        query = resolve("这条线路是哪天开通的？", "金华—衢州通勤公交首班车几点发车？", None)
        assert "这条" not in query and query.endswith("线路是哪天开通的？") and query.startswith("金华"), query
        # With the place named, "那家工坊" stays: jieba would read 里蔡村工坊 as one name.
        assert resolve("里蔡村那家工坊一年能加工多少玩具？", "全省有多少家共富工坊？", None) == "里蔡村那家工坊一年能加工多少玩具？"

    def test_it_asked_what_place_it_lies_in_is_the_place_named(self):
        query = resolve("它是哪个乡镇的", "新光村的数字驾驶舱能实时显示哪些数据？", "村里建起了数字驾驶舱,实时显示农产品订单。")
        assert query == "新光村是哪个乡镇的", query

    def test_after_no_answer_a_short_question_is_of_the_last_one_answered(self):
        history = _history("金华到衢州的跨省通勤公交是哪天开通的？", "3月4日,金华至衢州的跨省通勤公交正式开通。[1]",
                           "学生坐有优惠吗？", "没有找到答案：检索到的句子没有说到“学生、优惠”，无法回答")
        query = FollowupRewriter().run("末班车几点", history)["query"]
        assert "学生" not in query and "末班车几点" in query and query.startswith("金华"), query

    def test_a_yes_or_no_question_after_that_is_no_ellipsis(self):
        assert ellipsis_content("那现在浙江发电的主力还是煤电吗？") == ""
        assert ellipsis_content("那福建呢？") == "福建"

    def test_the_whole_province_is_no_place_of_its_own_and_that_alone_links(self):
        assert places("党建引领的共富工坊全省建了多少家？") == []  # no "工坊全省"
        assert not_new("这数据谁统计的") == {"数据"}
        assert not_new("那晚稻呢？") == set()  # 那 links: 晚稻 is what is new

    def test_a_total_is_no_part_of_the_topic(self):
        assert topic("浙江全省一共建了多少家共富工坊？") == "浙江全省"

    def test_this_occasion_is_the_event_named(self):
        query = resolve("这次人民代表大会是哪天开幕的？", "浙江今年政府工作报告定的地区生产总值增长目标是多少？", None)
        assert query == "人民代表大会是哪天开幕的？", query

    def test_a_count_of_something_else_is_of_what_was_counted(self):
        query = resolve("解决了多少人的就业", "浙江现在有多少家共富工坊？", None)
        assert query == "浙江的共富工坊解决了多少人的就业", query  # 现在: no part of the topic
        # 多少钱 counts a unit, no thing the next question is about.
        assert "钱" not in resolve("坐一趟要多久", "金华到衢州的通勤公交单程多少钱？", None)

    def test_there_is_not_the_place_of_the_dateline(self):
        history = _history("浦江县新光村的村民在哪里推介农产品？",
                           "本报金华3月4日电 走进浦江县虞宅乡新光村,村民们正在直播间里推介农产品。[1]")
        query = FollowupRewriter().run("那里的线上销售额突破了多少？", history)["query"]
        assert "金华" not in query and "线上销售额" in query, query

    def test_a_new_place_goes_back_to_the_question_it_fits(self):
        query = resolve("那杭州完成了多少个？", "改造坚持什么理念？ 宁波", None, earlier=("宁波累计完成风貌区建设多少个？",))
        assert query == "杭州累计完成风貌区建设多少个？"

    def test_a_standalone_question_is_left_alone(self):
        question = "宁波把多少个重点镇乡的书记纳入了提级管理？"
        result = FollowupRewriter().run(question, CHAIRMAN)
        assert result["query"] == question and not result["rewritten"]
        assert FollowupRewriter().run("那福建呢？", None) == {"query": "那福建呢？", "rewritten": False,
                                                               "previous_query": None, "previous_answer": None,
                                                               "asked_before": [], "last_answered": None}

    def test_pointer_words_inside_other_words_stay(self):
        # 其他 and 应该 hold 其 and 该, but are no pointers
        assert resolve("应该如何看待其他地区的做法？", "浙能集团的董事长是谁？", None) == "应该如何看待其他地区的做法？"

    def test_history_pairs_questions_with_replies(self):
        pairs = earlier_exchanges(_history("a？", "没有找到答案：检索到的文章都没有提到“上海”", "b？", "答[1]") +
                                  [{"role": "system", "content": "x"}])
        assert pairs == [("a？", None), ("b？", "答")]

    def test_people_joins_a_split_name_and_skips_titles(self):
        assert people("中国选手黄博文和梁朝辉以397.35分获得冠军") == ["黄博文", "梁朝辉"]

    def test_times_jieba_takes_for_people_are_no_names(self):
        assert people("今年夏天浙江用电最高负荷比去年涨了多少？") == []
        assert people("根据预测,今年迎峰度夏期间,浙江全社会用电量最高负荷将达到1.15亿千瓦") == []

    def test_places_jieba_takes_for_people_are_places(self):
        sentence = "成都大运会跳水项目在简阳文体中心游泳馆开赛,中国队的奥运冠军张家齐搭档掌敏洁出战女子双人10米台决赛"
        assert people(sentence) == ["张家齐", "掌敏洁"]  # not 简阳 (a venue's city), and 张家 + 齐 whole
        assert people("和睦新村的张阿姨今年多大？") == ["张阿姨"]
        assert "嘉兴" in places("5月以来嘉兴召开了多少场项目协调会议？")  # jieba: nr; 嘉兴市 is a word

    def test_a_short_follow_up_is_asked_of_the_topic_in_words_not_glued_on(self):
        previous = "今年迎峰度夏期间浙江全社会用电最高负荷预计达到多少？"
        assert topic(previous) == "今年迎峰度夏期间浙江全社会用电最高负荷"
        assert resolve("同比增长多少？", previous, None) == "今年迎峰度夏期间浙江全社会用电最高负荷同比增长多少？"
        # the topic carries over a follow-up already built on it
        assert resolve("首班车几点发车？", "金华至衢州的跨省通勤公交票价多少？", None,
                       earlier=("金华至衢州的跨省通勤公交哪天开通？",)) == "金华至衢州的跨省通勤公交首班车几点发车？"
        assert topic("哪些产品出口保持两位数增长？") == ""

    def test_pointers_to_things_people_and_places_asked_for(self):
        history = _history("成都大运会上张家齐和谁搭档？",
                           "7月31日,成都大运会跳水项目在简阳文体中心游泳馆开赛,中国队的奥运冠军张家齐搭档掌敏洁出战女子双人10米台决赛,毫无悬念获得冠军。[1]")
        assert FollowupRewriter().run("她们得了多少分？", history)["query"] == "张家齐和掌敏洁得了多少分？"
        history = _history("宁波哪个街道的历史街区改造后吸引了大量市民游客？",
                           "在海曙区月湖街道，改造后的历史街区吸引了大量市民游客前来打卡。[1]")
        assert FollowupRewriter().run("它在哪个区？", history)["query"] == "月湖街道在哪个区？"
        assert resolve("它累计培训了多少学员？", "新生代企业家“双传承”计划连续实施了多少年？", None) == \
            "新生代企业家“双传承”计划累计培训了多少学员？"
        assert resolve("他们需要在履新多久内提交履职报告？", "宁波有多少名新任“一把手”向市委递交了报告？", None) == \
            "宁波的新任“一把手”需要在履新多久内提交履职报告？"

    def test_asked_when_of_a_place_the_topic_is_what_follows(self):
        previous = "浙江从哪一年起试点建设特色产业工程师协同创新中心？"
        assert topic(previous) == "浙江试点建设特色产业工程师协同创新中心"
        assert resolve("一共建了几家？", previous, "2020年") == "浙江试点建设特色产业工程师协同创新中心一共建了几家？"
        # after 多少 what is counted is what was asked, not what the conversation is about
        assert topic("浙江优化设置了多少个网格？") == "浙江"

    def test_nouns_pointed_back_to_or_naming_the_answer_kind_are_not_new(self):
        assert not_new("这些数据是哪里统计的？") == {"数据"}
        assert not_new("这个消息是从哪个部门获悉的？") == {"消息", "部门"}
        assert not_new("这个中心有多少工作人员？") == {"中心"}  # 多少工作人员: an answer repeats it
        assert not_new("她们获得了什么名次？") == {"名次"}  # answered by 冠军

    def test_these_years_is_a_time_not_a_pointer(self):
        question = "这些年全省新发展了多少名团员？"
        assert resolve(question, "打造了多少个党建联建实践案例？", None) == question

    def test_ellipsis_goes_back_to_the_question_it_parallels(self):
        assert resolve("那一级茶青呢？", "茶农们说今年春茶品质为什么好？", None,
                       earlier=("今年特级茶青均价涨了多少？",)) == "今年一级茶青涨了多少？"
        assert resolve("好支书呢？", "好干部、好支书评选表彰4年来评出了多少名好干部？", None) == \
            "好干部、好支书评选表彰4年来评出了多少好支书？"

    def test_that_one_before_a_name_only_points_at_the_news(self):
        history = _history("杭州今年打算给老小区新加装多少台电梯？", "杭州今年计划新增加装电梯500台[1]")
        assert FollowupRewriter().run("报道里和睦新村那位张阿姨多大年纪？", history)["query"] == "和睦新村张阿姨多大年纪？"

    def test_that_one_after_words_saying_which_is_their_own(self):
        history = _history("今年以来浙江省市县三级一共培训了多少人次？", "今年以来,省市县三级累计培训154.6万人次。[1]")
        query = FollowupRewriter().run("年初省管主要领导干部那个研讨班有多少人参加？", history)["query"]
        assert query == "年初省管主要领导干部研讨班有多少人参加？", query

    def test_the_whole_province_of_such_things_is_every_one_of_the_kind(self):
        history = _history("宁波鄞州里蔡村共富工坊的村民做手工一个月能挣多少？", "“现在做点手工活每月能赚3000元”[1]")
        for question in ("全省这种工坊有多少家？", "全省这样的工坊有多少家？"):
            assert FollowupRewriter().run(question, history)["query"] == "全省共富工坊有多少家？"

    def test_the_same_day_is_the_day_of_the_topic(self):
        history = _history("绍兴市企业综合服务中心是哪天揭牌的？", "7月31日,绍兴市企业综合服务中心…揭牌成立。[1]")
        query = FollowupRewriter().run("同一天还有几个区县也挂了牌？", history)["query"]
        assert query == "绍兴市企业综合服务中心同一天还有几个区县也挂了牌？", query

    def test_a_rise_of_a_topic_of_names_alone_is_of_what_was_counted(self):
        history = _history("浙江现在一共集聚了多少人才？", "目前,我省集聚人才总量1482万人[1]")
        assert FollowupRewriter().run("跟10年前比涨了多少？", history)["query"] == "浙江的人才跟10年前比涨了多少？"

    def test_then_a_place_after_a_question_naming_none_is_asked_of_it(self):
        history = _history("绍兴搞“无证明化”改革，帮大家少交了多少证明材料？", "减少提交证明材料450万件;[1]",
                           "今年上半年给企业兑付了多少钱？", "今年上半年已为超过8万家次企业兑付资金37.8亿元。[1]")
        query = FollowupRewriter().run("那杭州今年上半年兑付了多少？", history)["query"]
        assert query == "杭州今年上半年给企业兑付了多少钱？", query

    def test_a_whole_year_drops_the_day_of_the_previous_question(self):
        assert resolve("那去年全年呢？", "截至7月27日，7月份浙江用了多少电？", None) == "去年全年浙江用了多少电？"
        assert resolve("那8月份呢？", "截至7月27日，7月份浙江用了多少电？", None) == "截至7月27日，8月份浙江用了多少电？"

    def test_she_points_to_the_women_when_the_last_answer_named_men(self):
        history = _history("大运会跳水女子双人10米台，张家齐是和谁搭档的？",
                           "张家齐搭档掌敏洁出战女子双人10米台决赛,毫无悬念获得冠军。[1]",
                           "男子双人三米板冠军拿了多少分？", "在男子双人三米板决赛中,中国选手黄博文和梁朝辉以397.35分获得冠军。[1]")
        query = FollowupRewriter().run("她们俩决赛拿了多少分？", history)["query"]
        assert "张家齐" in query and "黄博文" not in query, query
        # When the last answer named women, she is one of them as before.
        query = FollowupRewriter().run("她是哪里人？", history[:2])["query"]
        assert "黄博文" not in query and "他" not in query, query

    def test_what_he_said_a_figure_was_is_the_figure_and_he_is_remembered(self):
        history = _history("浙能集团的董事长是谁？", "记者专访浙能集团党委书记、董事长胡仲明。[1]")
        assert FollowupRewriter().run("他说去年浙江一年用了多少电？", history)["query"] == "去年浙江用电是多少？"
        assert FollowupRewriter().run("他说怎么破解用能难？", history)["query"] == "胡仲明说怎么破解用能难？"  # his view
        history += _history("他说截至7月27日，7月份浙江全社会累计用电量是多少？", "…累计用电量达575.66亿千瓦时,同比增长5.9%。[1]")
        assert FollowupRewriter().run("他今年多大年纪？", history)["query"] == "胡仲明今年多大年纪？"


def _eval(index_dir, questions) -> dict:
    run = subprocess.run([*newsqa_command(), "eval", "--json", "--index-dir", str(index_dir), str(questions)],
                         capture_output=True, text=True, timeout=900, env=clean_env())
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def gallery_answerer(gallery_index_dir):
    with NewsIndex(gallery_index_dir, readonly=True) as index:
        yield Answerer(index)


class TestConversationSets:
    def test_sets_have_the_promised_shape(self):
        dev = [c for path in (DEV, DEV2, DEV3, DEV4, *RETIRED.values()) for c in load_conversations(path)]
        heldout = [c for path in HELDOUT.values() for c in load_conversations(path)]
        followups = [t for c in dev + heldout for t in c["turns"][1:]]
        assert len(followups) >= 105
        assert all(2 <= len(c["turns"]) <= 4 for c in dev + heldout)
        assert sum(1 for c in heldout for _ in c["turns"][1:]) >= 25
        assert sum(1 for t in followups if t.get("unanswerable")) >= 15

    # Measured 2026-12-01 on the gallery (2-core x86_64), the reader trained on paraphrases, after
    # session 12's checks: follow-up hit, abstention, first-turn hit; the floors leave one miss.
    # dev 30/30, 8/8, 20/20; dev2 31/31, 13/13, 20/20; dev3 30/32, 9/10, 16/16; dev4 40/43, 13/13,
    # 20/20; heldout1 17/17, 10/10, 13/13; heldout2 30/30, 10/10, 15/15; heldout3 28/29, 10/10, 15/15;
    # heldout4 29/31, 9/10, 15/15; heldout5 30/30, 15/15, 20/20; heldout6 31/33, 24/25, 25/25;
    # heldout7 34/34, 24/25, 25/25; heldout8 33/34, 25/25, 25/25; heldout10 30/34, 25/25, 25/25;
    # heldout11 31/34, 24/25, 25/25; heldout13 31/34, 23/25, 25/25; heldout14 34/34, 23/25, 25/25;
    # heldout15 31/34, 24/25, 24/25; heldout16 32/34, 25/25, 24/25; heldout17 30/34, 24/25, 25/25;
    # heldout19 34/34, 24/25, 25/25; heldout20 33/34, 23/25, 25/25; heldout23 (first read with these
    # checks, then studied) 31/34, 23/25, 25/25. Session 13's study sets, after its checks: heldout24
    # 34/34, 25/25, 25/25; heldout25 33/34, 24/25, 25/25; heldout26 34/34, 25/25, 24/25; heldout27
    # 34/34, 24/25, 25/25; heldout30 33/34, 22/25, 25/25; heldout31 33/34, 25/25, 25/25; heldout32
    # 33/34, 23/25, 25/25; heldout33 33/34, 24/25, 24/25. The older sets' floors still hold.
    @pytest.mark.parametrize("questions, hit, abstention, first", [
        (DEV, 0.96, 0.87, 0.95), (DEV2, 0.96, 0.92, 0.95), (DEV3, 0.9, 0.8, 0.93), (DEV4, 0.9, 0.92, 0.95),
        (RETIRED[1], 0.94, 0.9, 0.92), (RETIRED[2], 0.96, 0.9, 0.93), (RETIRED[3], 0.93, 0.9, 0.93),
        (RETIRED[4], 0.9, 0.8, 0.93), (RETIRED[5], 0.96, 0.93, 0.95), (RETIRED[6], 0.9, 0.92, 0.96),
        (RETIRED[7], 0.97, 0.92, 0.96), (RETIRED[8], 0.94, 0.96, 0.96), (RETIRED[10], 0.85, 0.96, 0.96),
        (RETIRED[11], 0.88, 0.92, 0.96), (RETIRED[13], 0.88, 0.88, 0.96), (RETIRED[14], 0.97, 0.88, 0.96),
        (RETIRED[15], 0.88, 0.92, 0.92), (RETIRED[16], 0.91, 0.96, 0.92), (RETIRED[17], 0.85, 0.92, 0.96),
        (RETIRED[19], 0.97, 0.92, 0.96), (RETIRED[20], 0.94, 0.88, 0.96), (RETIRED[23], 0.88, 0.88, 0.96),
        (RETIRED[24], 0.97, 0.96, 0.96), (RETIRED[25], 0.94, 0.92, 0.96), (RETIRED[26], 0.97, 0.96, 0.92),
        (RETIRED[27], 0.97, 0.92, 0.96), (RETIRED[30], 0.94, 0.84, 0.96), (RETIRED[31], 0.94, 0.96, 0.96),
        (RETIRED[32], 0.94, 0.88, 0.96), (RETIRED[33], 0.94, 0.92, 0.92),
    ], ids=lambda v: v.stem if hasattr(v, "stem") else None)
    def test_dev_floors(self, gallery_answerer, questions, hit, abstention, first):
        report = evaluate_conversations(gallery_answerer.index, questions, gallery_answerer)
        misses = json.dumps(report["misses"], ensure_ascii=False)[:3000]
        assert report["followups"]["hit_rate"] >= hit, misses
        assert report["followups"]["abstention"] >= abstention, misses
        assert report["first_turns"]["hit_rate"] >= first, misses

    # (set, follow-up hit, abstention, first turns) floors, a little under the one measurement.
    @pytest.mark.parametrize("n, hit, abstention, first", [(9, 0.85, 0.96, 0.92), (12, 0.94, 0.92, 0.96),
                                                         (18, 0.82, 0.92, 0.96), (21, 0.91, 0.96, 0.88),
                                                         (22, 0.94, 0.96, 0.96), (28, 0.94, 0.92, 0.92),
                                                         (29, 0.94, 0.92, 0.96), (34, 0.88, 0.96, 0.92),
                                                         (35, 0.94, 0.96, 0.96), (36, 0.91, 0.92, 0.96),
                                                         (37, 0.97, 0.92, 0.96)])
    def test_heldout_floors(self, gallery_index_dir, n, hit, abstention, first):
        """conversations_heldout9 and 12, written blind by helpers from the newspaper text, each
        measured through `newsqa eval` (2026-12-01, 2-core x86_64, gallery index) at the start of
        the sixth pass, after heldout16's changes and after heldout17's (the same figures both
        times), their misses never read. Start → end: heldout9 follow-up
        hit 0.588 → 0.706 (24/34), abstention 0.88 → 0.96 (24/25), first turns 0.96 → 0.96;
        heldout12 0.706 → 0.794 (27/34), 0.84 → 0.92 (23/25), 1.0 → 1.0. Measured once more with the
        reader trained on paraphrases and its checks (session 11): heldout9 0.794 (27/34), 0.96,
        0.96; heldout12 0.824 (28/34), 0.88 (22/25), 0.96. #15 asks for 0.90 and 0.90: abstention
        is reached over both sets (0.92) but not on heldout12 alone, the hit rate is not.
        heldout18, written blind the same way after the reader was retrained and measured once at
        its first reading: 0.794 (27/34), 0.92 (23/25), 1.0. After '多挣' → 增收 and 我省: heldout9
        0.824 (28/34), heldout12 0.853 (29/34), heldout18 unchanged. Session 12's checks (from study
        sets heldout19, 20 and 23): heldout9 0.824 (28/34), 1.0, 0.96; heldout12 0.912 (31/34), 0.92,
        1.0; heldout18 0.794 (27/34), 0.92, 1.0; heldout21 and 22, written blind in session 12 and
        first read then: 0.882 (30/34), 1.0, 0.88 and 0.941 (32/34), 0.96, 0.96. Session 13's checks
        (from study sets heldout24-27 and 30-33): heldout9 0.882 (30/34), 1.0, 0.96; heldout12 0.971
        (33/34), 0.96, 1.0; heldout18 0.853 (29/34), 0.96, 1.0; heldout21 0.941 (32/34), 1.0, 0.92;
        heldout22 0.971 (33/34), 1.0, 1.0; heldout28, 29, 34 and 35, written blind in session 13 and
        first read then: 0.971 (33/34), 0.96, 0.96; 0.971, 0.96, 1.0; 0.912 (31/34), 1.0, 0.96; 0.971,
        1.0, 1.0; heldout36 and 37, written blind after the checks were final and read once: 0.941
        (32/34), 0.96, 1.0 and 1.0 (34/34), 0.96, 1.0. All eleven: hit 0.944 (353/374), abstention
        0.978 (269/275). These floors guard what was reached, one miss under it."""
        report = _eval(gallery_index_dir, HELDOUT[n])
        misses = json.dumps(report["misses"], ensure_ascii=False)[:3000]
        assert report["followups"]["answerable"] == 34 and report["followups"]["unanswerable"] == 25
        assert report["followups"]["hit_rate"] >= hit, misses
        assert report["followups"]["abstention"] >= abstention, misses
        assert report["first_turns"]["hit_rate"] >= first, misses
