"""Parsed newspaper issue: Issue → Article → Paragraph, plain dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Paragraph:
    """One body paragraph of an article.

    ``text`` is the cleaned paragraph (column breaks rejoined). ``start``/``end`` are
    character offsets into the decoded source text; when a paragraph was rejoined across a
    column break, ``spans`` lists each piece's (start, end) and ``start``/``end`` cover the
    first piece's start to the last piece's end.
    """

    text: str
    start: int
    end: int
    spans: list[tuple[int, int]] = field(default_factory=list)
    section: str | None = None  # the section heading (小标题) the paragraph sits under
    truncated: bool = False  # the page cut it off and it never continues
    kind: str = "body"  # "body", "caption" (a photo caption) or "subtitle" (副题): all searchable and cited
    credit: str | None = None  # a caption's photo credit ("本报记者 X 摄", "…供图"): its byline, not its text

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Article:
    """One article: headline metadata and its body paragraphs in reading order."""

    title: str | None
    kicker: str | None = None  # line above the title, e.g. "十问十答 | 半年度经济形势系列报道之八"
    subtitle: str | None = None  # the "——" line under a title
    byline: str | None = None  # 本报记者 …
    dateline: str | None = None  # 本报绍兴7月31日电(…)
    page: str | None = None  # "01" when the issue marks pages (第01版)
    sections: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)  # photo captions and credits, as text
    paragraphs: list[Paragraph] = field(default_factory=list)
    # The captions again as paragraphs (kind "caption", with offsets and credit), and the subtitle
    # (kind "subtitle"), so that they are indexed and cited like body text; ``paragraphs`` stays
    # body text only.
    figures: list[Paragraph] = field(default_factory=list)
    subtitle_paragraph: Paragraph | None = None

    @property
    def indexed(self) -> list[Paragraph]:
        """What is indexed of the article, in citation order: body, captions, then the subtitle."""
        return self.paragraphs + self.figures + ([self.subtitle_paragraph] if self.subtitle_paragraph else [])

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Issue:
    """One issue of one paper, as parsed from one file."""

    paper: str | None
    date: str | None  # ISO YYYY-MM-DD
    date_inferred: bool  # True when the date came from datelines, not --date or the file name
    source: str  # file name (no directories)
    sha256: str  # hash of the decoded source text
    text: str  # the decoded source text the offsets refer to
    articles: list[Article] = field(default_factory=list)
    page: str | None = None  # set when the file is a single page (e.g. name ends in _01)
    paper_name: str | None = None  # the paper's name as given (浙江日报); shown via qa.papers.paper_name

    def to_dict(self, with_text: bool = False) -> dict:
        data = asdict(self)
        if not with_text:
            data.pop("text")
        return data

    @property
    def paragraphs(self) -> list[Paragraph]:
        """Every indexed paragraph: each article's body paragraphs, its photo captions, its subtitle."""
        return [p for a in self.articles for p in a.indexed]
