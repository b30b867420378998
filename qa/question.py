"""Question analysis: the key terms and proper names of a question, shared by the reranker and the answerer."""

from __future__ import annotations

import re

from qa.tokens import QUESTION_WORDS, normalize

# Question words, cut out before segmenting so jieba does not glue them to a neighbour ("多大面积" → 多/大面积).
INTERROGATIVE = re.compile(r"多大|多少|多长时间|多长|多久|多高|多远|多重|几[个名家项次回人件位天年种类条座所批户届轮倍成岁]?|哪一天|哪一年|哪天|哪年|"
                           r"什么时候|什么样|什么|为什么|为何|怎么样|怎么|怎样|如何|是谁|哪里|哪儿|哪些|哪个|哪位|哪|谁")
# Places, people, organisations. jieba's nz/j also tag guesses of its HMM ("家共富"), too noisy to rely on.
NAMED = ("ns", "nr", "nt")
_PREPOSITIONS = frozenset("从在到给向对把被和与跟往于")
_FOCUS = ("n", "nz", "j", "vn", "eng", "b", "nrt", "nw")
_GENERIC = frozenset("一共 总共 名字 时间 情况 问题 方面 工作 内容 原因 目的 数量 总数 人数 名称 地方 东西 办法 措施 人 事".split())


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
    for pair in pseg.cut(INTERROGATIVE.sub("，", normalize(question))):
        word, flag = pair.word, pair.flag
        if word in QUESTION_WORDS or not re.search(r"[0-9A-Za-z\u3400-\u9fff]", word) or flag in ("r", "uj", "y", "c", "p"):
            continue
        terms.append(word)
        if flag in NAMED and len(word) >= 2:
            names.append(_name(word, jieba))
        elif flag in _FOCUS and (len(word) >= 2 or word.isdigit()) and word not in _GENERIC:
            focus.append(word)
    return list(dict.fromkeys(terms)), list(dict.fromkeys(names)), list(dict.fromkeys(focus))


def coverage(terms: list[str], text: str, partial: bool = True) -> float:
    """Share of the key terms found in the text; with ``partial``, a term counts half when only half
    its characters are (else a term counts only whole: 县级 is not in "市级…县(市、区)")."""
    if not terms:
        return 0.0
    norm = normalize(text)
    score = 0.0
    for term in terms:
        if term in norm:
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
    names = [_name(p.word, jieba) for p in pseg.cut(INTERROGATIVE.sub("，", normalize(question)))
             if p.flag in kinds and len(p.word) >= 2]
    return list(dict.fromkeys(names))


def _name(word: str, jieba) -> str:
    """jieba reads "从金华" as one name: drop a leading preposition when the rest is a word."""
    if word[0] in _PREPOSITIONS and len(word) >= 3 and word[1:] in jieba.dt.FREQ:
        return word[1:]
    return word
