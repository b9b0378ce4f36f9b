"""Mastodon: statuses, media, idempotency keys and the account's statuses."""

from __future__ import annotations

import html
import itertools
import re
import time
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from publisher.announce.text import count

from ..server import FakePlatform, Fault, Request, Response


class MastodonFake(FakePlatform):
    """Mastodon as PostStatusService behaves: an ``Idempotency-Key`` is remembered for
    ``key_ttl`` seconds (Redis ``setex`` 3600) and then forgotten, so a late resend with
    the same key posts again. Statuses can be read back as the real API serves them."""

    name = "mastodon"
    account_id = "109"

    def __init__(
        self,
        token: str = "mastodon-token-0123456789",
        max_characters: int = 500,
        key_ttl: float = 3600.0,
    ) -> None:
        super().__init__()
        self.token = token
        self.max_characters = max_characters
        self.key_ttl = key_ttl
        self.by_key: dict[str, tuple[float, dict[str, Any]]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.ids = itertools.count(1)

    def is_write(self, request: Request) -> bool:
        return request.method == "POST" and request.path == "/api/v1/statuses"

    def fault_response(self, fault: Fault) -> Response:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Response(
            fault.code,
            {"error": "Too many requests" if fault.code == 429 else "Internal error"},
            headers,
        )

    def _authed(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.token}"

    def route(self, request: Request) -> Response:
        if request.method == "GET" and request.path == "/api/v2/instance":
            return Response(
                200,
                {
                    "domain": "example.social",
                    "configuration": {
                        "statuses": {
                            "max_characters": self.max_characters,
                            "max_media_attachments": 4,
                            "characters_reserved_per_url": 23,
                        }
                    },
                },
            )
        if not self._authed(request):
            return Response(401, {"error": "The access token is invalid"})
        if request.method == "GET" and request.path == "/api/v1/accounts/verify_credentials":
            return Response(200, {"id": self.account_id, "username": "blog", "acct": "blog"})
        if (
            request.method == "GET"
            and request.path == f"/api/v1/accounts/{self.account_id}/statuses"
        ):
            return Response(200, self._page(request))
        if request.method == "POST" and request.path == "/api/v2/media":
            ctype = request.headers.get("content-type", "")
            if not ctype.startswith("multipart/form-data"):
                self.problem("mastodon: media upload not multipart")
                return Response(422, {"error": "Validation failed"})
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + request.body
            )
            fields = {
                part.get_param("name", header="content-disposition"): part
                for part in message.iter_parts()
            }
            if "file" not in fields or not fields.get("description"):
                self.problem("mastodon: media upload without file or description")
                return Response(422, {"error": "Validation failed"})
            description = fields["description"].get_content()
            if len(description) > 1500:
                self.problem("mastodon: media description over 1500 characters")
                return Response(422, {"error": "Validation failed: Description is too long"})
            media_id = f"m{next(self.ids)}"
            self.media[media_id] = {"description": description}
            return Response(200, {"id": media_id, "type": "image", "url": None})
        if request.method == "POST" and request.path == "/api/v1/statuses":
            return self._post(request)
        return Response(404, {"error": "Record not found"})

    def _post(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if not key:
            self.problem("mastodon: no Idempotency-Key")
        body = request.json()
        with self.lock:
            remembered = self.by_key.get(key or "")
            if remembered is not None and self.now() - remembered[0] < self.key_ttl:
                return Response(200, remembered[1])
        status = body.get("status", "")
        if count(status, "graphemes", url_length=23) > self.max_characters:
            return Response(
                422,
                {
                    "error": "Validation failed: Text character limit of "
                    f"{self.max_characters} exceeded"
                },
            )
        if body.get("visibility") not in ("public", "unlisted", "private", "direct"):
            return Response(422, {"error": "Validation failed: visibility"})
        for media_id in body.get("media_ids", []):
            if media_id not in self.media:
                return Response(422, {"error": "Validation failed: media"})
        with self.lock:
            status_id = str(next(self.ids))
            created = {
                "id": status_id,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self.now())),
                "url": f"https://example.social/@blog/{status_id}",
                "uri": f"https://example.social/users/blog/statuses/{status_id}",
                "content": _mastodon_html(status),
                "card": None,
            }
            if key:
                self.by_key[key] = (self.now(), created)
            self.statuses.insert(0, created)
            self.delivered.append(body)
        reset = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 300))
        return Response(
            200,
            created,
            {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "299",
                "X-RateLimit-Reset": reset,
            },
            processed=True,
        )

    def _page(self, request: Request) -> list[dict[str, Any]]:
        """Newest first; ``max_id`` returns statuses older than that id; at most ``limit``."""
        limit = min(int(request.query.get("limit", ["20"])[0]), 40)
        max_id = request.query.get("max_id", [None])[0]
        with self.lock:
            statuses = list(self.statuses)
        if max_id is not None:
            statuses = [s for s in statuses if int(s["id"]) < int(max_id)]
        return statuses[:limit]


def _mastodon_html(text: str) -> str:
    """How Mastodon renders a plain status: escaped, each URL an ``<a href>``."""
    out, last = [], 0
    for match in re.finditer(r"https?://[^\s<>\"']+", text):
        out.append(html.escape(text[last : match.start()]))
        url = html.escape(match.group(0))
        out.append(f'<a href="{url}" rel="nofollow noopener" target="_blank">{url}</a>')
        last = match.end()
    out.append(html.escape(text[last:]))
    return "<p>" + "".join(out).replace("\n", "<br />") + "</p>"
