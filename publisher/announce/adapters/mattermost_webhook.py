"""Mattermost incoming webhook (the Slack-compatible one): ``POST`` JSON to the hook URL.

Body ``{"text", "username", "icon_url", "channel", "attachments"}``; the answer is ``200``
with the body ``ok`` and no post id. A bad hook id is ``400`` (``{"id":
"web.incoming_webhook.invalid.app_error", ...}``), a disabled integration ``501``. Text
over 16,383 characters is split into several posts by the server, so the text is kept
under it. There is no idempotency key and no way to read the channel with the hook's
credentials: **at-most-once**, an ambiguous failure is in doubt (the REST kind,
``mattermost``, can read back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from publisher.announce.adapters.mattermost import (
    ATTACHMENT_TITLE,
    FALLBACK,
    MESSAGE,
    escape_markdown,
    rate_limited,
)
from publisher.announce.contract import SECRET, Announcement, Announcer, Receipt
from publisher.announce.http import call

#: Mattermost's username limit for a post's override name.
USERNAME = 64


class MattermostWebhookAnnouncer(Announcer):
    kind = "mattermost_webhook"
    limit = MESSAGE
    idempotent = False
    options: ClassVar[Mapping[str, Any]] = {
        "url": SECRET,
        "channel": None,
        "username": None,
        "icon_url": None,
        "image": True,
    }

    def escape(self, text: str) -> str:
        return escape_markdown(text)

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        body: dict[str, Any] = {"text": MESSAGE.clip(announcement.text)}
        for key in ("channel", "icon_url"):
            if self.config.get(key):
                body[key] = str(self.config[key])
        if self.config.get("username"):
            body["username"] = str(self.config["username"])[:USERNAME]
        card = announcement.card
        if card is not None and self.config.get("image", True):
            body["attachments"] = [
                {
                    "fallback": FALLBACK.clip(announcement.title) or announcement.url,
                    "title": ATTACHMENT_TITLE.clip(announcement.title),
                    "title_link": announcement.url,
                    "image_url": card.url,
                }
            ]
        return body

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        response = call(
            session,
            self.name,
            "POST",
            self.secret("url"),
            what="Mattermost webhook",
            json=self.payload(announcement),
            timeout=self.timeout,
            ok=(200, 201, 202, 204, 429),
        )
        if response.status_code == 429:
            raise rate_limited(self.name, response, "Mattermost webhook")
        return Receipt(target=self.name, post_id=announcement.post.id, status=response.status_code)
