"""Index, search and ask on the embedded store and on Milvus Lite side by side; prints one row per store.

    HF_HUB_OFFLINE=1 python bench/store_bench.py [--questions N]

The gallery of tests/data is indexed into a fresh store of each kind (the model's time is in
both rows), then the development questions are searched (HybridRetriever, k=10) and asked
(Answerer). Milvus Lite's figures say nothing about a Milvus server's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GALLERY = ["zjrb-2023-08-01.txt", "multipage-2024-03-05.txt", "gbk-2022-11-11.txt", "issue.html", "weekly.md"]


def run(uri: str, questions: list[str]) -> dict:
    from qa.answer import Answerer
    from qa.parse import parse_issue
    from qa.retrieve import HybridRetriever
    from qa.stores import open_store

    store = open_store(uri)
    store.encoder  # noqa: B018  load the model before timing
    issues = [parse_issue(ROOT / "tests" / "data" / f) for f in GALLERY]
    started = time.perf_counter()
    with store.writer():
        results = store.add_many(issues)
    index_s = time.perf_counter() - started
    paragraphs = sum(r.paragraphs for r in results)
    retriever, answerer = HybridRetriever(store), Answerer(store)
    search_ms, ask_ms = [], []
    for q in questions:
        t = time.perf_counter()
        retriever.run(q, k=10)
        search_ms.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        answerer.run(q)
        ask_ms.append(1000 * (time.perf_counter() - t))
    return {"store": uri.split(":")[0] if uri.startswith("milvus") else "embedded", "paragraphs": paragraphs,
            "index_paragraphs_per_s": round(paragraphs / index_s, 1), "search_p50_ms": round(statistics.median(search_ms), 1),
            "ask_p50_ms": round(statistics.median(ask_ms), 1), "questions": len(questions)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=30, help="development questions to time (default 30)")
    args = parser.parse_args()
    lines = (ROOT / "tests" / "data" / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()][: args.questions]
    with tempfile.TemporaryDirectory() as tmp:
        for uri in (f"{tmp}/index", f"milvus-lite:{tmp}/store.db"):
            print(json.dumps(run(uri, questions), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
