"""Google Chat: the REST API's spaces.messages.create, with its idempotent messageId."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from publisher.config import TargetConfig

from ..posts import target
from ..server import FakePlatform, Fault, Request, Response
from .common import cp, nbytes, over

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


def start_googlechat(
    mp: pytest.MonkeyPatch, extra: dict[str, Any]
) -> tuple[FakePlatform, TargetConfig]:
    fake = GoogleChatFake().start()
    mp.setenv("T_GCHAT_URL", fake.url)
    return fake, target("googlechat", "googlechat", {"url": "${T_GCHAT_URL}", **extra})
