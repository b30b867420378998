"""Tests of the issue parser: the real sample, offsets, a gallery of layouts, errors and fuzzing."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.document import Article, Issue, Paragraph
from qa.errors import InputError
from qa.parse import ends_complete, join_evidence, page_marker, parse_issue
from qa.textio import detect_format, markdown_segments, read_issue_text

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = DATA / "zjrb-2023-08-01.txt"

FEATURE = "牢记嘱托感恩奋进 凝心聚力实干担当"
INTERVIEW = "能源保供要“广积粮”“深挖潜”"
SHAOXING = "绍兴企业综合服务中心市县全覆盖 服务越增值 企业“越满意”"
NINGBO = "“一表五清单”促进乡镇工作一任接着一任干 宁波助新官理好旧账"


@pytest.fixture(scope="module")
def sample() -> Issue:
    return parse_issue(SAMPLE)


def article(issue: Issue, title: str | None) -> Article:
    """The one article with this exact title."""
    found = [a for a in issue.articles if a.title == title]
    assert len(found) == 1, [a.title for a in issue.articles]
    return found[0]


def paragraphs_with(issue: Issue, needle: str) -> list[tuple[Article, Paragraph]]:
    """(article, paragraph) for every paragraph containing ``needle``."""
    return [(a, p) for a in issue.articles for p in a.paragraphs if needle in p.text]


def check_offsets(issue: Issue) -> None:
    """Every paragraph's spans slice the issue text back to the paragraph, in order."""
    assert issue.sha256 == hashlib.sha256(issue.text.encode("utf-8")).hexdigest()
    for p in issue.paragraphs:
        assert p.spans, p
        assert "".join(issue.text[s:e] for s, e in p.spans) == p.text
        assert (p.start, p.end) == (p.spans[0][0], p.spans[-1][1])
        assert all(0 <= s < e <= len(issue.text) for s, e in p.spans)
        assert all(e1 <= s2 for (_, e1), (s2, _) in zip(p.spans, p.spans[1:], strict=False))
        assert p.text and p.text == p.text.strip()
        if len(p.spans) == 1:
            assert issue.text[p.start:p.end] == p.text


# ---------------------------------------------------------------------- the real sample
class TestSampleArticles:
    def test_articles_in_order(self, sample):
        assert [a.title for a in sample.articles] == [FEATURE, INTERVIEW, SHAOXING, NINGBO, None]

    def test_paragraph_counts(self, sample):
        assert [len(a.paragraphs) for a in sample.articles] == [31, 8, 6, 5, 0]

    def test_feature_headline(self, sample):
        a = article(sample, FEATURE)
        assert (a.kicker, a.subtitle, a.byline, a.dateline) == (
            None, "——我省新时代十年推进组织工作高质量发展综述", "本报记者 李 灿", None)

    def test_interview_headline(self, sample):
        a = article(sample, INTERVIEW)
        assert a.kicker == "十问十答 | 半年度经济形势系列报道之八"
        assert a.subtitle == "——访浙能集团党委书记、董事长胡仲明"
        assert a.byline == "本报记者 胡静漪"
        assert a.dateline is None

    def test_datelines_stay_in_the_body(self, sample):
        shaoxing, ningbo = article(sample, SHAOXING), article(sample, NINGBO)
        assert shaoxing.dateline == "本报绍兴7月31日电(记者周榕华 朱银燕 通讯员叶思佳)"
        assert ningbo.dateline == "本报讯(记者王丹静 通讯员勇祖轩)"
        assert shaoxing.paragraphs[0].text.startswith(shaoxing.dateline + "7月31日,绍兴市企业综合服务中心")
        assert ningbo.paragraphs[0].text.startswith(ningbo.dateline + "近日")
        assert shaoxing.byline is None and shaoxing.subtitle is None

    def test_interview_turns_are_body(self, sample):
        a = article(sample, INTERVIEW)
        texts = [p.text for p in a.paragraphs]
        assert "记者:浙江能源紧张的形势有何成因?" in texts
        assert any(t.startswith("胡仲明:近期") for t in texts)

    def test_no_headline_text_in_bodies(self, sample):
        bodies = {p.text for p in sample.paragraphs}
        for a in sample.articles:
            for furniture in (a.title, a.kicker, a.subtitle, a.byline):
                assert furniture is None or furniture not in bodies


class TestSampleSections:
    def test_section_headings(self, sample):
        assert article(sample, FEATURE).sections == [
            "政治铸魂走深走实", "激励干部担当作为", "基层焕发勃勃生机", "聚才磁场筑巢引凤"]
        assert all(not a.sections for a in sample.articles[1:])

    def test_paragraph_sections(self, sample):
        feature = article(sample, FEATURE)
        assert [p.section for p in feature.paragraphs[:3]] == [None, None, "政治铸魂走深走实"]
        assert paragraphs_with(sample, "最讲党性")[0][1].section == "政治铸魂走深走实"
        assert paragraphs_with(sample, "推进强国建设")[0][1].section == "激励干部担当作为"
        assert paragraphs_with(sample, "海里红")[0][1].section == "基层焕发勃勃生机"
        assert feature.paragraphs[-1].section == "聚才磁场筑巢引凤"

    def test_headings_are_not_paragraphs(self, sample):
        assert not any(p.text in article(sample, FEATURE).sections for p in sample.paragraphs)


class TestSampleColumnBreaks:
    @pytest.mark.parametrize("joined, title", [
        ("海里红”共富工坊", FEATURE),  # unmatched opening quote
        ("人才强省重大战略,推动人才工作", FEATURE),  # ends with a comma
        ("国家级试点", SHAOXING),  # jieba reads 国家级 across the break
        ("宁波市委组织部相关负责人表示", NINGBO),  # jieba reads 组织部 across the break
    ])
    def test_rejoined(self, sample, joined, title):
        found = paragraphs_with(sample, joined)
        assert len(found) == 1
        art, par = found[0]
        assert art.title == title
        assert len(par.spans) == 2
        assert not par.truncated
        first, second = (sample.text[s:e] for s, e in par.spans)
        assert par.text == first + second
        assert sample.text[par.spans[0][1]:par.spans[1][0]] == "\n\n"

    def test_only_the_four_breaks_are_joined(self, sample):
        assert sum(len(p.spans) > 1 for p in sample.paragraphs) == 4

    def test_fragments_are_not_paragraphs_of_their_own(self, sample):
        texts = {p.text for p in sample.paragraphs}
        assert not texts & {"在宁波市鄞州区咸祥镇里蔡村“海里", "推动人才工作不断迈上新台阶。", "织部相关负责人表示。"}


class TestSampleInterruptedArticle:
    def test_truncated_paragraph_stays_in_interview(self, sample):
        [(art, par)] = paragraphs_with(sample, "并建设远距离输")
        assert art.title == INTERVIEW
        assert par.truncated
        assert par.text.endswith("并建设远距离输")  # not glued to what follows
        assert art.paragraphs[-1] is par

    def test_only_one_truncated_paragraph(self, sample):
        assert [p.text[-4:] for p in sample.paragraphs if p.truncated] == ["远距离输"]

    def test_feature_resumes(self, sample):
        [(art, par)] = paragraphs_with(sample, "最讲党性")
        assert art.title == FEATURE
        assert par.text == "最讲党性、最讲政治、最讲忠诚、最讲担当,已然成为浙江的鲜明标识。"
        feature = art.paragraphs
        assert feature[feature.index(par) - 1].text.startswith("坚持把政治建设摆在领导班子建设首位")

    def test_no_cross_contamination(self, sample):
        feature, interview = article(sample, FEATURE), article(sample, INTERVIEW)
        for word in ("胡仲明", "用电", "煤炭"):
            assert not any(word in p.text for p in feature.paragraphs)
        for word in ("最讲党性", "组织工作", "干部", "人才"):
            assert not any(word in p.text for p in interview.paragraphs)
        assert feature.paragraphs[-1].text.startswith("步履不停,奋进不止")


class TestSampleCaptions:
    def test_photo_news_is_an_untitled_caption_article(self, sample):
        photo = sample.articles[-1]
        assert photo.title is None and photo.paragraphs == []
        assert photo.captions[0].startswith("7月31日,成都大运会跳水项目")
        assert photo.captions[1] == "本报特派记者 王建龙 纪驭亚 摄"

    def test_captions_are_not_body(self, sample):
        assert not paragraphs_with(sample, "成都大运会")
        assert not paragraphs_with(sample, " 摄")
        assert all(not a.captions for a in sample.articles[:-1])


class TestSampleIssue:
    def test_metadata(self, sample):
        assert (sample.paper, sample.date, sample.date_inferred) == ("zjrb", "2023-08-01", False)
        assert sample.source == "zjrb-2023-08-01.txt"
        assert sample.text == SAMPLE.read_text(encoding="utf-8")
        assert sample.page is None and all(a.page is None for a in sample.articles)

    def test_arguments_win(self):
        issue = parse_issue(SAMPLE, paper="浙江日报", date="2023-09-09")
        assert (issue.paper, issue.date, issue.date_inferred) == ("浙江日报", "2023-09-09", False)

    def test_no_year_no_date(self):
        issue = parse_issue(SAMPLE.read_text(encoding="utf-8"))
        assert (issue.paper, issue.date, issue.date_inferred, issue.source) == (None, None, False, "<text>")
        assert [a.title for a in issue.articles] == [FEATURE, INTERVIEW, SHAOXING, NINGBO, None]

    def test_date_inferred_from_dateline_and_year_in_name(self):
        issue = parse_issue(SAMPLE.read_text(encoding="utf-8"), source="zjrb-2023.txt")
        assert (issue.date, issue.date_inferred, issue.source) == ("2023-08-01", True, "zjrb-2023.txt")

    def test_date_inferred_from_dateline_and_year_in_text(self):
        text = SAMPLE.read_text(encoding="utf-8") + "\n\n2023年7月,全省用电量再创新高。\n"
        issue = parse_issue(text)
        assert (issue.date, issue.date_inferred) == ("2023-08-01", True)

    def test_same_structure_from_bytes(self, sample):
        issue = parse_issue(SAMPLE.read_bytes(), source="zjrb-2023-08-01.txt")
        assert issue.to_dict() == sample.to_dict()


# ---------------------------------------------------------------------- offsets
class TestOffsets:
    @pytest.mark.parametrize("name", ["zjrb-2023-08-01.txt", "multipage-2024-03-05.txt", "gbk-2022-11-11.txt",
                                      "issue.html", "weekly.md"])
    def test_spans_slice_the_text(self, name):
        check_offsets(parse_issue(DATA / name))

    def test_crlf_is_normalised(self, tmp_path):
        path = tmp_path / "zjrb-2023-08-01.txt"
        path.write_bytes(SAMPLE.read_bytes().replace(b"\n", b"\r\n"))
        issue = parse_issue(path)
        assert "\r" not in issue.text
        assert issue.to_dict() == parse_issue(SAMPLE).to_dict()
        check_offsets(issue)

    @pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "gb18030"])
    def test_encodings(self, tmp_path, encoding):
        path = tmp_path / "zjrb-2023-08-01.txt"
        path.write_bytes(SAMPLE.read_text(encoding="utf-8").encode(encoding))
        issue = parse_issue(path)
        assert issue.text == SAMPLE.read_text(encoding="utf-8")
        assert issue.sha256 == parse_issue(SAMPLE).sha256


# ---------------------------------------------------------------------- gallery of layouts
@pytest.fixture(scope="module")
def multipage() -> Issue:
    return parse_issue(DATA / "multipage-2024-03-05.txt")


class TestMultipage:
    def test_metadata(self, multipage):
        assert (multipage.paper, multipage.date, multipage.date_inferred) == ("multipage", "2024-03-05", False)

    def test_articles_and_pages(self, multipage):
        assert [(a.title, a.page, len(a.paragraphs)) for a in multipage.articles] == [
            ("凝心聚力 奋力推进高质量发展", "01", 3),
            ("春耕备耕有序推进", "01", 2),
            ("外贸“开门红”成色足", "02", 3),
        ]

    def test_headlines(self, multipage):
        first, farm, trade = multipage.articles
        assert first.kicker == "省十四届人大二次会议在杭开幕"
        assert first.byline == "本报记者 林晓 陈思远"
        assert first.dateline == "本报杭州3月4日电"
        assert farm.dateline == "本报讯(记者 王明 通讯员 李华)"
        assert trade.subtitle == "——前两月全省进出口同比增长8.2%"
        assert trade.sections == ["新兴市场拓展加速"]

    def test_column_breaks(self, multipage):
        assert len(paragraphs_with(multipage, "城乡融合等重点领域,提出了一系列务实举措")[0][1].spans) == 2
        assert len(paragraphs_with(multipage, "民营企业贡献了七成以上")[0][1].spans) == 2

    def test_caption_of_an_article_photo(self, multipage):
        farm = multipage.articles[1]
        assert farm.captions == ["3月4日,在湖州市南浔区的田间,农民驾驶无人机喷洒农药。", "本报记者 周雨 摄"]
        assert not paragraphs_with(multipage, "无人机")

    def test_masthead_is_not_an_article(self, multipage):
        assert not paragraphs_with(multipage, "钱塘日报") and not paragraphs_with(multipage, "星期二")


@pytest.fixture(scope="module")
def gbk() -> Issue:
    return parse_issue(DATA / "gbk-2022-11-11.txt")


class TestGBK:
    def test_file_is_not_utf8(self):
        with pytest.raises(UnicodeDecodeError):
            (DATA / "gbk-2022-11-11.txt").read_bytes().decode("utf-8")

    def test_decoded(self, gbk):
        assert gbk.text.startswith("第03版：综合新闻")
        assert (gbk.date, gbk.date_inferred) == ("2022-11-11", False)

    def test_articles(self, gbk):
        assert [(a.title, a.page, len(a.paragraphs)) for a in gbk.articles] == [
            ("城乡风貌整治提升见成效", "03", 3),
            ("“双十一”快递业务量创新高", "03", 2),
        ]
        assert gbk.articles[0].byline == "本报记者　吴芳"
        assert gbk.articles[1].dateline == "本报杭州11月10日电"

    def test_line_per_paragraph_with_a_break(self, gbk):
        [(_, par)] = paragraphs_with(gbk, "风貌整治提升，累计完成风貌区建设62个")
        assert len(par.spans) == 2
        assert not par.text.startswith("　")  # indentation is not paragraph text


@pytest.fixture(scope="module")
def html_issue() -> Issue:
    return parse_issue(DATA / "issue.html")


class TestHTML:
    def test_metadata_from_masthead(self, html_issue):
        assert (html_issue.paper, html_issue.date, html_issue.date_inferred, html_issue.source) == (
            "钱塘晚报", "2024-05-20", True, "issue.html")

    def test_text_is_extracted(self, html_issue):
        assert "<" not in html_issue.text and "&ldquo;" not in html_issue.text and "&amp;" not in html_issue.text
        for hidden in ("这不是正文", "console", "margin"):  # script and style are not text
            assert hidden not in html_issue.text
        assert "“加”出幸福感" in html_issue.text and "«卖得好» & 价格" in html_issue.text

    def test_articles(self, html_issue):
        lift, tea = html_issue.articles
        assert [(a.title, len(a.paragraphs)) for a in html_issue.articles] == [
            ("老旧小区加装电梯 “加”出幸福感", 4), ("西湖龙井春茶收购价格稳中有升", 2)]
        assert lift.kicker == "民生关注 | 城市更新"
        assert lift.subtitle == "——杭州今年计划新增加装电梯500台"
        assert lift.byline == "本报记者 沈悦"
        assert lift.dateline == "本报杭州5月19日电"
        assert lift.sections == ["居民议事定方案", "政策支持降成本"]
        assert tea.dateline == "本报讯(记者 钱多多)"

    def test_source_line_wraps_and_br(self, html_issue):
        lift = html_issue.articles[0]
        assert "难事。如今" in lift.paragraphs[0].text  # a wrap between CJK characters is no space
        assert lift.paragraphs[2].text == "经过多轮协商,楼道里的12户居民最终全部签字同意。"  # <br> breaks

    def test_figcaption(self, html_issue):
        assert html_issue.articles[0].captions == ["5月19日,工人在拱墅区和睦新村安装电梯。本报记者 沈悦 摄"]
        assert not paragraphs_with(html_issue, "安装电梯。")

    def test_from_bytes_is_sniffed(self, html_issue):
        again = parse_issue((DATA / "issue.html").read_bytes())
        assert [a.title for a in again.articles] == [a.title for a in html_issue.articles]


@pytest.fixture(scope="module")
def md_issue() -> Issue:
    return parse_issue(DATA / "weekly.md")


class TestMarkdown:
    def test_metadata(self, md_issue):
        # paper from the lone top heading; date from the dateline (3月4日电) and "2024年3月" in the text
        assert (md_issue.paper, md_issue.date, md_issue.date_inferred) == ("钱江周报", "2024-03-05", True)

    def test_articles(self, md_issue):
        village, bus = md_issue.articles
        assert [(a.title, len(a.paragraphs)) for a in md_issue.articles] == [
            ("数字乡村建设提速", 2), ("金华开通首条跨省通勤公交", 3)]
        assert village.byline == "本报记者 何雯"
        assert village.sections == ["数据赋能产业"]
        assert village.captions == ["3月2日,村民在直播间推介农产品。何雯 摄"]
        assert bus.dateline == "本报讯(记者 陈晨)"

    def test_markup_is_stripped(self, md_issue):
        assert "*" not in md_issue.text and "](" not in md_issue.text and "#" not in md_issue.text
        assert "村里建起了数字驾驶舱,实时显示" in md_issue.text


# ---------------------------------------------------------------------- general rules on small layouts
TWO_STORIES = """西湖景区游客量创新高

本报记者 张三

今年五一假期,西湖景区累计接待游客超过200万人次,同比增长15%。景区管理部门提前谋划,增加保洁和安保力量。

为缓解交通压力,景区实行单双号限行,并开通多条旅游专线公交,方便游客出行。

芯片产业链加快补链强链

本报记者 李四

今年一季度,全省集成电路产业实现营业收入500亿元,同比增长20%。

{cut}

景区还推出夜游西湖、数字导览等新产品,游客满意度持续提升。西湖景区相关负责人表示,将继续优化服务。

本报讯(记者 王五)近日,省气象台发布今年首个高温预警,提醒市民做好防暑降温。
"""


def _summary(issue: Issue) -> list[tuple]:
    return [(a.title, len(a.paragraphs), tuple(a.sections), len(a.captions), sum(p.truncated for p in a.paragraphs))
            for a in issue.articles]


class TestGeneralRules:
    @pytest.mark.parametrize("cut", [
        "多家芯片设计企业加快布局车规级芯片,一批新产品即将量产。业内预计,全年产值有望突破2000亿元,并带动上下游",
        "多家芯片设计企业加快布局车规级",  # short enough to look like a section heading
    ])
    def test_cut_off_article_and_resumed_article(self, cut):
        issue = parse_issue(TWO_STORIES.format(cut=cut))
        lake, chips, _weather = issue.articles
        assert [len(lake.paragraphs), len(chips.paragraphs)] == [3, 2]
        assert lake.paragraphs[-1].text.startswith("景区还推出夜游西湖")
        assert chips.paragraphs[-1].text == cut and chips.paragraphs[-1].truncated
        assert not chips.sections and not lake.sections
        check_offsets(issue)

    def test_dateline_without_headline_opens_an_untitled_article(self):
        weather = parse_issue(TWO_STORIES.format(cut="多家芯片设计企业加快布局车规级。")).articles[-1]
        assert weather.title is None and weather.dateline == "本报讯(记者 王五)"
        assert len(weather.paragraphs) == 1

    @pytest.mark.parametrize("width", [25, 36])
    def test_hard_wrapped_lines(self, width):
        text = SAMPLE.read_text(encoding="utf-8")

        def wrap(par: str) -> str:
            return "\n".join(par[i:i + width] for i in range(0, len(par), width))

        blank_separated = "\n\n".join(wrap(par) for par in text.split("\n\n"))
        indented = "\n".join("\u3000\u3000" + wrap(par) for par in text.split("\n\n") if par.strip())
        expected = _summary(parse_issue(text))
        for layout in (blank_separated, indented):
            issue = parse_issue(layout)
            assert _summary(issue) == expected
            assert [p.text for p in issue.paragraphs] == [p.text for p in parse_issue(text).paragraphs]
            check_offsets(issue)

    def test_one_paragraph_per_line(self, sample):
        lines = "\n".join(line for line in SAMPLE.read_text(encoding="utf-8").split("\n") if line.strip())
        assert _summary(parse_issue(lines)) == _summary(sample)

    def test_html_paragraphs_without_headings(self, sample):
        lines = [line for line in SAMPLE.read_text(encoding="utf-8").split("\n") if line.strip()]
        page = "<html><body>" + "".join(f"<p>{line}</p>\n" for line in lines) + "</body></html>"
        assert _summary(parse_issue(page.encode("utf-8"))) == _summary(sample)


LONG = "下一步,市交通局还将改造周边道路。" * 10  # too long to be a photo caption


class TestSmallRules:
    def test_caption_forms_inside_an_article(self):
        issue = parse_issue("道路改造完工\n\n本报记者 张三\n\n记者从市交通局获悉,道路改造已完工。\n\n图为改造后的道路。\n\n"
                            "新路面更平整,市民出行更方便。\n\n市民在改造后的道路上骑行。(新华社记者 李四 摄)\n\n"
                            + LONG + "\n\n本报记者 王五 摄\n")
        [road] = issue.articles
        assert road.byline == "本报记者 张三"
        assert [p.text for p in road.paragraphs] == [
            "记者从市交通局获悉,道路改造已完工。", "新路面更平整,市民出行更方便。", LONG]
        assert road.captions == ["图为改造后的道路。", "市民在改造后的道路上骑行。(新华社记者 李四 摄)", "本报记者 王五 摄"]

    @pytest.mark.parametrize("name, paper, date", [
        ("zjrb20230801.txt", "zjrb", "2023-08-01"),
        ("浙江日报_2023.08.01.txt", "浙江日报", "2023-08-01"),
        ("issue.txt", None, None),
    ])
    def test_file_name_formats(self, name, paper, date):
        issue = parse_issue(SAMPLE.read_text(encoding="utf-8"), source=name)
        assert (issue.paper, issue.date, issue.date_inferred, issue.source) == (paper, date, False, name)


# ---------------------------------------------------------------------- line shapes
class TestShapes:
    @pytest.mark.parametrize("line, page", [("第01版", "01"), ("第 2 版", "02"), ("01版：要闻", "01"), ("A3", "A3"),
                                            ("第０５版：国际", "05"), ("B12 体育", "B12")])
    def test_page_markers(self, line, page):
        assert page_marker(line) == page

    @pytest.mark.parametrize("line", ["第一版的故事", "A380客机", "2023年", "本报记者 李 灿"])
    def test_not_page_markers(self, line):
        assert page_marker(line) is None

    @pytest.mark.parametrize("text, complete", [
        ("好。", True), ("我们都愿来!”", True), ("大课堂——", True), ("有何成因?", True), ("（完）", True),
        ("并建设远距离输", False), ("重大战略,", False), ("企业“越满意”", False)])
    def test_ends_complete(self, text, complete):
        assert ends_complete(text) is complete

    @pytest.mark.parametrize("left, right, joined", [
        ("重大战略,", "推动人才工作。", True),
        ("里蔡村“海里", "红”共富工坊。", True),
        ("宁波市委组", "织部相关负责人表示。", True),
        ("并建设远距离输", "最讲党性、最讲政治。", False),
        ("主要做法有:", "一是加强领导。", False),
        ("他表示,", "本报讯(记者 张三)近日。", False),
    ])
    def test_join_evidence(self, left, right, joined):
        assert join_evidence(left, right) is joined


# ---------------------------------------------------------------------- inputs and errors
class TestInputs:
    def test_str_path_and_path(self, sample):
        assert parse_issue(str(SAMPLE)).to_dict() == sample.to_dict()

    def test_text_with_newline_is_text(self):
        issue = parse_issue("标题很短\n\n本报讯 正文第一段。\n")
        assert issue.articles[0].title == "标题很短"
        assert issue.source == "<text>"

    def test_page_from_single_page_file_name(self, tmp_path):
        path = tmp_path / "zjrb-2023-08-01_03.txt"
        shutil.copy(SAMPLE, path)
        issue = parse_issue(path)
        assert issue.page == "03" and all(a.page == "03" for a in issue.articles)
        assert (issue.paper, issue.date) == ("zjrb", "2023-08-01")

    def test_format_detection(self):
        assert read_issue_text(b"<p>a</p><p>b</p><p>c</p>")[1] == "html"
        assert detect_format("# 标题\n\n正文") == "markdown"
        assert detect_format("正文 #3 号\n") == "text"


class TestErrors:
    def _raises(self, what, **kw) -> str:
        with pytest.raises(InputError) as info:
            parse_issue(what, **kw)
        message = str(info.value)
        assert message and "\n" not in message
        return message

    def test_binary(self, tmp_path):
        path = tmp_path / "photo.jpg"
        path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 8)
        assert "binary" in self._raises(path)
        assert "binary" in self._raises(bytes(range(1, 32)) * 10)

    def test_empty(self, tmp_path):
        path = tmp_path / "empty.txt"
        path.write_bytes(b"")
        assert "empty" in self._raises(path)
        assert "empty" in self._raises(b"")

    def test_whitespace_only(self, tmp_path):
        path = tmp_path / "blank.txt"
        path.write_text(" \n\t\n\u3000\n", encoding="utf-8")
        assert "white space" in self._raises(path)
        assert "white space" in self._raises("\n\n   \n")

    def test_directory(self, tmp_path):
        assert "directory" in self._raises(tmp_path)

    def test_device(self):
        assert "regular file" in self._raises("/dev/zero")

    def test_missing(self, tmp_path):
        assert "no such file" in self._raises(tmp_path / "nope.txt")
        assert "no such file" in self._raises("zjrb-2099-01-01.txt")

    def test_undecodable(self, tmp_path):
        path = tmp_path / "latin1.txt"
        path.write_bytes("Café crème, naïve façade\n".encode("latin-1") + b"\x80\x80")
        assert "decode" in self._raises(path)

    def test_bad_bom(self):
        assert "byte-order mark" in self._raises(b"\xef\xbb\xbf\xff\xfe\xfd")

    def test_surrogates(self):
        assert "surrogate" in self._raises("正文\ud800\n第二行")

    def test_bad_arguments(self):
        self._raises(SAMPLE, date="2023-13-01")
        self._raises(12345)
        self._raises("bad\x00path")


# ---------------------------------------------------------------------- properties
_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
_PUNCT = st.sampled_from(list("。，,、；：:！？!?…“”‘’（）()《》|｜——- \u3000\t\n\r"))
_ANY = st.characters(exclude_categories=("Cs",))
_TEXT = st.text(alphabet=st.one_of(_CJK, _PUNCT, _ANY), max_size=300)
_PIECES = st.sampled_from([
    "第01版", "第 2 版", "A3", "01版：要闻", "浙江日报", "2023年8月1日 星期二", "十问十答 | 系列报道之八",
    "能源保供要“广积粮”", "——访浙能集团董事长", "本报记者 胡静漪", "记者 张三 通讯员 李四", "政治铸魂走深走实",
    "本报绍兴7月31日电(记者周榕华)今天开会。", "本报讯(记者王丹静)近日,宁波市委组", "织部相关负责人表示。",
    "人才强省重大战略,", "推动人才工作。", "在里蔡村“海里", "红”共富工坊。", "并建设远距离输", "最讲党性。",
    "记者:有何成因?", "胡仲明:近期用电上升。", "本报特派记者 王建龙 摄", "(新华社记者 李 摄)", "图为现场。",
    "7月31日,成都大运会开赛。", "# 标题", "## 小标题", "![图说](a.jpg)", "<p>段落</p>", "<h2>标题</h2>", "<br>",
    "**加粗**", "---", "", "   ", "\u3000\u3000缩进的段落。",
])
_SEPARATORS = st.sampled_from(["\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", " "])


@st.composite
def layouts(draw) -> str:
    """Issue-like text: realistic headline/body/caption pieces mixed with random text."""
    parts = draw(st.lists(st.one_of(_PIECES, _PIECES, _TEXT), min_size=1, max_size=25))
    out = ""
    for part in parts:
        out += part + draw(_SEPARATORS)
    return out


def _parse_or_input_error(what, **kw) -> Issue | None:
    try:
        issue = parse_issue(what, **kw)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None
    check_offsets(issue)
    # No article without text: a heading with nothing under it is never an article.
    assert all(a.paragraphs or a.captions for a in issue.articles)
    return issue


# NEWSQA_FUZZ_EXAMPLES=5000 runs a longer fuzzing session; the default keeps the suite fast.
_FUZZ = settings(max_examples=int(os.environ.get("NEWSQA_FUZZ_EXAMPLES", "200")), deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


class TestProperties:
    @_FUZZ
    @given(_TEXT)
    def test_random_text(self, text):
        issue = _parse_or_input_error("\n" + text)
        if issue is not None and detect_format(issue.text) == "text":
            assert issue.text == ("\n" + text).replace("\r\n", "\n").replace("\r", "\n")

    @_FUZZ
    @given(_TEXT)
    def test_random_short_strings_are_paths(self, text):
        _parse_or_input_error(text)

    @_FUZZ
    @given(layouts())
    def test_issue_like_text(self, text):
        _parse_or_input_error(text)

    @_FUZZ
    @given(layouts(), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030"]))
    def test_issue_like_bytes(self, text, encoding):
        _parse_or_input_error(text.encode(encoding, errors="replace"))

    @_FUZZ
    @given(st.binary(max_size=600))
    def test_random_bytes(self, data):
        _parse_or_input_error(data)

    @_FUZZ
    @given(st.lists(st.one_of(_PIECES, _TEXT, st.sampled_from(
        ["<p>", "</p>", "<h1>", "</h1>", "<h3>", "<script>", "</script>", "<figcaption>", "<hr>", "&amp;", "&#x4e2d;",
         "<article>", "<!--", "-->", "<![CDATA[", "<!doctype html>", "<div", ">"])), max_size=30))
    def test_html_like(self, parts):
        _parse_or_input_error("<html>\n" + "".join(parts), source="x.html")
        _parse_or_input_error("\n".join(parts) + "\n", source="x.md")


# ---------------------------------------------------------------------- real e-paper layouts (#16)
FURNITURE = ("版式设计", "责编", "数据来源", "更多精彩", "图片说明", "《 人民日报 》")


def check_structure(issue: Issue) -> None:
    """No article without text, no furniture in any paragraph, every caption cited like a paragraph."""
    check_offsets(issue)
    for a in issue.articles:
        assert a.paragraphs or a.figures, a  # a photo article has captions and no body
        assert not any(word in p.text for p in a.paragraphs + a.figures for word in FURNITURE)
        assert all(p.kind == "body" for p in a.paragraphs)
        assert all(p.kind == "caption" and p.section == "图片说明" for p in a.figures)
        captions = iter(a.captions)  # each figure is one of the captions, in order, less any credit at its end
        assert all(any(c.startswith(f.text) for c in captions) for f in a.figures), a


def body_lines(path: Path) -> list[str]:
    """The lines of a web-form file that are indented body paragraphs (not subheads)."""
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    return [ln.strip() for ln in lines if ln.startswith("\u3000\u3000") and not ln.strip().startswith(("◆", "（"))]


@pytest.fixture(scope="module")
def web() -> Issue:
    return parse_issue(DATA / "web-2024-01-22.txt")


class TestWebPage:
    """One page of a national daily as its e-paper site shows it: CRLF, indented paragraphs."""

    def test_file_is_the_web_form(self):
        raw = (DATA / "web-2024-01-22.txt").read_bytes().decode("utf-8")
        assert raw.count("\r\n") == raw.count("\n") and raw.count("\r\n\u3000\u3000") >= 10

    def test_headline_stacks(self, web):
        assert [(a.kicker, a.title, a.subtitle) for a in web.articles] == [
            ("焕然一新的村庄，处处是幸福的笑脸", "乡村振兴绘就和美新画卷", None),  # empty 副题 slot
            ("汪洋在纪念光彩事业发起实施二十五周年座谈会上强调", "推动新时代光彩事业持之以恒、创新发展", None),
            (None, "数字经济发展动能强劲", "全年软件业务收入突破12万亿元"),  # empty 引题 slot
        ]

    def test_paragraphs_are_the_indented_lines(self, web):
        assert [len(a.paragraphs) for a in web.articles] == [5, 3, 3]
        assert [p.text for p in web.paragraphs if p.kind == "body"] == body_lines(DATA / "web-2024-01-22.txt")

    def test_end_byline_and_datelines(self, web):
        village, meeting, software = web.articles
        assert village.byline == "本报记者王沛、李茂颖、申智林、方圆" and village.dateline is None
        assert meeting.dateline == "新华社北京1月21日电" and meeting.byline is None
        assert software.dateline == "本报北京1月21日电  （记者刘温馨）"

    def test_subheads_are_sections(self, web):
        village, _, software = web.articles
        assert village.sections == ["◆山东", "◆云南"]
        assert [p.section for p in village.paragraphs] == [None, "◆山东", "◆山东", "◆云南", "◆云南"]
        assert software.sections == ["科技领先  创新研发强劲"]
        assert software.paragraphs[-1].section == "科技领先  创新研发强劲"

    def test_photo_block(self, web):
        village = web.articles[0]
        assert [(f.text, f.credit) for f in village.figures] == [
            ("图①、图④：1月17日，山东省临沂市沂南县竹泉村的村民在新建的文化广场上跳舞。", "本报记者  赵益普  周之然摄"),
            ("图②：中缅油气管道瑞丽段沿线的村寨。", "中缅油气管道项目供图"),
        ]
        assert all(not a.figures for a in web.articles[1:])

    def test_structure(self, web):
        check_structure(web)
        assert (web.paper, web.date) == ("web", "2024-01-22")

    def test_source_line_gives_the_page(self, web):
        # "《 人民日报 》（ 2024年01月22日   第 04 版）" and "（责编：…）" close the second article.
        assert [a.page for a in web.articles] == [None, "04", None]
        assert not any("人民日报" in p.text or "责编" in p.text for p in web.paragraphs)
        assert parse_issue((DATA / "web-2024-01-22.txt").read_bytes()).paper == "人民日报"  # no file name to say


@pytest.fixture(scope="module")
def reports() -> Issue:
    return parse_issue(DATA / "web-reports-2023-10-22.txt")


class TestReportsUnderOneHeading:
    """Several short reports under one shared heading are articles of their own."""

    def test_each_report_is_an_article(self, reports):
        assert [(a.kicker, a.title, a.subtitle) for a in reports.articles] == [
            ("权威发布", "全国人大常委会法工委举行记者会", "介绍今年立法工作计划"),
            ("国家统计局发布数据显示", "前三季度国内生产总值同比增长5.2%", None),  # "…显示" leads in
            (None, "海关总署公布进出口数据", "前三季度货物贸易进出口总值30.8万亿元"),
        ]
        assert [len(a.paragraphs) for a in reports.articles] == [2, 2, 2]

    def test_each_report_has_its_dateline_and_reporter(self, reports):
        assert [a.dateline for a in reports.articles] == [
            "本报北京10月21日电  （记者彭波）", "本报北京10月21日电  （记者陆娅楠）", "新华社北京10月21日电"]
        assert reports.articles[2].paragraphs[-1].text == "其中，出口17.6万亿元，增长0.6%；进口13.2万亿元，下降1.2%。"

    def test_structure(self, reports):
        check_structure(reports)
        assert [p.text for p in reports.paragraphs if p.kind == "body"] == body_lines(DATA / "web-reports-2023-10-22.txt")
        # Each 副题 is indexed too, without its dashes.
        subtitles = [a.subtitle for a in reports.articles if a.subtitle]
        assert subtitles and [p.text for p in reports.paragraphs if p.kind == "subtitle"] == \
            [t.lstrip("—- \u3000") for t in subtitles]


@pytest.fixture(scope="module")
def export() -> Issue:
    return parse_issue(DATA / "export-2024-02-03.txt")


class TestPageExportWithPhotos:
    """The page-export form (blank-line separated) of the same conventions, and a photo page."""

    def test_articles(self, export):
        assert [(a.title, a.subtitle, a.page, len(a.paragraphs), len(a.figures)) for a in export.articles] == [
            ("坚持创新驱动 培育发展新动能", "各地加快发展新质生产力", "04", 3, 2),
            ("春运首日全国发送旅客超千万人次", "铁路民航客流同比明显增长", "04", 2, 1),
            (None, None, "05", 0, 1),
            (None, None, "05", 0, 1),
        ]
        assert (export.paper, export.date) == ("export", "2024-02-03")

    def test_end_byline_and_credits(self, export):
        lead, rail, plum, lake = export.articles
        assert lead.byline == "本报记者徐靖、李刚、程远州"
        assert [f.credit for f in lead.figures] == ["本报记者  徐靖摄", "新华社发"]
        assert rail.figures[0].text == "2月2日，旅客在北京西站有序进站乘车。"
        assert rail.figures[0].credit == "本报记者  张武军摄"

    def test_photo_page_is_one_photo_article_per_photo(self, export):
        plum, lake = export.articles[2:]
        assert (plum.byline, lake.byline) == ("本报记者  江南摄", "新华社记者  李博摄")
        assert "梅花" in plum.figures[0].text and "玄武湖" in lake.figures[0].text

    def test_structure(self, export):
        check_structure(export)
        bodies = {p.text for p in export.paragraphs}
        assert not any(line in bodies for line in ("人民日报", "第04版：要闻", "（本报记者徐靖、李刚、程远州）"))


@pytest.fixture(scope="module")
def markup() -> Issue:
    return parse_issue(DATA / "qjzb-2024-05-06.md")


class TestMarkdownText:
    """Markdown comes out as clean text: no tags, entities decoded, escapes kept, emphasis gone (#13 point 2)."""

    def test_paragraphs(self, markup):
        renewal, night = markup.articles
        assert [p.text for p in renewal.paragraphs] == [
            "老旧小区改造后，居民出行更方便了。改造共涉及楼栋86幢，惠及居民3200余户。",
            "据统计，改造后小区停车位由不足200个增加到<500个>的规模，绿化率提高到35%，居民满意度达到98%。",
            "社区工作人员介绍，新建的智慧平台文件名为 smart_community_v2，居民可在线报修，*星号*照常显示，"
            "路径写作 C:\\data\\2024。",
            "[[老街]]改造坚持修旧如旧，保留了历史风貌 & 街巷肌理。",
        ]
        assert night.paragraphs[0].text.endswith("同比增长12%，夜市、夜游、夜演等新业态受到游客青睐。")

    def test_caption_and_its_credit(self, markup):
        [figure] = markup.articles[0].figures
        assert (figure.text, figure.credit) == ("5月5日，居民在改造后的小区广场上健身。", "本报记者 林一 摄")

    def test_no_markup_left(self, markup):
        for p in markup.paragraphs:
            assert not re.search(r"<[a-z/]|&[a-z#0-9]+;|\\[_*]|\*\*|(?<![A-Za-z])_|\bref\b|nowiki", p.text), p.text
        assert "杭州市住房保障局" not in markup.text  # the <ref> footnote, not prose
        check_structure(markup)

    @pytest.mark.parametrize("line, text", [
        ("a\\_b and \\*c\\* and \\\\d", "a_b and *c* and \\d"),
        ("中文_强调_与*斜体*和__粗__", "中文强调与斜体和粗"),
        ("snake_case_name stays", "snake_case_name stays"),
        ("x &lt;br&gt; y &amp;amp;", "x <br> y &amp;"),  # decoded once: the text says "<br>"
        ("甲<br/>乙<span class='x'>丙</span>", "甲乙丙"),
        ("one<br>two", "one two"),
        ("`a_b *c*` <nowiki>''x''</nowiki>", "a_b *c* ''x''"),
        ("见<ref>人民网</ref>报道<ref name=b/>。", "见报道。"),
    ])
    def test_inline(self, line, text):
        [segment] = markdown_segments(line + "\n")
        assert segment.text == text


# ---------------------------------------------------------------------- properties of web pages
_NAMES = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=3)
_SENTENCE = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=6, max_size=60).map(
    lambda t: t + "。")
_KICKERS = st.sampled_from(["习近平在全国科技大会上强调", "焕然一新的村庄，处处是幸福的笑脸", "国家统计局发布数据显示", "权威发布"])
_TITLES = st.sampled_from(["乡村振兴绘就和美新画卷", "推动新时代光彩事业持之以恒、创新发展", "数字经济发展动能强劲",
                           "春运首日全国发送旅客超千万人次", "外贸“开门红”成色足", "城市更新让老街区焕发新活力"])
_SUBTITLES = st.sampled_from(["全年软件业务收入突破12万亿元", "铁路民航客流同比明显增长", "前三季度经济运行稳中向好"])
_FURNITURE_LINES = st.sampled_from(["版式设计：张丹峰", "责编：李晓", "更多精彩", "数据来源：国家统计局", "本版责编：王磊",
                                    "（责编：杨光宇、牛镛）", "《 人民日报 》（ 2024年01月22日   第 01 版）"])


@st.composite
def web_articles(draw) -> dict:
    """One article of a web page, with what the parser should find in it."""
    kicker = draw(st.none() | _KICKERS)
    title = draw(_TITLES)
    subtitle = draw(st.none() | _SUBTITLES)
    body = draw(st.lists(_SENTENCE, min_size=1, max_size=5, unique=True))
    if draw(st.booleans()):
        body[0] = f"本报北京1月21日电  （记者{draw(_NAMES)}）" + body[0]
    subheads = {k: "◆" + draw(_NAMES) for k in draw(st.sets(st.integers(1, max(1, len(body) - 1)), max_size=2))
                if k < len(body)}
    byline = draw(st.none() | _NAMES.map(lambda n: f"本报记者{n}"))
    captions = draw(st.lists(st.tuples(_SENTENCE, _NAMES), max_size=2))
    furniture = draw(st.lists(_FURNITURE_LINES, max_size=2))
    return {"kicker": kicker, "title": title, "subtitle": subtitle, "body": body, "subheads": subheads,
            "byline": byline, "captions": captions, "furniture": furniture}


def web_page(articles: list[dict], newline: str) -> str:
    """Lay articles out as an e-paper site does: a three-slot headline stack, indented lines."""
    lines: list[str] = []
    for art in articles:
        lines += ["", art["kicker"] or "", art["title"], art["subtitle"] or ""]  # empty slots stay as blank lines
        for k, par in enumerate(art["body"]):
            if k in art["subheads"]:
                lines.append("\u3000\u3000" + art["subheads"][k])
            lines.append("\u3000\u3000" + par)
        if art["byline"]:
            lines.append(f"\u3000\u3000（{art['byline']}）")
        if art["captions"]:
            lines.append("图片说明：")
            for n, (caption, name) in enumerate(art["captions"]):
                lines += [f"图{'①②'[n]}：{caption}", f"本报记者  {name}摄"]
        lines += art["furniture"]
    return newline.join(lines) + newline


class TestWebProperties:
    @_FUZZ
    @given(st.lists(web_articles(), min_size=1, max_size=4), st.sampled_from(["\r\n", "\n"]))
    def test_web_pages(self, articles, newline):
        issue = parse_issue(web_page(articles, newline))
        check_structure(issue)
        assert [(a.kicker, a.title, a.subtitle) for a in issue.articles] == [
            (a["kicker"], a["title"], a["subtitle"]) for a in articles]
        # Every body line is kept once, whole, in its own article; no subhead or byline in the text.
        assert [[p.text for p in a.paragraphs] for a in issue.articles] == [a["body"] for a in articles]
        assert [a.sections for a in issue.articles] == [list(a["subheads"].values()) for a in articles]
        assert [a.byline for a in issue.articles] == [a["byline"] for a in articles]
        assert [[(f.text, f.credit) for f in a.figures] for a in issue.articles] == [
            [(f"图{'①②'[n]}：{c}", f"本报记者  {name}摄") for n, (c, name) in enumerate(a["captions"])]
            for a in articles]

    @_FUZZ
    @given(st.lists(web_articles(), min_size=1, max_size=4))
    def test_page_export_form(self, articles):
        # The same articles laid out as a page export: every line its own block, blank-line
        # separated, a wider gap between articles. The stack's empty slots no longer show, so
        # its lines, not their roles, are checked; and an export may interleave articles, so
        # each body line is checked to be kept once, whole, not where it went.
        text = "\n\n\n\n".join("\n\n".join(ln.strip() for ln in web_page([art], "\n").split("\n") if ln.strip())
                                 for art in articles) + "\n"
        issue = parse_issue(text)
        check_structure(issue)
        assert sorted(p.text for p in issue.paragraphs if p.kind == "body") == sorted(
            p for a in articles for p in a["body"])
        assert [[t for t in (a.kicker, a.title, a.subtitle) if t] for a in issue.articles] == [
            [t for t in (a["kicker"], a["title"], a["subtitle"]) if t] for a in articles]
