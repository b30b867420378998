"""FAISS index types at archive scale: recall@10 against exact search, query latency, memory, build time.

Vectors are bench/corpus.py's stand-ins (isotropic, so harder for approximate search than real
embeddings; the recall figures are conservative). Queries are the development set's 120 questions
embedded by the real model, searched one at a time through newsqa's ``VectorIndex`` (the
server's path).

    .venv/bin/python bench/faiss_bench.py --sizes 100000,1000000 [--queries 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# (factory, search setting) pairs; the setting is nprobe for IVF, efSearch for HNSW.
CANDIDATES = [("Flat", None), ("HNSW32", 64), ("HNSW32", 128), ("HNSW32", 256), ("HNSW32", 512),
              ("HNSW32,SQfp16", 256), ("HNSW32,SQ8", 128), ("HNSW32,SQ8", 256), ("HNSW32,SQ8", 512),
              ("IVF1024,SQ8", 32), ("IVF1024,SQ8", 128)]


def query_vectors() -> np.ndarray:
    """The development set's questions, embedded as queries by the real model."""
    import json

    from embeddings import load_encoder

    lines = (ROOT / "tests" / "data" / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines()
    return load_encoder(None).encode_queries([json.loads(line)["question"] for line in lines if line.strip()])


def recall_at(found: np.ndarray, exact: np.ndarray) -> float:
    """Share of the exact top-k ids that the approximate search also returned."""
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact)]))


def main() -> None:
    from faiss import serialize_index

    from corpus import make_paragraphs, stand_in_vectors
    from embeddings import VectorIndex

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=120)
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args()
    print("vectors: stand-ins (bench/corpus.py), 384-d; queries: the dev set's questions, real query vectors")
    print(f"{'size':>8} {'factory':14} {'setting':>7} {'recall@10':>9} {'ms/query':>8} {'MB':>7} {'build s':>7}")
    for size in (int(s) for s in args.sizes.split(",")):
        texts, parts, _ = make_paragraphs(size)
        vectors = stand_in_vectors(parts, texts)
        del texts
        ids = np.arange(1, size + 1, dtype=np.int64)
        queries = query_vectors()[: args.queries]
        exact = None
        built: dict[str, tuple] = {}
        for factory, setting in CANDIDATES:
            if factory not in built:  # one build per factory; the search setting varies at query time
                built.clear()
                t0 = time.perf_counter()
                index = VectorIndex.create(vectors.shape[1], factory)
                index.add(ids, vectors)
                built[factory] = (index, time.perf_counter() - t0)
            index, build = built[factory]
            if setting is not None:
                index.nprobe = index.ef_search = setting
            found, times = [], []
            for q in queries:
                t1 = time.perf_counter()
                _, got = index.search(q.reshape(1, -1), args.k)
                times.append((time.perf_counter() - t1) * 1000)
                found.append(got[0])
            found = np.asarray(found)
            if exact is None:
                exact = found  # Flat comes first: the exact answer
            mb = len(serialize_index(index.index)) / 1e6
            print(f"{size:>8} {factory:14} {setting or '-':>7} {recall_at(found, exact):>9.3f} "
                  f"{statistics.median(times):>8.2f} {mb:>7.0f} {build:>7.1f}", flush=True)
        built.clear()


if __name__ == "__main__":
    main()
