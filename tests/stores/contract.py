"""StoreContract: the tests every qa.stores.NewsStore passes; a subclass says how to open its store."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from qa.index import issue_key
from qa.parse import parse_issue
from qa.stores import NewsStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "qa" / "samples" / "zjrb-2023-08-01.txt"
JULY_3 = "7月3日,浙江电网用电负荷突破1亿千瓦"
PASSAGE_KEYS = {"text", "paper", "paper_name", "date", "title", "paragraph", "section", "page", "issue_id",
                "paragraph_id", "source", "start", "end"}


def variant(directory: Path, date: str, edit: str | None = None) -> Path:
    """The sample as another day's issue, with the July 3 paragraph's opening replaced by ``edit``."""
    text = SAMPLE.read_text(encoding="utf-8")
    if edit:
        text = text.replace(JULY_3, edit)
    path = directory / f"zjrb-{date}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def assert_best_first(hits: list[tuple[int, float]]) -> None:
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({pid for pid, _ in hits}) == len(hits)  # one entry per paragraph


class StoreContract:
    """Add, search, cite, replace and remove through the NewsStore interface.

    A subclass supplies ``open_store(directory)`` (a new, empty store), ``reopen(store)`` (a
    second handle on the same store, as another process would have) and ``dispose(store)``.
    """

    def open_store(self, directory: Path) -> NewsStore:
        raise NotImplementedError

    def reopen(self, store: NewsStore) -> NewsStore:
        raise NotImplementedError

    def dispose(self, store: NewsStore) -> None:
        store.close()

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, tmp_path_factory):
        """A store holding the sample issue (tests that write use other issue ids and remove them)."""
        store = cls().open_store(tmp_path_factory.mktemp("store"))
        assert store.add(SAMPLE).status == "added"
        yield store
        cls().dispose(store)

    def test_is_a_news_store(self, store):
        assert isinstance(store, NewsStore)

    def test_lists_the_issue_and_counts_it(self, store):
        issues = store.issues()
        assert [i["issue_id"] for i in issues] == ["zjrb-2023-08-01"]
        issue = issues[0]
        parsed = parse_issue(SAMPLE)
        assert (issue["paper"], issue["paper_name"], issue["date"]) == ("zjrb", "浙江日报", "2023-08-01")
        assert (issue["articles"], issue["paragraphs"]) == (len(parsed.articles), len(parsed.paragraphs))
        assert issue["sha256"] == parsed.sha256
        stats = store.stats()
        assert (stats["issues"], stats["paragraphs"]) == (1, issue["paragraphs"])
        assert store.model_name == store.encoder.name

    def test_the_same_content_again_is_unchanged(self, store):
        assert store.add(SAMPLE).status == "unchanged"

    def test_hybrid_search_finds_and_cites_the_paragraph(self, store):
        hits = store.hybrid_search("浙江电网用电负荷哪天突破1亿千瓦", 10, 5)
        assert_best_first(hits)
        assert len(hits) == 10
        cited = store.passages([pid for pid, _ in hits])
        assert set(cited) == {pid for pid, _ in hits}
        top = cited[hits[0][0]]
        assert set(top) == PASSAGE_KEYS
        assert JULY_3 in top["text"] and top["issue_id"] == "zjrb-2023-08-01" and top["source"] == SAMPLE.name
        source = SAMPLE.read_text(encoding="utf-8")
        assert JULY_3 in source[top["start"]:top["end"]] or top["end"] > top["start"]

    def test_dense_and_keyword_lists(self, store):
        dense = store.dense_search(store.query_vector("浙江电网用电负荷突破1亿千瓦"), 5)
        keyword = store.keyword_search("浙江电网用电负荷突破1亿千瓦", 5)
        for hits in (dense, keyword):
            assert_best_first(hits)
            assert len(hits) == 5
        assert JULY_3 in store.passages([keyword[0][0]])[keyword[0][0]]["text"]
        assert store.keyword_search("是什么", 5) == []  # question words only: nothing to match

    def test_filters_apply_inside_the_search(self, store):
        query = "浙江电网用电负荷"
        assert len(store.hybrid_search(query, 5, 5, paper="zjrb", date_from="2023-08-01", date_to="2023-08-01")) == 5
        for filters in ({"date_from": "2023-08-02"}, {"date_to": "2023-07-31"}, {"paper": "rmrb"},
                        {"paper": 'zjrb" or paper != "'}):
            assert store.hybrid_search(query, 5, 5, **filters) == [], filters
            assert store.keyword_search(query, 5, **filters) == [], filters
            assert store.dense_search(store.query_vector(query), 5, **filters) == [], filters

    def test_article_and_issue_text(self, store):
        pid = store.keyword_search("浙江电网用电负荷突破1亿千瓦", 1)[0][0]
        passage = store.passages([pid])[pid]
        article = store.article_texts([pid])[pid]
        assert passage["text"] in article and passage["title"] in article and article.startswith("zjrb")
        titles = store.article_titles("zjrb-2023-08-01", 10)
        assert len(titles) == len([a for a in parse_issue(SAMPLE).articles if a.title])
        text = store.issue_text("zjrb-2023-08-01")
        assert all(t in text for t in titles) and passage["text"] in text
        assert store.issue_text("no-such-issue") == "" and store.article_titles("no-such-issue") == []

    def test_replace_then_remove_an_issue(self, store, tmp_path):
        first = store.add(variant(tmp_path, "2023-08-02"))
        assert (first.status, first.issue_id) == ("added", "zjrb-2023-08-02")
        try:
            second = store.add(variant(tmp_path, "2023-08-02", edit="7月3日,龙井茶园迎来采摘高峰"))
            assert second.status == "replaced" and second.paragraphs == first.paragraphs
            assert second.embedded <= 2  # the unchanged paragraphs keep their vectors
            day = {"date_from": "2023-08-02", "date_to": "2023-08-02"}
            texts = [m["text"] for m in store.passages([p for p, _ in store.hybrid_search("浙江电网用电负荷", 50, 5, **day)]).values()]
            assert texts and not any(JULY_3 in t for t in texts)  # the old version is gone whole
            found = store.keyword_search("龙井茶园迎来采摘高峰", 1, **day)
            assert "龙井茶园" in store.passages([found[0][0]])[found[0][0]]["text"]
            assert [i["issue_id"] for i in store.issues()] == ["zjrb-2023-08-02", "zjrb-2023-08-01"]
        finally:
            assert store.remove("zjrb-2023-08-02")
        assert [i["issue_id"] for i in store.issues()] == ["zjrb-2023-08-01"]
        assert store.hybrid_search("浙江电网用电负荷", 5, 5, date_from="2023-08-02") == []
        assert store.remove("zjrb-2023-08-02") is False
        assert store.remove('x" or issue_id != "') is False
        assert len(store.issues()) == 1

    def test_two_writers_on_one_issue_end_with_one_whole_version(self, store, tmp_path):
        paths = {tag: variant(tmp_path / tag, "2023-08-03", edit=f"7月3日,{tag}号试验田水稻开镰")
                 for tag in ("甲", "乙") if (tmp_path / tag).mkdir() is None}
        results, errors = {}, []

        def write(tag: str) -> None:
            handle = self.reopen(store)
            try:
                results[tag] = handle.add(paths[tag])
            except Exception as exc:  # reported below: a thread's exception is otherwise lost
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(tag,)) for tag in paths]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        key = issue_key(parse_issue(paths["甲"]))
        try:
            listed = [i for i in store.issues() if i["issue_id"] == key]
            shas = {tag: parse_issue(p).sha256 for tag, p in paths.items()}
            assert len(listed) == 1 and listed[0]["sha256"] in shas.values()
            winner = next(tag for tag, sha in shas.items() if sha == listed[0]["sha256"])
            loser = "乙" if winner == "甲" else "甲"
            day = {"date_from": "2023-08-03", "date_to": "2023-08-03"}
            hits = store.hybrid_search("试验田水稻开镰", 50, 5, **day)
            texts = [m["text"] for m in store.passages([p for p, _ in hits]).values()]
            assert len(texts) == len(hits) == min(50, listed[0]["paragraphs"])
            assert any(f"{winner}号试验田" in t for t in texts) and not any(f"{loser}号试验田" in t for t in texts)
        finally:
            store.remove(key)
