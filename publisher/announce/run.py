"""``run_announcements``: the stage function under ``publish announce``.

posts + targets + ledger -> plan per target -> page-live check -> send, one thread per
target (a rate-limited or failing target holds up no other) -> :class:`AnnounceReport`.
A dry run opens the ledger read-only, makes no write call and returns each payload.

Stopping early never loses or doubles anything: on SIGINT/SIGTERM, when the run's
``deadline`` passes, or when a target's circuit breaker opens, the request in flight is
finished and its row written, nothing more is sent, and each post not tried is reported
(``interrupted``, ``deadline``, ``paused``) with its ledger row left as it was.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from publisher.announce.contract import REQUIRED, SECRET, Announcement, Announcer, Card
from publisher.announce.deliver import Breaker, Delivery, Pacer, RetryPolicy, deliver
from publisher.announce.ledger import Entry, LedgerStore, RunLock, is_database_url, open_ledger
from publisher.announce.live import LiveCheck, PageCheck
from publisher.announce.options import COMMON, parse_duration
from publisher.announce.plan import Planned, Reason, plan_target
from publisher.announce.redact import redact, register_secret
from publisher.announce.registry import announcer_class
from publisher.announce.render import render_message
from publisher.announce.report import AnnounceReport, Decision, Result, TargetRun
from publisher.config import TargetConfig
from publisher.errors import AnnounceError
from publisher.posts.model import Post
from publisher.secret import Secret

Log = Callable[[str], None]
#: The signals that stop a run gracefully (exit 130 / 143 from the CLI).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop:
    """Why a run stops sending early: a signal, or a deadline (the run's or a target's).

    Every target's thread asks :meth:`why` before each post and before each retry; waits
    (backoff, rate limits) end early when a signal comes or the deadline passes.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        started: float,
        deadline: float | None,
        sleep: Callable[[float], None] | None,
    ) -> None:
        self.clock = clock
        self.started = started
        self.deadline = deadline
        self.signal: int | None = None
        self._event = threading.Event()
        self._sleep = sleep

    def interrupt(self, signum: int) -> None:
        self.signal = signum
        self._event.set()

    def ends_at(self, target_deadline: float | None) -> float | None:
        limits = [d for d in (self.deadline, target_deadline) if d is not None]
        return self.started + min(limits) if limits else None

    def why(self, target_deadline: float | None = None) -> tuple[Result, str] | None:
        if self.signal is not None:
            name = signal.Signals(self.signal).name
            return "interrupted", f"stopped by {name}: not sent; it goes out on the next run"
        end = self.ends_at(target_deadline)
        if end is not None and self.clock() >= end:
            return "deadline", "the run's deadline passed: not sent; it goes out on the next run"
        return None

    def nap(self, seconds: float, target_deadline: float | None = None) -> None:
        """Sleep, but no later than the deadline and not past a signal."""
        end = self.ends_at(target_deadline)
        if end is not None:
            seconds = min(seconds, max(0.0, end - self.clock()))
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            self._event.wait(seconds)


@contextmanager
def stop_on_signals(stop: Stop) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (the request in flight finishes, nothing more is sent);
    a second one gets the previous handler (Ctrl-C twice: the usual KeyboardInterrupt).
    Only the main thread may set handlers; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def handle(signum: int, frame: object) -> None:
        stop.interrupt(signum)
        for number, handler in previous.items():
            signal.signal(number, handler)

    for signum in STOP_SIGNALS:
        signal.signal(signum, handle)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def lock_path(ledger_path: Path) -> Path:
    return ledger_path.with_name(ledger_path.name + ".lock")


def run_lock(location: Path | str) -> RunLock | None:
    """The run lock of a ledger file; None for a database, where each send is claimed instead."""
    return None if is_database_url(location) else RunLock(lock_path(Path(location)))


def resolve_options(kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults for options the config did not give (also for configs validated before
    ``parse_target_options`` was wired in) and turn ``max_age`` into a timedelta."""
    cls = announcer_class(kind)
    merged: dict[str, Any] = {
        k: v for k, v in {**COMMON, **cls.options}.items() if v is not REQUIRED and v is not SECRET
    }
    merged.update({k: v for k, v in options.items() if v is not None})
    if merged.get("require_live") is None:
        merged["require_live"] = cls.needs_live_page
    if isinstance(merged.get("max_age"), str | int | float):
        merged["max_age"] = parse_duration(merged["max_age"])
    for key in ("retry_time", "deadline", "timeout"):
        if isinstance(merged.get(key), int) and not isinstance(merged.get(key), bool):
            merged[key] = float(merged[key])
    for value in merged.values():
        if isinstance(value, Secret):
            register_secret(value.value)
    return merged


def build_announcers(
    targets: Sequence[TargetConfig], *, root: Path, state_dir: Path
) -> list[Announcer]:
    announcers = []
    for target in targets:
        cls = announcer_class(target.kind)
        announcers.append(
            cls(
                target.name,
                resolve_options(target.kind, target.options),
                root=root,
                state_dir=state_dir,
            )
        )
    return announcers


@dataclass
class _Job:
    announcer: Announcer
    planned: list[Planned]
    baseline: bool
    entries: dict[str, Entry]


def _card_for(post: Post, cards: Mapping[str, Card] | None) -> Card | None:
    if cards is not None and post.id in cards:
        return cards[post.id]
    if post.og_image_url:
        return Card(url=post.og_image_url, alt=post.title)
    return None


def run_announcements(
    targets: Sequence[TargetConfig],
    posts: Sequence[Post],
    *,
    ledger_path: Path | str,
    now: datetime,
    root: Path | None = None,
    state_dir: Path | None = None,
    dry_run: bool = False,
    backfill: int = 0,
    retry_in_doubt: bool = False,
    only: Sequence[str] = (),
    session_factory: Callable[[], requests.Session] = requests.Session,
    live_check: LiveCheck | None = None,
    live_wait: float = 0.0,
    cards: Mapping[str, Card] | None = None,
    language: str | None = None,
    policy: RetryPolicy | None = None,
    lock_wait: float = 0.0,
    log: Log | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    deadline: float | None = None,
    handle_signals: bool = True,
) -> AnnounceReport:
    """Announce every new published post to every target; see docs/announce.md.

    ``posts``: the published posts (drafts and future posts are ignored anyway).
    ``only``: target names to run (default: all). ``backfill``: on a target's first run,
    announce its newest N posts instead of recording all as the baseline.
    ``ledger_path``: a SQLite file (runs take turns through its lock file) or a
    ``postgresql://`` URL (runs on many hosts share it; each send is claimed).
    ``state_dir``: where adapters keep sessions (default: the ledger file's folder).
    ``deadline``: seconds from the start after which nothing more is sent (a target's
    ``deadline`` option can make its own shorter). ``handle_signals``: SIGINT/SIGTERM stop
    the run gracefully (``report.interrupted``) instead of raising, when on the main thread.
    ``sleep``: how waits are made (tests); by default they end early on a signal.
    Raises StateError when another run holds the lock or the ledger cannot be opened.
    """
    started = clock()
    policy = policy or RetryPolicy()
    stop = Stop(clock=clock, started=started, deadline=deadline, sleep=sleep)
    say: Log = (lambda text: log(redact(text))) if log else (lambda text: None)
    root = root or Path.cwd()
    chosen = [t for t in targets if not only or t.name in only]
    if state_dir is None:
        state_dir = (
            root / ".publisher" if is_database_url(ledger_path) else Path(ledger_path).parent
        )
    announcers = build_announcers(chosen, root=root, state_dir=state_dir)
    published = [p for p in posts if p.is_live(now)]
    lock = None if dry_run else run_lock(ledger_path)
    if lock is not None:
        lock.acquire(wait=lock_wait)
    signals = stop_on_signals(stop) if handle_signals and not dry_run else _nothing()
    try:
        with signals, open_ledger(ledger_path, readonly=dry_run) as ledger:
            jobs = _plan(
                announcers,
                published,
                ledger,
                now=now,
                dry_run=dry_run,
                backfill=backfill,
                retry_in_doubt=retry_in_doubt,
                say=say,
            )
            not_live = _check_live(
                jobs, cards, live_check, session_factory, live_wait, say, stop=stop
            )
            jobs = [_cap_live(job, not_live) for job in jobs]
            if dry_run:
                decisions, runs = _dry(jobs, not_live, cards, language, now)
            else:
                decisions, runs = _send(
                    jobs,
                    not_live,
                    ledger,
                    cards=cards,
                    language=language,
                    now=now,
                    session_factory=session_factory,
                    policy=policy,
                    say=say,
                    stop=stop,
                    clock=clock,
                    retry_in_doubt=retry_in_doubt,
                )
    finally:
        if lock is not None:
            lock.release()
    report = AnnounceReport(
        dry_run=dry_run,
        decisions=tuple(decisions),
        targets=tuple(runs),
        wall_seconds=clock() - started,
        interrupted=stop.signal,
    )
    say(report.summary())
    return report


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _plan(
    announcers: Sequence[Announcer],
    published: Sequence[Post],
    ledger: LedgerStore,
    *,
    now: datetime,
    dry_run: bool,
    backfill: int,
    retry_in_doubt: bool,
    say: Log,
) -> list[_Job]:
    jobs = []
    for announcer in announcers:
        entries = ledger.for_target(announcer.name)
        has_baseline = ledger.baseline_at(announcer.name) is not None
        planned = plan_target(
            published,
            announcer.config,
            entries,
            has_baseline=has_baseline,
            idempotent=announcer.idempotent,
            now=now,
            backfill=backfill or int(announcer.config.get("backfill") or 0),
            retry_in_doubt=retry_in_doubt,
        )
        if not dry_run:
            if not has_baseline:
                skipped = [p.post.id for p in planned if p.reason == "baseline"]
                ledger.record_baseline(announcer.name, announcer.kind, skipped, now)
                say(
                    f"{announcer.name}: first run: {len(skipped)} existing posts recorded as already published, not announced"
                )
            for p in planned:
                entry = entries.get(p.post.id)
                if p.reason == "in_doubt" and entry is not None and entry.status == "sending":
                    ledger.mark_interrupted(
                        p.post.id,
                        announcer.name,
                        "an earlier run stopped while sending it; it may have been posted",
                    )
        jobs.append(
            _Job(announcer=announcer, planned=planned, baseline=not has_baseline, entries=entries)
        )
    return jobs


def _same_host(url: str, page_url: str) -> bool:
    """Whether ``url`` is on the site's own host. Only such a card image is waited for: a
    post's ogImageUrl elsewhere names a host the post chose, which a run (a pull request's
    dry run included) must not be made to contact, and which no deploy of ours changes."""
    try:
        return urlsplit(url).netloc.lower() == urlsplit(page_url).netloc.lower()
    except ValueError:
        return False


def _check_live(
    jobs: Sequence[_Job],
    cards: Mapping[str, Card] | None,
    live_check: LiveCheck | None,
    session_factory: Callable[[], requests.Session],
    live_wait: float,
    say: Log,
    *,
    stop: Stop | None = None,
) -> set[str]:
    """Post ids whose page (or card image) is not live yet."""
    urls: dict[str, list[str]] = {}
    for job in jobs:
        if not job.announcer.config.get("require_live", True):
            continue
        for p in job.planned:
            if (p.send or p.reason == "over_cap") and not p.post.is_link_post:
                card = _card_for(p.post, cards)
                urls[p.post.id] = [p.post.page_url] + (
                    [card.url] if card is not None and _same_host(card.url, p.post.page_url) else []
                )
    if not urls:
        return set()
    if live_check is not None:
        check = live_check
    elif stop is not None:
        check = PageCheck(
            session_factory, wait=live_wait, sleep=stop.nap, stopped=lambda: stop.signal is not None
        )
    else:
        check = PageCheck(session_factory, wait=live_wait)
    answers = check(sorted({u for group in urls.values() for u in group}))
    missing = {
        post_id for post_id, group in urls.items() if not all(answers.get(u, False) for u in group)
    }
    for post_id in sorted(missing):
        say(f"{post_id}: its page is not live yet; it will be announced on a later run")
    return missing


def _cap_live(job: _Job, not_live: set[str]) -> _Job:
    """Spend ``max_per_run`` on posts that can go now: a post whose page is not live does
    not hold a place, or a page that never comes up would block every newer post."""
    cap = job.announcer.config.get("max_per_run")
    if not isinstance(cap, int):
        return job
    planned: list[Planned] = []
    sending = 0
    for p in job.planned:
        if p.reason not in ("new", "retry", "over_cap"):
            planned.append(p)
            continue
        if p.reason == "over_cap":  # back to what it was before the planner's cap
            entry = job.entries.get(p.post.id)
            reason: Reason = "new" if entry is None else "retry"
            p = replace(p, reason=reason, detail=entry.error or "" if entry else "")
        if _blocked(job.announcer, p, not_live):
            planned.append(p)  # reported not_live by _skip_before_send
        elif sending < cap:
            sending += 1
            planned.append(p)
        else:
            planned.append(replace(p, reason="over_cap", detail=f"max_per_run is {cap}"))
    return replace(job, planned=planned)


def _blocked(announcer: Announcer, p: Planned, not_live: set[str]) -> bool:
    return (
        p.post.id in not_live
        and bool(announcer.config.get("require_live", True))
        and not p.post.is_link_post
    )


def _announcement(
    announcer: Announcer,
    post: Post,
    text: str,
    rendered: Any,
    card: Card | None,
    key: str,
    now: datetime,
    language: str | None,
) -> Announcement:
    return Announcement(
        post=post,
        target=announcer.name,
        text=text,
        title=rendered.title,
        summary=rendered.summary,
        url=post.url,
        card=card,
        key=key,
        created_at=now,
        language=language,
    )


def _skip_before_send(announcer: Announcer, p: Planned, not_live: set[str]) -> Decision | None:
    """The decision for a planned post that is not sent this run (planner's reason or not live)."""
    if not p.send:
        return _skip(announcer, p)
    if _blocked(announcer, p, not_live):
        return _skip(announcer, p, "not_live")
    return None


def _skip(
    announcer: Announcer, p: Planned, reason: str | None = None, result: Any = "skipped"
) -> Decision:
    return Decision(
        post_id=p.post.id,
        target=announcer.name,
        kind=announcer.kind,
        reason=reason or p.reason,
        result=result,
        detail=p.detail,
    )


def _dry(
    jobs: Sequence[_Job],
    not_live: set[str],
    cards: Mapping[str, Card] | None,
    language: str | None,
    now: datetime,
) -> tuple[list[Decision], list[TargetRun]]:
    decisions: list[Decision] = []
    for job in jobs:
        announcer = job.announcer
        limit = announcer.text_limit(None)
        for p in job.planned:
            skipped = _skip_before_send(announcer, p, not_live)
            if skipped is not None:
                decisions.append(skipped)
                continue
            try:
                rendered = render_message(announcer, p.post, limit, template=_template(announcer))
            except AnnounceError as exc:
                decisions.append(
                    Decision(
                        post_id=p.post.id,
                        target=announcer.name,
                        kind=announcer.kind,
                        reason=p.reason,
                        result="failed",
                        error=redact(exc.reason),
                    )
                )
                continue
            card = _card_for(p.post, cards)
            ann = _announcement(
                announcer, p.post, rendered.text, rendered, card, "<idempotency-key>", now, language
            )
            decisions.append(
                Decision(
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
            )
    return decisions, [
        TargetRun(name=j.announcer.name, kind=j.announcer.kind, seconds=0.0, baseline=j.baseline)
        for j in jobs
    ]


def _template(announcer: Announcer) -> str | None:
    template = announcer.config.get("template")
    if not template:
        return None
    path = Path(str(template))
    return str(path if path.is_absolute() else announcer.root / path)


def _send(
    jobs: Sequence[_Job],
    not_live: set[str],
    ledger: LedgerStore,
    *,
    cards: Mapping[str, Card] | None,
    language: str | None,
    now: datetime,
    session_factory: Callable[[], requests.Session],
    policy: RetryPolicy,
    say: Log,
    stop: Stop,
    clock: Callable[[], float],
    retry_in_doubt: bool = False,
) -> tuple[list[Decision], list[TargetRun]]:
    def clock_now() -> datetime:
        return datetime.now(now.tzinfo) if now.tzinfo else datetime.now()

    def run_target(job: _Job) -> tuple[list[Decision], TargetRun]:
        announcer = job.announcer
        start = clock()
        out: list[Decision] = []
        stopped: str | None = None
        paused: str | None = None
        breaker = Breaker()
        own_deadline = announcer.config.get("deadline")
        target_deadline = float(own_deadline) if isinstance(own_deadline, int | float) else None
        pacer = Pacer(lambda seconds: stop.nap(seconds, target_deadline), clock)
        target_policy = policy
        if policy.budget is None:
            target_policy = replace(
                policy, budget=float(announcer.config.get("retry_time") or 60.0)
            )

        def should_stop() -> str | None:
            why = stop.why(target_deadline)
            return why[1] if why else None

        with session_factory() as session:
            limit = None
            for p in job.planned:
                recheck = p.reason == "in_doubt"
                skipped = None if recheck else _skip_before_send(announcer, p, not_live)
                if skipped is not None:
                    out.append(skipped)
                    continue
                halted = stop.why(target_deadline)
                if halted is not None:
                    out.append(replace(_skip(announcer, p, result=halted[0]), error=halted[1]))
                    continue
                if paused is not None or stopped is not None:
                    result: Result = "paused" if paused is not None else "deferred"
                    out.append(replace(_skip(announcer, p, result=result), error=paused or stopped))
                    continue
                try:
                    limit = limit or announcer.text_limit(session)
                    rendered = render_message(
                        announcer, p.post, limit, template=_template(announcer)
                    )
                    ann = _announcement(
                        announcer,
                        p.post,
                        rendered.text,
                        rendered,
                        _card_for(p.post, cards),
                        "",
                        clock_now(),
                        language,
                    )
                    delivery = deliver(
                        announcer,
                        ann,
                        session,
                        ledger,
                        now=clock_now,
                        policy=target_policy,
                        pacer=pacer,
                        log=say,
                        expect=(
                            "in_doubt"
                            if recheck
                            else (seen.status if (seen := job.entries.get(p.post.id)) else None)
                        ),
                        breaker=breaker,
                        should_stop=should_stop,
                        resend_unconfirmed=retry_in_doubt,
                    )
                except AnnounceError as exc:
                    out.append(_failed(announcer, p, redact(str(exc))))
                    say(redact(str(exc)))
                    continue
                except Exception as exc:  # the backstop: one post's failure, never a traceback
                    error = redact(
                        f"{announcer.name}: {p.post.id}: unexpected {type(exc).__name__} "
                        f"({exc}); nothing was sent for it"
                    )
                    out.append(_failed(announcer, p, error))
                    say(error)
                    continue
                if delivery.result == "stopped":
                    halted = stop.why(target_deadline) or ("deadline", delivery.error or "")
                    out.append(replace(_skip(announcer, p, result=halted[0]), error=halted[1]))
                    continue
                out.append(_decided(announcer, p, delivery, rendered.length, limit, say))
                if delivery.stop_target:
                    stopped = (
                        f"stopped sending to {announcer.name} for this run after: {delivery.error}"
                    )
                    say(stopped)
                if breaker.open and paused is None:
                    paused = breaker.reason(announcer.name)
                    say(paused)
        return out, TargetRun(
            name=announcer.name, kind=announcer.kind, seconds=clock() - start, baseline=job.baseline
        )

    if not jobs:
        return [], []
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="announce") as pool:
        results = list(pool.map(run_target, jobs))
    decisions = [d for out, _ in results for d in out]
    return decisions, [run for _, run in results]


def _failed(announcer: Announcer, p: Planned, error: str) -> Decision:
    return Decision(
        post_id=p.post.id,
        target=announcer.name,
        kind=announcer.kind,
        reason=p.reason,
        result="failed",
        error=error,
    )


def _decided(
    announcer: Announcer,
    p: Planned,
    delivery: Delivery,
    length: int,
    limit: Any,
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
        say(
            f"{name}: announced {post_id}"
            + (f" ({receipt.remote_url})" if receipt and receipt.remote_url else "")
        )
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
