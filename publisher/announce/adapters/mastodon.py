"""Mastodon: ``POST /api/v1/statuses`` with an ``Idempotency-Key``.

The instance decides the limits: ``GET /api/v2/instance`` gives
``configuration.statuses.max_characters`` and ``characters_reserved_per_url`` (every URL
counts as that many characters, 23 by default). With ``media: true`` the card is uploaded
first through ``POST /api/v2/media`` (multipart ``file`` + ``description`` as alt text;
202 means still processing, polled on ``GET /api/v1/media/:id``). Mastodon keeps an
idempotency key for about an hour, so a retry with the same key returns the first status
instead of posting twice: at-least-once, duplicates dropped by the server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import timedelta
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
from publisher.announce.http import body_of, call, card_bytes
from publisher.announce.text import shorten

DEFAULT_LIMIT = TextLimit(500, "graphemes", url_length=23)
MEDIA_LIMIT = 16 * 1024 * 1024


class MastodonAnnouncer(Announcer):
    kind = "mastodon"
    limit = DEFAULT_LIMIT
    idempotent = True
    # PostStatusService keeps ``idempotency:status:<account>:<key>`` in Redis with
    # ``setex(..., 3600)``: a resend more than an hour after the first attempt posts again.
    key_lifetime: ClassVar[timedelta | None] = timedelta(hours=1)
    options: ClassVar[Mapping[str, Any]] = {
        "instance": REQUIRED,
        "token": SECRET,
        "visibility": "public",
        "language": None,
        "media": False,
        "max_characters": None,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit: TextLimit | None = None
        self._lock = threading.Lock()

    @property
    def instance(self) -> str:
        return str(self.config["instance"]).rstrip("/")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret('token')}"}

    def text_limit(self, session: requests.Session | None) -> TextLimit:
        configured = self.config.get("max_characters")
        if configured:
            return TextLimit(int(configured), "graphemes", url_length=23)
        if session is None:
            return DEFAULT_LIMIT
        with self._lock:
            if self._limit is None:
                self._limit = self._read_limit(session)
            return self._limit

    def _read_limit(self, session: requests.Session) -> TextLimit:
        for path in ("/api/v2/instance", "/api/v1/instance"):
            try:
                response = session.get(f"{self.instance}{path}", timeout=self.timeout)
            except requests.RequestException:
                continue
            body = body_of(response) if response.status_code == 200 else None
            statuses = ((body or {}).get("configuration") or {}).get("statuses") or {}
            maximum = statuses.get("max_characters")
            per_url = statuses.get("characters_reserved_per_url", 23)
            if isinstance(maximum, int) and maximum > 0:
                return TextLimit(maximum, "graphemes", url_length=int(per_url))
        return DEFAULT_LIMIT

    def payload(self, announcement: Announcement, media_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": announcement.text,
            "visibility": self.config.get("visibility") or "public",
        }
        language = self.config.get("language") or announcement.language
        if language:
            body["language"] = language
        if media_id is not None or (self.config.get("media") and announcement.card is not None):
            body["media_ids"] = [media_id or "<uploaded card>"]
        return body

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        media_id = None
        if self.config.get("media") and announcement.card is not None:
            media_id = self._upload(announcement, session)
        response = call(
            session,
            self.name,
            "POST",
            f"{self.instance}/api/v1/statuses",
            what="Mastodon status",
            json=self.payload(announcement, media_id),
            headers={**self.headers(), "Idempotency-Key": announcement.key},
            timeout=self.timeout,
            ok=(200,),
        )
        body = body_of(response) or {}
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=str(body.get("id")) if body.get("id") else None,
            remote_url=body.get("url") or body.get("uri"),
            status=response.status_code,
        )

    def _upload(self, announcement: Announcement, session: requests.Session) -> str | None:
        card = announcement.card
        assert card is not None
        data = card_bytes(session, self.name, card.path, card.url, limit=MEDIA_LIMIT)
        if data is None:
            return None
        response = call(
            session,
            self.name,
            "POST",
            f"{self.instance}/api/v2/media",
            what="Mastodon media upload",
            headers=self.headers(),
            files={
                "file": ("card" + (".png" if card.mime == "image/png" else ".jpg"), data, card.mime)
            },
            data={"description": shorten(card.alt or announcement.title, 1500)},
            timeout=self.timeout,
            ok=(200, 202),
        )
        body = body_of(response) or {}
        media_id = str(body.get("id") or "")
        if not media_id:
            raise DeliveryError(
                self.name, response.status_code, "media upload returned no id", outcome="retry"
            )
        if response.status_code == 202:
            self._wait_processed(session, media_id)
        return media_id

    def _wait_processed(self, session: requests.Session, media_id: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            response = call(
                session,
                self.name,
                "GET",
                f"{self.instance}/api/v1/media/{media_id}",
                what="Mastodon media status",
                headers=self.headers(),
                timeout=self.timeout,
                ok=(200, 206),
            )
            if response.status_code == 200:
                return
            time.sleep(0.5)
        raise DeliveryError(self.name, 206, "the card is still being processed", outcome="retry")
