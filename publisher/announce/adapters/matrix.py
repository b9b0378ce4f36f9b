"""Matrix: an ``m.notice`` (bots' message type: clients do not notify for it, other bots do
not answer it) sent with
``PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}``.

The transaction id comes from the ledger's idempotency key: the homeserver treats a
repeated ``PUT`` with the same id (same access token) as the same event and returns the
first ``event_id``, so retries are safe: at-least-once. ``429`` carries
``retry_after_ms`` (``M_LIMIT_EXCEEDED``).

Limits: an event may be 65536 bytes of canonical JSON in all. ``body`` is kept to 16000
UTF-8 bytes; the HTML copy (``formatted_body``, up to five times longer where ``&`` is
escaped) is left out when the content would pass 48000 bytes, leaving room for the
event's envelope and signatures.

Read-back: ``GET /rooms/{roomId}/messages?dir=b`` pages the room backwards to the first
attempt; an event is this post's when its ``unsigned.transaction_id`` is our transaction
id (the server shows it to the sender's own token) or its body links the post's URL.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
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
    TextLimit,
)
from publisher.announce.http import CLOCK_SKEW, call, json_object, text_field
from publisher.announce.linkpreview import LinkPreview, Theme
from publisher.announce.text import URL_RE

BODY = TextLimit(16000, "bytes")
#: Content bytes (canonical JSON) above which the HTML copy is left out.
CONTENT_BYTES = 48_000
#: Pages of 100 events read back before saying "cannot tell".
READ_PAGES = 10


def to_html(text: str) -> str:
    """The plain message as HTML: escaped, links clickable, line breaks kept."""
    out, last = [], 0
    for match in URL_RE.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        url = html.escape(match.group(0), quote=True)
        out.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out).replace("\n", "<br>")


class MatrixAnnouncer(Announcer):
    kind = "matrix"
    limit = BODY
    idempotent = True
    # How the platform shows a shared link (the preview page draws it from this).
    # Matrix: Element shows the preview the homeserver made (Synapse's ``/preview_url``, which
    # downloads at most ``max_spider_size``, 10 MB by default) with a small thumbnail, only when
    # the homeserver has URL previews on (off by default) and never in encrypted rooms; the
    # description is clamped to three lines (observed).
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="matrix",
        name="Matrix (Element)",
        description_lines=3,
        small_picture=True,
        max_bytes=10 * 1024 * 1024,
        note=(
            "drawn by Element from the homeserver's preview, which needs URL previews on"
            " (off by default) and is never made in encrypted rooms; line clamp observed"
        ),
        parts=("site", "title", "description"),
        theme=Theme(
            text="#17191c", title="#0dbd8b", muted="#737d8c", border="#e3e8f0", bar="#e3e8f0"
        ),
    )
    # Synapse's HttpTransactionCache forgets a transaction id 30 to 60 minutes after the
    # first PUT (and on restart); the spec promises no minimum, so take Synapse's floor.
    key_lifetime: ClassVar[timedelta | None] = timedelta(minutes=30)
    options: ClassVar[Mapping[str, Any]] = {
        "homeserver": REQUIRED,
        "room_id": REQUIRED,
        "token": SECRET,
        "msgtype": "m.notice",
    }

    def txn_id(self, announcement: Announcement) -> str:
        return f"publisher.{announcement.key}"

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        body = BODY.clip(announcement.text)
        content: dict[str, Any] = {
            "msgtype": self.config.get("msgtype") or "m.notice",
            "body": body,
            "format": "org.matrix.custom.html",
            "formatted_body": to_html(body),
        }
        if len(canonical(content)) > CONTENT_BYTES:
            del content["format"], content["formatted_body"]
        return content

    def _room_url(self, tail: str) -> str:
        homeserver = str(self.config["homeserver"]).rstrip("/")
        room = quote(str(self.config["room_id"]), safe="")
        return f"{homeserver}/_matrix/client/v3/rooms/{room}/{tail}"

    def _receipt(
        self, announcement: Announcement, event_id: str | None, code: int, duplicate: bool = False
    ) -> Receipt:
        room = str(self.config["room_id"])
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=event_id,
            remote_url=f"https://matrix.to/#/{quote(room, safe='!:')}/{quote(event_id, safe='$:')}"
            if event_id
            else None,
            status=code,
            duplicate=duplicate,
        )

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        url = self._room_url(f"send/m.room.message/{quote(self.txn_id(announcement), safe='')}")
        response = call(
            session,
            self.name,
            "PUT",
            url,
            what="Matrix message",
            json=self.payload(announcement),
            headers={"Authorization": f"Bearer {self.secret('token')}"},
            timeout=self.timeout,
            ok=(200,),
        )
        # 200 means the event is in the room; an odd body only costs us its id.
        event_id = text_field(json_object(response), "event_id")
        return self._receipt(announcement, event_id, response.status_code)

    def read_back(
        self, announcement: Announcement, session: requests.Session, *, since: datetime
    ) -> Receipt | None:
        """This post's event in the room, among those sent at or after ``since``."""
        txn = self.txn_id(announcement)
        floor_ms = int((since - CLOCK_SKEW).timestamp() * 1000)
        params: dict[str, str] = {"dir": "b", "limit": "100"}
        for _ in range(READ_PAGES):
            try:
                response = call(
                    session,
                    self.name,
                    "GET",
                    self._room_url("messages"),
                    what="Matrix read-back",
                    headers={"Authorization": f"Bearer {self.secret('token')}"},
                    params=params,
                    timeout=self.timeout,
                    ok=(200,),
                )
            except DeliveryError as exc:
                raise ReadBackUnavailable(self.name, exc.status, exc.reason) from None
            page = json_object(response)
            chunk = page.get("chunk")
            if not isinstance(chunk, list):
                raise ReadBackUnavailable(self.name, 200, "/messages answered without a chunk")
            older = False
            for event in chunk:
                if not isinstance(event, dict):
                    continue
                if text_field(event, "unsigned", "transaction_id") == txn or _links(
                    event, announcement.url
                ):
                    return self._receipt(
                        announcement, text_field(event, "event_id"), 200, duplicate=True
                    )
                stamp = event.get("origin_server_ts")
                older = older or (isinstance(stamp, int) and stamp < floor_ms)
            end = text_field(page, "end")
            if older or end is None or not chunk:
                return None
            params = {"dir": "b", "limit": "100", "from": end}
        raise ReadBackUnavailable(
            self.name, None, f"more than {READ_PAGES * 100} events since {since.isoformat()}"
        )


def canonical(content: dict[str, Any]) -> bytes:
    """Matrix's canonical JSON (sorted keys, no spaces, UTF-8): how event size is measured."""
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(
        "utf-8"
    )


def _links(event: dict[str, Any], url: str) -> bool:
    if event.get("type") != "m.room.message":
        return False
    body = text_field(event, "content", "body")
    return body is not None and url in URL_RE.findall(body)
