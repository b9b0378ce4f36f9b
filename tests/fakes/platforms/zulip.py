"""Zulip: the REST API's stream messages and message reads."""

from __future__ import annotations

import base64
import itertools
import json
import re
from typing import Any
from urllib.parse import parse_qs

import pytest

from publisher.config import TargetConfig

from ..posts import target
from ..server import FakePlatform, Fault, Request, Response
from .common import cp, nbytes, over

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


def start_zulip(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
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
