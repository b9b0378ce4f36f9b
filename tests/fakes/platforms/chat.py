"""Slack, Discord, Teams and Telegram: the chat webhooks and bots."""

from __future__ import annotations

import itertools
import re
from urllib.parse import unquote

from publisher.announce.text import count

from ..server import FakePlatform, Fault, Request, Response
from .common import Bucket

SLACK_BLOCK_TYPES = {"section", "image", "context", "divider", "header", "actions"}


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
