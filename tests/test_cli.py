"""Tests of the `newsqa` commands as the README promises them: parse, search, ask, list, remove, stats
and their --json, --user-dict and --factory through `newsqa index`, the defaults (bind address,
$NEWSQA_INDEX), and that no NEWSQA_* setting of the shell reaches a test.

Most commands run in process through ``qa.cli.main`` (the console script's entry point, same
parser and code) so that the session's loaded model is reused; one that teaches jieba a user
dictionary runs as a subprocess, since jieba's dictionary is global to a process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys


from conftest import ROOT, SAMPLE, clean_env, newsqa_command
from qa.cli import build_parser, main

QUESTION = "浙江电网用电负荷哪天突破1亿千瓦？"
JULY_3 = "7月3日,浙江电网用电负荷突破1亿千瓦"

# A small issue of another paper; 澜湄青禾合作社 is a made-up name jieba does not know.
COOP_ISSUE = """澜湄青禾合作社茶园喜获丰收

本报记者 王小明

本报杭州8月5日电 澜湄青禾合作社今年春茶总产量达到61吨,比去年增长8.5%。

合作社负责人介绍,今年春季气温回升早、雨水充足,茶叶品质明显提升。

茶农们表示,采摘期比往年长了五天。
"""


def _run(capsys, *argv) -> tuple[int, str, str]:
    """Run `newsqa ARGV...` in process: (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json(capsys, *argv):
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


class TestParse:
    def test_json_gives_articles_and_paragraphs_with_offsets(self, capsys):
        issue = _json(capsys, "parse", SAMPLE, "--json")
        assert (issue["paper"], issue["date"], issue["source"]) == ("zjrb", "2023-08-01", SAMPLE.name)
        assert any("能源保供" in (a["title"] or "") for a in issue["articles"])
        paragraphs = [p for a in issue["articles"] for p in a["paragraphs"]]
        july = next(p for p in paragraphs if p["text"].startswith(JULY_3))
        assert SAMPLE.read_text(encoding="utf-8")[july["start"]:july["end"]].startswith("7月3日")

    def test_text_lists_the_articles_with_paper_and_date_given(self, capsys):
        code, out, _ = _run(capsys, "parse", SAMPLE, "--paper", "浙江日报", "--date", "2023-08-02")
        assert code == 0
        assert out.startswith(f"{SAMPLE.name}: paper=浙江日报 date=2023-08-02 articles=")
        assert "  [1] " in out and "能源保供" in out


class TestReadCommands:
    """search, ask, list and stats on the gallery index (5 issues of 4 papers), read only."""

    def test_search_json_with_k_and_date_filter(self, capsys, gallery_index_dir):
        body = _json(capsys, "search", "用电负荷", "-k", "5", "--date-from", "2023-08-01", "--json",
                     "--index-dir", gallery_index_dir)
        results = body["results"]
        assert body["query"] == "用电负荷" and 1 <= len(results) <= 5
        assert [r["rank"] for r in results] == list(range(1, len(results) + 1))
        assert all(r["date"] >= "2023-08-01" for r in results)
        assert any("突破1亿千瓦" in r["text"] for r in results)
        body = _json(capsys, "search", "用电负荷", "--date-to", "2022-12-31", "--json", "--index-dir", gallery_index_dir)
        assert body["results"] and all(r["date"] <= "2022-12-31" for r in body["results"])

    def test_search_text_and_paper_filter(self, capsys, gallery_index_dir):
        code, out, _ = _run(capsys, "search", QUESTION, "--paper", "zjrb", "-k", "3", "--index-dir", gallery_index_dir)
        assert code == 0 and out.startswith("[1] ") and "浙江日报 2023-08-01 《" in out.splitlines()[0]
        assert JULY_3 in out.splitlines()[1]
        assert sum(line.startswith("[") for line in out.splitlines()) == 3
        code, out, _ = _run(capsys, "search", QUESTION, "--paper", "no-such-paper", "--index-dir", gallery_index_dir)
        assert code == 0 and out.strip() == "no results"

    def test_ask_json_cites_the_paragraph(self, capsys, gallery_index_dir):
        body = _json(capsys, "ask", QUESTION, "--json", "--index-dir", gallery_index_dir)
        assert "7月3日" in body["answer"] and "[1]" in body["answer"] and body["reason"] is None
        first = body["citations"][0]
        assert (first["paper"], first["date"]) == ("zjrb", "2023-08-01") and JULY_3 in first["text"]
        start, end = first["highlight"]
        assert "7月3日" in first["text"][start:end]

    def test_ask_text_answers_or_says_why_not(self, capsys, gallery_index_dir):
        code, out, _ = _run(capsys, "ask", QUESTION, "--index-dir", gallery_index_dir)
        lines = out.splitlines()
        # the short answer with the reader's confidence, the cited sentence, then the citations
        assert code == 0 and lines[0].startswith("7月3日（把握 ") and "浙江电网用电负荷突破1亿千瓦" in lines[1]
        assert lines[2].startswith("  [1] 浙江日报 2023-08-01 《")
        code, out, _ = _run(capsys, "ask", "上海电网用电负荷哪天突破1亿千瓦？", "--index-dir", gallery_index_dir)
        assert code == 0 and out.startswith("没有找到答案") and "上海" in out

    def test_list_and_stats_json_agree(self, capsys, gallery_index_dir):
        issues = _json(capsys, "list", "--json", "--index-dir", gallery_index_dir)
        stats = _json(capsys, "stats", "--json", "--index-dir", gallery_index_dir)
        assert "zjrb-2023-08-01" in {i["issue_id"] for i in issues}
        assert stats["issues"] == len(issues) == 5
        assert stats["paragraphs"] == sum(i["paragraphs"] for i in issues) == stats["vectors"]
        assert stats["factory"] == "Flat" and stats["model"] and stats["dim"] == 384
        assert stats["index_dir"] == str(gallery_index_dir)
        code, out, _ = _run(capsys, "stats", "--index-dir", gallery_index_dir)
        assert code == 0 and any(line.split()[:2] == ["paragraphs", str(stats["paragraphs"])] for line in out.splitlines())


class TestRemove:
    def test_remove_drops_the_issue_and_reports_unknown_ids(self, capsys, index_copy):
        code, out, err = _run(capsys, "remove", "zjrb-2023-08-01", "no-such-issue", "--index-dir", index_copy)
        assert code == 1 and "removed 1 issue(s)" in out and "no-such-issue" in err
        assert _json(capsys, "list", "--json", "--index-dir", index_copy) == []
        stats = _json(capsys, "stats", "--json", "--index-dir", index_copy)
        assert (stats["issues"], stats["paragraphs"], stats["vectors"]) == (0, 0, 0)
        assert _json(capsys, "search", QUESTION, "--json", "--index-dir", index_copy)["results"] == []


class TestPaperName:
    def test_index_paper_name_is_listed_and_cited(self, capsys, tmp_path):
        coop = tmp_path / "coop-2023-08-05.txt"
        coop.write_text(COOP_ISSUE, encoding="utf-8")
        index_dir = tmp_path / "idx"
        code, _, err = _run(capsys, "index", coop, "--paper-name", "青禾合作社报", "-q", "--index-dir", index_dir)
        assert code == 0, err
        code, out, _ = _run(capsys, "list", "--index-dir", index_dir)
        assert code == 0 and out.split()[:2] == ["coop-2023-08-05", "青禾合作社报"]
        (hit, *_) = _json(capsys, "search", "春茶总产量", "--json", "--index-dir", index_dir)["results"]
        assert (hit["paper"], hit["paper_name"]) == ("coop", "青禾合作社报")

    def test_list_columns_line_up_with_chinese_names(self, capsys, tmp_path):
        import unicodedata

        index_dir = tmp_path / "idx"
        for name, paper_name in (("coop-2023-08-05.txt", "青禾合作社报"), ("farm-2023-08-06.txt", "farm")):
            (tmp_path / name).write_text(COOP_ISSUE, encoding="utf-8")
            code, _, err = _run(capsys, "index", tmp_path / name, "--paper-name", paper_name, "-q", "--index-dir", index_dir)
            assert code == 0, err
        code, out, _ = _run(capsys, "list", "--index-dir", index_dir)
        lines = out.splitlines()
        assert code == 0 and len(lines) == 2

        def column(line: str) -> int:  # terminal column where the date starts
            before = line[: line.index(" 2023-08-0")]  # the date column, not the id or file name
            return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in before)

        assert column(lines[0]) == column(lines[1])


class TestFactory:
    """`newsqa index --factory`: the FAISS layout is kept through deletes and trained once it can be."""

    def test_hnsw_survives_a_delete(self, capsys, tmp_path):
        from qa.index import NewsIndex

        index_dir = tmp_path / "idx"
        coop = tmp_path / "coop-2023-08-05.txt"
        coop.write_text(COOP_ISSUE, encoding="utf-8")
        code, _, err = _run(capsys, "index", SAMPLE, coop, "--factory", "HNSW32", "-q", "--index-dir", index_dir)
        assert code == 0, err
        assert _json(capsys, "stats", "--json", "--index-dir", index_dir)["factory"] == "HNSW32"
        code, _, err = _run(capsys, "remove", "coop-2023-08-05", "--index-dir", index_dir)
        assert code == 0, err
        with NewsIndex(index_dir, readonly=True) as index:
            vectors = index.vectors()
            assert vectors.factory == "HNSW32"  # rebuilt as HNSW, not left as whatever deleting needed
            assert vectors.ntotal == index.stats()["vectors"] > 0
        results = _json(capsys, "search", QUESTION, "--json", "--index-dir", index_dir)["results"]
        assert JULY_3 in results[0]["text"] and all(r["paper"] != "coop" for r in results)

    def test_ivf_is_trained_once_enough_vectors_exist(self, capsys, tmp_path):
        from embeddings.vectors import min_train_size
        from qa.index import NewsIndex

        # IVF1,Flat needs 39 vectors to train: the 3-paragraph issue alone is too few, the sample is enough.
        assert 3 < min_train_size("IVF1,Flat", 384) <= 50
        index_dir = tmp_path / "idx"
        coop = tmp_path / "coop-2023-08-05.txt"
        coop.write_text(COOP_ISSUE, encoding="utf-8")
        code, _, err = _run(capsys, "index", coop, "--factory", "IVF1,Flat", "-q", "--index-dir", index_dir)
        assert code == 0, err
        with NewsIndex(index_dir, readonly=True) as index:
            assert index.vectors().factory == "Flat"  # flat until it can be trained
        code, _, err = _run(capsys, "index", SAMPLE, "-q", "--index-dir", index_dir)
        assert code == 0, err
        with NewsIndex(index_dir, readonly=True) as index:
            vectors = index.vectors()
            assert vectors.factory == "IVF1,Flat" and vectors.ntotal == index.stats()["vectors"]
        results = _json(capsys, "search", "澜湄青禾合作社春茶总产量", "--json", "--index-dir", index_dir)["results"]
        assert "61吨" in results[0]["text"]
        code, _, err = _run(capsys, "remove", "coop-2023-08-05", "--index-dir", index_dir)
        assert code == 0, err
        results = _json(capsys, "search", QUESTION, "--json", "--index-dir", index_dir)["results"]
        assert JULY_3 in results[0]["text"] and all(r["paper"] != "coop" for r in results)


class TestUserDict:
    def test_a_name_in_the_user_dict_is_one_search_token(self, tmp_path):
        from qa.tokens import index_tokens

        name = "澜湄青禾合作社"
        assert name not in index_tokens(COOP_ISSUE).split()  # jieba alone cuts the made-up name up
        words = tmp_path / "names.txt"
        words.write_text(f"{name} 100 nt\n", encoding="utf-8")
        coop = tmp_path / "coop-2023-08-05.txt"
        coop.write_text(COOP_ISSUE, encoding="utf-8")
        index_dir = tmp_path / "idx"
        run = subprocess.run([*newsqa_command(), "index", str(coop), "--user-dict", str(words), "-q",
                              "--index-dir", str(index_dir)], capture_output=True, text=True, timeout=600,
                             env=clean_env())
        assert run.returncode == 0, run.stderr
        db = sqlite3.connect(index_dir / "newsqa.sqlite")
        try:
            terms = {row[0] for row in db.execute("SELECT term FROM terms")}
        finally:
            db.close()
        assert name in terms
        # The dictionary is kept with the index: a later command uses it without being told.
        search = subprocess.run([*newsqa_command(), "search", f"{name}今年产量", "--json", "--index-dir", str(index_dir)],
                                capture_output=True, text=True, timeout=600, env=clean_env())
        assert search.returncode == 0, search.stderr
        assert "61吨" in json.loads(search.stdout)["results"][0]["text"]

    def test_a_missing_user_dict_is_a_one_line_error(self, capsys, tmp_path):
        code, _, err = _run(capsys, "index", SAMPLE, "--user-dict", tmp_path / "none.txt", "--index-dir", tmp_path / "idx")
        assert code != 0 and "user dictionary not found" in err and "Traceback" not in err


class TestDefaults:
    def test_serve_binds_to_loopback_port_7860_by_default(self):
        args = build_parser().parse_args(["serve"])
        assert (args.host, args.port) == ("127.0.0.1", 7860)

    def test_index_dir_comes_from_newsqa_index(self, capsys, monkeypatch, index_copy):
        monkeypatch.setenv("NEWSQA_INDEX", str(index_copy))
        stats = _json(capsys, "stats", "--json")
        assert stats["index_dir"] == str(index_copy) and stats["issues"] == 1

    def test_index_dir_defaults_to_home(self, monkeypatch, tmp_path):
        from qa.index import default_index_dir

        monkeypatch.setenv("HOME", str(tmp_path))
        assert default_index_dir() == tmp_path / ".newsqa" / "index"


class TestSettingsDoNotLeak:
    def test_a_test_sees_no_newsqa_setting(self):
        assert not [k for k in os.environ if k.startswith("NEWSQA_")]
        assert not [k for k in clean_env() if k.startswith("NEWSQA_")]

    def test_settings_of_the_shell_do_not_reach_tests(self, tmp_path):
        """Run the test above under pytest with settings that would break the suite set in its environment."""
        env = clean_env(NEWSQA_PRECISION="int8", NEWSQA_THREADS="1", NEWSQA_INDEX=str(tmp_path / "elsewhere"),
                        NEWSQA_LLM_URL="http://127.0.0.1:9/v1", NEWSQA_TOKEN="leaked")
        node = f"{__file__}::TestSettingsDoNotLeak::test_a_test_sees_no_newsqa_setting"
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
                             capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
        assert run.returncode == 0, run.stdout[-3000:]
        assert os.environ.get("NEWSQA_INDEX") is None  # and the outer test's own environment is clean

