"""Parse one newspaper issue into articles and paragraphs whose offsets slice the issue text.

Two plain-text layouts are read, and HTML/Markdown through their markup:

* the page export: blocks separated by blank lines, paragraphs possibly broken across
  columns (rejoined from evidence) and articles interrupted by others (resumed);
* the web form of e-paper sites: one paragraph a line, indented with two full-width spaces,
  headlines flush left, CRLF line ends, no blank lines between paragraphs. There no paragraph
  continues in the next line and no article is interrupted.

Headline stacks. A stack is up to three flush heading lines: 引题 (``kicker``), 主题
(``title``), 副题 (``subtitle``). Three lines are kicker, title, subtitle. Of two, the first
is the kicker when it is a column kicker (``十问十答 | …``), ends in a lead-in verb
(``…座谈会上强调``), or a blank line (the empty 副题 slot) lies below the stack and none
inside it; otherwise they are title and subtitle. A ``——`` subtitle or a byline under the
stack makes its last line the title. A stack never splits: its lines are read together.

Several reports under one shared heading (a heading, then reports each with its own
two-line heading and dateline) become articles of their own, each with its heading, dateline
and reporter, because a citation names the report it quotes. The shared heading is the first
report's kicker when the stack leaves that slot empty, or stands in front of it
(``权威发布 | …``); a heading with nothing under it never stands as an article (see
:func:`_drop_empty`) and passes to the next article as its kicker.

Inside an article, a flush or indented short line followed by text (``科技领先  创新研发强劲``,
``◆山东``) is a section heading. End notes in parentheses (``（本报记者王沛、李茂颖）``,
``（新华社北京10月21日电）``) fill ``byline``/``dateline``. ``图片说明：`` opens a photo block:
its lines are captions (``图①、图④：…``) and credits (``…摄``, ``…供图``, ``新华社发``) of the
article above, or photo news of their own. A caption is kept as text in ``captions`` and as
a paragraph in ``figures`` (kind ``"caption"``, section ``图片说明``, its credit as ``credit``),
which is indexed and cited like body text; so is the subtitle, as ``subtitle_paragraph`` (kind
``"subtitle"``, section ``副题``: a 副题 often states the news in one line the body never repeats). Page furniture (``版式设计：…``, ``责编：…``,
``数据来源：…``, ``更多精彩``) is set aside.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import math
import os
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from qa.document import Article, Issue, Paragraph
from qa.errors import InputError
from qa.textio import Segment, clean_text, detect_format, html_segments, markdown_segments, read_issue_text

MAX_PATH_CHARS = 4096  # a str longer than this (or with a newline) is issue text, not a path
TITLE_MAX = 40  # headlines and section headings are short
FIT = 0.05  # TF-IDF bigram cosine from which a paragraph is taken to fit an article
NO_FIT = 0.01  # ... and under which it shares next to nothing with it
CAPTION_MAX = 150  # a paragraph right above a photo credit and no longer than this is its caption
RUN = 3  # paragraphs looked at together when deciding where a paragraph belongs
MAX_OPEN = 6  # interrupted articles resume nearby: only the latest few stay open

CAPTION_SECTION = "图片说明"  # the section a caption paragraph is filed under, so citations show what it is
SUBTITLE_SECTION = "副题"  # ... and a subtitle paragraph


def paragraph_label(ordinal: int, section: str | None) -> str:
    """How a citation names a paragraph: "第3段" for body text; a subtitle or caption, numbered after
    the body, by what it is ("副题", "图片说明"), since its number is not the paper's."""
    return section if section in (SUBTITLE_SECTION, CAPTION_SECTION) else f"第{ordinal}段"

_DASHES = "—-─ \u3000\t"

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_TERMINAL = "。！？!?…"
_CLOSERS = "”’」』)）】》〉\"'"
_JOIN_PUNCT = "，,、；;：:"
_PAIRS = (("“", "”"), ("‘", "’"), ("「", "」"), ("『", "』"), ("(（", ")）"), ("【", "】"), ("《", "》"))

_PAGE = re.compile(
    r"(?:第\s*([A-Z]?\d{1,3})\s*版|([A-Z]?\d{1,3})\s*版|([A-H]\d{1,2}))"
    rf"(?:\s*[:：·|｜\-—]?\s*[{_CJK}A-Za-z]{{0,12}})?"
)
_ROLE = r"(?:本报|本刊|新华社|中新社|人民日报)?(?:特派|特约|见习|实习|首席)?(?:摄影记者|记者|通讯员|评论员|撰稿人)"
_BY_PREFIX = r"(?:文/图|文／图|文|图|撰文)\s*[/／|｜:：]"
_DATELINE = re.compile(
    rf"(?:(?:本报|新华社|中新社|中新网|人民网|新华网|央视网|[{_CJK}]{{2,6}}(?:社|网|台))"
    rf"[{_CJK}]{{0,10}}?\d{{1,2}}月\d{{1,2}}日(?:电|讯)|本报讯|本刊讯)"
    r"(?:\s*[（(][^()（）]{0,60}[)）])?"
)
_MASTHEAD = re.compile(
    rf"[{_CJK}]{{2,8}}?(?:日报|晚报|晨报|早报|时报|商报|导报|周报|都市报|青年报|法治报|经济报|参考报)"
    rf"(?=$|[\s\d第（(·|｜-])"
)
_FULL_DATE = re.compile(r"((?:19|20)\d{2})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")
_NAME_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")
_NUM = r"[一二三四五六七八九十\d]+"
_ENUMERATION = re.compile(rf"[一二三四五六七八九十]+是|[（(]?{_NUM}[)）、.．]|第{_NUM}")  # 一是/（一）/1./第一

_SUBHEAD = re.compile(r"[◆◇■□●○▲△★☆▶►]")  # "◆山东": a region subhead inside an article
_SPEAKER = re.compile(r"[^\s:：，,。]{1,6}[:：]")  # "记者:…", "胡仲明:…": an interview turn, not a headline
# A lead-in line above the main title ends with the verb that introduces it: "…座谈会上强调".
_KICKER_CUE = re.compile(r"(?:强调|指出|表示|显示|要求|提出|宣布|致信|致电|写道|透露|认为|获悉)$")

_jieba_lock = threading.Lock()
_jieba_mod = None


def _jieba():
    """jieba, initialised once per process with its start-up chatter silenced."""
    global _jieba_mod
    if _jieba_mod is None:
        with _jieba_lock:
            if _jieba_mod is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_mod = jieba
    return _jieba_mod


# ------------------------------------------------------------------------ line shapes
def ends_complete(text: str) -> bool:
    """Whether a paragraph ends where a paragraph may end.

    Args:
        text: the paragraph.

    Returns:
        True after terminal punctuation (closing quotes allowed after it), a trailing ``——``
        lead-in, or a closing ``(完)``/``(记者 …)``/``(… 摄)`` note.
    """
    t = text.rstrip()
    if re.search(r"[（(](?:完|记者[^()（）]*|[^()（）]*摄)[)）]$", t) or t.endswith(("——", "—", "--")):
        return True
    core = t.rstrip(_CLOSERS)
    if not core:
        return False
    if core[-1] in _TERMINAL:
        return True
    return core[-1] == "." and len(core) > 1 and not core[-2].isdigit()


def _unbalanced(text: str) -> bool:
    """Whether an opening quote or bracket is left unclosed (a break cut the text inside it)."""
    return any(sum(text.count(c) for c in o) > sum(text.count(c) for c in c_) for o, c_ in _PAIRS)


def _heading_shape(text: str, strict: bool = True) -> bool:
    """Whether a line looks like a headline or section heading: short, no sentence end.

    Args:
        text: the line.
        strict: section headings may not end in ？/！; titles (checked with more evidence) may.

    Returns:
        True for a short, balanced line with letters and no 。 and no trailing comma-like mark.
    """
    if not text or len(text) > TITLE_MAX or "。" in text or _unbalanced(text):
        return False
    if not re.search(rf"[{_CJK}A-Za-z]", text):
        return False
    core = text.rstrip(_CLOSERS)
    if not core or core[-1] in _JOIN_PUNCT + "—…":
        return False
    return not (strict and core[-1] in _TERMINAL)


def page_marker(text: str) -> str | None:
    """The page a line announces (``第01版`` → ``"01"``, ``A3`` → ``"A3"``), else None."""
    m = _PAGE.fullmatch(unicodedata.normalize("NFKC", text).strip().upper())
    if not m:
        return None
    page = next(g for g in m.groups() if g)
    return page.zfill(2) if page.isdigit() else page


def _is_byline(text: str) -> bool:
    """Whether a line is a byline: a role word (本报记者, 通讯员) followed only by names."""
    if len(text) > TITLE_MAX or re.search(r"[，,。；;:：!?！？]", text) or text.rstrip(")）").endswith("摄"):
        return False
    if not (re.match(_ROLE, text) or re.match(_BY_PREFIX, text)):
        return False
    rest = re.sub(_ROLE, " ", re.sub("^" + _BY_PREFIX, " ", text))
    # "记者从省发改委获悉" starts like a byline; names are short, that clause is not.
    return all(len(name) <= 5 for name in re.split(r"[\s、,，/／]+", rest) if name)


def _is_credit(text: str) -> bool:
    """Whether a line is a photo credit.

    Args:
        text: the line.

    Returns:
        True for ``本报记者 X 摄``, ``(新华社记者 X 摄)``, ``图/X``, ``本报记者  赵益普  周之然摄``,
        ``中缅油气管道项目供图``, ``新华社发``: short, no sentence punctuation.
    """
    if len(text) > 50:
        return False
    if re.search("[。，,；;！？!?]", text) and not re.fullmatch(r"[(（][^()（）]{1,45}摄影?[)）]", text):
        return False
    return bool(
        re.fullmatch(r"[(（][^()（）]{1,45}摄影?[)）]", text)
        or re.search(r"(?:\s|记者\S{0,6}|通讯员\S{0,6})摄影?[)）]?$", text)
        or re.fullmatch(rf"(?:{_ROLE})\s*[^\s:：][^:：]{{0,30}}?摄影?", text)  # 本报记者  赵益普  周之然摄
        or re.fullmatch(r"[^:：]{1,30}?供图|图片由.{1,20}提供", text)
        or re.fullmatch(r"(?:新华社|中新社|人民视觉|视觉中国|资料图片)(?:发|供图)?(?:\s*[(（][^()（）]{1,30}[)）])?", text)
        or re.fullmatch(r"(?:图|摄影|图片)\s*[/／:：|｜]\s*\S.{0,20}", text)
    )


_CIRCLED = "①-⑳"
_PHOTO_LABEL = rf"图\s*[{_CIRCLED}一二三四五六七八九十\d]+"


def _is_caption(text: str) -> bool:
    """Whether a paragraph is a photo caption by its own form.

    Args:
        text: the paragraph.

    Returns:
        True for ``图为…``, ``图①、图④：…``, ``图2:…``, or a paragraph ending with ``(… 摄)``.
    """
    return bool(re.match(rf"(?:图为|上图|下图|左图|右图|题图|图\s*[:：]|{_PHOTO_LABEL}"
                         rf"(?:\s*[、,，和及]\s*(?:{_PHOTO_LABEL}|[{_CIRCLED}]))*\s*[:：])", text)
                or re.search(r".[(（][^()（）]{1,40}摄影?[)）]$", text))


# Page furniture: layout and editing credits, data sources under a chart, links to more.
_FURNITURE = re.compile(
    r"(?:版式设计|版面设计|本版责编|本版编辑|本版统筹|责任编辑|责编|编辑|美编|校对|制图|绘图|设计|统筹|策划|"
    r"数据来源|资料来源)\s*[:：]\s*[^。！？!?]{1,40}"
    r"|(?:点击|扫码)?(?:查看|阅读)?更多精彩(?:内容|报道)?[>》]*"
)
_PHOTO_BLOCK = re.compile(r"图片说明\s*[:：]?")  # opens a page's block of captions and credits
# The source line under each article of an e-paper site: 《 人民日报 》（ 2024年01月22日   第 01 版）
_SOURCE_LINE = re.compile(
    r"《\s*([^《》\s]{2,12})\s*》\s*[（(]\s*((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
    r"\s*(?:第\s*([A-Z]?\d{1,3})\s*版)?\s*[)）]"
)


def _is_furniture(text: str) -> bool:
    """Whether a line is page furniture: not article text.

    Args:
        text: the line.

    Returns:
        True for ``版式设计：张丹峰``, ``数据来源：…``, ``更多精彩``, the same in parentheses
        (``（责编：杨光宇、牛镛）``) and a site's source line (``《 人民日报 》（ 2024年01月22日 第 01 版）``).
    """
    inner = re.sub(r"^[(（]\s*|\s*[)）]$", "", text) if re.fullmatch(r"[(（].*[)）]", text) else text
    return bool(_FURNITURE.fullmatch(inner) or _SOURCE_LINE.fullmatch(text))


def _endnote(text: str) -> tuple[str | None, str | None] | None:
    """The byline and dateline of an end note in parentheses, else None.

    Web pages close an article with ``（本报记者王沛、李茂颖）`` or ``（新华社北京10月21日电）``;
    the parentheses are dropped.

    Args:
        text: the line.

    Returns:
        ``(byline, dateline)`` with either one possibly None, or None when the line is not an
        end note.
    """
    m = re.fullmatch(r"[(（]\s*([^()（）]{2,58}?)\s*[)）]", text)
    if not m:
        return None
    inner = m.group(1)
    plain = unicodedata.normalize("NFKC", inner)
    dl = re.match(r"据?" + _DATELINE.pattern, plain)
    # NFKC maps full-width digits and brackets one for one, so the match length holds in ``inner``.
    if dl and len(unicodedata.normalize("NFKC", inner[:dl.end()])) == dl.end():
        dateline, rest = inner[:dl.end()].strip(), inner[dl.end():].strip()
        if not rest:
            return None, dateline
        return (rest, dateline) if _is_byline(rest) else None
    return (inner, None) if _is_byline(inner) else None


def _dateline(text: str) -> str | None:
    """The dateline a paragraph opens with (``本报绍兴7月31日电(记者…)``), else None."""
    m = _DATELINE.match(unicodedata.normalize("NFKC", text[:120]))
    # NFKC only changes full-width digits/brackets here, one character for one, so the
    # match length maps back onto the original text.
    return text[: m.end()] if m and len(unicodedata.normalize("NFKC", text[: m.end()])) == m.end() else None


def _word_across(left: str, right: str) -> bool:
    """Whether jieba reads a Chinese word across the join of ``left`` and ``right``.

    Args:
        left: the text before a break.
        right: the text after it.

    Returns:
        True when a multi-character word with a Chinese character spans the break
        (``宁波市委组`` + ``织部`` → ``组织部``).
    """
    a, b = left.rstrip()[-6:], right.lstrip()[:6]
    if not a or not b:
        return False
    pos = 0
    for word in _jieba().lcut(a + b, HMM=False):  # HMM would invent words out of any two characters
        end = pos + len(word)
        if pos < len(a) < end and re.search(f"[{_CJK}]", word):
            return True
        if end >= len(a):
            return False
        pos = end
    return False


def join_evidence(left: str, right: str) -> bool:
    """Whether a paragraph that does not end a sentence continues in the next block.

    Args:
        left: the unterminated paragraph.
        right: the next block's text.

    Returns:
        True when ``left`` ends in a comma-like mark, leaves a quote or bracket open, or jieba
        finds a word across the break; a colon followed by a list item does not count.
    """
    core = left.rstrip()
    if not core or not right or ends_complete(core) or _dateline(right):
        return False
    if core[-1] in "，,、；;":
        return True
    if core[-1] in "：:":
        return not _ENUMERATION.match(right)
    return _unbalanced(core) or _word_across(core, right)


# ------------------------------------------------------------------------ blocks
@dataclass
class _Block:
    """A candidate paragraph: one or more pieces of the issue text, and what it looks like."""

    spans: list[tuple[int, int]]
    text: str
    big_gap: bool = False  # a wider blank gap than between ordinary paragraphs precedes it
    hint: str | None = None  # from markup: "title", "section", "masthead" or "caption"
    # page, furniture, photos (图片说明), endnote, credit, caption, subtitle, byline, kicker, heading, body
    kind: str = "body"
    page: str | None = None
    dateline: str | None = None
    gap: int = 0  # blank lines right above it in the source (an empty 引题/副题 slot shows as one)
    indented: bool = False  # the line starts with white space (web pages indent every paragraph)


def _classify(block: _Block) -> _Block:
    """Fill in ``kind`` (and page/dateline) from the block's text alone."""
    t = block.text
    block.page = page_marker(t)
    block.dateline = _dateline(t)
    block.kind = "body"
    if block.page:
        block.kind = "page"
    elif _is_furniture(t):
        block.kind = "furniture"
    elif _PHOTO_BLOCK.fullmatch(t):
        block.kind = "photos"
    elif _endnote(t) is not None:
        block.kind = "endnote"
    elif _is_credit(t):
        block.kind = "credit"
    elif block.hint == "caption" or _is_caption(t):
        block.kind = "caption"
    elif block.dateline:
        block.kind = "body"
    elif re.match(r"(?:——|—|--|──)\s*\S", t) and len(t) <= 60 and "。" not in t:
        block.kind = "subtitle"
    elif _is_byline(t):
        block.kind = "byline"
    elif re.search("[|｜]", t) and _heading_shape(t.replace("|", "").replace("｜", ""), strict=False):
        block.kind = "kicker"
    elif _heading_shape(t, strict=False):
        block.kind = "heading"
    return block


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` so that it has no white space at either end."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _continues(prev: _Block, line: _Block, width: int | None) -> bool:
    """Whether ``line``, right under ``prev`` with no blank line between, continues its paragraph.

    Structural lines (subtitle, byline, dateline, credit, page) never continue a paragraph.
    With a wrap width, only a line filled to it wraps; without one (paragraphs are separated by
    blank lines), a short heading-like line is only taken for a wrapped line when it is long
    enough to be one.
    """
    if prev.kind not in ("body", "heading") or line.kind not in ("body", "heading") or line.dateline:
        return False
    if width:  # a full line wraps even where a sentence happens to end at the margin
        start, end = prev.spans[-1]
        return end - start >= width - 2
    if ends_complete(prev.text):
        return False
    return prev.kind == "body" or (len(prev.text) >= 20 and line.kind == "body")


def _wrap_width(rows: list[tuple[str, int, bool]]) -> int | None:
    """The width a file was hard-wrapped at, else None.

    Args:
        rows: each non-blank line's trimmed text, blank lines above it, and whether it is
            indented; structural lines (credits, captions, furniture, end notes) are left out
            by the caller, as a wrap never produces them.

    Returns:
        A line length at least five lines share and next to none exceed, unless most
        indented lines end a sentence (each is a whole paragraph), most lines of that length
        end a sentence (a wrap falls mid-sentence, while short pages of whole paragraphs can
        share a length by chance) or, where paragraphs are indented, flush lines follow lines
        shorter than that (a wrapped paragraph goes on flush after a full line; a web page's
        flush lines are its headlines, after anything).
    """
    lines = [text for text, _, _ in rows]
    indented = [text for text, _, ind in rows if ind]
    if indented and sum(1 for t in indented if ends_complete(t)) * 2 > len(indented):
        return None  # indented lines that end sentences are whole paragraphs, one a line (a web page)
    counts = Counter(len(t) for t in lines if len(t) >= 10)
    if not counts:
        return None
    width, count = counts.most_common(1)[0]
    # Five full lines at least: three lines of one length are a coincidence on a short page.
    if count < 5 or count * 4 < len(lines):
        return None
    complete = sum(1 for t in lines if len(t) == width and ends_complete(t))
    longer = sum(1 for t in lines if len(t) > width + 1)  # a wrapped file has next to no line past its width
    if complete * 2 >= count or longer * 10 > len(lines):
        return None
    if any(indented for _, _, indented in rows):
        flush = [k for k in range(1, len(rows)) if not rows[k][2] and rows[k][1] == 0]
        after_full = sum(1 for k in flush if len(rows[k - 1][0]) >= width - 2)
        if after_full * 10 < len(flush) * 9:
            return None
    return width


def _merge_lines(rows: list[tuple[_Block, int, bool]], width: int | None) -> list[tuple[_Block, int, bool]]:
    """Merge each row into the one above when it continues that paragraph (see :func:`_continues`)."""
    merged: list[tuple[_Block, int, bool]] = []
    for block, gap, indented in rows:
        if merged and gap == 0 and not indented and _continues(merged[-1][0], block, width):
            prev = merged[-1][0]
            prev.spans.extend(block.spans)
            prev.text += block.text
            _classify(prev)
        else:
            merged.append((block, gap, indented))
    return merged


def _mostly_adjacent(rows: list[tuple[_Block, int, bool]]) -> bool:
    """Whether most blocks follow the one above without a blank line (one paragraph per line)."""
    return sum(1 for _, gap, _ in rows[1:] if gap == 0) * 2 > len(rows) - 1


def text_blocks(text: str) -> list[_Block]:
    """Split plain text into blocks, one per paragraph as laid out.

    Lines filled to the file's wrap width continue on the next line. When most remaining
    blocks are then separated by blank lines, adjacent lines also form one paragraph unless the
    second is indented or structural; otherwise each line is a paragraph. A blank gap wider
    than the usual separator is recorded as ``big_gap``.

    Args:
        text: the decoded issue text.

    Returns:
        The blocks in reading order.
    """
    rows, pos, blank_run = [], 0, 0
    for line in text.split("\n"):
        s, e = _trim(text, pos, pos + len(line))
        if s < e:
            rows.append((_classify(_Block([(s, e)], text[s:e], gap=blank_run, indented=s > pos)), blank_run, s > pos))
            blank_run = 0
        else:
            blank_run += 1
        pos += len(line) + 1
    width = _wrap_width([(b.text, gap, indented) for b, gap, indented in rows
                         if b.kind in ("body", "heading", "kicker")])
    if width:
        rows = _merge_lines(rows, width)
    if not _mostly_adjacent(rows):
        rows = _merge_lines(rows, None)
    big = 1 if _mostly_adjacent(rows) else 2  # the usual separator: none, or a blank line
    for block, gap, _ in rows:
        block.big_gap = gap >= big
    return [block for block, _, _ in rows]


def markup_blocks(segments: list[Segment]) -> tuple[str, list[_Block]]:
    """Lay out HTML/Markdown blocks as the issue's plain text and classify them.

    Headings become hints: the shallowest level used for more than a lone top heading is the
    article title level, deeper levels are section headings, a lone top heading is a masthead.

    Args:
        segments: the extracted blocks.

    Returns:
        ``(text, blocks)``: the plain text (blocks separated by blank lines) and its blocks.
    """
    levels = [int(s.kind[1]) for s in segments if s.kind.startswith("h")]
    title_level = masthead_level = None
    if levels:
        top = min(levels)
        first = segments[0]
        lone_top = levels.count(top) == 1 and first.kind == f"h{top}" and len(set(levels)) > 1
        if lone_top and ((len(segments) > 1 and segments[1].kind.startswith("h")) or _MASTHEAD.match(first.text)):
            masthead_level, title_level = top, min(lv for lv in levels if lv != top)
        else:
            title_level = top
    parts: list[str] = []
    blocks: list[_Block] = []
    pos = 0
    for seg in segments:
        sep = ("\n\n\n" if seg.gap >= 2 else "\n\n") if parts else ""
        parts.append(sep + seg.text)
        pos += len(sep)
        hint = "caption" if seg.kind == "caption" else None
        if seg.kind.startswith("h"):
            level = int(seg.kind[1])
            hint = "masthead" if level == masthead_level else "title" if level <= title_level else "section"
        blocks.append(_classify(_Block([(pos, pos + len(seg.text))], seg.text, seg.gap >= 2, hint)))
        pos += len(seg.text)
    return "".join(parts), blocks


# ------------------------------------------------------------------------ similarity
def _bigrams(text: str) -> Counter:
    """Character bigrams inside runs of letters/digits/CJK: topic words without segmentation."""
    grams: Counter = Counter()
    for run in re.findall(r"\w+", text):
        grams.update(run[i:i + 2] for i in range(len(run) - 1))
    return grams


def _cosine(a: Counter, b: Counter, idf: dict[str, float]) -> float:
    """TF-IDF cosine of two bigram bags."""
    dot = sum(n * b[g] * idf.get(g, 1.0) ** 2 for g, n in a.items() if g in b)
    if not dot:
        return 0.0
    na = math.sqrt(sum((n * idf.get(g, 1.0)) ** 2 for g, n in a.items()))
    nb = math.sqrt(sum((n * idf.get(g, 1.0)) ** 2 for g, n in b.items()))
    return dot / (na * nb)


# ------------------------------------------------------------------------ assembly
class _Builder:
    """Walk the blocks in reading order and assemble articles.

    Keeps the current article, the articles still open (an interrupted article may continue
    after another one), the paragraph waiting for its continuation across a column break, and
    each article's bigram profile for deciding where a paragraph belongs.
    """

    def __init__(self, blocks: list[_Block], page: str | None, markup: bool = False, text: str | None = None) -> None:
        self.blocks = blocks
        self.text = text  # the issue text the blocks' spans slice
        self.markup = markup  # HTML/Markdown: heading levels, not line shapes, mark the titles
        # Web pages indent each paragraph and leave headlines flush: then an indented line is
        # never a headline. A layout that indents everything says nothing.
        body = [x for x in blocks if x.kind == "body"]
        self.indent_layout = (sum(x.indented for x in body) * 2 > len(body)
                              and any(not x.indented for x in blocks if x.kind in ("heading", "kicker")))
        self.in_photo_block = False  # inside a "图片说明" block
        self.photo_block: Article | None = None  # the article whose photos that block describes
        self.page = page
        self.articles: list[Article] = []
        self.open: list[Article] = []  # articles that can still take paragraphs, least recent first
        self.current: Article | None = None
        self.pending: Paragraph | None = None  # unterminated last paragraph of the current article
        self.photos: set[int] = set()  # ids of caption-only (photo news) articles
        self.caption_target: Article | None = None  # where a credit right after a caption goes
        self.profiles: dict[int, Counter] = {}
        self.sections: dict[int, str] = {}
        self.started = False  # an article has begun: mastheads only come before that
        df: Counter = Counter()
        for b in blocks:
            df.update(set(_bigrams(b.text)))
        n = len(blocks)
        self.idf = {g: math.log((n + 1) / (c + 1)) + 1 for g, c in df.items()}
        self.paper: str | None = None
        self.date: str | None = None

    # ---- small helpers
    def _kind(self, i: int) -> str | None:
        return self.blocks[i].kind if 0 <= i < len(self.blocks) else None

    def _sim(self, text: str, article: Article) -> float:
        return _cosine(_bigrams(text), self.profiles.get(id(article), Counter()), self.idf)

    def _run_text(self, i: int) -> str:
        """The text of block i and the plain body blocks right after it (for topic matching)."""
        texts = [self.blocks[i].text]
        for b in self.blocks[i + 1:i + RUN]:
            if b.kind != "body" or b.dateline:
                break
            texts.append(b.text)
        return "".join(texts)

    def _new_article(self, title: str | None = None, photo: bool = False, subtitle_block: _Block | None = None,
                     **meta) -> Article:
        self._finish_flow()
        article = Article(title=title, page=self.page, **meta)
        if subtitle_block is not None:
            self._add_subtitle(article, subtitle_block)
        self.articles.append(article)
        self.profiles[id(article)] = _bigrams((title or "") + (meta.get("subtitle") or ""))
        if photo:
            self.photos.add(id(article))
        else:
            self.open = self.open[-(MAX_OPEN - 1):] + [article]
        self.current = article
        self.started = True
        self.in_photo_block, self.photo_block = False, None
        return article

    def _activate(self, article: Article) -> None:
        """Make an open article current again (it was interrupted and continues here)."""
        self.current = article
        if article in self.open:
            self.open.remove(article)
            self.open.append(article)

    def _finish_flow(self) -> None:
        """The current text flow ends: an unterminated last paragraph was cut off for good."""
        if self.pending is not None:
            self.pending.truncated = True
        self.pending = None

    def _append(self, article: Article, block: _Block) -> None:
        (start, _), (_, end) = block.spans[0], block.spans[-1]
        par = Paragraph(block.text, start, end, list(block.spans), section=self.sections.get(id(article)))
        if block.dateline and article.dateline is None and not article.paragraphs:
            article.dateline = block.dateline
        article.paragraphs.append(par)
        self.profiles[id(article)].update(_bigrams(block.text))
        # On a web page every indented line is a whole paragraph: none continues in the next block.
        complete = ends_complete(block.text) or (self.indent_layout and block.indented)
        self.pending = None if complete else par

    def _join(self, block: _Block) -> None:
        """Glue a block onto the pending paragraph: the same paragraph across a column break."""
        par = self.pending
        assert par is not None and self.current is not None
        par.spans.extend(block.spans)
        par.text += block.text
        par.end = block.spans[-1][1]
        self.profiles[id(self.current)].update(_bigrams(block.text))
        self.pending = None if ends_complete(par.text) else par

    # ---- headlines
    def _headline(self, i: int) -> int:
        """Start an article if a headline group begins at block i; return the blocks it used (0 if none)."""
        if self.markup:
            return self._markup_headline(i)
        b = self.blocks
        lines = []
        while self._stack_line(i + len(lines)):
            lines.append(i + len(lines))
        if not lines:
            return 0
        j = lines[-1] + 1
        texts = [b[x].text for x in lines]
        # A 副题 in the "——" form or a byline closes the stack: the lines above it are 引题 and 主题.
        closed = self._kind(j) in ("subtitle", "byline")
        kicker, title, subtitle = _stack_roles(texts, closed, b[lines[0]].kind == "kicker",
                                               gap_below=b[j].gap if j < len(b) else 0, gap_inside=b[lines[-1]].gap)
        if title is None or len(title) > TITLE_MAX:
            return 0
        marked = subtitle is None and closed
        subtitle_block = next((b[x] for x in lines if b[x].text == subtitle), None) if subtitle else None
        byline = None
        for _ in range(2):  # a "——" subtitle and a byline, in either order
            if self._kind(j) == "subtitle" and subtitle is None:
                subtitle, subtitle_block, j = b[j].text, b[j], j + 1
            elif self._kind(j) == "byline" and byline is None:
                byline, j = b[j].text, j + 1
        follows = b[j] if j < len(b) else None
        marked = marked or byline is not None or (kicker is not None and "|" in kicker.replace("｜", "|"))
        evidence = marked or (follows is not None and follows.dateline is not None)
        # No headline furniture: a heading is still a title at the top, after a page marker, a
        # wide gap or the end of the previous article, or as a stack of two or three lines, when
        # what follows is text. A lone line inside an article is a section heading.
        if not evidence and (len(lines) >= 2 or b[i].big_gap or self.current is None
                             or self._kind(i - 1) in ("page", "endnote", "furniture", "credit", "photos")):
            evidence = follows is not None and (
                follows.kind in ("body", "caption", "photos", "endnote")
                or (follows.kind == "heading" and self._kind(j + 1) == "body"))
        return self._open_headline(i, j, evidence, title, kicker=kicker, subtitle=subtitle, byline=byline,
                                   subtitle_block=subtitle_block)

    def _open_headline(self, i: int, j: int, evidence, title: str, **meta) -> int:
        """Open the article headed by blocks i..j-1 when there is evidence for it (never at the
        masthead); returns the blocks consumed, 0 when none."""
        if not evidence or (not self.started and meta.get("kicker") is None and _MASTHEAD.fullmatch(title)):
            return 0
        self._new_article(title, **meta)
        return j - i

    def _stack_line(self, j: int) -> bool:
        """Whether block j can be a line of a headline stack (引题, 主题 or 副题)."""
        if not 0 <= j < len(self.blocks):
            return False
        b = self.blocks[j]
        if b.kind not in ("heading", "kicker") or len(b.text) > TITLE_MAX:
            return False
        if self.indent_layout and b.indented:  # web pages indent paragraphs and subheads, never headlines
            return False
        # "◆山东" is a subhead inside an article; "记者:…?" a turn of an interview.
        return not (_SUBHEAD.match(b.text) or _SPEAKER.match(b.text))

    def _markup_headline(self, i: int) -> int:
        """:meth:`_headline` for HTML/Markdown, where heading levels already say which lines are titles."""
        b, j, kicker = self.blocks, i, None
        if (self._kind(j) == "kicker" and self._kind(j + 1) in ("heading", "kicker")) or (
                self._kind(j) == "heading" and self._kind(j + 1) == "heading"
                and self._kind(j + 2) in ("subtitle", "byline") and b[j].hint != "section"):
            kicker, j = b[j].text, j + 1  # 引题/栏目 above the main title
        if j >= len(b) or (self._kind(j) not in ("heading", "kicker") and b[j].hint != "title"):
            return 0
        if b[j].hint in ("section", "masthead") or (b[j].hint is None and len(b[j].text) > TITLE_MAX):
            return 0
        title, j = b[j].text, j + 1
        subtitle = byline = subtitle_block = None
        for _ in range(2):  # subtitle and byline, in either order
            if self._kind(j) == "subtitle" and subtitle is None:
                subtitle, subtitle_block, j = b[j].text, b[j], j + 1
            elif self._kind(j) == "byline" and byline is None:
                byline, j = b[j].text, j + 1
        follows = b[j] if j < len(b) else None
        evidence = (kicker is not None and "|" in kicker.replace("｜", "|")) or subtitle or byline
        evidence = evidence or b[i].hint == "title" or (follows is not None and follows.dateline)
        # No headline furniture: a heading is still a title at the top, after a page marker or a
        # wide gap, when what follows is body text.
        if not evidence and (b[i].big_gap or self.current is None or self._kind(i - 1) == "page"):
            evidence = follows is not None and follows.kind in ("body", "heading", "caption") and (
                follows.kind != "heading" or self._kind(j + 1) == "body")
        return self._open_headline(i, j, evidence, title, kicker=kicker, subtitle=subtitle, byline=byline,
                                   subtitle_block=subtitle_block)

    # ---- subtitles and captions
    def _add_subtitle(self, article: Article, block: _Block) -> None:
        """Give ``article`` its 副题 as a paragraph too, indexed and cited like body text: a
        subtitle often states the news in one line ("——前两月全省进出口同比增长8.2%") that the
        body never repeats. The leading dashes are left out of its text and spans."""
        skip = len(block.text) - len(block.text.lstrip(_DASHES))
        spans = []
        for start, end in block.spans:
            cut = min(skip, end - start)
            skip -= cut
            if start + cut < end:
                spans.append((start + cut, end))
        text = "".join(self.text[s:e] for s, e in spans) if self.text is not None else block.text.lstrip(_DASHES)
        if spans and text.strip():
            article.subtitle_paragraph = Paragraph(text, spans[0][0], spans[-1][1], spans, section=SUBTITLE_SECTION,
                                                   kind="subtitle")

    def _add_caption(self, article: Article, block: _Block) -> None:
        """Give ``article`` a photo caption: as text, and as a paragraph that is indexed and cited.

        A credit written at the caption's end ("…健身。本报记者 林一 摄") becomes the paragraph's
        ``credit``, and its spans stop before it.
        """
        article.captions.append(block.text)
        keep, credit = _split_credit(block.text)
        spans, left = [], keep
        for start, end in block.spans:  # cut the spans down to the first ``keep`` characters
            if left <= 0:
                break
            spans.append((start, min(end, start + left)))
            left -= end - start
        text = "".join(self.text[s:e] for s, e in spans) if self.text is not None else block.text[:keep]
        article.figures.append(Paragraph(text, spans[0][0], spans[-1][1], spans, section=CAPTION_SECTION,
                                         kind="caption", credit=credit))
        self.caption_target = article

    def _add_credit(self, article: Article, block: _Block) -> None:
        """Give ``article`` a photo credit: the byline of the caption right before it (and of photo news)."""
        article.captions.append(block.text)
        if self.caption_target is article and article.figures and article.figures[-1].credit is None:
            article.figures[-1].credit = block.text
        if id(article) in self.photos and article.byline is None:
            article.byline = block.text
        self.caption_target = article

    def _photo_article(self, block: _Block) -> Article:
        """Open a photo-news item (no title, captions only) with this caption."""
        article = self._new_article(None, photo=True)
        self._add_caption(article, block)
        return article

    def _caption(self, i: int) -> None:
        """A caption block: to the current article, or a photo-news item of its own."""
        b = self.blocks[i]
        cur = self.current
        block = self.photo_block
        # A photo-news item holds one photo: after its credit, the next caption is the next photo.
        if block is not None and id(block) in self.photos and block.figures and block.figures[-1].credit:
            block = None
        if block is not None:  # under "图片说明": the captions of the article above
            self._add_caption(block, b)
        elif self.in_photo_block:  # "图片说明" with no article above: photo news
            self.photo_block = self._photo_article(b)
            self.in_photo_block = True  # opening the article closed the block; its captions go on
        elif b.big_gap or cur is None or (id(cur) in self.photos and self.caption_target is not cur):
            self._photo_article(b)
        else:
            self._add_caption(cur, b)

    def _credit(self, i: int) -> None:
        """A photographer credit: with the caption just before it, else the current article."""
        b = self.blocks[i]
        target = self.caption_target or self.photo_block or self.current
        if target is None:
            article = self._new_article(None, photo=True)
            self._add_credit(article, b)
        else:
            self._add_credit(target, b)

    def _endnote(self, b: _Block) -> None:
        """An end note in parentheses: the byline and/or dateline of the article it closes."""
        note = _endnote(b.text)
        cur = self.current
        if note is None or cur is None:
            self._body_fallback(b)
            return
        byline, dateline = note
        if byline:
            cur.byline = f"{cur.byline} {byline}" if cur.byline else byline
        if dateline and cur.dateline is None:
            cur.dateline = dateline
        self._finish_flow()

    def _body_fallback(self, b: _Block) -> None:
        """Keep a structural line that has nothing to attach to as body text of its own article."""
        self._append(self._new_article(None), b)

    def _photo_text(self, i: int) -> str | None:
        """Whether body block i is the caption of a photo credited right after it.

        Returns:
            ``"own"`` for photo news standing alone (after a wide gap, outside any article, or
            unrelated to the current article), ``"attached"`` for a photo of the current
            article, None when the block is body text.
        """
        b, cur = self.blocks[i], self.current
        if self._kind(i + 1) != "credit" or b.dateline:
            return None
        if b.big_gap or cur is None or id(cur) in self.photos:
            return "own"
        if len(b.text) > CAPTION_MAX:
            return None
        return "own" if self._sim(b.text, cur) < NO_FIT else "attached"

    # ---- body
    def _byline(self, b: _Block) -> None:
        """A byline outside a headline group: the current article's, or one opening an untitled article."""
        cur = self.current
        if cur is None or id(cur) in self.photos or (cur.paragraphs and b.big_gap):
            cur = self._new_article(None)
        cur.byline = f"{cur.byline} {b.text}" if cur.byline else b.text

    def _best_open(self, text: str, exclude: Article | None) -> tuple[Article | None, float]:
        """The open article (other than ``exclude``) whose text so far is most like ``text``."""
        best, best_sim = None, -1.0
        for article in reversed(self.open):  # most recent first: wins ties
            if article is exclude:
                continue
            s = self._sim(text, article)
            if s > best_sim:
                best, best_sim = article, s
        return best, best_sim

    def _resume(self, text: str, exclude: Article | None) -> Article | None:
        """Where a paragraph goes when the current flow is broken: best fit, else the latest suspended."""
        best, s = self._best_open(text, exclude)
        if best is not None and s >= FIT:
            return best
        return next((a for a in reversed(self.open) if a is not exclude), None)

    def _body(self, i: int) -> None:
        """Place a body paragraph: continue, rejoin across a break, or resume an interrupted article."""
        b, cur = self.blocks[i], self.current
        if b.dateline and cur is not None and (cur.paragraphs or id(cur) in self.photos):
            # A dateline opens a story: without a headline before it, an untitled one.
            self._append(self._new_article(None), b)
            return
        if cur is None or id(cur) in self.photos:
            resumed = None if self.indent_layout else self._resume(self._run_text(i), None)
            target = resumed or self._new_article(None)
            self._activate(target)
            self._append(target, b)
            return
        if self.pending is not None:
            run = self._run_text(i)
            cur_sim = self._sim(run, cur)
            other, other_sim = self._best_open(run, cur)
            if other is not None and other_sim > max(1.5 * cur_sim, NO_FIT):
                # Clearly closer to an interrupted article: this one was cut off, that one resumes.
                self._finish_flow()
                self._activate(other)
                self._append(other, b)
                return
            if cur_sim < NO_FIT and other is not None:
                self._finish_flow()
                target = self._resume(run, cur) or cur
                self._activate(target)
                self._append(target, b)
                return
            self._join(b)  # no contrary evidence: the same paragraph across a column break
            return
        self._append(cur, b)

    def _section(self, i: int) -> bool:
        """Whether a heading-shaped block i is a section heading of the current article."""
        b, cur = self.blocks[i], self.current
        if cur is None or id(cur) in self.photos:
            return False
        if b.hint == "section" or _SUBHEAD.match(b.text):  # "◆山东" is marked as a subhead
            return True
        nxt = self.blocks[i + 1] if i + 1 < len(self.blocks) else None
        if not _heading_shape(b.text) or nxt is None:
            return False
        if nxt.kind not in ("body", "heading", "caption", "credit"):
            return False
        if self.indent_layout:  # a web page has no column breaks, so no fragments either
            return True
        # A short line that jieba reads into the next paragraph is a fragment, not a heading.
        return not (nxt.kind == "body" and not nxt.dateline and _word_across(b.text, nxt.text))

    def _section_heading(self, i: int) -> None:
        """Place a section heading; it may also reveal that the current article was cut off.

        When the text under the heading clearly belongs to another open article, the current
        article's flow ended: the heading either opens a section of that article or, when it
        reads like the current article, is the current article's cut-off last line.
        """
        b, cur = self.blocks[i], self.current
        assert cur is not None
        run = self._run_text(i + 1) if self._kind(i + 1) == "body" else ""
        # A web page shows each article whole: nothing is interrupted, so nothing resumes.
        other, other_sim = self._best_open(run, cur) if run and not self.indent_layout else (None, 0.0)
        if other is not None and other_sim > max(2 * self._sim(run, cur), FIT):
            fragment = (self.pending is None and not _SUBHEAD.match(b.text)
                        and self._sim(b.text, cur) > self._sim(b.text, other))
            if fragment:
                self._append(cur, b)  # a short unterminated last line, not a heading
            self._finish_flow()
            self._activate(other)
            if fragment:
                return
            cur = other
        self.pending = None
        self.sections[id(cur)] = b.text
        cur.sections.append(b.text)

    def _source_line(self, b: _Block) -> None:
        """Take paper, date and the article's page from a site's source line under an article."""
        m = _SOURCE_LINE.fullmatch(unicodedata.normalize("NFKC", b.text))
        if m is None:
            return
        paper, year, month, day, page = m.groups()
        self.paper = self.paper or paper
        self.date = self.date or _iso(year, month, day)
        if page and self.current is not None and self.current.page is None:
            self.current.page = page.zfill(2) if page.isdigit() else page

    def _masthead(self, b: _Block) -> bool:
        """Take paper name, date and page from masthead lines above the first article."""
        if self.started or (b.hint is not None and b.hint != "masthead") or len(b.text) > TITLE_MAX:
            return False
        plain = unicodedata.normalize("NFKC", b.text)
        paper = _MASTHEAD.match(plain)
        date = _FULL_DATE.match(plain)
        rest = _FULL_DATE.sub("", _MASTHEAD.sub("", plain, count=1), count=1)
        rest = re.sub(r"(?:星期|周)[一二三四五六日天]|农历\S*|第?\s*[A-Z]?\d{1,3}\s*版\S*|[\s·|｜,，]", "", rest)
        if not (paper or date) or (len(rest) > 6 and b.hint != "masthead"):
            return False
        if paper and not self.paper:
            self.paper = paper.group()
        if date and not self.date:
            self.date = _iso(date.group(1), date.group(2), date.group(3))
        page = re.search(r"第\s*([A-Z]?\d{1,3})\s*版", plain)
        if page:
            self.page = page.group(1).zfill(2) if page.group(1).isdigit() else page.group(1)
        return True

    def build(self) -> list[Article]:
        """Assemble all articles; return them in order of first appearance."""
        i, blocks = 0, self.blocks
        while i < len(blocks):
            b = blocks[i]
            in_block = self.in_photo_block and b.kind in ("body", "heading")
            self.caption_target = self.caption_target if b.kind in ("caption", "credit") or in_block else None
            if b.kind in ("page", "furniture", "photos") or (b.dateline and self.in_photo_block):
                self.in_photo_block, self.photo_block = False, None
            if b.kind == "page":
                self._finish_flow()
                self.page, self.current, self.open = b.page, None, []
                i += 1
                continue
            if b.kind == "furniture":  # page furniture is not article text
                self._source_line(b)
                i += 1
                continue
            if b.kind == "photos":  # "图片说明": the captions and credits of the article above follow
                self._finish_flow()
                self.in_photo_block = True
                cur = self.current
                self.photo_block = cur if cur is not None and id(cur) not in self.photos else None
                i += 1
                continue
            if b.kind in ("heading", "kicker", "body") and self._masthead(b):
                i += 1
                continue
            used = self._headline(i)
            if used:
                i += used
                continue
            if self.in_photo_block and b.kind in ("body", "heading", "caption"):
                self._caption(i)
            elif (self.pending is not None and b.kind in ("body", "heading")
                  and join_evidence(self.pending.text, b.text)):
                self._join(b)
            elif b.kind == "caption":
                self._caption(i)
            elif b.kind == "credit":
                self._credit(i)
            elif b.kind == "endnote":
                self._endnote(b)
            elif b.kind == "body" and (photo := self._photo_text(i)):
                if photo == "own":
                    self._photo_article(b)
                else:
                    assert self.current is not None
                    self._add_caption(self.current, b)
            elif b.kind == "byline":
                self._byline(b)
            elif (b.kind == "heading" or b.hint == "section") and self._section(i):
                self._section_heading(i)
            else:
                self._body(i)
            i += 1
        self._finish_flow()
        return _drop_empty(self.articles)


def _stack_roles(texts: list[str], closed: bool, kicker_form: bool, gap_below: int,
                 gap_inside: int) -> tuple[str | None, str | None, str | None]:
    """Name the lines of a headline stack: 引题 (kicker), 主题 (title), 副题 (subtitle).

    Args:
        texts: the stack's lines, top to bottom (one or more).
        closed: a "——" subtitle or a byline follows, so the stack's last line is the title.
        kicker_form: the first line is a column kicker (``十问十答 | …``).
        gap_below: blank lines between the stack and what follows it.
        gap_inside: blank lines between the stack's last two lines.

    Returns:
        ``(kicker, title, subtitle)``. Three lines are kicker, title, subtitle; of two, the
        first is the kicker when the form says so (a column kicker, a lead-in verb such as
        ``…上强调``, or a blank line below for an empty 副题 slot), else they are title and
        subtitle. Lines above three are a shared heading, put in front of the kicker.
    """
    if closed:
        *above, title = texts
        return (" | ".join(above) or None), title, None
    shared, lines = texts[:-3], texts[-3:]
    if len(lines) == 3:
        kicker, title, subtitle = lines
    elif len(lines) == 2:
        if kicker_form or _KICKER_CUE.search(lines[0]) or gap_below > gap_inside:
            kicker, title, subtitle = lines[0], lines[1], None
        else:
            kicker, title, subtitle = None, lines[0], lines[1]
    else:
        kicker, title, subtitle = None, lines[0], None
    kicker = " | ".join(shared + ([kicker] if kicker else [])) or None
    return kicker, title, subtitle


def _split_credit(caption: str) -> tuple[int, str | None]:
    """Where a caption's own text ends when it closes with a photo credit.

    Args:
        caption: the caption as printed, e.g. ``3月2日,村民在直播间推介农产品。何雯 摄``.

    Returns:
        ``(length, credit)``: the length of the caption text without the credit (stripped of
        white space) and the credit without parentheses, or ``(len(caption), None)``.
    """
    m = re.search(r"[。！？!?]", caption[::-1])
    cut = len(caption) - m.start() if m else 0
    tail = caption[cut:].strip()
    if not m or not tail or not _is_credit(tail):
        return len(caption), None
    return len(caption[:cut].rstrip()), re.sub(r"^[(（]\s*|\s*[)）]$", "", tail)


def _drop_empty(articles: list[Article]) -> list[Article]:
    """Drop articles left with no text, passing their headline on as the next article's kicker.

    A heading with nothing under it is the shared heading of the reports that follow (see the
    module docstring); it never stands as an article of its own.

    Args:
        articles: the assembled articles.

    Returns:
        The articles that hold paragraphs or captions.
    """
    kept, shared = [], None
    for article in articles:
        if article.paragraphs or article.captions:
            if shared and article.kicker is None:
                article.kicker = shared
            shared = None
            kept.append(article)
        else:
            shared = " | ".join(t for t in (article.kicker, article.title, article.subtitle) if t) or shared
    return kept


# ------------------------------------------------------------------------ issue metadata
def _iso(year: str | int, month: str | int, day: str | int) -> str | None:
    """``YYYY-MM-DD`` for a valid date, else None."""
    try:
        return _dt.date(int(year), int(month), int(day)).isoformat()
    except (ValueError, OverflowError):
        return None


def _name_meta(name: str) -> tuple[str | None, str | None, str | None, str | None]:
    """Paper, date, year and page from a file name like ``zjrb-2023-08-01_02.txt``.

    Returns:
        ``(paper, date, year, page)``, each None when the name does not say.
    """
    stem = Path(name).stem
    m = _NAME_DATE.search(stem)
    date = _iso(*m.groups()) if m else None
    if not date:
        year = re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", stem)
        page = re.search(r"[_-]p?(\d{1,2})$", stem)
        return None, None, year.group(1) if year else None, page.group(1).zfill(2) if page else None
    prefix = stem[: m.start()].strip("-_. ")
    paper = prefix if re.fullmatch(rf"[A-Za-z][A-Za-z0-9]*|[{_CJK}]{{2,10}}", prefix) else None
    page = re.fullmatch(r"[-_]?(?:p|page|第)?(\d{1,3})版?", stem[m.end():])
    return paper, date, date[:4], page.group(1).zfill(2) if page else None


def _dateline_date(articles: list[Article], text: str, year: str | None) -> str | None:
    """The issue date implied by datelines: the day after the usual filing day.

    The year comes from the file name, else from a ``YYYY年M月`` of the datelines' month in the
    text; without one the date stays unknown.
    """
    days = []
    for a in articles:
        m = re.search(r"(\d{1,2})月(\d{1,2})日", unicodedata.normalize("NFKC", a.dateline or ""))
        if m:
            days.append((int(m.group(1)), int(m.group(2))))
    if not days:
        return None
    counts = Counter(days)
    month, day = max(counts, key=lambda d: (counts[d], d))
    if year is None:
        mentions = re.findall(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月", unicodedata.normalize("NFKC", text))
        years = [y for y, mo in mentions if int(mo) == month]
        year = Counter(years).most_common(1)[0][0] if years else None
    filed = _iso(year, month, day) if year else None
    return (_dt.date.fromisoformat(filed) + _dt.timedelta(days=1)).isoformat() if filed else None


def _check_date(date: str) -> str:
    if not (isinstance(date, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) and _iso(*date.split("-"))):
        raise InputError(f"not a date (want YYYY-MM-DD): {date!r}")
    return date


# ------------------------------------------------------------------------ entry point
def _load(path_or_text, source: str | None) -> tuple[str, str, str]:
    """Read the input into ``(text, format, source name)``."""
    if isinstance(path_or_text, (bytes, bytearray, memoryview)):
        name = source or "<bytes>"
        text, fmt = read_issue_text(bytes(path_or_text), name=name)
        return text, fmt, name
    if isinstance(path_or_text, str) and ("\n" in path_or_text or "\r" in path_or_text
                                          or len(path_or_text) > MAX_PATH_CHARS):
        name = source or "<text>"
        text = clean_text(path_or_text, name)
        return text, detect_format(text, Path(name).suffix), name
    if isinstance(path_or_text, (str, os.PathLike)):
        try:
            path = Path(path_or_text)
        except TypeError as exc:
            raise InputError(f"not a path: {exc}") from None
        text, fmt = read_issue_text(path)
        return text, fmt, source or path.name
    raise InputError(f"cannot parse an issue from a {type(path_or_text).__name__}")


def parse_issue(path_or_text: str | Path | bytes, paper: str | None = None, date: str | None = None,
                source: str | None = None) -> Issue:
    """Parse one newspaper issue.

    Args:
        path_or_text: a file path, the file's bytes, or the issue text (a str with a newline or
            longer than 4096 characters is text; any other str is a path).
        paper: the paper's name; default from the file name prefix, a masthead or ``<title>``.
        date: the issue date YYYY-MM-DD; default from the file name, a masthead, or datelines.
        source: the file name to record (default: the path's name).

    Returns:
        The issue with its articles; every paragraph's spans slice ``Issue.text``.

    Raises:
        InputError: for input that is not usable text, or a malformed ``date``.
    """
    if date is not None:
        date = _check_date(date)
    raw, fmt, name = _load(path_or_text, source)
    name = Path(name).name or name
    title = ""
    if fmt == "text":
        text, blocks = raw, text_blocks(raw)
    else:
        if fmt == "html":
            segments, title = html_segments(raw)
        else:
            segments = markdown_segments(raw)
        if not segments:
            raise InputError(f"{name}: no text found in the {fmt}")
        text, blocks = markup_blocks(segments)
    name_paper, name_date, name_year, name_page = _name_meta(name)
    builder = _Builder(blocks, name_page, markup=fmt != "text", text=text)
    articles = builder.build()
    title_paper = _MASTHEAD.search(title) if title else None
    title_date = _FULL_DATE.search(unicodedata.normalize("NFKC", title)) if title else None
    paper = paper or name_paper or builder.paper or (title_paper.group() if title_paper else None)
    inferred = False
    if date is None and name_date:
        date = name_date
    if date is None:
        date = builder.date or (_iso(*title_date.groups()) if title_date else None) or \
            _dateline_date(articles, text, name_year)
        inferred = date is not None
    return Issue(paper=paper, date=date, date_inferred=inferred, source=name,
                 sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), text=text,
                 articles=articles, page=name_page)
