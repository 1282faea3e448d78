"""A small OpenAI-compatible server over a Python function: a model endpoint for tests and demos.

``Server(respond, model=...)`` answers ``POST /v1/chat/completions`` by calling
``respond(Call) -> Reply`` and ``GET /v1/models`` with the one model it serves, on
127.0.0.1 and a free port, from a thread (``with Server(...) as server: server.url``).
It speaks as much of the protocol as ``hunchlab.models.Client`` and the common clients
use: messages, temperature, max_tokens, seed, and token usage in the answer.

What a real server does wrong is reproducible here: a ``respond`` that raises ``Busy``
gets a 429 with ``Retry-After`` (a rate limit), any other exception a 500, a request
for another model a 404, and a missing or wrong key (when the server has one) a 401.
The studies' toy endpoints (``python -m hunchlab.studies.served.toy_endpoint``) are built
on it, so a study's real-model path runs end to end with nothing downloaded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Call:
    """One chat completion request, as the server read it."""

    model: str
    messages: list[dict[str, str]]
    temperature: float
    max_tokens: int | None
    seed: int | None

    @property
    def prompt(self) -> str:
        """The last user message."""
        return next((m["content"] for m in reversed(self.messages) if m.get("role") == "user"), "")


@dataclass(frozen=True)
class Reply:
    text: str
    input_tokens: int
    output_tokens: int
    finish_reason: str = "stop"


class Busy(Exception):
    """Raised by a ``respond`` function: the server answers 429 with ``Retry-After`` (a rate limit)."""

    def __init__(self, retry_after: float = 0.0) -> None:
        super().__init__(f"busy, retry after {retry_after} s")
        self.retry_after = retry_after


class Server:
    """``respond`` behind an OpenAI-compatible HTTP server in a background thread."""

    def __init__(self, respond: Callable[[Call], Reply], *, model: str, key: str | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.respond, self.model, self.key = respond, model, key
        self.requests = 0  # chat completions answered (200) so far
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer((host, port), _handler(self))
        self._http.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> Server:
        self._thread = threading.Thread(target=self._http.serve_forever, name="hunch-serve", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._http.serve_forever()

    def close(self) -> None:
        if self._thread is not None:
            self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def answer(self, headers: Any, raw: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, extra headers) for one POST to /v1/chat/completions."""
        if self.key is not None and headers.get("Authorization") != f"Bearer {self.key}":
            return _error(401, "missing or wrong API key")
        try:
            body = json.loads(raw)
            call = Call(model=str(body["model"]), messages=list(body["messages"]),
                        temperature=float(body.get("temperature", 1.0)), max_tokens=body.get("max_tokens"),
                        seed=body.get("seed"))
        except (ValueError, KeyError, TypeError):
            return _error(400, "the body must be JSON with model and messages")
        if call.model != self.model:
            return _error(404, f"model '{call.model}' is not served here; this server serves '{self.model}'")
        if body.get("n", 1) != 1:
            return _error(400, "n > 1 is not supported: ask for samples one at a time")
        try:
            reply = self.respond(call)
        except Busy as e:
            status, err, _ = _error(429, "busy: too many requests")
            return status, err, {"Retry-After": f"{e.retry_after:g}"}
        except Exception as e:  # the function's failure is the server's 500, as a crashed backend's would be
            return _error(500, f"{type(e).__name__}: {e}")
        with self._lock:
            self.requests += 1
        return 200, {"object": "chat.completion", "model": self.model, "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": reply.finish_reason}],
            "usage": {"prompt_tokens": reply.input_tokens, "completion_tokens": reply.output_tokens,
                      "total_tokens": reply.input_tokens + reply.output_tokens}}, {}


def _error(status: int, message: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    return status, {"error": {"message": message, "code": status}}, {}


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(*_error(404, f"no route {self.path}; POST /v1/chat/completions"))
                return
            self._send(*server.answer(self.headers, raw))

        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]}, {})
            else:
                self._send(*_error(404, f"no route {self.path}"))

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # a test's output is not an access log
            return

    return Handler
