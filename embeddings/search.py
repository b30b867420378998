"""Exact cosine search over in-memory embedding matrices, without an index."""

from __future__ import annotations

import numpy as np


def semantic_search(query_embeddings: np.ndarray, corpus_embeddings: np.ndarray, top_k: int = 10) -> list[list[dict]]:
    """Top corpus rows for each query by dot product (cosine for L2-normalised rows).

    Args:
        query_embeddings: array (n, dim) or one vector (dim,).
        corpus_embeddings: array (m, dim).
        top_k: results per query (at most m).

    Returns:
        Per query, a list of {"corpus_id": row, "score": float}, best first (ties by lower row).
    """
    q = np.atleast_2d(np.asarray(query_embeddings, dtype=np.float32))
    c = np.atleast_2d(np.asarray(corpus_embeddings, dtype=np.float32))
    if c.shape[0] == 0 or top_k < 1:
        return [[] for _ in range(len(q))]
    if q.shape[1] != c.shape[1]:
        raise ValueError(f"query dim {q.shape[1]} != corpus dim {c.shape[1]}")
    scores = q @ c.T
    k = min(int(top_k), c.shape[0])
    out = []
    for row in scores:
        top = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
        top = top[np.lexsort((top, -row[top]))]
        out.append([{"corpus_id": int(i), "score": float(row[i])} for i in top])
    return out
