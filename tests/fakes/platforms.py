"""One fake per platform, each checking what the real one checks (auth, content type,
required fields, limits) and answering in its own shapes, rate limits included."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
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
        for embed in body.get("embeds", []):
            if len(embed.get("title", "")) > 256 or len(embed.get("description", "")) > 4096:
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
    name = "mastodon"

    def __init__(self, token: str = "mastodon-token-0123456789", max_characters: int = 500) -> None:
        super().__init__()
        self.token = token
        self.max_characters = max_characters
        self.by_key: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
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
            media_id = f"m{next(self.ids)}"
            self.media[media_id] = {"description": fields["description"].get_content()}
            return Response(200, {"id": media_id, "type": "image", "url": None})
        if request.method == "POST" and request.path == "/api/v1/statuses":
            key = request.headers.get("idempotency-key")
            if not key:
                self.problem("mastodon: no Idempotency-Key")
            body = request.json()
            with self.lock:
                if key and key in self.by_key:
                    return Response(200, self.by_key[key])
            status = body.get("status", "")
            if count(status, "graphemes", url_length=23) > self.max_characters:
                return Response(
                    422, {"error": "Validation failed: Text character limit of 500 exceeded"}
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
                    "url": f"https://example.social/@blog/{status_id}",
                    "uri": status_id,
                    "content": status,
                }
                if key:
                    self.by_key[key] = created
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
        return Response(404, {"error": "Record not found"})


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
    name = "matrix"

    def __init__(self, token: str = "syt_matrix_token_0123456789") -> None:
        super().__init__()
        self.token = token
        self.events: dict[str, str] = {}
        self.ids = itertools.count(1)

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
        match = re.fullmatch(
            r"/_matrix/client/v3/rooms/([^/]+)/send/m\.room\.message/([^/]+)", request.path
        )
        if request.method != "PUT" or match is None:
            return Response(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
        body = request.json()
        if not body.get("msgtype") or not isinstance(body.get("body"), str):
            return Response(400, {"errcode": "M_BAD_JSON", "error": "msgtype and body required"})
        txn = unquote(match.group(2))
        with self.lock:
            if txn in self.events:
                return Response(200, {"event_id": self.events[txn]})
            event_id = f"$event{next(self.ids)}"
            self.events[txn] = event_id
            self.delivered.append({"room": unquote(match.group(1)), **body})
        return Response(200, {"event_id": event_id}, processed=True)


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
