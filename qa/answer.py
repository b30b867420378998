"""Answerer: pick the sentence(s) of the top passages that answer a question, with citations."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from qa.index import NewsIndex
from qa.retrieve import HybridRetriever, RetrieverSettings
from qa.tokens import QUESTION_WORDS, normalize, segment

# What a question asks for, and what a sentence that answers it must contain.
_DATE = re.compile(r"\d{1,4}年|\d{1,2}月\d{0,2}日?|\d{1,2}日|[今去前明]年|[上下本]月|近日|当天|昨天|今天|此前|[春夏秋冬]季|入夏|年初|年底")
_NUMBER = re.compile(r"\d|[一二两三四五六七八九十百千万亿]+[个名家项次回人件万亿%位元吨天年岁所条座种类批户创度届轮倍成]|百分之")
_ASK_DATE = re.compile(r"哪天|哪一天|何时|什么时候|哪年|哪一年|几月|几号|日期|什么时间|多会儿")
_ASK_NUMBER = re.compile(r"多少|几[个名家项次人件年天成]|多大|多高|多长|多久|比例|百分之几|增长了?多少|几何")
_ASK_PERSON = re.compile(r"谁|哪位|什么人|姓名|叫什么名")
_ASK_REASON = re.compile(r"为什么|为何|什么原因|原因是|怎么会|为啥")
_REASON = re.compile(r"原因|因为|由于|受.{0,15}影响|导致|之所以|一是|主要是")
_ASK_PLACE = re.compile(r"哪里|哪儿|在哪|什么地方|何地|哪个地方")
_ASKS = re.compile(r"什么|多少|哪|谁|几|怎么|怎样|如何|为什么|为何|是否|吗")
_ASK_UNIT = re.compile(r"(?:多少|几)([名个家项次回人件位元吨天岁所条座种类批户])")
_FOLLOWUP = re.compile(r"^(那|那么|还有|而|另外)|呢[？?]?$|^(它|他|她|其|该)")
_ABOUT = 3  # mentions that make a name what an article is about
_SENTENCE_CACHE = 20_000  # sentence vectors kept (384 floats each: ~30 MB)
_SENTENCE_END = re.compile(r"[^。！？!?；;]*[。！？!?；;]+[”’」』)]?|[^。！？!?；;]+$")
# Places, people, organisations. jieba's nz/j also tag guesses of its HMM ("家共富"), too noisy
# to refuse an answer on.
_NAMED = ("ns", "nr", "nt")
# A date or figure the question names ("2023年9月1日", "1亿千瓦"): an answer paragraph states it.
_QUESTION_FIGURE = re.compile(r"(?:\d{4}年)?\d{1,2}月\d{1,2}[日号]|\d+(?:\.\d+)?(?:万|亿)?(?:千瓦时|千瓦|元|人|名|个|家|项|吨|%)")
# The role a 谁 question asks about ("西湖大学的校长是谁" → 校长).
_ROLE = re.compile(r"([\u4e00-\u9fff]{2,4}?)(?:是谁|叫什么名字?|姓什么|是哪位)")
# A reporter's credit "(记者周榕华 朱银燕 通讯员叶思佳)" names people who are never the answer.
_CREDIT = re.compile(r"[(（][^()（）]*(?:记者|通讯员|摄)[^()（）]*[)）]"
                     # ... and a dateline "本报金华3月4日电" dates the report, it does not answer a question.
                     r"|^\s*(?:本报|新华社|人民网|中新社)[^,，。]{0,12}?(?:\d{1,2}月\d{1,2}日)?[电讯]")
_INTERROGATIVE = re.compile(r"多大|多少|多长时间|多长|多久|多高|多远|多重|几[个名家项次回人件位天年种类条座所批户届轮倍成岁]?|哪一天|哪一年|哪天|哪年|"
                            r"什么时候|什么样|什么|为什么|为何|怎么样|怎么|怎样|如何|是谁|哪里|哪儿|哪些|哪个|哪位|哪|谁")
_PROVINCES = ("北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 四川 "
              "贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门").split()
_OWN_PROVINCE = re.compile(r"全省|我省|本省|省委|省政府|省内")
_PREPOSITIONS = frozenset("从在到给向对把被和与跟往于")
_FOCUS = ("n", "nz", "j", "vn", "eng", "b", "nrt", "nw")
_GENERIC = frozenset("名字 时间 情况 问题 方面 工作 内容 原因 目的 数量 总数 人数 名称 地方 东西 办法 措施 情况 人 事".split())


@dataclass
class AnswerSettings:
    """Answer selection settings; the defaults were picked on the development set (see README)."""

    k: int = 5
    passages_for_sentences: int = 3  # sentences are drawn from this many top passages
    similarity_weight: float = 1.0  # cosine of question and sentence (same embedding model)
    coverage_weight: float = 0.3  # share of the question's key terms in the sentence
    context_weight: float = 0.1  # ... and in its paragraph, for a subject named earlier in it
    carry_over: float = 0.9  # weight of key terms found only in the sentence before
    unit_weight: float = 0.05  # "多少名" answered by a sentence with "4277人"
    rank_weight: float = 0.02  # prior for the retriever's order
    type_penalty: float = 0.05  # a sentence without what the question asks for (a date, a number)
    min_coverage: float = 0.2  # key-term share below which a sentence is never the answer
    # A question noun missing from the answering paragraph is allowed only when the sentence is
    # this similar to the question (a paraphrase), else the index does not cover the question.
    paraphrase_similarity: float = 0.87
    role_similarity: float = 0.93  # the same, for the role a 谁 question asks about (校长, 主任)
    second_sentence_margin: float = 0.97  # add a second sentence when it scores within this of the best
    # Sentences embedded per answer, the best by the other signals first: embedding is the costly
    # step (~10 ms a sentence), and 2 gave the same hit rate on the development set as all (p50 4).
    embedded_sentences: int = 2


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of a paragraph, cut after 。！？； and closing quotes."""
    return [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text) if m.group().strip()]


def key_terms(question: str) -> tuple[list[str], list[str], list[str]]:
    """The words of a question that an answer must be about.

    Returns:
        (terms, names, focus): content words (question words dropped); among them the proper
        names (places, people, organisations) that an answering article must mention; and the
        nouns and numbers that say what is asked about (校长, 开幕式, 9月1日), which an answering
        paragraph mentions unless it says the same in other words.
    """
    import jieba.posseg as pseg

    from qa.tokens import _jieba

    jieba = _jieba()
    terms, names, focus = [], [], []
    # Cut the question words out first, or jieba glues them to their neighbours ("多大面积" → 多/大面积).
    for pair in pseg.cut(_INTERROGATIVE.sub("，", normalize(question))):
        word, flag = pair.word, pair.flag
        if word in QUESTION_WORDS or not re.search(r"[0-9A-Za-z\u3400-\u9fff]", word) or flag in ("r", "uj", "y", "c", "p"):
            continue
        terms.append(word)
        if flag in _NAMED and len(word) >= 2:
            # jieba reads "从金华" as one name: drop a leading preposition when the rest is a word.
            if word[0] in _PREPOSITIONS and len(word) >= 3 and word[1:] in jieba.dt.FREQ:
                word = word[1:]
            names.append(word)
        elif flag in _FOCUS and (len(word) >= 2 or word.isdigit()) and word not in _GENERIC:
            focus.append(word)
    return list(dict.fromkeys(terms)), list(dict.fromkeys(names)), list(dict.fromkeys(focus))


def resolve_followup(question: str, history: list[dict] | None) -> str:
    """Rewrite a follow-up ("那福建呢？") into a full question using the previous user question.

    A proper name of the same kind (place for place, person for person) replaces the previous
    one; otherwise the new words are added to the previous question.

    Args:
        question: the new question.
        history: earlier turns, ``[{"role": "user"|"assistant", "content": str}, ...]``.

    Returns:
        The question to search with (unchanged when it is not a follow-up).
    """
    previous = [t.get("content", "") for t in (history or []) if isinstance(t, dict) and t.get("role") == "user"]
    previous = [p for p in previous if isinstance(p, str) and p.strip()]
    if not previous:
        return question
    last = previous[-1]
    stripped = question.strip()
    if not (_FOLLOWUP.search(stripped) or len(normalize(stripped)) <= 6):
        return question
    import jieba.posseg as pseg

    new = [(p.word, p.flag) for p in pseg.cut(stripped)]
    old = [(p.word, p.flag) for p in pseg.cut(last)]
    rewritten = last
    replaced = False
    for word, flag in new:
        if flag in _NAMED:
            for old_word, old_flag in old:
                if old_flag == flag and old_word != word and old_word in rewritten:
                    rewritten = rewritten.replace(old_word, word)
                    replaced = True
                    break
    if replaced:
        return rewritten
    if _ASKS.search(stripped):
        # A new question about the previous one's subject ("它提供哪些服务？"): keep it whole and
        # add what the previous question was about, not what it asked.
        return f"{stripped} {_subject(last)}".strip()
    extra = re.sub(r"^(那么|那|还有|而|另外)|呢?[？?。]?$", "", stripped)
    return f"{extra} {last}".strip()


def _subject(question: str) -> str:
    """The noun phrases of a question ("杭州未来科技城是哪一年挂牌成立的？" → "杭州未来科技城")."""
    import jieba.posseg as pseg

    pairs = [(p.word, p.flag[:1] in ("n", "t", "j", "b") or p.flag in ("eng", "vn"))
             for p in pseg.cut(_INTERROGATIVE.sub("，", normalize(question)))]
    # One odd character between two nouns belongs to the name jieba failed to keep whole (浙/能/集团).
    for i in range(1, len(pairs) - 1):
        if not pairs[i][1] and len(pairs[i][0]) == 1 and pairs[i - 1][1] and pairs[i + 1][1] and pairs[i][0] not in "的和与及":
            pairs[i] = (pairs[i][0], True)
    runs, run = [], ""
    for word, noun in pairs:
        if noun:
            run += word
        elif run:
            runs.append(run)
            run = ""
    return " ".join(runs + [run] if run else runs)


def _answer_type(question: str) -> re.Pattern | str | None:
    if _ASK_REASON.search(question):
        return _REASON
    if _ASK_DATE.search(question):
        return _DATE
    if _ASK_NUMBER.search(question):
        return _NUMBER
    if _ASK_PERSON.search(question):
        return "nr"
    if _ASK_PLACE.search(question):
        return "ns"
    return None


_UNITS = {"名": "名人位", "人": "人名位", "位": "位名人", "次": "次回创", "回": "回次创"}  # 三创历史新高


def _counts(sentence: str, unit: str) -> bool:
    """Whether the sentence counts things in the unit a 多少/几 question asks for."""
    units = _UNITS.get(unit, unit)
    return bool(re.search(rf"[\d一二两三四五六七八九十百千万亿余多]\s*[{units}]", normalize(sentence)))


def _has_type(sentence: str, wanted) -> bool:
    if wanted is None:
        return True
    sentence = _CREDIT.sub("", sentence)
    if isinstance(wanted, re.Pattern):
        return bool(wanted.search(normalize(sentence)))
    import jieba.posseg as pseg

    return any(p.flag == wanted for p in pseg.cut(sentence))


def _coverage(terms: list[str], text: str) -> float:
    """Share of the key terms found in the text; a term counts half when only half its characters are."""
    if not terms:
        return 0.0
    norm = normalize(text)
    score = 0.0
    for term in terms:
        if term in norm:
            score += 1.0
        elif len(term) >= 2 and sum(ch in norm for ch in term) / len(term) >= 0.5:
            score += 0.5 * sum(ch in norm for ch in term) / len(term)
    return score / len(terms)


class Answerer:
    """Answer a question from the index: retrieve, pick answering sentences, cite, or abstain.

    Args:
        index: the NewsIndex.
        retriever: the retriever to draw passages from (default: hybrid).
        settings: answer selection settings.
        generator: an optional ``qa.generate.Generator`` (an OpenAI-compatible chat endpoint) that
            writes the answer from the passages; its answer is used only when every claim is cited,
            else the extractive answer stands. Off by default (see ``Generator.from_env``).
    """

    def __init__(self, index: NewsIndex, retriever: HybridRetriever | None = None,
                 settings: AnswerSettings | None = None, generator=None):
        self.index = index
        self.retriever = retriever or HybridRetriever(index, RetrieverSettings())
        self.settings = settings or AnswerSettings()
        self.generator = generator
        self._sentence_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._homes: OrderedDict[str, str | None] = OrderedDict()

    def run(self, question: str, history: list[dict] | None = None, k: int | None = None,
            date_from: str | None = None, date_to: str | None = None, paper: str | None = None) -> dict:
        """Answer.

        Args:
            question: the user's question.
            history: earlier turns for follow-ups.
            k: passages to retrieve (default from settings).
            date_from, date_to, paper: filters as in search.

        Returns:
            ``{"answer": "…[1]" | None, "citations": [result + "highlight"], "reason": str | None,
            "query": the question actually searched}``.
        """
        query = resolve_followup(question, history)
        results = self.retriever.run(query, k=k or self.settings.k, date_from=date_from, date_to=date_to,
                                     paper=paper)
        extractive = self.answer_from(query, results)
        if self.generator is None or not results:
            return extractive
        generated = self.generator.run(query, results)
        if generated["answer"] is None:
            return dict(extractive, generator_reason=generated["reason"])
        # The model cites by position in the passages it was given: the citations are those passages.
        citations = [dict(r, highlight=None) for r in results]
        return {"answer": generated["answer"], "citations": citations, "reason": None, "query": query,
                "generated": True, "extractive_answer": extractive["answer"]}

    def answer_from(self, query: str, results: list[dict]) -> dict:
        """Choose the answer sentences among already retrieved passages (see ``run``)."""
        s = self.settings
        if not results:
            return _abstain(query, "索引中没有相关内容")
        terms, names, focus = key_terms(query)
        top = results[: s.passages_for_sentences]
        articles = {pid: normalize(text) for pid, text in self.index.article_texts([r["paragraph_id"] for r in top]).items()}
        # A proper name the question is about that no retrieved article mentions: the index does
        # not cover it, and any answer would be a near miss about something else.
        eligible = [(rank, r) for rank, r in enumerate(top)
                    if all(_mentions(n, r, articles.get(r["paragraph_id"], "")) or self._home(n, r) for n in names)]
        if not eligible:
            absent = [n for n in names if not any(n in a for a in articles.values())] or names
            return _abstain(query, f"检索到的文章都没有提到“{'、'.join(absent)}”，无法回答")
        wanted = _answer_type(query)
        spans = []
        for rank, r in eligible:
            previous = 0
            for start, end in split_sentences(r["text"]):
                spans.append((rank, r, start, end, previous))  # previous: where the sentence before starts
                previous = start
        unit = _ASK_UNIT.search(query)
        candidates = []
        for rank, r, start, end, previous in spans:
            sentence = r["text"][start:end]
            # "目前,已引进全职工程师4277人" answers about the centre named in the sentence before.
            coverage = max(_coverage(terms, sentence), s.carry_over * _coverage(terms, r["text"][previous:end]))
            typed = _has_type(sentence, wanted)
            # A reason can be given without a cue word; a date, a number or a name cannot be missing.
            if (typed or wanted is _REASON) and coverage >= s.min_coverage:
                candidates.append(dict(coverage=coverage, typed=typed, rank=rank, start=start, end=end,
                                       counted=bool(unit) and _counts(sentence, unit.group(1)),
                                       context=_coverage(terms, r["text"] + " " + (r["title"] or ""))))
        if not candidates:
            return _abstain(query, "检索到的段落里没有能回答这个问题的句子")
        # Only sentences that could be the answer, and of those the likeliest, are embedded.
        candidates = sorted(candidates, key=lambda c: -self._prior(c))[: max(1, s.embedded_sentences)]
        similarity = self._similarities(query, [top[c["rank"]]["text"][c["start"]:c["end"]] for c in candidates])
        for c, sim in zip(candidates, similarity):
            if wanted is _REASON and not c["typed"]:
                sim -= s.type_penalty  # reason sentences are preferred, not required
            c["sim"] = sim
            c["score"] = s.similarity_weight * sim + self._prior(c)
        usable = sorted(candidates, key=lambda c: -c["score"])
        best = usable[0]
        context = normalize(top[best["rank"]]["text"] + " " + (top[best["rank"]]["title"] or ""))
        missing = [f for f in focus if f not in context]
        figures = [f for f in _QUESTION_FIGURE.findall(normalize(query)) if f not in context]
        if figures:
            return _abstain(query, f"检索到的段落没有说到“{'、'.join(figures)}”，无法回答")
        role = _ROLE.search(normalize(query))
        if role and wanted == "nr":
            word = role.group(1).split("的")[-1]
            if word and word not in context and best["sim"] < s.role_similarity:
                return _abstain(query, f"检索到的段落没有说到谁是“{word}”，无法回答")
        # A long specific term (国家电网, 装机容量) is as telling as a name: few paraphrases exist.
        needed = s.role_similarity if any(len(f) >= 4 for f in missing) else s.paraphrase_similarity
        if missing and best["sim"] < needed:
            return _abstain(query, f"检索到的段落没有说到“{'、'.join(missing)}”，无法回答")
        chosen = [best]
        for cand in usable[1:]:
            if cand["rank"] != best["rank"] and cand["score"] >= s.second_sentence_margin * best["score"]:
                chosen.append(cand)
                break
        citations, parts = [], []
        for c in chosen:
            citation = dict(top[c["rank"]], highlight=[c["start"], c["end"]])
            citations.append(citation)
            parts.append(top[c["rank"]]["text"][c["start"]:c["end"]].strip() + f"[{len(citations)}]")
        # The other retrieved passages follow as further sources, without highlight.
        used = {c["rank"] for c in chosen}
        for rank, result in enumerate(top):
            if rank not in used:
                citations.append(dict(result, highlight=None))
        return {"answer": "".join(parts), "citations": citations, "reason": None, "query": query}

    def _prior(self, c: dict) -> float:
        """A candidate sentence's score without its similarity to the question."""
        s = self.settings
        return (s.coverage_weight * c["coverage"] + s.unit_weight * c["counted"] + s.context_weight * c["context"]
                + s.rank_weight / (c["rank"] + 1) - (0 if c["typed"] else s.type_penalty))

    def _home(self, name: str, result: dict) -> bool:
        """A provincial paper writes "全省/我省" for its own province: such a paragraph is about
        ``name`` when ``name`` is the province its issue names most."""
        if name not in _PROVINCES or not _OWN_PROVINCE.search(result["text"]):
            return False
        issue = result["issue_id"]
        with self._cache_lock:
            home = self._homes.get(issue, "")
        if home == "":
            text = self.index.issue_text(issue)
            counts = {p: text.count(p) for p in _PROVINCES}
            home = max(counts, key=counts.get) if any(counts.values()) else None
            with self._cache_lock:
                self._homes[issue] = home
                while len(self._homes) > 10_000:
                    self._homes.popitem(last=False)
        return home == name

    def _similarities(self, query: str, sentences: list[str]) -> np.ndarray:
        """Cosine of the question with each sentence; sentence vectors are cached (LRU) across questions."""
        keys = [normalize(x) for x in sentences]
        found: dict[str, np.ndarray] = {}
        with self._cache_lock:
            for key in dict.fromkeys(keys):
                if key in self._sentence_vectors:
                    self._sentence_vectors.move_to_end(key)
                    found[key] = self._sentence_vectors[key]
        todo = [k for k in dict.fromkeys(keys) if k not in found]
        if todo:  # the model runs outside the lock: other questions are answered meanwhile
            found.update(zip(todo, self.index.encoder.encode_passages(todo)))
            with self._cache_lock:
                for key in todo:
                    self._sentence_vectors[key] = found[key]
                while len(self._sentence_vectors) > _SENTENCE_CACHE:
                    self._sentence_vectors.popitem(last=False)
        matrix = np.stack([found[k] for k in keys])
        question = self.index.query_vector(normalize(query))
        return matrix @ question


def _mentions(name: str, result: dict, article: str) -> bool:
    """A name counts as mentioned by a passage when its paragraph or headline has it (not only as
    one item of a list), or when the article is about it (named several times)."""
    own = normalize(result["text"] + " " + (result["title"] or ""))
    # "浙江、福建、广东等14个省级电网" gives a figure for the list, not for 福建.
    alone = re.sub(rf"(?:、{re.escape(name)}|{re.escape(name)}(?=、))", "", own)
    return name in alone or article.count(name) >= _ABOUT


def _abstain(query: str, reason: str) -> dict:
    return {"answer": None, "citations": [], "reason": reason, "query": query}
