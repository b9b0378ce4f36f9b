"""One fake per platform, each checking what the real one checks (auth, content type,
required fields, limits) and answering in its own shapes, rate limits included."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import itertools
import json
import re
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import unquote

from publisher.announce.text import count

from .server import FakePlatform, Fault, Request, Response

SLACK_BLOCK_TYPES = {"section", "image", "context", "divider", "header", "actions"}


class Bucket:
    """``capacity`` writes per ``window`` seconds, as Discord's per-webhook bucket."""

    def __init__(self, capacity: int, window: float) -> None:
        self.capacity, self.window = capacity, window
        self.used: list[float] = []
        self.lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until a slot frees)."""
        with self.lock:
            now = time.monotonic()
            self.used = [t for t in self.used if now - t < self.window]
            if len(self.used) >= self.capacity:
                return False, 0, self.window - (now - self.used[0])
            self.used.append(now)
            reset = self.window - (now - self.used[0])
            return True, self.capacity - len(self.used), reset


class SlackFake(FakePlatform):
    name = "slack"

    def __init__(self, secret_path: str = "/services/T000/B000/XXXXXXXXXXXXXXXX") -> None:
        super().__init__()
        self.secret_path = secret_path

    @property
    def url(self) -> str:
        return self.base + self.secret_path

    def fault_response(self, fault: Fault) -> Response:
        headers = {"Retry-After": str(int(fault.retry_after or 1))} if fault.code == 429 else {}
        return Response(
            fault.code, "rate_limited" if fault.code == 429 else "server_error", headers
        )

    def route(self, request: Request) -> Response:
        if request.path != self.secret_path:
            return Response(404, "no_service")
        if not request.headers.get("content-type", "").startswith("application/json"):
            self.problem("slack: content type is not application/json")
            return Response(400, "invalid_payload")
        try:
            body = request.json()
        except ValueError:
            return Response(400, "invalid_payload")
        if not body.get("text") and not body.get("blocks"):
            return Response(400, "no_text")
        for block in body.get("blocks", []):
            if block.get("type") not in SLACK_BLOCK_TYPES:
                self.problem(f"slack: unknown block {block.get('type')}")
                return Response(400, "invalid_blocks")
            if block["type"] == "section" and len(block["text"]["text"]) > 3000:
                self.problem("slack: section text over 3000 characters")
                return Response(400, "invalid_blocks")
            if block["type"] == "image" and not (block.get("image_url") and block.get("alt_text")):
                self.problem("slack: image block without image_url/alt_text")
                return Response(400, "invalid_blocks")
            if block["type"] == "image" and len(block["alt_text"]) > 2000:
                self.problem("slack: alt_text over 2000 characters")
                return Response(400, "invalid_blocks")
        if re.search(r"<[!@#]", body.get("text", "")):
            # Slack would ping the channel from the notification text.
            self.problem("slack: fallback text carries a raw mention")
        with self.lock:
            self.delivered.append(body)
        return Response(200, "ok", processed=True)


class DiscordFake(FakePlatform):
    name = "discord"

    def __init__(self, bucket: Bucket | None = None) -> None:
        super().__init__()
        self.bucket = bucket
        self.ids = itertools.count(1000)

    @property
    def url(self) -> str:
        return self.base + "/api/webhooks/123456/tokentokentokentoken"

    def fault_response(self, fault: Fault) -> Response:
        wait = fault.retry_after if fault.retry_after is not None else 1.0
        if fault.code == 429:
            return Response(
                429,
                {"message": "You are being rate limited.", "retry_after": wait, "global": False},
                {"Retry-After": str(wait), "X-RateLimit-Scope": "user"},
            )
        return Response(fault.code, {"message": "500: Internal Server Error", "code": 0})

    def route(self, request: Request) -> Response:
        if request.path != "/api/webhooks/123456/tokentokentokentoken":
            return Response(401, {"message": "Invalid Webhook Token", "code": 50027})
        if request.query.get("wait") != ["true"]:
            self.problem("discord: no ?wait=true")
        body = request.json()
        if len(body.get("content", "")) > 2000:
            return Response(400, {"message": "Invalid Form Body", "code": 50035})
        # Discord counts code points (Python's len).
        total = 0
        for embed in body.get("embeds", []):
            title, description = embed.get("title", ""), embed.get("description", "")
            footer = (embed.get("footer") or {}).get("text", "")
            author = (embed.get("author") or {}).get("name", "")
            total += len(title) + len(description) + len(footer) + len(author)
            if (
                len(title) > 256
                or len(description) > 4096
                or len(footer) > 2048
                or len(author) > 256
            ):
                self.problem("discord: an embed field over its limit")
                return Response(400, {"message": "Invalid Form Body", "code": 50035})
        if total > 6000 or not 1 <= len(body.get("username", "x")) <= 80:
            self.problem("discord: embeds over 6000 characters or username not 1-80")
            return Response(400, {"message": "Invalid Form Body", "code": 50035})
        if body.get("allowed_mentions") != {"parse": []}:
            self.problem("discord: allowed_mentions is not empty")
        headers: dict[str, str] = {}
        if self.bucket is not None:
            allowed, remaining, reset = self.bucket.take()
            if not allowed:
                return self.fault_response(Fault.status(429, retry_after=round(reset, 3)))
            headers = {
                "X-RateLimit-Limit": str(self.bucket.capacity),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset-After": f"{reset:.3f}",
                "X-RateLimit-Bucket": "webhook",
            }
        message_id = str(next(self.ids))
        with self.lock:
            self.delivered.append(body)
        return Response(
            200,
            {"id": message_id, "channel_id": "42", "content": body.get("content")},
            headers,
            processed=True,
        )


class TeamsFake(FakePlatform):
    name = "teams"

    @property
    def url(self) -> str:
        return (
            self.base + "/workflows/abcdef0123456789/triggers/manual/paths/invoke?sig=SIGSIGSIGSIG"
        )

    def route(self, request: Request) -> Response:
        if request.query.get("sig") != ["SIGSIGSIGSIG"]:
            return Response(401, {"error": {"code": "DirectApiAuthorizationRequired"}})
        if len(request.body) > 28_000:
            self.problem("teams: message over 28 KB")
            return Response(413, {"error": {"code": "MessageSizeExceeded"}})
        body = request.json()
        attachments = body.get("attachments") or []
        ok = (
            body.get("type") == "message"
            and len(attachments) == 1
            and attachments[0].get("contentType") == "application/vnd.microsoft.card.adaptive"
            and attachments[0]["content"].get("type") == "AdaptiveCard"
            and attachments[0]["content"].get("version") == "1.4"
            and any(
                a.get("type") == "Action.OpenUrl" and a.get("url")
                for a in attachments[0]["content"].get("actions", [])
            )
        )
        if not ok:
            self.problem("teams: not a message with one Adaptive Card 1.4 and an OpenUrl action")
            return Response(400, {"error": {"code": "InvalidRequestContent"}})
        with self.lock:
            self.delivered.append(body)
        return Response(202, None, processed=True)


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


_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


class BlueskyFake(FakePlatform):
    name = "bluesky"

    def __init__(
        self, handle: str = "blog.example.org", password: str = "abcd-efgh-ijkl-mnop"
    ) -> None:
        super().__init__()
        self.handle, self.password = handle, password
        self.did = "did:plc:fake1234567890"
        self.logins = 0
        self.refreshes = 0
        self.tokens = itertools.count(1)
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.records: dict[str, dict[str, Any]] = {}

    def is_write(self, request: Request) -> bool:
        return request.path == "/xrpc/com.atproto.repo.createRecord"

    def fault_response(self, fault: Fault) -> Response:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Response(
            fault.code,
            {
                "error": "RateLimitExceeded" if fault.code == 429 else "InternalServerError",
                "message": "fault",
            },
            headers,
        )

    def expire_access_tokens(self) -> None:
        self.access.clear()

    def _new_session(self) -> dict[str, str]:
        n = next(self.tokens)
        access, refresh = f"access-jwt-{n:08d}-xxxxxxxx", f"refresh-jwt-{n:08d}-yyyyyyyy"
        self.access.add(access)
        self.refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "did": self.did, "handle": self.handle}

    def _bearer(self, request: Request) -> str:
        return request.headers.get("authorization", "").removeprefix("Bearer ")

    def route(self, request: Request) -> Response:
        method = request.path.removeprefix("/xrpc/")
        if method == "com.atproto.server.createSession":
            body = request.json()
            if body.get("identifier") != self.handle or body.get("password") != self.password:
                return Response(
                    401,
                    {
                        "error": "AuthenticationRequired",
                        "message": "Invalid identifier or password",
                    },
                )
            self.logins += 1
            return Response(200, self._new_session())
        if method == "com.atproto.server.refreshSession":
            token = self._bearer(request)
            if token not in self.refresh:
                return Response(400, {"error": "ExpiredToken", "message": "Token has been revoked"})
            self.refresh.discard(token)
            self.refreshes += 1
            return Response(200, self._new_session())
        if method == "com.atproto.repo.getRecord":
            rkey = request.query.get("rkey", [""])[0]
            if rkey in self.records:
                return Response(
                    200,
                    {
                        "uri": f"at://{self.did}/app.bsky.feed.post/{rkey}",
                        "cid": "bafyfake",
                        "value": self.records[rkey],
                    },
                )
            return Response(400, {"error": "RecordNotFound", "message": "Could not locate record"})
        if method == "com.atproto.repo.listRecords":
            return Response(200, self._list(request))
        if self._bearer(request) not in self.access:
            return Response(400, {"error": "ExpiredToken", "message": "Token has expired"})
        if method == "com.atproto.repo.uploadBlob":
            if not request.headers.get("content-type", "").startswith("image/"):
                self.problem("bluesky: blob without an image content type")
            if len(request.body) > 1_000_000:
                self.problem("bluesky: blob over 1,000,000 bytes")
                return Response(400, {"error": "BlobTooLarge", "message": "too large"})
            return Response(
                200,
                {
                    "blob": {
                        "$type": "blob",
                        "ref": {"$link": "bafkreifake"},
                        "mimeType": request.headers["content-type"],
                        "size": len(request.body),
                    }
                },
            )
        if method == "com.atproto.repo.createRecord":
            body = request.json()
            record, rkey = body.get("record", {}), body.get("rkey", "")
            problems = self._check_post(body, record, rkey)
            if problems:
                for p in problems:
                    self.problem(f"bluesky: {p}")
                return Response(400, {"error": "InvalidRequest", "message": "; ".join(problems)})
            with self.lock:
                if rkey in self.records:
                    return Response(
                        400, {"error": "InvalidRequest", "message": "Record already exists"}
                    )
                self.records[rkey] = record
                self.delivered.append(record)
            return Response(
                200,
                {"uri": f"at://{self.did}/app.bsky.feed.post/{rkey}", "cid": "bafyfake"},
                processed=True,
            )
        return Response(404, {"error": "MethodNotImplemented"})

    def _list(self, request: Request) -> dict[str, Any]:
        """Newest first (record keys descending); ``cursor`` is the last key of the page."""
        limit = min(int(request.query.get("limit", ["50"])[0]), 100)
        cursor = request.query.get("cursor", [None])[0]
        with self.lock:
            keys = sorted(self.records, reverse=True)
            if cursor is not None:
                keys = [k for k in keys if k < cursor]
            page = keys[:limit]
            records = [
                {
                    "uri": f"at://{self.did}/app.bsky.feed.post/{k}",
                    "cid": "bafyfake",
                    "value": self.records[k],
                }
                for k in page
            ]
        answer: dict[str, Any] = {"records": records}
        if len(page) == limit:
            answer["cursor"] = page[-1]
        return answer

    def _check_post(self, body: dict[str, Any], record: dict[str, Any], rkey: str) -> list[str]:
        problems = []
        if body.get("repo") != self.did or body.get("collection") != "app.bsky.feed.post":
            problems.append("wrong repo or collection")
        if not _TID.match(rkey):
            problems.append(f"rkey {rkey!r} is not a TID")
        if record.get("$type") != "app.bsky.feed.post" or not record.get("createdAt"):
            problems.append("record without $type or createdAt")
        text = record.get("text", "")
        if count(text, "graphemes") > 300 or len(text.encode()) > 3000:
            problems.append("text over 300 graphemes / 3000 bytes")
        data = text.encode("utf-8")
        for facet in record.get("facets", []):
            index = facet["index"]
            piece = data[index["byteStart"] : index["byteEnd"]].decode("utf-8", errors="replace")
            for feature in facet["features"]:
                if feature["$type"] == "app.bsky.richtext.facet#link" and piece != feature["uri"]:
                    problems.append(f"facet bytes {piece!r} are not the link {feature['uri']!r}")
        embed = record.get("embed")
        if embed is not None:
            external = embed.get("external", {})
            if embed.get("$type") != "app.bsky.embed.external" or not all(
                k in external for k in ("uri", "title", "description")
            ):
                problems.append("embed is not a complete app.bsky.embed.external")
            elif (
                count(external["title"], "graphemes") > 300
                or len(external["title"].encode()) > 3000
            ):
                problems.append("card title over 300 graphemes / 3000 bytes")
            elif (
                count(external["description"], "graphemes") > 1000
                or len(external["description"].encode()) > 3000
            ):
                problems.append("card description over 1000 graphemes / 3000 bytes")
        return problems


class TelegramFake(FakePlatform):
    name = "telegram"

    def __init__(self, token: str = "123456:ABCDEF-telegram-token") -> None:
        super().__init__()
        self.token = token
        self.ids = itertools.count(1)
        self.photo_fails = False

    def fault_response(self, fault: Fault) -> Response:
        if fault.code == 429:
            wait = int(fault.retry_after or 1)
            return Response(
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {wait}",
                    "parameters": {"retry_after": wait},
                },
            )
        return Response(
            fault.code,
            {"ok": False, "error_code": fault.code, "description": "Internal Server Error"},
        )

    def route(self, request: Request) -> Response:
        prefix = f"/bot{self.token}/"
        if not unquote(request.path).startswith(prefix):
            return Response(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = unquote(request.path)[len(prefix) :]
        body = request.json()
        if not body.get("chat_id"):
            return Response(
                400,
                {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"},
            )
        if method == "sendPhoto":
            if self.photo_fails:
                return Response(
                    400,
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: wrong file identifier/HTTP URL specified",
                    },
                )
            if count(body.get("caption", ""), "utf16") > 1024:
                return Response(
                    400,
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: message caption is too long",
                    },
                )
        elif method == "sendMessage":
            if not 1 <= count(body.get("text", ""), "utf16") <= 4096:
                return Response(
                    400,
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: message is too long",
                    },
                )
        else:
            return Response(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        with self.lock:
            message_id = next(self.ids)
            self.delivered.append({"method": method, **body})
        return Response(
            200,
            {
                "ok": True,
                "result": {
                    "message_id": message_id,
                    "chat": {"id": -100, "username": "lanternblog"},
                },
            },
            processed=True,
        )


class MatrixFake(FakePlatform):
    """A homeserver room: ``PUT .../send/m.room.message/{txnId}`` remembered per token for
    ``txn_ttl`` seconds (Synapse: 30 to 60 minutes), events readable backwards through
    ``GET .../messages?dir=b`` with ``unsigned.transaction_id`` shown to the sender."""

    name = "matrix"

    def __init__(self, token: str = "syt_matrix_token_0123456789", txn_ttl: float = 1800.0) -> None:
        super().__init__()
        self.token = token
        self.txn_ttl = txn_ttl
        self.events: dict[str, tuple[float, str]] = {}
        self.timeline: list[dict[str, Any]] = []
        self.ids = itertools.count(1)

    def is_write(self, request: Request) -> bool:
        return request.method == "PUT"

    def fault_response(self, fault: Fault) -> Response:
        if fault.code == 429:
            return Response(
                429,
                {
                    "errcode": "M_LIMIT_EXCEEDED",
                    "error": "Too many requests",
                    "retry_after_ms": int((fault.retry_after or 1) * 1000),
                },
            )
        return Response(fault.code, {"errcode": "M_UNKNOWN", "error": "Internal error"})

    def route(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token"})
        messages = re.fullmatch(r"/_matrix/client/v3/rooms/([^/]+)/messages", request.path)
        if request.method == "GET" and messages is not None:
            return Response(200, self._messages(request))
        match = re.fullmatch(
            r"/_matrix/client/v3/rooms/([^/]+)/send/m\.room\.message/([^/]+)", request.path
        )
        if request.method != "PUT" or match is None:
            return Response(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
        body = request.json()
        if not body.get("msgtype") or not isinstance(body.get("body"), str):
            return Response(400, {"errcode": "M_BAD_JSON", "error": "msgtype and body required"})
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        if len(content.encode()) > 60_000:
            self.problem("matrix: event content over 60000 bytes")
            return Response(413, {"errcode": "M_TOO_LARGE", "error": "event too large"})
        txn = unquote(match.group(2))
        with self.lock:
            seen = self.events.get(txn)
            if seen is not None and self.now() - seen[0] < self.txn_ttl:
                return Response(200, {"event_id": seen[1]})
            event_id = f"$event{next(self.ids)}"
            self.events[txn] = (self.now(), event_id)
            self.timeline.append(
                {
                    "type": "m.room.message",
                    "event_id": event_id,
                    "sender": "@blog:example.org",
                    "origin_server_ts": int(self.now() * 1000),
                    "content": body,
                    "unsigned": {"transaction_id": txn},
                }
            )
            self.delivered.append({"room": unquote(match.group(1)), **body})
        return Response(200, {"event_id": event_id}, processed=True)

    def _messages(self, request: Request) -> dict[str, Any]:
        """Backwards from ``from`` (an index into the timeline), ``limit`` events a page."""
        limit = int(request.query.get("limit", ["10"])[0])
        with self.lock:
            events = list(self.timeline)
        start = int(request.query.get("from", [str(len(events))])[0])
        chunk = list(reversed(events[max(0, start - limit) : start]))
        answer: dict[str, Any] = {"chunk": chunk, "start": str(start)}
        if start - limit > 0:
            answer["end"] = str(start - limit)
        return answer


class WebhookReceiver(FakePlatform):
    """A receiver that verifies Standard Webhooks signatures and drops repeated webhook-ids."""

    name = "webhook"

    def __init__(
        self, secret: str = "whsec_" + base64.b64encode(b"sixteen byte key" * 2).decode()
    ) -> None:
        super().__init__()
        self.secret = secret
        self.seen: set[str] = set()
        self.duplicates = 0

    @property
    def url(self) -> str:
        return self.base + "/hooks/receiver-0123456789"

    def route(self, request: Request) -> Response:
        msg_id = request.headers.get("webhook-id")
        stamp = request.headers.get("webhook-timestamp")
        signature = request.headers.get("webhook-signature", "")
        if not msg_id or not stamp or not signature:
            self.problem("webhook: missing webhook-id/timestamp/signature")
            return Response(400, "missing headers")
        if abs(time.time() - int(stamp)) > 300:
            return Response(400, "timestamp too old")
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        expected = base64.b64encode(
            hmac.new(key, f"{msg_id}.{stamp}.".encode() + request.body, hashlib.sha256).digest()
        ).decode()
        if not any(
            hmac.compare_digest(s.split(",", 1)[-1], expected)
            for s in signature.split(" ")
            if s.startswith("v1,")
        ):
            self.problem("webhook: bad signature")
            return Response(401, "bad signature")
        with self.lock:
            if msg_id in self.seen:
                self.duplicates += 1
                return Response(200, "duplicate")
            self.seen.add(msg_id)
            self.delivered.append(request.json())
        return Response(204, None, processed=True)


class SiteFake(FakePlatform):
    """The deployed blog: pages answer 200 once live, 404 before."""

    name = "site"

    def __init__(self) -> None:
        super().__init__()
        self.live: set[str] = set()

    def route(self, request: Request) -> Response:
        return (
            Response(200, "<html>ok</html>")
            if request.path in self.live
            else Response(404, "not found")
        )
