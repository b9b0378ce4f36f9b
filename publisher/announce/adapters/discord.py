"""Discord webhook: ``?wait=true`` so the message comes back, an embed with the card, and
``allowed_mentions: {"parse": []}`` so a title saying @everyone pings nobody.

``content`` is limited to 2000 characters, an embed title to 256, its description to
4096. Rate limits come as 429 with ``Retry-After`` and a ``retry_after`` body, and ahead
of time as ``X-RateLimit-Remaining``/``X-RateLimit-Reset-After``. No idempotency key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from publisher.announce.contract import SECRET, Announcement, Announcer, Receipt, TextLimit
from publisher.announce.http import body_of, call
from publisher.announce.text import shorten


def with_wait(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "wait"] + [("wait", "true")]
    return urlunsplit(parts._replace(query=urlencode(query)))


class DiscordAnnouncer(Announcer):
    kind = "discord"
    limit = TextLimit(2000, "chars")
    idempotent = False
    options: ClassVar[Mapping[str, Any]] = {"url": SECRET, "image": True, "username": None}

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        embed: dict[str, Any] = {
            "title": shorten(announcement.title, 256),
            "url": announcement.url,
            "timestamp": announcement.post.date.isoformat(),
        }
        if announcement.summary:
            embed["description"] = shorten(announcement.summary, 4096)
        card = announcement.card
        if card is not None and self.config.get("image", True):
            embed["image"] = {"url": card.url}
        body: dict[str, Any] = {
            "content": announcement.text,
            "embeds": [embed],
            "allowed_mentions": {"parse": []},
        }
        if self.config.get("username"):
            body["username"] = str(self.config["username"])[:80]
        return body

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        response = call(
            session,
            self.name,
            "POST",
            with_wait(self.secret("url")),
            what="Discord webhook",
            json=self.payload(announcement),
            timeout=self.timeout,
            ok=(200, 204),
        )
        body = body_of(response)
        remote_id = str(body["id"]) if isinstance(body, dict) and "id" in body else None
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=remote_id,
            status=response.status_code,
        )
