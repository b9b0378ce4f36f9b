"""Microsoft Teams through a Workflows ("Post to a channel when a webhook request is
received") webhook; the Office 365 connectors it replaces are retired.

The body is a message with one Adaptive Card 1.4 attachment: title, card image, summary
and an ``Action.OpenUrl`` button. Workflows answers ``202 Accepted`` and no message id.
No idempotency key: at-most-once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from publisher.announce.contract import SECRET, Announcement, Announcer, Receipt, TextLimit
from publisher.announce.http import call


class TeamsAnnouncer(Announcer):
    kind = "teams"
    limit = TextLimit(2000, "chars")
    idempotent = False
    options: ClassVar[Mapping[str, Any]] = {"url": SECRET, "image": True, "button": "Read the post"}

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        body: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": announcement.title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            }
        ]
        card = announcement.card
        if card is not None and self.config.get("image", True):
            body.append(
                {
                    "type": "Image",
                    "url": card.url,
                    "altText": card.alt or announcement.title,
                    "size": "Stretch",
                }
            )
        if announcement.text:
            body.append({"type": "TextBlock", "text": announcement.text, "wrap": True})
        adaptive = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
            "actions": [
                {
                    "type": "Action.OpenUrl",
                    "title": str(self.config.get("button") or "Read the post"),
                    "url": announcement.url,
                }
            ],
        }
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": adaptive,
                }
            ],
        }

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        response = call(
            session,
            self.name,
            "POST",
            self.secret("url"),
            what="Teams workflow",
            json=self.payload(announcement),
            timeout=self.timeout,
        )
        return Receipt(target=self.name, post_id=announcement.post.id, status=response.status_code)
