"""Slack incoming webhook: Block Kit (title link, summary, card image) with a plain fallback.

POST JSON to the webhook URL; Slack answers ``200 ok`` or a status with a short code in
the body (``400 invalid_payload``/``no_text``, ``403 action_prohibited``, ``404
channel_not_found``/``no_service``, ``410 channel_is_archived``) and ``429`` with
``Retry-After``. There is no idempotency key: at-most-once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from publisher.announce.contract import SECRET, Announcement, Announcer, Receipt, TextLimit
from publisher.announce.http import call
from publisher.announce.text import shorten


class SlackAnnouncer(Announcer):
    kind = "slack"
    # A section block's mrkdwn text holds at most 3000 characters.
    limit = TextLimit(3000, "chars")
    idempotent = False
    options: ClassVar[Mapping[str, Any]] = {"url": SECRET, "image": True}

    def escape(self, text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": announcement.text}}
        ]
        card = announcement.card
        if card is not None and self.config.get("image", True):
            blocks.append(
                {
                    "type": "image",
                    "image_url": card.url,
                    "alt_text": shorten(card.alt or announcement.title, 1900) or "preview",
                }
            )
        return {
            "text": f"{announcement.title} {announcement.url}",
            "blocks": blocks,
            "unfurl_links": False,
        }

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
