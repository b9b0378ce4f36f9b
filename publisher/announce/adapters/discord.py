"""Discord webhook: ``?wait=true`` so the message comes back, an embed with the card, and
``allowed_mentions: {"parse": []}`` so a title saying @everyone pings nobody.

Discord counts Unicode code points: ``content`` holds 2000, an embed title 256, its
description 4096, author name 256, footer 2048, and all embed text together 6000; a
webhook ``username`` 1-80. Every field is clipped to its limit here, so a long CJK or
emoji title cannot earn a 400 on every run. Rate limits come as 429 with ``Retry-After`` and a ``retry_after`` body, and ahead
of time as ``X-RateLimit-Remaining``/``X-RateLimit-Reset-After``. No idempotency key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from publisher.announce.contract import (
    SECRET,
    Announcement,
    Announcer,
    ReadBackUnavailable,
    Receipt,
    TextLimit,
)
from publisher.announce.http import body_of, call
from publisher.announce.linkpreview import Cut, LinkPreview, Theme

CONTENT = TextLimit(2000, "chars")
TITLE = TextLimit(256, "chars")
DESCRIPTION = TextLimit(4096, "chars")
USERNAME = TextLimit(80, "chars")


def with_wait(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "wait"] + [("wait", "true")]
    return urlunsplit(parts._replace(query=urlencode(query)))


class DiscordAnnouncer(Announcer):
    kind = "discord"
    limit = CONTENT
    #: The other fields it cuts to fit (the docs' limits table lists each).
    limits: ClassVar[Mapping[str, TextLimit]] = {
        "embed title": TITLE,
        "embed description": DESCRIPTION,
        "username": USERNAME,
    }
    idempotent = False
    # How the platform shows a shared link (the preview page draws it from this).
    # Discord: ``og:title`` is cut to 67 + ``...`` and ``og:description`` to 347 + ``...``,
    # counted in UTF-8 bytes (observed by developers; Discord documents neither). The large image
    # keeps its own shape.
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="discord",
        name="Discord",
        title_cut=Cut(max=70, unit="bytes", ellipsis="...", approximate=True),
        description_cut=Cut(max=350, unit="bytes", ellipsis="...", approximate=True),
        note="cuts observed (counted in UTF-8 bytes), not documented",
        shape="quote",
        parts=("site", "title", "description"),
        theme=Theme(
            background="#2b2d31",
            text="#dbdee1",
            title="#00a8fc",
            muted="#b5bac1",
            border="#2b2d31",
            bar="#1e1f22",
            radius=4,
        ),
    )
    options: ClassVar[Mapping[str, Any]] = {"url": SECRET, "image": True, "username": None}

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        embed: dict[str, Any] = {
            "title": TITLE.clip(announcement.title),
            "url": announcement.url,
            "timestamp": announcement.post.date.isoformat(),
        }
        if announcement.summary:
            embed["description"] = DESCRIPTION.clip(announcement.summary)
        card = announcement.card
        if card is not None and self.config.get("image", True):
            embed["image"] = {"url": card.url}
        body: dict[str, Any] = {
            "content": CONTENT.clip(announcement.text),
            "embeds": [embed],
            "allowed_mentions": {"parse": []},
        }
        if self.config.get("username"):
            body["username"] = USERNAME.clip(str(self.config["username"]))
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
        # A 2xx means Discord took the message; an answer that is not a message object
        # only costs us its id (resending would post it twice).
        found = body.get("id") if isinstance(body, dict) else None
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=str(found) if isinstance(found, str | int) and found else None,
            status=response.status_code,
        )

    def read_back(
        self, announcement: Announcement, session: requests.Session, *, since: datetime
    ) -> Receipt | None:
        """A webhook can fetch a message only by its id, and an unanswered send has none."""
        raise ReadBackUnavailable(
            self.name,
            None,
            "a Discord webhook cannot list the channel's messages; check the channel by hand",
        )
