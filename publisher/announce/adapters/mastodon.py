"""Mastodon: ``POST /api/v1/statuses`` with an ``Idempotency-Key``.

The instance decides the limits: ``GET /api/v2/instance`` gives
``configuration.statuses.max_characters`` and ``characters_reserved_per_url`` (every URL
counts as that many characters, 23 by default). With ``media: true`` the card is uploaded
first through ``POST /api/v2/media`` (multipart ``file`` + ``description`` as alt text;
202 means still processing, polled on ``GET /api/v1/media/:id``). Mastodon keeps an
idempotency key for about an hour, so a retry with the same key returns the first status
instead of posting twice: at-least-once, duplicates dropped by the server. Past that
hour the key is forgotten (``key_lifetime``): the delivery layer then reads back first.

Read-back: ``GET /api/v1/accounts/verify_credentials`` for the account id, then its
statuses newest first (``GET /api/v1/accounts/:id/statuses``, paged with ``max_id``)
back to the first attempt; a status is this post's when its HTML or its preview card
links the post's URL. The media description (alt text) holds 1500 characters.
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests

from publisher.announce.contract import (
    REQUIRED,
    SECRET,
    Announcement,
    Announcer,
    DeliveryError,
    ReadBackUnavailable,
    Receipt,
    TextLimit,
)
from publisher.announce.http import (
    CLOCK_SKEW,
    answer_time,
    call,
    card_bytes,
    json_object,
    text_field,
)
from publisher.announce.linkpreview import LinkPreview, Theme

DEFAULT_LIMIT = TextLimit(500, "graphemes", url_length=23)
MEDIA_LIMIT = 16 * 1024 * 1024
#: MediaAttachment's description limit, in Ruby string length (code points).
DESCRIPTION = TextLimit(1500, "chars")
#: Pages of 40 statuses read back before saying "cannot tell".
READ_PAGES = 10
_HREF = re.compile(r'href="([^"]*)"')


class MastodonAnnouncer(Announcer):
    kind = "mastodon"
    limit = DEFAULT_LIMIT
    #: The other fields it cuts to fit (the docs' limits table lists each).
    limits: ClassVar[Mapping[str, TextLimit]] = {"media description": DESCRIPTION}
    idempotent = True
    # How the platform shows a shared link (the preview page draws it from this).
    # Mastodon: preview images up to 2 MB, JPEG/PNG/GIF/WebP (``PreviewCard::LIMIT`` in Mastodon's
    # source); the web app shows the picture in its own shape and clamps title and description
    # (observed).
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="mastodon",
        name="Mastodon",
        title_lines=2,
        description_lines=2,
        max_bytes=2_000_000,
        note="line clamps observed in the web app; they depend on the reader's screen",
        parts=("site", "title", "description"),
        theme=Theme(
            background="#282c37", text="#d9e1e8", title="#ffffff", muted="#9baec8", border="#393f4f"
        ),
    )
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
            body = json_object(response) if response.status_code == 200 else {}
            configuration = body.get("configuration")
            statuses = configuration.get("statuses") if isinstance(configuration, dict) else None
            statuses = statuses if isinstance(statuses, dict) else {}
            maximum = statuses.get("max_characters")
            per_url = statuses.get("characters_reserved_per_url", 23)
            if not isinstance(per_url, int) or isinstance(per_url, bool) or per_url < 0:
                per_url = 23
            if isinstance(maximum, int) and not isinstance(maximum, bool) and maximum > 0:
                return TextLimit(maximum, "graphemes", url_length=per_url)
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
        # 200 means the status exists; an odd body only costs us its id and link.
        return self._receipt(announcement, json_object(response), response.status_code)

    def _receipt(
        self, announcement: Announcement, status: dict[str, Any], code: int, duplicate: bool = False
    ) -> Receipt:
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=text_field(status, "id"),
            remote_url=text_field(status, "url") or text_field(status, "uri"),
            status=code,
            duplicate=duplicate,
        )

    def read_back(
        self, announcement: Announcement, session: requests.Session, *, since: datetime
    ) -> Receipt | None:
        """This post's status on the account, among those created at or after ``since``."""
        account = self._get(session, "/api/v1/accounts/verify_credentials", {})
        account_id = text_field(account, "id")
        if account_id is None:
            raise ReadBackUnavailable(self.name, 200, "verify_credentials gave no account id")
        floor = since.astimezone(UTC) - CLOCK_SKEW
        params: dict[str, str] = {"limit": "40"}
        for _ in range(READ_PAGES):
            page = self._get(session, f"/api/v1/accounts/{account_id}/statuses", params)
            if not isinstance(page, list):
                raise ReadBackUnavailable(self.name, 200, "the statuses answer is not a list")
            older = False
            for status in page:
                if not isinstance(status, dict):
                    continue
                if _links(status, announcement.url):
                    return self._receipt(announcement, status, 200, duplicate=True)
                created = answer_time(status.get("created_at"))
                older = older or (created is not None and created < floor)
            last = text_field(page[-1], "id") if page else None
            if older or last is None:
                return None
            params = {"limit": "40", "max_id": last}
        raise ReadBackUnavailable(
            self.name, None, f"more than {READ_PAGES * 40} statuses since {since.isoformat()}"
        )

    def _get(self, session: requests.Session, path: str, params: dict[str, str]) -> Any:
        try:
            response = call(
                session,
                self.name,
                "GET",
                f"{self.instance}{path}",
                what="Mastodon read-back",
                headers=self.headers(),
                params=params,
                timeout=self.timeout,
                ok=(200,),
            )
        except DeliveryError as exc:
            # 401/403: the token lacks read:accounts/read:statuses; else the server is away.
            raise ReadBackUnavailable(self.name, exc.status, exc.reason) from None
        try:
            return response.json()
        except ValueError:
            raise ReadBackUnavailable(self.name, 200, f"{path} did not answer JSON") from None

    def _upload(self, announcement: Announcement, session: requests.Session) -> str | None:
        card = announcement.card
        assert card is not None
        data = card_bytes(card.path, card.url, limit=MEDIA_LIMIT)
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
            data={"description": DESCRIPTION.clip(card.alt or announcement.title)},
            timeout=self.timeout,
            ok=(200, 202),
        )
        media_id = text_field(json_object(response), "id")
        if media_id is None:
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


def _links(status: dict[str, Any], url: str) -> bool:
    """Does this status link ``url``, in its HTML or as its preview card?"""
    if text_field(status, "card", "url") == url:
        return True
    content = status.get("content")
    if not isinstance(content, str):
        return False
    return url in {html.unescape(href) for href in _HREF.findall(content)}
