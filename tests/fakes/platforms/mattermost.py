"""Mattermost: the REST API (posts, channel reads) and the incoming webhook."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from publisher.config import TargetConfig

from ..posts import target
from ..server import FakePlatform, Fault, Request, Response
from .common import cp, over

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


def start_mattermost(
    mp: pytest.MonkeyPatch, extra: dict[str, Any]
) -> tuple[FakePlatform, TargetConfig]:
    fake = MattermostFake().start()
    mp.setenv("T_MM_TOKEN", MM_TOKEN)
    raw = {"instance": fake.base, "token": "${T_MM_TOKEN}", "channel_id": MM_CHANNEL, **extra}
    return fake, target("mattermost", "mattermost", raw)


def start_mattermost_webhook(
    mp: pytest.MonkeyPatch, extra: dict[str, Any]
) -> tuple[FakePlatform, TargetConfig]:
    fake = MattermostFake().start()
    mp.setenv("T_MM_HOOK", fake.hook_url)
    raw = {"url": "${T_MM_HOOK}", **extra}
    return fake, target("mattermost_webhook", "mattermost_webhook", raw)
