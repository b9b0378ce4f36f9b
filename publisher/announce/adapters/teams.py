"""Microsoft Teams through a Workflows ("Post to a channel when a webhook request is
received") webhook; the Office 365 connectors it replaces are retired.

The body is a message with one Adaptive Card 1.4 attachment: title, card image, summary
and an ``Action.OpenUrl`` button. Workflows answers ``202 Accepted`` and no message id.
No idempotency key: at-most-once.

Teams caps a message at about 28 KB and documents no per-field limit; it is .NET, so
strings are counted in UTF-16 code units. The fields are kept to our own budget (title
500, text 2000, alt text 1000 UTF-16 units), which keeps the whole card far below 28 KB.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from publisher.announce.contract import SECRET, Announcement, Announcer, Receipt, TextLimit
from publisher.announce.http import call
from publisher.announce.linkpreview import LinkPreview, Theme

TITLE = TextLimit(500, "utf16")
TEXT = TextLimit(2000, "utf16")
ALT_TEXT = TextLimit(1000, "utf16")


class TeamsAnnouncer(Announcer):
    kind = "teams"
    limit = TEXT
    #: The other fields it cuts to fit (the docs' limits table lists each).
    limits: ClassVar[Mapping[str, TextLimit]] = {"title": TITLE, "image alt text": ALT_TEXT}
    idempotent = False
    # How the platform shows a shared link (the preview page draws it from this).
    # Microsoft Teams: a pasted link unfurls to a box with a thumbnail beside the title,
    # description and domain (observed; Microsoft documents no limits for it). The Teams announcer
    # itself posts an Adaptive Card, shown in the announcement's payload.
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="teams",
        name="Microsoft Teams",
        title_lines=2,
        description_lines=2,
        small_picture=True,
        note="a pasted link's preview, observed; Microsoft documents no limits for it",
        parts=("title", "description", "domain"),
        theme=Theme(text="#242424", title="#242424", muted="#616161", border="#e0e0e0", radius=4),
    )
    options: ClassVar[Mapping[str, Any]] = {"url": SECRET, "image": True, "button": "Read the post"}

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        body: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": TITLE.clip(announcement.title),
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
                    "altText": ALT_TEXT.clip(card.alt or announcement.title),
                    "size": "Stretch",
                }
            )
        if announcement.text:
            body.append({"type": "TextBlock", "text": TEXT.clip(announcement.text), "wrap": True})
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
