"""NewsStore: the storage role behind retrieval, answers, the API and the CLI, and open_store, which picks one from a URI.

Two implementations: the embedded store (``qa.index.NewsIndex``: SQLite + FTS5 + FAISS in one
directory, one machine) and ``qa.milvus_store.MilvusStore`` (one Milvus, embedded Milvus Lite,
standalone or cluster, shared by any number of processes). ``open_store`` is the one place that
chooses between them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from qa.errors import InputError

ProgressFn = Callable[[int], None]

# URI scheme -> "module:Class". A URI without one of these schemes is an embedded index directory.
STORE_SCHEMES = {
    "milvus": "qa.milvus_store:MilvusStore",  # milvus://host:19530[?db=NAME&collection=PREFIX]
    "milvuss": "qa.milvus_store:MilvusStore",  # the same over TLS
    "milvus-lite": "qa.milvus_store:MilvusStore",  # milvus-lite:PATH (a Milvus Lite data directory)
}


@runtime_checkable
class NewsStore(Protocol):
    """Issues, their paragraphs and vectors, and the searches over them.

    Contract, shared by every store (asserted by tests/stores/contract.py):

    - An issue's id is ``qa.index.issue_key`` (paper, date, page). Adding an issue whose id is
      stored replaces it ("replaced"); the same content again does nothing ("unchanged").
    - A search, ``passages`` and ``issues`` see every issue whole or not at all: never part of
      an issue being replaced or removed, whatever another process writes meanwhile.
    - A write that returned is seen by every later read, in this process and any other.
    - Paragraph ids are stable for the same issue content; scores are larger-is-better.
    """

    write_chunk: int | None  # windows per model call of a write (None: the store's default)

    @property
    def location(self) -> str:
        """Where the store lives, for messages (a directory or a URI without secrets)."""

    @property
    def model_name(self) -> str | None:
        """The embedding model the store was built with (None before the first issue)."""

    @property
    def encoder(self):
        """The embedding model (``embeddings.Encoder``), loaded on first use."""

    def query_vector(self, query: str) -> np.ndarray:
        """The model's vector for a normalised query."""

    def writer(self) -> AbstractContextManager[None]:
        """Hold whatever a run of writes needs (the embedded store's directory lock)."""

    def add(self, source, paper: str | None = None, date: str | None = None,
            progress: ProgressFn | None = None, batch_size: int = 32, paper_name: str | None = None):
        """Index one issue (a path, bytes or a parsed ``Issue``); returns an ``AddResult``."""

    def add_many(self, issues: list, progress: ProgressFn | None = None, batch_size: int = 32,
                 batch_paragraphs: int = 2000) -> list:
        """Index parsed issues; one ``AddResult`` each, in order."""

    def remove(self, issue_id: str) -> bool:
        """Remove an issue; False when it is not stored."""

    def dense_search(self, query_vector: np.ndarray, k: int, date_from: str | None = None,
                     date_to: str | None = None, paper: str | None = None) -> list[tuple[int, float]]:
        """(paragraph_id, cosine) of the nearest paragraphs, filters inside the search, best first."""

    def keyword_search(self, query: str, k: int, date_from: str | None = None, date_to: str | None = None,
                       paper: str | None = None) -> list[tuple[int, float]]:
        """(paragraph_id, BM25 score) for a query's jieba words, filters inside the search, best first."""

    def hybrid_search(self, query: str, k: int, rrf_k: int, weights: tuple[float, float] = (1.0, 1.0),
                      date_from: str | None = None, date_to: str | None = None,
                      paper: str | None = None) -> list[tuple[int, float]]:
        """Dense and keyword lists of ``k`` each fused by reciprocal rank (``qa.fusion``): at most ``k``
        (paragraph_id, fused score) pairs, best first."""

    def passages(self, paragraph_ids: list[int]) -> dict[int, dict]:
        """Citation metadata by paragraph id: text, paper, date, title, paragraph, section, page,
        issue_id, paragraph_id, source, start, end."""

    def article_texts(self, paragraph_ids: list[int]) -> dict[int, str]:
        """The whole article around each paragraph (paper, headlines, dateline, body), by paragraph id."""

    def issue_text(self, issue_id: str) -> str:
        """An issue's headlines, then its paragraphs, joined by newlines."""

    def article_titles(self, issue_id: str, limit: int = 1) -> list[str]:
        """The first non-empty headlines of an issue, in page order."""

    def issues(self) -> list[dict]:
        """Every stored issue (issue_id, paper, date, date_inferred, page, source, sha256, added_at,
        articles, paragraphs), newest date first."""

    def stats(self) -> dict:
        """Counts and settings (issues, paragraphs, vectors, model, dim, …)."""

    def close(self) -> None:
        """Release connections."""


def default_store_uri() -> str:
    """``$NEWSQA_STORE`` when set, else the embedded index directory (``$NEWSQA_INDEX`` or ``~/.newsqa/index``)."""
    from qa.index import default_index_dir

    return os.environ.get("NEWSQA_STORE") or str(default_index_dir())


def store_class(uri: str) -> type | None:
    """The class of the store a URI names, or None for an embedded index directory."""
    import importlib

    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    target = STORE_SCHEMES.get(scheme)
    if target is None:
        if scheme and uri.split(":", 1)[1].startswith("//"):
            raise InputError(f"unknown store {uri!r}: want a directory, milvus://HOST:PORT or milvus-lite:PATH")
        return None
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def open_store(uri: str | Path | None = None, model: str | None = None, readonly: bool = False,
               factory: str | None = None, user_dict: str | Path | None = None) -> NewsStore:
    """Open the store a URI names.

    Args:
        uri: an index directory (the embedded SQLite + FAISS store), ``milvus://HOST:PORT`` (with
            ``?db=NAME`` and ``collection=PREFIX``; token from ``$NEWSQA_MILVUS_TOKEN``) or
            ``milvus-lite:PATH``; None for ``default_store_uri()``.
        model: embedding model spec (None: the store's own, or the default for a new store).
        readonly: never write (the embedded store raises when the index does not exist).
        factory: FAISS factory of a new embedded index (not for Milvus).
        user_dict: jieba user dictionary (embedded store only: Milvus tokenizes on the server).

    Returns:
        The store.
    """
    uri = str(uri) if uri is not None else default_store_uri()
    cls = store_class(uri)
    if cls is None:
        from qa.index import NewsIndex

        return NewsIndex(uri, model=model, factory=factory, user_dict=user_dict, readonly=readonly)
    if factory:
        raise InputError("--factory chooses a FAISS layout: it is for an embedded index, not for Milvus")
    if user_dict:
        raise InputError("--user-dict is for an embedded index: Milvus tokenizes with its own jieba dictionary")
    return cls(uri, model=model, readonly=readonly)
