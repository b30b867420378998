"""Evaluation: retrieval recall/MRR, answer hit rate, abstention and latency on a question set."""

from __future__ import annotations

import json
import time
from pathlib import Path

from qa.answer import Answerer, resolve_followup
from qa.errors import InputError
from qa.index import NewsIndex
from qa.retrieve import HybridRetriever
from qa.tokens import normalize

MODES = ("hybrid", "dense", "bm25")


def load_questions(path: str | Path) -> list[dict]:
    """Read a JSONL question set, checking each line's fields.

    Args:
        path: JSONL, one ``{"question", "answers": [...], "gold": [...]}`` per line (optional
            ``history`` for follow-ups, ``id``, ``kind``).

    Returns:
        The questions.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no question file at {path}")
    questions = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: not JSON ({exc.msg})") from exc
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise InputError(f"{path}:{n}: each line needs a \"question\" string")
        item.setdefault("answers", [])
        item.setdefault("gold", [])
        questions.append(item)
    if not questions:
        raise InputError(f"{path} holds no questions")
    return questions


def is_relevant(text: str, gold: list[str]) -> bool:
    """A passage is relevant when it contains one of the gold substrings (compared normalised)."""
    norm = normalize(text)
    return any(normalize(g) in norm for g in gold)


def first_hit(results: list[dict], gold: list[str]) -> int | None:
    """1-based rank of the first relevant result, or None."""
    for n, r in enumerate(results, 1):
        if is_relevant(r["text"], gold):
            return n
    return None


# CMRC 2018's punctuation set for its answer metrics, plus ASCII punctuation.
_PUNCTUATION = set("-:_*^/\\~`+=，。：？！“”；’《》……·、「」（）－～『』") | set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _segments(text: str) -> list[str]:
    """CMRC 2018's mixed segmentation without punctuation: each CJK character alone, runs of
    letters and digits as words, lower-cased."""
    out, word = [], ""
    for ch in text.lower().strip():
        if ch.isascii() and ch.isalnum() or ch == ".":
            word += ch
            continue
        if word:
            out.append(word)
            word = ""
        if not ch.isspace() and ch not in _PUNCTUATION:
            out.append(ch)
    if word:
        out.append(word)
    return [w.strip(".") or w for w in out if w not in _PUNCTUATION]


def _longest_common_run(a: list[str], b: list[str]) -> int:
    """Length of the longest common contiguous run of two token lists."""
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def span_f1(prediction: str, answers: list[str]) -> float:
    """CMRC 2018 F1: precision and recall of the longest common substring (characters; letter
    and digit runs as words), punctuation ignored; the best over the gold answers."""
    pred = _segments(prediction or "")
    best = 0.0
    for answer in answers:
        gold = _segments(answer)
        common = _longest_common_run(pred, gold)
        if common:
            p, r = common / len(pred), common / len(gold)
            best = max(best, 2 * p * r / (p + r))
    return best


def span_em(prediction: str, answers: list[str]) -> float:
    """CMRC 2018 exact match: 1.0 when the prediction equals a gold answer, punctuation and case ignored."""
    pred = "".join(_segments(prediction or ""))
    return float(bool(pred) and any(pred == "".join(_segments(a)) for a in answers))


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def evaluate(index: NewsIndex, questions: str | Path | list[dict], k: int = 10, answerer: Answerer | None = None) -> dict:
    """Score the retrievers and the answerer on a question set.

    Args:
        index: the index holding the issues the questions are about.
        questions: a JSONL path or the loaded questions.
        k: retrieval depth.
        answerer: the answerer to score (default: ``Answerer(index)`` with its default settings).

    Returns:
        ``{"questions": n, "answerable": a, "unanswerable": u, "retrieval": {mode: {...}},
        "answers": {...}}`` with Recall@1/5/10, MRR@10 and latency (ms p50/p95) per mode, and
        the answerer's sentence hit rate (an answer sentence holds a gold answer), short-answer
        exact match and F1 (CMRC 2018's metrics, 0 for no answer), answer rate and abstention.
    """
    items = load_questions(questions) if not isinstance(questions, list) else questions
    answerable = [q for q in items if q["gold"]]
    unanswerable = [q for q in items if not q["gold"] and not q["answers"]]
    report: dict = {"questions": len(items), "answerable": len(answerable), "unanswerable": len(unanswerable),
                    "retrieval": {}, "answers": {}, "misses": []}
    index.encoder  # load the model before timing  # noqa: B018
    for mode in MODES:
        retriever = HybridRetriever(index, mode=mode)
        ranks, latencies = [], []
        for q in answerable:
            query = resolve_followup(q["question"], q.get("history"))
            t0 = time.perf_counter()
            results = retriever.run(query, k=k)
            latencies.append((time.perf_counter() - t0) * 1000)
            rank = first_hit(results, q["gold"])
            ranks.append(rank)
            if mode == "hybrid" and (rank is None or rank > 5):
                report["misses"].append({"id": q.get("id"), "question": q["question"], "rank": rank})
        n = max(1, len(ranks))
        report["retrieval"][mode] = {
            "recall@1": sum(1 for r in ranks if r and r <= 1) / n,
            "recall@5": sum(1 for r in ranks if r and r <= 5) / n,
            "recall@10": sum(1 for r in ranks if r and r <= 10) / n,
            "mrr@10": sum(1 / r for r in ranks if r and r <= 10) / n,
            "latency_ms_p50": round(_percentile(latencies, 0.5), 1),
            "latency_ms_p95": round(_percentile(latencies, 0.95), 1),
        }
    answerer = answerer or Answerer(index)
    hits = answered = abstained = 0
    em = f1 = 0.0
    latencies = []
    for q in items:
        t0 = time.perf_counter()
        result = answerer.run(q["question"], history=q.get("history"))
        latencies.append((time.perf_counter() - t0) * 1000)
        answer = result["answer"]
        if q in unanswerable:
            abstained += answer is None
            if answer is not None:
                report["misses"].append({"id": q.get("id"), "question": q["question"], "answered": answer})
            continue
        if q["gold"]:
            answered += answer is not None
            ok = answer is not None and is_relevant(answer, q["answers"])
            hits += ok
            em += span_em(result.get("short_answer") or "", q["answers"])
            f1 += span_f1(result.get("short_answer") or "", q["answers"])
            if not ok:
                report["misses"].append({"id": q.get("id"), "question": q["question"], "answer": answer,
                                         "reason": result.get("reason")})
    n_ans = max(1, len(answerable))
    report["answers"] = {
        "hit_rate": hits / n_ans,
        "short_answer_em": em / n_ans,
        "short_answer_f1": f1 / n_ans,
        "answer_rate": answered / n_ans,
        "abstention": abstained / len(unanswerable) if unanswerable else None,
        "latency_ms_p50": round(_percentile(latencies, 0.5), 1),
        "latency_ms_p95": round(_percentile(latencies, 0.95), 1),
    }
    return report


def format_report(report: dict) -> str:
    """The report as a small text table."""
    lines = [f"{report['questions']} questions: {report['answerable']} answerable, "
             f"{report['unanswerable']} unanswerable", "",
             f"{'retriever':10} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR@10':>7} {'p50 ms':>8} {'p95 ms':>8}"]
    for mode, m in report["retrieval"].items():
        lines.append(f"{mode:10} {m['recall@1']:6.3f} {m['recall@5']:6.3f} {m['recall@10']:6.3f} "
                     f"{m['mrr@10']:7.3f} {m['latency_ms_p50']:8.1f} {m['latency_ms_p95']:8.1f}")
    a = report["answers"]
    abst = "n/a" if a["abstention"] is None else f"{a['abstention']:.3f}"
    lines += ["", f"answers (hybrid): sentence hit {a['hit_rate']:.3f}, short answer EM {a['short_answer_em']:.3f} "
                  f"F1 {a['short_answer_f1']:.3f}, answered {a['answer_rate']:.3f} of answerable, "
                  f"abstention {abst} on unanswerable, p50 {a['latency_ms_p50']:.1f} ms, p95 {a['latency_ms_p95']:.1f} ms"]
    if report.get("misses"):
        lines += ["", "misses:"] + [f"  {json.dumps(m, ensure_ascii=False)}" for m in report["misses"]]
    return "\n".join(lines)
