"""LexicalReranker: reorder the head of a fused ranking by how much of the question's key terms each passage covers."""

from __future__ import annotations

from qa.question import coverage, key_terms


class LexicalReranker:
    """Rewards passages that mention the question's key terms and proper names.

    A cross-encoder would be the usual choice; none of the rerankers that ship their weights in
    a registry wheel reads Chinese, so this reranker uses the jieba key terms the answerer uses.

    Args:
        weight: boost per unit of coverage, in fused-score units (an RRF score with k=5 is at most 1/6 per list).
        depth: how many of the top fused results are reordered; the rest keep their order.
    """

    def __init__(self, weight: float = 0.01, depth: int = 20):
        self.weight = weight
        self.depth = depth

    def run(self, query: str, ranked: list[tuple[int, float]], texts: dict[int, str]) -> list[tuple[int, float]]:
        """Rerank.

        Args:
            query: the question.
            ranked: ``(paragraph_id, fused score)`` best first.
            texts: passage text (with its headline) by paragraph id.

        Returns:
            The same pairs, the head reordered, scores including the boost.
        """
        terms, names, _focus = key_terms(query)
        head, tail = ranked[: self.depth], ranked[self.depth:]
        boosted = []
        for pid, score in head:
            text = texts.get(pid, "")
            boost = coverage(terms, text) + sum(name in text for name in names)
            boosted.append((pid, score + self.weight * boost))
        boosted.sort(key=lambda kv: -kv[1])
        return boosted + tail
