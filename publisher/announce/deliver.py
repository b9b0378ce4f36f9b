"""Send one announcement to one target with the delivery guarantees the docs promise.

* The ledger row goes to ``sending`` (committed) before each request, and to ``sent``,
  ``failed`` or ``in_doubt`` (committed) right after: never at the end of the run.
* ``refused`` (400/401/403/404/410...): permanent; reported, not retried in this run.
* ``retry`` (429, 503, no connection): retried after ``Retry-After`` or an exponential
  backoff with jitter, within :class:`RetryPolicy`'s attempts and time budget.
* ``unknown`` (timeout or dropped connection after the request left, 500/502/504, or an
  answer the adapter could not read): retried with the same idempotency key where the
  platform honours one; elsewhere the pair is ``in_doubt`` and left alone, so nothing is
  ever posted twice.
* Read-back before resend: a row an earlier attempt left unconfirmed (``sending``,
  ``in_doubt``, or ``failed`` after an ambiguous outcome) is resent blindly only while the
  platform still honours its idempotency key (``Announcer.key_lifetime``). Otherwise the
  platform is asked first (``Announcer.read_back``): there -> ``sent``; certainly not
  there -> sent again (with a new key); cannot tell -> ``in_doubt`` with the next step.
  A first attempt never reads back.
* A :class:`Breaker` counts the timeouts and ambiguous failures of one target in one run;
  once open, the run sends that target nothing more (the caller reports the rest paused).
* The first ``begin`` is a claim (``expect``: the row as the planner saw it): when another
  run sharing the ledger got there first, the result is ``taken`` and nothing is sent.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import requests

from publisher.announce.contract import (
    Announcement,
    Announcer,
    DeliveryError,
    ReadBackUnavailable,
    Receipt,
    SetupError,
)
from publisher.announce.http import take_rate_wait
from publisher.announce.ledger import ANY, Entry, Expect, LedgerStore
from publisher.announce.redact import redact
from publisher.errors import AnnounceError

#: ``taken``: another run sharing the ledger has it; ``stopped``: the run stopped (deadline,
#: signal) before the first request, nothing written.
Result = Literal["sent", "in_doubt", "failed", "taken", "stopped"]
#: Refusals that concern the target, not the post: stop sending to it for this run.
TARGET_REFUSALS = frozenset({401, 403, 404, 410})
#: Notes kept in a row's ``reason`` after a failure: was the message certainly not sent?
NOT_SENT = "not_sent"
AMBIGUOUS = "ambiguous"
#: ``reason`` of a row the platform confirmed by read-back.
FOUND = "found by read-back"
#: Timeouts or ambiguous failures of one target in one run before it is paused.
BREAKER_LIMIT = 2


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How hard to try one announcement in one run."""

    attempts: int = 4
    base: float = 1.0
    cap: float = 30.0
    #: Longest total wait for one announcement; a longer Retry-After ends the target's run.
    #: None: the target's ``retry_time`` option.
    budget: float | None = None

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: somewhere in the upper half of base * 2^(n-1)."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return float(ceiling * random.uniform(0.5, 1.0))


class Breaker:
    """One target's circuit breaker for one run.

    A platform that hangs costs a full timeout per request and leaves each message in
    doubt; after ``limit`` timeouts (or other answers that leave doubt, or connections that
    fail) the target gets nothing more this run, and its untried posts stay pending.
    """

    def __init__(self, limit: int = BREAKER_LIMIT) -> None:
        self.limit = limit
        self.trips: list[str] = []
        self.silent = 0

    def record(self, why: str, *, answered: bool) -> None:
        """One failure that left doubt or cost a timeout; ``answered``: the platform did
        answer (a 5xx), quickly, as opposed to a timeout, a drop or no connection."""
        self.trips.append(why)
        self.silent += not answered

    @property
    def open(self) -> bool:
        return len(self.trips) >= self.limit

    @property
    def hopeless(self) -> bool:
        """Open on silences alone: not even the announcement in hand is retried, as each
        try would cost another full timeout. (After quick 5xx answers, the retries of the
        announcement in hand go on, with its key; the target pauses after it.)"""
        return self.silent >= self.limit

    def reason(self, target: str) -> str:
        return (
            f"paused {target} for the rest of this run after {len(self.trips)} requests with "
            f"no clear answer (last: {self.trips[-1] if self.trips else '?'}); "
            "its untried posts go out on the next run"
        )


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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def first_attempt(entry: Entry) -> datetime | None:
    return (
        _aware(datetime.fromisoformat(entry.first_attempt_at)) if entry.first_attempt_at else None
    )


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
    return _aware(now) - started < lifetime - margin


def _still_settling(announcer: Announcer, entry: Entry | None, now: datetime) -> float | None:
    """Seconds since the last attempt when that is within its timeout (plus a second for
    the ledger's whole-second times), so the platform may still be processing it; else None."""
    if entry is None or not entry.last_attempt_at:
        return None
    age = (_aware(now) - _aware(datetime.fromisoformat(entry.last_attempt_at))).total_seconds()
    return age if age < announcer.timeout[1] + 1.0 else None


def can_read_back(announcer: Announcer) -> bool:
    """Does the adapter implement ``read_back`` at all (webhooks without an API do not)?"""
    return type(announcer).read_back is not Announcer.read_back


def next_step(announcer: Announcer, announcement: Announcement) -> str:
    post_id, target = announcement.post.id, announcer.name
    return (
        f"check {target} for {announcement.url}; then `publish state mark-sent {post_id} "
        f"--target {target}` if it is there, or `publish announce --retry-in-doubt` to send it"
    )


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
    breaker: Breaker | None = None,
    should_stop: Callable[[], str | None] = lambda: None,
    resend_unconfirmed: bool = False,
) -> Delivery:
    """Send ``announcement`` (its key taken from the ledger if an earlier run made one).

    ``expect``: the row's status when the run planned it (None: no row); another run that
    moved it on since (sent it, is sending it) wins, and this one sends nothing.
    ``should_stop``: why the run is stopping (a signal, the deadline), or None; checked
    before every retry. ``resend_unconfirmed`` (``--retry-in-doubt``): when the platform
    cannot tell whether an earlier attempt arrived, send anyway.
    """
    post_id, target = announcement.post.id, announcer.name
    breaker = breaker or Breaker()
    budget = policy.budget if policy.budget is not None else 60.0
    existing = ledger.get(post_id, target)
    key = existing.key if existing is not None and existing.key else new_key(target, post_id, now())
    # Asked only once the row is claimed, so two runs sharing a ledger never both ask,
    # and a crash while asking leaves ``sending``: asked again next time.
    check_first = (
        existing is not None
        and unconfirmed(announcer, existing)
        and not key_fresh(announcer, existing, now())
    )
    if (
        check_first
        and existing is not None
        and existing.status == "in_doubt"
        and not resend_unconfirmed
        and not can_read_back(announcer)
    ):
        # A standing doubt on a platform that can never be asked: nothing to do, nothing
        # to write; the report repeats the next step.
        doubt = existing.error or "it may have been posted"
        if "mark-sent" not in doubt:
            doubt = f"{doubt}; {next_step(announcer, announcement)}"
        return Delivery(
            result="in_doubt",
            receipt=None,
            error=doubt,
            status=existing.http_status,
            attempts=existing.attempts,
        )
    waited = 0.0
    tries = 0
    retrying: tuple[Entry, str, str, int | None] | None = None
    while True:
        pacer.wait()
        # A wait (a rate limit, a backoff) may have run into the deadline or a signal.
        stopping = should_stop()
        if stopping is not None and retrying is None:
            return Delivery(result="stopped", receipt=None, error=stopping, status=None, attempts=0)
        if stopping is not None and retrying is not None:
            last, note, reason, status = retrying
            return _unsent(
                ledger, last, "failed", note, f"{reason}; not retried: {stopping}", status
            )
        tries += 1
        claimed = ledger.begin(
            post_id, target, announcer.kind, key, now(), expect=expect if tries == 1 else ANY
        )
        if claimed is None:
            return Delivery(result="taken", receipt=None, error=None, status=None, attempts=0)
        entry = claimed
        if check_first:
            check_first = False
            checked = _read_back(
                announcer,
                announcement,
                entry,
                session,
                ledger,
                now=now,
                log=log,
                resend_unconfirmed=resend_unconfirmed,
            )
            if isinstance(checked, Delivery):
                return checked
            settling = _still_settling(announcer, existing, now())
            if checked == "absent" and settling is not None:
                # A request whose sender died may still be processed by the platform: not
                # there *yet* is not "certainly not there". Asked again on the next run.
                wait = (
                    f"not on {target} yet, but the last attempt was only {settling:.0f} s ago "
                    "and may still arrive; it is looked for again on the next run"
                )
                return _unsent(ledger, entry, "failed", AMBIGUOUS, wait, entry.http_status)
            if checked == "absent" and announcer.idempotent and entry.key:
                # Certainly not there, and the platform may have forgotten the old key: a
                # new one, so the send is neither the lost one nor dropped as its duplicate.
                key, started = new_key(target, post_id, now()), now()
                ledger.rekey(post_id, target, key, started)
                entry = replace(
                    entry, key=key, first_attempt_at=started.isoformat(timespec="seconds")
                )
        first = first_attempt(entry) or now()
        attempt = replace(announcement, key=entry.key, attempt=entry.attempts, created_at=first)
        try:
            receipt = announcer.announce(attempt, session)
        except SetupError as exc:
            reason = redact(str(exc))
            return _unsent(ledger, entry, "failed", NOT_SENT, reason, None, stop_target=True)
        except DeliveryError as exc:
            reason = redact(str(exc))
            pacer.hold(take_rate_wait())
            if exc.outcome == "refused":
                return _unsent(
                    ledger,
                    entry,
                    "failed",
                    NOT_SENT,
                    reason,
                    exc.status,
                    stop_target=exc.status in TARGET_REFUSALS,
                )
            if exc.outcome == "unknown" or exc.status is None:
                breaker.record(reason, answered=exc.status is not None)
            if exc.outcome == "unknown" and not announcer.idempotent:
                doubt = f"{reason}; it may have been posted: not sent again; {next_step(announcer, announcement)}"
                return _unsent(ledger, entry, "in_doubt", AMBIGUOUS, doubt, exc.status)
            note = NOT_SENT if exc.outcome == "retry" else AMBIGUOUS
            if note == AMBIGUOUS and not key_fresh(announcer, entry, now()):
                # Past the key's lifetime even a retry in this run could post twice.
                late = f"{reason}; its key may have expired: looked for on the next run first"
                return _unsent(ledger, entry, "failed", note, late, exc.status)
            delay = exc.retry_after if exc.retry_after is not None else policy.backoff(tries)
            if exc.retry_after is not None:
                delay += random.uniform(0, min(1.0, 0.1 * delay + 0.05))
            stopping = should_stop() or (breaker.reason(target) if breaker.hopeless else None)
            if stopping is not None:
                return _unsent(
                    ledger, entry, "failed", note, f"{reason}; not retried: {stopping}", exc.status
                )
            if tries >= policy.attempts or waited + delay > budget:
                rate_limited = exc.status == 429 or (exc.retry_after or 0) > budget - waited
                gave_up = f"{reason}; gave up after {tries} tries this run, will try again next run"
                return _unsent(
                    ledger, entry, "failed", note, gave_up, exc.status, stop_target=rate_limited
                )
            log(f"{target}: {post_id}: {reason}; retrying in {delay:.1f} s")
            pacer.hold(delay)
            waited += delay
            retrying = (entry, note, reason, exc.status)
            continue
        except AnnounceError as exc:
            reason = redact(str(exc))
            return _unsent(ledger, entry, "failed", None, reason, exc.status)
        except Exception as exc:  # the backstop: an adapter bug fails one post
            # The request may well have been processed (a 200 whose body the adapter could
            # not read): as ambiguous as a timeout, and not retried in this run.
            breaker.record(f"unexpected {type(exc).__name__}", answered=True)
            reason = redact(
                f"{target}: unexpected {type(exc).__name__} from the {announcer.kind} adapter "
                f"({exc}); it may have been posted"
            )
            if announcer.idempotent:
                return _unsent(ledger, entry, "failed", AMBIGUOUS, reason, None)
            doubt = f"{reason}; not sent again; {next_step(announcer, announcement)}"
            return _unsent(ledger, entry, "in_doubt", AMBIGUOUS, doubt, None)
        pacer.hold(take_rate_wait())
        noted = entry.reason in (NOT_SENT, AMBIGUOUS)
        ledger.sent(
            post_id,
            target,
            now(),
            remote_id=receipt.remote_id,
            remote_url=receipt.remote_url,
            http_status=receipt.status,
            reason="duplicate" if receipt.duplicate else ("sent" if noted else None),
        )
        return Delivery(
            result="sent",
            receipt=receipt,
            error=None,
            status=receipt.status,
            attempts=entry.attempts,
        )


def _unsent(
    ledger: LedgerStore,
    entry: Entry,
    status: Literal["failed", "in_doubt"],
    note: str | None,
    error: str,
    http_status: int | None,
    *,
    stop_target: bool = False,
) -> Delivery:
    # The note first: a crash between the two leaves ``sending``, which counts as
    # unconfirmed whatever the note says.
    ledger.note(entry.post_id, entry.target, note)
    ledger.unsent(entry.post_id, entry.target, status, error=error, http_status=http_status)
    return Delivery(
        result=status,
        receipt=None,
        error=error,
        status=http_status,
        attempts=entry.attempts,
        stop_target=stop_target,
    )


def _read_back(
    announcer: Announcer,
    announcement: Announcement,
    entry: Entry,
    session: requests.Session,
    ledger: LedgerStore,
    *,
    now: Callable[[], datetime],
    log: Callable[[str], None],
    resend_unconfirmed: bool,
) -> Delivery | Literal["absent", "resend"]:
    """Ask the platform whether an unconfirmed earlier attempt arrived.

    A Delivery when that settles it (found: ``sent``; cannot tell: ``in_doubt``);
    ``absent`` when the message is certainly not there; ``resend`` when the platform
    cannot tell but ``resend_unconfirmed`` says to send anyway (with the old key: the
    platform may honour it longer than we assume).
    """
    post_id, target = entry.post_id, entry.target
    since = first_attempt(entry) or now()
    earlier = replace(announcement, key=entry.key, attempt=entry.attempts, created_at=since)
    try:
        receipt = announcer.read_back(earlier, session, since=since)
    except ReadBackUnavailable as exc:
        why = exc.reason
    except AnnounceError as exc:
        why = f"asking it failed ({exc})"
    except Exception as exc:  # a read-back bug must neither resend nor crash
        why = f"asking it failed (unexpected {type(exc).__name__}: {exc})"
    else:
        if receipt is not None:
            ledger.sent(
                post_id,
                target,
                now(),
                remote_id=receipt.remote_id,
                remote_url=receipt.remote_url,
                http_status=receipt.status,
                reason=FOUND,
            )
            log(f"{target}: {post_id}: an earlier attempt arrived (found by read-back)")
            return Delivery(
                result="sent",
                receipt=receipt,
                error=None,
                status=receipt.status,
                attempts=entry.attempts,
            )
        log(f"{target}: {post_id}: not on {target} (read-back): sending it again")
        return "absent"
    if resend_unconfirmed:
        log(f"{target}: {post_id}: {redact(why)}; sending again (--retry-in-doubt)")
        return "resend"
    doubt = redact(
        f"{target} cannot say whether an earlier attempt arrived ({why}); it may have been "
        f"posted: not sent again; {next_step(announcer, announcement)}"
    )
    ledger.note(post_id, target, AMBIGUOUS)
    ledger.unsent(post_id, target, "in_doubt", error=doubt, http_status=entry.http_status)
    return Delivery(
        result="in_doubt",
        receipt=None,
        error=doubt,
        status=entry.http_status,
        attempts=entry.attempts,
    )
