"""The whole adapter contract: what an announcer declares, receives, returns and raises.

An adapter is a small class with declarative attributes (Apprise-style) and two methods::

    class SlackAnnouncer(Announcer):
        kind = "slack"
        limit = TextLimit(3000, "utf16")
        idempotent = False                 # no idempotency key: at-most-once
        options = {"url": SECRET, "image": True}

        def payload(self, announcement) -> dict: ...          # the exact body (dry runs)
        def announce(self, announcement, session) -> Receipt: ...

``announce`` turns one :class:`Announcement` into HTTP calls through the session passed in,
returns a :class:`Receipt` and raises :class:`DeliveryError` (an ``AnnounceError`` with
the target name and HTTP status) when the platform refuses or does not answer: never
``False``. Whether the delivery layer may retry depends on ``DeliveryError.outcome`` and
the class's ``idempotent``. A 2xx answer means the platform took the message, so an
answer of the wrong shape (not JSON, fields missing or mistyped) gives a Receipt without
the id it lacks, never an exception and never a resend.

Two more declarations serve the delivery layer when a row was left ``sending``/``failed``
by an earlier run: ``key_lifetime`` (how long the platform honours the idempotency key:
past it, resending with the same key may post twice) and ``read_back`` (look on the
platform for the message; ``ReadBackUnavailable`` where it cannot tell).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import requests

from publisher.announce.linkpreview import LinkPreview
from publisher.announce.text import Unit, count, shorten
from publisher.errors import AnnounceError
from publisher.posts.model import Post
from publisher.secret import Secret

#: What became of a request that failed:
#: ``refused``: the platform said no and will say no again (400/401/403/404/410...);
#: ``retry``: it was not processed (429, 503, connection refused): safe to send again;
#: ``unknown``: it may have been processed (timeout or dropped connection after sending,
#: 500/502/504): only a platform with an idempotency key may be sent it again.
Outcome = Literal["refused", "retry", "unknown"]


class DeliveryError(AnnounceError):
    """A send failed; ``outcome`` tells the delivery layer whether it may try again."""

    def __init__(
        self,
        target: str,
        status: int | None,
        reason: str,
        *,
        outcome: Outcome,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(target, status, reason)
        self.outcome: Outcome = outcome
        self.retry_after = retry_after


class ReadBackUnavailable(AnnounceError):
    """This platform (or this token) cannot tell whether a message was posted."""

    def __init__(self, target: str, status: int | None, reason: str) -> None:
        super().__init__(target, status, reason)


class SetupError(AnnounceError):
    """The target cannot be used as configured (a secret's variable is unset): nothing sent."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(target, None, reason)


@dataclass(frozen=True)
class TextLimit:
    """How long a message may be, in the platform's own unit.

    ``url_length``: every URL counts as this many characters (Mastodon's 23).
    ``max_bytes``: a second cap in UTF-8 bytes (Bluesky: 300 graphemes and 3000 bytes).
    """

    max: int
    unit: Unit
    url_length: int | None = None
    max_bytes: int | None = None

    def measure(self, text: str) -> int:
        return count(text, self.unit, url_length=self.url_length)

    def clip(self, text: str) -> str:
        """``text`` shortened (with an ellipsis) to fit; URLs are counted at their length."""
        return shorten(text, self.max, unit=self.unit, max_bytes=self.max_bytes)

    def describe(self) -> str:
        extra = f", URLs count {self.url_length}" if self.url_length else ""
        return f"{self.max} {self.unit}{extra}"


@dataclass(frozen=True)
class MeasuredLimit(TextLimit):
    """A limit counted by a platform's own rule, which a subclass gives as ``measure`` (X's
    weighted characters, Threads' emoji bytes): clipping keeps the longest cut that fits."""

    def fits(self, text: str) -> bool:
        if self.max_bytes is not None and len(text.encode("utf-8")) > self.max_bytes:
            return False
        return self.measure(text) <= self.max

    def clip(self, text: str) -> str:
        if self.fits(text):
            return text
        lo, hi, best = 0, len(text), ""
        while lo <= hi:
            mid = (lo + hi) // 2
            candidate = shorten(text, mid, unit="chars")
            if self.fits(candidate):
                best, lo = candidate, mid + 1
            else:
                hi = mid - 1
        return best


@dataclass(frozen=True, kw_only=True)
class Card:
    """The post's preview image: its public URL, and the local file when one was built."""

    url: str
    path: Path | None = None
    alt: str = ""
    mime: str = "image/jpeg"


@dataclass(frozen=True, kw_only=True)
class Announcement:
    """One post, ready for one target: rendered text plus the parts structured payloads use.

    ``key`` is the idempotency key, fixed at the first attempt and kept in the ledger, so a
    retry (in this run or the next) presents the platform the same key.
    """

    post: Post
    target: str
    text: str
    title: str
    summary: str
    url: str
    card: Card | None
    key: str
    created_at: datetime
    language: str | None = None
    #: 1 for the first attempt ever (across runs), 2 for the next, ...
    attempt: int = 1


@dataclass(frozen=True, kw_only=True)
class Receipt:
    """What the platform answered: its id and link for the new message, when it gives them."""

    target: str
    post_id: str
    remote_id: str | None = None
    remote_url: str | None = None
    status: int | None = None
    duplicate: bool = False


#: Marks an option whose value is a credential (``${ENV}`` only).
SECRET: Any = object()
#: Marks an option that must be given.
REQUIRED: Any = object()


class Announcer(ABC):
    """Base of every adapter; see the module docstring for the contract."""

    kind: ClassVar[str]
    #: Message length limit and how it is counted.
    limit: ClassVar[TextLimit]
    #: The limits of the other text fields it fills (title, alt text...), by field name.
    limits: ClassVar[Mapping[str, TextLimit]] = {}
    #: True when the platform honours an idempotency key: failed or ambiguous sends are
    #: retried with the same key (at-least-once, duplicates dropped by the platform).
    #: False: a send that may have arrived is never repeated (at-most-once).
    idempotent: ClassVar[bool]
    #: Options of this kind and their defaults (REQUIRED, SECRET, or a default value, whose
    #: type says how the value is checked), or a ``publisher.schema.Field`` with its own rule.
    options: ClassVar[Mapping[str, Any]] = {}
    #: Whether the post's page has to be live before announcing (the outbox needs no page).
    needs_live_page: ClassVar[bool] = True
    #: How long the platform honours an idempotency key after the first attempt;
    #: None: forever (Bluesky rkey, webhook-id, outbox key) or no key at all.
    key_lifetime: ClassVar[timedelta | None] = None
    #: How the platform shows a shared link, for the preview page (None: not drawn).
    link_preview: ClassVar[LinkPreview | None] = None

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        root: Path | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.config = dict(options)
        #: The site folder (relative paths in options are relative to it).
        self.root = root or Path.cwd()
        #: Where an adapter may keep state of its own (Bluesky's session tokens).
        self.state_dir = state_dir

    @property
    def timeout(self) -> tuple[float, float]:
        read = float(self.config.get("timeout") or 15.0)
        return (min(5.0, read), read)

    def secret(self, key: str) -> str:
        """The value of a ``${ENV}`` option; SetupError when its variable is not set."""
        value = self.config.get(key)
        if isinstance(value, Secret):
            if not value.value:
                raise SetupError(
                    self.name, f"environment variable {value.env} ({key}) is not set; export it"
                )
            return value.value
        if isinstance(value, str) and value:
            return value
        raise SetupError(self.name, f"{key} is not configured")

    def text_limit(self, session: requests.Session | None) -> TextLimit:
        """The limit for this run; adapters that read it from the server override this."""
        return self.limit

    @abstractmethod
    def payload(self, announcement: Announcement) -> dict[str, Any]:
        """The main request body exactly as it would be sent (shown by dry runs)."""

    @abstractmethod
    def announce(self, announcement: Announcement, session: requests.Session) -> Receipt:
        """Send; return a Receipt or raise DeliveryError/SetupError."""

    def read_back(
        self, announcement: Announcement, session: requests.Session, *, since: datetime
    ) -> Receipt | None:
        """Look on the platform for this announcement's message, sent at or after `since`.

        A Receipt when it is there (remote id/url filled), None when it is certainly not,
        ReadBackUnavailable when the platform or token cannot tell.
        """
        raise ReadBackUnavailable(self.name, None, f"{self.kind} cannot read back its messages")

    def escape(self, text: str) -> str:
        """Make post text safe inside this platform's markup (Slack's mrkdwn, say)."""
        return text
