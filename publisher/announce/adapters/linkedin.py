"""LinkedIn: an article share through the Posts API, ``POST /rest/posts``.

Headers ``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM`` (the API version; each
is served for about a year) and ``X-Restli-Protocol-Version: 2.0.0``. The body names the
author (``urn:li:person:...`` or ``urn:li:organization:...``), the ``commentary`` and an
``article`` (source, title, description, and the card as ``thumbnail``, an image URN from
the Images API: ``POST /rest/images?action=initializeUpload``, then ``PUT`` the bytes to
the ``uploadUrl`` it gives). The answer is ``201`` with the post's URN in
``x-restli-id`` and no body.

The commentary is "little text": ``\\ | { } @ [ ] ( ) < > # * _ ~`` are markup (mentions,
hashtags) and an unescaped one can make LinkedIn cut the post there, so each is
backslash-escaped in the post's text (the link and the hashtags stay as they are). It
holds 3,000 characters (counted here in UTF-16 units, never fewer than characters, after
escaping); the article title and description are kept to 200 and 500 (ours).

No idempotency key: **at-most-once**. LinkedIn refuses a post that repeats the author's
recent one (``422`` "Content is a duplicate of urn:li:share:..."): as the answer to a
resend, that means the first attempt got through, and it is reported as sent with that
URN. Read-back, where the token may read the author's posts (``r_member_social`` or
``r_organization_social``): ``GET /rest/posts?q=author``, newest first, matched by the
article's source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from publisher.announce.contract import (
    REQUIRED,
    SECRET,
    Announcement,
    Announcer,
    DeliveryError,
    ReadBackUnavailable,
    Receipt,
    SetupError,
    TextLimit,
)
from publisher.announce.http import CLOCK_SKEW, body_of, call, card_bytes, json_object, text_field
from publisher.announce.linkpreview import LinkPreview, Theme

COMMENTARY = TextLimit(3000, "utf16")
TITLE = TextLimit(200, "chars")
DESCRIPTION = TextLimit(500, "chars")
THUMBNAIL_LIMIT = 5 * 1024 * 1024
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
_AUTHOR = re.compile(r"^urn:li:(person|organization):[A-Za-z0-9_-]+$")
_DUPLICATE = re.compile(r"duplicate of (urn:li:[a-zA-Z]+:\d+)")
#: Pages of 50 posts read back before saying "cannot tell".
READ_PAGES = 4


def escape_little_text(text: str) -> str:
    """Text LinkedIn shows as written: every reserved character backslash-escaped."""
    return _RESERVED.sub(r"\\\1", text)


class LinkedInAnnouncer(Announcer):
    kind = "linkedin"
    limit = COMMENTARY
    #: The other fields it cuts to fit (the docs' limits table lists each).
    limits: ClassVar[Mapping[str, TextLimit]] = {
        "article title": TITLE,
        "article description": DESCRIPTION,
    }
    idempotent = False
    # How the platform shows a shared link (the preview page draws it from this).
    # LinkedIn: 1.91:1 (LinkedIn's recommended 1200x627), images up to 5 MB, no WebP; the feed
    # shows the title on up to two lines and no description (observed).
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="linkedin",
        name="LinkedIn",
        shows_description=False,
        title_lines=2,
        ratio=1200 / 627,
        ratio_label="1.91:1",
        max_bytes=5_000_000,
        formats=frozenset({"image/jpeg", "image/png", "image/gif"}),
        note="two title lines and no description are observed, not documented",
        theme=Theme(
            body="#eef3f8",
            title="rgba(0,0,0,.9)",
            muted="rgba(0,0,0,.6)",
            border="#e0dfdc",
            radius=2,
        ),
    )
    options: ClassVar[Mapping[str, Any]] = {
        "token": SECRET,
        "author": REQUIRED,
        "version": "202609",
        "visibility": "public",
        "thumbnail": True,
        "api": "https://api.linkedin.com",
    }

    @property
    def api(self) -> str:
        return str(self.config.get("api") or "https://api.linkedin.com").rstrip("/")

    def author(self) -> str:
        author = str(self.config.get("author") or "")
        if not _AUTHOR.match(author):
            raise SetupError(
                self.name,
                f"author {author!r} is not urn:li:person:<id> or urn:li:organization:<id>",
            )
        return author

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.secret('token')}",
            "LinkedIn-Version": str(self.config.get("version") or "202609"),
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def escape(self, text: str) -> str:
        return escape_little_text(text)

    def payload(self, announcement: Announcement, thumbnail: str | None = None) -> dict[str, Any]:
        article: dict[str, Any] = {
            "source": announcement.url,
            "title": TITLE.clip(announcement.title) or announcement.url[: TITLE.max],
        }
        description = DESCRIPTION.clip(announcement.summary)
        if description:
            article["description"] = description
        if thumbnail is not None:
            article["thumbnail"] = thumbnail
        visibility = (
            "PUBLIC" if self.config.get("visibility") in (None, "public") else "CONNECTIONS"
        )
        return {
            "author": str(self.config.get("author") or ""),
            "commentary": COMMENTARY.clip(announcement.text),
            "visibility": visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "content": {"article": article},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        author = self.author()
        thumbnail = None
        if self.config.get("thumbnail", True) and announcement.card is not None:
            thumbnail = self._upload(announcement, session, author)
        response = call(
            session,
            self.name,
            "POST",
            f"{self.api}/rest/posts",
            what="LinkedIn post",
            json=self.payload(announcement, thumbnail),
            headers=self.headers(),
            timeout=self.timeout,
            ok=(200, 201, 202, 204, 422),
        )
        if response.status_code == 422:
            message = text_field(body_of(response), "message") or "unprocessable"
            duplicate = _DUPLICATE.search(message)
            if duplicate and announcement.attempt > 1:
                # This text went out already: the earlier attempt got through.
                return self._receipt(announcement, duplicate.group(1), 422, duplicate=True)
            raise DeliveryError(
                self.name,
                422,
                f"LinkedIn post: {message} (permanent: fix the target or the post)",
                outcome="refused",
            )
        urn = response.headers.get("x-restli-id") or text_field(json_object(response), "id")
        return self._receipt(announcement, urn, response.status_code)

    def _receipt(
        self, announcement: Announcement, urn: str | None, code: int, duplicate: bool = False
    ) -> Receipt:
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=urn,
            remote_url=f"https://www.linkedin.com/feed/update/{urn}/" if urn else None,
            status=code,
            duplicate=duplicate,
        )

    def _upload(
        self, announcement: Announcement, session: requests.Session, author: str
    ) -> str | None:
        """The card as an image URN, or None (the post then goes without a thumbnail)."""
        card = announcement.card
        assert card is not None
        data = card_bytes(card.path, card.url, limit=THUMBNAIL_LIMIT)
        if data is None:
            return None
        try:
            response = call(
                session,
                self.name,
                "POST",
                f"{self.api}/rest/images",
                what="LinkedIn image upload",
                params={"action": "initializeUpload"},
                json={"initializeUploadRequest": {"owner": author}},
                headers=self.headers(),
                timeout=self.timeout,
                ok=(200,),
            )
            value = json_object(response).get("value")
            upload, image = text_field(value, "uploadUrl"), text_field(value, "image")
            if upload is None or image is None:
                return None
            call(
                session,
                self.name,
                "PUT",
                upload,
                what="LinkedIn image bytes",
                data=data,
                headers={
                    "Authorization": self.headers()["Authorization"],
                    "Content-Type": card.mime,
                },
                timeout=self.timeout,
                ok=(200, 201),
            )
        except DeliveryError as exc:
            if exc.status in (401, 403):
                raise  # the token is wrong: the post would fail the same way
            return None
        return image

    def read_back(
        self, announcement: Announcement, session: requests.Session, *, since: datetime
    ) -> Receipt | None:
        """This post's share among the author's posts since ``since``, by the article link."""
        author = self.author()
        floor_ms = int((since.astimezone(UTC) - CLOCK_SKEW).timestamp() * 1000)
        start = 0
        for _ in range(READ_PAGES):
            # Rest.li 2.0 wants the URN encoded inside the query string.
            query = f"q=author&author={quote(author, safe='')}&count=50&start={start}"
            try:
                response = call(
                    session,
                    self.name,
                    "GET",
                    f"{self.api}/rest/posts?{query}&sortBy=CREATED",
                    what="LinkedIn read-back",
                    headers=self.headers(),
                    timeout=self.timeout,
                    ok=(200,),
                )
            except DeliveryError as exc:
                # 403: the token may not read the author's posts (r_member_social is closed).
                raise ReadBackUnavailable(self.name, exc.status, exc.reason) from None
            elements = json_object(response).get("elements")
            if not isinstance(elements, list):
                raise ReadBackUnavailable(self.name, 200, "the posts answer has no elements")
            older = False
            for element in elements:
                source = text_field(element, "content", "article", "source")
                if source == announcement.url:
                    return self._receipt(announcement, text_field(element, "id"), 200, True)
                created = element.get("createdAt") if isinstance(element, dict) else None
                older = older or (isinstance(created, int) and created < floor_ms)
            if older or len(elements) < 50:
                return None
            start += 50
        raise ReadBackUnavailable(self.name, None, f"more than {READ_PAGES * 50} posts since then")
