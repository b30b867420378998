"""MilvusStore: issues, paragraphs, dense vectors and BM25 in one Milvus (Lite, standalone or cluster), shared by any number of processes.

Four collections, named ``{prefix}_…`` (prefix ``newsqa`` unless the URI says ``?collection=``):

- ``paragraphs``: one row per model window of a paragraph (most paragraphs have one): ids, issue,
  paper, date, article headlines, offsets, the paragraph's text (on its first window), the
  window's text for BM25 (a ``FunctionType.BM25`` sparse field over a jieba-analysed field) and
  the dense vector.
- ``issues``: one row per *committed generation* of an issue: its metadata and counts.
- ``texts``: the issue's source text in chunks (a VARCHAR holds at most 65,535 bytes).
- ``meta``: the model the store was built with.

Replacing an issue never shows half of it, without transactions: a write gives its rows a new
generation (a time-ordered 63-bit number), inserts them all, then commits by inserting the issue
row of that generation, then deletes the issue's older generations. An issue's current generation
is the largest committed one; every read keeps only rows of current generations. Rows are deleted
only by a writer whose own larger generation is already committed, so the largest committed
generation is always complete: two writers of one issue end with one whole version (the later
generation), a writer killed at any moment leaves the previous version (or nothing) and rows no
read shows, which the next write of that issue deletes. Every request is made with Strong
consistency, so a write that returned is seen by every later read of any process.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np

from qa.document import Issue
from qa.errors import IndexMismatchError, InputError, NewsQAError
from qa.fusion import ranked, reciprocal_rank_fusion
from qa.index import AddResult, check_date, issue_key, issue_records, issue_to_add, model_windows, stable_id
from qa.papers import paper_name as display_name

DEFAULT_PREFIX = "newsqa"
STRONG = "Strong"
VARCHAR_BYTES = 65535  # Milvus's largest VARCHAR
TEXT_CHUNK_CHARS = 16000  # source text per ``texts`` row: under 65,535 bytes at 4 bytes a character
INSERT_ROWS = 200  # rows per insert request (a 384-d row is ~3 KB with its text)
QUERY_IDS = 500  # ids per ``in [...]`` filter
MAX_SEARCH_ROWS = 16384  # Milvus's largest search limit
SCHEMA_VERSION = "1"
_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,180}$")
_ISSUE_ID = re.compile(r"^[0-9A-Za-z\u3400-\u9fff_.-]{1,120}$")  # what qa.index.issue_key makes
_NOT_WORD = re.compile(r"[^\w]+")
# Open MilvusStore handles per Milvus Lite path in this process: they share one in-process server,
# which holds the data directory's lock until the last handle closes.
_lite_handles: dict[Path, int] = {}
_lite_lock = threading.Lock()

# Fields a read needs from a paragraph row.
_HIT_FIELDS = ["paragraph_id", "issue_id", "generation"]
_PASSAGE_FIELDS = ["paragraph_id", "issue_id", "generation", "text", "ordinal", "start_char", "end_char", "section",
                   "paper", "date", "title", "page", "article_id"]
_ISSUE_FIELDS = ["issue_id", "generation", "paper", "paper_name", "date", "date_inferred", "page", "source", "sha256",
                 "added_at", "articles", "paragraphs", "windows"]


@dataclass(frozen=True)
class MilvusTarget:
    """Where a Milvus store lives, from its URI (see ``parse_milvus_uri``)."""

    client_uri: str  # what MilvusClient takes: http(s)://host:port or a Milvus Lite path
    db_name: str
    token: str
    prefix: str
    shown: str  # the URI without secrets, for messages

    @property
    def lite_path(self) -> Path | None:
        """The Milvus Lite data path, or None for a server."""
        return None if self.client_uri.startswith(("http://", "https://")) else Path(self.client_uri)


def parse_milvus_uri(uri: str) -> MilvusTarget:
    """Read a Milvus store URI.

    Args:
        uri: ``milvus://HOST:PORT`` (``milvuss://`` for TLS) with optional ``?db=NAME`` and
            ``collection=PREFIX``, or ``milvus-lite:PATH.db`` (a Milvus Lite data directory, one
            process at a time). The token comes from ``$NEWSQA_MILVUS_TOKEN`` (``user:password``
            or an API key), the database also from ``$NEWSQA_MILVUS_DB``: secrets stay out of URIs.

    Returns:
        The target.
    """
    scheme, _, rest = uri.partition(":")
    scheme = scheme.lower()
    query = {}
    if "?" in rest:
        rest, _, qs = rest.partition("?")
        query = {k: v[-1] for k, v in parse_qs(qs).items()}
    prefix = query.get("collection", DEFAULT_PREFIX)
    if not _PREFIX.match(prefix):
        raise InputError(f"collection prefix {prefix!r}: want letters, digits and _ (starting with a letter or _)")
    db_name = query.get("db") or os.environ.get("NEWSQA_MILVUS_DB", "")
    token = os.environ.get("NEWSQA_MILVUS_TOKEN", "")
    if scheme == "milvus-lite":
        path = rest[2:] if rest.startswith("//") else rest
        if not path.endswith(".db"):
            raise InputError(f"milvus-lite:{path}: a Milvus Lite path ends in .db (e.g. milvus-lite:archive.db)")
        path = str(Path(path).expanduser().resolve())
        return MilvusTarget(path, "", "", prefix, f"milvus-lite:{path}")
    if scheme in ("milvus", "milvuss"):
        netloc = urlsplit(f"//{rest.lstrip('/')}" if not rest.startswith("//") else rest).netloc
        if not netloc:
            raise InputError(f"{uri!r}: want milvus://HOST:PORT")
        host = netloc.rpartition("@")[2]  # credentials never come from the URI
        if ":" not in host:
            host += ":19530"
        http = "https" if scheme == "milvuss" else "http"
        shown = f"{scheme}://{host}" + (f"?db={db_name}" if db_name else "")
        return MilvusTarget(f"{http}://{host}", db_name, token, prefix, shown)
    raise InputError(f"{uri!r} is not a Milvus URI (milvus://HOST:PORT or milvus-lite:PATH.db)")


def bm25_text(text: str) -> str:
    """A text as the BM25 field gets it: normalised, punctuation and symbols turned to spaces.

    Milvus Lite ignores analyzer filters (``removepunct``), so punctuation would be indexed as words.
    """
    from qa.tokens import normalize

    return _NOT_WORD.sub(" ", normalize(text)).strip()


def bm25_query(query: str) -> str:
    """A question as the BM25 search gets it: its search words (question words dropped), space-separated."""
    from qa.tokens import query_tokens

    return " ".join(query_tokens(query))


def filter_expr(date_from: str | None = None, date_to: str | None = None, paper: str | None = None) -> str:
    """A Milvus boolean expression for the date range and paper filters ("" when none is set)."""
    parts = []
    if date_from:
        parts.append(f"date >= {_literal(check_date(date_from))}")
    if date_to:
        parts.append(f"date <= {_literal(check_date(date_to))}")
    if paper:
        parts.append(f"paper == {_literal(paper)}")
    return " and ".join(parts)


def _literal(value: str) -> str:
    """A quoted string literal for a Milvus expression (no input can end the string early)."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _id_list(values) -> str:
    return "[" + ", ".join(_literal(v) if isinstance(v, str) else str(int(v)) for v in values) + "]"


def _clip(text: str | None, limit: int) -> str:
    """``text`` in at most ``limit`` UTF-8 bytes ("" for None): VARCHAR lengths are bytes."""
    data = (text or "").encode("utf-8")
    if len(data) <= limit:
        return text or ""
    return data[:limit].decode("utf-8", "ignore")


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _newest(rows) -> dict[str, dict]:
    """The issue row of the largest generation of each issue among ``rows``."""
    out: dict[str, dict] = {}
    for row in rows:
        if row["generation"] > out.get(row["issue_id"], {}).get("generation", -1):
            out[row["issue_id"]] = row
    return out


def _window_texts(windows, texts: dict[int, str], which) -> list[str]:
    """The text of each window numbered in ``which`` (windows are (vector_id, paragraph_id, start, end, hash))."""
    return [texts[windows[i][1]][windows[i][2]:windows[i][3]] for i in which]


def new_generation() -> int:
    """A generation for a write: microseconds since the epoch, then 3 random digits (unique across
    writers, and later writes get larger ones)."""
    return time.time_ns() // 1000 * 1000 + secrets.randbelow(1000)


class MilvusStore:
    """The ``qa.stores.NewsStore`` role in Milvus: nothing is kept on the machine.

    Args:
        uri: see ``parse_milvus_uri``.
        model: embedding model spec (None: the store's own, or the default for a new store).
        readonly: refuse writes.
    """

    def __init__(self, uri: str, model: str | None = None, readonly: bool = False):
        self.target = parse_milvus_uri(uri)
        self.readonly = readonly
        self.write_chunk: int | None = None
        self._model_spec = model
        self._encoder = None
        self._mutex = threading.RLock()
        self._query_vectors: dict[str, np.ndarray] = {}
        self._loaded: set[str] = set()
        p = self.target.prefix
        self.paragraphs_name, self.issues_name = f"{p}_paragraphs", f"{p}_issues"
        self.texts_name, self.meta_name = f"{p}_texts", f"{p}_meta"
        self.client = self._connect()
        # Milvus Lite keeps no MVCC timestamps: a paged query falls back to the client's clock (a
        # read as of now, what Strong wants) and warns on every page.
        logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
        if model and self.meta().get("model"):
            self._check_model(self.encoder)

    def _connect(self):
        from pymilvus import MilvusClient

        lite = self.target.lite_path
        if lite is not None and self.readonly and not lite.exists():
            raise NewsQAError(f"no store at {self.target.shown}: run `newsqa index --store {self.target.shown} FILE` first")
        try:
            client = MilvusClient(uri=self.target.client_uri, token=self.target.token, db_name=self.target.db_name)
        except Exception as exc:  # pymilvus raises MilvusException and plain RuntimeErrors alike
            if lite is not None:
                raise NewsQAError(
                    f"cannot open {self.target.shown}; if another process has it open (Milvus Lite serves one "
                    f"process at a time), serve it with `milvus-lite server --data-dir {lite} --port 19530` "
                    "and use --store milvus://127.0.0.1:19530"
                ) from None
            raise NewsQAError(f"cannot connect to Milvus at {self.target.shown}: {str(exc).splitlines()[0][:300]}") from None
        if lite is not None:
            with _lite_lock:
                _lite_handles[lite] = _lite_handles.get(lite, 0) + 1
        return client

    # ----------------------------------------------------------------- model
    @property
    def location(self) -> str:
        """The store's URI without secrets."""
        return self.target.shown

    def meta(self) -> dict[str, str]:
        """The store's settings (model, model_spec, dim, schema); {} before the first write."""
        if not self._open(self.meta_name):
            return {}
        rows = self.client.query(self.meta_name, filter='key != ""', output_fields=["key", "value"],
                                 consistency_level=STRONG)
        return {r["key"]: r["value"] for r in rows}

    @property
    def model_name(self) -> str | None:
        """The embedding model recorded in the store (None before the first issue)."""
        return self.meta().get("model")

    @property
    def encoder(self):
        """The embedding model, loaded on first use (the one the store was built with)."""
        if self._encoder is None:
            with self._mutex:
                if self._encoder is None:
                    from embeddings import load_encoder

                    spec = self._model_spec or self.meta().get("model_spec") or None
                    try:
                        encoder = load_encoder(spec)
                    except ValueError as exc:
                        raise InputError(str(exc)) from None
                    self._check_model(encoder)
                    self._encoder = encoder
        return self._encoder

    def _check_model(self, encoder) -> None:
        meta = self.meta()
        if meta.get("model") and meta["model"] != encoder.name:
            raise IndexMismatchError(
                f"store {self.location} was built with model {meta['model']!r} (dim {meta.get('dim')}); "
                f"it cannot be searched or extended with {encoder.name!r}: use the same --model or another store"
            )

    def query_vector(self, query: str) -> np.ndarray:
        """The model's vector for a normalised query (the last 256 are kept)."""
        with self._mutex:
            vector = self._query_vectors.get(query)
        if vector is None:
            vector = self.encoder.encode_queries([query])[0]
            with self._mutex:
                self._query_vectors[query] = vector
                while len(self._query_vectors) > 256:
                    self._query_vectors.pop(next(iter(self._query_vectors)))
        return vector

    # ----------------------------------------------------------------- collections
    def _ensure_collections(self, dim: int) -> None:
        """Create the four collections when missing (several writers may race here: all succeed)."""
        from pymilvus import DataType, Function, FunctionType

        c = self.client

        def create(name, schema, index_params) -> None:
            if c.has_collection(name):
                return
            try:
                c.create_collection(name, schema=schema, index_params=index_params, consistency_level=STRONG)
            except Exception:
                if not c.has_collection(name):
                    raise

        def small(name: str, fields: list[tuple]) -> None:
            """A collection of records: Milvus wants a vector field in each, so a 2-d one stands in."""
            schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
            for field in fields:
                schema.add_field(*field[:2], **(field[2] if len(field) > 2 else {}))
            schema.add_field("stub", DataType.FLOAT_VECTOR, dim=2)
            params = c.prepare_index_params()
            params.add_index("stub", index_type="FLAT", metric_type="L2")
            create(name, schema, params)

        v = {"max_length": 256}
        small(self.meta_name, [("key", DataType.VARCHAR, {"is_primary": True, "max_length": 64}),
                               ("value", DataType.VARCHAR, {"max_length": 4096})])
        small(self.issues_name, [
            ("key", DataType.VARCHAR, {"is_primary": True, "max_length": 160}),  # issue_id@generation
            ("issue_id", DataType.VARCHAR, v), ("generation", DataType.INT64), ("paper", DataType.VARCHAR, v),
            ("paper_name", DataType.VARCHAR, v), ("date", DataType.VARCHAR, {"max_length": 16}),
            ("date_inferred", DataType.BOOL), ("page", DataType.VARCHAR, {"max_length": 64}),
            ("source", DataType.VARCHAR, {"max_length": 2048}), ("sha256", DataType.VARCHAR, {"max_length": 64}),
            ("added_at", DataType.VARCHAR, {"max_length": 64}), ("articles", DataType.INT64),
            ("paragraphs", DataType.INT64), ("windows", DataType.INT64), ("text_chunks", DataType.INT64)])
        small(self.texts_name, [
            ("key", DataType.VARCHAR, {"is_primary": True, "max_length": 192}),  # issue_id@generation#seq
            ("issue_id", DataType.VARCHAR, v), ("generation", DataType.INT64), ("seq", DataType.INT64),
            ("text", DataType.VARCHAR, {"max_length": VARCHAR_BYTES})])

        schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)  # stable_id(vector_id, generation)
        for name in ("paragraph_id", "window", "generation", "article_id", "article_ordinal", "ordinal", "position",
                     "start_char", "end_char", "win_start", "win_end"):
            schema.add_field(name, DataType.INT64)
        for name, length in (("issue_id", 256), ("paper", 256), ("date", 16), ("title", 4096), ("subtitle", 4096),
                             ("dateline", 1024), ("page", 64), ("section", 512), ("text_hash", 64),
                             ("text", VARCHAR_BYTES)):
            schema.add_field(name, DataType.VARCHAR, max_length=length)
        # Milvus Lite takes {"tokenizer": "jieba"} (not {"type": "chinese"}); a server takes both.
        schema.add_field("bm25_text", DataType.VARCHAR, max_length=VARCHAR_BYTES, enable_analyzer=True,
                         analyzer_params={"tokenizer": "jieba"})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["bm25_text"], output_field_names=["sparse"]))
        params = c.prepare_index_params()
        params.add_index("dense", index_type="AUTOINDEX", metric_type="IP")
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        create(self.paragraphs_name, schema, params)

    def _open(self, name: str) -> bool:
        """Whether a collection exists, loaded: Milvus searches loaded collections only, and after a
        restart (or in a new Milvus Lite process) they start released. Once true, kept."""
        if name not in self._loaded:
            if not self.client.has_collection(name):
                return False
            self.client.load_collection(name)
            self._loaded.add(name)
        return True

    def _ready(self) -> bool:
        """Whether anything was ever written (the paragraphs collection is made last)."""
        return all(self._open(n) for n in (self.paragraphs_name, self.issues_name, self.texts_name))

    # ----------------------------------------------------------------- generations
    def _current(self, issue_ids) -> dict[str, dict]:
        """The committed issue row of the current (largest) generation of each issue that has one."""
        ids = sorted(set(issue_ids))
        if not ids or not self._ready():
            return {}
        return _newest(row for chunk in _chunks(ids, QUERY_IDS)
                       for row in self.client.query(self.issues_name, filter=f"issue_id in {_id_list(chunk)}",
                                                    output_fields=_ISSUE_FIELDS, consistency_level=STRONG))

    def _all_current(self) -> dict[str, dict]:
        """``_current`` of every issue in the store."""
        if not self._ready():
            return {}
        return _newest(self._query_all(self.issues_name, 'issue_id != ""', _ISSUE_FIELDS))

    def _query_all(self, collection: str, expr: str, fields: list[str]):
        """Every row matching ``expr``, in pages (a server returns at most 16,384 rows a query)."""
        iterator = self.client.query_iterator(collection, batch_size=1000, filter=expr, output_fields=fields,
                                              consistency_level=STRONG)
        try:
            while batch := iterator.next():
                yield from batch
        finally:
            iterator.close()

    def _live(self, rows: list[dict]) -> list[dict]:
        """The rows that belong to their issue's current generation, in order."""
        current = self._current(r["issue_id"] for r in rows)
        return [r for r in rows if current.get(r["issue_id"], {}).get("generation") == r["generation"]]

    # ----------------------------------------------------------------- writes
    @contextmanager
    def writer(self):
        """Writers coordinate through generations, not a lock: nothing to hold."""
        if self.readonly:
            raise NewsQAError("this store was opened read-only")
        yield

    def add(self, source, paper: str | None = None, date: str | None = None, progress=None, batch_size: int = 32,
            paper_name: str | None = None) -> AddResult:
        """Index one issue: parse it, embed its paragraphs, store it as a new generation.

        Args:
            source: a file path, the file's bytes, or an already parsed ``Issue``.
            paper: the paper's id (overrides what the parser found).
            date: the issue date, YYYY-MM-DD.
            progress: called with the number of windows embedded after each model call.
            batch_size: paragraphs per model call.
            paper_name: the paper's display name (浙江日报).

        Returns:
            added, replaced or unchanged, as ``qa.index.NewsIndex.add``.
        """
        issue = issue_to_add(source, paper, date, paper_name)
        return self.add_many([issue], progress=progress, batch_size=batch_size)[0]

    def add_many(self, issues: list[Issue], progress=None, batch_size: int = 32,
                 batch_paragraphs: int = 2000) -> list[AddResult]:
        """Index parsed issues one after another, each its own generation (``batch_paragraphs`` is
        the embedded store's; here each issue commits alone).

        Returns:
            One ``AddResult`` per issue, in order.
        """
        if self.readonly:
            raise NewsQAError("this store was opened read-only")
        encoder = self.encoder
        self._ensure_collections(encoder.dim)
        self._record_model(encoder)
        results = []
        for issue in issues:
            key = issue_key(issue)
            old = self._current([key]).get(key)
            if old and old["sha256"] == issue.sha256 and (issue.paper_name or "") in ("", old["paper_name"]) \
                    and old["paragraphs"] == len(issue.paragraphs):  # else parsed anew by a newer parser
                self._drop_older(key, old["generation"])  # what a writer killed after its commit left
                results.append(AddResult(key, "unchanged", old["paragraphs"], old["articles"], 0, issue.source))
                continue
            records = issue_records(issue, key)
            windows = model_windows(records["paragraphs"], encoder)
            vectors, embedded = self._embed(key, old, windows, records["paragraphs"], progress, batch_size)
            self._write(records, windows, vectors)
            results.append(AddResult(key, "replaced" if old else "added", len(records["paragraphs"]),
                                     len(records["articles"]), embedded, issue.source))
        return results

    def import_issue(self, record: dict, progress=None) -> int:
        """Write one exported issue (``qa.index.NewsIndex.export_issues``) with its vectors.

        Windows whose vector could not be exported are embedded again.

        Returns:
            The number of windows embedded.
        """
        encoder = self.encoder
        self._ensure_collections(encoder.dim)
        self._record_model(encoder)
        windows, vectors = record["windows"], list(record["vectors"])
        todo = [i for i, v in enumerate(vectors) if v is None]
        if todo:
            texts = {p["paragraph_id"]: p["text"] for p in record["paragraphs"]}
            fresh = encoder.encode_passages(_window_texts(windows, texts, todo))
            for i, v in zip(todo, fresh):
                vectors[i] = v
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(windows), encoder.dim)
        self._write(record, windows, matrix)
        if progress:
            progress(len(record["paragraphs"]))
        return len(todo)

    def _record_model(self, encoder) -> None:
        meta = self.meta()
        self._check_model(encoder)
        if not meta.get("model"):
            rows = [{"key": k, "value": str(v), "stub": [0.0, 0.0]} for k, v in
                    (("model", encoder.name), ("dim", encoder.dim), ("model_spec", self._model_spec or ""),
                     ("schema", SCHEMA_VERSION))]
            self.client.upsert(self.meta_name, rows)

    def _embed(self, key: str, old: dict | None, windows, paragraphs: list[dict], progress, batch_size: int):
        """Vectors for the windows, reusing those of identical windows in the issue's current version.

        Returns:
            (vectors, number embedded now).
        """
        encoder = self.encoder
        out = np.zeros((len(windows), encoder.dim), dtype=np.float32)
        reuse: dict[str, list[float]] = {}
        if old:
            for row in self.client.query(self.paragraphs_name, filter=f"issue_id == {_literal(key)} and "
                                         f"generation == {old['generation']}", output_fields=["text_hash", "dense"],
                                         consistency_level=STRONG):
                reuse[row["text_hash"]] = row["dense"]
        texts = {p["paragraph_id"]: p["text"] for p in paragraphs}
        todo = []
        for i, (_vid, _pid, _s, _e, digest) in enumerate(windows):
            if digest in reuse:
                out[i] = reuse[digest]
            else:
                todo.append(i)
        chunk = self.write_chunk or batch_size * 16
        for b in range(0, len(todo), chunk):
            idx = todo[b:b + chunk]
            out[idx] = encoder.encode_passages(_window_texts(windows, texts, idx), batch_size=batch_size)
            if progress:
                progress(len(idx))
        return out, len(todo)

    def _write(self, records: dict, windows, vectors: np.ndarray) -> int:
        """Insert an issue as a new generation, commit it, then delete its older generations.

        Returns:
            The generation written.
        """
        issue = records["issue"]
        key = issue["issue_id"]
        generation = new_generation()
        text = issue.get("text") or ""
        chunks = [text[i:i + TEXT_CHUNK_CHARS] for i in range(0, len(text), TEXT_CHUNK_CHARS)] or [""]
        self.client.insert(self.texts_name, [
            {"key": f"{key}@{generation}#{n}", "issue_id": key, "generation": generation, "seq": n, "text": chunk,
             "stub": [0.0, 0.0]} for n, chunk in enumerate(chunks)])
        paragraphs = {p["paragraph_id"]: p for p in records["paragraphs"]}
        articles = {a["article_id"]: a for a in records["articles"]}
        rows, seen = [], set()
        for (vid, pid, start, end, digest), vector in zip(windows, vectors):
            par, first = paragraphs[pid], pid not in seen
            seen.add(pid)
            art = articles[par["article_id"]]
            rows.append({
                "id": stable_id(vid, generation), "paragraph_id": pid, "window": 0 if first else 1,
                "generation": generation, "article_id": art["article_id"], "article_ordinal": art["ordinal"],
                "ordinal": par["ordinal"], "position": par["position"], "start_char": par["start"],
                "end_char": par["end"], "win_start": start, "win_end": end, "issue_id": key,
                "paper": _clip(issue.get("paper"), 256), "date": issue.get("date") or "",
                "title": _clip(art.get("title"), 4096), "subtitle": _clip(art.get("subtitle"), 4096),
                "dateline": _clip(art.get("dateline"), 1024), "page": _clip(art.get("page"), 64),
                "section": _clip(par.get("section"), 512), "text_hash": digest,
                "text": _clip(par["text"], VARCHAR_BYTES) if first else "",
                "bm25_text": _clip(bm25_text(par["text"][start:end]), VARCHAR_BYTES),
                "dense": np.asarray(vector, dtype=np.float32).tolist(),
            })
        for batch in _chunks(rows, INSERT_ROWS):
            self.client.insert(self.paragraphs_name, batch)
        # The commit: from this insert on, reads take this generation as the issue's current one.
        self.client.insert(self.issues_name, [{
            "key": f"{key}@{generation}", "issue_id": key, "generation": generation,
            "paper": _clip(issue.get("paper"), 256), "paper_name": _clip(issue.get("paper_name"), 256),
            "date": issue.get("date") or "", "date_inferred": bool(issue.get("date_inferred")),
            "page": _clip(issue.get("page"), 64), "source": _clip(issue.get("source"), 2048),
            "sha256": issue["sha256"], "added_at": issue.get("added_at") or "", "articles": len(articles),
            "paragraphs": len(paragraphs), "windows": len(rows), "text_chunks": len(chunks), "stub": [0.0, 0.0]}])
        self._drop_older(key, generation)
        return generation

    def _drop_older(self, key: str, generation: int) -> None:
        """Delete an issue's generations older than a committed one (never a newer writer's rows)."""
        expr = f"issue_id == {_literal(key)} and generation < {int(generation)}"
        for name in (self.issues_name, self.paragraphs_name, self.texts_name):
            self.client.delete(name, filter=expr)

    def remove(self, issue_id: str) -> bool:
        """Remove an issue: its issue rows first (from then on no read shows it), then its rows.

        Returns:
            False when no such issue is stored.
        """
        if self.readonly:
            raise NewsQAError("this store was opened read-only")
        if not isinstance(issue_id, str) or not _ISSUE_ID.match(issue_id) or not self._current([issue_id]):
            return False
        expr = f"issue_id == {_literal(issue_id)}"
        for name in (self.issues_name, self.paragraphs_name, self.texts_name):
            self.client.delete(name, filter=expr)
        return True

    # ----------------------------------------------------------------- searches
    def _search(self, data, field: str, metric: str, limit: int, expr: str) -> list[dict]:
        res = self.client.search(self.paragraphs_name, data=data, anns_field=field, limit=limit, filter=expr,
                                 search_params={"metric_type": metric}, output_fields=_HIT_FIELDS,
                                 consistency_level=STRONG)
        return [dict(h["entity"], score=float(h["distance"])) for h in res[0]]

    def _top_live(self, search, k: int) -> list[tuple[int, float]]:
        """The best hit of each paragraph of a current generation, in the engine's order, at most k.

        ``search(limit)`` returns hits best first. It is asked for 2k + 4 rows (a paragraph may have
        several windows, an issue being replaced two generations), and for four times more while
        rows no read shows (a killed writer's, a replaced generation's) leave fewer than k.
        """
        limit = k * 2 + 4
        while True:
            hits = search(limit)
            out: dict[int, float] = {}
            for h in self._live(hits):
                if h["paragraph_id"] not in out:
                    out[h["paragraph_id"]] = h["score"]
            if len(out) >= k or len(hits) < limit or limit >= MAX_SEARCH_ROWS:
                return list(out.items())[:k]
            limit = min(limit * 4, MAX_SEARCH_ROWS)

    def dense_search(self, query_vector: np.ndarray, k: int, date_from: str | None = None,
                     date_to: str | None = None, paper: str | None = None) -> list[tuple[int, float]]:
        """(paragraph_id, cosine) of the nearest paragraphs, filters inside the search, best first."""
        if not self._ready():
            return []
        data, expr = [np.asarray(query_vector, dtype=np.float32).tolist()], filter_expr(date_from, date_to, paper)
        return self._top_live(lambda limit: self._search(data, "dense", "IP", limit, expr), k)

    def keyword_search(self, query: str, k: int, date_from: str | None = None, date_to: str | None = None,
                       paper: str | None = None) -> list[tuple[int, float]]:
        """(paragraph_id, BM25 score) over the jieba words of the paragraphs; [] for a query with no words."""
        text = bm25_query(query)
        if not text or not self._ready():
            return []
        expr = filter_expr(date_from, date_to, paper)

        def search(limit: int) -> list[dict]:
            hits = self._search([text], "sparse", "BM25", limit, expr)
            for h in hits:  # Milvus Lite reports BM25 as a negative distance; the order is the engine's
                h["score"] = abs(h["score"])
            return hits

        return self._top_live(search, k)

    def hybrid_search(self, query: str, k: int, rrf_k: int, weights: tuple[float, float] = (1.0, 1.0),
                      date_from: str | None = None, date_to: str | None = None,
                      paper: str | None = None) -> list[tuple[int, float]]:
        """Dense and BM25 searches as two ``AnnSearchRequest``s, each filtered, fused in the engine
        by ``RRFRanker(rrf_k)`` (``qa.fusion``'s formula); unequal weights are fused here instead,
        since RRFRanker weighs both lists alike.

        Returns:
            At most ``k`` (paragraph_id, fused score) pairs, best first.
        """
        from pymilvus import AnnSearchRequest, RRFRanker

        from qa.tokens import normalize

        if not self._ready():
            return []
        filters = dict(date_from=date_from, date_to=date_to, paper=paper)
        vector = self.query_vector(normalize(query))
        text = bm25_query(query)
        if weights[0] != weights[1] or not text:
            rankings = [[pid for pid, _ in self.dense_search(vector, k, **filters)],
                        [pid for pid, _ in self.keyword_search(query, k, **filters)]]
            return ranked(reciprocal_rank_fusion(rankings, list(weights), rrf_k))[:k]
        expr = filter_expr(**filters)

        def search(limit: int) -> list[dict]:
            requests = [AnnSearchRequest(data=[vector.astype(np.float32).tolist()], anns_field="dense",
                                         param={"metric_type": "IP"}, limit=limit, expr=expr),
                        AnnSearchRequest(data=[text], anns_field="sparse", param={"metric_type": "BM25"},
                                         limit=limit, expr=expr)]
            res = self.client.hybrid_search(self.paragraphs_name, requests, ranker=RRFRanker(rrf_k), limit=limit,
                                            output_fields=_HIT_FIELDS, consistency_level=STRONG)
            return [dict(h["entity"], score=float(h["distance"]) * weights[0]) for h in res[0]]

        return self._top_live(search, k)

    # ----------------------------------------------------------------- reads
    def _first_windows(self, expr: str, fields: list[str]) -> list[dict]:
        return self.client.query(self.paragraphs_name, filter=f"({expr}) and window == 0", output_fields=fields,
                                 consistency_level=STRONG)

    def passages(self, paragraph_ids: list[int]) -> dict[int, dict]:
        """Citation metadata by paragraph id (as ``qa.stores.NewsStore.passages``)."""
        ids = list(dict.fromkeys(int(p) for p in paragraph_ids))
        if not ids or not self._ready():
            return {}
        rows = []
        for chunk in _chunks(ids, QUERY_IDS):
            rows += self._first_windows(f"paragraph_id in {_id_list(chunk)}", _PASSAGE_FIELDS)
        current = self._current(r["issue_id"] for r in rows)
        out = {}
        for r in rows:
            issue = current.get(r["issue_id"])
            if issue is None or issue["generation"] != r["generation"]:
                continue
            out[r["paragraph_id"]] = {
                "text": r["text"], "paper": r["paper"] or None, "paper_name": display_name(r["paper"] or None, issue["paper_name"]),
                "date": r["date"] or None, "title": r["title"] or None, "paragraph": r["ordinal"],
                "section": r["section"] or None, "page": r["page"] or None, "issue_id": r["issue_id"],
                "paragraph_id": r["paragraph_id"], "source": issue["source"], "start": r["start_char"], "end": r["end_char"],
            }
        return out

    def article_texts(self, paragraph_ids: list[int]) -> dict[int, str]:
        """The whole article around each paragraph (paper, title, subtitle, dateline, every paragraph), by paragraph id."""
        found = self.passages(paragraph_ids)
        if not found:
            return {}
        rows = self._first_windows(f"paragraph_id in {_id_list(found)}", ["paragraph_id", "article_id", "generation"])
        article_of = {r["paragraph_id"]: (r["article_id"], r["generation"]) for r in rows}
        body: dict[tuple[int, int], list[dict]] = {}
        wanted = sorted(set(article_of.values()))
        for chunk in _chunks(wanted, QUERY_IDS):
            expr = " or ".join(f"(article_id == {a} and generation == {g})" for a, g in chunk)
            for r in self._first_windows(expr, ["article_id", "generation", "ordinal", "text", "paper", "title",
                                                "subtitle", "dateline"]):
                body.setdefault((r["article_id"], r["generation"]), []).append(r)
        out = {}
        for pid in dict.fromkeys(paragraph_ids):
            pars = sorted(body.get(article_of.get(pid), []), key=lambda r: r["ordinal"])
            if pars:
                head = pars[0]
                out[pid] = "\n".join(x for x in (head["paper"], head["title"], head["subtitle"], head["dateline"],
                                                 *(r["text"] for r in pars)) if x)
        return out

    def _issue_rows(self, issue_id: str, fields: list[str]) -> list[dict]:
        issue = self._current([issue_id]).get(issue_id)
        if issue is None:
            return []
        return self._first_windows(f"issue_id == {_literal(issue_id)} and generation == {issue['generation']}", fields)

    def issue_text(self, issue_id: str) -> str:
        """All headlines, then all paragraphs of one issue, joined by newlines."""
        rows = self._issue_rows(issue_id, ["article_ordinal", "title", "position", "text"])
        titles = {r["article_ordinal"]: r["title"] for r in rows if r["title"]}
        return "\n".join([titles[a] for a in sorted(titles)] + [r["text"] for r in sorted(rows, key=lambda r: r["position"])])

    def article_titles(self, issue_id: str, limit: int = 1) -> list[str]:
        """The first non-empty headlines of an issue, in page order."""
        rows = self._issue_rows(issue_id, ["article_ordinal", "title"])
        titles = {r["article_ordinal"]: r["title"] for r in rows if r["title"]}
        return [titles[a] for a in sorted(titles)][:limit]

    def issue_source_text(self, issue_id: str) -> str | None:
        """The issue's source text as indexed (None when the issue is not stored)."""
        issue = self._current([issue_id]).get(issue_id)
        if issue is None:
            return None
        rows = self.client.query(self.texts_name, filter=f"issue_id == {_literal(issue_id)} and generation == "
                                 f"{issue['generation']}", output_fields=["seq", "text"], consistency_level=STRONG)
        return "".join(r["text"] for r in sorted(rows, key=lambda r: r["seq"]))

    def issues(self) -> list[dict]:
        """Every stored issue with its counts, newest date first."""
        out = []
        for row in self._all_current().values():
            out.append({
                "issue_id": row["issue_id"], "paper": row["paper"] or None, "date": row["date"] or None,
                "date_inferred": bool(row["date_inferred"]), "page": row["page"] or None, "source": row["source"],
                "sha256": row["sha256"], "added_at": row["added_at"], "articles": row["articles"],
                "paragraphs": row["paragraphs"], "paper_name": display_name(row["paper"] or None, row["paper_name"]),
            })
        out.sort(key=lambda i: i["issue_id"])
        out.sort(key=lambda i: i["date"] or "", reverse=True)
        return out

    def verify(self) -> dict:
        """Check every current generation is whole.

        Returns:
            ``{"incomplete": [issue ids whose rows fall short of their issue row's count],
            "stale_rows": rows of no current generation (left by a killed writer; invisible)}``.
        """
        current = self._all_current()
        counts: dict[tuple[str, int], int] = {}
        if self._ready():
            for r in self._query_all(self.paragraphs_name, 'issue_id != ""', ["issue_id", "generation"]):
                counts[(r["issue_id"], r["generation"])] = counts.get((r["issue_id"], r["generation"]), 0) + 1
        incomplete = sorted(i for i, row in current.items() if counts.get((i, row["generation"]), 0) != row["windows"])
        live = {(i, row["generation"]) for i, row in current.items()}
        return {"incomplete": incomplete, "stale_rows": sum(n for key, n in counts.items() if key not in live)}

    def stats(self) -> dict:
        """Counts and settings of the store."""
        current = self._all_current()
        meta = self.meta()
        paragraphs = sum(r["paragraphs"] for r in current.values())
        return {
            "store": self.location, "issues": len(current), "articles": sum(r["articles"] for r in current.values()),
            "paragraphs": paragraphs, "vectors": sum(r["windows"] for r in current.values()),
            "model": meta.get("model"), "dim": int(meta["dim"]) if meta.get("dim") else None,
            "collections": [self.paragraphs_name, self.issues_name, self.texts_name, self.meta_name],
        }

    def close(self) -> None:
        """Close the client; the last handle on a Milvus Lite path stops its server, releasing the
        data directory for other processes."""
        if self.client is None:
            return
        try:
            self.client.close()
        except Exception:  # a server already gone
            pass
        self.client = None
        lite = self.target.lite_path
        if lite is not None:
            with _lite_lock:
                _lite_handles[lite] -= 1
                last = _lite_handles[lite] == 0
            if last:
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(str(lite))

    def __enter__(self) -> MilvusStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
