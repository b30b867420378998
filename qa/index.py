"""NewsIndex: one directory holding the SQLite store and the FAISS vectors, updated atomically."""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import store
from qa.document import Issue
from qa.errors import IndexLockedError, IndexMismatchError, InputError, NewsQAError
from qa.tokens import index_tokens, load_user_dict

DB_NAME = "newsqa.sqlite"
LOCK_NAME = "write.lock"
USER_DICT_NAME = "userdict.txt"
DEFAULT_FACTORY = "Flat"
_VECTOR_FILE = re.compile(r"^vectors-(\d+)\.faiss$")
LOG_COMPACT_FRACTION = 0.25  # fold the vector log into a new snapshot past this share of the snapshot's size
LOG_COMPACT_MIN_BYTES = 4 * 1024 * 1024  # ... and past this size (small indexes keep a log)
QUERY_PRIORITY_S = 2.0  # longest a write's next model call waits for questions to be embedded first

ProgressFn = Callable[[int], None]


def default_index_dir() -> Path:
    """``$NEWSQA_INDEX`` when set, else ``~/.newsqa/index``."""
    return Path(os.environ.get("NEWSQA_INDEX") or Path.home() / ".newsqa" / "index").expanduser()


def stable_id(*parts: object) -> int:
    """A positive 63-bit id derived from its parts, the same in every run and on every machine."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


def issue_key(issue: Issue) -> str:
    """The issue's identity: paper, date and page, e.g. ``zjrb-2023-08-01`` or ``zjrb-2023-08-01-p01``.

    Falls back to the source file's stem when the issue has neither a paper nor a date.
    """
    parts = [issue.paper or "", issue.date or ""]
    if issue.page:
        parts.append(f"p{issue.page}")
    key = "-".join(p for p in parts if p) or Path(issue.source).stem
    # Only safe characters: the id appears in URLs and never names a file, but keep it tidy.
    key = re.sub(r"[^0-9A-Za-z\u3400-\u9fff_.-]+", "_", key).strip("._") or "issue"
    return key[:120]


@dataclass
class AddResult:
    """What one ``NewsIndex.add`` did."""

    issue_id: str
    status: str  # "added", "replaced" or "unchanged"
    paragraphs: int
    articles: int
    embedded: int  # windows embedded now (reused vectors are not counted)
    source: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class NewsIndex:
    """The index directory: add, replace and remove issues; search primitives for retrieval.

    Writes are all-or-nothing. The FAISS index is written to a new file (fsync, rename), then
    one SQLite transaction stores the issue's rows *and* the name of that vector file; the
    previous vector file stays until the next write. A crash before the commit leaves the old
    state, after it the new one. Readers reload the vector file when the recorded name changes.

    Args:
        index_dir: the directory (created on first write).
        model: an embedding model spec for ``embeddings.load_encoder``; None uses the model
            recorded in the index, or the default model for a new index.
        factory: FAISS index factory string for a new index ("Flat", "HNSW32", "IVF1024,PQ32").
        user_dict: a jieba user dictionary to copy into the index and use from now on.
        readonly: never write; raise when the index does not exist.
    """

    def __init__(self, index_dir: str | Path | None = None, model: str | None = None,
                 factory: str | None = None, user_dict: str | Path | None = None,
                 readonly: bool = False, lock_timeout: float = 30.0):
        self.dir = Path(index_dir).expanduser() if index_dir else default_index_dir()
        self.readonly = readonly
        self.lock_timeout = lock_timeout
        self._model_spec = model
        self._encoder = None
        self._vectors = None
        self._vector_file: tuple[str | None, int] | None = None  # (snapshot, committed log length) in memory
        self._lock_depth = 0
        self._lock_fd: int | None = None
        self._mutex = threading.RLock()  # guards the in-memory vectors and model, held briefly
        self._write_mutex = threading.RLock()  # one writing thread at a time; searches never wait on it
        self._local = threading.local()
        self._query_vectors: dict[str, np.ndarray] = {}
        # Windows per model call in a write (None: batch_size x 16, for throughput); a server sets a
        # small one, so that a question waits at most one small call of a write.
        self.write_chunk: int | None = None
        # Questions waiting for the model: a write lets them go first between its chunks.
        self._query_gate = threading.Condition()
        self._queries_waiting = 0
        db = self.dir / DB_NAME
        self._db_path = db
        if readonly:
            if not db.exists():
                raise NewsQAError(f"no index at {self.dir}: run `newsqa index FILE` first")
            self.db = store.connect(db, readonly=True)
        else:
            try:
                self.dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise NewsQAError(f"cannot create index directory {self.dir}: {exc.strerror}") from exc
            self.db = store.connect(db)
        meta = store.get_meta(self.db)
        if model and meta.get("model"):
            self._check_model(self.encoder, meta)
        if not readonly and "factory" not in meta:
            with self.db:
                store.set_meta(self.db, factory=factory or DEFAULT_FACTORY)
        if user_dict:
            self._install_user_dict(Path(user_dict))
        if (self.dir / USER_DICT_NAME).exists():
            load_user_dict(self.dir / USER_DICT_NAME)

    @property
    def read_db(self):
        """This thread's read-only connection: it sees committed states only, never a write in progress."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = store.connect(self._db_path, readonly=True)
        return conn

    @property
    def location(self) -> str:
        """The index directory, for messages."""
        return str(self.dir)

    # ----------------------------------------------------------------- model and vectors
    @property
    def encoder(self):
        """The embedding model, loaded on first use (the one the index was built with)."""
        if self._encoder is None:
            with self._mutex:  # two first requests at once must not load the model twice
                if self._encoder is None:
                    from embeddings import load_encoder

                    meta = store.get_meta(self.read_db)
                    spec = self._model_spec or meta.get("model_spec") or None
                    try:
                        encoder = load_encoder(spec)
                    except ValueError as exc:  # unknown model, bad NEWSQA_THREADS or NEWSQA_PRECISION
                        raise InputError(str(exc)) from None
                    self._check_model(encoder, meta)
                    self._encoder = encoder
        return self._encoder

    def query_vector(self, query: str) -> np.ndarray:
        """The model's vector for a (normalised) query; the last few are kept, as a question is
        embedded by the retriever and again by the answerer."""
        with self._mutex:
            vector = self._query_vectors.get(query)
        if vector is None:
            with self._query_gate:
                self._queries_waiting += 1
            try:
                vector = self.encoder.encode_queries([query])[0]
            finally:
                with self._query_gate:
                    self._queries_waiting -= 1
                    self._query_gate.notify_all()
            with self._mutex:
                self._query_vectors[query] = vector
                while len(self._query_vectors) > 256:
                    self._query_vectors.pop(next(iter(self._query_vectors)))
        return vector

    def _check_model(self, encoder, meta: dict) -> None:
        if meta.get("model") and meta["model"] != encoder.name:
            raise IndexMismatchError(
                f"index {self.dir} was built with model {meta['model']!r} (dim {meta.get('dim')}); "
                f"it cannot be searched or extended with {encoder.name!r}: use the same --model or a new --index-dir"
            )

    @property
    def model_name(self) -> str | None:
        """The embedding model recorded in the index (None before the first issue)."""
        return store.get_meta(self.read_db).get("model")

    def vectors(self):
        """The FAISS vectors matching the committed SQLite state: the snapshot named in meta plus
        the committed length of its log (reloaded when either changed)."""
        from embeddings import VectorIndex
        from embeddings.vectors import VectorLog

        with self._mutex:
            meta = store.get_meta(self.read_db)
            state = (meta.get("vector_file"), int(meta.get("vector_log") or 0))
            if state != self._vector_file or self._vectors is None:
                name, log_len = state
                if name and (self.dir / name).exists():
                    vectors = VectorIndex.load(self.dir / name, factory=meta.get("factory"))
                    VectorLog.replay(vectors, self.dir / _log_name(name), log_len)
                else:
                    dim = int(meta.get("dim") or self.encoder.dim)
                    vectors = VectorIndex.create(dim, meta.get("factory", DEFAULT_FACTORY))
                self._vectors, self._vector_file = vectors, state
            return self._vectors

    # ----------------------------------------------------------------- locking
    @contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the index's write lock (re-entrant); one writer process at a time."""
        if self.readonly:
            raise NewsQAError("this index was opened read-only")
        with self._write_mutex:
            if self._lock_depth == 0:
                fd = os.open(self.dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
                deadline = time.monotonic() + self.lock_timeout
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                            os.close(fd)
                            raise IndexLockedError(f"another process is writing to {self.dir}; try again later") from exc
                        time.sleep(0.1)
                self._lock_fd = fd
                self._drop_temp_files()
                self._repair_if_needed()
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0 and self._lock_fd is not None:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                    os.close(self._lock_fd)
                    self._lock_fd = None

    # ----------------------------------------------------------------- writes
    def add(self, source: str | Path | bytes | Issue, paper: str | None = None, date: str | None = None,
            progress: ProgressFn | None = None, batch_size: int = 32, paper_name: str | None = None) -> AddResult:
        """Index one issue: parse it, embed its paragraphs, store it atomically.

        Args:
            source: a file path, the file's bytes, or an already parsed ``Issue``.
            paper: the paper's name (overrides what the parser found).
            date: the issue date, YYYY-MM-DD (overrides the file name and datelines).
            progress: called with the number of windows embedded after each batch.
            batch_size: paragraphs per model call.
            paper_name: the paper's display name (浙江日报); None for the built-in table's or the id.

        Returns:
            What was done: added, replaced (a corrected file for the same paper and date) or
            unchanged (the same content is already stored; no work done).
        """
        issue = issue_to_add(source, paper, date, paper_name)
        return self.add_many([issue], progress=progress, batch_size=batch_size)[0]

    def add_many(self, issues: list[Issue], progress: ProgressFn | None = None, batch_size: int = 32,
                 batch_paragraphs: int = 2000) -> list[AddResult]:
        """Index parsed issues, several per write: one model pass, one vector file and one commit per batch.

        A batch holds whole issues (about ``batch_paragraphs`` paragraphs); a crash leaves each
        batch committed or not at all, so every issue is there whole or absent. Batching keeps
        the model's calls large and saves the vector file once per batch instead of per issue.

        Args:
            issues: parsed issues (paper and date already set).
            progress: called with the number of windows embedded after each model call.
            batch_size: paragraphs per forward pass.
            batch_paragraphs: paragraphs per write.

        Returns:
            One ``AddResult`` per issue, in order.
        """
        results: list[AddResult | None] = [None] * len(issues)
        with self.writer():
            batch: list[tuple[int, Issue, str, dict | None]] = []

            def flush() -> None:
                for (n, *_rest), result in zip(batch, self._write_batch([b[1:] for b in batch], progress, batch_size)):
                    results[n] = result
                batch.clear()

            for n, issue in enumerate(issues):
                key = issue_key(issue)
                if any(k == key for _, _, k, _ in batch):  # the same paper and date twice: write the first first
                    flush()
                old = store.issue_row(self.db, key)
                # The same file parsed into other paragraphs (a newer parser: 副题 indexed) is replaced.
                if old and old["sha256"] == issue.sha256 and issue.paper_name in (None, old["paper_name"]) \
                        and old["paragraphs"] == len(issue.paragraphs):
                    results[n] = AddResult(key, "unchanged", old["paragraphs"], old["articles"], 0, issue.source)
                    continue
                batch.append((n, issue, key, old))
                if sum(len(b[1].paragraphs) for b in batch) >= batch_paragraphs:
                    flush()
            if batch:
                flush()
        return results  # type: ignore[return-value]

    def _write_batch(self, batch: list[tuple[Issue, str, dict | None]], progress: ProgressFn | None,
                     batch_size: int) -> list[AddResult]:
        """Embed and commit a batch of issues in one transaction (the writer lock is held)."""
        encoder = self.encoder
        rows = [issue_records(issue, key) for issue, key, _old in batch]
        windows_per = [model_windows(r["paragraphs"], encoder) for r in rows]
        windows = [w for ws in windows_per for w in ws]
        texts = {par["paragraph_id"]: par["text"] for r in rows for par in r["paragraphs"]}
        vectors, embedded = self._embed(windows, texts, encoder, progress, batch_size)
        index = self.vectors().copy()  # readers keep searching the committed one meanwhile
        try:
            removed, ops = [], []
            for _issue, key, old in batch:
                if old:
                    removed += store.delete_issue(self.db, key)
            if removed:
                ops.append(("R", np.asarray(removed, dtype=np.int64), None))
                index.remove(ops[-1][1])
            if windows:
                ops.append(("A", np.asarray([w[0] for w in windows], dtype=np.int64), vectors))
                index.add(ops[-1][1], vectors)
            name, log_len = self._persist(index, ops)
            # The deletes above opened this same transaction: one commit swaps the issues.
            with self.db:
                for r, ws in zip(rows, windows_per):
                    store.insert_issue(self.db, r["issue"])
                    for art in r["articles"]:
                        store.insert_article(self.db, art)
                    tokens = [index_tokens(par["text"]) for par in r["paragraphs"]]
                    for par, tok in zip(r["paragraphs"], tokens):
                        store.insert_paragraph(self.db, par, tok)
                    store.count_terms(self.db, tokens)
                    store.insert_vectors(self.db, ws)
                store.set_meta(self.db, vector_file=name, vector_log=log_len, model=encoder.name, dim=encoder.dim,
                               model_spec=self._model_spec or store.get_meta(self.db).get("model_spec", ""))
        except BaseException:
            self.db.rollback()
            raise
        self._publish(index, name, log_len)
        out, first = [], 0
        for (issue, key, old), ws in zip(batch, windows_per):
            count = sum(1 for i in embedded if first <= i < first + len(ws))
            first += len(ws)
            out.append(AddResult(key, "replaced" if old else "added", len(issue.paragraphs), len(issue.articles),
                                 count, issue.source))
        return out

    def remove(self, issue_id: str) -> bool:
        """Remove one issue and its vectors.

        Args:
            issue_id: as listed by ``issues()``.

        Returns:
            False when no such issue is stored.
        """
        with self.writer():
            if not store.issue_row(self.db, issue_id):
                return False
            index = self.vectors().copy()
            try:
                removed = np.asarray(store.delete_issue(self.db, issue_id), dtype=np.int64)
                index.remove(removed)
                name, log_len = self._persist(index, [("R", removed, None)])
                with self.db:
                    store.set_meta(self.db, vector_file=name, vector_log=log_len)
            except BaseException:
                self.db.rollback()
                raise
            self._publish(index, name, log_len)
        return True

    def _publish(self, index, name: str, log_len: int = 0) -> None:
        """After a commit: serve the new vectors in this process and drop stale files."""
        with self._mutex:
            self._vectors, self._vector_file = index, (name, log_len)
        self._drop_stale_vector_files()

    def _persist(self, index, ops: list) -> tuple[str, int]:
        """Make a write's vector changes durable before its commit.

        The changes are appended to the current snapshot's log; a new snapshot is written instead
        when there is none yet, when the index changed kind (a trainable factory was trained) or
        when the log would outgrow ``LOG_COMPACT_FRACTION`` of the snapshot (and 4 MB).

        Returns:
            The snapshot's name and the log length to commit with it.
        """
        from embeddings.vectors import VectorLog

        meta = store.get_meta(self.db)
        name, committed = meta.get("vector_file"), int(meta.get("vector_log") or 0)
        data = VectorLog.encode(ops, index.dim)
        snapshot = self.dir / name if name else None
        # self.vectors() is the committed state, as read_db sees it: what the snapshot and log replay to
        if snapshot is None or not snapshot.exists() or index.factory != self.vectors().factory or \
                committed + len(data) > max(LOG_COMPACT_MIN_BYTES, LOG_COMPACT_FRACTION * snapshot.stat().st_size):
            return self._save_vectors(index), 0
        if not data:
            return name, committed
        return name, VectorLog.append(self.dir / _log_name(name), data, committed, mode=self._file_mode())

    def compact(self) -> dict:
        """Fold the vector log into a new snapshot (``newsqa compact``); a write does this by itself
        when the log grows.

        Returns:
            ``{"vector_file", "folded_log_bytes", "snapshot_bytes"}``.
        """
        with self.writer():
            meta = store.get_meta(self.db)
            folded = int(meta.get("vector_log") or 0)
            index = self.vectors()
            name = self._save_vectors(index)
            with self.db:
                store.set_meta(self.db, vector_file=name, vector_log=0)
            self._publish(index, name, 0)
        return {"vector_file": name, "folded_log_bytes": folded, "snapshot_bytes": (self.dir / name).stat().st_size}

    def _embed(self, windows, texts: dict[int, str], encoder, progress: ProgressFn | None,
               batch_size: int) -> tuple[np.ndarray, list[int]]:
        """Vectors for the windows, reusing stored vectors of identical window text.

        Returns:
            The vectors, and the positions of the windows that were embedded (not reused).
        """
        index = self.vectors()
        out = np.zeros((len(windows), encoder.dim), dtype=np.float32)
        todo = []
        for i, (_vid, _pid, _s, _e, digest) in enumerate(windows):
            row = self.db.execute("SELECT vector_id FROM vectors WHERE text_hash = ? LIMIT 1", (digest,)).fetchone()
            vec = index.reconstruct(row[0]) if row else None
            if vec is None:
                todo.append(i)
            else:
                out[i] = vec
        # Chunks (``write_chunk`` windows; several batches by default, for throughput), each started
        # only when no question is waiting for the model (the encoder runs one call at a time): a
        # search is delayed by at most one chunk of a write, however many writes are queued. The
        # caller still sees progress on a large issue.
        chunk = self.write_chunk or batch_size * 16
        for b in range(0, len(todo), chunk):
            idx = todo[b:b + chunk]
            with self._query_gate:
                self._query_gate.wait_for(lambda: self._queries_waiting == 0, timeout=QUERY_PRIORITY_S)
            batch = [texts[windows[i][1]][windows[i][2]:windows[i][3]] for i in idx]
            out[idx] = encoder.encode_passages(batch, batch_size=batch_size)
            if progress:
                progress(len(idx))
        return out, todo

    def _save_vectors(self, index) -> str:
        gen = 1 + max([int(m.group(1)) for f in os.listdir(self.dir) if (m := _VECTOR_FILE.match(f))] or [0])
        name = f"vectors-{gen:06d}.faiss"
        index.save(self.dir / name, mode=self._file_mode())
        return name

    def _file_mode(self) -> int:
        """The permission bits of every file the index writes: those SQLite gave the database
        (0644 under the usual umask), so vector files are readable by exactly the same users."""
        return os.stat(self._db_path).st_mode & 0o777

    def _drop_temp_files(self) -> None:
        """Under the write lock: delete vector files a killed write left half-written (as large as
        the index; no other writer can be writing one now)."""
        from embeddings import VectorIndex

        for path in VectorIndex.temp_files(self.dir, prefix="vectors-"):
            try:
                path.unlink()
            except FileNotFoundError:
                pass

    def _drop_stale_vector_files(self) -> None:
        """Delete vector files older than the current and the previous one (a reader may hold that)."""
        current = store.get_meta(self.db).get("vector_file")
        files = sorted(f for f in os.listdir(self.dir) if _VECTOR_FILE.match(f))
        keep = {current}
        older = [f for f in files if current and f < current]
        if older:
            keep.add(older[-1])
        for f in files:
            if f not in keep:
                for path in (self.dir / f, self.dir / _log_name(f)):
                    try:
                        os.unlink(path)
                    except FileNotFoundError:
                        pass

    # ----------------------------------------------------------------- consistency
    def verify(self) -> dict:
        """Compare the vector file with the store.

        Returns:
            ``{"missing": [...], "orphans": [...]}``: vector ids the store expects but FAISS lacks,
            and ids FAISS holds that no stored paragraph owns.
        """
        expected = store.vector_ids(self.db)
        meta = store.get_meta(self.db)
        name = meta.get("vector_file")
        if not expected and not name:
            return {"missing": [], "orphans": []}
        held = set(self.vectors().ids().tolist()) if name and (self.dir / name).exists() else set()
        return {"missing": sorted(expected - held), "orphans": sorted(held - expected)}

    def _repair_if_needed(self) -> None:
        """Under the write lock: re-embed vectors the store expects but the file lacks, drop orphans."""
        report = self.verify()
        if not report["missing"] and not report["orphans"]:
            return
        index = self.vectors().copy()
        if report["orphans"]:
            index.remove(np.asarray(report["orphans"], dtype=np.int64))
        if report["missing"]:
            rows = store.window_texts(self.db, report["missing"])
            vecs = self.encoder.encode_passages([text for _, text in rows])
            index.add(np.asarray([vid for vid, _ in rows], dtype=np.int64), vecs)
        name = self._save_vectors(index)
        with self.db:
            store.set_meta(self.db, vector_file=name, vector_log=0)
        self._publish(index, name, 0)

    # ----------------------------------------------------------------- reads
    def dense_search(self, query_vector: np.ndarray, k: int, date_from: str | None = None,
                     date_to: str | None = None, paper: str | None = None) -> list[tuple[int, float]]:
        """Nearest paragraphs to a query vector, filters applied inside the FAISS search.

        Args:
            query_vector: one normalised query embedding, shape (dim,).
            k: how many paragraphs to return.
            date_from, date_to, paper: optional filters.

        Returns:
            (paragraph_id, cosine) pairs, best first; a paragraph's score is its best window's.
        """
        allowed = store.allowed_vector_ids(self.read_db, date_from, date_to, paper)
        if allowed is not None and not allowed:
            return []
        index = self.vectors()
        if index.ntotal == 0:
            return []
        # Over-fetch: several windows may belong to one paragraph.
        scores, ids = index.search(query_vector.reshape(1, -1).astype(np.float32), k * 2 + 4,
                                   allowed_ids=None if allowed is None else np.asarray(allowed, dtype=np.int64))
        hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        owner = store.vector_paragraphs(self.read_db, [i for i, _ in hits])
        best: dict[int, float] = {}
        for vid, score in hits:
            pid = owner.get(vid)
            if pid is not None and score > best.get(pid, -1e9):
                best[pid] = score
        return sorted(best.items(), key=lambda kv: -kv[1])[:k]

    def keyword_search(self, query: str, k: int, date_from: str | None = None, date_to: str | None = None,
                       paper: str | None = None) -> list[tuple[int, float]]:
        """BM25 search over jieba tokens (see ``store.keyword_search``); [] for a query with no tokens."""
        from qa.tokens import query_tokens

        return store.keyword_search(self.read_db, query_tokens(query), k, date_from, date_to, paper)

    def passages(self, paragraph_ids: list[int]) -> dict[int, dict]:
        """Citation metadata (text, paper, date, title, paragraph ordinal, offsets) by paragraph id."""
        return store.passages(self.read_db, paragraph_ids)

    def article_texts(self, paragraph_ids: list[int]) -> dict[int, str]:
        """The full article each paragraph belongs to (with paper and headlines), by paragraph id."""
        return store.article_texts(self.read_db, paragraph_ids)

    def issue_text(self, issue_id: str) -> str:
        """The whole text of one issue (headlines, then paragraphs)."""
        return store.issue_text(self.read_db, issue_id)

    def hybrid_search(self, query: str, k: int, rrf_k: int, weights: tuple[float, float] = (1.0, 1.0),
                      date_from: str | None = None, date_to: str | None = None,
                      paper: str | None = None) -> list[tuple[int, float]]:
        """Dense and keyword lists of ``k`` paragraphs each, fused by reciprocal rank.

        Args:
            query: the question or keywords (normalised here for the model).
            k: candidates taken from each list.
            rrf_k: the fusion constant.
            weights: (dense, keyword) weights of the fusion.
            date_from, date_to, paper: optional filters, applied inside both searches.

        Returns:
            At most ``k`` (paragraph_id, fused score) pairs, best first.
        """
        from qa.fusion import ranked, reciprocal_rank_fusion, search_pool
        from qa.tokens import normalize

        filters = dict(date_from=date_from, date_to=date_to, paper=paper)
        # The lists are read in several transactions (and the keyword list on another thread): a
        # write committed meanwhile would show part of an issue, found by one list and not yet by
        # the other. Read them again then, so that a search sees each issue whole or not at all.
        qvec = None
        for _attempt in range(5):
            generation = self._data_version()
            # The keyword list needs no query vector: it runs beside the model and FAISS (SQLite,
            # torch and FAISS release the GIL), so a search costs about the slower of the two.
            keyword = search_pool().submit(self.keyword_search, query, k, **filters)
            if qvec is None:
                qvec = self.query_vector(normalize(query))
            rankings = [[pid for pid, _ in self.dense_search(qvec, k, **filters)],
                        [pid for pid, _ in keyword.result()]]
            if self._data_version() == generation:
                break
        return ranked(reciprocal_rank_fusion(rankings, list(weights), rrf_k))[:k]

    def _data_version(self) -> int:
        """A number that changes whenever a write to the index commits (SQLite's data_version)."""
        return self.read_db.execute("PRAGMA data_version").fetchone()[0]

    def issues(self) -> list[dict]:
        """Every stored issue with its counts, newest first."""
        return store.list_issues(self.read_db)

    def article_titles(self, issue_id: str, limit: int = 1) -> list[str]:
        """The first non-empty headlines of an issue, in page order."""
        return [t for (t,) in self.read_db.execute(
            "SELECT title FROM articles WHERE issue_id = ? AND coalesce(title, '') != '' ORDER BY ordinal LIMIT ?",
            (issue_id, limit))]

    def export_issues(self):
        """Every issue as stored, with its vectors, for ``newsqa migrate`` (no re-embedding).

        Yields:
            ``{"issue", "articles", "paragraphs"}`` as ``issue_records`` makes them, plus
            ``"windows"``: (vector_id, paragraph_id, start, end, text_hash) rows and ``"vectors"``:
            their float32 vectors (a row is None where the FAISS layout cannot give it back).
        """
        import json

        conn = self.read_db
        index = self.vectors()
        for (issue_id,) in conn.execute("SELECT issue_id FROM issues ORDER BY issue_id").fetchall():
            cur = conn.execute("SELECT * FROM issues WHERE issue_id = ?", (issue_id,))
            issue = dict(zip([d[0] for d in cur.description], cur.fetchone()))
            cur = conn.execute("SELECT * FROM articles WHERE issue_id = ? ORDER BY ordinal", (issue_id,))
            names = [d[0] for d in cur.description]
            articles = [dict(zip(names, r)) for r in cur.fetchall()]
            for art in articles:
                art["sections"], art["captions"] = json.loads(art["sections"]), json.loads(art["captions"])
            cur = conn.execute("SELECT * FROM paragraphs WHERE issue_id = ? ORDER BY position", (issue_id,))
            names = [d[0] for d in cur.description]
            paragraphs = [dict(zip(names, r)) for r in cur.fetchall()]
            for par in paragraphs:
                par["spans"] = json.loads(par["spans"])
            windows = conn.execute(
                'SELECT v.vector_id, v.paragraph_id, v.start, v."end", v.text_hash FROM vectors v'
                " JOIN paragraphs p USING (paragraph_id) WHERE p.issue_id = ? ORDER BY p.position, v.start",
                (issue_id,)).fetchall()
            yield {"issue": issue, "articles": articles, "paragraphs": paragraphs, "windows": windows,
                   "vectors": [index.reconstruct(w[0]) for w in windows]}

    def stats(self) -> dict:
        """Counts and settings of the index, and its size on disk."""
        meta = store.get_meta(self.read_db)
        count = lambda sql: self.read_db.execute(sql).fetchone()[0]  # noqa: E731
        size = 0
        for f in self.dir.iterdir():
            try:
                size += f.stat().st_size if f.is_file() else 0
            except FileNotFoundError:  # a stale vector file dropped by a concurrent write
                pass
        n_par = count("SELECT count(*) FROM paragraphs")
        return {
            "index_dir": str(self.dir), "issues": count("SELECT count(*) FROM issues"),
            "articles": count("SELECT count(*) FROM articles"), "paragraphs": n_par,
            "vectors": count("SELECT count(*) FROM vectors"), "model": meta.get("model"),
            "dim": int(meta["dim"]) if meta.get("dim") else None, "factory": meta.get("factory"),
            "vector_file": meta.get("vector_file"), "vector_log_bytes": int(meta.get("vector_log") or 0),
            "bytes_on_disk": size,
            "bytes_per_paragraph": round(size / n_par, 1) if n_par else None,
        }

    def close(self) -> None:
        """Close this thread's connections (other threads' readers close with their thread)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        self.db.close()

    def __enter__(self) -> NewsIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _install_user_dict(self, path: Path) -> None:
        if not path.is_file():
            raise InputError(f"user dictionary not found: {path}")
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"user dictionary {path} is not UTF-8") from exc
        target = self.dir / USER_DICT_NAME
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)


EmbeddedStore = NewsIndex  # the role's name (qa.stores.NewsStore); NewsIndex stays for existing callers


def _log_name(snapshot: str) -> str:
    """The vector log beside a snapshot: ``vectors-000007.faiss`` -> ``vectors-000007.log``."""
    return snapshot[: -len(".faiss")] + ".log"


def issue_to_add(source: str | Path | bytes | Issue, paper: str | None = None, date: str | None = None,
                 paper_name: str | None = None) -> Issue:
    """The issue an ``add`` stores, in every store: parsed unless already an ``Issue``, with the
    paper, date (checked) and paper name the caller gave in place of those the file implies.

    Returns:
        The issue.
    """
    from qa.parse import parse_issue

    date = check_date(date)
    issue = source if isinstance(source, Issue) else parse_issue(source, paper=paper, date=date)
    if paper:
        issue.paper = paper
    if date:
        issue.date = date
    if paper_name and paper_name.strip():
        issue.paper_name = paper_name.strip()
    return issue


def model_windows(paragraphs: list[dict], encoder) -> list[tuple[int, int, int, int, str]]:
    """(vector_id, paragraph_id, start, end, text_hash) for each model window of each paragraph.

    Paragraphs longer than the model's input are split into overlapping windows; every window's
    vector cites back to its paragraph.
    """
    from embeddings import split_windows

    max_chars = max(32, int(encoder.max_tokens) - 16)
    out = []
    for par in paragraphs:
        text = par["text"]
        for n, (s, e) in enumerate(split_windows(text, max_chars, max_chars // 5)):
            digest = hashlib.sha1(f"{encoder.name}\n{text[s:e]}".encode()).hexdigest()
            out.append((stable_id(par["paragraph_id"], n), par["paragraph_id"], s, e, digest))
    return out


def check_date(date: str | None) -> str | None:
    """Validate an ISO date (YYYY-MM-DD); raise InputError with the bad value otherwise."""
    if date is None:
        return None
    try:
        return _dt.date.fromisoformat(date).isoformat() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) else _bad_date(date)
    except ValueError:
        return _bad_date(date)


def _bad_date(date: str):
    raise InputError(f"not a date (want YYYY-MM-DD): {date!r}")


def issue_records(issue: Issue, key: str) -> dict:
    """The records of one parsed issue, with stable ids: ``{"issue", "articles", "paragraphs"}``
    (the SQLite rows here; ``qa.milvus_store`` writes the same records)."""
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    articles, paragraphs = [], []
    position = 0
    for a_ord, art in enumerate(issue.articles, 1):
        article_id = stable_id(key, issue.sha256, "a", a_ord)
        articles.append({
            "article_id": article_id, "issue_id": key, "ordinal": a_ord, "title": art.title,
            "kicker": art.kicker, "subtitle": art.subtitle, "byline": art.byline, "dateline": art.dateline,
            "page": art.page, "sections": list(art.sections), "captions": list(art.captions),
        })
        # Photo captions and the 副题 are news too: indexed after the body as paragraphs of their
        # article, filed under the sections "图片说明" and "副题" (qa.parse), so no column is needed.
        for p_ord, par in enumerate(art.indexed, 1):
            position += 1
            paragraphs.append({
                "paragraph_id": stable_id(key, issue.sha256, "p", position), "issue_id": key,
                "article_id": article_id, "ordinal": p_ord, "position": position, "text": par.text,
                "start": par.start, "end": par.end, "spans": [list(s) for s in par.spans] or [[par.start, par.end]],
                "section": par.section, "truncated": int(bool(par.truncated)),
            })
    issue_row = {
        "issue_id": key, "paper": issue.paper, "date": issue.date, "date_inferred": int(bool(issue.date_inferred)),
        "page": issue.page, "source": issue.source, "sha256": issue.sha256, "added_at": now,
        "articles": len(articles), "paragraphs": len(paragraphs), "text": issue.text,
        "paper_name": issue.paper_name,
    }
    return {"issue": issue_row, "articles": articles, "paragraphs": paragraphs}
