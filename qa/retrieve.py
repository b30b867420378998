"""HybridRetriever: dense (FAISS) and BM25 (SQLite FTS5) search fused by reciprocal rank."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from qa.errors import InputError
from qa.index import NewsIndex, check_date
from qa.rerank import LexicalReranker
from qa.tokens import normalize

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


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Threads for the keyword branch of searches, shared by every retriever of the process."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="newsqa-bm25")
        return _executor


def reciprocal_rank_fusion(rankings: list[list[int]], weights: list[float], rrf_k: int) -> dict[int, float]:
    """Fuse ranked id lists: each list adds ``weight / (rrf_k + rank)`` to the ids it holds.

    Args:
        rankings: lists of ids, best first.
        weights: one weight per list.
        rrf_k: the RRF constant (60 in the original paper).

    Returns:
        Fused score per id (larger is better).
    """
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            fused[item] = fused.get(item, 0.0) + weight / (rrf_k + rank)
    return fused


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
        index: the NewsIndex to search.
        settings: fusion settings.
        mode: "hybrid" (default), "dense" or "bm25".
    """

    def __init__(self, index: NewsIndex, settings: RetrieverSettings | None = None, mode: str = "hybrid"):
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
        # The lists are read in several transactions (and the keyword list on another thread): a
        # write committed meanwhile would show part of an issue, found by one list and not yet by
        # the other. Read them again then, so that a search sees each issue whole or not at all.
        qvec = None
        for _attempt in range(5):
            generation = self._generation()
            rankings, weights, qvec = self._rankings(query, qvec, depth, filters)
            if self._generation() == generation:
                break
        fused = reciprocal_rank_fusion(rankings, weights, s.rrf_k)
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        if s.rerank and ranked:
            reranker = LexicalReranker(s.rerank_weight, max(k, s.rerank_depth))
            meta = self.index.passages([pid for pid, _ in ranked[: reranker.depth]])
            texts = {pid: normalize(m["text"] + " " + (m["title"] or "")) for pid, m in meta.items()}
            ranked = reranker.run(query, ranked, texts)
        top = ranked[:k]
        meta = self.index.passages([pid for pid, _ in top])
        results = []
        for pid, score in top:
            if pid in meta:  # a paragraph removed between the two reads is dropped, not half-shown
                results.append({"rank": len(results) + 1, "score": round(score, 6), **meta[pid]})
        return results

    def _rankings(self, query: str, qvec, depth: int, filters: dict):
        """The dense and keyword lists of paragraph ids, their fusion weights, and the query vector
        (embedded here when ``qvec`` is None and the mode needs one)."""
        s = self.settings
        # The keyword list needs no query vector: it runs beside the model and FAISS (SQLite,
        # torch and FAISS release the GIL), so a hybrid search costs about the slower of the two.
        keyword = None
        if self.mode in ("hybrid", "bm25"):
            keyword = _pool().submit(self.index.keyword_search, query, depth, **filters)
        rankings, weights = [], []
        if self.mode in ("hybrid", "dense"):
            if qvec is None:
                qvec = self.index.query_vector(normalize(query))
            rankings.append([pid for pid, _ in self.index.dense_search(qvec, depth, **filters)])
            weights.append(s.dense_weight)
        if keyword is not None:
            rankings.append([pid for pid, _ in keyword.result()])
            weights.append(s.keyword_weight)
        return rankings, weights, qvec

    def _generation(self) -> int | None:
        """A number that changes whenever a write to the index commits (SQLite's data_version)."""
        db = getattr(self.index, "read_db", None)
        return db.execute("PRAGMA data_version").fetchone()[0] if db is not None else None
