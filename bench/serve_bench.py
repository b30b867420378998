"""Server benchmark: cold start, resident memory, and /api/search and /api/ask latency over HTTP.

For each index directory given, starts `newsqa serve` on a free loopback port, times it to the
first healthy /api/health, then asks the question sets' questions from this (separate)
client process: one at a time, and from 8 threads at once, each run with questions not asked
before. Each figure is the median over --runs runs. Resident memory is the server's VmRSS after the runs and its peak (VmHWM).

    .venv/bin/python bench/serve_bench.py LABEL=INDEX_DIR [LABEL=INDEX_DIR ...] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = [ROOT / "tests" / "data" / "dev_questions.jsonl", ROOT / "tests" / "data" / "heldout_questions.jsonl"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(index_dir: Path) -> tuple[subprocess.Popen, str, float]:
    """Start the server; return it, its URL and the seconds to a healthy /api/health."""
    port = free_port()
    exe = Path(sys.executable).with_name("newsqa")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "qa.cli"]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen([*cmd, "serve", "--index-dir", str(index_dir), "--port", str(port), "--no-sample"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"server failed: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return proc, url, time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.05)


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


def timed(client: httpx.Client, path: str, body: dict) -> float:
    t0 = time.perf_counter()
    r = client.post(path, json=body, timeout=120)
    ms = (time.perf_counter() - t0) * 1000
    if r.status_code != 200:
        raise SystemExit(f"{path} {r.status_code}: {r.text[:300]}")
    return ms


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run_once(url: str, endpoint: str, questions: list[str], threads: int) -> dict:
    """Every question once through ``endpoint``, from ``threads`` clients; p50/p95 ms and requests/s."""
    key = "query" if endpoint == "search" else "question"
    bodies = [{key: q, "k": 10 if endpoint == "search" else 5} for q in questions]

    def worker(chunk: list[dict]) -> list[float]:
        with httpx.Client(base_url=url) as client:
            return [timed(client, f"/api/{endpoint}", b) for b in chunk]

    t0 = time.perf_counter()
    if threads == 1:
        latencies = worker(bodies)
    else:
        chunks = [bodies[i::threads] for i in range(threads)]
        with ThreadPoolExecutor(threads) as pool:
            latencies = [ms for part in pool.map(worker, chunks) for ms in part]
    wall = time.perf_counter() - t0
    return {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95), "rps": len(bodies) / wall}


def bench_index(label: str, index_dir: Path, questions: list[str], runs: int) -> dict:
    proc, url, cold = start(index_dir)
    try:
        health = httpx.get(url + "/api/health").json()
        with httpx.Client(base_url=url) as client:  # warm-up: first requests load lazily built state
            for q in questions[:3]:
                timed(client, "/api/search", {"query": q, "k": 10})
                timed(client, "/api/ask", {"question": q})
        out = {"label": label, "paragraphs": health["paragraphs"], "cold_start_s": round(cold, 2)}
        # Every run asks questions not asked before: the server keeps question and sentence
        # vectors, and repeated questions would time the cache, not the model.
        per_run = (len(questions) - 3) // (4 * runs)
        fresh = iter(range(3, 3 + per_run * 4 * runs, per_run))
        for endpoint in ("search", "ask"):
            for threads in (1, 8):
                results = [run_once(url, endpoint, questions[(i := next(fresh)): i + per_run], threads)
                           for _ in range(runs)]
                out[f"{endpoint}_{threads}"] = {k: round(statistics.median(r[k] for r in results), 1)
                                                for k in ("p50", "p95", "rps")}
        out["rss_mb"], out["peak_rss_mb"] = (round(x) for x in memory_mb(proc.pid))
        out["disk_bytes_per_paragraph"] = round(sum(f.stat().st_size for f in index_dir.iterdir() if f.is_file())
                                                / max(1, health["paragraphs"]))
        return out
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("indexes", nargs="+", metavar="LABEL=INDEX_DIR")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-run", type=int, default=40, help="distinct questions per run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for path in QUESTION_FILES
                 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    # More distinct queries than the question sets hold: opening clauses of real paragraphs.
    sys.path.insert(0, str(ROOT / "bench"))
    from corpus import real_paragraphs

    questions += [p.split("，")[0][:30] + "？" for p in real_paragraphs()[100:]]
    questions = list(dict.fromkeys(q for q in questions if len(q) > 6))[: 3 + 4 * args.runs * args.per_run]
    rows = []
    for spec in args.indexes:
        label, _, path = spec.partition("=")
        rows.append(bench_index(label, Path(path), questions, args.runs))
        if not args.json:
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    print(f"\n{'archive':10} {'paragraphs':>10} {'cold s':>7} {'RSS MB':>7} {'search p50/p95 ms':>18} "
          f"{'8 clients':>14} {'ask p50/p95 ms':>16} {'8 clients':>14} {'B/para':>7}")
    for r in rows:
        s1, s8, a1, a8 = r["search_1"], r["search_8"], r["ask_1"], r["ask_8"]
        print(f"{r['label']:10} {r['paragraphs']:>10} {r['cold_start_s']:>7} {r['rss_mb']:>7} "
              f"{s1['p50']:>8}/{s1['p95']:<9} {s8['p50']:>6}/{s8['p95']:<7} {a1['p50']:>7}/{a1['p95']:<8} "
              f"{a8['p50']:>6}/{a8['p95']:<7} {r['disk_bytes_per_paragraph']:>7}")


if __name__ == "__main__":
    main()
