"""Fakes of the platforms added by issue 17, each checking what the real one checks (auth,
content type, required fields, documented limits) and answering in its own shapes, error
and rate-limit answers included; plus the ``Platform`` rows that run them in the
table-driven tests, and ``check_<kind>`` functions that hold each platform's documented
limits (the fakes refuse what they flag; the property tests assert they flag nothing).

The limits are written out from the platforms' documentation, not imported from the
adapters, so an adapter that declares the wrong limit fails against its fake.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import importlib.util
import itertools
import json
import re
import shutil
import socket
import ssl
import subprocess
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as email_default
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import pytest

from publisher.announce.text import graphemes
from publisher.config import TargetConfig

from .harness import Platform
from .posts import target
from .server import FakePlatform, Fault, Request, Response

Check = Callable[[dict[str, Any]], list[str]]


def over(name: str, value: str, measure: Callable[[str], int], limit: int) -> list[str]:
    n = measure(value)
    return [f"{name}: {n} > {limit} ({measure.__name__})"] if n > limit else []


def cp(text: str) -> int:
    return len(text)


def nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


# -- Google Chat ------------------------------------------------------------------------

GCHAT_SPACE = "spaces/AAAAlantern"
GCHAT_KEY = "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"
GCHAT_TOKEN = "Xk3vQ9tLm2Rz8pW4yHc7sNf1bJd6gKaE0uVoTiYq5xZ%3D"
_CLIENT_ID = re.compile(r"^client-[a-z0-9-]{1,56}$")


def check_googlechat(p: dict[str, Any]) -> list[str]:
    """spaces.messages.create: 32,000 bytes for the whole message, 4,096 characters of text."""
    problems = over("message", json.dumps(p, ensure_ascii=False), nbytes, 32_000)
    if "text" in p:
        problems += over("text", p["text"], cp, 4096)
    for card in p.get("cardsV2", []):
        for section in card["card"].get("sections", []):
            for widget in section.get("widgets", []):
                if "textParagraph" in widget:
                    problems += over("textParagraph", widget["textParagraph"]["text"], cp, 4096)
    return problems


def _google_error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


class GoogleChatFake(FakePlatform):
    """An incoming webhook: ``POST /v1/spaces/<space>/messages?key=&token=[&messageId=]``."""

    name = "googlechat"

    def __init__(self) -> None:
        super().__init__()
        self.messages: dict[str, dict[str, Any]] = {}
        self.duplicates = 0
        self.ids = itertools.count(1)

    @property
    def url(self) -> str:
        return f"{self.base}/v1/{GCHAT_SPACE}/messages?key={GCHAT_KEY}&token={GCHAT_TOKEN}"

    def fault_response(self, fault: Fault) -> Response:
        status = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE", 403: "PERMISSION_DENIED"}
        name = status.get(fault.code, "INTERNAL")
        return Response(fault.code, _google_error(fault.code, name, f"fault {fault.code}"))

    def route(self, request: Request) -> Response:
        if request.path != f"/v1/{GCHAT_SPACE}/messages":
            return Response(404, _google_error(404, "NOT_FOUND", "Requested entity was not found."))
        # The query arrives decoded once by parse_qs: the token's %3D is its "=".
        token = GCHAT_TOKEN.replace("%3D", "=")
        if request.query.get("key") != [GCHAT_KEY] or request.query.get("token") != [token]:
            return Response(
                401, _google_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
            )
        if not request.headers.get("content-type", "").startswith("application/json"):
            self.problem("googlechat: content type is not application/json")
            return Response(400, _google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload."))
        try:
            body = json.loads(request.body.decode("utf-8"))
        except ValueError:
            return Response(400, _google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload."))
        if len(request.body) > 32_000 or check_googlechat(body):
            self.problem(f"googlechat: {check_googlechat(body) or 'body over 32,000 bytes'}")
            return Response(
                400, _google_error(400, "INVALID_ARGUMENT", "Message exceeds maximum size.")
            )
        if not body.get("text") and not body.get("cardsV2"):
            return Response(400, _google_error(400, "INVALID_ARGUMENT", "Message is empty."))
        for card in body.get("cardsV2", []):
            widgets = [w for s in card["card"].get("sections", []) for w in s.get("widgets", [])]
            if not card["card"].get("header", {}).get("title"):
                self.problem("googlechat: card header without a title")
            if not any("buttonList" in w for w in widgets):
                self.problem("googlechat: no button to the post")
            for widget in widgets:
                image = widget.get("image")
                if image is not None and not image.get("imageUrl"):
                    self.problem("googlechat: image widget without imageUrl")
        given = (request.query.get("messageId") or [None])[0]
        if given is None:
            self.problem("googlechat: no client-assigned messageId (a retry would post twice)")
            given = f"srv{next(self.ids)}"
        elif not _CLIENT_ID.match(given):
            return Response(
                400, _google_error(400, "INVALID_ARGUMENT", f"Invalid message id {given}.")
            )
        name = f"{GCHAT_SPACE}/messages/{given}"
        with self.lock:
            if name in self.messages:
                self.duplicates += 1
                return Response(
                    409,
                    _google_error(409, "ALREADY_EXISTS", f"Message {name} already exists."),
                )
            self.messages[name] = body
            self.delivered.append(body)
        # A webhook's answer fills only name and thread.name beyond what was sent.
        return Response(
            200,
            {
                **body,
                "name": name,
                "thread": {"name": f"{GCHAT_SPACE}/threads/t{len(self.messages)}"},
                "space": {"name": GCHAT_SPACE},
            },
            processed=True,
        )


def _googlechat(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = GoogleChatFake().start()
    mp.setenv("T_GCHAT_URL", fake.url)
    return fake, target("googlechat", "googlechat", {"url": "${T_GCHAT_URL}", **extra})


# -- Mattermost -------------------------------------------------------------------------

MM_TOKEN = "9xk3qmt7bpgyfc4dw8sneoua1r"
MM_CHANNEL = "4xp9fdt5ebdwzpqbkgjm3rkc7h"
MM_HOOK = "/hooks/pe1n9sz3mfb8dkq7xy4wg6rj5a"
MM_MENTION = re.compile(r"(?<![\\w])@(channel|all|here|alice)\b")


def check_mattermost(p: dict[str, Any]) -> list[str]:
    """A post's message: 16,383 runes; props: 800,000 runes in all (as JSON)."""
    text = p.get("message", p.get("text", ""))
    problems = over("message", text, cp, 16383)
    props = p.get("props", {"attachments": p.get("attachments", [])})
    problems += over("props", json.dumps(props, ensure_ascii=False), cp, 800_000)
    return problems + (["message mentions"] if MM_MENTION.search(text) else [])


def _mm_error(code: int, error_id: str, message: str) -> dict[str, Any]:
    return {
        "id": error_id,
        "message": message,
        "detailed_error": "",
        "request_id": "rq1",
        "status_code": code,
    }


class MattermostFake(FakePlatform):
    """``/api/v4/posts`` (bot token), ``/api/v4/channels/:id/posts`` and an incoming hook."""

    name = "mattermost"

    def __init__(self) -> None:
        super().__init__()
        self.posts: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, tuple[str, float]] = {}
        self.ids = itertools.count(1)
        self.rate_limit_header = "Retry-After"

    @property
    def hook_url(self) -> str:
        return self.base + MM_HOOK

    def fault_response(self, fault: Fault) -> Response:
        if fault.code == 429:
            wait = str(fault.retry_after if fault.retry_after is not None else 1)
            headers = {"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0"}
            headers["X-Ratelimit-Reset"] = wait
            if self.rate_limit_header == "Retry-After":
                headers["Retry-After"] = wait
            return Response(
                429, _mm_error(429, "api.context.rate_limited", "limit exceeded"), headers
            )
        return Response(fault.code, _mm_error(fault.code, "app.fault", f"fault {fault.code}"))

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {MM_TOKEN}"

    def route(self, request: Request) -> Response:
        if request.path == MM_HOOK and request.method == "POST":
            return self._hook(request)
        if request.path.startswith("/hooks/"):
            return Response(
                400, _mm_error(400, "web.incoming_webhook.invalid.app_error", "Invalid webhook.")
            )
        if not self._authorized(request):
            return Response(
                401,
                _mm_error(
                    401,
                    "api.context.session_expired.app_error",
                    "Invalid or expired session, please login again.",
                ),
            )
        if request.path == "/api/v4/posts" and request.method == "POST":
            return self._create(request)
        if request.path == f"/api/v4/channels/{MM_CHANNEL}/posts" and request.method == "GET":
            since = int((request.query.get("since") or ["0"])[0])
            with self.lock:
                found = {k: v for k, v in self.posts.items() if v["update_at"] >= since}
            order = sorted(found, key=lambda k: found[k]["create_at"], reverse=True)
            return Response(
                200, {"order": order, "posts": found, "next_post_id": "", "prev_post_id": ""}
            )
        return Response(404, _mm_error(404, "api.context.404.app_error", "Sorry, not found."))

    def _json(self, request: Request) -> dict[str, Any] | None:
        if not request.headers.get("content-type", "").startswith("application/json"):
            self.problem("mattermost: content type is not application/json")
            return None
        try:
            body = json.loads(request.body)
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _create(self, request: Request) -> Response:
        body = self._json(request)
        if body is None:
            return Response(400, _mm_error(400, "api.context.invalid_body_param.app_error", "bad"))
        if body.get("channel_id") != MM_CHANNEL:
            return Response(
                403,
                _mm_error(403, "api.context.permissions.app_error", "You do not have permission."),
            )
        problems = check_mattermost(body)
        if problems:
            self.problem(f"mattermost: {problems}")
            if any(not p.startswith("message mentions") for p in problems):
                return Response(
                    400, _mm_error(400, "model.post.is_valid.msg.app_error", "Invalid message.")
                )
        now_ms = int(self.now() * 1000)
        pending = body.get("pending_post_id") or ""
        with self.lock:
            seen = self.pending.get(pending)
            # deduplicateCreatePost: the same pending_post_id within 30 s gives the first post.
            if pending and seen is not None and self.now() - seen[1] < 30:
                return Response(201, self.posts[seen[0]])
            post_id = f"p{next(self.ids):025d}"
            post = {
                "id": post_id,
                "create_at": now_ms,
                "update_at": now_ms,
                "edit_at": 0,
                "delete_at": 0,
                "user_id": "botuser00000000000000000000",
                "channel_id": MM_CHANNEL,
                "root_id": "",
                "message": body.get("message", ""),
                "type": "",
                "props": body.get("props") or {},
                "pending_post_id": pending,
            }
            self.posts[post_id] = post
            if pending:
                self.pending[pending] = (post_id, self.now())
            self.delivered.append(body)
        return Response(201, post, processed=True)

    def _hook(self, request: Request) -> Response:
        body = self._json(request)
        if body is None:
            return Response(
                400, _mm_error(400, "web.incoming_webhook.parse.app_error", "Unable to parse.")
            )
        if not body.get("text") and not body.get("attachments"):
            return Response(
                400, _mm_error(400, "web.incoming_webhook.text.app_error", "No text specified.")
            )
        problems = check_mattermost(body)
        if problems:
            self.problem(f"mattermost webhook: {problems}")
        with self.lock:
            self.delivered.append(body)
        return Response(200, "ok", processed=True)


def _mattermost(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = MattermostFake().start()
    mp.setenv("T_MM_TOKEN", MM_TOKEN)
    raw = {"instance": fake.base, "token": "${T_MM_TOKEN}", "channel_id": MM_CHANNEL, **extra}
    return fake, target("mattermost", "mattermost", raw)


def _mattermost_webhook(
    mp: pytest.MonkeyPatch, extra: dict[str, Any]
) -> tuple[FakePlatform, TargetConfig]:
    fake = MattermostFake().start()
    mp.setenv("T_MM_HOOK", fake.hook_url)
    raw = {"url": "${T_MM_HOOK}", **extra}
    return fake, target("mattermost_webhook", "mattermost_webhook", raw)


# -- Zulip ------------------------------------------------------------------------------

ZULIP_EMAIL = "blog-bot@chat.example.org"
ZULIP_KEY = "Zq8xWm2KcV7pLr4TnY6sHd3Fg9Jb1Ae5"
ZULIP_STREAM = "announce"
ZULIP_MENTION = re.compile(r"@_?\*\*?[^*\s]")


def check_zulip(p: dict[str, Any]) -> list[str]:
    """content: 10,000 bytes; topic: 60 characters; no live mention."""
    problems = over("content", p["content"], nbytes, 10_000) + over("topic", p["topic"], cp, 60)
    return problems + (["content mentions"] if ZULIP_MENTION.search(p["content"]) else [])


class ZulipFake(FakePlatform):
    """``POST /api/v1/messages`` (form, basic auth) and ``GET /api/v1/messages`` (narrow)."""

    name = "zulip"

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, Any]] = []
        self.ids = itertools.count(100)

    def fault_response(self, fault: Fault) -> Response:
        if fault.code == 429:
            wait = fault.retry_after if fault.retry_after is not None else 1.0
            body = {
                "result": "error",
                "msg": "API usage exceeded rate limit",
                "retry-after": wait,
                "code": "RATE_LIMIT_HIT",
            }
            headers = {
                "Retry-After": str(wait),
                "X-RateLimit-Limit": "200",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(self.now() + wait)),
            }
            return Response(429, body, headers)
        return Response(fault.code, {"result": "error", "msg": f"fault {fault.code}", "code": "X"})

    def route(self, request: Request) -> Response:
        expected = base64.b64encode(f"{ZULIP_EMAIL}:{ZULIP_KEY}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Response(
                401, {"result": "error", "msg": "Invalid API key", "code": "INVALID_API_KEY"}
            )
        if request.path != "/api/v1/messages":
            return Response(404, {"result": "error", "msg": "Endpoint not found", "code": "X"})
        if request.method == "GET":
            return self._read(request)
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            self.problem(f"zulip: content type {ctype}")
            return Response(400, {"result": "error", "msg": "Missing 'type' argument"})
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8")).items()}
        if form.get("type") not in ("stream", "channel"):
            return Response(400, {"result": "error", "msg": "Invalid type", "code": "BAD_REQUEST"})
        if form.get("to") != ZULIP_STREAM:
            return Response(
                400,
                {
                    "result": "error",
                    "msg": f"Channel '{form.get('to')}' does not exist",
                    "code": "STREAM_DOES_NOT_EXIST",
                },
            )
        payload = {"content": form.get("content", ""), "topic": form.get("topic", "")}
        problems = check_zulip(payload)
        if problems or not payload["content"] or not payload["topic"]:
            self.problem(f"zulip: {problems or 'empty content or topic'}")
            if not payload["content"] or any("mentions" not in p for p in problems):
                return Response(400, {"result": "error", "msg": "bad message", "code": "X"})
        with self.lock:
            message_id = next(self.ids)
            self.messages.append(
                {
                    "id": message_id,
                    "sender_email": ZULIP_EMAIL,
                    "display_recipient": ZULIP_STREAM,
                    "subject": payload["topic"],
                    "content": payload["content"],
                    "timestamp": int(self.now()),
                    "type": "stream",
                }
            )
            self.delivered.append(form)
        return Response(200, {"result": "success", "msg": "", "id": message_id}, processed=True)

    def _read(self, request: Request) -> Response:
        query = {k: v[0] for k, v in request.query.items()}
        if query.get("apply_markdown") != "false":
            self.problem("zulip: read-back without apply_markdown=false")
        narrow = json.loads(query.get("narrow", "[]"))
        found = self.messages
        for term in narrow:
            field = {
                "stream": "display_recipient",
                "channel": "display_recipient",
                "topic": "subject",
                "sender": "sender_email",
            }[term["operator"]]
            found = [m for m in found if m[field] == term["operand"]]
        anchor = query.get("anchor", "newest")
        if anchor != "newest":
            limit = int(anchor)
            keep = query.get("include_anchor", "true") == "true"
            found = [m for m in found if m["id"] < limit or (keep and m["id"] == limit)]
        before = int(query.get("num_before", "0"))
        page = found[-before:] if before else []
        return Response(
            200,
            {
                "result": "success",
                "msg": "",
                "messages": page,
                "found_oldest": len(page) == len(found),
                "found_newest": True,
                "anchor": anchor,
            },
        )


def _zulip(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = ZulipFake().start()
    mp.setenv("T_ZULIP_KEY", ZULIP_KEY)
    raw = {
        "instance": fake.base,
        "email": ZULIP_EMAIL,
        "api_key": "${T_ZULIP_KEY}",
        "stream": ZULIP_STREAM,
        **extra,
    }
    return fake, target("zulip", "zulip", raw)


# -- Email (a real SMTP server: aiosmtpd) -------------------------------------------------

SMTP_USER = "blog@example.org"
SMTP_PASSWORD = "smtp-Pa55word-for-the-list-relay"
SMTP_FROM = "Lantern blog <blog@example.org>"
SMTP_TO = "announce@lists.example.org"


def check_email(p: dict[str, Any]) -> list[str]:
    """Our budgets: subject 200, text 20,000 code points (SMTP itself caps lines only)."""
    return over("subject", p["subject"], cp, 200) + over("text", p["text"], cp, 20_000)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate for 127.0.0.1 (openssl), or None without openssl."""
    if shutil.which("openssl") is None:
        return None
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class SMTPFake(FakePlatform):
    """aiosmtpd on 127.0.0.1: AUTH (over TLS unless ``security='none'``), MAIL, RCPT, DATA.

    A fault applies to the next mail transaction (MAIL FROM): HTTP-style codes become the
    SMTP replies a relay gives (401 -> 530 at MAIL, 403 -> 550 at MAIL, 404 -> 550 at RCPT,
    400 -> 554 after the message, any other -> 451 at MAIL); ``timeout``/``drop``/``mangle``
    take the message, then answer late, never, or oddly."""

    name = "email"

    def __init__(self, security: str = "starttls", certificate: tuple[Path, Path] | None = None):
        super().__init__()
        self.security = security
        self.certificate = certificate
        self.port = free_port()
        self.controller: Any = None
        self.logins: list[tuple[str, str]] = []

    def start(self) -> SMTPFake:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        fake = self

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
            if not isinstance(data, LoginPassword):
                return AuthResult(success=False, handled=False)
            login, password = data.login.decode(), data.password.decode()
            fake.logins.append((login, password))
            # handled=False: aiosmtpd answers (235, or 535 on a wrong password) itself.
            ok = (login, password) == (SMTP_USER, SMTP_PASSWORD)
            return AuthResult(success=ok, handled=False)

        context = None
        if self.certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*(str(p) for p in self.certificate))
        kwargs: dict[str, Any] = {
            "authenticator": authenticator,
            "auth_required": True,
            # aiosmtpd counts only STARTTLS as TLS; under SMTPS the whole session is TLS.
            "auth_require_tls": self.security == "starttls",
        }
        if self.security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if self.security == "smtps":
            kwargs["ssl_context"] = context
        self.controller = Controller(
            _SMTPHandler(self), hostname="127.0.0.1", port=self.port, **kwargs
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def base(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def is_write(self, request: Request) -> bool:
        return request.method == "MAIL"


class _SMTPHandler:
    def __init__(self, fake: SMTPFake) -> None:
        self.fake = fake
        self.pending: dict[int, Fault | None] = {}

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        fake = self.fake
        request = Request("MAIL", "/", {}, {"from": address}, b"")
        with fake.lock:
            fake.requests.append(request)
            fault = fake.faults.popleft() if fake.faults else None
        self.pending[id(session)] = fault
        if fault is not None and fault.kind == "echo":
            return f"530 5.7.0 Not authenticated as {SMTP_USER}:{SMTP_PASSWORD}"
        if fault is not None and fault.kind == "status" and fault.code not in (400, 404):
            return {401: "530 5.7.0 Authentication required", 403: "550 5.7.1 Sender rejected"}.get(
                fault.code, "451 4.3.0 Temporary local problem, try again later"
            )
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        fault = self.pending.get(id(session))
        if fault is not None and fault.kind == "status" and fault.code == 404:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        fake = self.fake
        fault = self.pending.pop(id(session), None)
        if fault is not None and fault.kind == "status":
            return "554 5.6.0 Message refused"
        raw: bytes = envelope.original_content or envelope.content
        message = BytesParser(policy=email_default).parsebytes(raw)
        for line in raw.split(b"\r\n"):
            if len(line) > 998:
                fake.problem("email: a line over 998 octets")
        if not raw.isascii():
            fake.problem("email: 8-bit data without 8BITMIME/SMTPUTF8")
        for header in ("From", "To", "Subject", "Date", "Message-ID"):
            if not message[header]:
                fake.problem(f"email: no {header}")
        if message.get_content_type() != "multipart/alternative":
            fake.problem(f"email: {message.get_content_type()}, not multipart/alternative")
        with fake.lock:
            fake.delivered.append(message)
        fake.processed_event.set()
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop":
            server.transport.close()
            return "250 never heard"
        if fault is not None and fault.kind == "mangle":
            return "250 " + str(fault.payload)[:60].replace("\n", " ")
        return "250 2.0.0 Ok: queued as 4Bq9Kx"


def _email(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    security = str(extra.pop("security", "none"))
    certificate = extra.pop("certificate", None)
    fake = SMTPFake(security, certificate).start()
    mp.setenv("T_SMTP_PASSWORD", SMTP_PASSWORD)
    raw = {
        "host": "127.0.0.1",
        "port": fake.port,
        "security": security,
        "username": SMTP_USER,
        "password": "${T_SMTP_PASSWORD}",
        "from": SMTP_FROM,
        "to": SMTP_TO,
        **extra,
    }
    return fake, target("email", "email", raw)


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


def _x(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = XFake().start()
    mp.setenv("T_X_TOKEN", X_TOKEN)
    raw = {"token": "${T_X_TOKEN}", "api": fake.base, "username": "lanternblog", **extra}
    return fake, target("x", "x", raw)


# -- Threads ----------------------------------------------------------------------------

THREADS_TOKEN = "THAAGbKq2xZr8Wm1pQv7Ls4Nd9Fj3Hc6Tb0Yg5Ue2Ko8Ri1"
_THREADS_URL = re.compile(r"https?://[^\s]+")


def threads_count(text: str) -> int:
    """Threads' documented count: characters, except that an emoji counts its UTF-8 bytes."""
    total = 0
    for cluster in graphemes(text):
        if any(ord(c) >= 0x1F000 or 0x2600 <= ord(c) <= 0x27BF for c in cluster):
            total += len(cluster.encode("utf-8"))
        else:
            total += len(cluster)
    return total


def check_threads(p: dict[str, Any]) -> list[str]:
    text = p.get("text", "")
    links = set(_THREADS_URL.findall(text)) | {p.get("link_attachment")} - {None}
    problems = [f"text: {threads_count(text)} > 500"] if threads_count(text) > 500 else []
    return problems + ([f"{len(links)} links > 5"] if len(links) > 5 else [])


def _graph_error(code: int, message: str, transient: bool = False) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "is_transient": transient,
            "fbtrace_id": "AbCdEf",
        }
    }


class ThreadsFake(FakePlatform):
    """Containers (``/me/threads``), publishing (``/me/threads_publish``), status and listing.

    Only ``threads_publish`` is a write here: it is the call that makes a post visible, so
    the fault script (and a crash) lands between the container and the post."""

    name = "threads"

    def __init__(self) -> None:
        super().__init__()
        self.containers: dict[str, dict[str, Any]] = {}
        self.posts: list[dict[str, Any]] = []
        self.ids = itertools.count(17840000000000001)
        self.in_progress_polls = 0

    def is_write(self, request: Request) -> bool:
        return request.method == "POST" and request.path.endswith("/threads_publish")

    def fault_response(self, fault: Fault) -> Response:
        if fault.code == 429:  # Graph rate limits come as 400 with code 4
            return Response(400, _graph_error(4, "Application request limit reached", True))
        if fault.code == 401:
            return Response(400, _graph_error(190, "Error validating access token"))
        if fault.code == 403:
            return Response(403, _graph_error(10, "Application does not have permission"))
        if fault.code == 400:
            return Response(400, _graph_error(100, "Invalid parameter"))
        return Response(fault.code, _graph_error(2, "Service temporarily unavailable", True))

    def _params(self, request: Request) -> dict[str, str]:
        params = {k: v[0] for k, v in request.query.items()}
        if request.method == "POST":
            if not request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                self.problem("threads: POST body is not a form")
            params.update({k: v[0] for k, v in parse_qs(request.body.decode("utf-8")).items()})
        return params

    def route(self, request: Request) -> Response:
        params = self._params(request)
        if params.get("access_token") != THREADS_TOKEN:
            return Response(400, _graph_error(190, "Invalid OAuth access token."))
        path = request.path
        if request.method == "POST" and path == "/v1.0/me/threads":
            return self._container(params)
        if request.method == "POST" and path == "/v1.0/me/threads_publish":
            return self._publish(params)
        if request.method == "GET" and path == "/v1.0/me/threads":
            since = int(params.get("since", "0"))
            with self.lock:
                found = [p for p in reversed(self.posts) if p["unix"] >= since]
            fields = set(params.get("fields", "id").split(","))
            data = [{k: v for k, v in p.items() if k in fields} for p in found]
            return Response(200, {"data": data, "paging": {"cursors": {"before": "a"}}})
        item = path.rsplit("/", 1)[-1]
        with self.lock:
            container = self.containers.get(item)
            post = next((p for p in self.posts if p["id"] == item), None)
        if request.method == "GET" and container is not None:
            if container["status"] == "FINISHED" and self.in_progress_polls > 0:
                self.in_progress_polls -= 1
                return Response(200, {"status": "IN_PROGRESS", "id": item})
            return Response(200, {"status": container["status"], "id": item})
        if request.method == "GET" and post is not None:
            return Response(200, {"id": item, "permalink": post["permalink"]})
        return Response(400, _graph_error(100, "Unsupported get request."))

    def _container(self, params: dict[str, str]) -> Response:
        if params.get("media_type") != "TEXT" or not params.get("text"):
            return Response(400, _graph_error(100, "The parameter text is required"))
        problems = check_threads(params)
        if problems:
            self.problem(f"threads: {problems}")
            return Response(400, _graph_error(100, f"Param text is too long: {problems}"))
        with self.lock:
            container = str(next(self.ids))
            self.containers[container] = {"status": "FINISHED", **params}
        return Response(200, {"id": container})

    def _publish(self, params: dict[str, str]) -> Response:
        creation = params.get("creation_id", "")
        with self.lock:
            container = self.containers.get(creation)
            if container is None:
                return Response(400, _graph_error(100, "Invalid creation_id"))
            if container["status"] != "FINISHED":
                self.problem(f"threads: published a container that is {container['status']}")
                return Response(400, _graph_error(24, "The media is not ready for publishing"))
            container["status"] = "PUBLISHED"
            media_id = str(next(self.ids))
            self.posts.append(
                {
                    "id": media_id,
                    "permalink": f"https://www.threads.net/@lanternblog/post/C{media_id[-6:]}",
                    "text": container["text"],
                    "link_attachment_url": container.get("link_attachment"),
                    "unix": int(self.now()),
                    "timestamp": datetime.fromtimestamp(self.now(), UTC).strftime(
                        "%Y-%m-%dT%H:%M:%S+0000"
                    ),
                }
            )
            self.delivered.append({k: v for k, v in container.items() if k != "access_token"})
        return Response(200, {"id": media_id}, processed=True)


def _threads(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = ThreadsFake().start()
    mp.setenv("T_THREADS_TOKEN", THREADS_TOKEN)
    return fake, target(
        "threads", "threads", {"token": "${T_THREADS_TOKEN}", "api": fake.base, **extra}
    )


# -- LinkedIn ---------------------------------------------------------------------------

LINKEDIN_TOKEN = "AQVx9kLm2Pq7Rs4Tu1Vw8Xy5Za3Bc6De0Fg-LinkedIn"
LINKEDIN_AUTHOR = "urn:li:organization:5515715"
_LITTLE_RESERVED = re.compile(r"(?<!\\)[|{}@\[\]()<>*_~]")


def check_linkedin(p: dict[str, Any]) -> list[str]:
    """commentary: 3,000 characters (UTF-16, as Java counts); little text escaped."""
    commentary = p["commentary"]
    problems = over("commentary", commentary, utf16_units, 3000)
    article = p["content"]["article"]
    problems += over("article title", article["title"], cp, 400)
    bare = _X_URL.sub("", commentary)
    bare = re.sub(r"(?<![\\\w])#\w+", "", bare)  # hashtags are meant to be live
    if _LITTLE_RESERVED.search(bare) or re.search(r"(?<!\\)#", bare):
        problems.append("commentary: an unescaped little-text character")
    return problems


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class LinkedInFake(FakePlatform):
    """``/rest/posts`` (create, list by author), ``/rest/images`` and the upload URL."""

    name = "linkedin"

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[dict[str, Any]] = []
        self.images: dict[str, bytes | None] = {}
        self.ids = itertools.count(7100000000000000001)
        self.can_read = True

    def is_write(self, request: Request) -> bool:
        return request.method == "POST" and request.path == "/rest/posts"

    def fault_response(self, fault: Fault) -> Response:
        body = {"status": fault.code, "message": f"fault {fault.code}"}
        if fault.code == 429:
            body["message"] = "Resource level throttle APPLICATION DAY limit reached."
        return Response(fault.code, body)

    def route(self, request: Request) -> Response:
        if request.path.startswith("/dms-uploads/") and request.method == "PUT":
            urn = "urn:li:image:" + request.path.rsplit("/", 1)[-1]
            if urn not in self.images or not request.body:
                return Response(400, {"status": 400, "message": "bad upload"})
            self.images[urn] = request.body
            return Response(201, None)
        if request.headers.get("authorization") != f"Bearer {LINKEDIN_TOKEN}":
            return Response(
                401,
                {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
                 "message": "Invalid access token"},
            )  # fmt: skip
        version = request.headers.get("linkedin-version", "")
        if not re.fullmatch(r"20\d{4}", version):
            return Response(
                426,
                {"status": 426, "code": "NONEXISTENT_VERSION",
                 "message": f"Requested version {version} is not active"},
            )  # fmt: skip
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            self.problem("linkedin: no X-Restli-Protocol-Version: 2.0.0")
        if request.path == "/rest/images" and request.method == "POST":
            if request.query.get("action") != ["initializeUpload"]:
                return Response(400, {"status": 400, "message": "unknown action"})
            owner = request.json()["initializeUploadRequest"]["owner"]
            if owner != LINKEDIN_AUTHOR:
                return Response(403, {"status": 403, "message": "owner is not the author"})
            key = f"D4E10AQ{next(self.ids)}"
            self.images[f"urn:li:image:{key}"] = None
            return Response(
                200,
                {"value": {"uploadUrlExpiresAt": 1, "uploadUrl": f"{self.base}/dms-uploads/{key}",
                           "image": f"urn:li:image:{key}"}},
            )  # fmt: skip
        if request.path == "/rest/posts" and request.method == "POST":
            return self._create(request)
        if request.path == "/rest/posts" and request.method == "GET":
            if not self.can_read:
                return Response(
                    403,
                    {"status": 403, "code": "ACCESS_DENIED",
                     "message": "Not enough permissions to access: posts.FINDER-author"},
                )  # fmt: skip
            if request.query.get("author") != [LINKEDIN_AUTHOR]:
                self.problem(f"linkedin: read-back author {request.query.get('author')}")
            start = int(request.query.get("start", ["0"])[0])
            count = int(request.query.get("count", ["10"])[0])
            newest = list(reversed(self.posts))
            return Response(200, {"elements": newest[start : start + count], "paging": {}})
        return Response(404, {"status": 404, "message": "Not Found"})

    def _create(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            self.problem("linkedin: content type is not application/json")
        body = request.json()
        if body.get("author") != LINKEDIN_AUTHOR:
            return Response(403, {"status": 403, "message": "author mismatch"})
        if body.get("lifecycleState") != "PUBLISHED" or "distribution" not in body:
            return Response(422, {"status": 422, "message": "missing required fields"})
        problems = check_linkedin(body)
        if problems:
            self.problem(f"linkedin: {problems}")
            if any("little-text" not in p for p in problems):
                return Response(
                    422, {"status": 422, "message": f"ERROR :: /commentary :: {problems}"}
                )
        thumbnail = body["content"]["article"].get("thumbnail")
        if thumbnail is not None and self.images.get(thumbnail) is None:
            self.problem(f"linkedin: thumbnail {thumbnail} was never uploaded")
            return Response(422, {"status": 422, "message": "invalid thumbnail"})
        with self.lock:
            for post in self.posts:
                if post["commentary"] == body["commentary"]:
                    return Response(
                        422, {"status": 422, "message": f"Content is a duplicate of {post['id']}"}
                    )
            urn = f"urn:li:share:{next(self.ids)}"
            self.posts.append({**body, "id": urn, "createdAt": int(self.now() * 1000)})
            self.delivered.append(body)
        return Response(201, None, {"x-restli-id": urn}, processed=True)


def _linkedin(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = LinkedInFake().start()
    mp.setenv("T_LINKEDIN_TOKEN", LINKEDIN_TOKEN)
    raw = {"token": "${T_LINKEDIN_TOKEN}", "author": LINKEDIN_AUTHOR, "api": fake.base, **extra}
    return fake, target("linkedin", "linkedin", raw)


# -- Apprise (its json:// plugin posting to a receiver here) -----------------------------

APPRISE_TOKEN = "apprise-receiver-token-7Qm2Xw9"


def check_apprise(p: dict[str, Any]) -> list[str]:
    """Our budgets (Apprise fits each service itself): title 250, body 10,000 code points."""
    return over("title", p["title"], cp, 250) + over("body", p["body"], cp, 10_000)


class AppriseReceiver(FakePlatform):
    """What Apprise's ``json://`` plugin posts: ``{"version", "title", "message", "type"}``."""

    name = "apprise"

    @property
    def url(self) -> str:
        port = self.base.rsplit(":", 1)[1]
        return f"json://127.0.0.1:{port}/notify?+X-Token={APPRISE_TOKEN}"

    def route(self, request: Request) -> Response:
        if request.path != "/notify":
            return Response(404, {"error": "not found"})
        if request.headers.get("x-token") != APPRISE_TOKEN:
            return Response(401, {"error": "bad token"})
        body = request.json()
        if body.get("version") != "1.0" or not body.get("message"):
            self.problem(f"apprise: unexpected body {sorted(body)}")
            return Response(400, {"error": "bad body"})
        with self.lock:
            self.delivered.append(body)
        return Response(200, {"ok": True}, processed=True)


def _apprise(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = AppriseReceiver().start()
    assert isinstance(fake, AppriseReceiver)
    mp.setenv("T_APPRISE_URLS", fake.url)
    return fake, target("apprise", "apprise", {"urls": "${T_APPRISE_URLS}", **extra})


#: The new platforms, in the shape of fakes.harness.PLATFORMS.
MORE_PLATFORMS = [
    Platform("googlechat", True, _googlechat),
    Platform("mattermost", False, _mattermost),
    Platform("mattermost_webhook", False, _mattermost_webhook),
    Platform("zulip", False, _zulip),
    Platform("email", False, _email),
    Platform("x", False, _x),
    Platform("threads", True, _threads),
    Platform("linkedin", False, _linkedin),
    # Apprise is an optional extra: its row runs only where it is installed.
    *([Platform("apprise", False, _apprise)] if importlib.util.find_spec("apprise") else []),
]

#: kind -> its documented limits, for the property tests.
MORE_CHECKS: dict[str, Check] = {
    "googlechat": check_googlechat,
    "mattermost": check_mattermost,
    "mattermost_webhook": check_mattermost,
    "zulip": check_zulip,
    "email": check_email,
    "x": check_x,
    "threads": check_threads,
    "linkedin": check_linkedin,
    "apprise": check_apprise,
}
#: kind -> the options a payload can be built with offline.
MORE_OPTIONS: dict[str, dict[str, Any]] = {
    "mattermost": {"instance": "https://chat.example.org", "channel_id": MM_CHANNEL},
    "zulip": {"instance": "https://chat.example.org", "email": ZULIP_EMAIL, "stream": "s"},
    "email": {"host": "127.0.0.1", "username": SMTP_USER, "from": SMTP_FROM, "to": SMTP_TO},
    "linkedin": {"author": LINKEDIN_AUTHOR},
}
