"""Run announcements against fake platforms with fast retry settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from publisher.announce import AnnounceReport, RetryPolicy, RunSettings, run_announcements
from publisher.config import TargetConfig
from publisher.posts.model import Post

from .platforms import (
    BlueskyFake,
    DiscordFake,
    MastodonFake,
    MatrixFake,
    SlackFake,
    TeamsFake,
    TelegramFake,
    WebhookReceiver,
)
from .posts import NOW, target
from .server import FakePlatform

FAST = RetryPolicy(attempts=3, base=0.05, cap=0.2, budget=5.0)


def everything_live(urls: Sequence[str]) -> dict[str, bool]:
    return dict.fromkeys(urls, True)


def announce(
    targets: Sequence[TargetConfig], posts: Sequence[Post], state: Path, **kwargs: Any
) -> AnnounceReport:
    options: dict[str, Any] = {
        "ledger_path": state / "announce.sqlite",
        "now": NOW,
        "root": state.parent,
        "live_check": everything_live,
        "policy": FAST,
    }
    options.update(kwargs)
    return run_announcements(targets, posts, settings=RunSettings(**options))


def baseline(targets: Sequence[TargetConfig], state: Path) -> None:
    """A first run with no posts: every later post counts as new."""
    announce(targets, [], state)


@dataclass
class Platform:
    kind: str
    idempotent: bool
    make: Callable[[pytest.MonkeyPatch, dict[str, Any]], tuple[FakePlatform, TargetConfig]]


def _slack(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = SlackFake().start()
    mp.setenv("T_SLACK_URL", fake.url)
    return fake, target("slack", "slack", {"url": "${T_SLACK_URL}", **extra})


def _discord(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = DiscordFake().start()
    mp.setenv("T_DISCORD_URL", fake.url)
    return fake, target("discord", "discord", {"url": "${T_DISCORD_URL}", **extra})


def _teams(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = TeamsFake().start()
    mp.setenv("T_TEAMS_URL", fake.url)
    return fake, target("teams", "teams", {"url": "${T_TEAMS_URL}", **extra})


def _mastodon(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = MastodonFake().start()
    mp.setenv("T_MASTODON_TOKEN", fake.token)
    return fake, target(
        "mastodon", "mastodon", {"instance": fake.base, "token": "${T_MASTODON_TOKEN}", **extra}
    )


def _bluesky(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = BlueskyFake().start()
    mp.setenv("T_BSKY_PASSWORD", fake.password)
    return fake, target(
        "bluesky",
        "bluesky",
        {
            "handle": fake.handle,
            "app_password": "${T_BSKY_PASSWORD}",
            "service": fake.base,
            **extra,
        },
    )


def _telegram(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = TelegramFake().start()
    mp.setenv("T_TELEGRAM_TOKEN", fake.token)
    return fake, target(
        "telegram",
        "telegram",
        {"token": "${T_TELEGRAM_TOKEN}", "chat_id": "@lanternblog", "api": fake.base, **extra},
    )


def _matrix(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = MatrixFake().start()
    mp.setenv("T_MATRIX_TOKEN", fake.token)
    return fake, target(
        "matrix",
        "matrix",
        {
            "homeserver": fake.base,
            "room_id": "!room:example.org",
            "token": "${T_MATRIX_TOKEN}",
            **extra,
        },
    )


def _webhook(mp: pytest.MonkeyPatch, extra: dict[str, Any]) -> tuple[FakePlatform, TargetConfig]:
    fake = WebhookReceiver().start()
    mp.setenv("T_WEBHOOK_URL", fake.url)
    mp.setenv("T_WEBHOOK_SECRET", fake.secret)
    return fake, target(
        "webhook", "webhook", {"url": "${T_WEBHOOK_URL}", "secret": "${T_WEBHOOK_SECRET}", **extra}
    )


PLATFORMS = [
    Platform("slack", False, _slack),
    Platform("discord", False, _discord),
    Platform("teams", False, _teams),
    Platform("telegram", False, _telegram),
    Platform("mastodon", True, _mastodon),
    Platform("bluesky", True, _bluesky),
    Platform("matrix", True, _matrix),
    Platform("webhook", True, _webhook),
]


@contextmanager
def running(
    platform: Platform, mp: pytest.MonkeyPatch, **extra: Any
) -> Iterator[tuple[FakePlatform, TargetConfig]]:
    fake, config = platform.make(mp, extra)
    try:
        yield fake, config
    finally:
        fake.stop()
