"""Question analysis: the key terms and proper names of a question, shared by the reranker and the answerer."""

from __future__ import annotations

import re

from qa.tokens import QUESTION_WORDS, jieba_segmenter, normalize

# Question words, cut out before segmenting so jieba does not glue them to a neighbour ("多大面积" → 多/大面积).
INTERROGATIVE = re.compile(r"多大|多少|多长时间|多长|多久|多高|多远|多重|几[个名家项次回人件位天年种类条座所批户届轮倍成岁]?|哪一天|哪一年|哪天|哪年|"
                           r"什么时候|什么样|什么|为什么|为何|怎么样|怎么|怎样|如何|是谁|哪里|哪儿|哪些|哪个|哪位|哪|谁")
# What a question asks for, by its question word.
ASKS_PERSON = re.compile(r"谁|哪位|什么人|叫什么名字")
ASKS_WHEN = re.compile(r"哪一年|哪年|哪一天|哪天|什么时候")
ASKS_PLACE = re.compile(r"哪里|哪儿|在哪|哪个(?:省|市|县|区|镇|乡|村|街道|社区|地方)|哪些地区|什么地方")
_ASKED = (("place", ASKS_PLACE), ("time", re.compile(ASKS_WHEN.pattern + r"|何时|几点|几月|几号|多久|多长时间")),
          ("person", ASKS_PERSON), ("count", re.compile(r"多少|几|多大|多高|多长|多远|多重")),
          ("reason", re.compile(r"为什么|为何")))
# Places, people, organisations. jieba's nz/j also tag guesses of its HMM ("家共富"), too noisy to rely on.
NAMED = ("ns", "nr", "nt")
_PREPOSITIONS = frozenset("从在到给向对把被和与跟往于")
_FOCUS = ("n", "nz", "j", "vn", "eng", "b", "nrt", "nw")
# A length of time asked with what bounds it ("上任多久内交报告"): cut out whole, or jieba reads 内交.
_WITHIN = re.compile(r"(?:多久|多长时间|几个?(?:天|年|月|周|小时)|多少(?:天|年|个月|小时))(?:以内|之内|内|以前|之前|以后|之后)")
_GENERIC = frozenset("一共 总共 名字 时间 情况 问题 方面 工作 内容 原因 目的 数量 总数 人数 名称 地方 东西 办法 措施 人 人家 事"
                     " 消息 信息 报道 新闻 说法 比赛 活动 来源 消息来源 出处 照片 图片 配图".split())  # 消息, 比赛: what is being talked about, not asked


# Spoken question words and the written ones news and the reader's training questions use
# ("为啥" is 为什么), and abbreviations a paper writes out ("GDP": 地区生产总值, "人代会": 人民代表大会).
_SPOKEN = (("为啥", "为什么"), ("干啥", "做什么"), ("啥时候", "什么时候"), ("啥时", "什么时候"), ("咋样", "怎么样"),
           ("咋", "怎么"), ("啥", "什么"), ("多会儿", "什么时候"),
           ("一共", ""), ("总共", ""))  # "一共建了多少家": the reader, 12% sure, is 93% sure without it
_ABBREVIATIONS = ((re.compile(r"^(?:那么|那)?(?:报道|文章|新闻|报纸|报)(?:里|中|上)(?:的|说的?)?"), ""),  # "报道里的张阿姨…"
                  (re.compile(r"(?<=[在去到从往])哪儿?(?![里个些一位天年种类家条件样方])|哪儿"), "哪里"),  # 在哪拍的
                  (re.compile(r"GDP", re.IGNORECASE), "地区生产总值"), (re.compile(r"人代会|人大(?=[一二三四五六七八九十]+次会议|常委会|代表)"), "人民代表大会"),
                  (re.compile(r"头班(?:车)?|(?:第一|最早(?:的)?一)班(?:车)?"), "首班车"),
                  (re.compile(r"(?:最后|最晚|最末)(?:的)?一?班(?:车)?"), "末班车"),
                  # A paper's register: a person holding a post "是谁", a source "获悉".
                  (re.compile(r"(?<=长|记|任|人|军|手|员|练|师|者)叫(?:什么|啥)(?:名字)?"), "是谁"),
                  (re.compile(r"是?(哪个部门|哪个单位|哪里|谁)(?:说|发布|透露|给|提供|公布|披露)的"), r"是从\1获悉的"),
                  (re.compile(r"(?:(?<=数据)|(?<=消息)|(?<=数字)|(?<=个数)|(?<=说法))是?(?:从)?(哪(?:里|儿)|哪个部门|哪个单位|谁)来的"),
                   r"是从\1获悉的"),
                  (re.compile(r"(?:消息|数据)?来源是(?:什么|哪里|哪儿)?(?=[？?]?$)"), "消息是从哪里获悉的"),
                  (re.compile(r"女双(?!打)"), "女子双人"), (re.compile(r"男双(?!打)"), "男子双人"),
                  # "多挣多少钱" is what a paper calls 增收: the pay itself ("每月能赚3000元") is no answer.
                  (re.compile(r"多(?:挣|赚)了?(?=多少|几)"), "增收"),
                  # A grid's summer peak is 迎峰度夏 in a paper; "用了多少电" asks how much it 用电 (一年: the reader balks).
                  (re.compile(r"(?:夏天|夏季|入夏)(?:的)?(?:用电)?(?:高峰)?(?:时|期|期间)?(?=[^？?]*(?:负荷|用电))"), "迎峰度夏期间"),
                  (re.compile(r"(?:一年|一整年)?(?:一共|总共)?用了多少(?:度)?电"), "用电是多少"))


def written_form(question: str) -> str:
    """A question in written words: spoken question words and abbreviations replaced
    ("为啥今年价格好？" → "为什么今年价格好？", "今年GDP目标定的多少？" → "今年地区生产总值目标定的多少？")."""
    for spoken, written in _SPOKEN:
        question = question.replace(spoken, written)
    for pattern, full in _ABBREVIATIONS:
        question = pattern.sub(full, question)
    return question


# A verb with a directional complement ("评出来", jieba's vn) is something done, not what is asked about.
_DIRECTED = re.compile(r"[\u3400-\u9fff](?:出来|起来|下来|上来|过来|进来|出去|下去|上去)$")


def key_terms(question: str) -> tuple[list[str], list[str], list[str]]:
    """The words of a question that an answer must be about.

    Returns:
        (terms, names, focus): content words (question words dropped); among them the proper
        names (places, people, organisations); and the nouns and numbers that say what is asked
        about (校长, 开幕式, 9月1日).
    """
    import jieba.posseg as pseg

    from qa.tokens import jieba_segmenter

    jieba = jieba_segmenter()
    terms, names, focus = [], [], []
    for pair in pseg.cut(INTERROGATIVE.sub("，", _WITHIN.sub("，", normalize(question)))):
        word, flag = pair.word, pair.flag
        if word in QUESTION_WORDS or not re.search(r"[0-9A-Za-z\u3400-\u9fff]", word) or flag in ("r", "uj", "y", "c", "p"):
            continue
        terms.append(word)
        if flag in NAMED and len(word) >= 2:
            names.append(_name(word, jieba))
        elif flag in _FOCUS and (len(word) >= 2 or word.isdigit()) and word not in _GENERIC and not _DIRECTED.search(word):
            focus.append(word)
    return list(dict.fromkeys(terms)), list(dict.fromkeys(names)), list(dict.fromkeys(focus))


def asked_kind(question: str) -> str | None:
    """What kind of answer a question asks for: "place", "time", "person", "count" or "reason";
    None when its question word says no kind (什么, 怎么样)."""
    return next((kind for kind, pattern in _ASKED if pattern.search(question)), None)


# How something is ("春茶品质怎么样？"): a sentence not naming 品质 does not say. Words such as 效果
# or 进展 are answered in other words ("成效明显"), so they are not held to.
_HOW_IS = re.compile(r"([\u3400-\u9fff]{2,})(?:怎么样|怎样|如何)[？?。]*$")
_LOOSE_ATTRIBUTES = frozenset("效果 成效 进展 表现 反响 前景 情况 状况 形势 态势 发展 工作 人气 口碑 氛围".split())


def asked_attribute(question: str) -> str | None:
    """The noun a question asks how it is ("今年春茶品质怎么样？": 品质), or None."""
    import jieba.posseg as pseg

    asked = _HOW_IS.search(normalize(question))
    if not asked:
        return None
    jieba_segmenter()  # the project's words loaded
    pairs = list(pseg.cut(asked.group(1)))
    word, flag = pairs[-1].word, pairs[-1].flag
    if flag.startswith(("n", "vn")) and len(word) >= 2 and word not in _GENERIC and word not in _LOOSE_ATTRIBUTES:
        return word
    return None


# Words news writes for one another: "比去年同期增长" is "同比增长".
_SAME = {"去年同期": ("同比",), "同比": ("去年同期", "上年同期"), "补贴": ("补助",), "补助": ("补贴",),
         "总额": ("总值", "总量"), "总值": ("总额", "总量"), "总量": ("总额", "总值")}


def coverage(terms: list[str], text: str, partial: bool = True) -> float:
    """Share of the key terms found in the text; with ``partial``, a term counts half when only half
    its characters are (else a term counts only whole: 县级 is not in "市级…县(市、区)", 区县 is in
    "区(县、市)")."""
    if not terms:
        return 0.0
    norm = normalize(text)
    # "区(县、市)" lists 区县: the term is there once the brackets and list commas are read past.
    listed = re.sub(r"[()（）、]", "", norm)
    score = 0.0
    for term in terms:
        if term in norm or term in listed or any(same in norm for same in _SAME.get(term, ())):
            score += 1.0
        elif partial and len(term) >= 2 and sum(ch in norm for ch in term) / len(term) >= 0.5:
            score += 0.5 * sum(ch in norm for ch in term) / len(term)
    return score / len(terms)


def question_names(question: str, kinds: tuple[str, ...] = NAMED) -> list[str]:
    """The proper names of a question whose jieba tag is one of ``kinds`` ("ns" places, "nr"
    people, "nt" organisations), two characters or more, as in ``key_terms``."""
    import jieba.posseg as pseg

    from qa.tokens import jieba_segmenter

    jieba = jieba_segmenter()
    # "那迎峰度夏期间…": a follow-up's leading 那 is glued to the name after it.
    text = re.sub(r"^那(?=[\u3400-\u9fff]{2})", "", INTERROGATIVE.sub("，", normalize(question)).strip())
    names = [_name(p.word, jieba) for p in pseg.cut(text) if p.flag in kinds and len(p.word) >= 2]
    return list(dict.fromkeys(names))


def _name(word: str, jieba) -> str:
    """jieba reads "从金华" as one name: drop a leading preposition when the rest is a word."""
    if word[0] in _PREPOSITIONS and len(word) >= 3 and word[1:] in jieba.dt.FREQ:
        return word[1:]
    return word


# Alternatives a question picks one of: a text that names only another of the same set is about
# something else (男子 asked, 女子 given; 去年 asked, 今年以来 given).
_ALTERNATIVES = (("男子", "女子"), ("男性", "女性"), ("单人", "双人"), ("单打", "双打"), ("进口", "出口"),
                 ("城镇", "农村"), ("今年", "去年", "明年", "前年"),
                 ("国内", "国外"), ("全省", "全市", "全国"), ("金牌", "银牌", "铜牌"), ("冠军", "亚军", "季军"), ("小学", "初中", "高中"),
                 ("早稻", "中稻", "晚稻"), ("首班", "末班"))
# Alternatives written in several ways, found as text: the parts of a year (a month, a quarter, a
# half, the first months) and the levels of government. Each pattern gives the label it stands for.
_SPANS = (
    ("period", re.compile(r"上半年"), lambda m: "上半年"),
    ("period", re.compile(r"下半年"), lambda m: "下半年"),
    ("period", re.compile(r"前([一二三1-3])季度"), lambda m: f"前{_digit(m.group(1))}季度"),
    ("period", re.compile(r"第?([一二三四1-4])季度"), lambda m: f"{_digit(m.group(1))}季度"),
    ("period", re.compile(r"前([两二三四五六七八九十]|1[0-2]|[2-9])个?月"), lambda m: f"前{_digit(m.group(1))}月"),
    ("period", re.compile(r"(?<![\d.])1(?:-|—|至|到)(1[0-2]|[2-9])月"), lambda m: f"前{m.group(1)}月"),
    ("period", re.compile(r"(?<![\d.\-—至到])(1[0-2]|[1-9])月"), lambda m: f"{m.group(1)}月"),
    ("level", re.compile(r"省级|省管"), lambda m: "省级"),
    ("level", re.compile(r"市级|设区市"), lambda m: "市级"),
    ("level", re.compile(r"县级"), lambda m: "县级"),
    # One year is not a run of years: "去年一年调整了多少人？" is not answered by "5年多来…1500余名".
    ("years", re.compile(r"(?:[0-9]+|[一二三四五六七八九十两几]+)年多?(?:来|以来|间)|近[0-9一二三四五六七八九十两几]+年|"
                         r"这些年|这几年|近年|多年|历年"),
     lambda m: "多年"),
    ("years", re.compile(r"(?:今年|去年|前年|明年)(?!同期)"), lambda m: m.group()),
)
_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# Text after these compares with what follows ("较一季度增长"), it is not what the text is about.
_COMPARING = re.compile(r"(?:比|较|与|同比|环比|超过|高于|低于)$")
# A word after these, or before 同期, is what the text compares with ("比去年增长"), not what it is about.
_COMPARED = frozenset("比 较 同 与 和 于 超过 高于 低于".split())


# What a figure is given per ("每户", "每台", "人均" is 每人).
_PER = re.compile(r"每一?([户人台辆家亩吨年月天日周次位名])|([户人年月日])均|(亩)产")  # 亩产: per 亩
_PER_TIME, _PER_COUNTED = frozenset("年月天周次"), frozenset("户人台辆家亩吨")
_SAME_UNIT = {"日": "天", "位": "人", "名": "人"}
_BEFORE = re.compile(r"之前|以前|原来|原先|调整前|提高前|此前")
_CHANGED_TO = re.compile(r"(?:提高|提升|调整|增加|上调|下调|降低|降|减少|扩大)(?:到|至|为)")
_CHANGED_FROM = re.compile(r"(?:由|从)[^,，。；;]{1,12}(?:提高|提升|调整|增加|上调|下调|降低|降|减少|扩大)")


_OUR_PROVINCE = re.compile(r"我省|本省")  # the paper's province, in its own words


def contrasts(question: str, text: str) -> list[tuple[str, str]]:
    """Alternatives (see ``_ALTERNATIVES``) the question names one of and the text names only another of.

    Args:
        question: the question.
        text: an answer sentence.

    Returns:
        ``(asked, given)`` pairs, e.g. ``[("男子", "女子"), ("单人", "双人")]``; empty when the text
        names what is asked or none of its alternatives.
    """
    jieba = jieba_segmenter()

    def about(sentence: str) -> set[str]:
        """The words a sentence is about, leaving out what it compares with ("比去年涨了多少": 今年's
        alternative 去年 is compared with, not asked of); 今年 in 今年以来, 男子 in 男子组."""
        words = jieba.lcut(normalize(sentence))
        return {part for n, w in enumerate(words)
                if not (n and words[n - 1] in _COMPARED) and not w.endswith("同期")
                and not (n + 1 < len(words) and words[n + 1] == "同期")
                for part in jieba.lcut_for_search(w)}

    asked_words, named = about(question), about(text)
    if _OUR_PROVINCE.search(text):  # "我省全社会用电总量…处在全国第4位" is the province's figure
        named.add("全省")
    found = []
    for group in _ALTERNATIVES:
        asked = [w for w in group if w in asked_words]
        given = [w for w in group if w in named]
        if len(asked) == 1 and given and asked[0] not in named:
            found.append((asked[0], given[0]))
    # "之前的补助标准是多少？" is not given by "补助标准提高到每台20万元": only the new value is.
    if _BEFORE.search(question) and _CHANGED_TO.search(text) and not _CHANGED_FROM.search(text):
        found.append(("之前", "调整后"))
    # "每户分摊多少钱？" is not given by "每台20万元": a figure per another unit.
    # Units of time and units counted apart: "人均月增收" gives a figure per person and month.
    for units in (_PER_TIME, _PER_COUNTED):
        per_asked, per_given = _per(question) & units, _per(text) & units
        if per_asked and per_given and not per_asked & per_given:
            found.append((f"每{min(per_asked)}", f"每{min(per_given)}"))
    # "8月份的用电量" is not given by "7月份…", "一季度" not by "上半年…", "县级" not by "设区市…".
    asked_spans, given_spans = _spans(normalize(question)), _spans(normalize(text))
    for kind, asked in asked_spans.items():
        given = given_spans.get(kind, set())
        if len(asked) == 1 and given and not asked & given:
            found.append((min(asked), min(given)))
    return list(dict.fromkeys(found))


def _per(text: str) -> set[str]:
    """The units a text gives figures per ("每户" and "户均": 户; 每日 is 每天, 每名 is 每人)."""
    return {_SAME_UNIT.get(unit, unit) for unit in ("".join(found) for found in _PER.findall(text))}


def counts_per_unit(question: str, span: str) -> str | None:
    """The unit a question asks a figure per ("以前每台补多少？": 台) when the answer span counts
    that unit instead ("500台"), which gives how many, not how much each; else None."""
    span = normalize(span)
    for unit in _per(question) & _PER_COUNTED:  # counted in the unit or a kin of it (_UNITS: 人 is 人|名|位)
        if re.search(rf"[0-9零一二三四五六七八九十百千万两]\s*[多余万亿千百]*\s*(?:{_UNITS[unit]})(?![\u3400-\u9fff]*[元钱])", span):
            return unit
    return None


def _digit(numeral: str) -> int:
    return int(numeral) if numeral.isdigit() else _NUMERALS[numeral]


def _spans(text: str) -> dict[str, set[str]]:
    """The labels of ``_SPANS`` a text names, by kind; each stretch of text counts once, for the
    first pattern that takes it ("前两个月" is not also 2月), and none compared with ("较上半年")."""
    found: dict[str, set[str]] = {}
    taken = [False] * len(text)
    for kind, pattern, label in _SPANS:
        for m in pattern.finditer(text):
            if any(taken[m.start():m.end()]):
                continue
            taken[m.start():m.end()] = [True] * (m.end() - m.start())
            if not _COMPARING.search(text[max(0, m.start() - 2):m.start()]):
                found.setdefault(kind, set()).add(label(m))
    return found


# The unit of a count a question asks for ("多少班", "几台") and the units an answer may give it in
# ("三创历史新高" is 几次); 个 and 种 fit anything, so they are left out, as are 第几 and 哪几.
_UNITS = {"钱": "元", "元": "元", "人": "人|名|位", "名": "名|人|位", "位": "位|名|人", "天": "天|日", "班": "班|趟",
          "趟": "班|趟", "台": "台", "辆": "辆", "次": "次|回|度|创|连", "年": "年", "岁": "岁", "家": "家", "项": "项", "所": "所",
          "座": "座", "条": "条", "户": "户", "亩": "亩", "吨": "吨", "公里": "公里|千米", "小时": "小时", "倍": "倍",
          "套": "套", "分": "分", "件": "件", "架": "架", "艘": "艘", "批": "批", "届": "届", "场": "场", "间": "间", "任": "任",
          "楼": "楼|层", "层": "层|楼"}
# "多少村民", "多少全职工程师": a count of people, given in 人/名/位/户.
# ("多少干部被容错免责": what happened to them may follow.)
_ASKED_PEOPLE = re.compile(r"(?<![第哪])(?:多少|几)[\u3400-\u9fff]{0,3}(?:民|员|客|生|者|师|工|干部)(?:(?![\u3400-\u9fff])|(?=[被都已还]))")
_ASKED_COUNT = re.compile(rf"(?<![第哪])(?:多少|几)(?:十|百|千|万|亿|十万|百万|千万)?({'|'.join(sorted(_UNITS, key=len, reverse=True))})")
# "几个站", "多少个网格": a count of pieces of what the noun names.
_COUNTED_CHARS = frozenset("站村市县省区镇乡国队组项环节")
# (几个人, 几个月: people and lengths of time are asked of apart.)
_ASKED_PIECES = re.compile(r"(?<![第哪])(?:多少|几)个(?![人月年天小钟星周点百])([\u3400-\u9fff]{1,2})")
_NUMBER = r"[0-9零一二三四五六七八九十百千万亿两]+(?:\.[0-9]+)?\s*[多余万亿千百]*\s*(?:个)?"
# "几点？" is answered by a time of day ("晚上8点", "8:30"), not by a date or a length of time.
_ASKED_CLOCK = re.compile(r"几点")
_CLOCK = re.compile(r"[0-9零一二三四五六七八九十两]+\s*(?:点|时(?![间期代刻候])|:[0-9]{2})")
# "几号？", "哪天？" are answered by a day ("7月3日", "当天", "周五"), not by a year or a month;
# 几号线 and 几号楼 are names, no day.
_ASKED_DAY = re.compile(r"几号(?![线楼门馆厅口台位车院])|哪[一]?天|几月几[日号]|什么日子")
_A_DAY = re.compile(r"[0-9零一二三四五六七八九十]+[日号]|[今昨前明当次同]天|[当同次]日|日前|近日|周[一二三四五六日天末]|星期")
# "多久？" is answered by a length of time ("约1小时", "3个月内") or how often ("每季", "一季一晾晒").
_ASKED_DURATION = re.compile(r"多久|多长时间")
# "隔多久一班？", "多久开一次？" ask how often: "全程约1小时" is a length, not an interval.
_ASKED_FREQUENCY = re.compile(r"(?:多久|多长时间)[\u3400-\u9fff]{0,3}一[次班趟回]|隔多久|间隔多")
_FREQUENCY = re.compile(r"每[^,，。；;]{0,6}|间隔|一[年月天日周季][一个]|[0-9一二三四五六七八九十两半]+(?:分钟|小时|天|周|个月|年)一[次班趟回]")
# A date gives no length of time: "3月4日" does not say how many days.
_DATE = re.compile(r"[0-9零一二三四五六七八九十]+月[0-9零一二三四五六七八九十]+[日号]")


def _without_dates(text: str) -> str:
    """``text`` with its dates blanked, offsets kept."""
    return _DATE.sub(lambda m: " " * len(m.group()), text)
_DURATION = re.compile(rf"{_NUMBER}(?:年|月|天|日|小时|钟头|分钟|周|星期|季度?)|[每一][年月天日周季]")


# "增长多少？" with no unit asks for a rate: a sentence giving only amounts ("总值达到8000亿元,其中出口增长较快") gives none.
_CHANGE = "增长|增幅|增速|下降|降幅|提高|提升|降低|上涨|下跌|涨幅|减少|涨|跌"
_ASKED_RATE = re.compile(rf"(?:{_CHANGE})了?(?:多少|几成)(?![\u3400-\u9fff])|(?:几|多少)个(?:百分)?点")
# "比去年多了多少？" asks a difference: a sentence with a figure and no change gives none ("已落实早稻种植面积120万亩").
_ASKED_DIFFERENCE = re.compile(r"(?:增加|减少|提前|推迟|增收)了?(?:多少|几)|(?:多|少|早|晚)了(?:多少|几)|"
                               r"比[^，,？?]*(?:多|少|早|晚)(?:多少|几)|"  # not "最晚几点发车"
                               r"(?:多|少|高|低|早|晚|增加|减少|增长|下降|涨|跌|上升)了?还是(?:多|少|高|低|早|晚|增加|减少|增长|下降|涨|跌)|"
                               r"多(?:挣|赚|收入?|拿)了?(?:多少|几)")  # "能多挣多少钱？": an increase, not the pay
_DIFFERENCE = re.compile(rf"(?:{_CHANGE}|增加|增收|提前|推迟|扩大|缩小)了?[^,，。；;]{{0,8}}?[0-9零一二三四五六七八九十两]|"
                         r"(?:多|少|早|晚)了?[0-9零一二三四五六七八九十两]|"
                         r"同比|环比|[比较][^,，。；;]{0,10}(?:增|减|多|少|高|低|上升|提前|推迟)")
# A rate of the change itself, in the same clause ("同比增长5.9%"; not "增长较快,…贡献了七成").
_RATE_FIGURE = re.compile(r"[0-9零一二三四五六七八九十两]+(?:\.[0-9]+)?\s*(?:%|％|个百分点|百分点|倍|成)")
_RATE = re.compile(rf"(?:{_CHANGE})[^,，。；;]{{0,8}}?(?:{_RATE_FIGURE.pattern}|两位数|翻[一两]番)")


# "占地多大？" asks an area; "花了多少钱？" a cost, which a subsidy ("补助…每台20万元") is not.
_ASKED_AREA = re.compile(r"占地(?:面积)?(?:有)?多大|面积(?:有)?多大|多大面积|多少平方")
_AREA = re.compile(r"平方(?:公里|千米|米)|亩|公顷|万平")
_ASKED_COST = re.compile(r"花(?:了|掉|费)?(?:多少|几)|要花|总共花|费用|成本|造价|投资了?多少|投入了?多少")
_COST = re.compile(r"花|费用|成本|造价|投资|投入|耗资|总价|价格|售价|票价")


# "进出口总额是多少？" asks an amount: a sentence giving only the rate of its change ("同比增长8.2%") gives none.
_ASKED_AMOUNT = re.compile(r"(?:总额|总值|总量|金额|产值|营收|销售额|规模)(?:是|有|达到?|为)?(?:多少|几)")
_FIGURE = re.compile(r"[0-9]|[零一二三四五六七八九十两][十百千万亿]|[十百千万亿]元")


def missing_unit(question: str, text: str) -> str | None:
    """The unit of the count the question asks for ("一天有多少班？": 班) when the text gives no
    number in it ("单程票价15元" answers no "多少班"), "时间" for a length of time ("多久？") and
    "幅度" for a rate ("增长多少？") the text gives none of; None when it does or none is asked.

    Args:
        question: the question.
        text: an answer sentence.

    Returns:
        The unit as the question writes it, or None.
    """
    question, text = normalize(question), normalize(text)
    if _ASKED_CLOCK.search(question):
        return None if _CLOCK.search(text) else "点钟"
    if _ASKED_DAY.search(question) and not _A_DAY.search(text):
        return "哪一天"
    if _ASKED_DIFFERENCE.search(question) and not _DIFFERENCE.search(text):
        return "变化"  # before the unit: "多挣多少钱？" is not given by "每月能赚3000元"
    if _ASKED_AREA.search(question) and not _AREA.search(text):
        return "面积"
    if _ASKED_AMOUNT.search(question) and not _FIGURE.search(_RATE_FIGURE.sub(" ", text)):
        return "总量"
    asked = _ASKED_COUNT.search(question)
    if asked and not count_in(question, text):
        return asked.group(1)
    if _ASKED_COST.search(question) and not _COST.search(text):
        return "花费"
    if asked:
        return None
    pieces = _pieces(question)
    if pieces:
        # A text not naming the noun may count it in other words ("几个孩子": "育有3名子女").
        other_words = pieces not in text and re.search(rf"{_NUMBER}[个名位家座所条项][\u3400-\u9fff]", text)
        return None if count_in(question, text) or other_words else f"个{pieces}"
    if _ASKED_PEOPLE.search(question):
        return None if re.search(rf"{_NUMBER}(?:人|名|位|户)", text) else "人"
    if _ASKED_FREQUENCY.search(question):
        return None if _FREQUENCY.search(text) else "间隔"
    if _ASKED_DURATION.search(question):
        return None if count_in(question, text) else "时间"
    return "幅度" if _ASKED_RATE.search(question) and not _RATE.search(text) else None


# A figure counting several kinds at once: "28.3万名快递员、外卖送餐员、网约车司机".
# (A figure in digits and its measure word: "一个横跨浣江两岸、总面积为…" counts nothing.)
_LISTED_COUNT = re.compile(r"[0-9][0-9.]*\s*[多余万亿千百]*\s*(?:名|个|家|位|人|户|辆)((?:[\u3400-\u9fff]{2,8}、)+[\u3400-\u9fff]{2,8})")


def counted_together(question: str, text: str) -> str | None:
    """The one kind a question counts ("其中快递员有多少？") when the text counts it only together with
    other kinds ("28.3万名快递员、外卖送餐员、网约车司机"), which gives no figure for it alone; else None."""
    question = normalize(question)
    if not re.search(r"多少|几", question):
        return None
    for found in _LISTED_COUNT.finditer(normalize(text)):
        items = found.group(1).split("、")
        asked = [item for item in items if item in question or item[:2] in question]
        if len(asked) == 1:
            return asked[0]
    return None


def _pieces(question: str) -> str | None:
    """The noun "几个X"/"多少个X" counts ("几个站": 站), or None when no noun follows 个
    ("多少个供实地学习的基地": what is counted comes later)."""
    import jieba.posseg as pseg

    asked = _ASKED_PIECES.search(question)
    if not asked:
        return None
    jieba_segmenter()
    first = next(iter(pseg.cut(question[asked.end() - len(asked.group(1)):])), None)
    if first is None:
        return None
    # jieba tags a lone 站 a verb: the one-character things counted by 个 are listed.
    noun = (first.flag.startswith("n") and first.flag not in ("nr", "ns")) or first.word in _COUNTED_CHARS
    # 多少钱, 几户, 多少村民: units and people are asked of apart.
    return first.word if noun and first.word not in _UNITS and not _ASKED_PEOPLE.search(question) else None


def count_in(question: str, text: str) -> tuple[int, int] | None:
    """Where the text gives the count the question asks for in its unit ("比去年早了几天？":
    "提前8天", not the date "7月3日"; "几个站": "沿途停靠5个站" or "站点5个"), or None (also when
    the question asks no count in a unit)."""
    asked = _ASKED_COUNT.search(question)
    if asked:
        # "3月4日" is a date, not a number of days ("开几天？").
        counted = _without_dates(text) if asked.group(1) == "天" else text
        found = re.search(rf"{_NUMBER}(?:{_UNITS[asked.group(1)]})", counted)
        return found.span() if found else None
    for asked_for, given in ((_ASKED_CLOCK, _CLOCK), (_ASKED_DURATION, _DURATION)):
        if asked_for.search(question):
            found = given.search(_without_dates(text))
            return found.span() if found else None
    pieces = _pieces(question)
    if pieces:
        # "几个区县" is "6个区(县、市)": brackets and list commas may come between its characters.
        noun = r"[()（）、]*".join(map(re.escape, pieces))
        # The count alone, not the noun: "16个邦" gives 16个, "网格8.5万个" gives 8.5万个.
        found = re.search(rf"({_NUMBER}[\u3400-\u9fff]?)(?={noun})|{noun}[^,，。；;]{{0,6}}?({_NUMBER}个?)", text)
        if not found:
            return None
        group = 1 if found.group(1) else 2
        return found.span(group)
    if _ASKED_RATE.search(question):  # "涨了多少？": the rate of a change ("同比增长10%以上": 10%以上)
        change = _RATE.search(text)
        figure = _RATE_FIGURE.search(text, change.start(), change.end()) if change else None
        if figure:
            more = re.match(r"以上|左右|多", text[figure.end():])
            return figure.start(), figure.end() + (more.end() if more else 0)
    return None


# "是否…？", "…吗？": a question asking yes or no, which only a sentence about what it names answers.
_YES_NO = re.compile(r"(?:吗|么)[？?。！!]*$|是否|([\u4e00-\u9fff])不\1|可不可以|能否")  # 开不开; not 有没有 X (asks for X)


def asks_yes_no(question: str) -> bool:
    """Whether a question asks yes or no ("周末也照常开吗？"), naming no question word."""
    return bool(_YES_NO.search(question)) and not INTERROGATIVE.search(question)


# A question about last year; a text naming no year at all speaks of the issue's own time.
_PAST_YEAR = re.compile(r"(?<![比较与同和跟])(?:去年|前年|上一年|前一年|上年)(?!同期)")  # not "比去年涨了多少"
_ANY_YEAR = re.compile(r"[0-9]{4}年|今年|去年|前年|明年|上年|年初|年底|年末|年内|全年|上半年|下半年|年度|多年|历年")
# Plans asked for ("下一步准备怎么搞？") are said in the future ("将继续聚焦…"), not by what was done.
# (Not "打算给老旧小区的电梯每台补助多少钱": a plan is asked only with what to do.)
_ASKS_PLAN = re.compile(r"(?:下一步|接下来|今后|往后|未来|将来|打算|准备)[^，,。？?]{0,6}?(?:怎么|什么|哪些|如何|哪方面|啥)|"
                        r"有什么打算")
_FUTURE = re.compile(r"将|要|计划|打算|下一步|今后|未来|继续|力争|目标|预计|着力|推动|加快")


_ASKS_FIRST = re.compile(r"排(?:名)?第一|第一名|排在第一|排头名")
_FIRST = re.compile(r"第一|首位|榜首|居首|之最|领跑")
# "哪个市的工坊最多？": a most, said as such or as a first.
_MOSTS = r"最(?:多|少|大|小|高|低|早|晚|火|好|快|强)"
_ASKS_MOST = re.compile(rf"(?:哪|谁|什么)[^，,。？?]{{0,8}}{_MOSTS}|{_MOSTS}的(?:是)?(?:哪|谁|什么)")
_MOST = re.compile(rf"{_FIRST.pattern}|{_MOSTS}|冠军|领先|首个|首家")


def missing_rank(question: str, text: str) -> bool:
    """Whether the question asks who ranks first ("排第一的是哪个省？") or has the most ("哪个市的
    工坊最多？") and the text names no first or most."""
    if _ASKS_FIRST.search(question):
        return not _FIRST.search(text)
    return bool(_ASKS_MOST.search(question)) and not _MOST.search(text)


# "他的前任后来调到哪里去了？" asks of a move to another post: a sentence naming none does not say.
_ASKS_MOVE = re.compile(r"调(?:到|去|往|任|至)?(?:哪|什么)|去(?:哪里|哪儿|哪)(?:任职|工作|上任)|(?:离任|离开)[^，,？?]{0,8}(?:去|到)(?:哪|什么)")
_MOVE = re.compile(r"调任|调到|调往|调至|调入|转任|改任|出任|履新|任职|上任|交流到|提拔")


def missing_move(question: str, text: str) -> bool:
    """Whether the question asks where someone was moved to and the text tells of no move."""
    return bool(_ASKS_MOVE.search(question)) and not _MOVE.search(text)


RELATIVE_YEARS = (("前年", 2), ("去年", 1), ("今年", 0), ("明年", -1))  # years counted back from an issue's


def years_named(text: str, issue_year: int) -> set[int]:
    """The years a text is about, counted from its issue's year ("去年" in 2024: 2023), leaving out
    those it compares with ("比去年", "较2022年", "去年同期")."""
    text = normalize(text)
    found = {int(m.group(1)) for m in re.finditer(r"(?<![比较与同和跟\d])(\d{4})年(?!同期)", text)}
    found |= {issue_year - back for word, back in RELATIVE_YEARS
              if re.search(rf"(?<![比较与同和跟]){word}(?!同期)", text)}
    return found


def other_year(question: str, text: str, issue_year: int) -> tuple[str, str] | None:
    """``(asked, given)`` when the question asks of one year and the text speaks only of others
    ("去年全年卖了多少？" of "2024年3月以来…" in a 2024 issue), else None."""
    asked, given = years_named(question, issue_year), years_named(text, issue_year)
    if asked and given and not asked & given:
        return f"{min(asked)}年", f"{min(given)}年"
    return None


def unnamed_past_year(question: str, paragraph: str) -> bool:
    """Whether the question asks of last year ("去年双十一增长了多少？") and the paragraph names no
    year at all, so speaks of the issue's own time."""
    return bool(_PAST_YEAR.search(question)) and not _ANY_YEAR.search(normalize(paragraph))


# Only where a place is sure to be the answer: not "难在哪里" (in what), not "从哪里购入" (晋陕蒙, no name
# a pattern knows).
_ASKS_WHERE = re.compile(r"哪些(?:地方|国家|地区|省份|城市|市场)|(?:调|去|搬|迁|嫁|转)(?:到|去)?哪里")
# What a place answer holds: a place's rank, a venue, a region.
_PLACE_LIKE = re.compile(r"[省市县区镇乡村国洲州岛湖山江河港馆场园盟东西南北]|街道|社区|中心|地区|一带|田间|海外|境外|"
                         r"[京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川黔滇陕甘青蒙桂藏宁新港澳台]{2,}")  # 晋陕蒙: provinces by their one-character names


# "研讨班在哪里办的？" asks where it was held: the body that held it ("浙江省委") is no venue.
_ASKS_VENUE = re.compile(r"在哪(?:里|个会场|个场馆|个地方)(?:办|举办|举行|开|召开)")
_BODY = re.compile(r"[\u3400-\u9fff]{0,6}(?:党中央|中央|省委|市委|县委|区委|党委|政府|委员会)")


def missing_place(question: str, span: str) -> bool:
    """Whether the question asks where ("出口到哪些地方涨得明显？") and the answer span names no
    place ("出口增长较快"), or where something was held and the span is the body that held it."""
    # "省委召开": the body and its act.
    if _ASKS_VENUE.search(question) and _BODY.fullmatch(re.sub(r"(?:召开|举办|主办|举行)$", "", normalize(span).strip())):
        return True
    # 全省, 我省: the paper's own province, never what "哪些地方" asks for.
    return bool(_ASKS_WHERE.search(question)) and not _PLACE_LIKE.search(re.sub(r"全省|全市|全国|我省|本省|省委|省政府", "", span))


# A question offering choices ("浙江和江苏哪个多？", "早稻还是晚稻？") is answered with its own words.
_CHOICES = re.compile(r"还是|[和与跟或、]")


def echoes(question: str, span: str) -> bool:
    """Whether the answer span only repeats the question's own words ("哪种农产品卖得最火？":
    "农产品"; "宁波市委组织部部长叫什么名字？": "宁波市委组织部"), which answers nothing; not for a
    question offering choices."""
    words = re.sub(r"[\s,，。、；;：:！!？?“”\"'《》()（）]", "", normalize(span))
    return len(words) >= 2 and words in normalize(question) and not _CHOICES.search(question)


# "宁波市委组织部部长是谁？": who holds a post is answered by a person's name.
_ASKS_HOLDER = re.compile(r"(?:董事长|总经理|书记|部长|市长|县长|省长|镇长|主任|主席|局长|厅长|院长|校长|总裁|行长)"
                          r"(?:是谁|叫什么(?:名字)?|是哪位|姓什么)")


_HOLDER_TIME = re.compile(r"(?:现在|目前|如今|现任|新任|新来|新上任|上任|接任|前任|原来|原任|当时)$")
_HOLDER_OF = re.compile(rf"([\u3400-\u9fff]{{2,12}})的(?:党委|党组|党工委|党总支)?(?:{_ASKS_HOLDER.pattern})")


# "哪个部门派的？" is answered by a body's name, which ends in what kind of body it is.
_ASKS_ORGANIZATION = re.compile(r"哪(?:个|些|一个|家)?(?:部门|单位|机构)")
_ORGANIZATION_END = re.compile(r"(?:部门|单位|机构|[部局委厅办院会府所站队处科司室组署行关社台团盟联协]|中心)$")


def missing_organization(question: str, span: str) -> bool:
    """Whether the question asks which body ("项目管家是哪个部门派的？") and the answer span is no
    body's name ("全市152个重点产业项目全部配齐…")."""
    return bool(_ASKS_ORGANIZATION.search(question)) and \
        not _ORGANIZATION_END.search(re.sub(r"[\s,，。、；;：:！!？?“”\"'》)）]+$", "", normalize(span)))


# What only a person does: "座谈会是谁主持的？" is not answered by the body that convened it (党中央).
_ASKS_PERSON_ACT = re.compile(r"谁(?:来)?(?:主持|主讲|讲话|致辞|发言|宣读|作报告|带队|率队)")


def missing_holder(question: str, span: str) -> bool:
    """Whether the question asks who holds a post ("宁波市委组织部部长是谁？") and the answer span
    names no person ("同区(县、市)"), or who did what only a person does and the span is a body."""
    question = normalize(question)
    if _ASKS_PERSON_ACT.search(question) and _BODY.fullmatch(normalize(span).strip()):
        return True
    return bool(_ASKS_HOLDER.search(question)) and not question_names(span, ("nr",))


def missing_body(question: str, text: str) -> str | None:
    """The body whose post "X的董事长是谁？" asks of, when the text never names it ("国家电网公司"
    of a paragraph on 浙能集团's chairman), or None."""
    asked = _HOLDER_OF.search(normalize(question))
    if not asked:
        return None
    # "浙能集团现在的董事长", "东钱湖镇新来的书记": the body is named by its head, before any "now" or "new".
    body = _HOLDER_TIME.sub("", asked.group(1))
    return body if len(body) >= 2 and body[:4] not in normalize(text) else None


_DAY = re.compile(r"[0-9]{1,2}月[0-9]{1,2}[日号]")


def missing_day(question: str, text: str) -> str | None:
    """The day the question asks about ("2023年9月1日省委召开了什么会议？") when the text never
    names it, or None."""
    asked = _DAY.search(normalize(question))
    if not asked:
        return None
    day = asked.group()
    said = normalize(text)
    return None if day in said or day.replace("号", "日") in said else day


def missing_plan(question: str, text: str) -> bool:
    """Whether the question asks what is planned and the text says nothing in the future."""
    return bool(_ASKS_PLAN.search(question)) and not _FUTURE.search(text)


# Units key_terms keeps that name no part of a whole ("其中出口有多少亿元": the part is 出口).
_GENERIC_PARTS = frozenset("亿元 万元 元 人 名 个 家".split())


def missing_part(question: str, text: str, start: int, end: int) -> str | None:
    """The part "其中X有多少？" asks the count of, when the clause of the answer ``text[start:end]``
    does not give it ("其中出口有多少亿元？": "全省进出口总值达到8000亿元" is the whole's), or None."""
    asked = re.search(r"(?:其中|里面|这里面|当中)(.*)", question)
    if not asked or asked_kind(question) != "count":
        return None
    _, names, focus = key_terms(asked.group(1))
    terms = [t for t in names + focus if t not in _GENERIC_PARTS]
    head = max((m.end() for m in re.finditer(r"[,，;；。:：]", text[:start])), default=0)
    tail = next((m.start() + end for m in re.finditer(r"[,，;；。]", text[end:])), len(text))
    words = jieba_segmenter().lcut(normalize(text[head:tail]))
    def starts_a_word(term: str) -> bool:  # 出口 is in 进出口 but starts no word of it
        return any(w.startswith(term) for w in words)

    if not terms or all(starts_a_word(t) for t in terms) or starts_a_word("".join(terms)):
        return None
    return "".join(terms)

