"""Which adapter class serves which target kind.

Built-in adapters are registered exactly as a third-party plugin would be, through the
``publisher.announcers`` entry-point group (``kind = "package.module:Class"``). The
table below is the fallback for a source checkout whose metadata predates an adapter;
a plugin's entry point adds a kind, it cannot replace a built-in one.
"""

from __future__ import annotations

import functools
import importlib
from importlib.metadata import entry_points

from publisher.announce.contract import Announcer

GROUP = "publisher.announcers"

BUILTINS: dict[str, str] = {
    "outbox": "publisher.announce.adapters.outbox:OutboxAnnouncer",
    "slack": "publisher.announce.adapters.slack:SlackAnnouncer",
    "discord": "publisher.announce.adapters.discord:DiscordAnnouncer",
    "teams": "publisher.announce.adapters.teams:TeamsAnnouncer",
    "mastodon": "publisher.announce.adapters.mastodon:MastodonAnnouncer",
    "bluesky": "publisher.announce.adapters.bluesky:BlueskyAnnouncer",
    "telegram": "publisher.announce.adapters.telegram:TelegramAnnouncer",
    "matrix": "publisher.announce.adapters.matrix:MatrixAnnouncer",
    "webhook": "publisher.announce.adapters.webhook:WebhookAnnouncer",
    "googlechat": "publisher.announce.adapters.googlechat:GoogleChatAnnouncer",
    "mattermost": "publisher.announce.adapters.mattermost:MattermostAnnouncer",
    "mattermost_webhook": "publisher.announce.adapters.mattermost_webhook:MattermostWebhookAnnouncer",
    "zulip": "publisher.announce.adapters.zulip:ZulipAnnouncer",
    "email": "publisher.announce.adapters.email:EmailAnnouncer",
    "x": "publisher.announce.adapters.x:XAnnouncer",
    "threads": "publisher.announce.adapters.threads:ThreadsAnnouncer",
    "linkedin": "publisher.announce.adapters.linkedin:LinkedInAnnouncer",
    "apprise": "publisher.announce.adapters.apprise:AppriseAnnouncer",
}


def _load(reference: str) -> type[Announcer]:
    module, _, attribute = reference.partition(":")
    cls = getattr(importlib.import_module(module), attribute)
    if not (isinstance(cls, type) and issubclass(cls, Announcer)):
        raise TypeError(f"{reference} is not an Announcer subclass")
    return cls


@functools.cache
def references() -> dict[str, str]:
    """kind -> "module:Class", from entry points, with the built-ins always present."""
    found = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    return {**found, **BUILTINS}


def kinds() -> tuple[str, ...]:
    return tuple(sorted(references()))


@functools.cache
def announcer_class(kind: str) -> type[Announcer]:
    """The adapter class for ``kind``; KeyError if no adapter is registered for it."""
    reference = references()[kind]
    cls = _load(reference)
    if cls.kind != kind:
        raise TypeError(f"{reference} declares kind {cls.kind!r}, registered as {kind!r}")
    return cls
