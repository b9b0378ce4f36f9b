"""Matrix: an ``m.notice`` (bots' message type: clients do not notify for it, other bots do
not answer it) sent with
``PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}``.

The transaction id comes from the ledger's idempotency key: the homeserver treats a
repeated ``PUT`` with the same id (same access token) as the same event and returns the
first ``event_id``, so retries are safe: at-least-once. ``429`` carries
``retry_after_ms`` (``M_LIMIT_EXCEEDED``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from publisher.announce.contract import (
    REQUIRED,
    SECRET,
    Announcement,
    Announcer,
    Receipt,
    TextLimit,
)
from publisher.announce.http import body_of, call
from publisher.announce.text import URL_RE


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
    # An event may be 65536 bytes in all; the HTML copy roughly doubles the text.
    limit = TextLimit(16000, "bytes")
    idempotent = True
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
        return {
            "msgtype": self.config.get("msgtype") or "m.notice",
            "body": announcement.text,
            "format": "org.matrix.custom.html",
            "formatted_body": to_html(announcement.text),
        }

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        homeserver = str(self.config["homeserver"]).rstrip("/")
        room = str(self.config["room_id"])
        url = (
            f"{homeserver}/_matrix/client/v3/rooms/{quote(room, safe='')}"
            f"/send/m.room.message/{quote(self.txn_id(announcement), safe='')}"
        )
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
        event_id = (body_of(response) or {}).get("event_id")
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=event_id,
            remote_url=f"https://matrix.to/#/{quote(room, safe='!:')}/{quote(event_id, safe='$:')}"
            if event_id
            else None,
            status=response.status_code,
        )
