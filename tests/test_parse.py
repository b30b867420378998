"""Tests of the issue parser: the real sample, offsets, a gallery of layouts, errors and fuzzing."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.document import Article, Issue, Paragraph
from qa.errors import InputError
from qa.parse import ends_complete, join_evidence, page_marker, parse_issue
from qa.textio import detect_format, read_issue_text

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
