"""The NewsStore contract on each store: embedded (SQLite + FAISS), Milvus Lite, and a Milvus server when
NEWSQA_TEST_MILVUS_URI is set (``pytest -m milvus_server``; see README, Scaling out)."""

from __future__ import annotations

import os
import secrets

import pytest

from contract import StoreContract
from qa.index import NewsIndex
from qa.milvus_store import MilvusStore

# Read when the module is imported: the session's fixtures drop every NEWSQA_* setting before tests run.
MILVUS_SERVER_URI = os.environ.get("NEWSQA_TEST_MILVUS_URI")


def drop_collections(store: MilvusStore) -> None:
    """Remove a test's collections from a shared Milvus server."""
    for name in (store.paragraphs_name, store.issues_name, store.texts_name, store.meta_name):
        if store.client.has_collection(name):
            store.client.drop_collection(name)


class TestEmbeddedStore(StoreContract):
    def open_store(self, directory):
        return NewsIndex(directory / "index")

    def reopen(self, store):
        return NewsIndex(store.dir)


class TestMilvusLiteStore(StoreContract):
    def open_store(self, directory):
        return MilvusStore(f"milvus-lite:{directory / 'store.db'}")

    def reopen(self, store):
        return MilvusStore(store.location)


@pytest.mark.milvus_server
@pytest.mark.skipif(not MILVUS_SERVER_URI, reason="set NEWSQA_TEST_MILVUS_URI=milvus://HOST:PORT to test a Milvus server")
class TestMilvusServerStore(StoreContract):
    def open_store(self, directory):
        joiner = "&" if "?" in MILVUS_SERVER_URI else "?"
        return MilvusStore(f"{MILVUS_SERVER_URI}{joiner}collection=newsqa_test_{secrets.token_hex(4)}")

    def reopen(self, store):
        return MilvusStore(f"{store.location}{'&' if '?' in store.location else '?'}collection={store.target.prefix}")

    def dispose(self, store):
        drop_collections(store)
        store.close()
