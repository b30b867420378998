"""Answerer: pick the sentence(s) of the top passages that answer a question, with citations."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.index import NewsIndex
from qa.retrieve import HybridRetriever, RetrieverSettings
from qa.tokens import QUESTION_WORDS, normalize, segment

# What a question asks for, and what a sentence that answers it must contain.
_DATE = re.compile(r"\d{1,4}年|\d{1,2}月\d{0,2}日?|\d{1,2}日|[今去前明]年|[上下本]月|近日|当天|昨天|今天|此前|[春夏秋冬]季|入夏|年初|年底")
_NUMBER = re.compile(r"\d|[一二两三四五六七八九十百千万亿]+[个名家项次人件万亿%]|百分之")
_ASK_DATE = re.compile(r"哪天|哪一天|何时|什么时候|哪年|哪一年|几月|几号|日期|什么时间|多会儿")
_ASK_NUMBER = re.compile(r"多少|几[个名家项次人件年天成]|多大|多高|多长|多久|比例|百分之几|增长了?多少|几何")
_ASK_PERSON = re.compile(r"谁|哪位|什么人|姓名|叫什么名")
_ASK_PLACE = re.compile(r"哪里|哪儿|在哪|什么地方|何地|哪个地方")
_FOLLOWUP = re.compile(r"^(那|那么|还有|而|另外)|呢[？?]?$|^(它|他|她|其|该)")
_SENTENCE_END = re.compile(r"[^。！？!?；;]*[。！？!?；;]+[”’」』)]?|[^。！？!?；;]+$")
_NAMED = ("ns", "nr", "nt", "nz", "j")  # places, people, organisations, other proper names, abbreviations


@dataclass
class AnswerSettings:
    """Answer selection settings; the defaults were picked on the development set (see README)."""

    k: int = 5
    passages_for_sentences: int = 3  # sentences are drawn from this many top passages
    min_coverage: float = 0.34  # share of the question's key terms the answer sentence must cover
    second_sentence_margin: float = 0.85  # add a second sentence when it scores within this of the best


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of a paragraph, cut after 。！？； and closing quotes."""
    return [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text) if m.group().strip()]


def key_terms(question: str) -> tuple[list[str], list[str]]:
    """The words of a question that an answer must be about.

    Returns:
        (terms, names): content words (question words dropped) and, among them, proper names
        (places, people, organisations) that an answering passage must mention.
    """
    import jieba.posseg as pseg

    from qa.tokens import _jieba

    _jieba()
    terms, names = [], []
    for pair in pseg.cut(normalize(question)):
        word, flag = pair.word, pair.flag
        if word in QUESTION_WORDS or not re.search(r"[0-9A-Za-z\u3400-\u9fff]", word) or flag in ("r", "uj", "y", "c", "p"):
            continue
        terms.append(word)
        if flag in _NAMED and len(word) >= 2:
            names.append(word)
    return list(dict.fromkeys(terms)), list(dict.fromkeys(names))


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
    extra = re.sub(r"^(那么|那|还有|而|另外)|呢?[？?。]?$", "", stripped)
    return f"{extra} {last}".strip()


def _answer_type(question: str) -> re.Pattern | str | None:
    if _ASK_DATE.search(question):
        return _DATE
    if _ASK_NUMBER.search(question):
        return _NUMBER
    if _ASK_PERSON.search(question):
        return "nr"
    if _ASK_PLACE.search(question):
        return "ns"
    return None


def _has_type(sentence: str, wanted) -> bool:
    if wanted is None:
        return True
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
    """

    def __init__(self, index: NewsIndex, retriever: HybridRetriever | None = None,
                 settings: AnswerSettings | None = None):
        self.index = index
        self.retriever = retriever or HybridRetriever(index, RetrieverSettings())
        self.settings = settings or AnswerSettings()

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
        return self.answer_from(query, results)

    def answer_from(self, query: str, results: list[dict]) -> dict:
        """Choose the answer sentences among already retrieved passages (see ``run``)."""
        s = self.settings
        if not results:
            return {"answer": None, "citations": [], "reason": "索引中没有相关内容", "query": query}
        terms, names = key_terms(query)
        # A proper name the question is about that no retrieved passage mentions: the index
        # does not cover it, and any answer would be a near miss about something else.
        corpus = normalize(" ".join(r["text"] + " " + (r["title"] or "") for r in results))
        absent = [n for n in names if n not in corpus]
        if absent:
            return {"answer": None, "citations": [], "query": query,
                    "reason": f"检索到的段落都没有提到“{'、'.join(absent)}”，无法回答"}
        wanted = _answer_type(query)
        candidates = []
        for rank, result in enumerate(results[: s.passages_for_sentences]):
            text = result["text"]
            context = normalize(text + " " + (result["title"] or ""))
            for start, end in split_sentences(text):
                sentence = text[start:end]
                if any(n not in normalize(sentence) and n not in context for n in names):
                    continue
                coverage = _coverage(terms, sentence)
                # The paragraph's coverage helps a sentence whose subject was named earlier in it.
                score = coverage + 0.3 * _coverage(terms, text) + 0.15 / (rank + 1)
                if not _has_type(sentence, wanted):
                    score -= 0.5
                candidates.append((score, coverage, rank, start, end, _has_type(sentence, wanted)))
        candidates.sort(key=lambda c: -c[0])
        usable = [c for c in candidates if c[5] and c[1] >= s.min_coverage]
        if not usable:
            return {"answer": None, "citations": [], "query": query,
                    "reason": "检索到的段落里没有能回答这个问题的句子"}
        chosen = [usable[0]]
        for cand in usable[1:]:
            if cand[2] != chosen[0][2] and cand[0] >= s.second_sentence_margin * chosen[0][0]:
                chosen.append(cand)
                break
        citations, parts = [], []
        for _score, _cov, rank, start, end, _ok in chosen:
            citation = dict(results[rank], highlight=[start, end])
            citations.append(citation)
            parts.append(results[rank]["text"][start:end].strip() + f"[{len(citations)}]")
        # The other retrieved passages follow as further sources, without highlight.
        used = {c[2] for c in chosen}
        for rank, result in enumerate(results[: s.passages_for_sentences]):
            if rank not in used:
                citations.append(dict(result, highlight=None))
        return {"answer": "".join(parts), "citations": citations, "reason": None, "query": query}
