"""Tests for qa.store: per-token paragraph counts and the two-stage keyword search."""

from __future__ import annotations

import pytest

from qa import store
from qa.index import NewsIndex
from qa.tokens import fts_query, query_tokens
from conftest import SAMPLE, copy_index


def fts_counts(conn) -> dict[str, int]:
    """Paragraphs per token as FTS5 itself counts them."""
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.v USING fts5vocab(main, paragraphs_fts, 'row')")
    return dict(conn.execute("SELECT term, doc FROM temp.v"))


def table_counts(conn) -> dict[str, int]:
    return dict(conn.execute("SELECT term, docs FROM terms"))


class TestTermCounts:
    def test_counts_match_fts5_after_indexing(self, sample_index_dir):
        with NewsIndex(sample_index_dir, readonly=True) as index:
            counts = table_counts(index.read_db)
            assert counts and counts == fts_counts(index.read_db)

    def test_counts_follow_a_replace_and_a_delete(self, index_copy):
        with NewsIndex(index_copy) as index:
            before = table_counts(index.db)
            issue_id = index.issues()[0]["issue_id"]
            assert index.remove(issue_id)
            assert table_counts(index.db) == fts_counts(index.db) == {}
            index.add(SAMPLE)
            assert table_counts(index.db) == before

    def test_an_index_without_the_table_gets_it_on_first_write_open(self, sample_index_dir, tmp_path):
        target = copy_index(sample_index_dir, tmp_path / "old")
        conn = store.connect(target / "newsqa.sqlite")
        with conn:
            conn.execute("DROP TABLE terms")
            conn.execute("DELETE FROM meta WHERE key = 'terms'")
        conn.close()
        reader = store.connect(target / "newsqa.sqlite", readonly=True)
        tokens = ["浙江", "电网"]
        slow = store.term_docs(reader, tokens)  # falls back to FTS5's counts
        assert set(slow) == set(tokens)
        with NewsIndex(target) as index:
            assert table_counts(index.db) == fts_counts(index.db)
            assert store.term_docs(index.read_db, tokens) == slow


def issue_columns(conn) -> set[str]:
    return {row[1] for row in conn.execute("PRAGMA table_info(issues)")}


class TestPaperName:
    def test_the_sample_shows_its_paper_by_name(self, sample_index_dir):
        with NewsIndex(sample_index_dir, readonly=True) as index:
            (issue,) = index.issues()
            assert (issue["paper"], issue["paper_name"]) == ("zjrb", "浙江日报")
            first = index.read_db.execute("SELECT min(paragraph_id) FROM paragraphs").fetchone()[0]
            cited = index.passages([first])[first]
            assert (cited["paper"], cited["paper_name"]) == ("zjrb", "浙江日报")

    def test_a_given_name_is_stored_and_kept_apart_from_the_id(self, index_copy):
        with NewsIndex(index_copy) as index:
            assert index.add(SAMPLE, paper_name="浙江日报（测试）").status == "replaced"  # a new name is a change
            (issue,) = index.issues()
            assert (issue["issue_id"], issue["paper"], issue["paper_name"]) == ("zjrb-2023-08-01", "zjrb", "浙江日报（测试）")
            assert index.add(SAMPLE).status == "unchanged"

    def test_an_index_without_the_column_is_read_and_then_migrated(self, sample_index_dir, tmp_path):
        target = copy_index(sample_index_dir, tmp_path / "old")
        conn = store.connect(target / "newsqa.sqlite")
        with conn:
            conn.execute("ALTER TABLE issues DROP COLUMN paper_name")
        conn.close()
        reader = store.connect(target / "newsqa.sqlite", readonly=True)
        assert "paper_name" not in issue_columns(reader)
        assert [i["paper_name"] for i in store.list_issues(reader)] == ["浙江日报"]  # from the built-in table
        reader.close()
        with NewsIndex(target) as index:  # a writable open adds the column
            assert "paper_name" in issue_columns(index.db)
            assert index.add(SAMPLE, paper_name="浙江日报（测试）").status == "replaced"
            assert index.issues()[0]["paper_name"] == "浙江日报（测试）"


class TestSplitRare:
    def test_rarest_tokens_first_within_the_budget(self):
        docs = {"a": 10, "b": 500, "c": 40, "d": 9000}
        assert store.split_rare(["a", "b", "c", "d"], docs, budget=600) == (["a", "b", "c"], ["d"])
        assert store.split_rare(["a", "b", "c", "d"], docs, budget=100) == (["a", "c"], ["b", "d"])

    def test_at_least_one_token_is_rare(self):
        assert store.split_rare(["x", "y"], {"x": 900, "y": 800}, budget=10) == (["y"], ["x"])


class TestKeywordSearch:
    QUERY = "浙江电网用电负荷首次突破1亿千瓦"

    def test_two_stages_rank_like_the_full_query(self, gallery_index_dir, monkeypatch):
        with NewsIndex(gallery_index_dir, readonly=True) as index:
            conn = index.read_db
            tokens = query_tokens(self.QUERY)
            docs = store.term_docs(conn, tokens)
            monkeypatch.setattr(store, "RARE_TOKEN_ROWS", 12)  # scaled down so the query splits
            rare, common = store.split_rare(tokens, docs)
            assert rare and common
            holding_rare = {r[0] for r in conn.execute(
                "SELECT rowid FROM paragraphs_fts WHERE paragraphs_fts MATCH ?", (fts_query(rare),))}
            full = [(pid, s) for pid, s in store._bm25(conn, fts_query(tokens), 10_000, None, None, None)
                    if pid in holding_rare]
            got = store.keyword_search(conn, tokens, 10)
            assert [pid for pid, _ in got] == [pid for pid, _ in full[:10]]
            assert [s for _, s in got] == pytest.approx([s for _, s in full[:10]])

    def test_one_stage_when_nothing_is_common(self, gallery_index_dir):
        with NewsIndex(gallery_index_dir, readonly=True) as index:
            tokens = query_tokens(self.QUERY)
            got = store.keyword_search(index.read_db, tokens, 5)
            assert got == store._bm25(index.read_db, fts_query(tokens), 5, None, None, None)

    def test_no_tokens_no_results(self, gallery_index_dir):
        with NewsIndex(gallery_index_dir, readonly=True) as index:
            assert store.keyword_search(index.read_db, [], 5) == []
