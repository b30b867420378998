"""reciprocal_rank_fusion: fuse ranked lists by reciprocal rank, and the thread pool a store's keyword branch runs on."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def search_pool() -> ThreadPoolExecutor:
    """Threads for the keyword branch of searches, shared by every store of the process."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="newsqa-bm25")
        return _executor


def reciprocal_rank_fusion(rankings: list[list[int]], weights: list[float], rrf_k: int) -> dict[int, float]:
    """Fuse ranked id lists: each list adds ``weight / (rrf_k + rank)`` to the ids it holds.

    Milvus's ``RRFRanker(k)`` scores the same way with every weight 1.

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


def ranked(scores: dict[int, float]) -> list[tuple[int, float]]:
    """Scores as (id, score) pairs, best first."""
    return sorted(scores.items(), key=lambda kv: -kv[1])
