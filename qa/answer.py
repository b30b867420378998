"""Answerer: the answer span and its sentence from the top passages, read by the trained reader, with citations."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from qa.conversation import FollowupRewriter, ellipsis_content, not_new, people, place_rank, places, without_credits
from qa.index import NewsIndex
from qa.parse import CAPTION_SECTION, SUBTITLE_SECTION
from qa.question import (RELATIVE_YEARS, asked_attribute, asked_kind, asks_yes_no, contrasts, count_in, coverage,
                         counted_together, counts_per_unit, echoes, key_terms, missing_body, missing_day, missing_holder,
                         missing_move, missing_organization, missing_part, missing_place, missing_plan, missing_rank,
                         missing_unit, other_year, question_names, unnamed_past_year, written_form)
from qa.read import SpanReader
from qa.retrieve import HybridRetriever, RetrieverSettings
from qa.tokens import normalize

_ABOUT = 3  # mentions that make a name what an article is about
_PROVINCES = tuple(("北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 四川 "
                    "贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门").split())
# Words giving a figure for the whole province, said before it in its clause ("全省7000余家工坊").
_WHOLE_PROVINCE = re.compile(r"全省|我省")
_OWN_PROVINCE = re.compile(r"全省|我省|本省|省委|省政府|省内")
_SENTENCE_END = re.compile(r"[^。！？!?；;]*[。！？!?；;]+[”’」』)）]?|[^。！？!?；;]+$")
_CITATION = re.compile(r"\[\d+\]")
_LOWER_PLACE = re.compile(r"[\u3400-\u9fff]{2}(?:村|镇|乡|社区|街道)$")  # "里蔡村": the lower end of a chain
_PLACE_WORDS = frozenset("城市 省份 地方 地区 乡镇 城乡 农村 城镇 县城 街道 社区 全省 全市 全国 各地 当地".split())  # jieba's ns, no place
_SAYS = r"(?:说|表示|介绍|认为|提到|谈到|指出|称)"


@dataclass
class AnswerSettings:
    """Answer settings; the defaults were picked on the development splits (CMRC 2018 trial
    open-domain and the newspaper development set, see docs/benchmarks.md)."""

    k: int = 5  # passages retrieved and cited
    passages_to_read: int = 3  # the reader reads this many of them (~15 ms each on 2 cores, bench/reader_bench.py)
    # The reader's answerable probability below which the best passage is not trusted. Picked on the
    # development splits (bench/abstention.py): at 0.4, CMRC 2018 trial's development split answers
    # 0.969 of its answerable questions and refuses 0.949 of the others (0.3: as many hits, 0.934
    # refused); the newspaper development set refuses all its unanswerable questions.
    min_confidence: float = 0.4
    # Proper names (jieba tags) the question names that some retrieved article must mention, else
    # the index does not cover what is asked ("上海" in a Zhejiang paper). Empty: the reader alone decides.
    required_names: tuple[str, ...] = ("ns",)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of a paragraph, cut after 。！？； and closing quotes."""
    return [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text) if m.group().strip()]


def answer_sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the sentence(s) of ``text`` holding the answer ``text[start:end]``, blanks trimmed.

    Args:
        text: the paragraph.
        start, end: the answer's character span.

    Returns:
        ``(first, last)`` character offsets covering every sentence the answer touches.
    """
    spans = [(s, e) for s, e in split_sentences(text) if s < max(end, start + 1) and e > start] or [(start, end)]
    first, last = spans[0][0], spans[-1][1]
    while first < last and text[first].isspace():
        first += 1
    while last > first and text[last - 1].isspace():
        last -= 1
    return first, last


# A caption opening with a date gives the day its photo was taken ("3月2日,村民在直播间推介农产品。").
_DATED = re.compile(r"\s*[0-9]{1,2}月[0-9]{1,2}日")


def reader_passage(passage: dict) -> dict:
    """What the reader reads of a retrieved passage: its headline and text. A photo caption is
    introduced as one, which the reader cannot tell from its text alone ("照片是哪天拍的？": its
    date; "在哪儿拍的？": its place)."""
    item = {"title": passage.get("title"), "text": passage["text"]}
    if passage.get("section") == CAPTION_SECTION:
        item["lead"] = "图片说明：照片拍摄于" if _DATED.match(passage["text"]) else "图片说明：这张照片拍摄的是"
    return item


# A follow-up asking for more of what was just said: how it was done, what else there is.
_MORE = re.compile(r"具体(?:是|有)?(?:怎么|如何|怎样|哪些|说说|讲讲|介绍)|详细(?:说说|讲讲|介绍)")
_SHORT_MORE = 12  # characters: "那具体是怎么做的？"; a longer question names what it asks
_BESIDES = re.compile(r"除了([^，,。？?]{1,10}?)(?:以外|之外)?[，,]?(?:还|也|另外)")
_CLAUSE_END = re.compile(r"[,，;；:：]")
_JOINERS = " ,，;；并且还同时此外以及另外"  # what opens the next clause of a sentence
_MORE_CHARS = 4  # a clause saying anything has at least this many characters

_default_reader: SpanReader | None = None
_reader_lock = threading.Lock()


def default_reader() -> SpanReader:
    """The process-wide reader with the committed weights (loaded once, on first use)."""
    global _default_reader
    with _reader_lock:
        if _default_reader is None:
            _default_reader = SpanReader()
        return _default_reader


class Answerer:
    """Answer a question from the index: retrieve, read the top passages, cite the answer, or abstain.

    Args:
        index: the NewsIndex.
        retriever: the retriever to draw passages from (default: hybrid).
        settings: answer settings.
        generator: an optional ``qa.generate.Generator`` (an OpenAI-compatible chat endpoint) that
            writes the answer from the passages; its answer is used only when every claim is cited,
            else the extractive answer stands. Off by default (see ``Generator.from_env``).
        reader: the ``SpanReader`` (default: the committed weights, shared by the process).
        rewriter: makes a follow-up standalone from the history (default: ``FollowupRewriter()``).
    """

    def __init__(self, index: NewsIndex, retriever: HybridRetriever | None = None,
                 settings: AnswerSettings | None = None, generator=None, reader: SpanReader | None = None,
                 rewriter: FollowupRewriter | None = None):
        self.index = index
        self.retriever = retriever or HybridRetriever(index, RetrieverSettings())
        self.settings = settings or AnswerSettings()
        self.generator = generator
        self.reader = reader or default_reader()
        self.rewriter = rewriter or FollowupRewriter()
        self._homes: OrderedDict[str, str | None] = OrderedDict()  # issue id → the province it names most
        self._lock = threading.Lock()

    def run(self, question: str, history: list[dict] | None = None, k: int | None = None,
            date_from: str | None = None, date_to: str | None = None, paper: str | None = None) -> dict:
        """Answer.

        Args:
            question: the user's question.
            history: earlier turns for follow-ups.
            k: passages to retrieve (default from settings).
            date_from, date_to, paper: filters as in search.

        Returns:
            ``{"answer": "sentence[1]" | None, "short_answer": the span | None, "confidence": 0-1 | None,
            "citations": [result + "highlight" (the sentence) + "answer_highlight" (the span)],
            "reason": why there is no answer | None, "query": the question actually searched, and for a
            follow-up whose answer the previous reply already gave, "note": saying so}``.
        """
        question = written_form(question)
        rewrite = self.rewriter.run(question, history)
        query = rewrite["query"]
        filters = dict(date_from=date_from, date_to=date_to, paper=paper)
        more = self._more_of_previous(question, rewrite, filters)
        if more is not None:
            return more
        results = self.retriever.run(query, k=k or self.settings.k, **filters)
        extractive = self.answer_from(query, results, in_conversation=bool(history))
        if rewrite["previous_query"] is not None and extractive["answer"] is not None:  # a follow-up answered
            if rewrite["rewritten"]:
                extractive = self._followup_answer(question, query, extractive, rewrite, filters)
            else:
                # A follow-up standing on its own words may still move to a place its article never names.
                unnamed = self._unnamed_place(query, extractive["citations"][0], rewrite)
                if unnamed:
                    extractive = _abstain(query, f"回答这个问题的文章没有提到“{unnamed}”，无法回答")
            unheard = self._unheard_names(question, results, rewrite) if extractive["answer"] is not None else []
            if unheard:
                extractive = _abstain(query, f"检索到的文章都没有提到“{'、'.join(unheard)}”，无法回答")
        if self.generator is None or not results:
            return extractive
        generated = self.generator.run(query, results)
        if generated["answer"] is None:
            return dict(extractive, generator_reason=generated["reason"])
        # The model cites by position in the passages it was given: the citations are those passages.
        citations = [dict(r, highlight=None, answer_highlight=None) for r in results]
        return {"answer": generated["answer"], "short_answer": None, "confidence": None, "citations": citations,
                "reason": None, "query": query, "generated": True, "extractive_answer": extractive["answer"]}

    def answer_from(self, query: str, results: list[dict], names_checked: bool = False,
                    in_conversation: bool = False) -> dict:
        """Read already retrieved passages and answer from the one the reader is surest of (see ``run``);
        ``names_checked``: the question's names were already found in a wider retrieval;
        ``in_conversation``: a follow-up, whose people are those of the news being talked about."""
        if not results:
            return _abstain(query, "索引中没有相关内容")
        top = results[: self.settings.passages_to_read]
        absent = [] if names_checked else self._unmentioned_names(query, results)
        if absent:
            return _abstain(query, f"检索到的文章都没有提到“{'、'.join(absent)}”，无法回答")
        readings = self._read(query, top)
        ranked = sorted(range(len(top)), key=lambda i: -readings[i]["answerable"])
        def sure(r: dict) -> bool:
            return r["start"] is not None and r["answerable"] >= self.settings.min_confidence

        # The surest reading whose sentence fits the question: not about an alternative to what is
        # asked (女子 for 男子), and giving a count in the unit asked for (多少班: not "15元").
        refused = None
        for best in ranked:
            reading = readings[best]
            if not sure(reading):
                break
            first, last, misfit = self._fit(query, top[best], reading, results, in_conversation)
            if misfit is not None:
                # Another sentence of the same passage may answer ("…女子双人10米台决赛,…获得冠军。
                # 在男子双人三米板决赛中,…黄博文和梁朝辉…获得冠军"): read it without the misfit.
                text = top[best]["text"]
                blanked = text[:first] + " " * (last - first) + text[last:]
                again = self._read(query, [dict(top[best], text=blanked)])[0]
                if sure(again):
                    fit = self._fit(query, top[best], again, results, in_conversation)
                    if fit[2] is None:
                        reading, (first, last, misfit) = again, fit
            if misfit is None:
                break
            refused = refused or misfit
        else:
            return _abstain(query, refused)
        if not sure(reading):
            if refused:
                return _abstain(query, refused)
            title = top[best].get("title") or top[best]["text"][:20]
            return _abstain(query, f"检索到的{len(top)}段文字都没有给出这个问题的答案"
                                   f"（最接近的是《{title}》，阅读模型的把握只有{reading['answerable']:.0%}）")
        passage = top[best]
        start, end = _counted_span(query, passage["text"], first, last, reading["start"], reading["end"])
        citations = [dict(passage, highlight=[first, last], answer_highlight=[start, end])]
        # The other retrieved passages follow as further sources, without highlight.
        citations += [dict(r, highlight=None, answer_highlight=None) for i, r in enumerate(results) if i != best]
        return {"answer": passage["text"][first:last] + "[1]", "short_answer": passage["text"][start:end].strip(),
                "confidence": round(reading["answerable"], 4), "citations": citations, "reason": None,
                "query": query}

    def _read(self, query: str, passages: list[dict]) -> list[dict]:
        """The reader's reading of each passage (see ``SpanReader.run``), the question asked of each
        in the paper's own words for its province (see ``_in_own_words``)."""
        asked = [self._in_own_words(query, p) for p in passages]
        readings: list[dict] = [{} for _ in passages]
        for question in dict.fromkeys(asked):
            at = [i for i, q in enumerate(asked) if q == question]
            for i, reading in zip(at, self.reader.run(question, [reader_passage(passages[i]) for i in at])):
                readings[i] = reading
        return readings

    def _in_own_words(self, query: str, passage: dict) -> str:
        """The question as the passage's paper would word it: a provincial paper writes "全省" for
        its own province ("浙江有多少家共富工坊？" of "全省7000余家工坊…" reads "全省有多少家…"),
        and a year the question counts from today as the paper's date makes it ("去年" in a 2023
        issue saying "2022年我省…" reads "2022年")."""
        text = normalize(passage["text"])
        for name in _PROVINCES:
            if name in query and name not in text and self._home(name, passage):
                query = re.sub(rf"{name}(?:省)?(?:全省)?", "全省", query)
        year = _issue_year(passage)
        for word, back in RELATIVE_YEARS:
            if year and word in query and word not in text and f"{year - back}年" in text:
                query = query.replace(word, f"{year - back}年")
        return query

    def _fit(self, query: str, passage: dict, reading: dict, results: list[dict],
             in_conversation: bool) -> tuple[int, int, str | None]:
        """The reading's sentence in the passage (start, end) and why it does not answer, or None
        (see ``_misfit`` and ``_about_others``)."""
        first, last = answer_sentence(passage["text"], reading["start"], reading["end"])
        sentence = passage["text"][first:last]
        lead = passage["text"][first:reading["start"]]
        span = reading["answer"] or ""
        misfit = _misfit(query, sentence, lead, passage.get("section") == SUBTITLE_SECTION) \
            or _year_reason(query, sentence, passage) \
            or ("检索到的答案不是一个地方，无法回答" if missing_place(query, span) else None) \
            or ("检索到的答案只是问题自己的话，无法回答" if echoes(query, span) else None) \
            or _unnamed_in_passage(query, passage) \
            or ("检索到的答案不是一个人名，无法回答" if missing_holder(query, span) else None) \
            or ("检索到的答案不是一个部门或单位，无法回答" if missing_organization(query, span) else None) \
            or (f"检索到的数字是多少{per}，不是每{per}多少，无法回答" if (per := counts_per_unit(query, span)) else None) \
            or _other_place(query, sentence, passage) \
            or self._about_others(query, passage, sentence, results, in_conversation)
        return first, last, misfit

    def _followup_answer(self, question: str, query: str, result: dict, rewrite: dict, filters: dict) -> dict:
        """A follow-up's answer checked against the conversation: the places the follow-up is asked
        of must be named by the answering article ("那宁波呢？"), its own words must not pick another
        alternative than the sentence's (8月份, 7月份), what the follow-up newly asks about
        (X of "那X呢？", 晚稻) must be in the answer sentence, else in another retrieved one; and an answer the
        previous reply already gave gives way to the next best sentence of the same article, or says so."""
        passage = result["citations"][0]
        names = _asked_places(query)
        s0, s1 = passage["highlight"]
        sentence = passage["text"][s0:s1]
        conversation = " ".join(rewrite.get("asked_before") or [rewrite["previous_query"] or ""])
        said = f"{conversation} {rewrite['previous_answer'] or ''}"
        unnamed = self._unnamed_place(query, passage, rewrite)
        if unnamed:
            return _abstain(query, f"回答这个问题的文章没有提到“{unnamed}”，无法回答")
        # A place the conversation has not named yet is what the follow-up asks of ("其中杭州有多少个
        # 网格？" after the province's 8.5万个): the paragraph itself must name it ("海曙那个历史街区…":
        # "在海曙区月湖街道…" opens the paragraph whose next sentence answers).
        paragraph = normalize(f"{passage.get('title') or ''} {passage['text']}")
        for name in names:
            if name not in said and name not in paragraph and not self._home(name, passage) and \
                    not _story_at(name, passage, self._article(passage)):
                return _abstain(query, f"回答的段落没有提到“{name}”，无法回答")
        # The follow-up's own words pick among alternatives its rewrite may hold both of
        # ("那8月份的用电量呢？" asked of "7月份…用电量").
        other = contrasts(question, sentence)
        if other:
            return _abstain(query, _contrast_reason(other))
        # "周末也照常开吗？": what the conversation carried is named, what is asked is not.
        unsaid = _unsaid(question, sentence, conversation)
        if unsaid:
            return _abstain(query, f"回答的句子没有说到“{'、'.join(unsaid)}”，无法回答")
        part = missing_part(question, passage["text"], *passage["answer_highlight"])
        if part:
            return _abstain(query, f"检索到的数字不是{part}的，无法回答")
        elliptical = ellipsis_content(question)
        # What the follow-up newly asks about: all of X in "那X呢？", else the nouns it names (首班车)
        # other than those naming what was given or the kind of answer asked for (see ``not_new``).
        known = not_new(question)
        terms, _, focus = key_terms(question)
        new = [t for t in (key_terms(elliptical)[0] if elliptical else focus)
               if t not in conversation and t not in known and len(t) >= 2]
        def covers(text: str) -> bool:  # whole words only: 县级 is not in "市级…县(市、区)"
            return coverage(new, text, partial=False) >= 0.5

        # The paragraph or its headline may name it, around a sentence saying all else the follow-up
        # asks ("几户签字同意装电梯？": "楼道里的12户居民最终全部签字同意" under a headline on lifts).
        rest = [t for t in terms if t not in new and len(t) >= 2]
        in_paragraph = not elliptical and len(rest) >= 2 and covers(f"{passage.get('title') or ''} {passage['text']}") and \
            coverage(rest, sentence, partial=False) >= 0.75
        if new and not covers(sentence) and not in_paragraph:
            # The reader's sentence is about something else: another retrieved sentence about it may answer.
            found = self.retriever.run(query, k=20, **filters)
            other = self._answer_without(query, found, sentence, keep=covers, names_checked=True, in_conversation=True)
            if other is None or other["answer"] is None or not covers(_CITATION.sub("", other["answer"])):
                return _abstain(query, f"回答的句子没有提到“{'、'.join(new)}”，无法回答")
            return other
        given = normalize(rewrite["previous_answer"] or "")
        if not given or normalize(sentence) not in given or new:
            # A sentence given before that also names what the follow-up newly asks about (同比 after
            # "累计用电量是多少？") answers it: the reader's spans cannot tell, for they may both be wrong.
            return result
        # The same sentence may hold a new answer ("提前了几天？" after "哪天？"): a repeat is the span
        # the reader gives for the previous question too.
        before = self.reader.run(rewrite["previous_query"], [reader_passage(passage)])[0]
        a0, a1 = passage["answer_highlight"]
        # A repeat is mostly the same span: "1.02亿千瓦" is new beside "5799亿千瓦时,…超1.02亿千瓦".
        if before["start"] is None or \
                min(before["end"], a1) - max(before["start"], a0) < 0.5 * (max(before["end"], a1) - min(before["start"], a0)):
            return result
        same = [r for r in self.retriever.run(query, k=20, **filters)
                if r["issue_id"] == passage["issue_id"] and r.get("title") == passage.get("title")]
        following = self._answer_without(query, same, sentence, in_conversation=True)
        if following and following["answer"] is not None:
            return following
        # "其中有多少是县委书记？" after the total: the sentence giving the total says nothing of them.
        own = [t for t in focus if t not in known and len(t) >= 2]
        if own and coverage(own, sentence, partial=False) < 0.5:
            return _abstain(query, f"上一个回答的句子没有提到“{'、'.join(own)}”，无法回答")
        # The same sentence may give the count asked in its unit elsewhere ("比去年早了几天？" after
        # "哪天突破…？": "提前8天" beside 7月3日).
        counted = count_in(question, sentence)
        if counted and not (s0 + counted[0] < before["end"] and s0 + counted[1] > before["start"]):
            return dict(result, short_answer=sentence[counted[0]:counted[1]],
                        citations=[dict(passage, answer_highlight=[s0 + counted[0], s0 + counted[1]])] +
                        result["citations"][1:])
        # The same span cannot say where something was after it said how many took part.
        kinds = asked_kind(question), asked_kind(rewrite["previous_query"])
        if None not in kinds and kinds[0] != kinds[1]:
            return _abstain(query, "上一个回答的句子没有回答这个问题，检索到的文字里也没有别的答案")
        return dict(result, note="上一个回答已经涵盖这个问题")

    def _more_of_previous(self, question: str, rewrite: dict, filters: dict) -> dict | None:
        """The answer to a follow-up asking for more of what the last answer said ("具体是怎么做的？",
        "除了补助，还有别的支持吗？"): the rest of its sentence after the clause that answered, else
        (for 具体) the next sentence of its paragraph; None for any other question, or when the
        sentence cannot be found again or holds nothing more."""
        asks_more = len(normalize(question)) <= _SHORT_MORE and _MORE.search(question)
        # "具体…" asks after the last reply; "除了X，还有…" after the last answer given.
        if asks_more:
            asked, previous = rewrite["previous_query"], rewrite["previous_answer"]
        elif (besides := _BESIDES.search(question)) and rewrite.get("last_answered"):
            asked, previous = rewrite["last_answered"]
            # What it sets aside is what that exchange was about ("除了补钱" after 补贴, not "除了审批").
            aside = besides.group(1)
            if sum(ch in asked + previous for ch in aside) * 2 < len(aside):
                return None
        else:
            return None
        if not previous:
            return None
        given = normalize(previous)
        found = [r for r in self.retriever.run(asked, k=self.settings.k, **filters) if given in normalize(r["text"])]
        if not found:
            return None
        passage = found[0]
        spans = [(a, b) for a, b in split_sentences(passage["text"]) if normalize(passage["text"][a:b]) == given]
        if not spans:
            return None
        first, last = answer_sentence(passage["text"], *spans[0])
        reading = self.reader.run(asked, [dict(reader_passage(passage), text=passage["text"][:last])])[0]
        answered_to = max(reading["end"] or first, first)  # the reader's span, inside the sentence given
        clause = next((m.end() for m in _CLAUSE_END.finditer(passage["text"], answered_to, last)), last)
        rest = passage["text"][clause:last]
        if len(re.findall(r"[\u3400-\u9fff]", rest)) >= _MORE_CHARS:
            span = (clause + len(rest) - len(rest.lstrip(_JOINERS)), last - len(rest) + len(rest.rstrip("。；;！!")))
        elif asks_more:
            following = [(a, b) for a, b in split_sentences(passage["text"]) if a >= last]
            if not following:
                return None
            first, last = answer_sentence(passage["text"], *following[0])
            span = (first, last)
        else:
            return None
        citations = [dict(passage, highlight=[first, last], answer_highlight=list(span))]
        return {"answer": passage["text"][first:last] + "[1]", "short_answer": passage["text"][span[0]:span[1]],
                "confidence": None, "citations": citations, "reason": None, "query": rewrite["query"]}

    def _unnamed_place(self, query: str, passage: dict, rewrite: dict) -> str | None:
        """A place a follow-up newly asks of that the answering article does not name (nor is
        about, as its paper's own province), or None ("杭州有多少个网格？" of a paragraph on the
        province's 8.5万个)."""
        earlier = {n for asked in rewrite.get("asked_before") or [rewrite["previous_query"] or ""]
                   for n in question_names(asked, ("ns",))}
        names = [n for n in _asked_places(query) if n not in earlier]
        if not names:
            return None
        article = self._article(passage)
        return next((n for n in names if not (_mentions(n, passage, article) or self._home(n, passage)
                                              or _story_at(n, passage, article))), None)

    def _unheard_names(self, question: str, results: list[dict], rewrite: dict) -> list[str]:
        """The names a follow-up brings into the conversation that no retrieved article names at all
        ("那紫金港科技城有多少高层次人才？" when only 杭州未来科技城 is written of)."""
        said = " ".join([*(rewrite.get("asked_before") or []), rewrite["previous_answer"] or ""])
        names = [n for n in question_names(question) if n not in said]
        if not names:
            return []
        articles = self.index.article_texts([r["paragraph_id"] for r in results]).values()
        texts = normalize(" ".join([*(f"{r.get('title') or ''} {r['text']}" for r in results), *articles]))
        return [n for n in names if n not in texts and not _chain_named(n, texts)]

    def _article(self, passage: dict) -> str:
        """The text of the article a passage is from, normalized."""
        return normalize(self.index.article_texts([passage["paragraph_id"]]).get(passage["paragraph_id"], ""))

    def _about_others(self, query: str, passage: dict, sentence: str, results: list[dict],
                      in_conversation: bool) -> str | None:
        """Why a sentence answers nothing about the people the question asks of, or None: its article
        never names them while another retrieved passage does ("张阿姨今年78岁" for 杨洪波; a word
        jieba takes for a name, such as 高峰时, is named by none); or, in a conversation about the
        news, it names other people and none of them ("黄博文和梁朝辉以397.35分获得冠军" for 张家齐).
        Not for a first question: over encyclopedic text jieba takes too many words for names
        (CMRC open domain: sentence hit 0.824 -> 0.760 with it)."""
        # jieba reads "从金华" as a person's name: a preposition glued to a place.
        # "胡仲明说…从哪儿买": who said it is the source, not what the sentence must be about.
        asked_of = [p for p in people(query) if not (p[0] in "从在到去往向于与和跟" and places(p[1:]))
                    and not re.search(rf"{re.escape(p)}[^，,。？?]{{0,2}}?{_SAYS}", query)]
        if not asked_of:
            return None
        named = people(without_credits(sentence))
        if in_conversation and named and not any(p in sentence for p in asked_of):
            return f"回答的句子说的是{'、'.join(named)}，不是{'、'.join(asked_of)}，无法回答"
        article = self._article(passage)
        absent = [p for p in asked_of if p not in article and p not in normalize(passage["text"])]
        if len(absent) == len(asked_of) and any(p in normalize(r["text"]) for r in results for p in absent):
            return f"回答这个问题的文章没有提到“{'、'.join(absent)}”，无法回答"
        return None

    def _answer_without(self, query: str, passages: list[dict], sentence: str, keep=None,
                        names_checked: bool = False, in_conversation: bool = False) -> dict | None:
        """The answer from ``passages`` with ``sentence`` blanked out of them, citing their own text.

        Blanked, not cut: the offsets of the rest of each paragraph stay those of its text.

        Args:
            query: the question searched with.
            passages: retrieved passages.
            sentence: the sentence no answer may come from.
            keep: optional test of a blanked text; passages failing it are not read.
            names_checked, in_conversation: as in ``answer_from``.

        Returns:
            ``answer_from``'s result, or None when no passage is left to read.
        """
        blank = " " * len(sentence)
        blanked = [dict(r, text=r["text"].replace(sentence, blank)) for r in passages]
        blanked = [r for r in blanked if keep is None or keep(r["text"])]
        if not blanked:
            return None
        answer = self.answer_from(query, blanked, names_checked=names_checked, in_conversation=in_conversation)
        texts = {r["paragraph_id"]: r["text"] for r in passages}
        answer["citations"] = [dict(c, text=texts.get(c["paragraph_id"], c["text"])) for c in answer["citations"]]
        return answer

    def _unmentioned_names(self, query: str, results: list[dict]) -> list[str]:
        """The question's names (of the kinds in ``required_names``) that no retrieved passage is about."""
        kinds = self.settings.required_names
        names = question_names(query, kinds) if kinds else []
        if not names:
            return []
        articles = {pid: normalize(text) for pid, text in
                    self.index.article_texts([r["paragraph_id"] for r in results]).items()}
        return [n for n in names
                if not any(_mentions(n, r, articles.get(r["paragraph_id"], "")) or self._home(n, r) for r in results)]

    def _home(self, name: str, result: dict) -> bool:
        """A provincial paper writes "全省/我省" for its own province: such a paragraph is about
        ``name`` when ``name`` is the province its issue names most."""
        if name not in _PROVINCES or not _OWN_PROVINCE.search(result["text"]):
            return False
        issue = result["issue_id"]
        with self._lock:
            home = self._homes.get(issue, "")
        if home == "":
            text = self.index.issue_text(issue)
            counts = {p: text.count(p) for p in _PROVINCES}
            home = max(counts, key=counts.get) if any(counts.values()) else None
            with self._lock:
                self._homes[issue] = home
                while len(self._homes) > 10_000:
                    self._homes.popitem(last=False)
        return home == name


def _counted_span(query: str, text: str, first: int, last: int, start: int, end: int) -> tuple[int, int]:
    """The short answer's span: the reader's, or, when the question asks a count in a unit
    ("早了几天？") and the reader's span is not that count but holds it or is beside it in the
    sentence ``text[first:last]``, the count itself ("提前8天": 8天)."""
    counted = count_in(query, text[first:last])
    if counted is None:
        return start, end
    c0, c1 = first + counted[0], first + counted[1]
    if start <= c0 and c1 <= end and end - start <= 3 * (c1 - c0):
        return start, end  # "约1小时" for 1小时: the reader's own words around it
    if count_in(query, text[start:end]) and not (start <= c0 and c1 <= end):
        return start, end  # another count in the unit: the reader's choice
    return c0, c1


def _year_reason(query: str, sentence: str, passage: dict) -> str | None:
    """Why a sentence answers nothing of the year asked of, or None: its paragraph names no year, so
    speaks of the issue's own, when last year is asked; or it speaks only of other years."""
    if unnamed_past_year(query, passage["text"]):
        return "检索到的文字说的是今年，不是去年，无法回答"
    year = _issue_year(passage)
    other = other_year(query, sentence, year) if year else None
    return f"检索到的句子说的是{other[1]}，不是{other[0]}，无法回答" if other else None


def _issue_year(passage: dict) -> int | None:
    """The year of the issue a passage is from, or None when its date is unknown."""
    year = re.match(r"(\d{4})-", passage.get("date") or "")
    return int(year.group(1)) if year else None


def _unsaid(question: str, sentence: str, known: str = "") -> list[str]:
    """The words of a yes/no question ("周末也照常开吗？") that a sentence too seldom names to say
    yes or no, leaving out those in ``known`` (what the conversation carried); [] when it says
    enough or the question asks no yes or no."""
    if not asks_yes_no(question):
        return []
    words = [t for t in key_terms(question)[0] if len(t) >= 2 and t not in known]
    return words if words and coverage(words, sentence, partial=False) < 0.5 else []


def _asked_places(query: str) -> list[str]:
    """The places a question names (嘉兴, which jieba tags as a person's name, too)."""
    typed = places(query)
    named = question_names(query, ("ns",)) + [n for n in question_names(query, ("nr", "nz")) if n in typed]
    return [n for n in dict.fromkeys(named) if n not in _PLACE_WORDS]


def _mentions(name: str, result: dict, article: str) -> bool:
    """A name counts as mentioned by a passage when its paragraph or headline has it (not only as
    one item of a list), or when its article is about it (names it several times). A place asked
    by its chain of names with the ranks between left out counts when its article names the chain
    (see ``_chain_named``)."""
    own = normalize(result["text"] + " " + (result.get("title") or ""))
    # "浙江、福建、广东等14个省级电网" gives a figure for the list, not for 福建.
    alone = re.sub(rf"(?:、{re.escape(name)}|{re.escape(name)}(?=、))", "", own)
    if name in alone or article.count(name) >= _ABOUT:
        return True
    return _chain_named(name, f"{own} {article}")


def _chain_named(name: str, text: str) -> bool:
    """Whether ``text`` names a place asked by its chain of names, the ranks between left out
    ("鄞州里蔡村": "鄞州区咸祥镇里蔡村")."""
    return bool(_LOWER_PLACE.search(name)) and any(
        re.search(rf"{re.escape(name[:i])}[\u3400-\u9fff]{{1,8}}?{re.escape(name[i:])}", text)
        for i in range(2, len(name) - 2))


def _story_at(place: str, passage: dict, article: str) -> bool:
    """Whether a story is at ``place`` when it reaches the passage: the last place of the same rank
    its article names before the passage is that one ("住在拱墅区和睦新村的张阿姨…", then "楼道里的
    12户居民最终全部签字同意")."""
    at = article.find(normalize(passage["text"])[:30])
    rank = place_rank(place)
    if at <= 0 or not rank:
        return False
    before = [p for p in places(article[:at]) if place_rank(p) == rank]
    return bool(before) and (before[-1] == place or before[-1].endswith(place))


def _misfit(question: str, sentence: str, lead: str = "", alone: bool = False) -> str | None:
    """Why an answer sentence does not answer the question (see ``contrasts``, ``missing_unit``), or None.
    ``lead``: the sentence up to the answer; a figure its clause gives for the whole province
    ("全省7000余家") is none of a city's the question asks about.
    ``alone``: the sentence stands without a paragraph around it (a 副题), so it must itself name
    the people and bodies the question names and most of what it asks about (not the paper's own
    province: "全省" is 浙江)."""
    if alone:
        focus = key_terms(question)[2]
        absent = [n for n in question_names(question, ("nr", "nt")) if n not in normalize(sentence)]
        if absent or (focus and coverage(focus, sentence, partial=False) < 0.5):
            return f"检索到的副题没有提到“{'、'.join(absent or focus)}”，无法回答"
    other = contrasts(question, sentence)
    if other:
        return _contrast_reason(other)
    clause = re.split(r"[,，;；。:：]", lead)[-1]
    whole = _WHOLE_PROVINCE.search(clause)
    if whole:
        cities = [p for p in places(question) if not p.startswith(_PROVINCES) and p not in normalize(clause)]
        if cities:
            return f"检索到的数字是{whole.group()}的，不是{'、'.join(cities)}的，无法回答"
    unit = missing_unit(question, sentence)
    if unit:
        return f"检索到的句子没有给出多少{unit}，无法回答"
    together = counted_together(question, sentence)
    if together:
        return f"检索到的数字不只是{together}的，无法回答"
    unsaid = _unsaid(question, sentence)  # a sentence naming too little of it says neither yes nor no
    if unsaid:
        return f"检索到的句子没有说到“{'、'.join(unsaid)}”，无法回答"
    if missing_rank(question, sentence):
        return "检索到的句子没有说谁排第一，无法回答"
    if missing_move(question, sentence):
        return "检索到的句子没有说调到了哪里，无法回答"
    if missing_plan(question, sentence):
        return "检索到的句子没有说接下来要做什么，无法回答"
    attribute = asked_attribute(question)
    if attribute and coverage([attribute], sentence) < 0.5:
        return f"检索到的句子没有说{attribute}怎么样，无法回答"
    return None


def _other_place(question: str, sentence: str, passage: dict) -> str | None:
    """Why a sentence about another place answers nothing of the places the question asks of
    ("那宁波的补助是多少？": "杭州对加装电梯的补助标准提高到每台20万元"), or None. Only where the
    paragraph never names them, and only a place of the same rank (宁波 and 杭州, not 宁波 and
    its 海曙区: with no gazetteer, a 区 or 街道 may lie inside the city asked of)."""
    paragraph = normalize(passage["text"] + " " + (passage.get("title") or ""))
    named_places = question_names(question, ("ns",))  # not "新任镇", which places() builds of 新任 + 镇
    asked = [p for p in places(question) if not p.startswith(_PROVINCES) and p not in paragraph
             and any(n in p for n in named_places)]
    named = [p for p in places(without_credits(sentence)) if not any(p in a or a in p for a in asked)
             and any(place_rank(p) == place_rank(a) for a in asked)]
    if asked and named:
        return f"检索到的句子说的是{'、'.join(named)}，不是{'、'.join(asked)}，无法回答"
    return None


def _unnamed_in_passage(question: str, passage: dict) -> str | None:
    """Why a passage never naming the day the question asks about, or the body whose post it asks
    of, answers nothing of it, or None."""
    text = passage["text"] + " " + (passage.get("title") or "")
    missing = missing_day(question, text) or missing_body(question, text)
    return f"检索到的文字没有提到“{missing}”，无法回答" if missing else None


def _contrast_reason(pairs: list[tuple[str, str]]) -> str:
    """The reason for no answer given by ``contrasts``' (asked, given) pairs."""
    return f"检索到的句子说的是{'、'.join(g for _, g in pairs)}，不是{'、'.join(a for a, _ in pairs)}，无法回答"


def _abstain(query: str, reason: str) -> dict:
    return {"answer": None, "short_answer": None, "confidence": None, "citations": [], "reason": reason,
            "query": query}
