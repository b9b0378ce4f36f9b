"""Google Chat incoming webhook: one cardV2 (title, text, card image, a button to the post).

POST JSON to the webhook URL (``https://chat.googleapis.com/v1/spaces/<space>/messages
?key=...&token=...``; the key and token are the credential). The webhook is the
``spaces.messages.create`` method, so it takes its ``messageId`` query parameter: a
client-assigned id (``client-`` + lowercase letters, digits and hyphens, at most 63
characters, unique in the space). It is made from the ledger's idempotency key, the same
on every retry, so a resend of a message Chat already has is answered ``409
ALREADY_EXISTS`` instead of posting twice: at-least-once, duplicates refused by Chat, for
as long as the message exists (``key_lifetime`` None).

Limits: the whole message at most 32,000 bytes; a message's text 4,096 characters
(counted here in code points, the text paragraph after HTML escaping). The header title,
image alt text and notification fallback are kept to 500 code points each, our own budget
so the total stays far under 32,000 bytes whatever the script. Card text paragraphs take
Chat's HTML subset, so ``&``, ``<`` and ``>`` in the post are escaped; the fallback text is
shown as plain text in notifications and holds only the title and link.

Errors come in Google's shape, ``{"error": {"code", "message", "status"}}``; 429
``RESOURCE_EXHAUSTED`` (60 writes per minute per space, webhooks included) carries no
``Retry-After`` and is retried with backoff. A webhook cannot read messages, so
``read_back`` is unavailable; the message id makes it unnecessary.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from publisher.announce.contract import (
    SECRET,
    Announcement,
    Announcer,
    DeliveryError,
    Receipt,
    TextLimit,
)
from publisher.announce.http import body_of, call, json_object, text_field
from publisher.announce.linkpreview import LinkPreview, Theme
from publisher.announce.text import shorten

TEXT = TextLimit(4096, "chars")
#: Our budgets (Chat documents only the 32,000-byte total for these).
HEADER = TextLimit(500, "chars")
ALT_TEXT = TextLimit(500, "chars")
FALLBACK = TextLimit(500, "chars")
BUTTON = TextLimit(40, "chars")
_SPACE = re.compile(r"/v1/(spaces/[^/]+)/messages")


def message_id(key: str) -> str:
    """``client-`` + the idempotency key in Chat's alphabet, at most 63 characters."""
    cleaned = re.sub(r"[^a-z0-9-]", "-", key.lower())
    return ("client-" + cleaned)[:63]


class GoogleChatAnnouncer(Announcer):
    kind = "googlechat"
    limit = TEXT
    #: The other fields it cuts to fit (the docs' limits table lists each).
    limits: ClassVar[Mapping[str, TextLimit]] = {
        "header": HEADER,
        "image alt text": ALT_TEXT,
        "fallback": FALLBACK,
        "button": BUTTON,
    }
    idempotent = True
    # How the platform shows a shared link (the preview page draws it from this).
    # Google Chat: a link in a message unfurls to a card with the picture above the title,
    # description and domain (observed; Google documents no limits for link previews).
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="googlechat",
        name="Google Chat",
        title_lines=2,
        description_lines=2,
        note="layout observed; Google documents no limits for link previews",
        parts=("title", "description", "domain"),
        theme=Theme(text="#1f1f1f", title="#0b57d0", muted="#444746", border="#c4c7c5", radius=8),
    )
    options: ClassVar[Mapping[str, Any]] = {
        "url": SECRET,
        "image": True,
        "button": "Read the post",
    }

    def escape(self, text: str) -> str:
        """Card text is Chat's HTML subset: ``<b>`` in a title must stay text."""
        return html.escape(text, quote=False)

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        widgets: list[dict[str, Any]] = []
        text = TEXT.clip(announcement.text)
        if text:
            widgets.append({"textParagraph": {"text": text}})
        card = announcement.card
        if card is not None and self.config.get("image", True):
            alt = ALT_TEXT.clip(card.alt or announcement.title) or "preview"
            widgets.append({"image": {"imageUrl": card.url, "altText": alt}})
        label = BUTTON.clip(str(self.config.get("button") or "Read the post"))
        widgets.append(
            {
                "buttonList": {
                    "buttons": [{"text": label, "onClick": {"openLink": {"url": announcement.url}}}]
                }
            }
        )
        header = HEADER.clip(announcement.title) or announcement.url[: HEADER.max]
        return {
            "fallbackText": self.fallback(announcement),
            "cardsV2": [
                {
                    "cardId": "post",
                    "card": {"header": {"title": header}, "sections": [{"widgets": widgets}]},
                }
            ],
        }

    def fallback(self, announcement: Announcement) -> str:
        """``title url``: the title cut to leave the link whole."""
        url = announcement.url
        room = FALLBACK.max - len(url) - 1
        if room <= 0:
            return FALLBACK.clip(url)
        return f"{shorten(announcement.title, room, unit='chars')} {url}".strip()

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        url = self.secret("url")
        msg_id = message_id(announcement.key)
        # UTF-8 on the wire: the 32,000-byte limit is not spent on \\u escapes.
        data = json.dumps(self.payload(announcement), ensure_ascii=False).encode("utf-8")
        response = call(
            session,
            self.name,
            "POST",
            url,
            what="Google Chat webhook",
            params={"messageId": msg_id},
            data=data,
            headers={"Content-Type": "application/json; charset=UTF-8"},
            timeout=self.timeout,
            ok=(200, 201, 202, 204, 409),
        )
        if response.status_code == 409:
            error = body_of(response)
            status = text_field(error, "error", "status")
            if status != "ALREADY_EXISTS":
                # ABORTED and other conflicts: nothing was created; ask again.
                raise DeliveryError(
                    self.name,
                    409,
                    f"Google Chat webhook: {status or 'conflict'}",
                    outcome="retry",
                )
            # An earlier attempt of this very message got through: that one stands.
            space = _SPACE.search(urlsplit(url).path)
            name = f"{space.group(1)}/messages/{msg_id}" if space else None
            return Receipt(
                target=self.name,
                post_id=announcement.post.id,
                remote_id=name,
                status=409,
                duplicate=True,
            )
        message = json_object(response)
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=text_field(message, "name"),
            status=response.status_code,
        )
