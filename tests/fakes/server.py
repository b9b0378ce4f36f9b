"""The machinery every fake platform shares: a threaded HTTP server on 127.0.0.1 and a
script of faults.

A fault applies to the next *write* request (the one that posts a message):

    Fault.status(429, retry_after=1)  answered with the platform's own rate-limit body
    Fault.status(500)                 not processed, 500
    Fault.timeout(2.0)                processed, then the answer comes too late
    Fault.drop()                      processed, then the connection is closed unanswered
    Fault.mangle(body)                processed, then answered 200 with ``body`` instead
                                      (non-JSON text, JSON of the wrong shape)

so ``timeout`` and ``drop`` are exactly the ambiguous cases: the platform has the message
but the client cannot know.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: True when this request created something (a message the platform now has).
    processed: bool = False


@dataclass(frozen=True)
class Fault:
    kind: str
    code: int = 0
    retry_after: float | None = None
    seconds: float = 0.0
    payload: Any = None

    @staticmethod
    def status(code: int, retry_after: float | None = None) -> Fault:
        return Fault("status", code=code, retry_after=retry_after)

    @staticmethod
    def timeout(seconds: float = 2.0) -> Fault:
        return Fault("timeout", seconds=seconds)

    @staticmethod
    def drop() -> Fault:
        return Fault("drop")

    @staticmethod
    def mangle(body: Any, code: int = 200) -> Fault:
        """The platform does the work, then answers ``code`` with ``body`` (odd shapes)."""
        return Fault("mangle", code=code, payload=body)

    @staticmethod
    def echo(code: int = 404) -> Fault:
        """An error page that repeats the request line (and so any secret in the URL)."""
        return Fault("echo", code=code)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this a delayed ACK adds 40 ms each.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        fake: FakePlatform = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        fake.dispatch(self, request)

    do_GET = do_POST = do_PUT = _serve

    def send(self, response: Response) -> None:
        if isinstance(response.body, bytes):
            data, ctype = response.body, "application/octet-stream"
        elif isinstance(response.body, str):
            data, ctype = response.body.encode(), "text/plain; charset=utf-8"
        elif response.body is None:
            data, ctype = b"", "text/plain"
        else:
            data, ctype = json.dumps(response.body).encode(), "application/json"
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.headers.pop("Content-Type", ctype))
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            pass


class FakePlatform:
    """Subclasses implement :meth:`route` and say which requests are writes."""

    name = "fake"

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.problems: list[str] = []
        self.delivered: list[Any] = []
        self.faults: deque[Fault] = deque()
        self.lock = threading.Lock()
        self.processed_event = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        #: Sleep this long before answering every write (a slow platform).
        self.latency = 0.0
        #: Answer every n-th write with 503 (a flapping platform); 0: never.
        self.flap_every = 0
        self._write_count = 0
        #: Seconds added to this platform's clock (tests move time on without sleeping).
        self.clock_offset = 0.0

    def now(self) -> float:
        """The platform's clock: Unix seconds, moved on by :attr:`clock_offset`."""
        return time.time() + self.clock_offset

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakePlatform:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(
            target=server.serve_forever, args=(0.05,), daemon=True, name=f"fake-{self.name}"
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- behaviour -----------------------------------------------------------

    def fail_next(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def is_write(self, request: Request) -> bool:
        return request.method in ("POST", "PUT")

    def route(self, request: Request) -> Response:
        raise NotImplementedError

    def fault_response(self, fault: Fault) -> Response:
        """The platform's own answer for a status fault (rate-limit bodies differ)."""
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Response(fault.code, {"error": f"fault {fault.code}"}, headers)

    def dispatch(self, handler: _Handler, request: Request) -> None:
        with self.lock:
            self.requests.append(request)
            fault = self.faults.popleft() if self.faults and self.is_write(request) else None
            if self.is_write(request):
                self._write_count += 1
                if fault is None and self.flap_every and self._write_count % self.flap_every == 0:
                    fault = Fault.status(503)
        if fault is not None and fault.kind == "status":
            handler.send(self.fault_response(fault))
            return
        if fault is not None and fault.kind == "echo":
            handler.send(Response(fault.code, f"Cannot {request.method} {handler.path}"))
            return
        if self.latency and self.is_write(request):
            time.sleep(self.latency)
        response = self.route(request)
        if response.processed:
            self.processed_event.set()
        if fault is not None and fault.kind == "mangle":
            handler.send(Response(fault.code, fault.payload))
            return
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.seconds)
            handler.send(response)
            return
        if fault is not None and fault.kind == "drop":
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.send(response)

    def writes(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if self.is_write(r)]
