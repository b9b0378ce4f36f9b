"""Bluesky (AT Protocol): an ``app.bsky.feed.post`` record with link facets and a card.

* Log in with an app password (``com.atproto.server.createSession``) only when needed:
  the access and refresh tokens are kept in the state folder (mode 0600) and refreshed
  with ``com.atproto.server.refreshSession``, so cron runs do not hit the login limit.
* Links in the text get ``app.bsky.richtext.facet#link`` facets whose ``byteStart`` /
  ``byteEnd`` are UTF-8 byte offsets (inclusive start, exclusive end); without them a
  URL is not clickable.
* The card is an ``app.bsky.embed.external`` with the thumbnail uploaded through
  ``com.atproto.repo.uploadBlob`` (at most 1,000,000 bytes; a larger one is left out).
* Text: at most 300 graphemes and 3000 bytes.
* Idempotency: the record key (``rkey``) is a TID derived from the ledger's first attempt
  time and the idempotency key, so a retry writes the same record key; if the record
  already exists the earlier post is reported instead of a second one.
"""

from __future__ import annotations

import json
import os
import re
import threading
import zlib
from collections.abc import Mapping
from datetime import UTC
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

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
from publisher.announce.redact import register_secret
from publisher.announce.text import URL_RE, shorten

BLOB_LIMIT = 1_000_000
COLLECTION = "app.bsky.feed.post"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def tid(microseconds: int, clock_id: int) -> str:
    """A record key in the TID format: 53 bits of microseconds, 10 bits of clock id, base32-sortable."""
    value = ((microseconds & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet for every URL in ``text``, with UTF-8 byte offsets."""
    facets = []
    for match in URL_RE.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        start = len(text[: match.start()].encode("utf-8"))
        end = start + len(url.encode("utf-8"))
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
            }
        )
    return facets


class BlueskyAnnouncer(Announcer):
    kind = "bluesky"
    limit = TextLimit(300, "graphemes", max_bytes=3000)
    idempotent = True
    options: ClassVar[Mapping[str, Any]] = {
        "handle": REQUIRED,
        "app_password": SECRET,
        "service": "https://bsky.social",
        "language": None,
        "image": True,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session: dict[str, str] | None = None
        self._lock = threading.Lock()

    @property
    def service(self) -> str:
        return str(self.config.get("service") or "https://bsky.social").rstrip("/")

    def _xrpc(self, method: str) -> str:
        return f"{self.service}/xrpc/{method}"

    # -- session -------------------------------------------------------------

    def session_file(self) -> Path | None:
        if self.state_dir is None:
            return None
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name)
        return self.state_dir / f"bluesky-{safe}.session.json"

    def _load(self) -> dict[str, str] | None:
        path = self.session_file()
        if path is None or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("handle_config") != self.config.get("handle"):
            return None
        if not all(isinstance(data.get(k), str) for k in ("accessJwt", "refreshJwt", "did")):
            return None
        for key in ("accessJwt", "refreshJwt"):
            register_secret(data[key])
        return {k: str(v) for k, v in data.items()}

    def _save(self, data: dict[str, Any]) -> dict[str, str]:
        session = {
            "accessJwt": str(data["accessJwt"]),
            "refreshJwt": str(data["refreshJwt"]),
            "did": str(data["did"]),
            "handle": str(data.get("handle") or self.config.get("handle")),
            "handle_config": str(self.config.get("handle")),
        }
        for key in ("accessJwt", "refreshJwt"):
            register_secret(session[key])
        path = self.session_file()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(session, handle)
            os.replace(temporary, path)
        return session

    def _login(self, http: requests.Session) -> dict[str, str]:
        response = call(
            http,
            self.name,
            "POST",
            self._xrpc("com.atproto.server.createSession"),
            what="Bluesky login",
            json={"identifier": self.config["handle"], "password": self.secret("app_password")},
            timeout=self.timeout,
            ok=(200,),
        )
        body = body_of(response)
        if not isinstance(body, dict) or "accessJwt" not in body:
            raise DeliveryError(
                self.name, 200, "Bluesky login answered without tokens", outcome="retry"
            )
        return self._save(body)

    def _refresh(self, http: requests.Session, session: dict[str, str]) -> dict[str, str]:
        try:
            response = call(
                http,
                self.name,
                "POST",
                self._xrpc("com.atproto.server.refreshSession"),
                what="Bluesky session refresh",
                headers={"Authorization": f"Bearer {session['refreshJwt']}"},
                timeout=self.timeout,
                ok=(200,),
            )
        except DeliveryError as exc:
            if exc.outcome == "refused":
                return self._login(http)
            raise
        body = body_of(response)
        if not isinstance(body, dict) or "accessJwt" not in body:
            return self._login(http)
        return self._save({**session, **body})

    def _current(self, http: requests.Session) -> dict[str, str]:
        if self._session is None:
            self._session = self._load() or self._login(http)
        return self._session

    def _authed(
        self, http: requests.Session, method: str, name: str, *, what: str, **kwargs: Any
    ) -> requests.Response:
        """A call with the access token; on an expired token, refresh once and repeat."""
        with self._lock:
            session = self._current(http)
        headers = dict(kwargs.pop("headers", {}) or {})
        try:
            return call(
                http,
                self.name,
                method,
                self._xrpc(name),
                what=what,
                headers={**headers, "Authorization": f"Bearer {session['accessJwt']}"},
                timeout=self.timeout,
                **kwargs,
            )
        except DeliveryError as exc:
            if exc.status not in (400, 401) or ("xpired" not in exc.reason and exc.status != 401):
                raise
        with self._lock:
            self._session = self._refresh(http, session)
            session = self._session
        return call(
            http,
            self.name,
            method,
            self._xrpc(name),
            what=what,
            headers={**headers, "Authorization": f"Bearer {session['accessJwt']}"},
            timeout=self.timeout,
            **kwargs,
        )

    # -- the post ------------------------------------------------------------

    def rkey(self, announcement: Announcement) -> str:
        micros = int(announcement.created_at.astimezone(UTC).timestamp() * 1_000_000)
        return tid(micros, zlib.crc32(announcement.key.encode()) & 0x3FF)

    def record(self, announcement: Announcement, thumb: Any = None) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": announcement.text,
            "createdAt": announcement.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        facets = link_facets(announcement.text)
        if facets:
            record["facets"] = facets
        external: dict[str, Any] = {
            "uri": announcement.url,
            "title": shorten(announcement.title, 300),
            "description": shorten(announcement.summary, 1000),
        }
        if thumb is not None:
            external["thumb"] = thumb
        record["embed"] = {"$type": "app.bsky.embed.external", "external": external}
        language = self.config.get("language") or announcement.language
        if language:
            record["langs"] = [language]
        return record

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        thumb = (
            "<uploaded card blob>"
            if announcement.card is not None and self.config.get("image", True)
            else None
        )
        return {
            "repo": f"<did of {self.config.get('handle')}>",
            "collection": COLLECTION,
            "rkey": self.rkey(announcement),
            "record": self.record(announcement, thumb),
        }

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        rkey = self.rkey(announcement)
        # A later attempt: the first may have been written before its answer was lost.
        existing = self._existing(session, rkey) if announcement.attempt > 1 else None
        if existing is not None:
            return Receipt(
                target=self.name, post_id=announcement.post.id, duplicate=True, **existing
            )
        thumb = None
        card = announcement.card
        if card is not None and self.config.get("image", True):
            data = card_bytes(session, self.name, card.path, card.url, limit=BLOB_LIMIT)
            if data is not None:
                uploaded = self._authed(
                    session,
                    "POST",
                    "com.atproto.repo.uploadBlob",
                    what="Bluesky thumbnail upload",
                    data=data,
                    headers={"Content-Type": card.mime},
                    ok=(200,),
                )
                thumb = (body_of(uploaded) or {}).get("blob")
        try:
            response = self._authed(
                session,
                "POST",
                "com.atproto.repo.createRecord",
                what="Bluesky post",
                json={
                    "repo": self._current(session)["did"],
                    "collection": COLLECTION,
                    "rkey": rkey,
                    "record": self.record(announcement, thumb),
                },
                ok=(200,),
            )
        except DeliveryError as exc:
            if exc.outcome == "refused" and exc.status == 400:
                found = self._existing(session, rkey)
                if found is not None:
                    return Receipt(
                        target=self.name, post_id=announcement.post.id, duplicate=True, **found
                    )
            raise
        body = body_of(response) or {}
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=body.get("uri"),
            remote_url=self._web_url(rkey),
            status=response.status_code,
        )

    def _web_url(self, rkey: str) -> str:
        handle = (self._session or {}).get("handle") or str(self.config.get("handle"))
        return f"https://bsky.app/profile/{quote(handle)}/post/{rkey}"

    def _existing(self, http: requests.Session, rkey: str) -> dict[str, Any] | None:
        """The record already written under ``rkey`` (an earlier attempt got through), if any."""
        did = self._current(http)["did"]
        try:
            response = http.get(
                self._xrpc("com.atproto.repo.getRecord"),
                params={"repo": did, "collection": COLLECTION, "rkey": rkey},
                timeout=self.timeout,
            )
        except requests.RequestException:
            return None
        if response.status_code != 200:
            return None
        body = body_of(response) or {}
        return {"remote_id": body.get("uri"), "remote_url": self._web_url(rkey), "status": 200}
