"""Did an earlier attempt arrive? The rules for rows a run left unconfirmed.

A row an earlier attempt left ``sending``, ``in_doubt`` or ``failed`` after an ambiguous
outcome is resent blindly only while the platform still honours its idempotency key
(``Announcer.key_lifetime``); otherwise the platform is asked first (``read_back``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from publisher.announce.contract import Announcement, Announcer
from publisher.announce.ledger import Entry

#: Notes kept in a row's ``reason`` after a failure: was the message certainly not sent?
NOT_SENT = "not_sent"
AMBIGUOUS = "ambiguous"
#: ``reason`` of a row the platform confirmed by read-back.
FOUND = "found by read-back"


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def first_attempt(entry: Entry) -> datetime | None:
    return aware(datetime.fromisoformat(entry.first_attempt_at)) if entry.first_attempt_at else None


def unconfirmed(announcer: Announcer, entry: Entry | None) -> bool:
    """Did an earlier attempt end without knowing whether the platform has the message?"""
    if entry is None or entry.attempts == 0:
        return False
    if entry.status in ("sending", "in_doubt"):
        return True
    if entry.status != "failed":
        return False
    # Rows from before these notes: a non-idempotent platform's ambiguous outcomes were
    # always ``in_doubt``, so its ``failed`` rows were certainly not sent.
    return entry.reason == AMBIGUOUS or (announcer.idempotent and entry.reason != NOT_SENT)


def key_fresh(announcer: Announcer, entry: Entry, now: datetime) -> bool:
    """May the row's key still be presented, so the platform drops a duplicate itself?

    A safety margin (a tenth of the lifetime, at most 5 minutes) keeps a request that
    leaves just before the key expires from arriving just after.
    """
    if not announcer.idempotent or not entry.key:
        return False
    lifetime = announcer.key_lifetime
    started = first_attempt(entry)
    if lifetime is None or started is None:
        return True
    margin = min(lifetime / 10, timedelta(minutes=5))
    return aware(now) - started < lifetime - margin


def still_settling(announcer: Announcer, entry: Entry | None, now: datetime) -> float | None:
    """Seconds since the last attempt when that is within its timeout (plus a second for
    the ledger's whole-second times), so the platform may still be processing it; else None."""
    if entry is None or not entry.last_attempt_at:
        return None
    age = (aware(now) - aware(datetime.fromisoformat(entry.last_attempt_at))).total_seconds()
    return age if age < announcer.timeout[1] + 1.0 else None


def can_read_back(announcer: Announcer) -> bool:
    """Does the adapter implement ``read_back`` at all (webhooks without an API do not)?"""
    return type(announcer).read_back is not Announcer.read_back


def next_step(announcer: Announcer, announcement: Announcement) -> str:
    """What the reader does about a message in doubt."""
    post_id, target = announcement.post.id, announcer.name
    return (
        f"check {target} for {announcement.url}; then `publish state mark-sent {post_id} "
        f"--target {target}` if it is there, or `publish announce --retry-in-doubt` to send it"
    )
