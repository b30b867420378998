"""HybridRetriever: dense and BM25 search fused by reciprocal rank, in whichever store (qa.stores) holds the issues."""

from __future__ import annotations

from dataclasses import dataclass

from qa.errors import InputError
from qa.fusion import ranked, reciprocal_rank_fusion
from qa.index import check_date
from qa.rerank import LexicalReranker
from qa.stores import NewsStore
from qa.tokens import normalize

__all__ = ["HybridRetriever", "RetrieverSettings", "reciprocal_rank_fusion", "validate_query"]

MAX_QUERY_CHARS = 500
MAX_K = 50


@dataclass
class RetrieverSettings:
    """Fusion settings; the defaults were picked on the development set (see README)."""

    rrf_k: int = 5  # reciprocal rank fusion constant (60 in the paper; small k trusts each list's top more)
    dense_weight: float = 1.0
    keyword_weight: float = 1.0
    depth: int = 50  # candidates taken from each list before fusion
    rerank: bool = True  # lexical key-term reranker (qa.rerank): +0.015-0.027 MRR@10 on the dev set
    rerank_weight: float = 0.01
    rerank_depth: int = 20


def validate_query(query: str, k: int, date_from: str | None, date_to: str | None) -> str:
    """Check a search request; raise InputError with the reason when it cannot be served.

    Returns:
        The query, stripped.
    """
    if not isinstance(query, str) or not query.strip():
        raise InputError("the query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    if not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InputError(f"k must be between 1 and {MAX_K}")
    check_date(date_from)
    check_date(date_to)
    if date_from and date_to and date_from > date_to:
        raise InputError(f"date_from {date_from} is after date_to {date_to}")
    return query.strip()


class HybridRetriever:
    """Rank paragraphs for a query: dense and keyword lists, fused, optionally reranked.

    Args:
        index: the store to search (``qa.stores.NewsStore``: embedded or Milvus).
        settings: fusion settings.
        mode: "hybrid" (default), "dense" or "bm25".
    """

    def __init__(self, index: NewsStore, settings: RetrieverSettings | None = None, mode: str = "hybrid"):
        if mode not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"unknown retrieval mode {mode!r}")
        self.index = index
        self.settings = settings or RetrieverSettings()
        self.mode = mode

    def run(self, query: str, k: int = 10, date_from: str | None = None, date_to: str | None = None,
            paper: str | None = None) -> list[dict]:
        """Search.

        Args:
            query: the question or keywords.
            k: number of results, 1..50.
            date_from, date_to: inclusive ISO date range of issues.
            paper: only this paper.

        Returns:
            Results best first: rank, score, text, paper, date, title, paragraph, issue_id,
            paragraph_id, source, start, end (and section, page).
        """
        query = validate_query(query, k, date_from, date_to)
        s = self.settings
        depth = max(s.depth, k)
        filters = dict(date_from=date_from, date_to=date_to, paper=paper)
        fused = self._fused(query, depth, filters)
        if s.rerank and fused:
            reranker = LexicalReranker(s.rerank_weight, max(k, s.rerank_depth))
            meta = self.index.passages([pid for pid, _ in fused[: reranker.depth]])
            texts = {pid: normalize(m["text"] + " " + (m["title"] or "")) for pid, m in meta.items()}
            fused = reranker.run(query, fused, texts)
        top = fused[:k]
        meta = self.index.passages([pid for pid, _ in top])
        results = []
        for pid, score in top:
            if pid in meta:  # a paragraph removed between the two reads is dropped, not half-shown
                results.append({"rank": len(results) + 1, "score": round(score, 6), **meta[pid]})
        return results

    def _fused(self, query: str, depth: int, filters: dict) -> list[tuple[int, float]]:
        """(paragraph_id, fused score) best first: both lists fused in the store (Milvus fuses them
        in the engine), or one list ranked by RRF alone so that scores share one scale."""
        s = self.settings
        if self.mode == "hybrid":
            return self.index.hybrid_search(query, depth, s.rrf_k, (s.dense_weight, s.keyword_weight), **filters)
        if self.mode == "dense":
            hits, weight = self.index.dense_search(self.index.query_vector(normalize(query)), depth, **filters), s.dense_weight
        else:
            hits, weight = self.index.keyword_search(query, depth, **filters), s.keyword_weight
        return ranked(reciprocal_rank_fusion([[pid for pid, _ in hits]], [weight], s.rrf_k))
