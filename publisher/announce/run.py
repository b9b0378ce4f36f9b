"""``run_announcements``: the stage function under ``publish announce``.

posts + targets + ledger -> plan per target -> page-live check -> send, one thread per
target (a rate-limited or failing target holds up no other) -> :class:`AnnounceReport`.
A dry run opens the ledger read-only, makes no write call and returns each payload.
What the run does is one frozen :class:`RunSettings`; the report it returns is all a
caller (the CLI, the preview, a test) needs to decide an exit code.

Stopping early never loses or doubles anything: on SIGINT/SIGTERM, when the run's
``deadline`` passes, or when a target's circuit breaker opens, the request in flight is
finished and its row written, nothing more is sent, and each post not tried is reported
(``interrupted``, ``deadline``, ``paused``) with its ledger row left as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from publisher.announce.contract import Announcer, Card
from publisher.announce.jobs import Job, cap_live, check_live, page_check
from publisher.announce.ledger import LedgerStore, RunLock, is_database_url, open_ledger
from publisher.announce.live import LiveCheck
from publisher.announce.plan import plan_target
from publisher.announce.redact import redact, register_secret
from publisher.announce.registry import announcer_class
from publisher.announce.report import AnnounceReport, Decision, TargetRun
from publisher.announce.retry import RetryPolicy
from publisher.announce.send import Sending, dry_run, send_all
from publisher.announce.stop import Stop, stop_on_signals
from publisher.posts.model import Post
from publisher.secret import Secret

if TYPE_CHECKING:
    # Annotations only: config loads announce's option checks, never the reverse.
    from publisher.config import TargetConfig

Log = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """What one announce run does; see docs/announce.md.

    ``ledger_path``: a SQLite file (runs take turns through its lock file) or a
    ``postgresql://`` URL (runs on many hosts share it; each send is claimed).
    ``only``: target names to run (default: all). ``backfill``: on a target's first run,
    announce its newest N posts instead of recording all as the baseline.
    ``state_dir``: where adapters keep sessions (default: the ledger file's folder).
    ``deadline``: seconds from the start after which nothing more is sent (a target's
    ``deadline`` option can make its own shorter). ``handle_signals``: SIGINT/SIGTERM stop
    the run gracefully (``report.interrupted``) instead of raising, when on the main thread.

    The last five fields are the run's contact with the world, replaced in tests and by
    the preview: ``session_factory`` (HTTP), ``live_check`` (is a page up?), ``log``,
    ``sleep`` (how waits are made; by default they end early on a signal) and ``clock``.
    """

    ledger_path: Path | str
    now: datetime
    root: Path | None = None
    state_dir: Path | None = None
    dry_run: bool = False
    backfill: int = 0
    retry_in_doubt: bool = False
    only: Sequence[str] = ()
    live_wait: float = 0.0
    cards: Mapping[str, Card] | None = None
    language: str | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    lock_wait: float = 0.0
    deadline: float | None = None
    handle_signals: bool = True
    session_factory: Callable[[], requests.Session] = requests.Session
    live_check: LiveCheck | None = None
    log: Log | None = None
    sleep: Callable[[float], None] | None = None
    clock: Callable[[], float] = time.monotonic


def lock_path(ledger_path: Path) -> Path:
    return ledger_path.with_name(ledger_path.name + ".lock")


def run_lock(location: Path | str) -> RunLock | None:
    """The run lock of a ledger file; None for a database, where each send is claimed instead."""
    return None if is_database_url(location) else RunLock(lock_path(Path(location)))


def build_announcers(
    targets: Sequence[TargetConfig], *, root: Path, state_dir: Path
) -> list[Announcer]:
    """One adapter per configured target (options as ``parse_target_options`` made them)."""
    announcers = []
    for target in targets:
        for value in target.options.values():
            if isinstance(value, Secret):  # hidden from every line, whoever built the target
                register_secret(value.value)
        cls = announcer_class(target.kind)
        announcers.append(cls(target.name, target.options, root=root, state_dir=state_dir))
    return announcers


def run_announcements(
    targets: Sequence[TargetConfig], posts: Sequence[Post], *, settings: RunSettings
) -> AnnounceReport:
    """Announce every new published post to every target; see docs/announce.md.

    ``posts``: the published posts (drafts and future posts are ignored anyway).
    Raises StateError when another run holds the lock or the ledger cannot be opened.
    """
    s = settings
    started = s.clock()
    stop = Stop(clock=s.clock, started=started, deadline=s.deadline, sleep=s.sleep)
    log = s.log
    say: Log = (lambda text: log(redact(text))) if log else (lambda text: None)
    root = s.root or Path.cwd()
    state_dir = s.state_dir
    if state_dir is None:
        by_url = is_database_url(s.ledger_path)
        state_dir = root / ".publisher" if by_url else Path(s.ledger_path).parent
    chosen = [t for t in targets if not s.only or t.name in s.only]
    announcers = build_announcers(chosen, root=root, state_dir=state_dir)
    published = [p for p in posts if p.is_live(s.now)]
    lock = None if s.dry_run else run_lock(s.ledger_path)
    if lock is not None:
        lock.acquire(wait=s.lock_wait)
    signals: AbstractContextManager[None] = (
        stop_on_signals(stop) if s.handle_signals and not s.dry_run else nullcontext()
    )
    try:
        with signals, open_ledger(s.ledger_path, readonly=s.dry_run) as ledger:
            decisions, runs = _run(announcers, published, ledger, s, stop, say)
    finally:
        if lock is not None:
            lock.release()
    report = AnnounceReport(
        dry_run=s.dry_run,
        decisions=tuple(decisions),
        targets=tuple(runs),
        wall_seconds=s.clock() - started,
        interrupted=stop.signal,
    )
    say(report.summary())
    return report


def _run(
    announcers: Sequence[Announcer],
    published: Sequence[Post],
    ledger: LedgerStore,
    s: RunSettings,
    stop: Stop,
    say: Log,
) -> tuple[list[Decision], list[TargetRun]]:
    """Plan, wait for live pages, then send (or, in a dry run, render)."""
    jobs = [_plan(a, published, ledger, s, say) for a in announcers]
    make_check = page_check(
        s.session_factory, s.live_wait, stop.nap, lambda: stop.signal is not None
    )
    not_live = check_live(jobs, s.cards, s.live_check, make_check, say)
    jobs = [cap_live(job, not_live) for job in jobs]
    if s.dry_run:
        return dry_run(jobs, not_live, s.cards, s.language, s.now)
    sending = Sending(
        ledger=ledger,
        not_live=not_live,
        cards=s.cards,
        language=s.language,
        now=s.now,
        session_factory=s.session_factory,
        policy=s.policy,
        say=say,
        stop=stop,
        clock=s.clock,
        retry_in_doubt=s.retry_in_doubt,
    )
    return send_all(jobs, sending)


def _plan(
    announcer: Announcer,
    published: Sequence[Post],
    ledger: LedgerStore,
    s: RunSettings,
    say: Log,
) -> Job:
    """One target's plan; a real run also records its baseline and interrupted rows."""
    entries = ledger.for_target(announcer.name)
    has_baseline = ledger.baseline_at(announcer.name) is not None
    planned = plan_target(
        published,
        announcer.config,
        entries,
        has_baseline=has_baseline,
        idempotent=announcer.idempotent,
        now=s.now,
        backfill=s.backfill or int(announcer.config.get("backfill") or 0),
        retry_in_doubt=s.retry_in_doubt,
    )
    if not s.dry_run:
        if not has_baseline:
            skipped = [p.post.id for p in planned if p.reason == "baseline"]
            ledger.record_baseline(announcer.name, announcer.kind, skipped, s.now)
            say(
                f"{announcer.name}: first run: {len(skipped)} existing posts recorded as "
                "already published, not announced"
            )
        for p in planned:
            entry = entries.get(p.post.id)
            if p.reason == "in_doubt" and entry is not None and entry.status == "sending":
                ledger.mark_interrupted(
                    p.post.id,
                    announcer.name,
                    "an earlier run stopped while sending it; it may have been posted",
                )
    return Job(announcer=announcer, planned=planned, baseline=not has_baseline, entries=entries)
