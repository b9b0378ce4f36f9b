"""Each target's posts decided and, unless it is a dry run, sent: one thread per target.

A dry run renders each payload and sends nothing. A real run sends through
:func:`~publisher.announce.deliver.deliver`, one post after another, and stops a target
early (the rest reported ``deferred``, ``paused``, ``deadline`` or ``interrupted``, their
rows left as they were) when its credentials are refused, its circuit breaker opens, the
deadline passes or a signal comes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import requests

from publisher.announce.contract import Announcement, Announcer, Card, TextLimit
from publisher.announce.deliver import Delivery, Sender, deliver
from publisher.announce.jobs import Job, blocked, card_for
from publisher.announce.ledger import LedgerStore
from publisher.announce.plan import Planned
from publisher.announce.redact import redact
from publisher.announce.render import Rendered, render_message
from publisher.announce.report import Decision, Result, TargetRun
from publisher.announce.retry import Breaker, Pacer, RetryPolicy
from publisher.announce.stop import Stop
from publisher.errors import AnnounceError

Log = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class Sending:
    """What every target's thread shares in one run."""

    ledger: LedgerStore
    not_live: set[str]
    cards: Mapping[str, Card] | None
    language: str | None
    now: datetime
    session_factory: Callable[[], requests.Session]
    policy: RetryPolicy
    say: Log
    stop: Stop
    clock: Callable[[], float]
    retry_in_doubt: bool = False

    def wall_clock(self) -> datetime:
        return datetime.now(self.now.tzinfo) if self.now.tzinfo else datetime.now()


def _template(announcer: Announcer) -> str | None:
    template = announcer.config.get("template")
    if not template:
        return None
    path = Path(str(template))
    return str(path if path.is_absolute() else announcer.root / path)


def _announcement(
    announcer: Announcer,
    post: Planned,
    rendered: Rendered,
    card: Card | None,
    *,
    key: str,
    now: datetime,
    language: str | None,
) -> Announcement:
    return Announcement(
        post=post.post,
        target=announcer.name,
        text=rendered.text,
        title=rendered.title,
        summary=rendered.summary,
        url=post.post.url,
        card=card,
        key=key,
        created_at=now,
        language=language,
    )


def _skip(
    announcer: Announcer, p: Planned, reason: str | None = None, result: Result = "skipped"
) -> Decision:
    return Decision(
        post_id=p.post.id,
        target=announcer.name,
        kind=announcer.kind,
        reason=reason or p.reason,
        result=result,
        detail=p.detail,
    )


def _failed(announcer: Announcer, p: Planned, error: str) -> Decision:
    return Decision(
        post_id=p.post.id,
        target=announcer.name,
        kind=announcer.kind,
        reason=p.reason,
        result="failed",
        error=error,
    )


def _skip_before_send(announcer: Announcer, p: Planned, not_live: set[str]) -> Decision | None:
    """The decision for a planned post that is not sent this run (planner's reason or not live)."""
    if not p.send:
        return _skip(announcer, p)
    if blocked(announcer, p, not_live):
        return _skip(announcer, p, "not_live")
    return None


# -- dry runs --------------------------------------------------------------------------


def dry_run(
    jobs: Sequence[Job],
    not_live: set[str],
    cards: Mapping[str, Card] | None,
    language: str | None,
    now: datetime,
) -> tuple[list[Decision], list[TargetRun]]:
    """What a run would send, with each payload; nothing is sent or written."""
    decisions: list[Decision] = []
    for job in jobs:
        limit = job.announcer.text_limit(None)
        for p in job.planned:
            skipped = _skip_before_send(job.announcer, p, not_live)
            decisions.append(skipped or _would_send(job.announcer, p, limit, cards, language, now))
    runs = [
        TargetRun(name=j.announcer.name, kind=j.announcer.kind, seconds=0.0, baseline=j.baseline)
        for j in jobs
    ]
    return decisions, runs


def _would_send(
    announcer: Announcer,
    p: Planned,
    limit: TextLimit,
    cards: Mapping[str, Card] | None,
    language: str | None,
    now: datetime,
) -> Decision:
    try:
        rendered = render_message(announcer, p.post, limit, template=_template(announcer))
    except AnnounceError as exc:
        return _failed(announcer, p, redact(exc.reason))
    ann = _announcement(
        announcer,
        p,
        rendered,
        card_for(p.post, cards),
        key="<idempotency-key>",
        now=now,
        language=language,
    )
    return Decision(
        post_id=p.post.id,
        target=announcer.name,
        kind=announcer.kind,
        reason=p.reason,
        result="would_send",
        detail=p.detail,
        payload=announcer.payload(ann),
        text=rendered.text,
        length=rendered.length,
        limit=limit.max,
        unit=limit.unit,
    )


# -- real runs -------------------------------------------------------------------------


def send_all(jobs: Sequence[Job], run: Sending) -> tuple[list[Decision], list[TargetRun]]:
    """Every target's posts, sent by one thread per target."""
    if not jobs:
        return [], []
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="announce") as pool:
        results = list(pool.map(lambda job: TargetSend(job, run).run(), jobs))
    return [d for out, _ in results for d in out], [target for _, target in results]


class TargetSend:
    """One target's posts in one run, in order, until the target stops."""

    def __init__(self, job: Job, shared: Sending) -> None:
        self.job = job
        self.shared = shared
        self.announcer = job.announcer
        own_deadline = self.announcer.config.get("deadline")
        self.deadline = float(own_deadline) if isinstance(own_deadline, int | float) else None
        #: Why the target stopped (refused credentials, a long rate limit), or None.
        self.stopped: str | None = None
        #: Why its circuit breaker opened, or None.
        self.paused: str | None = None
        self.limit: TextLimit | None = None

    def _policy(self) -> RetryPolicy:
        policy = self.shared.policy
        if policy.budget is not None:
            return policy
        return replace(policy, budget=float(self.announcer.config.get("retry_time") or 60.0))

    def _should_stop(self) -> str | None:
        why = self.shared.stop.why(self.deadline)
        return why[1] if why else None

    def run(self) -> tuple[list[Decision], TargetRun]:
        run = self.shared
        start = run.clock()
        out: list[Decision] = []
        with run.session_factory() as session:
            sender = Sender(
                announcer=self.announcer,
                session=session,
                ledger=run.ledger,
                now=run.wall_clock,
                policy=self._policy(),
                pacer=Pacer(lambda seconds: run.stop.nap(seconds, self.deadline), run.clock),
                log=run.say,
                breaker=Breaker(),
                should_stop=self._should_stop,
                resend_unconfirmed=run.retry_in_doubt,
            )
            for p in self.job.planned:
                out.append(self._decide(sender, p))
        seconds = run.clock() - start
        return out, TargetRun(
            name=self.announcer.name,
            kind=self.announcer.kind,
            seconds=seconds,
            baseline=self.job.baseline,
        )

    def _not_now(self, p: Planned) -> Decision | None:
        """The decision for a post this target does not send now, or None to send it."""
        recheck = p.reason == "in_doubt"
        skipped = None if recheck else _skip_before_send(self.announcer, p, self.shared.not_live)
        if skipped is not None:
            return skipped
        halted = self.shared.stop.why(self.deadline)
        if halted is not None:
            return replace(_skip(self.announcer, p, result=halted[0]), error=halted[1])
        if self.paused is not None or self.stopped is not None:
            result: Result = "paused" if self.paused is not None else "deferred"
            error = self.paused or self.stopped
            return replace(_skip(self.announcer, p, result=result), error=error)
        return None

    def _decide(self, sender: Sender, p: Planned) -> Decision:
        waiting = self._not_now(p)
        if waiting is not None:
            return waiting
        announcer, say = self.announcer, self.shared.say
        try:
            self.limit = self.limit or announcer.text_limit(sender.session)
            rendered = render_message(announcer, p.post, self.limit, template=_template(announcer))
            delivery = self._deliver(sender, p, rendered)
        except AnnounceError as exc:
            say(redact(str(exc)))
            return _failed(announcer, p, redact(str(exc)))
        except Exception as exc:  # the backstop: one post's failure, never a traceback
            error = redact(
                f"{announcer.name}: {p.post.id}: unexpected {type(exc).__name__} "
                f"({exc}); nothing was sent for it"
            )
            say(error)
            return _failed(announcer, p, error)
        if delivery.result == "stopped":
            halted = self.shared.stop.why(self.deadline) or ("deadline", delivery.error or "")
            return replace(_skip(announcer, p, result=halted[0]), error=halted[1])
        decision = _decided(announcer, p, delivery, rendered.length, self.limit, say)
        if delivery.stop_target:
            self.stopped = (
                f"stopped sending to {announcer.name} for this run after: {delivery.error}"
            )
            say(self.stopped)
        if sender.breaker.open and self.paused is None:
            self.paused = sender.breaker.reason(announcer.name)
            say(self.paused)
        return decision

    def _deliver(self, sender: Sender, p: Planned, rendered: Rendered) -> Delivery:
        run = self.shared
        ann = _announcement(
            self.announcer,
            p,
            rendered,
            card_for(p.post, run.cards),
            key="",
            now=run.wall_clock(),
            language=run.language,
        )
        seen = self.job.entries.get(p.post.id)
        expect = "in_doubt" if p.reason == "in_doubt" else (seen.status if seen else None)
        return deliver(sender, ann, expect=expect)


def _decided(
    announcer: Announcer,
    p: Planned,
    delivery: Delivery,
    length: int,
    limit: TextLimit,
    say: Log,
) -> Decision:
    """The decision for a post handed to ``deliver``, and its log line."""
    name, post_id = announcer.name, p.post.id
    if delivery.result == "taken":
        say(f"{name}: {post_id}: another run sharing the ledger took it")
        return replace(
            _skip(announcer, p, "seen"), detail="another run sharing the ledger announced it"
        )
    if delivery.result == "stopped":  # the caller says which stop it was; a fallback
        return replace(_skip(announcer, p, result="deadline"), error=delivery.error)
    if p.reason == "in_doubt" and delivery.result == "in_doubt":
        # Still in doubt from an earlier run, and still not resent: not a new failure.
        return replace(_skip(announcer, p), detail=delivery.error or p.detail)
    receipt = delivery.receipt
    if delivery.result == "sent":
        link = f" ({receipt.remote_url})" if receipt and receipt.remote_url else ""
        say(f"{name}: announced {post_id}{link}")
    else:
        say(f"{name}: {post_id}: {delivery.result}: {delivery.error}")
    return Decision(
        post_id=post_id,
        target=name,
        kind=announcer.kind,
        reason=p.reason,
        result=delivery.result,
        detail=p.detail,
        error=delivery.error,
        http_status=delivery.status,
        attempts=delivery.attempts,
        remote_id=receipt.remote_id if receipt else None,
        remote_url=receipt.remote_url if receipt else None,
        length=length,
        limit=limit.max,
        unit=limit.unit,
    )
