"""Any local sentence-transformers model directory as an ``Encoder``, with e5/bge prefixes detected."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path

import numpy as np

from embeddings.encoder import BGE_EN_QUERY, BGE_ZH_QUERY, E5_PASSAGE, E5_QUERY, l2_normalize

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_E5 = re.compile(r"(^|[^a-z0-9])(multilingual-)?e5([^a-z0-9]|$)", re.I)
_BGE = re.compile(r"(^|[^a-z0-9])bge([^a-z0-9]|$)", re.I)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def model_identity(path: Path) -> str:
    """Names that say which model a directory holds: its own name, ``_name_or_path``, README title."""
    parts = [path.name, str(_read_json(path / "config.json").get("_name_or_path", ""))]
    readme = path / "README.md"
    if readme.is_file():
        parts.append(readme.read_text(encoding="utf-8", errors="replace")[:2000])
    return "\n".join(parts)


def detect_prefixes(path: str | Path) -> tuple[str, str]:
    """The query and passage prefixes a model directory expects.

    Order: the model's own non-empty ``prompts`` in ``config_sentence_transformers.json`` ("query"
    and "document"/"passage"); else by name: e5 → "query: "/"passage: "; bge-m3 → none; bge with
    "zh" → the Chinese retrieval instruction for queries only; other bge → the English one;
    anything else → no prefixes.

    Args:
        path: the model directory.

    Returns:
        (query_prefix, passage_prefix).
    """
    path = Path(path)
    prompts = _read_json(path / "config_sentence_transformers.json").get("prompts") or {}
    if prompts.get("query"):  # sentence-transformers >= 6 saves empty prompts by default: ignore those
        return prompts["query"], prompts.get("document", prompts.get("passage", "")) or ""
    ident = model_identity(path)
    head = "\n".join(ident.splitlines()[:2])  # directory name and _name_or_path decide first
    for text in (head, ident):
        if _E5.search(text):
            return E5_QUERY, E5_PASSAGE
        if _BGE.search(text):
            if re.search(r"bge-m3", text, re.I):
                return "", ""
            return (BGE_ZH_QUERY if re.search(r"(^|[^a-z])zh([^a-z]|$)|chinese", text, re.I) else BGE_EN_QUERY), ""
    return "", ""


def directory_fingerprint(path: Path) -> str:
    """8 hex digits of SHA-1 over the directory's small config files and its weight files' sizes."""
    h = hashlib.sha1()
    for f in sorted(path.rglob("*")):
        if not f.is_file():
            continue
        rel = f.relative_to(path).as_posix()
        if f.suffix in (".json", ".txt", ".model") and f.stat().st_size < 2_000_000:
            h.update(rel.encode() + b"\0" + f.read_bytes())
        elif f.suffix in (".safetensors", ".bin", ".onnx", ".pt"):
            h.update(f"{rel}\0{f.stat().st_size}".encode())
    return h.hexdigest()[:8]


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local directory, on CPU, offline.

    Args:
        path: the model directory (as saved by ``SentenceTransformer.save``).
        query_prefix, passage_prefix: override the detected prefixes (see ``detect_prefixes``).
        max_tokens: override the model's ``max_seq_length``.
    """

    def __init__(self, path: str | Path, query_prefix: str | None = None, passage_prefix: str | None = None,
                 max_tokens: int | None = None):
        from sentence_transformers import SentenceTransformer

        self.path = Path(path).expanduser().resolve()
        if not self.path.is_dir():
            raise FileNotFoundError(f"no model directory at {self.path}")
        self.model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        if max_tokens:
            self.model.max_seq_length = int(max_tokens)
        q, p = detect_prefixes(self.path)
        self.query_prefix = q if query_prefix is None else query_prefix
        self.passage_prefix = p if passage_prefix is None else passage_prefix
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.max_tokens = int(self.model.max_seq_length or 512)
        self.name = f"sentence-transformers/{self.path.name}@{directory_fingerprint(self.path)}"
        self.engine = "sentence-transformers"
        self._lock = threading.Lock()

    def encode_queries(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Embed queries with the query prefix.

        Args:
            texts: the queries.
            batch_size: texts per forward pass.
            show_progress: draw a progress bar on stderr.

        Returns:
            float32 array (len(texts), dim), rows L2-normalised.
        """
        return self._encode(texts, self.query_prefix, batch_size, show_progress)

    def encode_passages(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Embed passages with the passage prefix; same contract as ``encode_queries``."""
        return self._encode(texts, self.passage_prefix, batch_size, show_progress)

    def _encode(self, texts: list[str], prefix: str, batch_size: int, show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            x = self.model.encode([prefix + t for t in texts], batch_size=max(1, batch_size),
                                  show_progress_bar=show_progress, convert_to_numpy=True,
                                  normalize_embeddings=True)
        return l2_normalize(x)
