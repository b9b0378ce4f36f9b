"""Slack incoming webhook: Block Kit (title link, summary, card image) with a plain fallback.

POST JSON to the webhook URL; Slack answers ``200 ok`` or a status with a short code in
the body (``400 invalid_payload``/``no_text``, ``403 action_prohibited``, ``404
channel_not_found``/``no_service``, ``410 channel_is_archived``) and ``429`` with
``Retry-After``. There is no idempotency key: at-most-once.

Slack documents its limits in "characters" without saying which; they are counted here in
UTF-16 code units, never fewer than code points, so the payload fits under either
reading: a section's text 3000, an image's ``alt_text`` 2000 and ``image_url`` 3000.
The fallback ``text`` (shown in notifications) is escaped like the blocks, so a title
saying ``<!channel>`` pings nobody there either, and kept to 3000 as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from publisher.announce.contract import SECRET, Announcement, Announcer, Receipt, TextLimit
from publisher.announce.http import call
from publisher.announce.linkpreview import Cut, LinkPreview, Theme
from publisher.announce.text import shorten

SECTION = TextLimit(3000, "utf16")
ALT_TEXT = TextLimit(2000, "utf16")
IMAGE_URL = 3000
FALLBACK = TextLimit(3000, "utf16")


class SlackAnnouncer(Announcer):
    kind = "slack"
    limit = SECTION
    #: The other fields it cuts to fit (the docs' limits table lists each).
    limits: ClassVar[Mapping[str, TextLimit]] = {
        "image alt_text": ALT_TEXT,
        "fallback text": FALLBACK,
    }
    idempotent = False
    # How the platform shows a shared link (the preview page draws it from this).
    # Slack: the unfurl shows ``og:description`` cut at about 300 characters (observed; Slack
    # documents the tags it reads, not the cut). The image keeps its own shape.
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="slack",
        name="Slack",
        description_cut=Cut(max=300, approximate=True),
        note="description cut observed, not documented; the picture keeps its shape",
        shape="quote",
        parts=("site", "title", "description"),
        theme=Theme(
            title="#1264a3", text="#1d1c1d", site="#1d1c1d", border="transparent", bar="#dddddd"
        ),
    )
    options: ClassVar[Mapping[str, Any]] = {"url": SECRET, "image": True}

    def escape(self, text: str) -> str:
        """Slack's three control characters: ``<!channel>``, ``<@U123>`` become plain text."""
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": SECTION.clip(announcement.text)}}
        ]
        card = announcement.card
        if (
            card is not None
            and self.config.get("image", True)
            and len(card.url.encode("utf-16-le")) // 2 <= IMAGE_URL
        ):
            blocks.append(
                {
                    "type": "image",
                    "image_url": card.url,
                    "alt_text": ALT_TEXT.clip(card.alt or announcement.title) or "preview",
                }
            )
        return {
            # The URL last and whole: the title is cut to make room, never the link.
            "text": self.fallback(announcement),
            "blocks": blocks,
            "unfurl_links": False,
        }

    def fallback(self, announcement: Announcement) -> str:
        """``title url``, escaped; the title cut (before escaping, so no entity is split)
        to leave the link whole within FALLBACK."""
        url = self.escape(announcement.url)
        room = FALLBACK.max - FALLBACK.measure(" " + url)
        budget, title = room, ""
        while budget > 0:
            title = self.escape(shorten(announcement.title, budget, unit=FALLBACK.unit))
            over = FALLBACK.measure(title) - room
            if over <= 0:
                break
            budget, title = budget - over, ""
        return FALLBACK.clip(f"{title} {url}".strip())

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        response = call(
            session,
            self.name,
            "POST",
            self.secret("url"),
            what="Slack webhook",
            json=self.payload(announcement),
            timeout=self.timeout,
            ok=(200,),
        )
        return Receipt(target=self.name, post_id=announcement.post.id, status=response.status_code)
