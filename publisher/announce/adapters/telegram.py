"""Telegram bot: ``sendPhoto`` with the card and a caption, or ``sendMessage`` with a link preview.

The bot token sits inside the API path (``/bot<token>/sendPhoto``), so it is registered
for redaction like the other secrets. A caption holds 0-1024 characters and a message
1-4096, counted in UTF-16 code units as Telegram does. Answers are
``{"ok": true, "result": Message}`` or ``{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}``. If Telegram cannot fetch the card (400 on
``sendPhoto``) the post goes out as a message instead. No idempotency key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from publisher.announce.contract import (
    REQUIRED,
    SECRET,
    Announcement,
    Announcer,
    DeliveryError,
    Receipt,
    TextLimit,
)
from publisher.announce.http import call, json_object, text_field
from publisher.announce.linkpreview import LinkPreview, Theme

CAPTION = TextLimit(1024, "utf16")
MESSAGE = TextLimit(4096, "utf16")


class TelegramAnnouncer(Announcer):
    kind = "telegram"
    limit = CAPTION
    #: The other fields it cuts to fit (the docs' limits table lists each).
    limits: ClassVar[Mapping[str, TextLimit]] = {"message text": MESSAGE}
    idempotent = False
    # How the platform shows a shared link (the preview page draws it from this).
    # Telegram: the link preview hangs under the message with a bar on its left: site name, title,
    # description and, as the Telegram announcer asks (``prefer_large_media``), the picture large
    # below them in its own shape (observed; Telegram publishes no limits).
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="telegram",
        name="Telegram",
        note="layout observed in the apps; Telegram publishes no limits for link previews",
        shape="quote",
        parts=("site", "title", "description"),
        theme=Theme(
            background="#effdde",
            text="#000000",
            title="#000000",
            site="#3a8e26",
            border="#effdde",
            bar="#5fbe67",
            radius=6,
        ),
    )
    options: ClassVar[Mapping[str, Any]] = {
        "token": SECRET,
        "chat_id": REQUIRED,
        "photo": True,
        "api": "https://api.telegram.org",
        "silent": False,
    }

    def text_limit(self, session: requests.Session | None) -> TextLimit:
        return CAPTION if self.config.get("photo", True) else MESSAGE

    def _method(self, announcement: Announcement) -> str:
        return (
            "sendPhoto" if self.config.get("photo", True) and announcement.card else "sendMessage"
        )

    def payload(self, announcement: Announcement, method: str | None = None) -> dict[str, Any]:
        method = method or self._method(announcement)
        body: dict[str, Any] = {"chat_id": self.config["chat_id"]}
        if self.config.get("silent"):
            body["disable_notification"] = True
        if method == "sendPhoto" and announcement.card is not None:
            body["photo"] = announcement.card.url
            body["caption"] = CAPTION.clip(announcement.text)
        else:
            body["text"] = MESSAGE.clip(announcement.text)
            body["link_preview_options"] = {"url": announcement.url, "prefer_large_media": True}
        return body

    def _send(
        self, session: requests.Session, method: str, announcement: Announcement
    ) -> requests.Response:
        api = str(self.config.get("api") or "https://api.telegram.org").rstrip("/")
        return call(
            session,
            self.name,
            "POST",
            f"{api}/bot{self.secret('token')}/{method}",
            what=f"Telegram {method}",
            json=self.payload(announcement, method),
            timeout=self.timeout,
            ok=(200,),
        )

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        method = self._method(announcement)
        try:
            response = self._send(session, method, announcement)
        except DeliveryError as exc:
            if method != "sendPhoto" or exc.status != 400:
                raise
            response = self._send(session, "sendMessage", announcement)
        # 200 means Telegram sent it; an answer without a Message only costs us the link.
        body = json_object(response)
        message_id = text_field(body, "result", "message_id")
        username = text_field(body, "result", "chat", "username")
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=message_id,
            remote_url=f"https://t.me/{username}/{message_id}" if username and message_id else None,
            status=response.status_code,
        )
