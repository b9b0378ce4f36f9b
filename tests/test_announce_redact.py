"""No part of a secret survives redaction: a server that echoes back a URL's token segment,
a Telegram token without its ``123456:`` prefix, a query signature, or a base64 or
percent-encoded spelling of any of them, leaves none of it in the error, the report or
the ledger."""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from fakes.harness import PLATFORMS, announce, baseline, running
from fakes.platforms import MatrixFake, TelegramFake
from fakes.posts import make_post
from fakes.server import FakePlatform, Request, Response

from publisher.announce import list_state
from publisher.announce.contract import Announcement, DeliveryError
from publisher.announce.redact import redact, register_secret
from publisher.announce.registry import announcer_class

TELEGRAM = "7123456789:AAH-secretsecretSECRET_0123456789xyz"
DISCORD_TOKEN = "a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ-0123456789abcdefghij"
SLACK_TOKEN = "Xx9YyZz8WwVv7UuTt6SsRr5Q"
TEAMS_SIG = "Zr0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789aBc"


def spellings(part: str) -> list[str]:
    raw = part.encode()
    return [
        part,
        quote(part, safe=""),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ]


class Echo(FakePlatform):
    """Answers every request 404 with a body that repeats ``parts`` (as some proxies do)."""

    name = "echo"

    def __init__(self, parts: list[str]) -> None:
        super().__init__()
        self.parts = parts

    def route(self, request: Request) -> Response:
        return Response(404, "not found: " + " | ".join(self.parts))


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # An empty registry for each test, and the process's own back afterwards.
    # (The module by name: ``publisher.announce.redact`` is also the function's name.)
    monkeypatch.setattr(importlib.import_module("publisher.announce.redact"), "_secrets", set())
    yield


def announcement(n: int = 1) -> Announcement:
    from datetime import UTC, datetime

    post = make_post(n)
    return Announcement(
        post=post,
        target="t",
        text=f"{post.title} {post.url}",
        title=post.title,
        summary="",
        url=post.url,
        card=None,
        key=f"key-{n}",
        created_at=datetime(2026, 6, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("kind", "secret_part", "options"),
    [
        (
            "discord",
            DISCORD_TOKEN,
            lambda base: {"url": f"{base}/api/webhooks/123/{DISCORD_TOKEN}"},
        ),
        ("slack", SLACK_TOKEN, lambda base: {"url": f"{base}/services/T01/B02/{SLACK_TOKEN}"}),
        (
            "teams",
            TEAMS_SIG,
            lambda base: {"url": f"{base}/workflows/x/invoke?api-version=1&sig={TEAMS_SIG}"},
        ),
        (
            "telegram",
            TELEGRAM.split(":", 1)[1],
            lambda base: {"token": TELEGRAM, "api": base, "chat_id": "1"},
        ),
        ("telegram", TELEGRAM, lambda base: {"token": TELEGRAM, "api": base, "chat_id": "1"}),
    ],
    ids=[
        "discord-token-segment",
        "slack-token-segment",
        "teams-sig",
        "telegram-no-prefix",
        "telegram",
    ],
)
def test_an_echoed_part_of_a_secret_is_hidden_in_every_spelling(
    kind: str, secret_part: str, options: object
) -> None:
    parts = spellings(secret_part)
    with Echo(parts) as fake, requests.Session() as http:
        config = options(fake.base)  # type: ignore[operator]
        register_secret(config.get("url") or config.get("token"))  # as target setup does
        announcer = announcer_class(kind)(kind, config)
        with pytest.raises(DeliveryError) as caught:
            announcer.announce(announcement(), http)
    text = redact(str(caught.value))
    assert "not found" in text  # the body was there to leak
    for part in parts:
        assert part not in text, f"{kind}: {part[:6]}… leaked"
    assert "…" in text


def test_ordinary_path_words_stay_readable() -> None:
    register_secret("https://hooks.slack.com/services/T01/B02/" + SLACK_TOKEN)
    text = redact("POST to services failed; see webhooks docs for T01")
    assert text == "POST to services failed; see webhooks docs for T01"


class EchoingTelegram(TelegramFake):
    """Telegram behind a proxy that repeats the token without its bot id in its errors."""

    def route(self, request: Request) -> Response:
        bare = self.token.split(":", 1)[1]
        return Response(
            502, {"ok": False, "error_code": 502, "description": f"upstream /bot{bare} failed"}
        )


def test_no_part_reaches_the_report_or_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    fake = EchoingTelegram(token=TELEGRAM).start()
    try:
        monkeypatch.setenv("T_TELEGRAM_TOKEN", TELEGRAM)
        from fakes.posts import target

        config = target(
            "telegram",
            "telegram",
            {"token": "${T_TELEGRAM_TOKEN}", "chat_id": "@blog", "api": fake.base},
        )
        logs: list[str] = []
        baseline([config], state)
        report = announce([config], [make_post(1)], state, log=logs.append)
    finally:
        fake.stop()
    rows = list_state(state / "announce.sqlite", target="telegram")
    haystack = "\n".join([json.dumps(report.as_dict()), *logs, *(str(r) for r in rows)])
    assert "upstream" in haystack
    for part in spellings(TELEGRAM.split(":", 1)[1]):
        assert part not in haystack


def test_running_fakes_still_work_with_the_wider_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registering parts must not mangle what is sent: a normal send still goes through."""
    with running(PLATFORMS[1], monkeypatch) as (fake, config):
        baseline([config], tmp_path / "state")
        report = announce([config], [make_post(1)], tmp_path / "state")
    assert report.sent == 1 and fake.problems == []


#: Synapse's access token layout: ``syt_<base64 user>_<random>_<checksum>``.
MATRIX = "syt_bGFudGVybg_QwErTyUiOpAsDfGhJkLz_1a2B3c"


class EchoingMatrix(MatrixFake):
    """A homeserver behind a proxy that repeats the token without its ``syt_`` prefix,
    and its random part alone, in its errors."""

    def route(self, request: Request) -> Response:
        if request.method != "PUT":
            return super().route(request)
        body = self.token.split("_", 1)[1]
        random = self.token.split("_")[2]
        return Response(400, {"errcode": "M_UNKNOWN", "error": f"bad token {body} ({random})"})


def test_a_matrix_token_echoed_without_its_prefix_is_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10: each meaningful part of a secret, as for Telegram's token halves."""
    state = tmp_path / "state"
    fake = EchoingMatrix(token=MATRIX).start()
    try:
        monkeypatch.setenv("T_MATRIX_TOKEN", MATRIX)
        from fakes.posts import target

        config = target(
            "matrix",
            "matrix",
            {"homeserver": fake.base, "room_id": "!room:example.org", "token": "${T_MATRIX_TOKEN}"},
        )
        logs: list[str] = []
        baseline([config], state)
        report = announce([config], [make_post(1)], state, log=logs.append)
    finally:
        fake.stop()
    rows = list_state(state / "announce.sqlite", target="matrix")
    haystack = "\n".join([json.dumps(report.as_dict()), *logs, *(str(r) for r in rows)])
    assert "bad token" in haystack
    for part in [MATRIX.split("_", 1)[1], MATRIX.split("_")[2]]:
        for spelling in spellings(part):
            assert spelling not in haystack, spelling
