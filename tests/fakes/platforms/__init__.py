"""One fake per platform, each checking what the real one checks (auth, content type,
required fields, documented limits) and answering in its own shapes, error and rate-limit
answers included. One module per platform or family; the limits are written out from the
platforms' documentation, not imported from the adapters, so an adapter that declares the
wrong limit fails against its fake."""

from __future__ import annotations

from .bluesky import BlueskyFake
from .chat import DiscordFake, SlackFake, TeamsFake, TelegramFake
from .mastodon import MastodonFake
from .matrix import MatrixFake
from .web import SiteFake, WebhookReceiver

__all__ = [
    "BlueskyFake",
    "DiscordFake",
    "MastodonFake",
    "MatrixFake",
    "SiteFake",
    "SlackFake",
    "TeamsFake",
    "TelegramFake",
    "WebhookReceiver",
]
