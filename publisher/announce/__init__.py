"""Announcements: tell Slack, Discord, Teams, Mastodon, Bluesky, Telegram, Matrix, webhooks
and a local outbox about each new post, exactly once.

One small module per idea::

    contract.py   Announcer (the adapter contract), Announcement, Receipt, TextLimit, DeliveryError
    registry.py   kind -> adapter class, through the ``publisher.announcers`` entry points
    adapters/     one module per platform, each declaring its limits, options and link preview
    linkpreview.py  how a platform shows a shared link (declared by adapters, drawn by preview/)
    options.py    parse_target_options: one announce.targets[i] of config.yaml
    text.py       counting as each platform counts (graphemes, bytes, UTF-16, URLs as 23)
    render.py     jinja2 templates (templates/announce/<kind>.j2) within the budget
    plan.py       which posts each target gets, and why (new, seen, baseline, too_old...)
    live.py       is the page live yet?
    ledger/       the ledger (SQLite file or PostgreSQL, the same SQL) and the run lock
    jobs.py       each target's work this run, held back by pages not yet live and max_per_run
    send.py       each target's posts decided and sent (a dry run: rendered), a thread each
    deliver.py    one send: ledger first, retries, backoff, read-back, in_doubt
    retry.py      how hard to try: retry policy, circuit breaker, pacing, idempotency keys
    doubt.py      did an earlier attempt arrive? the rules for unconfirmed rows
    stop.py       stopping early on a signal or a deadline, losing and doubling nothing
    redact.py     secrets out of every log line, error, report and row
    report.py     what a run decided and did: the result the CLI maps to exit codes
    run.py        run_announcements(targets, posts, settings=RunSettings(...)): the stage
    state.py      publish state list|forget|mark-sent
"""

from publisher.announce.contract import (
    Announcement,
    Announcer,
    Card,
    DeliveryError,
    ReadBackUnavailable,
    Receipt,
    SetupError,
    TextLimit,
)
from publisher.announce.ledger import Entry, Ledger, RunLock
from publisher.announce.live import PageCheck
from publisher.announce.options import parse_target_options
from publisher.announce.redact import github_masks, redact, register_secret
from publisher.announce.registry import announcer_class, kinds
from publisher.announce.report import AnnounceReport, Decision, TargetRun
from publisher.announce.retry import RetryPolicy
from publisher.announce.run import RunSettings, run_announcements
from publisher.announce.state import forget, list_state, mark_sent

__all__ = [
    "AnnounceReport",
    "Announcement",
    "Announcer",
    "Card",
    "Decision",
    "DeliveryError",
    "Entry",
    "Ledger",
    "PageCheck",
    "ReadBackUnavailable",
    "Receipt",
    "RetryPolicy",
    "RunLock",
    "RunSettings",
    "SetupError",
    "TargetRun",
    "TextLimit",
    "announcer_class",
    "forget",
    "github_masks",
    "kinds",
    "list_state",
    "mark_sent",
    "parse_target_options",
    "redact",
    "register_secret",
    "run_announcements",
]
