"""X: the v2 API with OAuth 2.0 and OAuth 1.0a user tokens, and its weighted length."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

import pytest

from publisher.announce.text import graphemes
from publisher.config import TargetConfig

from ..posts import target
from ..server import FakePlatform, Fault, Request, Response

# -- X ----------------------------------------------------------------------------------

X_TOKEN = "dGhpcy1pcy1hbi1vYXV0aDItdXNlci10b2tlbg-X2"
X_USER = {"id": "2244994945", "name": "Lantern blog", "username": "lanternblog"}
#: OAuth 1.0a user context: consumer key/secret and access token/secret.
X_OAUTH1 = (
    "xvz1evFS4wEEPTGEFPHBog",
    "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
    "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
)


def x_oauth1_valid(fake: FakePlatform, request: Request, header: str) -> bool:
    """Check an OAuth 1.0a header as X does: known keys, fresh timestamp, unused nonce,
    and the HMAC-SHA1 signature over method, URL and query (RFC 5849, written out here)."""
    fields = dict(re.findall(r'(\w+)="([^"]*)"', header))
    fields = {unquote(k): unquote(v) for k, v in fields.items()}
    consumer, consumer_secret, token, token_secret = X_OAUTH1
    if fields.get("oauth_consumer_key") != consumer or fields.get("oauth_token") != token:
        return False
    if abs(int(fields.get("oauth_timestamp", "0")) - fake.now()) > 300:
        return False
    nonce = fields.get("oauth_nonce", "")
    seen: set[str] = fake.__dict__.setdefault("nonces", set())
    if not nonce or nonce in seen:
        return False
    seen.add(nonce)

    def enc(value: str) -> str:
        return quote(value, safe="-._~")

    params = {k: v for k, v in fields.items() if k != "oauth_signature"}
    params.update({k: v[0] for k, v in request.query.items()})
    normalized = "&".join(
        f"{k}={v}" for k, v in sorted((enc(k), enc(v)) for k, v in params.items())
    )
    base = "&".join([request.method, enc(fake.base + request.path), enc(normalized)])
    key = f"{enc(consumer_secret)}&{enc(token_secret)}".encode()
    expected = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()
    return hmac.compare_digest(expected, fields.get("oauth_signature", ""))


_X_URL = re.compile(r"https?://[^\s]+")
_X_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))


def x_length(text: str) -> int:
    """twitter-text v3 as X counts: NFC, URLs 23, an emoji sequence 2, else per code point."""
    text = unicodedata.normalize("NFC", text)
    total = 23 * len(_X_URL.findall(text))
    for cluster in graphemes(_X_URL.sub("", text)):
        points = [ord(c) for c in cluster]
        if any(0x1F000 <= p <= 0x1FAFF for p in points):
            total += 2
            continue
        total += sum(1 if any(a <= p <= b for a, b in _X_LIGHT) else 2 for p in points)
    return total


def check_x(p: dict[str, Any]) -> list[str]:
    n = x_length(p["text"])
    return [f"text: {n} > 280 weighted"] if n > 280 else []


def _x_error(code: int, title: str, detail: str) -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": "about:blank", "status": code}


class XFake(FakePlatform):
    """``POST /2/tweets``, ``GET /2/users/me`` and ``GET /2/users/:id/tweets``."""

    name = "x"

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[dict[str, Any]] = []
        self.ids = itertools.count(1790000000000000000)
        self.page_size = 100
        self.can_read = True

    def fault_response(self, fault: Fault) -> Response:
        if fault.code == 429:
            wait = fault.retry_after if fault.retry_after is not None else 1.0
            headers = {
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(self.now() + wait + 0.999)),
            }
            return Response(429, _x_error(429, "Too Many Requests", "Too Many Requests"), headers)
        return Response(fault.code, _x_error(fault.code, "Fault", f"fault {fault.code}"))

    def route(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        if auth.startswith("OAuth "):
            if not x_oauth1_valid(self, request, auth):
                return Response(401, _x_error(401, "Unauthorized", "Unauthorized"))
        elif auth != f"Bearer {X_TOKEN}":
            return Response(401, _x_error(401, "Unauthorized", "Unauthorized"))
        if request.method == "POST" and request.path == "/2/tweets":
            return self._create(request)
        if request.method == "GET" and not self.can_read:
            return Response(
                403,
                _x_error(403, "Forbidden", "Your client app is not configured to read posts."),
            )
        if request.method == "GET" and request.path == "/2/users/me":
            return Response(200, {"data": X_USER})
        if request.method == "GET" and request.path == f"/2/users/{X_USER['id']}/tweets":
            return self._timeline(request)
        return Response(404, _x_error(404, "Not Found Error", "Not found"))

    def _create(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            self.problem("x: content type is not application/json")
            return Response(400, _x_error(400, "Invalid Request", "bad content type"))
        body = request.json()
        text = body.get("text")
        if not isinstance(text, str) or not text:
            return Response(400, _x_error(400, "Invalid Request", "text is required"))
        if check_x(body):
            self.problem(f"x: {check_x(body)}")
            return Response(
                403, _x_error(403, "Forbidden", "Your Tweet text is too long. (code 186)")
            )
        if re.search(r"(?<!\w)@\w", text):
            self.problem("x: the text mentions someone")
        with self.lock:
            if any(post["full_text"] == text for post in self.posts):
                return Response(
                    403,
                    _x_error(
                        403,
                        "Forbidden",
                        "You are not allowed to create a Tweet with duplicate content.",
                    ),
                )
            post_id = str(next(self.ids))
            urls = [
                {"url": f"https://t.co/{n}", "expanded_url": u, "display_url": u[8:40]}
                for n, u in enumerate(_X_URL.findall(text))
            ]
            self.posts.append(
                {
                    "id": post_id,
                    "full_text": text,
                    "text": _X_URL.sub("https://t.co/x", text),
                    "created_at": datetime.fromtimestamp(self.now(), UTC).strftime(
                        "%Y-%m-%dT%H:%M:%S.000Z"
                    ),
                    "entities": {"urls": urls},
                }
            )
            self.delivered.append(body)
        return Response(
            201,
            {"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}},
            processed=True,
        )

    def _timeline(self, request: Request) -> Response:
        query = {k: v[0] for k, v in request.query.items()}
        start = query.get("start_time", "1970-01-01T00:00:00Z")
        size = min(int(query.get("max_results", "10")), self.page_size)
        with self.lock:
            found = [
                {k: v for k, v in p.items() if k != "full_text"}
                for p in reversed(self.posts)
                if p["created_at"] >= start
            ]
        offset = int(query.get("pagination_token", "0") or 0)
        page = found[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if offset + size < len(found):
            meta["next_token"] = str(offset + size)
        return Response(200, {"data": page, "meta": meta} if page else {"meta": meta})


def start_x(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = XFake().start()
    mp.setenv("T_X_TOKEN", X_TOKEN)
    raw = {"token": "${T_X_TOKEN}", "api": fake.base, "username": "lanternblog", **extra}
    return fake, target("x", "x", raw)
