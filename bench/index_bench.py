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


def build_archive(directory: Path, paragraphs: int) -> list[Path]:
    """Write copies of the sample's parsed articles, each a different day, every paragraph made distinct.

    Copies are written as clean blank-line separated text (headline, then paragraphs), so that
    each parses back to the same paragraphs; a per-copy tag at each paragraph's end keeps the
    index from reusing vectors across copies.
    """
    sys.path.insert(0, str(ROOT))
    from qa.parse import parse_issue

    issue = parse_issue(SAMPLE)
    copies = max(1, round(paragraphs / len(issue.paragraphs)))
    files = []
    for n in range(copies):
        year, day = 2000 + n // 365, n % 365
        date = time.strftime("%Y-%m-%d", time.strptime(f"{year} {day + 1}", "%Y %j"))
        blocks = []
        for article in issue.articles:
            blocks.append(article.title or "无题")
            # The tag goes before the closing punctuation: a paragraph that does not end a sentence
            # reads as broken by a column, and the parser would join it to the next.
            blocks += [f"{p.text[:-1]}（{n}）{p.text[-1]}" for p in article.paragraphs]
        path = directory / f"bench-{date}.txt"
        path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        files.append(path)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--embed-sample", type=int, default=1000, help="paragraphs for the embedding-only figure")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    from embeddings import load_encoder
    from qa.parse import parse_issue

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "issues").mkdir()
        files = build_archive(tmp / "issues", args.paragraphs)
        print(f"archive: {len(files)} copies of the sample issue")

        encoder = load_encoder(None)
        texts = [p.text for f in files for p in parse_issue(f).paragraphs][: args.embed_sample]
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
        from qa.index import NewsIndex

        with NewsIndex(index_dir, readonly=True) as index:
            total = index.stats()["paragraphs"]
        print(f"newsqa index (end to end, incl. model load): {total} paragraphs in {index_s:.1f} s "
              f"= {total / index_s:.1f} paragraphs/s")
        print(f"index size on disk: {size / 1e6:.1f} MB = {size / total:.0f} bytes/paragraph")


if __name__ == "__main__":
    main()
