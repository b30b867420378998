"""Keyword (BM25) branch on its own: the two-stage query against one FTS5 query over every token.

For each question of the question sets, times ``store.keyword_search`` (the one searches use)
and the single ranked query over the same tokens, and compares their top 20. Prints medians.

    .venv/bin/python bench/keyword_bench.py INDEX_DIR [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import store  # noqa: E402
from qa.tokens import fts_query, query_tokens  # noqa: E402

QUESTION_FILES = [ROOT / "tests" / "data" / "dev_questions.jsonl", ROOT / "tests" / "data" / "heldout_questions.jsonl"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-k", type=int, default=50)
    args = parser.parse_args()
    conn = store.connect(args.index_dir / "newsqa.sqlite", readonly=True)
    questions = [json.loads(line)["question"] for f in QUESTION_FILES for line in f.read_text().splitlines() if line.strip()]
    n = store.paragraph_count(conn)
    two, one, same = [], [], []
    for _ in range(args.runs):
        t_two, t_one = [], []
        for q in questions:
            t0 = time.perf_counter()
            got = store.keyword_search(conn, query_tokens(q), args.k)
            t1 = time.perf_counter()
            tokens = store.informative_tokens(conn, query_tokens(q))  # untimed: the single query's tokens
            t1_end = time.perf_counter()
            full = store._bm25(conn, fts_query(tokens), args.k, None, None, None) if tokens else []
            t2 = time.perf_counter()
            t_two.append((t1 - t0) * 1000)
            t_one.append((t2 - t1_end) * 1000)  # the single query, tokens already known
            top = {pid for pid, _ in full[:20]}
            same.append(len(top & {pid for pid, _ in got[:20]}) / max(1, len(top)))
        two.append(statistics.median(t_two))
        one.append(statistics.median(t_one))
    print(f"keyword search, {n:,} paragraphs, {len(questions)} questions, k={args.k}, median of {args.runs} runs")
    print(f"  two-stage (what searches run, counts lookup included): p50 {statistics.median(two):.1f} ms")
    print(f"  one ranked query over the same tokens:                 p50 {statistics.median(one):.1f} ms")
    print(f"  top-20 overlap with the one query: {statistics.mean(same):.3f}")


if __name__ == "__main__":
    main()
