"""Send one announcement to one target with the delivery guarantees the docs promise.

* The ledger row goes to ``sending`` (committed) before each request, and to ``sent``,
  ``failed`` or ``in_doubt`` (committed) right after: never at the end of the run.
* ``refused`` (400/401/403/404/410...): permanent; reported, not retried in this run.
* ``retry`` (429, 503, no connection): retried after ``Retry-After`` or an exponential
  backoff with jitter, within :class:`RetryPolicy`'s attempts and time budget.
* ``unknown`` (timeout or dropped connection after the request left, 500/502/504): retried
  with the same idempotency key where the platform honours one; elsewhere the pair is
  ``in_doubt`` and left alone, so nothing is ever posted twice.
* The first ``begin`` is a claim (``expect``: the row as the planner saw it): when another
  run sharing the ledger got there first, the result is ``taken`` and nothing is sent.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

import requests

from publisher.announce.contract import Announcement, Announcer, DeliveryError, Receipt, SetupError
from publisher.announce.http import take_rate_wait
from publisher.announce.ledger import ANY, Expect, LedgerStore
from publisher.announce.redact import redact
from publisher.errors import AnnounceError

Result = Literal["sent", "in_doubt", "failed", "taken"]
#: Refusals that concern the target, not the post: stop sending to it for this run.
TARGET_REFUSALS = frozenset({401, 403, 404, 410})


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How hard to try one announcement in one run."""

    attempts: int = 4
    base: float = 1.0
    cap: float = 30.0
    #: Longest total wait for one announcement; a longer Retry-After ends the target's run.
    budget: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: somewhere in the upper half of base * 2^(n-1)."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return float(ceiling * random.uniform(0.5, 1.0))


@dataclass(frozen=True, kw_only=True)
class Delivery:
    result: Result
    receipt: Receipt | None
    error: str | None
    status: int | None
    attempts: int
    #: Stop sending to this target for the rest of the run (bad credentials, long rate limit).
    stop_target: bool = False


def new_key(target: str, post_id: str, now: datetime) -> str:
    """An idempotency key, made at the first attempt and kept in the ledger from then on."""
    seed = f"{target}\n{post_id}\n{now.isoformat()}\n{random.random()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


class Pacer:
    """A target's own clock: waits out an empty rate-limit bucket before the next request."""

    def __init__(self, sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
        self.sleep = sleep
        self.clock = clock
        self.not_before = 0.0

    def hold(self, seconds: float | None) -> None:
        if seconds:
            self.not_before = max(self.not_before, self.clock() + seconds)

    def wait(self) -> None:
        delay = self.not_before - self.clock()
        if delay > 0:
            self.sleep(delay)


def deliver(
    announcer: Announcer,
    announcement: Announcement,
    session: requests.Session,
    ledger: LedgerStore,
    *,
    now: Callable[[], datetime],
    policy: RetryPolicy,
    pacer: Pacer,
    log: Callable[[str], None],
    expect: Expect = ANY,
) -> Delivery:
    """Send ``announcement`` (its key taken from the ledger if an earlier run made one).

    ``expect``: the row's status when the run planned it (None: no row); another run that
    moved it on since (sent it, is sending it) wins, and this one sends nothing.
    """
    post_id, target = announcement.post.id, announcer.name
    existing = ledger.get(post_id, target)
    key = existing.key if existing is not None and existing.key else new_key(target, post_id, now())
    waited = 0.0
    tries = 0
    while True:
        pacer.wait()
        tries += 1
        claimed = ledger.begin(
            post_id, target, announcer.kind, key, now(), expect=expect if tries == 1 else ANY
        )
        if claimed is None:
            return Delivery(
                result="taken",
                receipt=None,
                error=None,
                status=None,
                attempts=0,
            )
        entry = claimed
        first = datetime.fromisoformat(entry.first_attempt_at) if entry.first_attempt_at else now()
        attempt = replace(announcement, key=entry.key, attempt=entry.attempts, created_at=first)
        try:
            receipt = announcer.announce(attempt, session)
        except SetupError as exc:
            reason = redact(str(exc))
            ledger.unsent(post_id, target, "failed", error=reason, http_status=None)
            return Delivery(
                result="failed",
                receipt=None,
                error=reason,
                status=None,
                attempts=entry.attempts,
                stop_target=True,
            )
        except DeliveryError as exc:
            reason = redact(str(exc))
            pacer.hold(take_rate_wait())
            if exc.outcome == "refused":
                ledger.unsent(post_id, target, "failed", error=reason, http_status=exc.status)
                return Delivery(
                    result="failed",
                    receipt=None,
                    error=reason,
                    status=exc.status,
                    attempts=entry.attempts,
                    stop_target=exc.status in TARGET_REFUSALS,
                )
            if exc.outcome == "unknown" and not announcer.idempotent:
                doubt = f"{reason}; it may have been posted: not sent again (--retry-in-doubt to resend)"
                ledger.unsent(post_id, target, "in_doubt", error=doubt, http_status=exc.status)
                return Delivery(
                    result="in_doubt",
                    receipt=None,
                    error=doubt,
                    status=exc.status,
                    attempts=entry.attempts,
                )
            delay = exc.retry_after if exc.retry_after is not None else policy.backoff(tries)
            if exc.retry_after is not None:
                delay += random.uniform(0, min(1.0, 0.1 * delay + 0.05))
            if tries >= policy.attempts or waited + delay > policy.budget:
                rate_limited = exc.status == 429 or (exc.retry_after or 0) > policy.budget - waited
                note = f"{reason}; gave up after {tries} tries this run, will try again next run"
                ledger.unsent(post_id, target, "failed", error=note, http_status=exc.status)
                return Delivery(
                    result="failed",
                    receipt=None,
                    error=note,
                    status=exc.status,
                    attempts=entry.attempts,
                    stop_target=rate_limited,
                )
            log(f"{target}: {post_id}: {reason}; retrying in {delay:.1f} s")
            pacer.hold(delay)
            waited += delay
            continue
        except AnnounceError as exc:
            reason = redact(str(exc))
            ledger.unsent(post_id, target, "failed", error=reason, http_status=exc.status)
            return Delivery(
                result="failed",
                receipt=None,
                error=reason,
                status=exc.status,
                attempts=entry.attempts,
            )
        pacer.hold(take_rate_wait())
        ledger.sent(
            post_id,
            target,
            now(),
            remote_id=receipt.remote_id,
            remote_url=receipt.remote_url,
            http_status=receipt.status,
            reason="duplicate" if receipt.duplicate else None,
        )
        return Delivery(
            result="sent",
            receipt=receipt,
            error=None,
            status=receipt.status,
            attempts=entry.attempts,
        )
