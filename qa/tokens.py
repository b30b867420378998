"""Text normalisation and jieba segmentation shared by indexing and querying."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from pathlib import Path

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
# Spaces next to a CJK character carry no meaning in Chinese ("1.15 亿千瓦" == "1.15亿千瓦").
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(rf"[0-9A-Za-z{_CJK}]")

# Question words and particles: they say what is asked, not what to look for.
QUESTION_WORDS = frozenset(
    "什么 怎么 怎样 如何 为什么 为何 哪 哪个 哪些 哪里 哪儿 哪天 哪年 哪一天 何时 何地 几 多少 多大 多久 谁 吗 呢 吧 啊"
    " 多长 多长时间 多久 几时 哪家 哪位 哪种 哪类 是 的 了 在 有 和 与 及 请问 请 一下 是否 是不是 能否 可以 什么样 怎么样 么".split()
)

_lock = threading.Lock()
_ready = False
_loaded_dicts: set[str] = set()


def normalize(text: str) -> str:
    """Fold a text into the form both the index and the queries are compared in.

    NFKC turns full-width digits, letters and punctuation into their ASCII forms
    (``１．１５`` → ``1.15``); spaces next to Chinese characters are dropped and other runs of
    white space become one space.

    Args:
        text: any text.

    Returns:
        The normalised text.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _SPACE_NEAR_CJK.sub("", text)
    return _SPACES.sub(" ", text).strip()


def jieba_segmenter():
    """The jieba module, initialised once for the process (thread-safe); used by every caller that segments."""
    global _ready
    import jieba

    if not _ready:
        with _lock:
            if not _ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _ready = True
    return jieba


def load_user_dict(path: str | Path) -> None:
    """Teach jieba the words of a user dictionary (one ``word [freq] [pos]`` a line).

    Args:
        path: the dictionary file; loaded once per process.
    """
    key = str(Path(path).resolve())
    if key in _loaded_dicts:
        return
    jieba_segmenter().load_userdict(key)
    _loaded_dicts.add(key)


def segment(text: str) -> list[str]:
    """Split a normalised text into search tokens with ``jieba.cut_for_search``.

    Punctuation and spaces are dropped; long words are also emitted as their sub-words,
    which lets ``浙能集团`` match a query for ``浙能``.

    Args:
        text: text already passed through :func:`normalize`.

    Returns:
        The tokens in order.
    """
    return [t for t in jieba_segmenter().cut_for_search(text) if _WORD.search(t)]


def index_tokens(text: str) -> str:
    """The space-joined token string stored in the FTS5 table for one paragraph."""
    return " ".join(segment(normalize(text)))


def query_tokens(text: str) -> list[str]:
    """The distinct search tokens of a free-text query, question words dropped."""
    return [t for t in dict.fromkeys(segment(normalize(text))) if t not in QUESTION_WORDS]


def fts_query(text: str | list[str]) -> str | None:
    """Build an FTS5 MATCH expression (OR of quoted tokens) from a free-text query or its tokens.

    Args:
        text: the user's query, or tokens from :func:`query_tokens`.

    Returns:
        The expression, or None when the query has no searchable token.
    """
    tokens = query_tokens(text) if isinstance(text, str) else text
    if not tokens:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in tokens)
