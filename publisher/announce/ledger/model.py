"""What a ledger holds and promises, whatever stores it: rows, statuses, the store contract.

Status of a row::

    sending   written *before* the request goes out; if the process dies mid-send the next
              run finds it and knows the platform may have the message
    sent      the platform confirmed it (remote id / URL kept)
    in_doubt  a platform without an idempotency key may or may not have it: not resent
              unless ``--retry-in-doubt``
    failed    the platform refused or did not answer; tried again next run
    skipped   recorded as already published before this target existed (the baseline)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from publisher.errors import StateError

Status = Literal["sending", "sent", "in_doubt", "failed", "skipped"]
SCHEMA_VERSION = "1"

#: The columns of an announcement row, in the order every SELECT names them.
COLUMNS: tuple[str, ...] = (
    "post_id",
    "target",
    "kind",
    "status",
    "reason",
    "key",
    "remote_id",
    "remote_url",
    "attempts",
    "first_attempt_at",
    "last_attempt_at",
    "sent_at",
    "error",
    "http_status",
)


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One (post, target) row of the ledger."""

    post_id: str
    target: str
    kind: str
    status: Status
    reason: str | None
    key: str
    remote_id: str | None
    remote_url: str | None
    attempts: int
    first_attempt_at: str | None
    last_attempt_at: str | None
    sent_at: str | None
    error: str | None
    http_status: int | None

    @classmethod
    def from_row(cls, row: Iterable[object]) -> Entry:
        """The entry of a row whose values come in :data:`COLUMNS` order."""
        return cls(**dict(zip(COLUMNS, row, strict=True)))  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, object]:
        """Every column but the idempotency key (reports and ``state list --json``)."""
        return {name: getattr(self, name) for name in COLUMNS if name != "key"}


def iso(moment: datetime) -> str:
    """A time as the ledger stores it: ISO 8601 to the second."""
    return moment.isoformat(timespec="seconds")


class Anything:
    """``begin(expect=ANY)``: no claim check (a retry inside the run that owns the row)."""

    def __repr__(self) -> str:
        return "ANY"


ANY = Anything()
#: What ``begin`` expects the row to be: a status, None (no row yet) or ANY.
Expect = Status | None | Anything


class LockHeld(StateError):
    """Another run holds the run lock: nothing was done; try again later."""


def is_database_url(location: str | Path) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) ledger location."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


class LedgerStore(Protocol):
    """What the announce stage needs from a ledger, whatever stores it."""

    location: str

    def close(self) -> None: ...

    def __enter__(self) -> LedgerStore: ...

    def __exit__(self, *exc: object) -> None: ...

    def entries(self, *, target: str | None = None, post_id: str | None = None) -> list[Entry]: ...

    def for_target(self, target: str) -> dict[str, Entry]: ...

    def get(self, post_id: str, target: str) -> Entry | None: ...

    def baseline_at(self, target: str) -> str | None: ...

    def record_baseline(
        self, target: str, kind: str, post_ids: Iterable[str], now: datetime
    ) -> None: ...

    def begin(
        self, post_id: str, target: str, kind: str, key: str, now: datetime, *, expect: Expect = ANY
    ) -> Entry | None: ...

    def sent(
        self,
        post_id: str,
        target: str,
        now: datetime,
        *,
        remote_id: str | None,
        remote_url: str | None,
        http_status: int | None,
        reason: str | None = None,
    ) -> None: ...

    def unsent(
        self,
        post_id: str,
        target: str,
        status: Literal["failed", "in_doubt"],
        *,
        error: str,
        http_status: int | None,
    ) -> None: ...

    def mark_interrupted(self, post_id: str, target: str, error: str) -> bool: ...

    def note(self, post_id: str, target: str, reason: str | None) -> None: ...

    def rekey(self, post_id: str, target: str, key: str, now: datetime) -> None: ...

    def mark_sent(self, post_id: str, target: str, kind: str, now: datetime) -> None: ...

    def forget(self, post_id: str, target: str | None = None) -> int: ...
