"""Coverage against precision of the reader's abstention threshold, on development question sets.

Every question is answered once with the threshold at 0 (the answer the reader is surest of,
whatever its confidence); the table then shows, for each threshold, the share of answerable
questions still answered, the share of those answers that are right (the answer sentence holds
a gold answer), short-answer EM/F1 over all answerable questions, and the share of
unanswerable questions refused. Run it only on development sets: the threshold is chosen here.

Usage: python bench/abstention.py INDEX_DIR QUESTIONS.jsonl [QUESTIONS.jsonl ...] [--passages N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def answer_all(index_dir: Path, files: list[Path], passages: int, names: tuple[str, ...]) -> list[dict]:
    """One record per question: its set, whether it is answerable, the confidence and the scores."""
    from qa.answer import Answerer, AnswerSettings
    from qa.evaluate import is_relevant, load_questions, span_em, span_f1
    from qa.index import NewsIndex

    index = NewsIndex(index_dir, readonly=True)
    answerer = Answerer(index, settings=AnswerSettings(min_confidence=0.0, passages_to_read=passages,
                                                                required_names=names))
    records = []
    for path in files:
        for q in load_questions(path):
            result = answerer.run(q["question"], history=q.get("history"))
            answer, short = result["answer"] or "", result.get("short_answer") or ""
            records.append({
                "set": path.stem, "answerable": bool(q["gold"]), "confidence": result.get("confidence") or 0.0,
                "hit": is_relevant(answer, q["answers"]),
                "em": span_em(short, q["answers"]) if q["answers"] else 0.0,
                "f1": span_f1(short, q["answers"]) if q["answers"] else 0.0,
            })
    return records


def table(records: list[dict]) -> str:
    """The threshold table for one set of records."""
    answerable = [r for r in records if r["answerable"]]
    other = [r for r in records if not r["answerable"]]
    lines = [f"{'threshold':>9} {'answered':>9} {'precision':>9} {'hit':>6} {'EM':>6} {'F1':>6} {'refused':>8}"]
    for t in THRESHOLDS:
        kept = [r for r in answerable if r["confidence"] >= t]
        n = max(1, len(answerable))
        precision = sum(r["hit"] for r in kept) / max(1, len(kept))
        refused = sum(r["confidence"] < t for r in other) / len(other) if other else float("nan")
        lines.append(f"{t:9.2f} {len(kept) / n:9.3f} {precision:9.3f} {sum(r['hit'] for r in kept) / n:6.3f} "
                     f"{sum(r['em'] for r in kept) / n:6.3f} {sum(r['f1'] for r in kept) / n:6.3f} {refused:8.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("questions", type=Path, nargs="+")
    parser.add_argument("--passages", type=int, default=3, help="passages the reader reads (default 3)")
    parser.add_argument("--names", default="ns",
                        help="jieba tags of names an article must mention, comma-separated; empty for none (default ns)")
    parser.add_argument("--dump", type=Path, help="write the per-question records here as JSONL")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    names = tuple(t for t in args.names.split(",") if t)
    records = answer_all(args.index_dir, args.questions, args.passages, names)
    if args.dump:
        args.dump.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    for name in dict.fromkeys(r["set"] for r in records):
        print(f"\n{name} (reader reads {args.passages} passages, names checked: {names or 'none'})")
        print(table([r for r in records if r["set"] == name]))
    print(f"\n{len(records)} questions in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
