"""Write-cost benchmark: bytes written and seconds for adding one 50-paragraph issue to a large index.

Builds an index of --paragraphs synthetic paragraphs (random unit vectors in FAISS, matching rows
in SQLite; no model run for them), then adds the bundled sample issue, made new text each time,
several times, and reports for each add the bytes the process wrote (/proc/self/io write_bytes:
vector files, vector log, SQLite and its WAL) and the seconds it took, in two modes:
  - snapshot: every write saves the whole vector file (the behaviour before the vector log);
  - log: a write appends what it changed to the vector log (the default now).
Usage: .venv/bin/python bench/write_bench.py [--paragraphs 100000] [--factory Flat] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "qa" / "samples" / "zjrb-2023-08-01.txt"


def written_bytes() -> int:
    """Bytes this process has caused to be written to storage so far."""
    with open("/proc/self/io") as f:
        fields = dict(line.split(": ") for line in f.read().splitlines())
    return int(fields["write_bytes"])


def build(directory: Path, paragraphs: int, factory: str) -> None:
    """An index holding ``paragraphs`` synthetic paragraphs with one random vector each."""
    from embeddings import VectorIndex
    from qa import store
    from qa.index import NewsIndex

    with NewsIndex(directory, factory=factory) as index:
        encoder = index.encoder
        db = index.db
        ids = np.arange(1, paragraphs + 1, dtype=np.int64)
        with db:
            db.execute("INSERT INTO issues VALUES ('synthetic', 'syn', '2000-01-01', 0, NULL, 'synthetic.txt', 'x', "
                       "'2000-01-01T00:00:00+00:00', 1, ?, '')", (paragraphs,))
            db.execute("INSERT INTO articles VALUES (1, 'synthetic', 1, 't', NULL, NULL, NULL, NULL, NULL, '[]', '[]')")
            db.executemany("INSERT INTO paragraphs VALUES (?, 'synthetic', 1, ?, ?, ?, 0, 10, '[[0, 10]]', NULL, 0)",
                           ((int(i), int(i), int(i), f"synthetic {i}") for i in ids))
            db.executemany("INSERT INTO vectors VALUES (?, ?, 0, 10, ?)",
                           ((int(i), int(i), hashlib.sha1(str(i).encode()).hexdigest()) for i in ids))
        vectors = VectorIndex.create(encoder.dim, factory)
        rng = np.random.default_rng(0)
        for start in range(0, paragraphs, 100_000):
            chunk = rng.standard_normal((min(100_000, paragraphs - start), encoder.dim)).astype(np.float32)
            chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
            vectors.add(ids[start:start + len(chunk)], chunk)
        name = index._save_vectors(vectors)
        with db:
            store.set_meta(db, vector_file=name, vector_log=0, model=encoder.name, dim=encoder.dim, model_spec="")


def measure(directory: Path, mode: str, repeat: int, tag: str) -> list[tuple[int, float]]:
    """(bytes written, seconds) for each of ``repeat`` adds of a new 50-paragraph issue."""
    import qa.index
    from qa.index import NewsIndex
    from qa.parse import parse_issue

    if mode == "snapshot":  # every write folds the log at once: the whole vector file is written
        qa.index.LOG_COMPACT_MIN_BYTES, qa.index.LOG_COMPACT_FRACTION = 0, 0.0
    else:
        qa.index.LOG_COMPACT_MIN_BYTES, qa.index.LOG_COMPACT_FRACTION = 4 * 1024 * 1024, 0.25
    out = []
    with NewsIndex(directory) as index:
        _ = index.encoder, index.vectors()  # loaded before timing: a server has them loaded
        for n in range(repeat):
            text = re.sub(r"。", f"。（{tag}{n}）", SAMPLE.read_text(encoding="utf-8"))
            issue = parse_issue(text.encode("utf-8"), paper=f"{tag}{n}", date="2023-08-01", source=f"{tag}{n}.txt")
            before, t0 = written_bytes(), time.perf_counter()
            index.add(issue)
            out.append((written_bytes() - before, time.perf_counter() - t0))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=100_000)
    parser.add_argument("--factory", default="Flat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default="snapshot,log", help="which modes, in order (snapshot,log)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"{platform.node()} {os.cpu_count()} cores, python {platform.python_version()}; "
          f"{args.paragraphs:,} paragraphs, {args.factory}")
    with tempfile.TemporaryDirectory(prefix="write-bench-") as tmp:
        directory = Path(tmp) / "index"
        t0 = time.perf_counter()
        build(directory, args.paragraphs, args.factory)
        snapshot = max(directory.glob("vectors-*.faiss")).stat().st_size
        print(f"built in {time.perf_counter() - t0:.0f} s; vector snapshot {snapshot / 1e6:.1f} MB")
        for mode in args.modes.split(","):
            runs = measure(directory, mode, args.repeat, mode[0])
            b = statistics.median(r[0] for r in runs)
            s = statistics.median(r[1] for r in runs)
            print(f"{mode:>8}: one 50-paragraph issue writes {b / 1e6:8.2f} MB in {s:6.2f} s "
                  f"(median of {len(runs)}: {', '.join(f'{r[0] / 1e6:.2f} MB/{r[1]:.2f} s' for r in runs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
