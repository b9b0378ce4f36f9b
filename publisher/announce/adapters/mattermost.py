"""Mattermost through its REST API with a bot account's token: ``POST /api/v4/posts``.

``Authorization: Bearer <token>``; body ``{"channel_id", "message", "props"}``; the answer
is ``201`` with the post (``id``, ``create_at`` in milliseconds, ...). Errors are
``{"id", "message", "status_code", ...}``; 429 comes with ``X-Ratelimit-Reset`` in
*seconds until the reset* (not a Unix time) and usually ``Retry-After``.

A message holds 16,383 characters (``PostMessageMaxRunesV2``: runes, i.e. code points);
``max_characters`` lowers it for servers configured smaller. The card is a message
attachment in ``props.attachments`` (title, link, image); our own budgets keep its title
and fallback to 500 code points.

Delivery: Mattermost drops a second post with the same ``pending_post_id`` only for 30
seconds and only on the server that saw the first (``pendingPostIDsCacheTTL``, an
in-memory cache): too short for retries spread over a minute, so it is sent (the key) but
not relied on: **at-most-once**, and an ambiguous failure is in doubt. Read-back settles it:
``GET /api/v4/channels/<id>/posts?since=<ms>`` lists the channel's posts since the first
attempt; ours carries the key in ``props.publisher_key`` (and the post's link).

Markdown: ``*``, ``_``, ``~``, `````, ``[``, ``]``, ``<``, ``>``, ``#``, ``|`` and ``\\`` in post
text are backslash-escaped, and a word joiner follows every ``@`` so a title saying
``@channel`` or ``@alice`` notifies nobody.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
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
from publisher.announce.http import CLOCK_SKEW, body_of, call, json_object, text_field
from publisher.announce.linkpreview import LinkPreview, Theme

MESSAGE = TextLimit(16383, "chars")
#: Our budgets for the attachment (Mattermost caps only the props' total, 800,000 runes).
ATTACHMENT_TITLE = TextLimit(500, "chars")
FALLBACK = TextLimit(500, "chars")
_MARKDOWN = re.compile(r"([\\*_~`\[\]<>#|])")
WORD_JOINER = "\u2060"


def escape_markdown(text: str) -> str:
    """Plain text that Mattermost shows as written and that mentions nobody."""
    return _MARKDOWN.sub(r"\\\1", text).replace("@", "@" + WORD_JOINER)


def rate_limit_seconds(response: requests.Response) -> float | None:
    """Mattermost's wait: ``Retry-After``, else ``X-Ratelimit-Reset`` (seconds from now)."""
    for header in ("Retry-After", "X-Ratelimit-Reset"):
        value = response.headers.get(header)
        try:
            if value:
                return max(0.0, float(value))
        except ValueError:
            continue
    return None


def rate_limited(target: str, response: requests.Response, what: str) -> DeliveryError:
    """A 429 as a retry after Mattermost's own wait (the generic reader takes
    ``X-Ratelimit-Reset`` for a Unix time, which would mean "now")."""
    message = text_field(body_of(response), "message") or "rate limited"
    return DeliveryError(
        target,
        429,
        f"{what}: {message}",
        outcome="retry",
        retry_after=rate_limit_seconds(response),
    )


class MattermostAnnouncer(Announcer):
    kind = "mattermost"
    limit = MESSAGE
    #: The other fields it cuts to fit (the docs' limits table lists each).
    limits: ClassVar[Mapping[str, TextLimit]] = {
        "attachment title": ATTACHMENT_TITLE,
        "fallback": FALLBACK,
    }
    idempotent = False
    # How the platform shows a shared link (the preview page draws it from this).
    # Mattermost: the server's OpenGraph preview hangs under the post with a bar on its left: site
    # name, title, description, and the picture large below (observed; the server reads ``og:*``
    # tags itself).
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="mattermost",
        name="Mattermost",
        note="the server's own OpenGraph preview, layout observed",
        shape="quote",
        parts=("site", "title", "description"),
        theme=Theme(
            text="#3f4350",
            title="#1c58d9",
            site="#3f4350",
            border="transparent",
            bar="#dddddd",
            radius=4,
        ),
    )
    options: ClassVar[Mapping[str, Any]] = {
        "instance": REQUIRED,
        "token": SECRET,
        "channel_id": REQUIRED,
        "image": True,
        "max_characters": None,
    }

    @property
    def instance(self) -> str:
        return str(self.config["instance"]).rstrip("/")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret('token')}"}

    def text_limit(self, session: requests.Session | None) -> TextLimit:
        configured = str(self.config.get("max_characters") or "")
        if not configured.isdigit() or int(configured) <= 0:
            return MESSAGE  # unset (or not a number: the server's own limit applies)
        return TextLimit(min(int(configured), MESSAGE.max), "chars")

    def escape(self, text: str) -> str:
        return escape_markdown(text)

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        props: dict[str, Any] = {"publisher_key": announcement.key}
        card = announcement.card
        if card is not None and self.config.get("image", True):
            props["attachments"] = [
                {
                    "fallback": FALLBACK.clip(announcement.title) or announcement.url,
                    "title": ATTACHMENT_TITLE.clip(announcement.title),
                    "title_link": announcement.url,
                    "image_url": card.url,
                }
            ]
        return {
            "channel_id": str(self.config["channel_id"]),
            "message": self.text_limit(None).clip(announcement.text),
            "props": props,
            # Dropped by the server as a duplicate for 30 s: a bonus, not the guarantee.
            "pending_post_id": announcement.key,
        }

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        response = call(
            session,
            self.name,
            "POST",
            f"{self.instance}/api/v4/posts",
            what="Mattermost post",
            json=self.payload(announcement),
            headers=self.headers(),
            timeout=self.timeout,
            ok=(200, 201, 202, 204, 429),
        )
        if response.status_code == 429:
            raise rate_limited(self.name, response, "Mattermost post")
        return self._receipt(announcement, json_object(response), response.status_code)

    def _receipt(
        self, announcement: Announcement, post: Any, code: int, duplicate: bool = False
    ) -> Receipt:
        post_id = text_field(post, "id")
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=post_id,
            remote_url=f"{self.instance}/_redirect/pl/{post_id}" if post_id else None,
            status=code,
            duplicate=duplicate,
        )

    def read_back(
        self, announcement: Announcement, session: requests.Session, *, since: datetime
    ) -> Receipt | None:
        """This announcement's post among the channel's posts since the first attempt."""
        floor = since.astimezone(UTC) - CLOCK_SKEW
        channel = str(self.config["channel_id"])
        try:
            response = call(
                session,
                self.name,
                "GET",
                f"{self.instance}/api/v4/channels/{channel}/posts",
                what="Mattermost read-back",
                headers=self.headers(),
                params={"since": str(int(floor.timestamp() * 1000))},
                timeout=self.timeout,
                ok=(200,),
            )
        except DeliveryError as exc:
            # 403: the bot is not in the channel or lacks read_channel; else the server is away.
            raise ReadBackUnavailable(self.name, exc.status, exc.reason) from None
        listing = body_of(response)
        posts = listing.get("posts") if isinstance(listing, dict) else None
        if not isinstance(posts, dict):
            raise ReadBackUnavailable(self.name, 200, "the channel's posts answer has no posts")
        for post in posts.values():
            # A deleted post still counts: it was posted, and someone chose to remove it.
            if not isinstance(post, dict):
                continue
            props = post.get("props")
            key = props.get("publisher_key") if isinstance(props, dict) else None
            if key == announcement.key:
                return self._receipt(announcement, post, 200, duplicate=True)
        return None
