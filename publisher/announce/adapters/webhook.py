"""A generic JSON webhook, signed per the Standard Webhooks specification.

Headers: ``webhook-id`` (``msg_`` + the ledger's idempotency key: the same on every retry,
so the receiver can drop duplicates), ``webhook-timestamp`` (Unix seconds of this
attempt) and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 over
``{id}.{timestamp}.{body}``). The secret is ``whsec_`` + base64 bytes as the spec writes
it; any other value is used as raw UTF-8 bytes. Body::

    {"type": "post.published", "timestamp": "...", "data": {"id", "url", "title", ...}}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC
from typing import Any, ClassVar

import requests

from publisher.announce.contract import SECRET, Announcement, Announcer, Receipt, TextLimit
from publisher.announce.http import call


def secret_key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_") :], validate=True)
        except ValueError:
            pass
    return secret.encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


#: Our own budget for ``data.text``; title and summary go whole (the receiver decides).
TEXT = TextLimit(10000, "chars")


class WebhookAnnouncer(Announcer):
    kind = "webhook"
    limit = TEXT
    idempotent = True
    options: ClassVar[Mapping[str, Any]] = {
        "url": SECRET,
        "secret": SECRET,
        "event": "post.published",
    }

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        post = announcement.post
        return {
            "type": self.config.get("event") or "post.published",
            "timestamp": announcement.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": {
                "id": post.id,
                "url": announcement.url,
                "page_url": post.page_url,
                "title": announcement.title,
                "summary": announcement.summary,
                "text": TEXT.clip(announcement.text),
                "date": post.date.isoformat(),
                "categories": list(post.categories),
                "tags": list(post.tags),
                "authors": [a.name for a in post.authors],
                "image": announcement.card.url if announcement.card else None,
                "is_link_post": post.is_link_post,
            },
        }

    def msg_id(self, announcement: Announcement) -> str:
        return f"msg_{announcement.key}"

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        body = json.dumps(
            self.payload(announcement), ensure_ascii=False, separators=(",", ":"), sort_keys=True
        ).encode()
        msg_id = self.msg_id(announcement)
        stamp = int(time.time())
        response = call(
            session,
            self.name,
            "POST",
            self.secret("url"),
            what="webhook",
            data=body,
            headers={
                "Content-Type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign(self.secret("secret"), msg_id, stamp, body),
            },
            timeout=self.timeout,
            ok=tuple(range(200, 300)),
        )
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=msg_id,
            status=response.status_code,
        )
