"""A real OpenAI-compatible HTTP server on loopback that answers from a `Script`.

No live model is reachable from our machines, so tests and benchmarks point the real `openai`
client and AgentChat at this server instead: the whole HTTP path (keep-alive, SSE streaming,
error statuses, Retry-After, client timeouts and retries) runs for real, only the model is scripted.

Endpoints: POST /v1/chat/completions (plain and streaming), GET /v1/models, GET /v1/models/{id}.
Each request runs in its own thread, so a delayed reply never holds up another one.
"""

from __future__ import annotations

import asyncio
import json
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from .script import ChatRequest, Reply, Script, ScriptedError, count_tokens

__all__ = ["ScriptedModelServer", "ServerStateError"]

MAX_BODY_BYTES = 32 * 1024 * 1024
STREAM_PIECES = 4
"""Content is streamed in at most this many delta chunks."""
_JOIN_TIMEOUT_S = 5.0
_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    411: ("invalid_request_error", None),
    413: ("invalid_request_error", "request_too_large"),
    429: ("requests", "rate_limit_exceeded"),
}


class ServerStateError(ScriptedError, RuntimeError):
    """The server was used before `start()`, started twice, or restarted after `close()`."""


def _error_body(status: int, message: str = "", code: str | None = None) -> dict[str, Any]:
    """An OpenAI-style error body; `message` defaults to the status's standard phrase."""
    kind, usual = _ERROR_KINDS.get(status, ("server_error" if status >= 500 else "api_error", None))
    code = code if code is not None else usual
    try:
        text = message or HTTPStatus(status).phrase
    except ValueError:  # a status http.HTTPStatus does not name, such as 599
        text = f"HTTP status {status}"
    return {"error": {"message": text, "type": kind, "param": None, "code": code}}


class ScriptedModelServer:
    """Serves a `Script` over HTTP on `host:port` (port 0 picks a free one).

    Use it as a context manager (`with` or `async with`), or call `start()` and `close()`.
    `requests` records every chat request received, in arrival order, including those the
    script answered with an error. GET /v1/models lists `models` (default: just `model`);
    with `list_models=False` it answers 404, as servers without the endpoint do.
    """

    def __init__(
        self,
        script: Script,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "scripted-model",
        models: Sequence[str] | None = None,
        list_models: bool = True,
    ) -> None:
        self.script = script
        self.model = model
        self.models = list(models) if models is not None else [model]
        self.list_models = list_models
        self._address = (host, port)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[ChatRequest] = []
        self._ids = count(1)

    def start(self) -> ScriptedModelServer:
        """Bind the socket and serve in a background thread; returns self."""
        if self._closed:
            raise ServerStateError("this ScriptedModelServer was closed; create a new one")
        if self._httpd is not None:
            raise ServerStateError("this ScriptedModelServer is already started")
        httpd = _Server(self._address, self)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"scripted-model-server:{httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, drop open connections (a client mid-request sees a connection error)
        and wait for the request threads. Idempotent; returns promptly even during delays."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        httpd.shutdown()
        thread.join()
        httpd.server_close()
        httpd.drop_connections(_JOIN_TIMEOUT_S)

    async def aclose(self) -> None:
        """`close()` off the event loop, so clients on this loop can see their connections end."""
        await asyncio.to_thread(self.close)

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> ScriptedModelServer:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def base_url(self) -> str:
        """The URL to give an OpenAI client, e.g. "http://127.0.0.1:PORT/v1"."""
        if self._httpd is None:
            raise ServerStateError("the server has no address yet: call start() or use `with`")
        host, port = self._httpd.server_address[:2]
        host = host if isinstance(host, str) else bytes(host).decode()
        return f"http://[{host}]:{port}/v1" if ":" in host else f"http://{host}:{port}/v1"

    @property
    def requests(self) -> list[ChatRequest]:
        """A snapshot of the chat requests received so far."""
        with self._lock:
            return list(self._requests)

    def calls_by_role(self) -> dict[str, int]:
        """Chat requests per role marker; requests without a marker count under ""."""
        return dict(Counter(request.role or "" for request in self.requests))

    def _record(self, request: ChatRequest) -> str:
        """Log a request and return the completion id for its answer."""
        with self._lock:
            self._requests.append(request)
            return f"chatcmpl-scripted-{next(self._ids):06d}"


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its open connections, so close() can end them."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: ScriptedModelServer) -> None:
        self.app = app
        self._live: dict[socket.socket, threading.Thread] = {}
        self._live_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (a DNS lookup that can stall offline).
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host if isinstance(host, str) else bytes(host).decode()
        self.server_port = port

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        with self._live_lock:
            self._live[request] = thread
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._live_lock:
            self._live.pop(request, None)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The handler answers every failure itself; what reaches here is a client that went away.
        pass

    def drop_connections(self, timeout_s: float) -> None:
        """Shut down every open connection and wait (bounded) for its thread to finish."""
        with self._live_lock:
            live = list(self._live.items())
        for sock, _ in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its own thread
        deadline = time.monotonic() + timeout_s
        for _, thread in live:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    """One connection: routes requests and always answers with JSON (or SSE)."""

    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "scripted-openai/1.0"
    disable_nagle_algorithm = True
    _responded = False

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read `ScriptedModelServer.requests`, not stderr

    def do_GET(self) -> None:
        self._guard(self._get)

    def do_POST(self) -> None:
        self._guard(self._post)

    def do_PUT(self) -> None:
        self._guard(self._other)

    do_DELETE = do_PATCH = do_PUT

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, unsupported method) as JSON too."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # unparsable request line: still send a status line
            self.request_version = "HTTP/1.0"
        self._send_json(code, _error_body(code, message or ""))

    # routing

    @property
    def _path(self) -> str:
        return unquote(urlsplit(self.path).path)

    def _guard(self, route: Callable[[], None]) -> None:
        self._responded = False
        try:
            route()
        except OSError:
            self.close_connection = True  # the client went away or the server is closing
        except Exception as exc:  # every request gets an answer, even on a bug here
            self.close_connection = True
            if not self._responded:
                self._send_json(500, _error_body(500, f"scripted server failed: {exc!r}"))

    def _get(self) -> None:
        path, app = self._path, self.server.app

        def listing(model: str) -> dict[str, Any]:
            return {"id": model, "object": "model", "created": 0, "owned_by": "scripted"}

        if not app.list_models and path.startswith("/v1/models"):
            self._not_found()
        elif path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [listing(m) for m in app.models]})
        elif path.startswith("/v1/models/") and path[11:] in app.models:
            self._send_json(200, listing(path[11:]))
        elif path.startswith("/v1/models/"):
            self._send_json(404, _error_body(404, f"The model '{path[11:]}' does not exist"))
        elif path == "/v1/chat/completions":
            self._send_json(405, _error_body(405, "use POST for /v1/chat/completions"))
        else:
            self._not_found()

    def _post(self) -> None:
        body = self._read_body()
        if body is None:
            return
        if self._path == "/v1/chat/completions":
            self._chat(body)
        elif self._path.startswith("/v1/models"):
            self._send_json(405, _error_body(405, f"use GET for {self._path}"))
        else:
            self._not_found()

    def _other(self) -> None:
        self.close_connection = True  # any body is left unread
        if self._path == "/v1/chat/completions" or self._path.startswith("/v1/models"):
            self._send_json(405, _error_body(405, f"{self.command} is not allowed on {self._path}"))
        else:
            self._not_found()

    def _not_found(self) -> None:
        self._send_json(404, _error_body(404, f"Invalid URL ({self.command} {self._path})"))

    # chat completions

    def _chat(self, raw: bytes) -> None:
        app = self.server.app
        try:
            body = json.loads(raw)
        except ValueError as exc:
            message = f"We could not parse the JSON body of your request: {exc}"
            self._send_json(400, _error_body(400, message))
            return
        if not isinstance(body, dict):
            message = f"The request body must be a JSON object, got {type(body).__name__}"
            self._send_json(400, _error_body(400, message))
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            request = ChatRequest.from_body(body, headers)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
            )
            self._send_json(400, _error_body(400, f"Invalid chat completion request: {problems}"))
            return
        completion_id = app._record(request)
        try:
            reply = app.script.answer(request)
        except Exception as exc:
            # A broken script is not a transient failure: tell the client not to retry it.
            message = (
                str(exc)
                if isinstance(exc, ScriptedError)
                else f"scripted server: the script handler raised {type(exc).__name__}: {exc}"
            )
            self._send_json(500, _error_body(500, message), {"x-should-retry": "false"})
            return
        if reply.delay_s > 0 and app._closing.wait(reply.delay_s):
            self.close_connection = True  # closing: drop the request unanswered
            return
        if reply.body is not None:
            self._send_raw(reply.status, reply.body.encode(), reply.content_type)
        elif reply.status != 200:
            extra = {}
            if reply.retry_after_s is not None:
                extra["Retry-After"] = format(reply.retry_after_s, "g")
            body = _error_body(reply.status, reply.content, reply.error_code)
            self._send_json(reply.status, body, extra)
        elif request.stream:
            self._stream(request, reply, completion_id)
        else:
            self._send_json(200, _completion(request, reply, completion_id))

    def _stream(self, request: ChatRequest, reply: Reply, completion_id: str) -> None:
        options = request.raw.get("stream_options")
        with_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        self._responded = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", completion_id)
        self.end_headers()
        for chunk in _chunks(request, reply, completion_id, with_usage):
            self._write_chunk(f"data: {json.dumps(chunk)}\n\n".encode())
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")

    # wire helpers

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering why it cannot be read."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            self.close_connection = True
            self._send_json(411, _error_body(411, "A Content-Length header is required"))
            return None
        try:
            length = int(length_header)
            if length < 0:
                raise ValueError(length_header)
        except ValueError:
            self.close_connection = True
            self._send_json(400, _error_body(400, f"Invalid Content-Length: {length_header!r}"))
            return None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send_json(413, _error_body(413, f"Request body over {MAX_BODY_BYTES} bytes"))
            return None
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                chunk_size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                self._send_json(400, _error_body(400, "Malformed chunked request body"))
                return None
            size += chunk_size
            if size > MAX_BODY_BYTES:
                self.close_connection = True
                self._send_json(413, _error_body(413, f"Request body over {MAX_BODY_BYTES} bytes"))
                return None
            if chunk_size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(chunk_size))
            self.rfile.readline(1024)

    def _send_json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._send_raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _send_raw(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._responded = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


def _usage(request: ChatRequest, reply: Reply) -> dict[str, int]:
    prompt, completion = request.prompt_tokens, count_tokens(reply.content)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(request: ChatRequest, reply: Reply, completion_id: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": reply.content, "refusal": None}
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "system_fingerprint": "fp_scripted",
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}
        ],
        "usage": _usage(request, reply),
    }


def _chunks(
    request: ChatRequest, reply: Reply, completion_id: str, with_usage: bool
) -> list[dict[str, Any]]:
    """The chat.completion.chunk objects of a streamed reply, in order (as OpenAI sends them)."""
    head = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.model,
        "system_fingerprint": "fp_scripted",
    }

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**head, "choices": [choice], **({"usage": None} if with_usage else {})}

    text = reply.content
    step = -(-len(text) // STREAM_PIECES) or 1
    chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
    chunks += [chunk({"content": text[at : at + step]}) for at in range(0, len(text), step)]
    chunks.append(chunk({}, reply.finish_reason))
    if with_usage:
        chunks.append({**head, "choices": [], "usage": _usage(request, reply)})
    return chunks
