"""Tests of qa.retrieve (fusion, validation, HybridRetriever) and qa.rerank on real indexes."""

from __future__ import annotations

import pytest

from qa.errors import InputError
from qa.index import NewsIndex
from qa.rerank import LexicalReranker
from qa.retrieve import HybridRetriever, RetrieverSettings, reciprocal_rank_fusion, validate_query

FIELDS = {"rank", "score", "text", "paper", "date", "title", "paragraph", "issue_id", "paragraph_id", "source",
          "start", "end"}


@pytest.fixture(scope="module")
def gallery(gallery_index_dir):
    with NewsIndex(gallery_index_dir, readonly=True) as index:
        yield index


class TestReciprocalRankFusion:
    def test_items_in_both_lists_win(self):
        fused = reciprocal_rank_fusion([[1, 2, 3], [3, 4]], [1.0, 1.0], rrf_k=5)
        assert max(fused, key=fused.get) == 3
        assert fused[1] == pytest.approx(1 / 6)
        assert fused[3] == pytest.approx(1 / 8 + 1 / 6)

    def test_weights_scale_each_list(self):
        fused = reciprocal_rank_fusion([[1], [2]], [1.0, 0.5], rrf_k=0)
        assert fused == {1: 1.0, 2: 0.5}


class TestValidateQuery:
    @pytest.mark.parametrize("query, k, lo, hi, message", [
        ("", 5, None, None, "empty"),
        ("   ", 5, None, None, "empty"),
        ("x" * 501, 5, None, None, "longer than 500"),
        ("浙江", 0, None, None, "between 1 and 50"),
        ("浙江", 51, None, None, "between 1 and 50"),
        ("浙江", 5, "2023-13-01", None, "date"),
        ("浙江", 5, "2023-08-02", "2023-08-01", "after"),
    ])
    def test_bad_requests_are_refused_with_the_reason(self, query, k, lo, hi, message):
        with pytest.raises(InputError, match=message):
            validate_query(query, k, lo, hi)

    def test_query_is_stripped(self):
        assert validate_query("  浙江电网 ", 5, None, None) == "浙江电网"


class TestHybridRetriever:
    def test_results_carry_every_citation_field(self, gallery):
        results = HybridRetriever(gallery).run("浙江电网用电负荷哪天突破1亿千瓦？", k=5)
        assert [r["rank"] for r in results] == [1, 2, 3, 4, 5]
        assert all(FIELDS <= r.keys() for r in results)
        top = results[0]
        assert "突破1亿千瓦" in top["text"] and top["paper"] == "zjrb" and top["date"] == "2023-08-01"
        assert top["source"] == "zjrb-2023-08-01.txt" and 0 <= top["start"] < top["end"]
        assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)

    @pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
    def test_numbers_match_however_written(self, gallery, mode):
        retriever = HybridRetriever(gallery, mode=mode)
        for query in ("最高负荷将达到1.15亿千瓦", "最高负荷将达到１．１５ 亿千瓦", "最高负荷将达到1.15 亿千瓦"):
            assert "1.15亿千瓦" in retriever.run(query, k=3)[0]["text"], query

    def test_date_filter_applies_inside_the_search(self, gallery):
        # The query is about the 2023 sample: a filter applied after the top 20 would return fewer
        # of March 2024's paragraphs than there are.
        in_range = [i for i in gallery.issues() if "2024-03-01" <= i["date"] <= "2024-03-31"]
        expected = sum(i["paragraphs"] for i in in_range)
        assert 0 < expected < 20
        results = HybridRetriever(gallery).run("浙江电网用电负荷", k=20, date_from="2024-03-01", date_to="2024-03-31")
        assert len(results) == expected
        assert {r["date"] for r in results} == {i["date"] for i in in_range}

    def test_paper_filter(self, gallery):
        papers = {r["paper"] for r in gallery.issues()}
        other = sorted(papers - {"zjrb"})[0]
        results = HybridRetriever(gallery).run("浙江电网用电负荷哪天突破1亿千瓦？", k=10, paper=other)
        assert results and {r["paper"] for r in results} == {other}
        assert HybridRetriever(gallery).run("浙江电网", k=5, paper="no-such-paper") == []

    def test_unknown_mode_is_refused(self, gallery):
        with pytest.raises(ValueError):
            HybridRetriever(gallery, mode="sparse")

    def test_rerank_setting_changes_only_the_order(self, gallery):
        """The reranker reorders the head of the fused list (its depth, 20): the same passages come back, in another order."""
        query = "浙能集团的董事长是谁？"
        depth = RetrieverSettings().rerank_depth
        plain = HybridRetriever(gallery, RetrieverSettings(rerank=False)).run(query, k=depth)
        reranked = HybridRetriever(gallery, RetrieverSettings(rerank=True)).run(query, k=depth)
        assert "胡仲明" in reranked[0]["text"]
        plain_ids = [r["paragraph_id"] for r in plain]
        reranked_ids = [r["paragraph_id"] for r in reranked]
        assert len(plain_ids) == len(set(plain_ids)) == depth
        assert sorted(reranked_ids) == sorted(plain_ids)  # the same set of passages
        assert reranked_ids != plain_ids  # and the setting does change their order here


class TestLexicalReranker:
    def test_passage_with_the_key_terms_moves_up(self):
        ranked = [(1, 0.30), (2, 0.29), (3, 0.10)]
        texts = {1: "今年全省用电量同比增长", 2: "福建电网最高用电负荷达到5000万千瓦", 3: "无关的段落"}
        out = LexicalReranker(weight=0.05, depth=3).run("福建电网最高用电负荷是多少？", ranked, texts)
        assert [pid for pid, _ in out] == [2, 1, 3]

    def test_only_the_head_is_reordered(self):
        ranked = [(1, 0.3), (2, 0.2), (3, 0.1)]
        texts = {1: "甲", 2: "乙", 3: "福建电网"}
        out = LexicalReranker(weight=1.0, depth=2).run("福建电网", ranked, texts)
        assert out[2] == (3, 0.1)

    def test_zero_weight_keeps_the_order(self):
        ranked = [(1, 0.3), (2, 0.2)]
        assert LexicalReranker(weight=0.0).run("福建", ranked, {1: "浙江", 2: "福建"}) == ranked


class TestInformativeTokens:
    def test_very_common_tokens_are_left_out_at_scale(self, gallery, monkeypatch):
        from qa import store

        # Scaled down: on the gallery, "more than 10 paragraphs" stands for "more than 5,000".
        monkeypatch.setattr(store, "COMMON_TOKEN_DOCS", 10)
        monkeypatch.setattr(store, "COMMON_TOKEN_SHARE", 0.01)
        common = sum(1 for _ in gallery.read_db.execute(
            "SELECT rowid FROM paragraphs_fts WHERE paragraphs_fts MATCH '\"浙江\"'"))
        assert common > 10
        assert store.informative_tokens(gallery.read_db, ["浙江", "胡仲明"]) == ["胡仲明"]
        # When every token is common, the query keeps them all rather than match nothing.
        assert store.informative_tokens(gallery.read_db, ["浙江", "浙江"[:2]]) == ["浙江", "浙江"]

    def test_nothing_is_left_out_below_the_limit(self, gallery):
        from qa import store

        assert store.informative_tokens(gallery.read_db, ["浙江", "胡仲明"]) == ["浙江", "胡仲明"]
