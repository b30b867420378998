"""Evaluation: retrieval recall/MRR, answer hit rate, abstention and latency on a question set (or a set of conversations)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from qa.answer import Answerer
from qa.conversation import FollowupRewriter
from qa.errors import InputError
from qa.index import NewsIndex
from qa.retrieve import HybridRetriever
from qa.tokens import normalize

MODES = ("hybrid", "dense", "bm25")


def _jsonl(path: Path, what: str):
    """``(line number, parsed value)`` for each non-blank line of a JSONL file, or an InputError
    naming the file (and line) that is missing or not JSON."""
    if not path.is_file():
        raise InputError(f"no {what} file at {path}")
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: not JSON ({exc.msg})") from exc


def load_questions(path: str | Path) -> list[dict]:
    """Read a JSONL question set, checking each line's fields.

    Args:
        path: JSONL, one ``{"question", "answers": [...], "gold": [...]}`` per line (optional
            ``history`` for follow-ups, ``id``, ``kind``).

    Returns:
        The questions.
    """
    path = Path(path)
    questions = []
    for n, item in _jsonl(path, "question"):
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
    rewriter = FollowupRewriter()
    for mode in MODES:
        retriever = HybridRetriever(index, mode=mode)
        ranks, latencies = [], []
        for q in answerable:
            query = rewriter.run(q["question"], q.get("history"))["query"]
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


def is_conversation_set(path: str | Path) -> bool:
    """Whether a JSONL file holds conversations (``turns``) rather than single questions."""
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                first = json.loads(line)
            except json.JSONDecodeError:
                return False
            return isinstance(first, dict) and "turns" in first
    return False


def load_conversations(path: str | Path) -> list[dict]:
    """Read a JSONL set of conversations, checking each line's fields.

    Args:
        path: JSONL, one ``{"id", "turns": [{"question", "answers": [...], "gold": [...]} or
            {"question", "unanswerable": true}, ...]}`` per line. Only the user's side is stored:
            the assistant's turns of the history are what the system answered (see
            ``evaluate_conversations``).

    Returns:
        The conversations, each turn with ``answers`` and ``gold`` (empty for an unanswerable one).
    """
    path = Path(path)
    conversations = []
    for n, item in _jsonl(path, "conversation"):
        turns = item.get("turns") if isinstance(item, dict) else None
        if not isinstance(turns, list) or len(turns) < 2 or \
                not all(isinstance(t, dict) and isinstance(t.get("question"), str) for t in turns):
            raise InputError(f"{path}:{n}: each line needs \"turns\": two or more {{\"question\": ...}}")
        for t in turns:
            if t.get("unanswerable"):
                t["answers"], t["gold"] = [], []
            elif not t.get("answers") or not t.get("gold"):
                raise InputError(f"{path}:{n}: a turn needs \"answers\" and \"gold\", or \"unanswerable\": true")
        conversations.append(item)
    if not conversations:
        raise InputError(f"{path} holds no conversations")
    return conversations


def evaluate_conversations(index: NewsIndex, conversations: str | Path | list[dict], answerer: Answerer | None = None,
                           k: int = 5) -> dict:
    """Score the answerer on conversations, first turns and follow-ups apart.

    Each conversation is played in order: a follow-up is asked with the history of the earlier
    questions and of what the answerer replied to them (its answer, or its reason for none), as
    the chat and the API send it.

    Args:
        index: the index holding the issues the conversations are about.
        conversations: a JSONL path or the loaded conversations.
        answerer: the answerer to score (default: ``Answerer(index)``).
        k: depth at which the searched query's retrieval is scored.

    Returns:
        ``{"conversations": n, "first_turns": {...}, "followups": {...}, "misses": [...]}``; each
        part has ``answerable``, ``unanswerable``, ``hit_rate`` (the answer sentence holds a gold
        answer), ``answer_rate``, ``abstention`` (share of unanswerable turns with no answer) and
        ``recall@k`` (a gold passage among the first k retrieved for the query searched).
    """
    items = load_conversations(conversations) if not isinstance(conversations, list) else conversations
    answerer = answerer or Answerer(index)
    tallies = {part: {"answerable": 0, "unanswerable": 0, "hits": 0, "answered": 0, "abstained": 0, "found": 0}
               for part in ("first_turns", "followups")}
    misses = []
    for conversation in items:
        history: list[dict] = []
        for n, turn in enumerate(conversation["turns"]):
            tally = tallies["first_turns" if n == 0 else "followups"]
            result = answerer.run(turn["question"], history=list(history))
            answer = result["answer"]
            if turn["gold"]:
                tally["answerable"] += 1
                tally["answered"] += answer is not None
                hit = answer is not None and is_relevant(answer, turn["answers"])
                tally["hits"] += hit
                found = first_hit(answerer.retriever.run(result["query"], k=k), turn["gold"])
                tally["found"] += found is not None
                if not hit:
                    misses.append({"id": conversation.get("id"), "turn": n + 1, "question": turn["question"],
                                   "query": result["query"], "answer": answer, "rank": found,
                                   "reason": result.get("reason")})
            else:
                tally["unanswerable"] += 1
                tally["abstained"] += answer is None
                if answer is not None:
                    misses.append({"id": conversation.get("id"), "turn": n + 1, "question": turn["question"],
                                   "query": result["query"], "answered": answer})
            history += [{"role": "user", "content": turn["question"]},
                        {"role": "assistant", "content": answer or f"没有找到答案：{result.get('reason') or ''}"}]
    report: dict = {"conversations": len(items)}
    for part, t in tallies.items():
        a = max(1, t["answerable"])
        report[part] = {"answerable": t["answerable"], "unanswerable": t["unanswerable"],
                        "hit_rate": t["hits"] / a, "answer_rate": t["answered"] / a,
                        "abstention": t["abstained"] / t["unanswerable"] if t["unanswerable"] else None,
                        f"recall@{k}": t["found"] / a}
    report["misses"] = misses
    return report


def format_conversation_report(report: dict) -> str:
    """A conversation report as text: first turns and follow-ups on a line each, then the misses."""
    lines = [f"{report['conversations']} conversations", ""]
    for part, label in (("first_turns", "first turns"), ("followups", "follow-ups")):
        m = report[part]
        recall = next(v for key, v in m.items() if key.startswith("recall@"))
        abst = "n/a" if m["abstention"] is None else f"{m['abstention']:.3f}"
        lines.append(f"{label:12} {m['answerable']:3d} answerable: sentence hit {m['hit_rate']:.3f}, answered "
                     f"{m['answer_rate']:.3f}, retrieval recall {recall:.3f}; {m['unanswerable']:3d} unanswerable: "
                     f"abstention {abst}")
    if report.get("misses"):
        lines += ["", "misses:"] + [f"  {json.dumps(m, ensure_ascii=False)}" for m in report["misses"]]
    return "\n".join(lines)


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
