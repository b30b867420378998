"""The web server: the JSON API under /api and the Gradio chat at /, from one process."""

from __future__ import annotations

import asyncio
import math
import threading
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from pydantic import BaseModel, Field, model_validator

from qa.errors import IndexLockedError, IndexMismatchError, InputError, NewsQAError
from qa.sample import SAMPLE_NAME, ensure_sample, sample_path
from qa.upload import (MAX_UPLOAD_BYTES, TOKEN_COOKIE, check_token, is_loopback, local_writer_refusal, parse_upload,
                       token_matches)

log = logging.getLogger("newsqa.api")

# Multipart framing and the small form fields around the file.
_MULTIPART_SLACK = 64 * 1024
MAX_QUERY_CHARS = 500
MAX_TURN_CHARS = 20_000
MAX_TURNS = 100
MAX_K = 50
SERVER_WRITE_CHUNK = 2  # windows per model call of a write in the server (see NewsIndex.write_chunk)
KEEP_ALIVE_S = 75  # idle seconds before the server closes a kept-alive connection
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_OPTIONAL_DATE_PATTERN = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"


# ---------------------------------------------------------------------- models
class ErrorResponse(BaseModel):
    """Every 4xx answer: one readable message."""

    detail: str


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    issues: int
    paragraphs: int
    model: str | None = Field(description="embedding model of the index (null before the first issue)")


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, examples=["浙江电网用电负荷哪天突破1亿千瓦"])
    k: int = Field(10, ge=1, le=MAX_K, description="number of results")
    date_from: str | None = Field(None, pattern=DATE_PATTERN, description="only issues on or after (YYYY-MM-DD)")
    date_to: str | None = Field(None, pattern=DATE_PATTERN, description="only issues on or before (YYYY-MM-DD)")
    paper: str | None = Field(None, max_length=200, description="only issues of this paper")


class Passage(BaseModel):
    """One retrieved paragraph with what is needed to cite it."""

    rank: int
    score: float
    text: str
    paper: str | None = Field(description="the paper's short id, as in the issue id (zjrb)")
    paper_name: str | None = Field(None, description="the paper's name to show (浙江日报)")
    date: str | None
    title: str | None
    paragraph: int = Field(description="the paragraph's ordinal in its article (第N段)")
    issue_id: str
    paragraph_id: int
    source: str | None
    start: int = Field(description="character offset of the paragraph in the issue's source text")
    end: int
    section: str | None = None
    page: str | None = None


class SearchResponse(BaseModel):
    query: str
    results: list[Passage]


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_TURN_CHARS)

    @model_validator(mode="after")
    def _user_turn_is_a_question(self) -> Turn:
        # An earlier user turn is an earlier question, and a follow-up is searched with it.
        if self.role == "user" and len(self.content) > MAX_QUERY_CHARS:
            raise ValueError(f"a user turn is an earlier question: at most {MAX_QUERY_CHARS} characters "
                             f"(this one has {len(self.content)})")
        return self


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, examples=["浙江电网用电负荷哪天突破1亿千瓦？"])
    history: list[Turn] = Field(default_factory=list, max_length=MAX_TURNS,
                               description=f"earlier turns, for follow-ups (at most {MAX_TURNS}; user turns at most {MAX_QUERY_CHARS} characters, assistant turns {MAX_TURN_CHARS})")
    k: int = Field(5, ge=1, le=MAX_K, description="passages to draw the answer from")
    date_from: str | None = Field(None, pattern=DATE_PATTERN)
    date_to: str | None = Field(None, pattern=DATE_PATTERN)
    paper: str | None = Field(None, max_length=200)


class Citation(Passage):
    highlight: list[int] | None = Field(None, min_length=2, max_length=2,
                                        description="[start, end] of the answering sentence within text")
    answer_highlight: list[int] | None = Field(None, min_length=2, max_length=2,
                                               description="[start, end] of the short answer within text")


class AskResponse(BaseModel):
    answer: str | None = Field(description="the answer with markers [1], [2] into citations; null when none")
    short_answer: str | None = Field(None, description="the answer itself, a span of the cited sentence (\"7月3日\"); null when none")
    confidence: float | None = Field(None, ge=0, le=1, description="the reader's probability that the cited passage answers the question")
    citations: list[Citation]
    reason: str | None = Field(description="why there is no answer")
    query: str | None = Field(None, description="the question actually searched (follow-ups are rewritten)")
    generated: bool = Field(False, description="true when a language model wrote the answer (NEWSQA_LLM_URL is set)")
    note: str | None = Field(None, description="for a follow-up whose answer the previous reply already gave: saying so")
    extractive_answer: str | None = Field(None, description="the extractive answer, when a generated one is shown")
    generator_reason: str | None = Field(None, description="why a generated answer was not used, when one was asked for")


class IssueInfo(BaseModel):
    issue_id: str
    paper: str | None
    paper_name: str | None = None
    date: str | None
    date_inferred: bool = False
    page: str | None = None
    source: str | None
    sha256: str | None = None
    added_at: str | None = None
    articles: int
    paragraphs: int


class AddResultModel(BaseModel):
    issue_id: str
    status: Literal["added", "replaced", "unchanged"]
    paragraphs: int
    articles: int
    embedded: int
    source: str | None


class Removed(BaseModel):
    removed: str


_ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 413, 415, 422, 503)}


# ---------------------------------------------------------------------- helpers
def _validation_message(exc: RequestValidationError) -> str:
    """Pydantic's error list as one line: ``query: String should have at most 500 characters``."""
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:]  # where it was sent; the field name is what helps
        parts.append(f"{'.'.join(loc) or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


class UploadSizeGuard:
    """Refuse an upload whose declared Content-Length is over the limit before reading any of it.

    Bodies without a length (chunked) are cut off by the route's ``max_body_size`` while streaming.
    """

    def __init__(self, app, path: str, limit: int):
        self.app, self.path, self.limit = app, path, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/") == self.path:
            length = Headers(scope=scope).get("content-length", "")
            if length.isdigit() and int(length) > self.limit:
                response = JSONResponse({"detail": _too_large()}, status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class GradioGuard:
    """Guard the Gradio routes the chat mounts at /.

    * ``POST /gradio_api/upload`` stores a file in Gradio's cache before any event runs (and
      ``/gradio_api/file=`` serves it back): only a request that may write may upload, by the same
      rule as the API's writes. The chat sends the token as the ``newsqa_token`` cookie, set
      from its token box; other clients send ``Authorization: Bearer``.
    * ``POST /gradio_api/call/…`` fails with a 500 (and a traceback in the log) on a body that
      does not fit the endpoint: that becomes a 422 with one line.
    """

    def __init__(self, app, token: str | None):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path.rstrip("/").endswith("/gradio_api/upload"):
            refusal = self._upload_refusal(scope)
            if refusal:
                status, detail = refusal
                log.warning("refused a Gradio upload from %s: %s", (scope.get("client") or ("?",))[0], detail)
                await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
                return
        elif "/gradio_api/call/" in path:
            await self._call(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _upload_refusal(self, scope) -> tuple[int, str] | None:
        from starlette.requests import HTTPConnection

        conn = HTTPConnection(scope)
        if self.token:
            scheme, _, given = conn.headers.get("authorization", "").partition(" ")
            given = given.strip() if scheme.lower() == "bearer" else conn.cookies.get(TOKEN_COOKIE)
            if token_matches(given, self.token):
                return None
            return 401, "uploads need the write token: type it into the 令牌 box first (or send 'Authorization: Bearer')"
        refusal = local_writer_refusal(conn.client.host if conn.client else None, conn.headers)
        return (403, refusal) if refusal else None

    async def _call(self, scope, receive, send) -> None:
        held: list = []

        async def guarded_send(message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 500:
                held.append(message)
            elif held:
                held.append(message)
            else:
                await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as exc:  # noqa: BLE001 - what Gradio raised on a body it could not use
            if not held:
                raise
            log.warning("refused a malformed Gradio call to %s: %s: %s", scope["path"], type(exc).__name__, exc)
            detail = "the body does not fit this endpoint (its parameters are listed at /gradio_api/info)"
            await JSONResponse({"detail": detail}, status_code=422)(scope, receive, send)
            return
        for message in held:  # a 500 without an exception: pass it on as it was
            await send(message)


@dataclass
class WriteSettings:
    """Bounds of the write queue.

    Attributes:
        max_queued: writes accepted at once, the one running included; more get 503 at once.
        wait_s: how long a write may wait for its turn before it gets 503 (a write that has
            started always finishes and answers).
    """

    max_queued: int = 8
    wait_s: float = 30.0

    @classmethod
    def from_env(cls) -> WriteSettings:
        """``NEWSQA_WRITE_QUEUE`` and ``NEWSQA_WRITE_WAIT`` over the defaults.

        Raises:
            InputError: a value that is not a positive number.
        """
        settings = cls()
        for name, attr, kind in (("NEWSQA_WRITE_QUEUE", "max_queued", int), ("NEWSQA_WRITE_WAIT", "wait_s", float)):
            raw = os.environ.get(name)
            if raw:
                try:
                    value = kind(raw)
                except ValueError:
                    value = 0
                if value <= 0:
                    raise InputError(f"{name} must be a positive {'integer' if kind is int else 'number'}, not {raw!r}")
                setattr(settings, attr, value)
        return settings


class WritesBusyError(IndexLockedError):
    """The write queue is full, or a write waited its whole bound without starting."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class WriteQueue:
    """Index writes, one at a time, on a thread of their own: never on the request threads.

    A write waits at most ``settings.wait_s`` for its turn and at most ``settings.max_queued``
    are accepted at once; past either bound it fails with ``WritesBusyError`` (503 with
    ``Retry-After``) and is never run.
    """

    def __init__(self, settings: WriteSettings):
        self.settings = settings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsqa-write")
        self._lock = threading.Lock()
        self._pending = 0

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.settings.wait_s))

    async def run(self, fn, *args):
        """Run ``fn(*args)`` on the write thread and return its result (or raise its error)."""
        with self._lock:
            if self._pending >= self.settings.max_queued:
                raise WritesBusyError(f"{self._pending} writes are queued already; try again later",
                                      self.retry_after)
            self._pending += 1
        loop = asyncio.get_running_loop()
        started = asyncio.Event()
        state = {"started": False, "abandoned": False}

        def job():
            with self._lock:
                if state["abandoned"]:
                    return None
                state["started"] = True
            loop.call_soon_threadsafe(started.set)
            try:
                return fn(*args)
            finally:
                with self._lock:
                    self._pending -= 1

        future = asyncio.wrap_future(self._executor.submit(job))
        try:
            await asyncio.wait_for(started.wait(), timeout=self.settings.wait_s)
        except asyncio.TimeoutError:
            with self._lock:
                if not state["started"]:
                    state["abandoned"] = True
                    self._pending -= 1
                    raise WritesBusyError(f"the write waited {self.settings.wait_s:g} s for earlier writes "
                                          "and was not started; try again later", self.retry_after) from None
        return await future


def _too_large() -> str:
    return f"the upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"


def _status_for(exc: NewsQAError) -> int:
    if isinstance(exc, InputError):
        return 422
    if isinstance(exc, IndexLockedError):
        return 503
    if isinstance(exc, IndexMismatchError):
        return 409
    return 400


def _warm_write_path() -> None:
    """Parse and tokenize the sample once: the dictionaries the first write would load hold the
    GIL for seconds while they load, stalling every search in the process meanwhile."""
    from qa.parse import parse_issue
    from qa.tokens import index_tokens

    issue = parse_issue(sample_path().read_bytes(), source=SAMPLE_NAME)
    for par in issue.paragraphs[:5]:
        index_tokens(par.text)


# ---------------------------------------------------------------------- app
def create_app(index_dir: str | Path | None = None, model: str | None = None, token: str | None = None,
               sample: bool = True, index=None, write_settings: WriteSettings | None = None) -> FastAPI:
    """Build the app: JSON API under /api (docs at /api/docs) and the chat at /.

    Args:
        index_dir: the store: an index directory or a Milvus URI (``qa.stores.open_store``; default
            $NEWSQA_STORE, else $NEWSQA_INDEX or ~/.newsqa/index).
        model: embedding model spec for a new index.
        token: bearer token for writes; default $NEWSQA_TOKEN. Without one, writes are accepted
            from loopback clients only.
        sample: index the bundled sample when the index is empty.
        index: an already opened store (then index_dir and model are ignored).
        write_settings: the write queue's bounds (default: from NEWSQA_WRITE_QUEUE and NEWSQA_WRITE_WAIT).
    """
    import gradio as gr

    from qa.answer import Answerer
    from qa.generate import generator_from_env
    from qa.model_rewriter import rewriter_from_env
    from qa.retrieve import HybridRetriever
    from qa.stores import open_store
    from ui.chat import CHAT_CSS, build_chat

    token = check_token(token if token is not None else os.environ.get("NEWSQA_TOKEN"))
    if index is None:
        index = open_store(index_dir, model=model)
    if sample:
        ensure_sample(index)
    if index.model_name:
        # Load the model now, once: lazily, the first concurrent searches would each load it.
        _ = index.encoder
    _warm_write_path()
    # Writes embed two windows per model call here: a search waits at most that long for the model.
    index.write_chunk = SERVER_WRITE_CHUNK
    retriever = HybridRetriever(index)
    answerer = Answerer(index, retriever=retriever, generator=generator_from_env(), rewriter=rewriter_from_env())
    answerer.reader.warm_up()  # a missing or corrupt weights file stops the server here, not at the first question

    app = FastAPI(title="newsqa", version="0.1.0",
                  description="Question answering with cited paragraphs over Chinese newspaper issues.",
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")
    app.state.index = index
    app.state.token = token
    writes = app.state.writes = WriteQueue(write_settings or WriteSettings.from_env())

    @app.exception_handler(NewsQAError)
    async def _newsqa_error(_request: Request, exc: NewsQAError) -> JSONResponse:
        status = _status_for(exc)
        headers = {"Retry-After": str(getattr(exc, "retry_after", 5))} if status == 503 else None
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 413:  # the body limit's own message does not say what the limit is
            return JSONResponse({"detail": _too_large()}, status_code=413)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

    bearer = HTTPBearer(auto_error=False, description="NEWSQA_TOKEN, required for writes when the server has one")

    def require_writer(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        """Writes need the token when one is set; without one, only this machine may write."""
        if token:
            if not token_matches(credentials.credentials if credentials else None, token):
                raise HTTPException(401, "missing or wrong token: send 'Authorization: Bearer <NEWSQA_TOKEN>'",
                                    headers={"WWW-Authenticate": "Bearer"})
        else:
            refusal = local_writer_refusal(request.client.host if request.client else None, request.headers)
            if refusal:
                raise HTTPException(403, refusal)

    api = APIRouter(prefix="/api", responses=_ERRORS)

    @api.get("/health", response_model=Health, summary="Liveness and index counts")
    def health() -> Health:
        # Not index.stats(): it sums file sizes in the directory, which races with a write's
        # temporary and stale vector files (FileNotFoundError) while an upload is committing.
        issues = index.issues()
        return Health(issues=len(issues), paragraphs=sum(i["paragraphs"] for i in issues), model=index.model_name)

    # Sync handlers on purpose: FastAPI runs them in its thread pool, so searches run in
    # parallel with each other and with an upload being embedded.
    @api.post("/search", response_model=SearchResponse, summary="Hybrid search for paragraphs")
    def search(req: SearchRequest) -> SearchResponse:
        results = retriever.run(req.query, k=req.k, date_from=req.date_from, date_to=req.date_to,
                                paper=req.paper or None)
        return SearchResponse(query=req.query, results=results)

    @api.post("/ask", response_model=AskResponse, summary="Answer a question with cited paragraphs")
    def ask(req: AskRequest) -> AskResponse:
        history = [t.model_dump() for t in req.history]
        try:
            result = answerer.run(req.question, history=history, k=req.k, date_from=req.date_from,
                                  date_to=req.date_to, paper=req.paper or None)
        except InputError as exc:
            if history and str(exc).startswith("the query is longer"):
                # The follow-up rewritten with history is too long: say which fields made it so.
                raise InputError(f"question + history: the follow-up rewritten with the last user turn of history "
                                 f"is longer than {MAX_QUERY_CHARS} characters; shorten either") from None
            raise
        return AskResponse(**result)

    @api.get("/issues", response_model=list[IssueInfo], summary="The indexed issues, newest first")
    def list_issues() -> list[dict]:
        return index.issues()

    @api.post("/issues", response_model=AddResultModel, dependencies=[Depends(require_writer)],
              summary="Add (or replace) an issue from an uploaded text, Markdown or HTML file",
              max_body_size=MAX_UPLOAD_BYTES + _MULTIPART_SLACK)
    # Writes are async handlers that hand the work to the write queue's own thread: a write
    # waiting for its turn holds no request thread, so searches never queue behind uploads.
    async def add_issue(file: UploadFile = File(description="the issue file, at most 20 MB"),
                        paper: str | None = Form(None, max_length=200),
                        date: str | None = Form(None, pattern=_OPTIONAL_DATE_PATTERN),
                        paper_name: str | None = Form(None, max_length=200,
                                                      description="the paper's name to show (浙江日报)")) -> dict:
        # Read at most one byte past the limit: never more than 20 MB of it in memory.
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, _too_large())

        def write():
            issue = parse_upload(data, file.filename, paper=paper, date=date)
            return index.add(issue, paper=paper or None, date=date or None, paper_name=paper_name or None)

        result = await writes.run(write)
        log.info("%s %s (%d paragraphs) from upload %s", result.status, result.issue_id, result.paragraphs,
                 result.source)
        return result.to_dict()

    @api.delete("/issues/{issue_id}", response_model=Removed, dependencies=[Depends(require_writer)],
                summary="Remove an issue")
    async def remove_issue(issue_id: str) -> Removed:
        if not await writes.run(index.remove, issue_id):
            raise HTTPException(404, f"no issue {issue_id!r} (see GET /api/issues)")
        log.info("removed %s", issue_id)
        return Removed(removed=issue_id)

    app.include_router(api)
    app.add_middleware(UploadSizeGuard, path="/api/issues", limit=MAX_UPLOAD_BYTES + _MULTIPART_SLACK)
    app.add_middleware(GradioGuard, token=token)

    blocks = build_chat(index, token=token, retriever=retriever, answerer=answerer)
    # Mounted last: the /api routes above take precedence over the catch-all mount at /.
    gr.mount_gradio_app(app, blocks, path="/", css=CHAT_CSS, max_file_size=MAX_UPLOAD_BYTES,
                        footer_links=["gradio", "settings"], show_error=True)
    return app


# ---------------------------------------------------------------------- serve
def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else ("localhost" if host == "::" else host)
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def _log_to_stderr() -> None:
    """Show newsqa's own log lines (not every library's INFO chatter) as ``newsqa: …``."""
    logger = logging.getLogger("newsqa")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("newsqa: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def serve(index_dir: str | Path | None = None, host: str = "127.0.0.1", port: int = 7860,
          model: str | None = None, sample: bool = True) -> int:
    """Run the server until interrupted (``newsqa serve``).

    Returns:
        The exit status: 0 after a clean shutdown, 1 when the port could not be bound.
    """
    import uvicorn

    # Checked before anything is loaded: a token no client can send, or a server open to other
    # machines with nothing guarding its writes, is a mistake to stop at, not to warn about.
    token = check_token(os.environ.get("NEWSQA_TOKEN"))
    if not token and not (host == "localhost" or is_loopback(host)):
        raise InputError(f"refusing to listen on {host} without NEWSQA_TOKEN: other machines (or a reverse "
                         "proxy) could then add and remove issues. Set NEWSQA_TOKEN, or bind 127.0.0.1")
    # No telemetry calls from a server that is meant to run offline.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    _log_to_stderr()
    app = create_app(index_dir, model=model, sample=sample, token=token or "")

    class _Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                bound = port
                for server in getattr(self, "servers", []):  # the real port when asked for port 0
                    for sock in server.sockets:
                        bound = sock.getsockname()[1]
                url = _url(host, bound)
                print(f"newsqa: chat at {url}  (API docs at {url}api/docs)", flush=True)

    # Idle keep-alive longer than a proxy's or client pool's own (60 s for nginx's upstream
    # keepalive_timeout): the server closing a pooled connection first resets a request in flight.
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                    timeout_keep_alive=KEEP_ALIVE_S))
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits when the port is taken
        return int(exc.code or 1)
    return 0 if server.started else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve())
