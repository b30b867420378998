"""Indexing benchmark: embedding and end-to-end `newsqa index` throughput, bytes per paragraph.

Builds an archive from the sample issue repeated (each copy's paragraphs made distinct so no
vector is reused) to about --paragraphs paragraphs, then measures:
  - embedding alone: the default encoder over all paragraphs, batch 32;
  - `newsqa index` end to end (parse, embed, SQLite+FTS5, FAISS, atomic commits) in a subprocess;
  - the index's size on disk per paragraph.
Usage: .venv/bin/python bench/index_bench.py [--paragraphs 5000]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "qa" / "samples" / "zjrb-2023-08-01.txt"


def build_archive(directory: Path, paragraphs: int) -> tuple[list[Path], int]:
    """Write copies of the sample, each a different day with every line made distinct."""
    sys.path.insert(0, str(ROOT))
    from qa.parse import parse_issue

    per_issue = len(parse_issue(SAMPLE).paragraphs)
    copies = max(1, round(paragraphs / per_issue))
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    files = []
    for n in range(copies):
        year, day = 2000 + n // 365, n % 365
        date = time.strftime("%Y-%m-%d", time.strptime(f"{year} {day + 1}", "%Y %j"))
        text = "\n".join(line + f"（{n}）" if len(line) > 40 else line for line in lines)
        path = directory / f"bench-{date}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return files, copies * per_issue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    from embeddings import load_encoder
    from qa.parse import parse_issue

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "issues").mkdir()
        files, total = build_archive(tmp / "issues", args.paragraphs)
        print(f"archive: {len(files)} issues, {total} paragraphs")

        encoder = load_encoder(None)
        texts = [p.text for f in files[: max(1, len(files) // 5)] for p in parse_issue(f).paragraphs]
        encoder.encode_passages(texts[:8])  # warm-up
        t0 = time.perf_counter()
        encoder.encode_passages(texts, batch_size=args.batch_size)
        embed_s = time.perf_counter() - t0
        print(f"embedding ({encoder.name}, batch {args.batch_size}): {len(texts)} paragraphs in {embed_s:.1f} s "
              f"= {len(texts) / embed_s:.1f} paragraphs/s")

        index_dir = tmp / "index"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qa.cli", "index", str(tmp / "issues"), "--index-dir", str(index_dir),
                        "-q"], check=True, cwd=ROOT)
        index_s = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in index_dir.iterdir() if f.is_file())
        print(f"newsqa index (end to end, incl. model load): {total} paragraphs in {index_s:.1f} s "
              f"= {total / index_s:.1f} paragraphs/s")
        print(f"index size on disk: {size / 1e6:.1f} MB = {size / total:.0f} bytes/paragraph")


if __name__ == "__main__":
    main()
