"""How long an adapter waits after a platform says "slow down", read from real HTTP answers
of a server on 127.0.0.1: every header form platforms send (X-RateLimit-Reset-After,
X-RateLimit-Reset as epoch seconds or ISO 8601, Retry-After as seconds or an HTTP date,
retry_after in the JSON body) and the garbage a proxy may put there instead."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from publisher.announce.http import rate_limit_wait, retry_after

NOW = 1_780_000_000.0  # 2026-05-28T20:26:40Z
Answer = Callable[..., requests.Response]


class _Answers(BaseHTTPRequestHandler):
    """Answers 429 with the headers named in the query string and an optional JSON body."""

    def do_GET(self) -> None:
        query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        body = query.pop("body", "").encode()
        self.send_response(429)
        for name, value in query.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def answer() -> Iterator[Answer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    session = requests.Session()

    def get(**headers: str) -> requests.Response:
        return session.get(f"http://127.0.0.1:{server.server_port}/", params=headers, timeout=10)

    yield get
    session.close()
    server.shutdown()
    server.server_close()


EXHAUSTED = {
    "reset after seconds": ({"X-RateLimit-Reset-After": "2.5"}, 2.5),
    "reset at epoch": ({"X-RateLimit-Reset": str(NOW + 30)}, 30.0),
    "reset at ISO time": ({"X-RateLimit-Reset": "2026-05-28T20:27:40Z"}, 60.0),
    "reset in the past": ({"X-RateLimit-Reset": str(NOW - 30)}, 0.0),
    "reset after garbage, epoch next": (
        {"X-RateLimit-Reset-After": "soon", "X-RateLimit-Reset": str(NOW + 5)},
        5.0,
    ),
    "reset garbage": ({"X-RateLimit-Reset": "later"}, None),
    "no reset header": ({}, None),
}


@pytest.mark.parametrize(("headers", "wait"), EXHAUSTED.values(), ids=EXHAUSTED.keys())
def test_an_empty_bucket_says_when_it_refills(
    answer: Answer, headers: dict[str, str], wait: float | None
) -> None:
    response = answer(**{"X-RateLimit-Remaining": "0", **headers})
    assert rate_limit_wait(response, now=NOW) == pytest.approx(wait)


@pytest.mark.parametrize("remaining", ["3", "", "many"])
def test_a_bucket_not_known_to_be_empty_means_no_wait(answer: Answer, remaining: str) -> None:
    headers = {"X-RateLimit-Reset-After": "9"}
    if remaining:
        headers["X-RateLimit-Remaining"] = remaining
    assert rate_limit_wait(answer(**headers), now=NOW) is None


RETRY = {
    "retry-after seconds": ({"Retry-After": "7"}, 7.0),
    "retry-after HTTP date": ({"Retry-After": "Thu, 28 May 2026 20:27:00 GMT"}, 20.0),
    "retry-after garbage, then the body": (
        {"Retry-After": "tomorrow-ish", "body": json.dumps({"retry_after": 3})},
        3.0,
    ),
    "telegram's parameters": ({"body": json.dumps({"parameters": {"retry_after": 4}})}, 4.0),
    "milliseconds in the body": ({"body": json.dumps({"retry_after_ms": 1500})}, 1.5),
    "a boolean is no number": (
        {"body": json.dumps({"retry_after": True}), "X-RateLimit-Reset-After": "6"},
        6.0,
    ),
    "nothing at all": ({"body": "not json"}, None),
}


@pytest.mark.parametrize(("headers", "wait"), RETRY.values(), ids=RETRY.keys())
def test_a_refusal_says_how_long_to_wait(
    answer: Answer, headers: dict[str, str], wait: float | None
) -> None:
    response = answer(**headers)
    try:
        body = response.json()
    except ValueError:
        body = None
    assert retry_after(response, body, now=NOW) == pytest.approx(wait)
