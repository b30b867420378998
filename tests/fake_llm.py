"""A chat-completions server on 127.0.0.1 shaped like the OpenAI API, whose replies a test scripts.

No language model runs on this machine, so the generative step is tested against this real HTTP
server: the client code, the request it sends and the checks on the reply all run for real.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Script:
    """What the fake endpoint answers next, and what it received."""

    content: object = "杭州亚运会于9月23日开幕[1]。"
    status: int = 200
    raw: bytes | None = None  # sent verbatim instead of a chat completion
    delay: float = 0.0
    finish_reason: str = "stop"  # "length": the reply was cut off by max_tokens
    requests: list[dict] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        script: Script = self.server.script  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length", 0))
        script.requests.append(
            {"path": self.path, "headers": dict(self.headers), "body": json.loads(self.rfile.read(length))}
        )
        time.sleep(script.delay)
        if self.path != "/v1/chat/completions":
            payload, status = b'{"error": "not found"}', 404
        elif script.raw is not None:
            payload, status = script.raw, script.status
        else:
            status = script.status
            payload = json.dumps(
                {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": 0,
                    "model": script.requests[-1]["body"].get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": script.content},
                            "finish_reason": script.finish_reason,
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
                ensure_ascii=False,
            ).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


@dataclass
class FakeLLM:
    url: str
    script: Script


@contextmanager
def serve_fake_llm() -> Iterator[FakeLLM]:
    """Run the server on a free port for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.script = Script()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield FakeLLM(f"http://127.0.0.1:{server.server_port}/v1", server.script)  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
