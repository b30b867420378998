"""Side by side: newsqa against txtai's hybrid ``Embeddings``, same corpus, same model, same questions.

What is compared:
  - indexing: ``newsqa index`` end to end in a subprocess (interpreter start, model load, parsing
    the issue files, jieba, embedding, SQLite/FTS5, FAISS, atomic commits), against
    ``txtai.Embeddings.index`` in this process (jieba, embedding, SQLite content store, BM25 terms
    index, FAISS) on the same paragraphs as a list of strings, the model already loaded. Two
    closer like-for-like figures for newsqa are shown too: its own timer (the ``--json`` summary of
    ``newsqa index``: from opening the index, so model load, jieba's dictionary, embedding and
    storing, without start-up and parsing), and that timer less the model load and jieba
    dictionary load as measured in this process (marked ~, an estimate from two processes).
  - query latency: ``HybridRetriever.run(q, k=10)`` (dense + FTS5 BM25, RRF, lexical rerank)
    against ``Embeddings.search(q, 10)`` (dense + BM25, convex fusion, content from SQLite), one
    question at a time, after one warm-up question, in the same process.

The corpus is bench/corpus.py's (real 浙江日报/人民日报 paragraphs first, then paragraphs recombined
from their sentences); the questions are the first --queries of tests/data/dev_questions.jsonl.

Vectors come from the same model object on both sides: newsqa's default encoder
(multilingual-e5-small on CPU PyTorch, ``embeddings.load_encoder(None)``). txtai gets it through
its documented ``"method": "external"`` vectors with a ``transform`` function:
  - txtai calls the transform with a batch of strings and no hint of whether they are queries
    or documents. Its documented ``"instructions"`` setting does know: it prepends
    ``instructions["query"]`` to search queries and ``instructions["data"]`` to indexed
    documents. So we set e5's own prefixes there (``query: `` / ``passage: ``) and the transform
    strips the prefix and calls ``encode_queries`` or ``encode_passages``, so both sides embed
    the same prefixed texts (except that newsqa splits a paragraph longer than the model's window
    into several windows where txtai's one vector sees a truncated paragraph; the figures say how
    many vectors each side stored).
  - the transform must be a plain function: txtai *calls* any other callable (a bound method,
    a ``functools.partial``) with no arguments to get the function, so passing
    ``encoder.encode_passages`` directly fails.

The keyword side: txtai's BM25 tokenizers do not segment Chinese (the terms-index tokenizer,
Unicode word boundaries, yields one token per character; the legacy one drops Chinese
altogether), and its ``"tokenizer"`` setting only takes options of its own Tokenizer (whitespace,
regexp, n-grams), not a function. Pre-segmenting the text (``" ".join(jieba.cut_for_search(t))``
with a whitespace tokenizer) would also feed the spaced text to the dense model and make the
caller segment every query. Instead we use txtai's documented custom scoring method ("set
``method`` to the fully resolvable class string"): ``JiebaBM25`` is txtai's own ``BM25`` with
``loadtokenizer`` returning jieba ``cut_for_search`` tokens (lower-cased, punctuation and spaces
dropped - as newsqa's FTS5 side does, minus its NFKC folding). Documents and queries stay plain
text; everything else is what ``"hybrid": True`` sets up: ``terms`` index, score normalisation.

The dense index: FAISS on both sides, exact inner product. newsqa's default is ``Flat``; txtai's
default turns into an approximate ``IVF`` index beyond 5,000 vectors, so it gets
``"faiss": {"components": "IDMap,Flat"}`` unless ``--txtai-faiss auto``.

Indexing runs once per side (``--index-runs`` to repeat); query latency is measured --runs times.
Each figure is the median over its runs. It is a benchmark: it reports, it does not judge.

    .venv/bin/python bench/peer_bench.py --paragraphs 10000 [--queries 60] [--runs 3] [--json]

Needs txtai: ``.venv/bin/pip install -e '.[bench]'`` (or ``txtai==9.14.0``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
QUESTIONS = ROOT / "tests" / "data" / "dev_questions.jsonl"

# newsqa's package first: it sets OMP_WAIT_POLICY=PASSIVE, which only works before torch loads.
# txtai is imported later (see load_txtai): importing it loads torch and transformers, and the
# model load is timed first, cold, as newsqa's subprocess pays it.
import embeddings  # noqa: E402
from embeddings.encoder import E5_PASSAGE, E5_QUERY  # noqa: E402

import jieba  # noqa: E402

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[0-9A-Za-z{_CJK}]")


def jieba_tokens(text: str) -> list[str]:
    """Search tokens for txtai's BM25: jieba ``cut_for_search``, lower-cased, without punctuation or spaces."""
    return [t for t in jieba.cut_for_search(text.lower()) if _WORD.search(t)]


JiebaBM25 = None  # txtai's BM25 with jieba tokens: defined by load_txtai


def load_txtai():
    """Import txtai and define ``JiebaBM25`` at module level, where txtai resolves it by name.

    ``JiebaBM25`` is txtai's BM25 keyword index tokenising with ``jieba_tokens`` instead of
    txtai's Tokenizer, for the documents and the queries alike. txtai finds it from the class
    path in ``"scoring": {"method": ...}`` by importing this module and reading the attribute,
    so it has to be a module global; it is made here rather than at import time because
    importing txtai takes seconds and loads torch.

    Returns:
        The txtai module.
    """
    global JiebaBM25
    import txtai
    from txtai.scoring import BM25

    class JiebaBM25(BM25):
        def loadtokenizer(self):
            return jieba_tokens

    return txtai


def machine() -> dict:
    """Where and when the figures were taken."""
    return {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "date": dt.datetime.now().isoformat(timespec="minutes"), "txtai": importlib.metadata.version("txtai")}


def read_questions(n: int) -> list[str]:
    """The first ``n`` questions of the development set."""
    with QUESTIONS.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r["question"] for r in rows[:n]]


def percentile_ms(samples: list[float], q: float) -> float:
    """The ``q``-th percentile of latencies in milliseconds."""
    return float(np.percentile(samples, q))


def time_queries(search, queries: list[str]) -> list[float]:
    """Per-query latency in ms of ``search(q)``, after one untimed warm-up query."""
    search(queries[0])
    out = []
    for q in queries:
        t0 = time.perf_counter()
        search(q)
        out.append((time.perf_counter() - t0) * 1000)
    return out


# --- newsqa -----------------------------------------------------------------------------------

def newsqa_command() -> list[str]:
    """The console script next to this interpreter, else the module."""
    exe = Path(sys.executable).with_name("newsqa")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "qa.cli"]


def newsqa_index(issues_dir: Path, index_dir: Path) -> dict:
    """Run ``newsqa index`` on the issue files in a fresh index directory; wall time and its summary.

    A subprocess, as a user runs it: the wall time includes interpreter start, imports, model
    load and parsing. ``cli_seconds`` is newsqa's own timer, which starts before the index is
    opened: model load, jieba dictionary, embedding and storing.
    """
    cmd = newsqa_command() + ["index", str(issues_dir), "--index-dir", str(index_dir), "-q", "--json"]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"newsqa index failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    summary = json.loads(proc.stdout)
    return {"seconds": seconds, "cli_seconds": summary["seconds"], "paragraphs": summary["paragraphs"],
            "vectors": summary["embedded"]}


def newsqa_searcher(index_dir: Path):
    """A function running newsqa's hybrid retrieval for one query (k=10) on a read-only index."""
    from qa.index import NewsIndex
    from qa.retrieve import HybridRetriever

    index = NewsIndex(index_dir, readonly=True)
    retriever = HybridRetriever(index)

    def search(q: str):
        # newsqa keeps the last question vectors (the answerer reuses the retriever's); the runs
        # repeat the same questions, so forget them to time the model on every query, as txtai does.
        index._query_vectors.clear()
        return retriever.run(q, k=10)

    return search


# --- txtai ------------------------------------------------------------------------------------

def e5_transform(encoder):
    """txtai's external transform: texts (with the e5 prefix txtai's ``instructions`` added) to vectors.

    txtai encodes queries and documents in separate calls, so the first text's prefix tells which.
    A closure, because txtai calls any callable that is not a plain function to *get* one.
    """
    def transform(texts: list[str]) -> np.ndarray:
        if texts[0].startswith(E5_QUERY):
            return encoder.encode_queries([t[len(E5_QUERY):] for t in texts])
        return encoder.encode_passages([t.removeprefix(E5_PASSAGE) for t in texts])

    return transform


def txtai_config(encoder, faiss_components: str) -> dict:
    """A fresh hybrid ``Embeddings`` configuration (txtai writes into it while indexing)."""
    config = {
        "method": "external",
        "transform": e5_transform(encoder),
        # txtai prepends these by category; the transform routes on them (see e5_transform)
        "instructions": {"query": E5_QUERY, "data": E5_PASSAGE},
        "content": True,
        "hybrid": True,
        # What "hybrid": True expands to ({"method": "bm25", "terms": True, "normalize": True}),
        # with BM25 swapped for the same BM25 tokenising with jieba. Given explicitly, it wins.
        "scoring": {"method": f"{__name__}.JiebaBM25", "terms": True, "normalize": True},
        "backend": "faiss",
    }
    if faiss_components != "auto":
        config["faiss"] = {"components": faiss_components}
    return config


def txtai_index(texts: list[str], encoder, faiss_components: str):
    """Build a txtai hybrid index over the paragraphs; the ``txtai.Embeddings`` and its timing."""
    import txtai

    emb = txtai.Embeddings(txtai_config(encoder, faiss_components))
    t0 = time.perf_counter()
    emb.index([(i, text, None) for i, text in enumerate(texts)])
    seconds = time.perf_counter() - t0
    # txtai records the FAISS factory string it chose in the index's build metadata
    components = emb.config.get("build", {}).get("settings", {}).get("components", "?")
    return emb, {"seconds": seconds, "paragraphs": emb.count(), "vectors": emb.ann.count(), "faiss": components}


# --- the run ----------------------------------------------------------------------------------

def median_of(runs: list[dict], key: str) -> float:
    """Median of one figure over runs."""
    return statistics.median(r[key] for r in runs)


def summarise(newsqa_runs: list[dict], txtai_runs: list[dict], query_runs: list[dict], load_seconds: float) -> dict:
    """The reported figures: medians over runs, rates and ratios.

    ``load_seconds`` is the model and jieba dictionary load measured in this process; subtracted
    from newsqa's own timer it estimates newsqa's embed + store time.
    """
    nq = {k: median_of(newsqa_runs, k) for k in ("seconds", "cli_seconds")}
    nq_est = max(nq["cli_seconds"] - load_seconds, 1e-9)
    tx = median_of(txtai_runs, "seconds")
    figures = {
        "newsqa": {
            "index_seconds": round(nq["seconds"], 2),
            "paragraphs_per_second": round(newsqa_runs[0]["paragraphs"] / nq["seconds"], 1),
            "index_seconds_own_timer": round(nq["cli_seconds"], 2),
            "index_seconds_embed_store_estimate": round(nq_est, 2),
            "paragraphs_per_second_embed_store_estimate": round(newsqa_runs[0]["paragraphs"] / nq_est, 1),
            "model_and_jieba_load_seconds_here": round(load_seconds, 2),
            "paragraphs": newsqa_runs[0]["paragraphs"], "vectors": newsqa_runs[0]["vectors"],
            "query_p50_ms": round(median_of(query_runs, "newsqa_p50"), 2),
            "query_p95_ms": round(median_of(query_runs, "newsqa_p95"), 2),
        },
        "txtai": {
            "index_seconds": round(tx, 2),
            "paragraphs_per_second": round(txtai_runs[0]["paragraphs"] / tx, 1),
            "paragraphs": txtai_runs[0]["paragraphs"], "vectors": txtai_runs[0]["vectors"],
            "faiss": txtai_runs[0]["faiss"],
            "query_p50_ms": round(median_of(query_runs, "txtai_p50"), 2),
            "query_p95_ms": round(median_of(query_runs, "txtai_p95"), 2),
        },
    }
    figures["ratio_txtai_over_newsqa"] = {
        "index_seconds": round(tx / nq["seconds"], 2),
        "index_seconds_vs_own_timer": round(tx / nq["cli_seconds"], 2),
        "index_seconds_vs_embed_store_estimate": round(tx / nq_est, 2),
        "query_p50": round(figures["txtai"]["query_p50_ms"] / figures["newsqa"]["query_p50_ms"], 2),
    }
    return figures


def print_table(report: dict) -> None:
    """The figures as a plain-text table."""
    f, m = report["figures"], report["machine"]
    nq, tx, ratio = f["newsqa"], f["txtai"], f["ratio_txtai_over_newsqa"]
    rows = [
        ("index seconds (end to end)", nq["index_seconds"], tx["index_seconds"], ratio["index_seconds"]),
        ("  newsqa own timer", nq["index_seconds_own_timer"], tx["index_seconds"],
         ratio["index_seconds_vs_own_timer"]),
        ("  ~ less model+jieba load", nq["index_seconds_embed_store_estimate"], tx["index_seconds"],
         ratio["index_seconds_vs_embed_store_estimate"]),
        ("paragraphs/s (end to end)", nq["paragraphs_per_second"], tx["paragraphs_per_second"], None),
        ("paragraphs indexed", nq["paragraphs"], tx["paragraphs"], None),
        ("vectors stored", nq["vectors"], tx["vectors"], None),
        ("query p50 ms", nq["query_p50_ms"], tx["query_p50_ms"], ratio["query_p50"]),
        ("query p95 ms", nq["query_p95_ms"], tx["query_p95_ms"], None),
    ]
    print()
    print(f"{'':30} {'newsqa':>10} {'txtai':>10} {'txtai/newsqa':>13}")
    for label, a, b, r in rows:
        print(f"{label:30} {a:>10} {b:>10} {'' if r is None else r:>13}")
    print()
    s = report["settings"]
    print(f"{s['paragraphs']} paragraphs ({s['real_paragraphs']} real), {s['queries']} queries, "
          f"median of {s['runs']} query run(s) and {s['index_runs']} index run(s); "
          f"{m['machine']}, {m['cpus']} CPUs, Python {m['python']}, txtai {m['txtai']}, {m['date']}")
    for note in report["notes"]:
        print(f"- {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=60, help="first N questions of the dev set")
    parser.add_argument("--runs", type=int, default=3, help="query-latency runs (median reported)")
    parser.add_argument("--index-runs", type=int, default=1, help="indexing runs per side (median reported)")
    parser.add_argument("--txtai-faiss", default="IDMap,Flat",
                        help="txtai's FAISS components; 'auto' for txtai's default (IVF beyond 5,000 vectors)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args()
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print

    from corpus import make_paragraphs, write_issue_files

    info = machine()
    say(f"machine: {info['machine']}, {info['cpus']} CPUs, Python {info['python']}, {info['date']}")
    texts, _parts, n_real = make_paragraphs(args.paragraphs)
    queries = read_questions(args.queries)
    # Loaded once, before any timing (txtai's figure excludes it); timed, cold (torch import
    # included), because newsqa's own indexing timer includes both loads.
    t0 = time.perf_counter()
    encoder = embeddings.load_encoder(None)
    jieba.setLogLevel(60)
    jieba.initialize()
    load_seconds = time.perf_counter() - t0
    load_txtai()
    say(f"{len(texts)} paragraphs ({n_real} real), {len(queries)} queries; "
        f"vectors on both sides: the same model object, {encoder.name} ({getattr(encoder, 'engine', '?')})")

    with tempfile.TemporaryDirectory(prefix="peer_bench-") as tmp:
        tmp = Path(tmp)
        write_issue_files(texts, tmp / "issues")
        newsqa_runs, txtai_runs, emb = [], [], None
        for run in range(args.index_runs):
            newsqa_runs.append(newsqa_index(tmp / "issues", tmp / f"index-{run}"))
            say(f"newsqa index run {run + 1}: {newsqa_runs[-1]['seconds']:.1f} s")
            if emb is not None:
                emb.close()
            emb, timing = txtai_index(texts, encoder, args.txtai_faiss)
            txtai_runs.append(timing)
            say(f"txtai index run {run + 1}: {timing['seconds']:.1f} s")

        newsqa_search = newsqa_searcher(tmp / "index-0")
        txtai_search = lambda q: emb.search(q, 10)  # noqa: E731
        query_runs = []
        for run in range(args.runs):
            # alternate which side goes first, so drift on a shared machine does not favour one
            sides = [("newsqa", newsqa_search), ("txtai", txtai_search)]
            timed = {name: time_queries(fn, queries) for name, fn in (sides if run % 2 == 0 else sides[::-1])}
            query_runs.append({f"{name}_{p}": percentile_ms(ms, q) for name, ms in timed.items()
                               for p, q in (("p50", 50), ("p95", 95))})
            say(f"query run {run + 1}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in query_runs[-1].items()))
        emb.close()

    report = {
        "machine": info,
        "settings": {"paragraphs": len(texts), "real_paragraphs": n_real, "queries": len(queries), "runs": args.runs,
                     "index_runs": args.index_runs, "model": encoder.name, "k": 10},
        "figures": summarise(newsqa_runs, txtai_runs, query_runs, load_seconds),
        "notes": [
            f"vectors on both sides come from the same model ({encoder.name}), e5 'query: ' prefix for queries "
            "and 'passage: ' for paragraphs on both (txtai: external transform + instructions)",
            "newsqa end to end = `newsqa index` subprocess: start-up, model load, parsing, jieba, embedding, "
            "SQLite/FTS5, FAISS; 'own timer' is newsqa's --json figure (from opening the index: model load, "
            "jieba dictionary, embedding, storing); '~ less model+jieba load' subtracts those loads as timed "
            f"in this process ({load_seconds:.1f} s), an estimate",
            "newsqa indexes the paragraphs its parser finds in the issue files (a few more or fewer than the "
            "strings txtai gets); it splits paragraphs longer than the model's window into several vectors",
            "txtai = Embeddings.index() in-process on the paragraph strings, model already loaded: jieba, "
            "embedding, SQLite content, BM25 terms index, FAISS",
            "keyword side: txtai BM25 with jieba cut_for_search tokens (custom scoring class), newsqa FTS5 "
            "BM25 over jieba cut_for_search tokens",
            "queries: newsqa HybridRetriever.run(k=10) with RRF and lexical rerank; txtai Embeddings.search(q, 10) "
            "with convex fusion and content lookup; one at a time after a warm-up",
        ],
        "raw": {"newsqa_index": newsqa_runs, "txtai_index": txtai_runs, "queries": query_runs},
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
