"""Zulip: a bot posts to a stream (channel) and topic with ``POST /api/v1/messages``.

HTTP basic auth with the bot's email and API key; a form-encoded body (``type=stream``,
``to``, ``topic``, ``content``); the answer is ``{"result": "success", "id": 42, "msg":
""}``. Errors are ``{"result": "error", "msg", "code"}`` (``401 INVALID_API_KEY``,
``400 STREAM_DOES_NOT_EXIST``...); 429 ``RATE_LIMIT_HIT`` carries ``Retry-After`` (and
``retry-after`` in the body).

Limits: content 10,000 bytes (Zulip's ``MAX_MESSAGE_LENGTH``; counted here as UTF-8 bytes,
never fewer than characters), a topic 60 characters (code points). The ``topic`` option
may hold ``{title}``: each post then opens a topic of its own, named after it.

Zulip has no idempotency key: **at-most-once**. Read-back: ``GET /api/v1/messages`` with a
narrow to the stream, the topic and the bot itself, newest first, raw Markdown
(``apply_markdown=false``), back to the first attempt; a message is this post's when it
links the post's URL. Markdown characters in the post (backslash, backtick, ``* _ [ ] # >``) are
backslash-escaped, a word joiner follows every ``@`` and splits ``$$`` and ``~~``, so a
title saying ``@**all**`` notifies nobody and ``$$x$$`` is not math.
"""

from __future__ import annotations

import json
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
from publisher.announce.http import CLOCK_SKEW, call, json_object, text_field
from publisher.announce.linkpreview import LinkPreview, Theme
from publisher.announce.text import shorten

CONTENT = TextLimit(10000, "bytes")
TOPIC = 60
#: Pages of 100 messages read back before saying "cannot tell".
READ_PAGES = 5
#: What Zulip's Markdown (Python-Markdown) lets a backslash escape and that means markup
#: here; ``<`` needs nothing (Zulip never renders raw HTML).
_MARKDOWN = re.compile(r"([\\`*_\[\]#>])")
WORD_JOINER = "\u2060"


class ZulipAnnouncer(Announcer):
    kind = "zulip"
    limit = CONTENT
    idempotent = False
    # How the platform shows a shared link (the preview page draws it from this).
    # Zulip: the inline URL preview shows a small picture beside the title and description
    # (observed; the server's ``inline_url_embed_preview`` setting must be on).
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="zulip",
        name="Zulip",
        title_lines=1,
        description_lines=3,
        small_picture=True,
        note="needs the server's inline URL previews on; layout observed",
        parts=("title", "description"),
        theme=Theme(text="#333333", title="#0b66c3", muted="#666666", border="#e0e0e0", radius=4),
    )
    options: ClassVar[Mapping[str, Any]] = {
        "instance": REQUIRED,
        "email": REQUIRED,
        "api_key": SECRET,
        "stream": REQUIRED,
        "topic": "{title}",
    }

    @property
    def instance(self) -> str:
        return str(self.config["instance"]).rstrip("/")

    def auth(self) -> tuple[str, str]:
        return (str(self.config["email"]), self.secret("api_key"))

    def escape(self, text: str) -> str:
        """Zulip Markdown shown as written: ``@**all**``, ``#**stream**``, ``$$math$$`` inert
        (a word joiner after ``@`` and inside ``$$``/``~~``, which no backslash escapes)."""
        escaped = _MARKDOWN.sub(r"\\\1", text).replace("@", "@" + WORD_JOINER)
        for pair in ("$$", "~~"):  # math and strikethrough: a joiner between the two
            while pair in escaped:
                escaped = escaped.replace(pair, pair[0] + WORD_JOINER + pair[1])
        return escaped

    def topic(self, announcement: Announcement) -> str:
        """The ``topic`` option with ``{title}`` filled in, within 60 characters."""
        pattern = str(self.config.get("topic") or "{title}")
        if "{title}" not in pattern:
            return shorten(" ".join(pattern.split()), TOPIC, unit="chars") or "posts"
        room = TOPIC - len(pattern.replace("{title}", ""))
        title = shorten(" ".join(announcement.title.split()), max(room, 0), unit="chars")
        topic = " ".join(pattern.replace("{title}", title).split())
        return shorten(topic, TOPIC, unit="chars") or "posts"

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        return {
            "type": "stream",
            "to": str(self.config["stream"]),
            "topic": self.topic(announcement),
            "content": CONTENT.clip(announcement.text),
        }

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        response = call(
            session,
            self.name,
            "POST",
            f"{self.instance}/api/v1/messages",
            what="Zulip message",
            data=self.payload(announcement),
            auth=self.auth(),
            timeout=self.timeout,
            ok=(200,),
        )
        return self._receipt(announcement, json_object(response), response.status_code)

    def _receipt(
        self, announcement: Announcement, message: Any, code: int, duplicate: bool = False
    ) -> Receipt:
        message_id = text_field(message, "id")
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=message_id,
            remote_url=f"{self.instance}/#narrow/id/{message_id}" if message_id else None,
            status=code,
            duplicate=duplicate,
        )

    def read_back(
        self, announcement: Announcement, session: requests.Session, *, since: datetime
    ) -> Receipt | None:
        """This post's message in the stream and topic, sent by the bot since ``since``."""
        floor = (since.astimezone(UTC) - CLOCK_SKEW).timestamp()
        narrow = [
            {"operator": "stream", "operand": str(self.config["stream"])},
            {"operator": "topic", "operand": self.topic(announcement)},
            {"operator": "sender", "operand": str(self.config["email"])},
        ]
        params = {
            "anchor": "newest",
            "num_before": "100",
            "num_after": "0",
            "apply_markdown": "false",
            "narrow": json.dumps(narrow),
        }
        for _ in range(READ_PAGES):
            page = self._get(session, params)
            messages = page.get("messages")
            if not isinstance(messages, list):
                raise ReadBackUnavailable(self.name, 200, "the messages answer has no messages")
            older, oldest_id = False, None
            for message in sorted(
                (m for m in messages if isinstance(m, dict)), key=_message_id, reverse=True
            ):
                content = message.get("content")
                if isinstance(content, str) and announcement.url in content:
                    return self._receipt(announcement, message, 200, duplicate=True)
                stamp = message.get("timestamp")
                older = older or (isinstance(stamp, int | float) and stamp < floor)
                oldest_id = message.get("id")
            if older or page.get("found_oldest") is True or oldest_id is None:
                return None
            params = {**params, "anchor": str(oldest_id), "include_anchor": "false"}
        raise ReadBackUnavailable(
            self.name, None, f"more than {READ_PAGES * 100} messages since {since.isoformat()}"
        )

    def _get(self, session: requests.Session, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = call(
                session,
                self.name,
                "GET",
                f"{self.instance}/api/v1/messages",
                what="Zulip read-back",
                params=params,
                auth=self.auth(),
                timeout=self.timeout,
                ok=(200,),
            )
        except DeliveryError as exc:
            # 400 on a stream the bot cannot see, 401 on a bad key, or the server is away.
            raise ReadBackUnavailable(self.name, exc.status, exc.reason) from None
        return json_object(response)


def _message_id(message: dict[str, Any]) -> int:
    value = message.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
