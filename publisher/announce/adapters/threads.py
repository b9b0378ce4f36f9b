"""Threads (Meta's Graph API): create a media container, then publish it.

1. ``POST /v1.0/me/threads`` (``media_type=TEXT``, ``text``, ``link_attachment``, the
   access token) gives a container id; nothing is visible yet.
2. ``POST /v1.0/me/threads_publish`` (``creation_id``) publishes it and gives the post's id.

The container id is kept in ``<state.folder>/threads-<name>.containers.json`` under the
ledger's key *before* it is published. Any later attempt (a retry in this run, or the
next run after a crash between the two calls) first reads the container's status
(``GET /v1.0/<container>?fields=status,error_message``): ``PUBLISHED`` means the post is
out (sent, nothing more to do), ``FINISHED`` means created but not published (publish
it now), ``EXPIRED`` (containers live 24 hours) or ``ERROR`` means start over with a new
container. A container is published at most once, so a retry never posts twice:
at-least-once, duplicates prevented by the container (``idempotent``, key lifetime
forever while the state folder is kept with the ledger).

Limits: text 500 characters, where Threads counts an emoji as its UTF-8 bytes (so a
counted code point here is 1, or its UTF-8 length when it is an emoji or outside the
BMP); at most 5 links. Errors are Graph API errors, ``{"error": {"message", "type",
"code", "is_transient"}}``: code 190 (token) is a 401, codes 4/17/32/613 and transient
errors are retried, others refused. Profiles may publish 250 posts per 24 hours. A word
joiner follows every ``@`` in the post's text: Threads notifies whoever a post mentions.
Read-back: the container's status when its id is known, else the profile's threads
since the first attempt (``GET /v1.0/me/threads``), matched by the link.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import requests

from publisher.announce.contract import (
    SECRET,
    Announcement,
    Announcer,
    DeliveryError,
    MeasuredLimit,
    ReadBackUnavailable,
    Receipt,
)
from publisher.announce.http import CLOCK_SKEW, body_of, call, text_field
from publisher.announce.linkpreview import LinkPreview, Theme
from publisher.announce.text import URL_RE
from publisher.atomic import write_atomic

MAX_TEXT = 500
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
_HEAVY = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2300, 0x23FF), (0x2B00, 0x2BFF))


def threads_length(text: str) -> int:
    """Threads' count: 1 per code point, an emoji (or any astral code point) its UTF-8 bytes;
    zero-width joiners, variation selectors and skin tones inside emoji count their bytes too."""
    total = 0
    for ch in text:
        cp = ord(ch)
        heavy = cp > 0xFFFF or any(lo <= cp <= hi for lo, hi in _HEAVY)
        heavy = heavy or cp in (0x200D, 0xFE0F, 0x20E3)
        total += len(ch.encode("utf-8")) if heavy else 1
    return total


@dataclass(frozen=True)
class ThreadsLimit(MeasuredLimit):
    """500 characters, emoji at their UTF-8 byte length."""

    def measure(self, text: str) -> int:
        return threads_length(text)

    def describe(self) -> str:
        return f"{self.max} characters (emoji count their UTF-8 bytes)"


TEXT = ThreadsLimit(MAX_TEXT, "chars")


class ThreadsAnnouncer(Announcer):
    kind = "threads"
    limit = TEXT
    idempotent = True
    # How the platform shows a shared link (the preview page draws it from this).
    # Threads: a link attachment shows the picture at about 1.91:1 with the title and domain under
    # it (observed; Meta documents no limits for it).
    link_preview: ClassVar[LinkPreview | None] = LinkPreview(
        key="threads",
        name="Threads",
        shows_description=False,
        title_lines=2,
        ratio=1.91,
        ratio_label="about 1.91:1",
        note="layout and crop observed in the app; Meta documents no limits for it",
        parts=("title", "domain"),
        theme=Theme(text="#000000", title="#000000", muted="#999999", border="#e5e5e5", radius=12),
    )
    options: ClassVar[Mapping[str, Any]] = {
        "token": SECRET,
        "api": "https://graph.threads.net",
        "link_attachment": True,
    }
    #: Seconds to wait for a container still IN_PROGRESS before trying later.
    wait_for_container: ClassVar[float] = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._memory: dict[str, str] = {}

    @property
    def api(self) -> str:
        return str(self.config.get("api") or "https://graph.threads.net").rstrip("/") + "/v1.0"

    # -- the container ledger ----------------------------------------------------------

    def containers_file(self) -> Path | None:
        if self.state_dir is None:
            return None
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name)
        return self.state_dir / f"threads-{safe}.containers.json"

    def _containers(self) -> dict[str, str]:
        path = self.containers_file()
        if path is None or not path.is_file():
            return dict(self._memory)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return dict(self._memory)
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _remember(self, key: str, container: str | None) -> None:
        """Record (or forget) the container of ``key``, on disk before anything is published."""
        with self._lock:
            data = self._containers()
            if container is None:
                data.pop(key, None)
            else:
                data[key] = container
            self._memory = dict(data)
            path = self.containers_file()
            if path is None:
                return
            data_bytes = json.dumps(data, sort_keys=True).encode("utf-8")
            write_atomic(path, data_bytes, mode=0o644)

    # -- payload -----------------------------------------------------------------------

    def escape(self, text: str) -> str:
        """A word joiner after every ``@``: a title naming ``@someone`` notifies nobody."""
        return text.replace("@", "@\u2060")

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        text = TEXT.clip(announcement.text)
        body: dict[str, Any] = {"media_type": "TEXT", "text": text}
        if self.config.get("link_attachment", True):
            body["link_attachment"] = announcement.url
        return body

    # -- sending -----------------------------------------------------------------------

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        token = self.secret("token")
        container = self._containers().get(announcement.key)
        if container is not None:
            status = self._status(session, container, token)
            if status == "PUBLISHED":
                return Receipt(
                    target=self.name,
                    post_id=announcement.post.id,
                    remote_id=None,
                    status=200,
                    duplicate=True,
                )
            if status not in ("FINISHED", "IN_PROGRESS"):
                # EXPIRED or ERROR: never published; a new container is safe.
                self._remember(announcement.key, None)
                container = None
        if container is None:
            created = self._graph(
                session,
                "POST",
                f"{self.api}/me/threads",
                what="Threads container",
                data={**self.payload(announcement), "access_token": token},
            )
            container = text_field(created, "id")
            if container is None:
                raise DeliveryError(
                    self.name, 200, "Threads container: no id in the answer", outcome="retry"
                )
            self._remember(announcement.key, container)
        self._wait_finished(session, container, token)
        published = self._graph(
            session,
            "POST",
            f"{self.api}/me/threads_publish",
            what="Threads publish",
            data={"creation_id": container, "access_token": token},
        )
        media_id = text_field(published, "id")
        return Receipt(
            target=self.name,
            post_id=announcement.post.id,
            remote_id=media_id,
            remote_url=self._permalink(session, media_id, token) if media_id else None,
            status=200,
        )

    def _permalink(self, session: requests.Session, media_id: str, token: str) -> str | None:
        """The post's link: nice to have, so a failure here costs only the link."""
        try:
            body = self._graph(
                session,
                "GET",
                f"{self.api}/{media_id}",
                what="Threads permalink",
                params={"fields": "permalink", "access_token": token},
            )
        except DeliveryError:
            return None
        return text_field(body, "permalink")

    def _status(self, session: requests.Session, container: str, token: str) -> str:
        body = self._graph(
            session,
            "GET",
            f"{self.api}/{container}",
            what="Threads container status",
            params={"fields": "status,error_message", "access_token": token},
        )
        return text_field(body, "status") or "UNKNOWN"

    def _wait_finished(self, session: requests.Session, container: str, token: str) -> None:
        deadline = time.monotonic() + self.wait_for_container
        while True:
            status = self._status(session, container, token)
            if status in ("FINISHED", "UNKNOWN"):
                # UNKNOWN: an older server without the field; publishing will say.
                return
            if status == "PUBLISHED":
                return
            if status != "IN_PROGRESS" or time.monotonic() > deadline:
                raise DeliveryError(
                    self.name, 200, f"Threads container is {status}", outcome="retry"
                )
            time.sleep(1.0)

    def _graph(
        self, session: requests.Session, method: str, url: str, *, what: str, **kw: Any
    ) -> Any:
        response = call(
            session,
            self.name,
            method,
            url,
            what=what,
            timeout=self.timeout,
            ok=(200, 201, 400, 401, 403, 429),
            **kw,
        )
        body = body_of(response)
        if response.status_code < 300:
            return body
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        message = f"{what}: {text_field(error, 'message') or response.reason or 'error'}"
        if response.status_code == 429 or code in RATE_LIMIT_CODES or error.get("is_transient"):
            raise DeliveryError(self.name, 429, message, outcome="retry")
        status = 401 if code == 190 or response.status_code == 401 else response.status_code
        raise DeliveryError(
            self.name,
            status,
            f"{message} (permanent: fix the target or the post)",
            outcome="refused",
        )

    # -- read-back ---------------------------------------------------------------------

    def read_back(
        self, announcement: Announcement, session: requests.Session, *, since: datetime
    ) -> Receipt | None:
        """The container's status when its id is known; else the profile's threads."""
        token = self.secret("token")
        try:
            container = self._containers().get(announcement.key)
            if container is not None:
                status = self._status(session, container, token)
                if status == "PUBLISHED":
                    return Receipt(
                        target=self.name, post_id=announcement.post.id, status=200, duplicate=True
                    )
                if status in ("FINISHED", "EXPIRED", "ERROR"):
                    return None  # never published
            floor = int((since.astimezone(UTC) - CLOCK_SKEW).timestamp())
            listing = self._graph(
                session,
                "GET",
                f"{self.api}/me/threads",
                what="Threads read-back",
                params={
                    "fields": "id,permalink,text,link_attachment_url,timestamp",
                    "since": str(floor),
                    "limit": "100",
                    "access_token": token,
                },
            )
        except DeliveryError as exc:
            raise ReadBackUnavailable(self.name, exc.status, exc.reason) from None
        posts = listing.get("data") if isinstance(listing, dict) else None
        if not isinstance(posts, list):
            raise ReadBackUnavailable(self.name, 200, "the threads answer has no data")
        for post in posts:
            if not isinstance(post, dict):
                continue
            raw = post.get("text")
            text = raw if isinstance(raw, str) else ""
            links = {post.get("link_attachment_url"), *URL_RE.findall(text)}
            if announcement.url in links:
                return Receipt(
                    target=self.name,
                    post_id=announcement.post.id,
                    remote_id=text_field(post, "id"),
                    remote_url=text_field(post, "permalink"),
                    status=200,
                    duplicate=True,
                )
        if text_field(listing, "paging", "next") is not None:
            raise ReadBackUnavailable(self.name, None, "more threads than one page since then")
        return None
