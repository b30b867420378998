"""Browser tests of the chat page on a live server (headless Debian Chromium via Playwright)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
ANSWER_TIMEOUT_MS = 60_000

TEA_ISSUE = """西湖龙井春茶产量创近十年新高

本报记者 王小明

本报杭州8月1日电 今年西湖龙井春茶总产量达到812吨,比去年增长6.5%,创下近十年新高。

据杭州市农业农村局介绍,今年春季气温回升早、雨水充足,茶叶品质也明显提升。
"""

# Newspaper text that must show as text: a script tag, a Markdown link, emphasis and a bare URL.
HOSTILE_ISSUE = """青溪镇*文化站*今天开放

本报记者 赵小红

青溪镇文化站的站长是李明远,他说<script>alert(1)</script>欢迎大家来[点我](http://example.com)报名,详见www.example.com。

文化站每周开放六天,周一闭馆。
"""

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's Chromium is missing: run scripts/browser-deps.sh (as root), as `make test` does"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, live_server):
    """A fresh page on the chat, recording any JavaScript dialog (there must never be one)."""
    context = browser.new_context(viewport={"width": 1280, "height": 960}, locale="zh-CN")
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(live_server.url + "/")
    page.get_by_placeholder("输入问题，回车发送").wait_for()
    yield page
    context.close()


@pytest.fixture()
def cleanup(live_server):
    """Issues the test adds; removed afterwards so the server keeps the sample only."""
    added: list[str] = []
    yield added
    for issue_id in added:
        httpx.delete(f"{live_server.url}/api/issues/{issue_id}", headers=live_server.auth, timeout=60)


def ask(page, question: str):
    """Send a question and wait for the complete reply; returns the reply's answer element.

    A reply is complete when its 来源 panel is there (an answer) or it says there is none.
    """
    before = page.locator("#chatbot .newsqa-answer").count()
    box = page.locator("#question textarea").first  # (its placeholder is gone once the chat has a turn)
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        """n => {
            const answers = document.querySelectorAll('#chatbot .newsqa-answer');
            if (answers.length <= n) return false;
            const last = answers[answers.length - 1];
            return !!last.parentElement.querySelector('details.newsqa-sources')
                || /没有找到答案|无法回答/.test(last.textContent);
        }""", arg=before, timeout=ANSWER_TIMEOUT_MS)
    return page.locator("#chatbot .newsqa-answer").last


def _watch_stream(page) -> None:
    """Record the reply's length on every DOM change, to see it grow before the sources appear."""
    page.evaluate("""() => {
        window.__lengths = [];
        new MutationObserver(() => {
            const answers = document.querySelectorAll('#chatbot .newsqa-answer');
            if (!answers.length) return;
            const last = answers[answers.length - 1];
            const msg = last.parentElement;
            window.__lengths.push([last.textContent.length, !!(msg && msg.querySelector('details.newsqa-sources'))]);
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")


def test_chat_answers_with_sources_and_streams(page):
    _watch_stream(page)
    # An example question is offered on the empty chat.
    page.get_by_text("浙江电网用电负荷哪天突破1亿千瓦？").first.wait_for()
    answer = ask(page, "浙江电网用电负荷哪天突破1亿千瓦？")
    assert "7月3日" in answer.inner_text()
    assert "[1]" in answer.inner_text()
    sources = page.locator("#chatbot details.newsqa-sources").last
    sources.wait_for()
    assert "来源" in sources.locator("summary").inner_text()
    sources.locator("summary").click()
    first = sources.locator(".newsqa-source").first
    head = first.locator(".newsqa-source-head").inner_text()
    assert head.startswith("[1]") and "能源保供" in head and "2023年8月1日" in head and "段" in head
    assert "7月3日" in first.locator("mark").inner_text()
    assert "浙江电网用电负荷突破1亿千瓦" in first.locator(".newsqa-source-text").inner_text()
    lengths = page.evaluate("window.__lengths")
    # Streamed: the answer was on the page, growing, before the sources were added.
    partial = {n for n, done in lengths if not done}
    assert partial and min(partial) < max(n for n, _ in lengths), f"the answer did not stream: {lengths[:20]}"
    assert not page.dialogs
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "chat.png"))
    if os.environ.get("NEWSQA_UPDATE_SCREENSHOT"):  # refresh the README's picture on request only
        shutil.copyfile(artifacts / "chat.png", ROOT / "docs" / "chat.png")


def test_the_sample_shows_its_paper_name_and_a_chinese_date(page):
    """The sample's file name says zjrb; readers see 浙江日报 and 2023年8月1日 in the citation,
    the paper filter and the table of issues."""
    ask(page, "浙江电网用电负荷哪天突破1亿千瓦？")
    head = page.locator("#chatbot details.newsqa-sources").last.locator(".newsqa-source-head").first
    text = head.text_content()  # the panel is collapsed: its text is in the DOM, not rendered
    assert "浙江日报 · 2023年8月1日" in text and "zjrb" not in text and "2023-08-01" not in text, text
    page.locator("#paper input").first.click()
    page.get_by_role("option", name="浙江日报").wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="已索引的报纸").click()
    page.wait_for_function("() => /浙江日报[\\s\\S]*2023年8月1日/.test(document.querySelector('#issues-table')?.innerText || '')",
                           timeout=10_000)


@pytest.mark.parametrize("iso, shown", [("2023-08-01", "2023年8月1日"), ("2024-12-31", "2024年12月31日"),
                                        (None, None), ("8月1日", "8月1日")])
def test_chinese_date(iso, shown):
    from ui.chat import chinese_date

    assert chinese_date(iso) == shown


def test_no_answer_says_so_and_why(page):
    """A place the issue never names (the July 3 paragraph is still retrieved): no answer, and the
    reason shown names the place."""
    answer = ask(page, "上海电网用电负荷哪天突破1亿千瓦？")
    text = answer.inner_text()
    assert "没有找到答案" in text and "上海" in text, text
    assert "7月3日" not in text


def test_a_follow_up_uses_the_conversation(page):
    """"那党委书记呢？" alone could be any party secretary (the sample names 杨洪波 too); after a
    question about 浙能集团 the chat answers about 浙能集团's: 胡仲明."""
    first = ask(page, "浙能集团的董事长是谁？")
    assert "胡仲明" in first.inner_text()
    follow = ask(page, "那党委书记呢？")
    text = follow.inner_text()
    assert "胡仲明" in text and "杨洪波" not in text, text


def test_a_follow_up_shows_the_question_it_was_searched_as(page):
    """#15: "他" is the person the first answer named, and the chat says what it searched."""
    ask(page, "浙能集团的董事长是谁？")
    follow = ask(page, "那他怎么看能源保供？")
    searched = follow.locator("xpath=..").locator(".newsqa-query")
    searched.wait_for()
    text = searched.inner_text()
    assert text.startswith("按“") and "胡仲明" in text and "他" not in text.replace("胡仲明", ""), text
    # a standalone first question shows no such line
    assert page.locator("#chatbot .newsqa-query").count() == 1


def test_upload_a_new_issue_then_ask_about_it(page, live_server, tmp_path, cleanup):
    issue = tmp_path / "hzrb-2023-08-02.txt"
    issue.write_text(TEA_ISSUE, encoding="utf-8")
    page.get_by_role("button", name="上传新一期").click()
    # The token first: the server stores the chosen file only for a client that may write.
    token_box = page.locator("#upload-token").locator("input, textarea")
    if live_server.token:
        token_box.first.fill(live_server.token)
        # the chat copies the typed token into the cookie its file uploads carry: wait for it, as a
        # person picking the file after typing would
        page.wait_for_function("() => document.cookie.includes('newsqa_token=')", timeout=10_000)
    page.locator("#upload-file input[type=file]").set_input_files(str(issue))
    page.locator("#upload-paper").locator("input, textarea").first.fill("hzrb")
    page.locator("#upload-paper-name").locator("input, textarea").first.fill("杭州日报（测试）")
    page.locator("#upload-date").locator("input, textarea").first.fill("2023-08-02")
    page.locator("#upload-button").click()
    cleanup.append("hzrb-2023-08-02")
    status = page.locator("#upload-status")
    status.get_by_text("已添加").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "hzrb-2023-08-02" in status.inner_text()
    page.get_by_role("button", name="已索引的报纸").click()
    page.wait_for_function("id => (document.querySelector('#issues-table')?.innerText || '').includes(id)",
                           arg="hzrb-2023-08-02", timeout=10_000)
    answer = ask(page, "今年西湖龙井春茶总产量是多少？")
    assert "812吨" in answer.inner_text()
    head = page.locator("#chatbot details.newsqa-sources").last.locator(".newsqa-source-head").first
    # The panel is collapsed: its text is in the DOM, not rendered.
    assert "杭州日报（测试） · 2023年8月2日" in head.text_content()


def test_wrong_token_is_refused_in_the_ui(page, live_server, tmp_path):
    assert live_server.token, "the test server must be started with a write token"
    before = {i["issue_id"] for i in httpx.get(f"{live_server.url}/api/issues").json()}
    issue = tmp_path / "wrong.txt"
    issue.write_text(TEA_ISSUE, encoding="utf-8")
    page.get_by_role("button", name="上传新一期").click()
    page.locator("#upload-token").locator("input, textarea").first.fill("not-the-token")
    page.locator("#upload-file input[type=file]").set_input_files(str(issue))
    page.locator("#upload-button").click()
    page.locator("#upload-status").get_by_text("令牌不正确").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert {i["issue_id"] for i in httpx.get(f"{live_server.url}/api/issues").json()} == before


def test_newspaper_text_is_shown_as_text_never_as_markup(page, live_server, cleanup):
    response = httpx.post(f"{live_server.url}/api/issues", headers=live_server.auth, timeout=120,
                          files={"file": ("qxwh-2023-08-05.txt", HOSTILE_ISSUE.encode(), "text/plain")},
                          data={"paper": "qxwh", "date": "2023-08-05"})
    assert response.status_code == 200, response.text
    cleanup.append(response.json()["issue_id"])
    ask(page, "青溪镇文化站的站长是谁？")
    reply = page.locator("#chatbot .newsqa-answer").last.locator("xpath=..")
    reply.locator("details.newsqa-sources summary").click()
    text = reply.inner_text()
    assert "<script>alert(1)</script>" in text
    assert "[点我](http://example.com)" in text
    assert "*文化站*" in text
    chat = page.locator("#chatbot")
    assert chat.locator("a[href^='http://example.com'], a[href*='example.com']").count() == 0
    assert chat.locator("script").count() == 0
    # the only bold is newsqa's own: the short answer and its mark inside the cited sentence
    assert reply.locator("em, strong:not(.newsqa-short-text):not(.newsqa-span)").count() == 0
    # A script run by the reply would have opened its dialog while the reply was inserted; a round
    # trip through the page's event loop delivers any dialog event before the check (no fixed wait).
    page.evaluate("() => new Promise(resolve => setTimeout(resolve, 0))")
    assert not page.dialogs


# ---------------------------------------------------------------------- Gradio routes (#13 point 4)
def test_gradio_upload_needs_the_write_token(live_server):
    """Gradio stores an upload (and serves it back) before any event checks the token: anonymous
    file hosting unless the route itself is guarded."""
    assert live_server.token
    files = {"files": ("ls", b"\x7fELF" + bytes(range(256)) * 16, "application/octet-stream")}
    anonymous = httpx.post(f"{live_server.url}/gradio_api/upload", files=files, timeout=60)
    assert anonymous.status_code == 401, anonymous.text
    assert "/" not in str(anonymous.json().get("detail", ""))[:1]  # a message, not a stored path
    wrong = httpx.post(f"{live_server.url}/gradio_api/upload", files=files, timeout=60,
                       headers={"Authorization": "Bearer wrong"}, cookies={"newsqa_token": "wrong"})
    assert wrong.status_code == 401
    allowed = httpx.post(f"{live_server.url}/gradio_api/upload", files=files, headers=live_server.auth, timeout=60)
    assert allowed.status_code == 200 and len(allowed.json()) == 1
    by_cookie = httpx.post(f"{live_server.url}/gradio_api/upload", files=files, timeout=60,
                           cookies={"newsqa_token": live_server.token})
    assert by_cookie.status_code == 200


@pytest.mark.parametrize("body", [{"foo": 1}, {"data": 5}, {"message": 5}, {"message": "浙江", "k": "x" * 10}])
def test_a_malformed_gradio_call_is_a_4xx(live_server, body):
    before = live_server.output().count("Traceback")
    response = httpx.post(f"{live_server.url}/gradio_api/call/v2/ask", json=body, timeout=60)
    assert 400 <= response.status_code < 500, response.text
    assert isinstance(response.json()["detail"], (str, list))
    assert live_server.output().count("Traceback") == before


def test_a_subtitle_or_caption_source_is_named_by_what_it_is():
    """Numbered after the body, a 副题's index position is not the paper's: the head says 副题."""
    from ui.chat import render_source

    base = {"title": "外贸“开门红”成色足", "paper_name": "钱塘日报", "date": "2024-03-05", "text": "前两月全省进出口同比增长8.2%"}
    assert "· 副题</div>" in render_source(1, dict(base, paragraph=5, section="副题"))
    assert "· 图片说明</div>" in render_source(1, dict(base, paragraph=6, section="图片说明"))
    assert "· 第2段</div>" in render_source(1, dict(base, paragraph=2, section="新兴市场拓展加速"))
