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
* Read-back before resend: an unconfirmed row is resent blindly only while the platform
  honours its key (see ``doubt.py``); otherwise the platform is asked (``read_back``) first:
  there -> ``sent``; certainly not -> sent again with a new key; cannot tell -> ``in_doubt``.
* A :class:`Breaker` counts the timeouts and ambiguous failures of one target in one run;
  once open, the run sends that target nothing more (the caller reports the rest paused).
* The first ``begin`` is a claim (``expect``: the row as the planner saw it): when another
  run sharing the ledger got there first, the result is ``taken`` and nothing is sent.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
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
from publisher.announce.doubt import (
    AMBIGUOUS,
    FOUND,
    NOT_SENT,
    can_read_back,
    first_attempt,
    key_fresh,
    next_step,
    still_settling,
    unconfirmed,
)
from publisher.announce.http import take_rate_wait
from publisher.announce.ledger import ANY, Entry, Expect, LedgerStore
from publisher.announce.redact import redact
from publisher.announce.retry import Breaker, Pacer, RetryPolicy, new_key
from publisher.errors import AnnounceError

__all__ = ["FOUND", "Delivery", "Result", "Sender", "deliver"]

#: ``taken``: another run sharing the ledger has it; ``stopped``: the run stopped (deadline,
#: signal) before the first request, nothing written.
Result = Literal["sent", "in_doubt", "failed", "taken", "stopped"]
#: Refusals that concern the target, not the post: stop sending to it for this run.
TARGET_REFUSALS = frozenset({401, 403, 404, 410})


def _no_stop() -> str | None:
    return None


@dataclass(frozen=True, kw_only=True)
class Sender:
    """One target's means of sending in one run, shared by each of its deliveries.

    ``now``: the wall clock for ledger times and keys. ``should_stop``: why the run is
    stopping (a signal, the deadline), or None; asked before every request.
    ``resend_unconfirmed`` (``--retry-in-doubt``): when the platform cannot tell whether
    an earlier attempt arrived, send anyway.
    """

    announcer: Announcer
    session: requests.Session
    ledger: LedgerStore
    now: Callable[[], datetime]
    policy: RetryPolicy
    pacer: Pacer
    log: Callable[[str], None]
    breaker: Breaker = field(default_factory=Breaker)
    should_stop: Callable[[], str | None] = _no_stop
    resend_unconfirmed: bool = False

    @property
    def budget(self) -> float:
        return self.policy.budget if self.policy.budget is not None else 60.0


@dataclass(frozen=True, kw_only=True)
class Delivery:
    result: Result
    receipt: Receipt | None
    error: str | None
    status: int | None
    attempts: int
    #: Stop sending to this target for the rest of the run (bad credentials, long rate limit).
    stop_target: bool = False


@dataclass
class _Progress:
    """One delivery's state across its tries."""

    announcement: Announcement
    key: str
    existing: Entry | None
    check_first: bool
    tries: int = 0
    waited: float = 0.0
    #: The last failure when a retry is pending: (entry, note, reason, HTTP status).
    retrying: tuple[Entry, str, str, int | None] | None = None


def deliver(sender: Sender, announcement: Announcement, *, expect: Expect = ANY) -> Delivery:
    """Send ``announcement`` (its key taken from the ledger if an earlier run made one).

    ``expect``: the row's status when the run planned it (None: no row); another run that
    moved it on since (sent it, is sending it) wins, and this one sends nothing.
    """
    announcer, now = sender.announcer, sender.now
    post_id, target = announcement.post.id, announcer.name
    existing = sender.ledger.get(post_id, target)
    key = existing.key if existing is not None and existing.key else new_key(target, post_id, now())
    # Asked only once the row is claimed, so two runs sharing a ledger never both ask,
    # and a crash while asking leaves ``sending``: asked again next time.
    check_first = (
        existing is not None
        and unconfirmed(announcer, existing)
        and not key_fresh(announcer, existing, now())
    )
    if check_first and existing is not None:
        standing = _standing_doubt(sender, announcement, existing)
        if standing is not None:
            return standing
    progress = _Progress(
        announcement=announcement, key=key, existing=existing, check_first=check_first
    )
    while True:
        done = _try_once(sender, progress, expect)
        if done is not None:
            return done


def _standing_doubt(sender: Sender, announcement: Announcement, existing: Entry) -> Delivery | None:
    """A standing doubt on a platform that can never be asked: nothing to do, nothing to
    write; the report repeats the next step."""
    announcer = sender.announcer
    if existing.status != "in_doubt" or sender.resend_unconfirmed or can_read_back(announcer):
        return None
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


def _try_once(sender: Sender, progress: _Progress, expect: Expect) -> Delivery | None:
    """One claim and one request; None when it is to be retried."""
    sender.pacer.wait()
    # A wait (a rate limit, a backoff) may have run into the deadline or a signal.
    stopping = sender.should_stop()
    if stopping is not None:
        if progress.retrying is None:
            return Delivery(result="stopped", receipt=None, error=stopping, status=None, attempts=0)
        last, note, reason, status = progress.retrying
        error = f"{reason}; not retried: {stopping}"
        return _unsent(sender.ledger, last, "failed", note, error, status)
    progress.tries += 1
    post = progress.announcement.post
    claimed = sender.ledger.begin(
        post.id,
        sender.announcer.name,
        sender.announcer.kind,
        progress.key,
        sender.now(),
        expect=expect if progress.tries == 1 else ANY,
    )
    if claimed is None:
        return Delivery(result="taken", receipt=None, error=None, status=None, attempts=0)
    if not progress.check_first:
        return _request(sender, progress, claimed)
    progress.check_first = False
    checked = _check_earlier(sender, progress, claimed)
    return checked if isinstance(checked, Delivery) else _request(sender, progress, checked)


def _check_earlier(sender: Sender, progress: _Progress, entry: Entry) -> Entry | Delivery:
    """Read back an unconfirmed earlier attempt; the row to send with, or the outcome."""
    checked = _read_back(sender, progress.announcement, entry)
    if isinstance(checked, Delivery) or checked == "resend":
        return checked if isinstance(checked, Delivery) else entry
    announcer, now = sender.announcer, sender.now
    settling = still_settling(announcer, progress.existing, now())
    if settling is not None:
        # A request whose sender died may still be processed by the platform: not
        # there *yet* is not "certainly not there". Asked again on the next run.
        wait = (
            f"not on {announcer.name} yet, but the last attempt was only {settling:.0f} s ago "
            "and may still arrive; it is looked for again on the next run"
        )
        return _unsent(sender.ledger, entry, "failed", AMBIGUOUS, wait, entry.http_status)
    if not (announcer.idempotent and entry.key):
        return entry
    # Certainly not there, and the platform may have forgotten the old key: a new one,
    # so the send is neither the lost one nor dropped as its duplicate.
    key, started = new_key(announcer.name, entry.post_id, now()), now()
    sender.ledger.rekey(entry.post_id, entry.target, key, started)
    progress.key = key
    return replace(entry, key=key, first_attempt_at=started.isoformat(timespec="seconds"))


def _request(sender: Sender, progress: _Progress, entry: Entry) -> Delivery | None:
    """The request itself, and the row it leaves; None when it is to be retried."""
    announcer, ledger = sender.announcer, sender.ledger
    first = first_attempt(entry) or sender.now()
    attempt = replace(
        progress.announcement, key=entry.key, attempt=entry.attempts, created_at=first
    )
    try:
        receipt = announcer.announce(attempt, sender.session)
    except SetupError as exc:
        reason = redact(str(exc))
        return _unsent(ledger, entry, "failed", NOT_SENT, reason, None, stop_target=True)
    except DeliveryError as exc:
        return _failed(sender, progress, entry, exc)
    except AnnounceError as exc:
        return _unsent(ledger, entry, "failed", None, redact(str(exc)), exc.status)
    except Exception as exc:  # the backstop: an adapter bug fails one post
        return _adapter_bug(sender, progress.announcement, entry, exc)
    sender.pacer.hold(take_rate_wait())
    noted = entry.reason in (NOT_SENT, AMBIGUOUS)
    ledger.sent(
        entry.post_id,
        entry.target,
        sender.now(),
        remote_id=receipt.remote_id,
        remote_url=receipt.remote_url,
        http_status=receipt.status,
        reason="duplicate" if receipt.duplicate else ("sent" if noted else None),
    )
    return Delivery(
        result="sent", receipt=receipt, error=None, status=receipt.status, attempts=entry.attempts
    )


def _failed(
    sender: Sender, progress: _Progress, entry: Entry, exc: DeliveryError
) -> Delivery | None:
    """A refused or unanswered request: the row it leaves, or None to retry after a wait."""
    announcer, ledger, policy = sender.announcer, sender.ledger, sender.policy
    reason = redact(str(exc))
    sender.pacer.hold(take_rate_wait())
    if exc.outcome == "refused":
        stop = exc.status in TARGET_REFUSALS
        return _unsent(ledger, entry, "failed", NOT_SENT, reason, exc.status, stop_target=stop)
    if exc.outcome == "unknown" or exc.status is None:
        sender.breaker.record(reason, answered=exc.status is not None)
    if exc.outcome == "unknown" and not announcer.idempotent:
        step = next_step(announcer, progress.announcement)
        doubt = f"{reason}; it may have been posted: not sent again; {step}"
        return _unsent(ledger, entry, "in_doubt", AMBIGUOUS, doubt, exc.status)
    note = NOT_SENT if exc.outcome == "retry" else AMBIGUOUS
    if note == AMBIGUOUS and not key_fresh(announcer, entry, sender.now()):
        # Past the key's lifetime even a retry in this run could post twice.
        late = f"{reason}; its key may have expired: looked for on the next run first"
        return _unsent(ledger, entry, "failed", note, late, exc.status)
    delay = exc.retry_after if exc.retry_after is not None else policy.backoff(progress.tries)
    if exc.retry_after is not None:
        delay += random.uniform(0, min(1.0, 0.1 * delay + 0.05))
    breaker = sender.breaker
    stopping = sender.should_stop() or (breaker.reason(entry.target) if breaker.hopeless else None)
    if stopping is not None:
        error = f"{reason}; not retried: {stopping}"
        return _unsent(ledger, entry, "failed", note, error, exc.status)
    budget = sender.budget
    if progress.tries >= policy.attempts or progress.waited + delay > budget:
        rate_limited = exc.status == 429 or (exc.retry_after or 0) > budget - progress.waited
        gave_up = (
            f"{reason}; gave up after {progress.tries} tries this run, will try again next run"
        )
        return _unsent(ledger, entry, "failed", note, gave_up, exc.status, stop_target=rate_limited)
    sender.log(f"{entry.target}: {entry.post_id}: {reason}; retrying in {delay:.1f} s")
    sender.pacer.hold(delay)
    progress.waited += delay
    progress.retrying = (entry, note, reason, exc.status)
    return None


def _adapter_bug(
    sender: Sender, announcement: Announcement, entry: Entry, exc: Exception
) -> Delivery:
    # The request may well have been processed (a 200 whose body the adapter could not
    # read): as ambiguous as a timeout, and not retried in this run.
    announcer = sender.announcer
    sender.breaker.record(f"unexpected {type(exc).__name__}", answered=True)
    reason = redact(
        f"{announcer.name}: unexpected {type(exc).__name__} from the {announcer.kind} adapter "
        f"({exc}); it may have been posted"
    )
    if announcer.idempotent:
        return _unsent(sender.ledger, entry, "failed", AMBIGUOUS, reason, None)
    doubt = f"{reason}; not sent again; {next_step(announcer, announcement)}"
    return _unsent(sender.ledger, entry, "in_doubt", AMBIGUOUS, doubt, None)


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
    sender: Sender, announcement: Announcement, entry: Entry
) -> Delivery | Literal["absent", "resend"]:
    """Ask the platform whether an unconfirmed earlier attempt arrived.

    A Delivery when that settles it (found: ``sent``; cannot tell: ``in_doubt``);
    ``absent`` when the message is certainly not there; ``resend`` when the platform
    cannot tell but ``resend_unconfirmed`` says to send anyway (with the old key: the
    platform may honour it longer than we assume).
    """
    announcer, ledger, log = sender.announcer, sender.ledger, sender.log
    post_id, target = entry.post_id, entry.target
    since = first_attempt(entry) or sender.now()
    earlier = replace(announcement, key=entry.key, attempt=entry.attempts, created_at=since)
    try:
        receipt = announcer.read_back(earlier, sender.session, since=since)
    except ReadBackUnavailable as exc:
        why = exc.reason
    except AnnounceError as exc:
        why = f"asking it failed ({exc})"
    except Exception as exc:  # a read-back bug must neither resend nor crash
        why = f"asking it failed (unexpected {type(exc).__name__}: {exc})"
    else:
        if receipt is None:
            log(f"{target}: {post_id}: not on {target} (read-back): sending it again")
            return "absent"
        ledger.sent(
            post_id,
            target,
            sender.now(),
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
    if sender.resend_unconfirmed:
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
