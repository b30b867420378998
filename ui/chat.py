"""The Gradio chat page: streamed answers with a 来源 panel, filters, and an upload panel."""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from qa.errors import NewsQAError
from qa.parse import paragraph_label
from qa.sample import SAMPLE_NAME
from qa.upload import MAX_UPLOAD_BYTES, TOKEN_COOKIE, local_writer_refusal, parse_upload, token_matches

log = logging.getLogger("newsqa.ui")

ALL_PAPERS = "全部"
UPLOAD_TYPES = [".txt", ".text", ".md", ".markdown", ".html", ".htm"]
ISSUE_HEADERS = ["编号", "报纸", "日期", "文章", "段落", "来源文件"]
# Good questions for the bundled sample issue (each is answered from it, with a citation).
SAMPLE_QUESTIONS = [
    "浙江电网用电负荷哪天突破1亿千瓦？",
    "浙能集团的董事长是谁？",
    "2022年浙江全社会用电总量是多少？",
]
STREAM_STEP = 3  # characters added per streamed update
STREAM_DELAY = 0.025  # seconds between streamed updates

CHAT_CSS = """
.newsqa-answer { line-height: 1.7; }
.newsqa-answer .newsqa-cite { color: var(--color-accent); font-size: 0.8em; vertical-align: super; }
details.newsqa-sources { margin-top: 0.6em; border-top: 1px solid var(--border-color-primary); padding-top: 0.4em; }
details.newsqa-sources > summary { cursor: pointer; font-weight: 600; }
.newsqa-source { margin: 0.5em 0 0.8em; }
.newsqa-source-head { font-size: 0.9em; color: var(--body-text-color-subdued); }
.newsqa-source-text { margin-top: 0.2em; }
.newsqa-source-text mark { background: #ffe58a; color: inherit; padding: 0 1px; }
.newsqa-source-text mark strong.newsqa-span { background: #ffc53d; }
.newsqa-short { font-size: 1.1em; margin-bottom: 0.2em; }
"""

# Every character HTML or Markdown could interpret, as a numeric entity. One pass of
# str.translate, so entities are never escaped twice. `:` `.` `@` stop GFM autolinks
# (http://…, www.…, a@b.c); `$` stops LaTeX; `|` tables; `~` strikethrough.
_ESCAPES = {ord(c): f"&#{ord(c)};" for c in "&<>\"'`*_[](){}#+-!|~\\$:.@=^"}
_ESCAPES[ord("\n")] = "<br>"
_MARKER = re.compile(r"\[(\d{1,2})\]")


def escape_text(text: str | None) -> str:
    """Newspaper text made inert: HTML-escaped and Markdown-neutralised (renders literally)."""
    return (text or "").translate(_ESCAPES)


def render_answer(answer: str, n_citations: int) -> str:
    """The answer as HTML: escaped text, with markers [n] (1 ≤ n ≤ citations) styled as citations."""
    parts, last = [], 0
    for m in _MARKER.finditer(answer):
        if 1 <= int(m.group(1)) <= n_citations:
            parts.append(escape_text(answer[last:m.start()]))
            parts.append(f'<span class="newsqa-cite">&#91;{m.group(1)}&#93;</span>')
            last = m.end()
    parts.append(escape_text(answer[last:]))
    return f'<div class="newsqa-answer">{"".join(parts)}</div>'


def render_source(n: int, citation: dict) -> str:
    """One cited paragraph: [n] 《title》 paper date 第N段 (or 副题, 图片说明), then its text with the answering sentence marked."""
    title = escape_text(citation.get("title") or "无标题")
    paper = citation.get("paper_name") or citation.get("paper")
    meta = " · ".join(escape_text(str(v)) for v in (paper, chinese_date(citation.get("date"))) if v)
    where = escape_text(paragraph_label(int(citation.get("paragraph") or 0), citation.get("section")))
    head = f"&#91;{n}&#93; 《{title}》 {meta} · {where}"
    body = highlighted(citation.get("text") or "", citation.get("highlight"), citation.get("answer_highlight"))
    return (f'<div class="newsqa-source"><div class="newsqa-source-head">{head}</div>'
            f'<div class="newsqa-source-text">{body}</div></div>')


def chinese_date(date: str | None) -> str | None:
    """An ISO date as readers write it: ``2023-08-01`` → ``2023年8月1日`` (anything else unchanged)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", date or "")
    return f"{m[1]}年{int(m[2])}月{int(m[3])}日" if m else date


def highlighted(text: str, sentence: list[int] | None, answer: list[int] | None) -> str:
    """Escaped paragraph text with the answering sentence in <mark> and the short answer inside it in <strong>."""
    def valid(span):
        return bool(span) and 0 <= span[0] < span[1] <= len(text)

    if not valid(sentence):
        return escape_text(text)
    s0, s1 = sentence
    inner = escape_text(text[s0:s1])
    if valid(answer) and s0 <= answer[0] and answer[1] <= s1:
        a0, a1 = answer
        inner = (escape_text(text[s0:a0]) + '<strong class="newsqa-span">' + escape_text(text[a0:a1]) + "</strong>"
                 + escape_text(text[a1:s1]))
    return escape_text(text[:s0]) + "<mark>" + inner + "</mark>" + escape_text(text[s1:])


def render_sources(citations: list[dict]) -> str:
    """The collapsible 来源 panel; one line of HTML (no blank line, so Markdown leaves it alone)."""
    if not citations:
        return ""
    items = "".join(render_source(n, c) for n, c in enumerate(citations, 1))
    return f'<details class="newsqa-sources"><summary>来源（{len(citations)}）</summary>{items}</details>'


def render_result(result: dict, question: str | None = None) -> str:
    """A complete chat reply for an ``Answerer.run`` result; a follow-up searched as a rewritten
    question shows it under the answer (按“…”检索)."""
    searched = render_query(result.get("query"), question)
    if not result.get("answer"):
        reason = escape_text(result.get("reason") or "索引中没有相关内容")
        return (f'<div class="newsqa-answer">没有找到答案：{reason}</div>' + searched
                + render_sources(result.get("citations") or []))
    citations = result.get("citations") or []
    note = f'<div class="newsqa-note">{escape_text(result["note"])}</div>' if result.get("note") else ""
    return (render_short_answer(result.get("short_answer")) + render_answer(result["answer"], len(citations))
            + note + searched + render_sources(citations))


def render_query(query: str | None, question: str | None) -> str:
    """The question actually searched, when a follow-up was rewritten (nothing otherwise)."""
    if not query or question is None or query.strip() == question.strip():
        return ""
    return f'<div class="newsqa-query">按“{escape_text(query)}”检索</div>'


def render_short_answer(short_answer: str | None) -> str:
    """The short answer in bold on a line of its own, above the cited sentence (nothing when there is none)."""
    if not short_answer:
        return ""
    return f'<div class="newsqa-short"><strong class="newsqa-short-text">{escape_text(short_answer)}</strong></div>'



def message_text(content) -> str:
    """Plain text of a chat message's content (a string, or Gradio 6's list of content parts)."""
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        text = " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    elif isinstance(content, dict):
        text = content.get("text", "")
    else:
        text = ""
    # Assistant turns are our own HTML: keep only the words.
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


_SEARCHED = re.compile(r"按“[^”]*”检索")  # the rewritten-question line is ours, not the answer


def plain_history(history: list | None) -> list[dict]:
    """Chat history as the Answerer wants it: [{"role", "content": str}], sources dropped."""
    out = []
    for turn in history or []:
        if isinstance(turn, dict) and turn.get("role") in ("user", "assistant"):
            content = turn.get("content")
            text = message_text(content)
            if turn["role"] == "assistant" and isinstance(content, (str, list)):
                text = _SEARCHED.sub("", text.split("来源（")[0]).strip()
            if text:
                out.append({"role": turn["role"], "content": text})
    return out


def papers_of(index) -> list[tuple[str, str]]:
    """The dropdown's choices as (shown name, paper id): 全部, then each indexed paper by its name."""
    names = {i["paper"]: i.get("paper_name") or i["paper"] for i in index.issues() if i.get("paper")}
    return [(ALL_PAPERS, ALL_PAPERS)] + sorted(((name, paper) for paper, name in names.items()), key=lambda c: c[1])


def issue_rows(index) -> list[list]:
    """Rows of the indexed-issues table."""
    return [[i["issue_id"], i.get("paper_name") or "", chinese_date(i.get("date")) or "", i["articles"], i["paragraphs"],
             i.get("source") or ""] for i in index.issues()]


def example_questions(index, limit: int = 6) -> list[str]:
    """Fixed good questions when the sample is indexed, plus “《title》讲了什么？” for other issues."""
    issues = index.issues()
    questions = list(SAMPLE_QUESTIONS) if any(i.get("source") == SAMPLE_NAME for i in issues) else []
    for issue in issues:
        if issue.get("source") == SAMPLE_NAME or len(questions) >= limit:
            continue
        for title in index.article_titles(issue["issue_id"], 1):
            questions.append(f"《{title[:40]}》讲了什么？")
    return questions[:limit]


_TOKEN_COOKIE_JS = f"""(token) => {{
    document.cookie = "{TOKEN_COOKIE}=" + encodeURIComponent(token) + "; path=/; SameSite=Strict";
    return [];
}}"""


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def build_chat(index, token: str | None = None, retriever=None, answerer=None, title: str = "报纸问答") -> gr.Blocks:
    """The chat page for an index.

    Args:
        index: the shared NewsIndex.
        token: when set, uploads need it (typed into the 令牌 box); without it, only this machine may upload.
        retriever, answerer: shared instances (built from the index when None).
        title: the page heading.

    Returns:
        The Blocks, ready for ``gr.mount_gradio_app``.
    """
    from qa.answer import Answerer

    answerer = answerer or Answerer(index, retriever=retriever)

    def respond(message: str, history: list, date_from: str, date_to: str, paper: str, k: float) -> Iterator[str]:
        """Answer one chat turn, streaming the answer and then adding the 来源 panel."""
        try:
            result = answerer.run(message, history=plain_history(history), k=int(k or 5),
                                  date_from=_clean(date_from), date_to=_clean(date_to),
                                  paper=None if paper in (None, "", ALL_PAPERS) else paper)
        except NewsQAError as exc:
            yield f'<div class="newsqa-answer">无法回答：{escape_text(str(exc))}</div>'
            return
        answer = result.get("answer")
        if answer:
            n = len(result.get("citations") or [])
            short = render_short_answer(result.get("short_answer"))
            for end in range(STREAM_STEP, len(answer), STREAM_STEP):
                yield short + render_answer(answer[:end], n)
                time.sleep(STREAM_DELAY)
        yield render_result(result, message)

    def upload(file_path: str | None, paper: str, paper_name: str, date: str, given_token: str, request: gr.Request,
               progress=gr.Progress()):
        """Index an uploaded issue; returns the status line, the refreshed table and paper choices."""
        def finish(status: str):
            return status, issue_rows(index), gr.update(choices=papers_of(index))

        client = request.client.host if request is not None and request.client else None
        if token and not token_matches(given_token, token):
            return finish("⚠️ 令牌不正确，未上传。")
        if not token and local_writer_refusal(client, request.headers if request is not None else {}):
            return finish("⚠️ 未设置 NEWSQA_TOKEN 时只接受本机（不经代理）上传。")
        if not file_path:
            return finish("⚠️ 请先选择一个文件（.txt / .md / .html）。")
        path = Path(file_path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # indexed (and deleted) already, or cleaned from Gradio's cache
            return finish("⚠️ 请重新选择文件。")
        # Gradio's copy is not kept: the issue is in the index now, or it is refused.
        path.unlink(missing_ok=True)
        if len(data) > MAX_UPLOAD_BYTES:
            return finish(f"⚠️ 文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB。")
        progress(0, desc="解析中…")
        try:
            issue = parse_upload(data, path.name, paper=_clean(paper), date=_clean(date))
            total = max(1, len(issue.paragraphs))
            done = [0]

            def step(n: int) -> None:
                done[0] += n
                progress(min(0.99, done[0] / total), desc=f"向量化 {min(done[0], total)}/{total} 段")

            result = index.add(issue, paper=_clean(paper), date=_clean(date), progress=step,
                               paper_name=_clean(paper_name))
        except NewsQAError as exc:
            return finish(f"⚠️ 未能索引：{escape_text(str(exc))}")
        progress(1, desc="完成")
        status = {"added": "已添加", "replaced": "已更新", "unchanged": "内容未变，无需更新"}[result.status]
        log.info("%s %s from UI upload %s", result.status, result.issue_id, result.source)
        return finish(f"✅ {status}：{escape_text(result.issue_id)}（{result.articles} 篇文章，{result.paragraphs} 段）")

    # Files left in Gradio's cache (chosen but never indexed) are deleted after an hour.
    with gr.Blocks(title=title, analytics_enabled=False, fill_height=True, delete_cache=(600, 3600)) as demo:
        gr.Markdown(f"## {title}\n根据已索引的报纸回答问题，并给出引用的原文段落。"
                    "JSON 接口见 [/api/docs](/api/docs)。")
        with gr.Sidebar(label="筛选", open=True):
            date_from = gr.Textbox(label="起始日期", placeholder="YYYY-MM-DD", max_lines=1, elem_id="date-from")
            date_to = gr.Textbox(label="截止日期", placeholder="YYYY-MM-DD", max_lines=1, elem_id="date-to")
            paper = gr.Dropdown(choices=papers_of(index), value=ALL_PAPERS, label="报纸", elem_id="paper")
            k = gr.Slider(1, 10, value=5, step=1, label="参考段落数", elem_id="k")
        chatbot = gr.Chatbot(label="问答", height=520, latex_delimiters=[], sanitize_html=True,
                             buttons=["copy"], placeholder="例如：浙江电网用电负荷哪天突破1亿千瓦？",
                             elem_id="chatbot")
        gr.ChatInterface(
            respond, chatbot=chatbot,
            textbox=gr.Textbox(placeholder="输入问题，回车发送", submit_btn="发送", stop_btn="停止",
                               elem_id="question", lines=1, max_lines=4),
            additional_inputs=[date_from, date_to, paper, k],
            # A message-only example runs with the current filters and shows inside the chat.
            examples=[[q] for q in example_questions(index)] or None,
            fill_height=False, concurrency_limit=8, api_name="ask",
        )
        with gr.Accordion("上传新一期", open=False, elem_id="upload-panel"):
            # The token comes first: the file is sent to the server as soon as it is chosen, and
            # the server stores it only for a client that may write (qa.api.GradioGuard).
            up_token = gr.Textbox(label="令牌（NEWSQA_TOKEN，先填写再选择文件）", type="password", max_lines=1,
                                  visible=bool(token), elem_id="upload-token")
            file = gr.File(label="报纸文件（.txt / .md / .html，≤ 20 MB）", file_types=UPLOAD_TYPES,
                           type="filepath", elem_id="upload-file")
            with gr.Row():
                up_paper = gr.Textbox(label="报纸代号（可选，如 zjrb）", max_lines=1, elem_id="upload-paper")
                up_paper_name = gr.Textbox(label="报纸全名（可选，如 浙江日报）", max_lines=1, elem_id="upload-paper-name")
                up_date = gr.Textbox(label="日期（可选，YYYY-MM-DD）", max_lines=1, elem_id="upload-date")
            up_button = gr.Button("上传并索引", variant="primary", elem_id="upload-button")
            status = gr.Markdown(elem_id="upload-status")
        with gr.Accordion("已索引的报纸", open=False, elem_id="issues-panel"):
            table = gr.Dataframe(value=issue_rows(index), headers=ISSUE_HEADERS, interactive=False,
                                 elem_id="issues-table")
        up_button.click(upload, [file, up_paper, up_paper_name, up_date, up_token], [status, table, paper],
                        concurrency_limit=1, api_visibility="private")
        # The browser sends the typed token with its file uploads as a same-site cookie.
        # On every way the box can change (typed, pasted or filled in by a password manager).
        for event in (up_token.input, up_token.change, up_token.blur):
            event(None, [up_token], None, js=_TOKEN_COOKIE_JS, api_visibility="private")
        # Issues added over the API since the page was built show up on the next page load.
        demo.load(lambda: (issue_rows(index), gr.update(choices=papers_of(index))), None, [table, paper],
                  api_visibility="private")
    demo.queue(default_concurrency_limit=8)
    return demo


if __name__ == "__main__":  # pragma: no cover - a quick look without the API
    from qa.stores import open_store

    build_chat(open_store()).launch()  # $NEWSQA_STORE, else $NEWSQA_INDEX, as every command
