"""``VectorIndex``: int64-keyed inner-product vectors in FAISS, with filtered search and durable saves."""

from __future__ import annotations

import logging
import os
import re
import struct
import tempfile
import zlib
import warnings
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

DEFAULT_FACTORY = "Flat"
_TMP_PREFIX = ".tmp-"


def _as_ids(ids) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))


def _as_vectors(vectors, dim: int) -> np.ndarray:
    x = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"expected vectors of shape (n, {dim}), got {np.shape(vectors)}")
    return x


def min_train_size(factory: str, dim: int) -> int:
    """How many vectors a factory string needs before it is trained (0 when it needs no training).

    IVF needs 39 vectors per list and PQ 39 per centroid (FAISS's own advice; fewer gives poor
    clusters and warnings); other trainable encodings (e.g. SQ8) get 256.

    Args:
        factory: a FAISS index factory string, e.g. "IVF1024,PQ32".
        dim: vector dimension.

    Returns:
        The minimum number of training vectors.
    """
    index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    if index.is_trained:
        return 0
    need = 0
    try:
        need = 39 * faiss.extract_index_ivf(index).nlist
    except RuntimeError:
        pass
    pq = re.search(r"PQ\d+(?:x(\d+))?", factory)
    if pq:
        need = max(need, 39 * 2 ** int(pq.group(1) or 8))
    return need or 256


_LOG_HEADER = struct.Struct("<4scII")  # magic, op (b"A" add / b"R" remove), count, dim
_LOG_MAGIC = b"NQVL"


class VectorLog:
    """An append-only file of the adds and removes made to a snapshot since it was saved.

    A write appends its records (fsynced) and its caller commits the new length elsewhere; a
    reader replays exactly the committed length, so bytes a killed write left past it are never
    read, and the next append overwrites them. A write then costs what it changes instead of a
    copy of the whole index.
    """

    @staticmethod
    def encode(ops: list[tuple[str, np.ndarray, np.ndarray | None]], dim: int) -> bytes:
        """Records for ``("A", ids, vectors)`` and ``("R", ids, None)`` operations."""
        out = bytearray()
        for op, ids, vectors in ops:
            ids = _as_ids(ids)
            if not len(ids):
                continue
            body = _LOG_HEADER.pack(_LOG_MAGIC, op.encode(), len(ids), dim) + ids.tobytes()
            if op == "A":
                body += _as_vectors(vectors, dim).tobytes()
            out += body + struct.pack("<I", zlib.crc32(body))
        return bytes(out)

    @staticmethod
    def append(path: str | Path, data: bytes, committed: int, mode: int | None = None) -> int:
        """Write records after the committed length (dropping anything past it) and fsync.

        Returns:
            The new length, to be committed by the caller.
        """
        path = Path(path)
        new = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600 if mode is None else mode)
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            os.ftruncate(fd, committed)
            os.lseek(fd, committed, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:  # the file's name must be durable too
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return committed + len(data)

    @staticmethod
    def replay(index: VectorIndex, path: str | Path, length: int) -> None:
        """Apply the first ``length`` bytes of a log to an index loaded from its snapshot.

        Raises:
            ValueError: the log is shorter than committed or a record is damaged.
        """
        if length <= 0:
            return
        with open(path, "rb") as f:
            data = f.read(length)
        if len(data) < length:
            raise ValueError(f"{path} holds {len(data)} bytes, {length} were committed")
        pos = 0
        while pos < length:
            magic, op, n, dim = _LOG_HEADER.unpack_from(data, pos)
            size = _LOG_HEADER.size + 8 * n + (4 * n * dim if op == b"A" else 0)
            body = data[pos:pos + size]
            (crc,) = struct.unpack_from("<I", data, pos + size)
            if magic != _LOG_MAGIC or dim != index.dim or zlib.crc32(body) != crc:
                raise ValueError(f"damaged record at byte {pos} of {path}")
            ids = np.frombuffer(body, dtype=np.int64, count=n, offset=_LOG_HEADER.size)
            if op == b"A":
                vectors = np.frombuffer(body, dtype=np.float32, count=n * dim,
                                        offset=_LOG_HEADER.size + 8 * n).reshape(n, dim)
                index.add(ids, vectors)
            else:
                index.remove(ids)
            pos += size + 4


class VectorIndex:
    """A FAISS ``IndexIDMap2`` over an inner-product index: cosine search for L2-normalised vectors.

    Ids are arbitrary int64 keys chosen by the caller (several may belong to one paragraph).
    A trainable factory ("IVF1024,PQ32") stays a flat index until enough vectors have been
    added to train it, then is trained on everything stored and takes over.

    Args:
        index: the ``faiss.IndexIDMap2`` to wrap.
        factory: the factory string asked for (it may differ from the one in use, see above).
    """

    def __init__(self, index: faiss.IndexIDMap2, factory: str | None = None):
        if not isinstance(index, faiss.IndexIDMap2):
            raise TypeError(f"expected a faiss.IndexIDMap2, got {type(index).__name__}")
        self.index = index
        self.dim = index.d
        self.requested_factory = factory or self._describe(index)
        self.nprobe = 16
        self.ef_search = 256  # HNSW32: recall@10 0.968 of exact at 100k, 1.4 ms (bench/faiss_bench.py)

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, dim: int, factory: str = DEFAULT_FACTORY) -> VectorIndex:
        """An empty index.

        Args:
            dim: vector dimension.
            factory: FAISS factory string for the inner index ("Flat", "HNSW32", "IVF1024,PQ32", ...).

        Returns:
            The index; a trainable factory starts as "Flat" until it can be trained.

        Raises:
            ValueError: FAISS does not understand the factory string.
        """
        try:
            inner = faiss.index_factory(int(dim), factory, faiss.METRIC_INNER_PRODUCT)
        except RuntimeError as exc:
            raise ValueError(f"bad FAISS factory string {factory!r}: {exc}") from exc
        if not inner.is_trained:
            inner = faiss.IndexFlatIP(int(dim))
        return cls(faiss.IndexIDMap2(inner), factory)

    @classmethod
    def load(cls, path: str | Path, factory: str | None = None) -> VectorIndex:
        """Read an index written by ``save``.

        Args:
            path: the file.
            factory: the factory string it was created with, so that a flat stand-in for a
                trainable factory is still trained once enough vectors arrive; None keeps what is there.

        Returns:
            The index.

        Raises:
            ValueError: the file does not hold an id-mapped FAISS index.
        """
        index = faiss.read_index(str(path))
        if not isinstance(index, faiss.IndexIDMap2):
            raise ValueError(f"{path} does not hold an IndexIDMap2 (found {type(index).__name__})")
        return cls(index, factory)

    def copy(self) -> VectorIndex:
        """An independent deep copy (to modify while readers keep searching this one)."""
        twin = VectorIndex(faiss.clone_index(self.index), self.requested_factory)
        twin.nprobe, twin.ef_search = self.nprobe, self.ef_search
        return twin

    # ------------------------------------------------------------------ properties
    @property
    def ntotal(self) -> int:
        """Number of stored vectors."""
        return int(self.index.ntotal)

    @property
    def factory(self) -> str:
        """Factory string of the inner index in use ("Flat" while a trainable one waits for data)."""
        return self._describe(self.index)

    @staticmethod
    def _describe(index) -> str:
        """A factory string equivalent to the inner index (best effort)."""
        inner = faiss.downcast_index(index.index)

        def codec(ix) -> str:
            if isinstance(ix, (faiss.IndexFlat, faiss.IndexIVFFlat)):
                return "Flat"
            pq = getattr(ix, "pq", None)
            if pq is not None:
                return f"PQ{pq.M}" + (f"x{pq.nbits}" if pq.nbits != 8 else "")
            sq = getattr(ix, "sq", None)
            if sq is not None:
                names = {faiss.ScalarQuantizer.QT_8bit: "SQ8", faiss.ScalarQuantizer.QT_4bit: "SQ4",
                         faiss.ScalarQuantizer.QT_fp16: "SQfp16"}
                return names.get(sq.qtype, type(ix).__name__)
            return type(ix).__name__

        if isinstance(inner, faiss.IndexHNSW):
            storage = faiss.downcast_index(inner.storage)
            return f"HNSW{inner.hnsw.nb_neighbors(1)}" + ("" if isinstance(storage, faiss.IndexFlat) else "," + codec(storage))
        if isinstance(inner, faiss.IndexIVF):
            return f"IVF{inner.nlist},{codec(inner)}"
        return codec(inner)

    def ids(self) -> np.ndarray:
        """All stored ids (int64, in insertion order)."""
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def __len__(self) -> int:
        return self.ntotal

    def __contains__(self, key: int) -> bool:
        return self.reconstruct(key) is not None

    # ------------------------------------------------------------------ writes
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Store vectors under ids.

        Args:
            ids: int64 keys, one per vector, not already stored.
            vectors: float32 array (n, dim), L2-normalised for cosine scores.

        Raises:
            ValueError: shape mismatch, duplicate ids in the call, or ids already stored.
        """
        ids = _as_ids(ids)
        x = _as_vectors(vectors, self.dim)
        if len(ids) != len(x):
            raise ValueError(f"{len(ids)} ids for {len(x)} vectors")
        if len(ids) == 0:
            return
        if len(np.unique(ids)) != len(ids):
            raise ValueError("duplicate ids in one add()")
        clash = np.intersect1d(ids, self.ids())
        if len(clash):
            raise ValueError(f"ids already stored: {clash[:5].tolist()}{' ...' if len(clash) > 5 else ''}")
        self.index.add_with_ids(x, ids)
        self._train_if_ready()

    def remove(self, ids: np.ndarray) -> int:
        """Delete vectors by id (unknown ids are ignored).

        Args:
            ids: int64 keys.

        Returns:
            How many vectors were removed.
        """
        ids = _as_ids(ids)
        if len(ids) == 0 or self.ntotal == 0:
            return 0
        inner = faiss.downcast_index(self.index.index)
        if isinstance(inner, (faiss.IndexFlatCodes,)):
            return int(self.index.remove_ids(faiss.IDSelectorBatch(ids)))
        # HNSW cannot delete and IVF inside an IDMap would desynchronise its ids: rebuild.
        keep = self.ids()
        keep = keep[~np.isin(keep, ids)]
        removed = self.ntotal - len(keep)
        if removed:
            vectors = self.reconstruct_batch(keep)
            self.index = self._empty_like(self.index)
            if len(keep):
                self.index.add_with_ids(vectors, keep)
        return removed

    def _empty_like(self, index) -> faiss.IndexIDMap2:
        inner = faiss.clone_index(faiss.downcast_index(index.index))
        inner.reset()
        if isinstance(inner, faiss.IndexIVF):
            inner.make_direct_map(True)
        return faiss.IndexIDMap2(inner)

    def _train_if_ready(self) -> None:
        """Swap a flat stand-in for the requested trainable index once there is enough to train it."""
        if self.factory != "Flat" or self.requested_factory in ("Flat", "FlatIP", None):
            return
        need = min_train_size(self.requested_factory, self.dim)
        if need == 0:
            return
        if self.ntotal < need:
            if not getattr(self, "_warned", False):
                warnings.warn(
                    f"FAISS factory {self.requested_factory!r} needs {need} vectors to train; "
                    f"using an exact Flat index until then ({self.ntotal} so far)", stacklevel=3)
                self._warned = True
            return
        ids = self.ids()
        x = self.reconstruct_batch(ids)
        inner = faiss.index_factory(self.dim, self.requested_factory, faiss.METRIC_INNER_PRODUCT)
        inner.train(x)
        if isinstance(inner, faiss.IndexIVF):
            inner.make_direct_map(True)
        index = faiss.IndexIDMap2(inner)
        index.add_with_ids(x, ids)
        self.index = index
        log.info("trained FAISS %s on %d vectors", self.requested_factory, len(ids))

    # ------------------------------------------------------------------ reads
    def reconstruct(self, key: int) -> np.ndarray | None:
        """The stored vector of one id (approximate for compressed indexes), or None when absent."""
        try:
            return self.index.reconstruct(int(key))
        except RuntimeError:
            return None

    def reconstruct_batch(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors for ids (all must be present), shape (len(ids), dim)."""
        ids = _as_ids(ids)
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.index.reconstruct(int(i)) for i in ids]).astype(np.float32)

    def search(self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest stored vectors by inner product.

        Args:
            queries: float32 array (n, dim) (or one vector of shape (dim,)).
            k: results per query.
            allowed_ids: when given, only these ids may be returned (FAISS ID selector).

        Returns:
            (scores, ids), each of shape (n, k), best first; slots without a result hold id -1
            (and score -inf), which the caller filters.
        """
        q = _as_vectors(queries, self.dim)
        k = max(1, int(k))
        empty = (np.full((len(q), k), -np.inf, dtype=np.float32), np.full((len(q), k), -1, dtype=np.int64))
        if self.ntotal == 0:
            return empty
        params = None
        if allowed_ids is not None:
            allowed = _as_ids(allowed_ids)
            if len(allowed) == 0:
                return empty
            selector = faiss.IDSelectorBatch(allowed)
            params = self._search_params(selector, k)
        elif self.factory != "Flat":
            selector = None
            params = self._search_params(None, k)
        scores, ids = self.index.search(q, k, params=params)
        scores = np.where(ids < 0, -np.inf, scores).astype(np.float32)
        return scores, ids.astype(np.int64)

    def _search_params(self, selector, k: int):
        inner = faiss.downcast_index(self.index.index)
        if isinstance(inner, faiss.IndexHNSW):
            p = faiss.SearchParametersHNSW()
            p.efSearch = max(self.ef_search, 2 * k)
        elif isinstance(inner, faiss.IndexIVF):
            p = faiss.SearchParametersIVF()
            p.nprobe = min(inner.nlist, self.nprobe)
        else:
            p = faiss.SearchParameters()
        if selector is not None:
            p.sel = selector
            p._selector_ref = selector  # keep it alive as long as the parameters
        return p

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, mode: int | None = None) -> None:
        """Write the index atomically and durably.

        The bytes go to a temporary file in the same directory, which is fsynced and renamed over
        ``path``; the directory is then fsynced. A failure leaves any previous file untouched and
        no temporary file behind (a killed process leaves ``<name>.tmp-*``: see ``temp_files``).

        Args:
            path: destination file.
            mode: permission bits for the file (default: 0600, as ``mkstemp`` creates it).

        Raises:
            OSError or RuntimeError: the write failed (nothing was replaced).
        """
        path = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=path.name + _TMP_PREFIX, dir=path.parent)
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            os.close(fd)
            faiss.write_index(self.index, tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @staticmethod
    def temp_files(directory: str | Path, prefix: str = "") -> list[Path]:
        """Temporary files ``save`` left in a directory when its process was killed mid-write.

        Args:
            directory: where the index files are.
            prefix: only temporary files of destinations whose name starts with this.
        """
        return sorted(p for p in Path(directory).iterdir() if p.name.startswith(prefix) and _TMP_PREFIX in p.name)

    def __repr__(self) -> str:
        return f"VectorIndex(dim={self.dim}, ntotal={self.ntotal}, factory={self.factory!r}, requested={self.requested_factory!r})"
