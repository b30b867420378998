"""Photo captions are news: indexed as paragraphs of their article and cited like them (#13 point 1).

The sample's photo news says who won the men's synchronised 3 m springboard at the Chengdu
Universiade, with 397.35 points; before captions were indexed, nothing in the index held it.
"""

from __future__ import annotations

import httpx
import pytest

from conftest import DATA, SAMPLE
from qa.parse import CAPTION_SECTION, parse_issue

QUESTION = "成都大运会跳水比赛中，以397.35分获得男子双人三米板冠军的是谁？"
WINNERS = "黄博文和梁朝辉以397.35分获得冠军"
CREDIT = "本报特派记者 王建龙 纪驭亚 摄"


def _caption_hits(passages: list[dict]) -> list[dict]:
    """The passages that hold the diving result of the sample's photo caption."""
    return [p for p in passages if WINNERS in p["text"]]


@pytest.fixture(scope="module")
def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def test_caption_is_cited_through_api_ask(live_server, sample_text):
    response = httpx.post(f"{live_server.url}/api/ask", json={"question": QUESTION}, timeout=120)
    assert response.status_code == 200, response.text
    body = response.json()
    [cited] = _caption_hits(body["citations"])
    # Cited like any paragraph: paper, date, offsets into the issue text; marked as a caption.
    assert cited["section"] == CAPTION_SECTION
    assert (cited["paper"], cited["date"], cited["issue_id"]) == ("zjrb", "2023-08-01", "zjrb-2023-08-01")
    assert sample_text[cited["start"]:cited["end"]] == cited["text"]
    assert cited["text"].startswith("7月31日,成都大运会跳水项目")
    assert CREDIT not in cited["text"]  # the credit is the caption's byline, not its text


def test_caption_ranks_first_through_api_search(live_server):
    response = httpx.post(f"{live_server.url}/api/search", json={"query": QUESTION, "k": 5}, timeout=120)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert _caption_hits(results[:1]), [r["text"][:30] for r in results]


def test_caption_paragraph_of_the_photo_article():
    issue = parse_issue(SAMPLE)
    photo = issue.articles[-1]
    [figure] = photo.figures
    assert (figure.kind, figure.section, figure.credit) == ("caption", CAPTION_SECTION, CREDIT)
    assert photo.byline == CREDIT and photo.paragraphs == []
    assert WINNERS in figure.text and issue.text[figure.start:figure.end] == figure.text
    # Indexed with the body: Issue.paragraphs is what becomes index rows.
    assert issue.paragraphs[-1] is figure
    assert sum(p.kind == "caption" for p in issue.paragraphs) == 1


def test_web_page_captions_are_indexed_under_their_article(tmp_path):
    """A photo block under an article of a web page: its captions are searchable paragraphs of that article."""
    from qa.index import NewsIndex
    from qa.retrieve import HybridRetriever

    with NewsIndex(tmp_path / "index") as index:
        index.add(DATA / "web-2024-01-22.txt")
        results = HybridRetriever(index).run("竹泉村的村民在新建的文化广场上跳舞是哪天？", k=3)
        stats = index.stats()
    top = results[0]
    assert top["text"] == "图①、图④：1月17日，山东省临沂市沂南县竹泉村的村民在新建的文化广场上跳舞。"
    assert (top["section"], top["title"]) == (CAPTION_SECTION, "乡村振兴绘就和美新画卷")
    assert "摄" not in top["text"]  # the credit "本报记者  赵益普  周之然摄" is not caption text
    # Eleven body paragraphs, two captions and one 副题 ("全年软件业务收入突破12万亿元"): the page
    # furniture and the end byline are not indexed.
    assert stats["paragraphs"] == 14
