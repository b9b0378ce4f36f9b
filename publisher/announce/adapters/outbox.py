"""The outbox: each announcement appended to a local JSON Lines file.

The embedded default target, so the example site shows real announcements with no account
anywhere; also a record a later job can read (a static "announcements" page, a mailer).
Each line is one JSON object with sorted keys. Appends are locked and fsynced, and a key
already in the file is not written again, so the outbox is exactly-once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import requests

from publisher.announce.contract import (
    REQUIRED,
    Announcement,
    Announcer,
    DeliveryError,
    ReadBackUnavailable,
    Receipt,
    TextLimit,
)

#: Our own budget for ``text``; title and summary are kept whole.
TEXT = TextLimit(5000, "graphemes")


class OutboxAnnouncer(Announcer):
    kind = "outbox"
    limit = TEXT
    idempotent = True
    needs_live_page = False
    options: ClassVar[Mapping[str, Any]] = {"path": REQUIRED}

    @property
    def path(self) -> Path:
        path = Path(str(self.config["path"]))
        return path if path.is_absolute() else self.root / path

    def payload(self, announcement: Announcement) -> dict[str, Any]:
        post = announcement.post
        return {
            "key": announcement.key,
            "target": self.name,
            "post_id": post.id,
            "url": announcement.url,
            "title": announcement.title,
            "summary": announcement.summary,
            "text": TEXT.clip(announcement.text),
            "date": post.date.isoformat(),
            "tags": list(post.tags),
            "categories": list(post.categories),
            "image": announcement.card.url if announcement.card else None,
        }

    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        path = self.path
        line = json.dumps(self.payload(announcement), ensure_ascii=False, sort_keys=True) + "\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a+", encoding="utf-8") as handle:
                _lock(handle)
                handle.seek(0)
                for existing in handle:
                    try:
                        entry = json.loads(existing)
                        if isinstance(entry, dict) and entry.get("key") == announcement.key:
                            return Receipt(
                                target=self.name, post_id=announcement.post.id, duplicate=True
                            )
                    except ValueError:
                        continue
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise DeliveryError(
                self.name,
                None,
                f"cannot write {path} ({exc.strerror}); check the outbox path",
                outcome="retry",
            ) from None
        return Receipt(target=self.name, post_id=announcement.post.id, remote_url=path.as_uri())

    def read_back(
        self, announcement: Announcement, session: requests.Session, *, since: datetime
    ) -> Receipt | None:
        """The line with this announcement's key, if the outbox has one (any age: keys are
        never reused)."""
        path = self.path
        try:
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue  # a torn last line from a crash mid-append
                    if isinstance(entry, dict) and entry.get("key") == announcement.key:
                        return Receipt(
                            target=self.name,
                            post_id=announcement.post.id,
                            remote_url=path.as_uri(),
                            duplicate=True,
                        )
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ReadBackUnavailable(
                self.name, None, f"cannot read {path} ({exc.strerror}); check the outbox path"
            ) from None
        return None


def _lock(handle: Any) -> None:
    try:
        import fcntl
    except ImportError:
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
