"""FollowupRewriter: a follow-up question made standalone from the earlier questions and answers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.question import ASKS_PERSON as _ASKS_PERSON
from qa.question import ASKS_PLACE as _ASKS_PLACE
from qa.question import ASKS_WHEN as _ASKS_WHEN
from qa.question import INTERROGATIVE, NAMED, RELATIVE_YEARS, asks_yes_no, key_terms, written_form
from qa.tokens import normalize

# A follow-up opens with a link word or closes with 呢 ("那福建呢？", "还有呢？").
_LEAD = re.compile(r"^(那么|那(?![里儿个些位样])|还有|另外|而|再问一下|再问)")  # 那里/那个 are pointers
_TAIL = re.compile(r"呢[？?。！!]*$")
# Pointers back to what the conversation named (jieba tokens): people, places, things, the
# quantities just given. Matched as whole tokens, so 其他, 应该 and 因此 are not pointers.
_PEOPLE = frozenset("他们 她们 他俩 她俩 二人 两人".split())
_PERSON = frozenset("他 她 此人 这位 那位".split())
_PLACE = frozenset("那里 那儿 这里 这儿 当地 该地 此地 本地 该市 该县 该区 该镇 该乡 该村 该省".split())
_THING = frozenset("它 它们 其 其中 该 此".split())
_DEMONSTRATIVE = frozenset("这个 那个 该 此 这条 那条 这家 那家 这座 那座 这项 那项 这部 那部 这台 那台 这所 那所 "
                           "这支 那支 这批 那批 这种 那种 这份 那份 这类 那类 这样的 那样的".split())  # + a place word: a place; + a noun: a thing
_OCCASION = frozenset("这次 那次 此次 本次 这场 那场 这届 本届".split())  # + an event: that event
_POINTERS = frozenset("这些 那些 上述".split())  # + a noun: what was just given
_BARE = frozenset("这个 那个 这 那 这事 此事 这件事".split())  # + a verb (是, 有, 能…): the thing talked about
_LINKS = frozenset("怎么 什么".split())
_CLASSIFIERS = frozenset("个条家座项部台所支批种份位次场届张类")
_ASKS_REGION = re.compile(r"哪个(?:省|市|县|区|乡镇|乡|镇|城市|街道)|哪(?:个)?地方的")  # what a place lies in
_LINK_CHARS = frozenset("是有能会要从在对跟和都也就还")  # 是, 是从, 有没有…: jieba glues them
_QUANTITIES = re.compile(r"^(?:这|那|上述)(?:两|二|三|几|些)(?:项|个|组)?$|^上述$")
_WHOLE = frozenset("全省 全市 全县 全区 全国".split())  # after a place, the whole of it
_PLACE_WORD = re.compile(r"^(省|市|县|区|镇|乡|村|街道|社区)$")
_CITATION = re.compile(r"\[\d+\]")
# A byline inside an answer ("本报讯(记者王丹静 通讯员勇祖轩)") names reporters, not the people asked about.
# Credits and datelines name people and places the answer is not about ("本报金华3月4日电").
_CREDITS = re.compile(r"[(（][^()（）]*(?:记者|通讯员)[^()（）]*[)）]|(?:本报|特派)?记者\s*\S{2,4}|通讯员\s*\S{2,4}|"
                     r"(?:本报|新华社|中新社)\S{0,8}?\d{1,2}月\d{1,2}日(?:专)?电")
_RUN_TAGS = ("n", "j", "b", "q", "m", "nz", "eng")
_NO_ANSWER = ("没有找到答案", "无法回答")
# jieba tags nouns such as 满意度 or 奥运冠军 as names: words ending so are never taken for one.
_NOT_A_NAME = re.compile(r"(度|性|率|冠军|选手|记者|书记|主任|集团|部门|单位|同志)$|"
                         r"^(?:今年|去年|明年|前年)|[春夏秋冬]天$|^迎峰$")  # 今年夏天, 迎峰(度夏): times
_PLACE_SUFFIX = re.compile(r"(省|市|县|区|镇|乡|村|街道|社区)$")
_PERSON_TAGS = ("nr", "nrfg", "nrt")  # jieba's person names
# What a name before it makes a place or venue of: 和睦新村, 简阳文体中心游泳馆.
_VENUE = re.compile(r"(省|市|县|区|镇|乡|村|街道|社区|中心|馆|场|路|街|广场|公园|大厦|小区)$")
# A 2-character name and one more character jieba cut off it (张家 + 齐); never a function word.
_NAME_TAIL = ("a", "ag", "n", "ng", "j")
_FUNCTION_CHARS = frozenset("的了和与及在是说等从向对把被给称为也都就还又再")
# What a question asks, cut off its end to leave what it is about: the asked-for words and the
# verbs, adverbs, prepositions and particles before them.
_PREDICATE_TAGS = ("v", "vn", "d", "p", "c", "u", "r", "y", "x", "a", "ad", "f")
_TIME_OR_NUMBER = ("m", "t", "q", "f", "mq", "tg")
# Adverbs of a total jieba tags as nouns ("浙江全省一共建了…": 一共 is no part of the topic).
_TALLY = frozenset("一共 总共 共 一 累计 总计 合计 目前 现在 已经 已".split())  # 一: of 一/共建
# A time a question is asked of: a year, a part of one, a month.
_TIME = re.compile(r"(?:整个|全年|今年|去年|前年|明年|[0-9]{4}年)?(?:[一二三四1-4]季度|上半年|下半年|前[两二三四五六七八九十0-9]+个?月|"
                   r"[0-9]{1,2}月份?(?![0-9])|一整年|全年)|今年|去年|前年|明年|[0-9]{4}年")  # not 7月 of 7月27日
_DAY_OF = re.compile(r"(?:截至|截止到?|到)?[0-9]{1,2}月[0-9]{1,2}日[，,]?")
# The year a question is asked of in words, not one it compares with ("比2022年").
_OWN_YEAR = re.compile(rf"(?<![比较与同和跟])(?:{'|'.join(word for word, _ in RELATIVE_YEARS)})(?:以来)?")
# A question this short (characters, normalised) that names nothing of its own is elliptical ("票价多少？").
_SHORT = 12
_SENTENCE_END = re.compile(r"(?<=[。！？；])")  # split after each sentence of an answer
_SAME_DAY = frozenset("同一天 当天 同日 那天 那一天".split())  # the day of what was just talked about


@dataclass
class RewriterSettings:
    """Follow-up rewriting settings, picked on tests/data/conversations_dev.jsonl."""

    # A question of at most this many characters that names no place, person or organisation
    # of its own is read as a follow-up about the previous question's subject.
    short_followup_chars: int = _SHORT
    # Nouns of its own the conversation has not used that make such a question stand alone
    # ("为什么今年春茶品质好？").
    own_nouns: int = 2


def earlier_exchanges(history: list[dict] | None) -> list[tuple[str, str | None]]:
    """The earlier (question, answer) pairs of a history, oldest first.

    Args:
        history: ``[{"role": "user"|"assistant", "content": str}, ...]`` as the API takes it.

    Returns:
        One pair per user turn: its text and the assistant's reply after it, citation markers
        dropped (None when there was no reply or the reply said there is no answer).
    """
    pairs: list[list] = []
    for turn in history or []:
        if not isinstance(turn, dict) or not isinstance(turn.get("content"), str):
            continue
        text = turn["content"].strip()
        if turn.get("role") == "user" and text:
            pairs.append([text, None])
        elif turn.get("role") == "assistant" and pairs and pairs[-1][1] is None and text:
            answer = _CITATION.sub("", text).strip()
            pairs[-1][1] = None if answer.startswith(_NO_ANSWER) else answer
    return [(q, a) for q, a in pairs]


def ellipsis_content(question: str) -> str:
    """The X of an elliptical follow-up ("那晚稻呢？" → "晚稻"); "" when the question is not one."""
    text = question.strip()
    content = _TAIL.sub("", _LEAD.sub("", text)).strip("，, ")
    # "那现在发电的主力还是煤电吗？" asks yes or no of its own words: no ellipsis.
    if (_LEAD.search(text) or _TAIL.search(text)) and content and not INTERROGATIVE.search(content) \
            and not asks_yes_no(content) and not content.endswith(("吗", "么")) \
            and not any(w in _PERSON | _PEOPLE | _PLACE | _THING for w, _ in _cut(content)):
        return content
    return ""


# Nouns naming the kind of answer asked for, which an answer rarely repeats ("什么名次": 冠军).
_ANSWER_KINDS = frozenset("名次 排名 成绩 结果 身份 职务 职位 头衔 称号 级别".split())


def not_new(question: str) -> set[str]:
    """Nouns of a question that name nothing new to find in an answer: those it points back to
    with a demonstrative ("这些数据", "这个消息": what the conversation gave), those after 哪个/哪些,
    naming the kind of answer it asks for ("哪个部门": 省农业农村厅; unlike "多少工作人员" or
    "什么理念", whose noun an answer repeats), and the few nouns that only name a kind of answer
    (名次, 成绩, 职务: ``_ANSWER_KINDS``)."""
    pairs = _demonstratives(_cut(question))
    return {w for (d, _), (w, f) in zip(pairs, pairs[1:])
            # 这 alone points ("这数据"); 那 alone links ("那晚稻呢"), pointing at nothing.
            if (d in _DEMONSTRATIVE | _POINTERS | {"这"} or d.startswith("哪")) and f.startswith(("n", "vn", "j"))} | \
        {w for w, _ in pairs if w in _ANSWER_KINDS}


def _cut(text: str) -> list[tuple[str, str]]:
    import jieba.posseg as pseg

    from qa.tokens import jieba_segmenter

    jieba = jieba_segmenter()
    return retype([(p.word, p.flag) for p in pseg.cut(text)], jieba.dt.FREQ)


def retype(pairs: list[tuple[str, str]], vocabulary=frozenset()) -> list[tuple[str, str]]:
    """jieba's tags with places it took for people or other names made places ("ns"): a name whose
    市/县/区 is a word of ``vocabulary`` (嘉兴, 简阳), or that the place or venue after it belongs to
    ("和睦" of 和睦新村, "简阳" of 简阳文体中心游泳馆)."""
    out = list(pairs)
    for i, (word, flag) in enumerate(pairs):
        if flag not in (*_PERSON_TAGS, "nz") or len(word) < 2:
            continue
        run = ""
        for following, tag in pairs[i + 1:]:
            if not tag.startswith("n") or tag in _PERSON_TAGS:
                break
            run += following
        if any(word + suffix in vocabulary for suffix in "市县区") or _VENUE.search(run):
            out[i] = (word, "ns")
    return out


def _is_name(word: str, flag: str, kinds: tuple[str, ...] = NAMED) -> bool:
    return flag in kinds and len(word) >= 2 and not _NOT_A_NAME.search(word)


def without_credits(text: str) -> str:
    """The text without its bylines, photo credits and datelines, whose names it is not about."""
    return _CREDITS.sub("", text)


def people(text: str) -> list[str]:
    """Person names of a text in order (jieba's person tags; a surname split off is joined back)."""
    out, run = [], ""
    for word, flag in _cut(text) + [("", "x")]:
        if flag in _PERSON_TAGS and not _NOT_A_NAME.search(word) and len(run + word) <= 4:
            run += word
            continue
        if len(run) == 2 and len(word) == 1 and flag in _NAME_TAIL and word not in _FUNCTION_CHARS:
            run += word  # 张家 + 齐: a three-character name jieba cut
            word, flag = "", "x"
        if len(run) >= 2:
            out.append(run)
        run = word if flag in _PERSON_TAGS and not _NOT_A_NAME.search(word) else ""
    return list(dict.fromkeys(out))


def places(text: str) -> list[str]:
    """Place names of a text in order, with a following 市/县/镇/村 kept ("东钱湖镇", "新光村")."""
    pairs = _cut(text)
    out = []
    for i, (word, flag) in enumerate(pairs):
        if word in _WHOLE or word in ("我省", "本省"):
            continue  # 全省: the whole, no place of its own ("共富工坊全省…" is no 工坊全省)
        if _is_name(word, flag, ("ns",)) or (flag == "n" and _PLACE_SUFFIX.search(word) and i
                                              and pairs[i - 1][1] in ("ns", "n") and len(pairs[i - 1][0]) >= 2):
            name = word
            if i + 1 < len(pairs) and len(pairs[i + 1][0]) == 1 and _PLACE_SUFFIX.search(pairs[i + 1][0]):
                name += pairs[i + 1][0]
            if flag == "n":  # "新光" + "村": the place is the two together
                name = pairs[i - 1][0] + word
            out.append(name)
    return list(dict.fromkeys(out))


def place_rank(place: str) -> str:
    """A place's rank as its name says it: its suffix (市, 县, 区, 镇, 村, 街道…), or "" for a bare name."""
    found = _PLACE_SUFFIX.search(place)
    return found.group() if found else ""


def subject(question: str) -> str:
    """What a question is about: its noun phrases, question words and the asked-for verb left out
    ("杭州未来科技城是哪一年挂牌成立的？" → "杭州未来科技城")."""
    pairs = [(w, f[:1] in ("n", "t", "j", "b", "m") or f in ("eng", "vn", "q"))
             for w, f in _cut(INTERROGATIVE.sub("，", normalize(question)))]
    # One odd character between two nouns belongs to a name jieba failed to keep whole (浙/能/集团).
    for i in range(1, len(pairs) - 1):
        if not pairs[i][1] and len(pairs[i][0]) == 1 and pairs[i - 1][1] and pairs[i + 1][1] and pairs[i][0] not in "的和与及":
            pairs[i] = (pairs[i][0], True)
    runs, run = [], ""
    for word, noun in pairs + [("", False)]:
        if noun:
            run += word
        elif run:
            runs.append(run)
            run = ""
    return " ".join(r for r in runs if not re.fullmatch(r"[\d.]+", r))


def topic(question: str) -> str:
    """What a question is about, as its own words: the question with what it asks cut off its end
    ("今年迎峰度夏期间浙江全社会用电最高负荷预计达到多少？" → "今年迎峰度夏期间浙江全社会用电最高负荷",
    "杭州未来科技城拥有多少名海外院士？" → "杭州未来科技城"); "" when only a time or nothing is left."""
    text = question.strip()
    asked = INTERROGATIVE.search(text)
    if not asked:
        return ""
    pairs = _cut(text[:asked.start()])
    while pairs and ((pairs[-1][1].startswith(_PREDICATE_TAGS) and pairs[-1][0] not in "”》") or pairs[-1][0] in _TALLY):
        pairs.pop()
    if not any(f.startswith(("n", "j", "eng", "b")) for _, f in pairs):
        return ""
    if _ASKS_WHEN.fullmatch(asked.group()) and \
            not any(f.startswith(("n", "j", "eng", "b")) and not _is_name(w, f) for w, f in pairs):
        # Asked when of a place or a person: what it did follows the question word ("浙江从哪一年起
        #试点建设特色产业工程师协同创新中心？" → "浙江试点建设…创新中心"); after 多少, what is counted
        # is what is asked, not the topic.
        rest = _cut(text[asked.end():])
        while rest and not rest[0][1].startswith(("n", "j", "eng", "vn")):
            rest.pop(0)
        while rest and not rest[-1][1].startswith(("n", "j", "eng", "vn")):
            rest.pop()
        pairs += rest
    return _words(pairs)


# Tokens a noun phrase is built of, leftwards from its head noun ("二十大精神专题研讨班", "浦江县新光村").
_PHRASE_TAGS = ("n", "j", "b", "eng")


def phrase_ending(noun: str, texts) -> str:
    """The noun phrase ending in ``noun`` that the first of ``texts`` naming one has ("村" in
    "浦江县新光村的村民…" → "浦江县新光村"); "" when none does. At most four words long."""
    for text in texts:
        pairs = _cut(without_credits(text or ""))
        for k, (word, _) in enumerate(pairs):
            if word != noun and not (word.endswith(noun) and len(word) > len(noun)):
                continue
            i = k
            while i > 0 and k - i < 3 and pairs[i - 1][1].startswith(_PHRASE_TAGS + ("m",)) \
                    and not INTERROGATIVE.search(pairs[i - 1][0]):
                i -= 1
            while i < k and pairs[i][1].startswith("m"):  # a number inside a name ("人大二次会议"), not before it
                i += 1
            if i < k or word != noun:
                return _words(pairs[i:k + 1])
    return ""


def _demonstratives(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Segmented words with 这/那 and the classifier after them joined (jieba cuts "这条线路" 这/条/线路)."""
    out: list[tuple[str, str]] = []
    for word, flag in pairs:
        if out and out[-1][0] in ("这", "那") and len(word) == 1 and word in _CLASSIFIERS:
            out[-1] = (out[-1][0] + word, "r")
        elif out and out[-1][0] in ("这样", "那样") and word == "的":  # "这样的工坊": of the kind talked about
            out[-1] = (out[-1][0] + word, "r")
        else:
            out.append((word, flag))
    return out


def _topic_of(previous: str, earlier: tuple[str, ...]) -> str:
    """The topic a conversation carries: an earlier question's, when the previous one was built on
    it ("金华至衢州的跨省通勤公交票价多少？" keeps "金华至衢州的跨省通勤公交", not "…票价")."""
    for asked in earlier:
        carried = topic(asked)
        if carried and previous.startswith(carried):
            return carried
    return topic(previous)


_MEASURES = frozenset("家个名位项座所台辆条件次批户")


def _counted(question: str) -> str:
    """What a question counts ("有多少名新任“一把手”…" → "新任“一把手”"), "" when it counts nothing."""
    pairs = _cut(question)
    for i, (word, _) in enumerate(pairs):
        if word in ("多少", "几"):
            j = i + 1
            while j < len(pairs) and pairs[j][1] in ("q", "m") and len(pairs[j][0]) == 1:
                j += 1
            out, quoted = "", False
            for k, (w, f) in enumerate(pairs[j:], j):
                quoted = (quoted or w in "“《") and w not in "”》"
                # A verb between two nouns is part of the name (协同/创新/中心).
                inner = f.startswith("v") and out and k + 1 < len(pairs) and pairs[k + 1][1].startswith(("n", "j"))
                if not (quoted or inner or w in "”》" or f.startswith(("n", "j", "b"))):
                    break
                out += w
            # jieba glues a measure word to the noun after it ("家共富" + 工坊): it counts, it is not counted.
            return out[1:] if len(out) > 2 and out[0] in _MEASURES else out
    return ""


def _noun_runs(pairs: list[tuple[str, str]]) -> list[tuple[int, int]]:
    """Token spans [i, j) of the noun phrases of a segmented question (names and times apart)."""
    runs, start = [], None
    padded = pairs + [("", "x")]
    for i, (word, flag) in enumerate(padded):
        noun = flag.startswith(_RUN_TAGS) and not _is_name(word, flag) and not flag.startswith("t") \
            and not INTERROGATIVE.search(word) and word != "年" and not padded[i + 1][0].startswith("年")
        # A verbal noun inside a phrase belongs to it (农村工作指导员, 早稻种植面积), not at its end (预期增长).
        noun = noun or (flag == "vn" and start is not None and padded[i + 1][1].startswith(("n", "j")))
        # One adjective character opens or joins a noun phrase (全社会, 最高): not a phrase of its own.
        noun = noun or (flag == "a" and len(word) == 1 and padded[i + 1][1].startswith(_RUN_TAGS))
        if noun and start is None:
            start = i
        elif not noun and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _words(pairs: list[tuple[str, str]]) -> str:
    """The text of segmented tokens."""
    return "".join(w for w, _ in pairs)


def _other_phrases(content: str, pairs: list[tuple[str, str]]) -> list[tuple[int, int]]:
    """The noun phrases of a segmented question that do not already hold ``content``."""
    return [(i, j) for i, j in _noun_runs(pairs) if content not in _words(pairs[i:j])]


def _shared(content: str, pairs: list[tuple[str, str]], run: tuple[int, int]) -> int:
    """Characters ``content`` shares with the phrase ``pairs[run]``."""
    return len(set(_words(pairs[run[0]:run[1]])) & set(content))


def _likeness(content: str, question: str) -> int:
    """Characters ``content`` shares with the question's noun phrase most like it."""
    old = _cut(question)
    return max((_shared(content, old, run) for run in _other_phrases(content, old)), default=0)


def _swap_name(previous: str, name: str, flag: str) -> str | None:
    """``previous`` with its name of the same kind as ``name`` replaced, at word boundaries
    (a place name inside a longer word is not touched: no "镇镇"). None when it has none."""
    pairs = _cut(previous)
    for i, (word, tag) in enumerate(pairs):
        if _is_name(word, tag, (flag,)) and word != name:
            # "浙江全省" names one place: 杭州 takes the place of both words.
            after = i + 2 if i + 1 < len(pairs) and pairs[i + 1][0] in _WHOLE else i + 1
            return _words(pairs[:i]) + name + _words(pairs[after:])
    return None


def _ellipsis(content: str, previous: str, earlier: tuple[str, ...] = ()) -> str:
    """A "那X呢？" follow-up as the previous question asked of X: X takes the place of the previous
    question's name of its kind, or of its noun phrase most like X ("女子双人10米台" for
    "男子双人三米板"), else of what the question asked about. An earlier question is taken instead
    when X is like one of its phrases and like none of the previous question's ("那一级茶青呢？"
    after a question about why the tea was good goes back to the one on 特级茶青's price)."""
    pairs = _cut(content)
    # A time ("去年一整年呢？") takes the place of the previous question's time ("整个8月份").
    if (all(f.startswith(_TIME_OR_NUMBER) or f == "x" for _, f in pairs) and _TIME.search(content)) or \
            _TIME.fullmatch(content):  # jieba tags the 月份 of "8月份" a noun
        found = _TIME.search(previous)
        if found:
            head, tail = previous[:found.start()], previous[found.end():]
            if not re.search(r"月|季度|半年", content):
                # "那去年全年呢？": a whole year, so no day of the previous question's ("截至7月27日，").
                head, tail = _DAY_OF.sub("", head), _DAY_OF.sub("", tail)
            return head + content + tail
    names = [(w, f) for w, f in pairs if _is_name(w, f)]
    if names and len(_words(names)) >= len(content) - 1:
        word, flag = names[0]
        swapped = _swap_name(previous, word, flag)
        if swapped:
            return swapped
        if flag == "ns":  # a place where the previous question named none: it is asked of that place
            return f"{word}{previous}"
    if _likeness(content, previous) < 2:
        previous = next((e for e in earlier if _likeness(content, e) >= 2), previous)
    old = _cut(previous)
    # A phrase holding X already is not what X stands for ("好支书" in "好干部、好支书评选…多少名好干部").
    runs = _other_phrases(content, old)
    if not runs:
        return f"{content} {previous}"
    asked = INTERROGATIVE.search(previous)
    position, asked_at = 0, len(old)
    for n, (word, _) in enumerate(old):
        if asked and position >= asked.start():
            asked_at = n
            break
        position += len(word)
    after = [r for r in runs if r[0] >= asked_at]
    before = [r for r in runs if r[1] <= asked_at]
    default = after[0] if after else before[-1] if before else runs[0]

    best = max(runs, key=lambda run: _shared(content, old, run))
    # Two shared characters make a phrase like X (女子双人10米台 ~ 男子双人三米板); one is chance.
    i, j = best if _shared(content, old, best) >= 2 else default
    head, tail = _words(old[:i]), _words(old[j:])
    if _TIME.search(content):  # "去年全年的用电总量呢？": the previous question's 今年 is not asked of
        head, tail = _OWN_YEAR.sub("", head), _OWN_YEAR.sub("", tail)
    return head + content + tail


def resolve(question: str, previous: str, answer: str | None, settings: RewriterSettings | None = None,
            earlier: tuple[str, ...] = (), answered: tuple[str, ...] = (),
            earlier_answers: tuple[str | None, ...] = ()) -> str:
    """One follow-up made standalone from the previous (already standalone) question and its answer.

    Pointers are replaced by what they point to: 他/她 by the person the last answer named (when
    the question asked who) or the previous question named; 那里/该市/这个村 by the place the answer
    gave (when asked where) or the previous question's subject; 它/其/该X by that subject; 这两项 by
    what the previous questions asked about. "那X呢？" asks the previous question of X. A short
    question naming nothing of its own gets the previous subject added.

    Args:
        question: the new question.
        previous: the previous question, standalone.
        answer: the assistant's answer to it (None when it gave none).
        settings: rewriter settings.
        earlier: the questions before ``previous``, standalone, newest first ("那杭州完成了多少个？"
            may go back to one of them).
        answered: those of ``earlier`` that got an answer, newest first: after a question with
            none, "那X呢？" goes back to the last one answered ("城乡居民收入呢？" after "报告是谁
            作的？" had no answer asks what the GDP target question asked).
        earlier_answers: the assistant's answers to ``earlier``, in the same order (None: no answer);
            她/她们 may point to women they named when the last answer named men.

    Returns:
        The standalone question (``question`` itself when it needs nothing from the conversation).
    """
    settings = settings or RewriterSettings()
    replied = answer
    text = question.strip()
    content = ellipsis_content(text)
    if content:
        if answer is None and answered:
            return _ellipsis(content, answered[0], answered[1:])
        return _ellipsis(content, previous, earlier)
    about = subject(previous)
    whole = about.replace(" ", "")
    first = about.split(" ")[0] if about else ""
    carried = _topic_of(previous, earlier)  # what the conversation is about, in its own words
    answer = without_credits(answer or "")
    # Several people: those of the answer's last sentence naming any ("黄博文和梁朝辉").
    group = next((p for p in (people(x) for x in reversed(_SENTENCE_END.split(answer))) if p), [])
    # The earlier turns, newest first, each question before its answer.
    said_before = [t for pair in zip(earlier, earlier_answers) for t in pair]

    def person() -> list[str]:
        given = [p for p in people(answer) if p not in previous]
        found = (given or people(previous)) if _ASKS_PERSON.search(previous) else (people(previous) or given)
        # Else the last person the conversation named ("他今年多大年纪？" two questions after 胡仲明).
        return found or next((p for said in said_before if (p := people(without_credits(said or "")))), [])

    def among_men(names: list[str]) -> bool:
        """Whether the conversation's last turn names these people among men (男子双人三米板)."""
        return any("男" in s and any(n in s for n in names) for s in _SENTENCE_END.split(f"{answer}。{previous}"))

    def women() -> list[str]:
        """The people the conversation last named among women: 她/她们 point to them."""
        for said in (answer, previous, *said_before):
            for part in _SENTENCE_END.split(without_credits(said or "")):
                found = people(part) if "女" in part else []
                if found:
                    return found
        return []

    def place() -> str:
        asked = _ASKS_PLACE.search(previous)
        if asked:
            given = [p for p in places(answer) if p not in previous]
            # "哪个街道" is answered by the place that is a 街道 (月湖街道, not 海曙区 before it).
            kind = _PLACE_SUFFIX.search(asked.group())
            given = [p for p in given if kind and p.endswith(kind.group())] or given
            if given:
                return given[0]
        return carried or first or (places(previous) or [""])[0]

    def pointed(noun: str) -> str:
        """What "这个/这些 + noun" stands for: the phrase the conversation named it by ("这个办法":
        "实施办法"), else the noun of the conversation's topic."""
        named = phrase_ending(noun, (previous, answer, *earlier))
        if named:
            return named
        if carried and noun not in carried:
            return f"{carried}的{noun}"
        return carried or (whole if noun in whole else whole + noun)

    # The link word apart: jieba reads "那他" as one word.
    lead = _LEAD.match(text)
    tokens = _demonstratives(([(lead.group(), "c")] + _cut(text[lead.end():])) if lead else _cut(text))
    if _LEAD.search(text):
        # "那杭州完成了多少个？": a new name, and otherwise only words of the previous question.
        named = [(w, f) for w, f in tokens if _is_name(w, f)]
        rest = [w for w, f in tokens if not _is_name(w, f) and re.search(r"[\u3400-\u9fff]", w)
                and w not in ("那", "那么", "还有", "另外", "而") and not INTERROGATIVE.fullmatch(w) and len(w) >= 2]
        for asked in (previous, *earlier):
            swapped = _swap_name(asked, *named[0]) if named and all(w in asked for w in rest) else None
            if swapped:
                return swapped
        if named and named[0][1] == "ns" and rest and all(w in previous for w in rest):
            # "那杭州今年上半年兑付了多少？" after a question naming no place: asked of 杭州.
            return named[0][0] + previous
    out, changed, i = [], False, 0
    while i < len(tokens):
        word, flag = tokens[i]
        following = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        replacement, skip = None, 1
        if _QUANTITIES.search(word) and (following.startswith(("年", "天", "月", "日")) or tokens[i + 1][1].startswith("t")
                                        if i + 1 < len(tokens) else False):
            pass  # 这些年, 这两天: a time, no pointer
        elif word in _POINTERS and following and tokens[i + 1][1].startswith(("n", "vn")):
            replacement, skip = pointed(following), 2  # "这些人": the people of the topic
        elif _QUANTITIES.search(word):
            replacement = whole
        elif word in _PEOPLE:
            counted = _counted(previous)
            chosen = group[:3] if _ASKS_PERSON.search(previous) else person()[:3]
            if word.startswith("她") and (not chosen or among_men(chosen)):
                chosen = women()[:3] or chosen
            replacement = "和".join(chosen) or \
                (f"{carried}的{counted}" if carried and counted else counted or carried or whole)
        elif word in ("他", "她") and following in ("说", "表示", "介绍", "提到") and i + 2 < len(tokens) \
                and re.search(r"多少|几", _words(tokens[i + 2:])):
            # "他说去年浙江用了多少电？": a figure of the news he is quoted in, not of his own words.
            i += 3 if tokens[i + 2][0] in "，," else 2
            changed = True
            continue
        elif word in ("这位", "那位") and any(f.startswith("nr") for _, f in tokens[i + 1:i + 3]):
            # "那位张阿姨": the question names the person itself; 那位 only points at the news.
            changed, i = True, i + 1
            continue
        elif word in _PERSON:
            chosen = person()
            if word == "她" and (not chosen or among_men(chosen[:1])):
                chosen = women() or chosen
            replacement = (chosen or [whole])[0]
        elif word in _PLACE:
            replacement = place()
        elif word in _DEMONSTRATIVE and _PLACE_WORD.search(following):
            # "这个村": the 村 the conversation named ("新光村"), else the place it is about.
            found = phrase_ending(following, (previous, answer, *earlier)) or place()
            replacement, skip = (found, 2) if found.endswith(following) else (found + following, 2)
        elif word in _OCCASION and following and tokens[i + 1][1].startswith(("n", "v")):
            # "这次人民代表大会": the event the conversation named, else a named event itself; "这次改造":
            # the topic's.
            replacement = phrase_ending(following, (previous, answer, *earlier)) or \
                (following if len(following) >= 4 else pointed(following))
            skip = 2
        elif (word in _DEMONSTRATIVE or word == "这") and following and tokens[i + 1][1].startswith(("n", "vn")) \
                and word != "此":  # 这 alone points too: "这消息"
            # "和睦新村那个楼道", "她那个楼道": the question names whose it is; else the topic's.
            # "省管主要领导干部那个研讨班": the words before say which one, as a name does.
            named_before = changed or any(_is_name(w, f) for w, f in tokens[:i]) or \
                (i > 0 and len(tokens[i - 1][0]) >= 2 and tokens[i - 1][1].startswith(("n", "j", "b")))
            if i > 0 and tokens[i - 1][0] in _WHOLE:
                # "全省这种工坊": every one of the kind, not the one the conversation named (鄞州里蔡村的).
                kind = _cut(pointed(following))
                while len(kind) > 1 and (_is_name(*kind[0]) or _PLACE_SUFFIX.search(kind[0][0])):
                    kind.pop(0)
                replacement, skip = _words(kind), 2
            elif not named_before:
                replacement, skip = pointed(following), 2
            elif word in ("这个", "那个"):
                replacement, skip = following, 2
            # else "里蔡村那家工坊" stays as written: without 那家, jieba reads 里蔡村工坊 as one name.
        elif word in _BARE | _THING and _ASKS_REGION.search(text):
            # "它是哪个乡镇的？": the place the conversation named (新光村), not its topic (数字驾驶舱).
            replacement = place() if _ASKS_PLACE.search(previous) else \
                next(iter(places(previous) + places(answer)), "") or carried or whole
        elif word in _BARE and following and (following in _LINKS or (len(following) <= 2 and following[0] in _LINK_CHARS)):
            # "这个是从什么时候开始的": what the conversation is about.
            replacement = carried or whole
        elif word in _THING:
            replacement = whole + "中" if word == "其中" else \
                place() if _ASKS_PLACE.search(previous) else (carried or whole)
        if replacement:
            out.append(replacement)
            changed = True
        else:
            out.append(word)
        i += skip
    if changed:
        return "".join(out)
    own = [w for w, f in tokens if _is_name(w, f)]
    if not own and carried and any(w in _SAME_DAY for w, _ in tokens):
        # "同一天还有几个区县也挂了牌？": the day of what the conversation is about.
        return joined(carried, text)

    def fresh() -> list[str]:
        """Nouns the conversation has not used: two name a topic of their own ("为什么今年春茶品质好？")."""
        known = not_new(text)
        return [w for w in key_terms(text)[2] if w not in previous and not any(w in e for e in earlier) and w not in known]

    if not own and len(normalize(text)) <= settings.short_followup_chars and len(fresh()) < settings.own_nouns:
        if replied is None and answered:
            # After a question with no answer, what the conversation is about is the last one answered
            # ("末班车几点" after "学生坐有优惠吗？" found nothing).
            previous, earlier = answered[0], answered[1:]
            about, carried = subject(previous), _topic_of(previous, earlier)
            whole = about.replace(" ", "")
        # Asked of what the conversation is about, as a reader would write it out
        # ("同比增长多少？" → "今年迎峰度夏期间浙江全社会用电最高负荷同比增长多少？").
        # What the previous question counted is what a follow-up counting nothing is about
        # ("…建设了多少家特色产业工程师协同创新中心？" then "从哪一年开始试点的？").
        # One that counts something named after its 多少 counts it of what was counted ("解决了多少人的
        # 就业？" after "有多少家共富工坊？"); a one-character count is a unit (多少钱), no thing.
        counted, own_count = _counted(previous), _counted(text)
        counts = re.search(r"多少|几", text)
        # A topic of names alone ("浙江") does not hold what was counted: "跟10年前比涨了多少？" after
        # "浙江现在集聚了多少人才？" asks of 浙江的人才.
        bare = all(_is_name(w, f) or f.startswith(_TIME_OR_NUMBER) for w, f in _cut(carried))
        if len(counted) < 2 or (counts and not (bare and not own_count)
                                and (not own_count or own_count in counted or counted in own_count)):
            counted = ""
        if carried and counted and counted not in carried:
            carried = f"{carried}的{counted}"
        return joined(carried, text) if carried else f"{text} {about}".strip()
    return text


def joined(topic_words: str, question: str) -> str:
    """The topic put before a follow-up, said once where the follow-up opens with words of it: the
    topic up to those words, then the follow-up ("杭州给老小区加装电梯每台" + "加装电梯最难的是哪一步"
    → "杭州给老小区加装电梯最难的是哪一步")."""
    for k in range(min(len(topic_words), len(question)), 1, -1):
        at = topic_words.rfind(question[:k])
        if at >= 0 and not _TIME.fullmatch(question[:k]):  # "今年…" shares a time, not the topic
            return topic_words[:at] + question
    return topic_words + question


class FollowupRewriter:
    """Make a follow-up standalone from the conversation so far (questions and answers).

    Args:
        settings: rewriter settings.
    """

    def __init__(self, settings: RewriterSettings | None = None):
        self.settings = settings or RewriterSettings()

    def run(self, question: str, history: list[dict] | None = None) -> dict:
        """Rewrite.

        Args:
            question: the new question.
            history: earlier turns, ``[{"role": "user"|"assistant", "content": str}, ...]``.

        Returns:
            ``{"query": the question to search with, "rewritten": whether it differs from the
            question, "previous_query": the last earlier question made standalone (None without
            history), "previous_answer": the assistant's reply to it (None when none),
            "asked_before": every earlier question made standalone, oldest first, "last_answered":
            the last of them that got an answer and that answer, or None}``.
        """
        asked_before: list[str] = []  # the earlier questions made standalone, oldest first
        replies: list[str | None] = []  # the assistant's reply to each (None: no answer)

        def standalone(text: str) -> str:
            """``text`` made standalone from the turns so far."""
            if not asked_before:
                return text
            earlier, earlier_replies = tuple(asked_before[-2::-1]), tuple(replies[-2::-1])
            answered = tuple(q for q, reply in zip(earlier, earlier_replies) if reply is not None)
            return resolve(text, asked_before[-1], replies[-1], self.settings, earlier, answered, earlier_replies)

        question = written_form(question)
        for asked, replied in earlier_exchanges(history):
            asked_before.append(standalone(written_form(asked)))
            replies.append(replied)
        if not asked_before:
            return {"query": question, "rewritten": False, "previous_query": None, "previous_answer": None,
                    "asked_before": [], "last_answered": None}
        query = standalone(question)
        last_answered = next(((q, reply) for q, reply in zip(asked_before[::-1], replies[::-1]) if reply is not None), None)
        return {"query": query, "rewritten": query != question, "previous_query": asked_before[-1],
                "previous_answer": replies[-1], "asked_before": asked_before, "last_answered": last_answered}
