"""Build an open-domain question set from CMRC 2018 trial: its paragraphs as issues, its questions as a question file.

CMRC 2018 trial's articles are split three ways (``qa.reader_train.cmrc_trial_split``): a fifth
held back, two fifths the reader trains on, two fifths its development split. Read in isolation
the development split only tests reading; here it tests the whole of newsqa: every paragraph
that is not held back becomes an article of an HTML issue (the Wikipedia title as the headline),
to be indexed beside other issues (the distractor archive), and each question is asked of the
whole index. The held-back paragraphs are written to no issue, so their questions have no answer
in the index and the right reply is "no answer". CMRC 2018 trial has one paragraph per article,
so a held-back paragraph takes its whole topic with it. The question file holds the development
questions and the held-back ones (``--with-train`` adds the training part's, marked "cmrc-train").

Writes ``OUT_DIR/issues/cmrc-2018-01-DD.html`` (``--per-file`` paragraphs each) and
``OUT_DIR/questions.jsonl`` in newsqa's question format: ``answers`` holds every gold answer
(for exact match and F1), ``gold`` a stretch of the paragraph around the first one (for
retrieval recall); unanswerable questions have neither.

Usage: python bench/cmrc_issues.py OUT_DIR [--source cmrc2018_trial.json] [--questions N] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.reader_train import cmrc_trial_split  # noqa: E402

DEFAULT_SOURCE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "reading" / "cmrc2018_trial.json"
GOLD_CONTEXT = 6  # characters kept on each side of the answer in ``gold``


def build(out_dir: Path, source: Path = DEFAULT_SOURCE, per_file: int = 10, questions: int | None = None,
          seed: int = 7, with_train: bool = False) -> dict:
    """Write the issues and the question file.

    Args:
        out_dir: folder to write into (created).
        source: the CMRC 2018 trial JSON.
        per_file: paragraphs per issue file.
        questions: keep a random sample of this many questions (answerable and not, in proportion).
        seed: the sample.
        with_train: also ask the questions of the part the reader trains on.

    Returns:
        Counts: paragraphs indexed and held back, issue files, answerable and unanswerable questions.
    """
    data = json.loads(Path(source).read_text(encoding="utf-8"))["data"]
    rng = random.Random(seed)
    parts = cmrc_trial_split([str(a.get("id", a["title"])) for a in data])
    back = {i for i, a in enumerate(data) if str(a.get("id", a["title"])) in parts["held_back"]}
    trained = {i for i, a in enumerate(data) if str(a.get("id", a["title"])) in parts["train"]}
    issues = out_dir / "issues"
    issues.mkdir(parents=True, exist_ok=True)
    kept = [a for i, a in enumerate(data) if i not in back]
    day = dt.date(2018, 1, 1)
    for n in range(0, len(kept), per_file):
        body = "".join(f"<article>\n<h2>{html.escape(a['title'])}</h2>\n<p>{html.escape(p['context'])}</p>\n</article>\n"
                       for a in kept[n:n + per_file] for p in a["paragraphs"])
        date = day + dt.timedelta(days=n // per_file)
        page = (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
                f"<title>CMRC 2018 {date.isoformat()}</title></head>\n<body>\n{body}</body></html>\n")
        (issues / f"cmrc-{date.isoformat()}.html").write_text(page, encoding="utf-8")
    rows = []
    for i, article in enumerate(data):
        if i in trained and not with_train:
            continue
        for para in article["paragraphs"]:
            context = para["context"]
            for qa in para["qas"]:
                if not qa["question"].strip():
                    continue  # one trial question is empty
                answers = list(dict.fromkeys(a["text"].strip() for a in qa["answers"] if a["text"].strip()))
                if not answers:
                    continue
                if i in back:
                    rows.append({"id": qa["id"], "question": qa["question"], "answers": [], "gold": [],
                                 "kind": "cmrc-unanswerable", "held_back_answers": answers})
                    continue
                start = qa["answers"][0]["answer_start"]
                end = start + len(qa["answers"][0]["text"])
                if context[start:end] != qa["answers"][0]["text"]:
                    start = context.find(answers[0])
                    end = start + len(answers[0])
                gold = context[max(0, start - GOLD_CONTEXT): end + GOLD_CONTEXT] if start >= 0 else answers[0]
                rows.append({"id": qa["id"], "question": qa["question"], "answers": answers, "gold": [gold],
                             "kind": "cmrc-train" if i in trained else "cmrc"})
    if questions and questions < len(rows):
        rows = sorted(rng.sample(rows, questions), key=lambda r: r["id"])
    with (out_dir / "questions.jsonl").open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"paragraphs_indexed": len(kept), "paragraphs_held_back": len(back), "paragraphs_trained_on": len(trained),
            "issue_files": len(list(issues.glob("*.html"))),
            "answerable": sum(1 for r in rows if r["gold"]), "unanswerable": sum(1 for r in rows if not r["gold"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the CMRC 2018 trial JSON file")
    parser.add_argument("--questions", type=int, default=None, help="keep a random sample of this many questions")
    parser.add_argument("--per-file", type=int, default=10, help="paragraphs per issue file")
    parser.add_argument("--seed", type=int, default=7, help="the question sample")
    parser.add_argument("--with-train", action="store_true", help="also ask the questions of the reader's training part")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"error: no CMRC 2018 trial file at {args.source}", file=sys.stderr)
        return 2
    counts = build(args.out_dir, args.source, per_file=args.per_file, questions=args.questions, seed=args.seed,
                   with_train=args.with_train)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
