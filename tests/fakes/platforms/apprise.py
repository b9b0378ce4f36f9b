"""Apprise: its json:// plugin posting to a receiver here."""

from __future__ import annotations

from typing import Any

import pytest

from publisher.config import TargetConfig

from ..posts import target
from ..server import FakePlatform, Request, Response
from .common import cp, over

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


def start_apprise(
    mp: pytest.MonkeyPatch, extra: dict[str, Any]
) -> tuple[FakePlatform, TargetConfig]:
    fake = AppriseReceiver().start()
    assert isinstance(fake, AppriseReceiver)
    mp.setenv("T_APPRISE_URLS", fake.url)
    return fake, target("apprise", "apprise", {"urls": "${T_APPRISE_URLS}", **extra})


#: The new platforms, in the shape of fakes.harness.PLATFORMS.
