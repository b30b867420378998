"""Reader quality in the paragraph: a weights file read on the development parts of its data.

Each question is given its own paragraph (no retrieval), so the figures are the reader's alone:
EM/F1 and the share answered at the abstention threshold over the answerable questions, the
share refused over the paraphrase set's unanswerable ones. Parts: the paraphrased news
questions' development part (data/paraphrases.jsonl, every sixth corpus line) and CMRC 2018
trial's development split. Compare two weights files, e.g. the committed ones and a new run:

    mkdir -p /tmp/old && for f in reader.safetensors reader.json; do git show HEAD:qa/weights/$f > /tmp/old/$f; done
    .venv/bin/python bench/reader_quality.py /tmp/old/reader.safetensors qa/weights/reader.safetensors
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="*", type=Path, help="safetensors files (default: the committed reader)")
    parser.add_argument("--threshold", type=float, default=0.3, help="abstention threshold (default 0.3)")
    args = parser.parse_args(argv)

    from qa.read import DEFAULT_WEIGHTS, SpanReader
    from qa.reader_train import CMRC_FILE, DEFAULT_DATA, cmrc_trial_split, load_squad, paraphrase_examples, read_closed

    cmrc = load_squad(DEFAULT_DATA / CMRC_FILE)
    dev_articles = cmrc_trial_split(list(dict.fromkeys(ex.article for ex in cmrc)))["dev"]
    parts = {"paraphrase dev": paraphrase_examples(part="dev"),
             "CMRC trial dev": [ex for ex in cmrc if ex.article in dev_articles]}
    for weights in args.weights or [DEFAULT_WEIGHTS]:
        reader = SpanReader(weights)
        for name, examples in parts.items():
            print(f"{weights}  {name}: {json.dumps(read_closed(reader, examples, args.threshold))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
