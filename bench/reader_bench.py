"""Reader benchmark: what the trained SpanReader costs per question and per passage on this machine.

Reads the sample issue's paragraphs (headline + paragraph, as the answerer passes them) for a
question, 1, 3 and 5 passages a call, after a warm-up; prints the median and p95 per call and
the median per passage, with the weights' load time.

    .venv/bin/python bench/reader_bench.py [--calls 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = ["浙江电网用电负荷哪天突破1亿千瓦？", "浙能集团的董事长是谁？", "2022年浙江全社会用电总量是多少？",
             "绍兴有几个区的企业综合服务中心同时挂牌？", "今年迎峰度夏期间最高负荷将达到多少？"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30, help="timed calls per passage count")
    args = parser.parse_args(argv)

    import torch

    from qa.parse import parse_issue
    from qa.read import SpanReader

    issue = parse_issue(ROOT / "qa" / "samples" / "zjrb-2023-08-01.txt")
    passages = [{"title": a.title, "text": p.text} for a in issue.articles for p in a.paragraphs]
    reader = SpanReader()
    t0 = time.perf_counter()
    reader.warm_up()
    load = time.perf_counter() - t0
    print(f"reader: {reader.weights.name}, precision {reader._model.bert.layers[0]['qkv'].precision}, "
          f"{torch.get_num_threads()} threads; weights loaded in {load:.2f} s")
    chars = statistics.mean(len(p["text"]) for p in passages)
    print(f"passages: {len(passages)} sample paragraphs, {chars:.0f} characters on average")
    print(f"{'passages/call':>13} {'p50 ms':>8} {'p95 ms':>8} {'ms/passage':>11}")
    for n in (1, 3, 5):
        reader.run(QUESTIONS[0], passages[:n])  # warm-up
        times = []
        for i in range(args.calls):
            chosen = [passages[(i * 7 + j * 11) % len(passages)] for j in range(n)]
            t0 = time.perf_counter()
            reader.run(QUESTIONS[i % len(QUESTIONS)], chosen)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"{n:13d} {p50:8.1f} {p95:8.1f} {p50 / n:11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
