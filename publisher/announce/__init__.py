"""Announcements: tell Slack, Discord, Teams, Mastodon, Bluesky, Telegram, Matrix, webhooks
and a local outbox about each new post, exactly once.

One small module per idea::

    contract.py   Announcer (the adapter contract), Announcement, Receipt, TextLimit, DeliveryError
    registry.py   kind -> adapter class, through the ``publisher.announcers`` entry points
    adapters/     one module per platform
    options.py    parse_target_options: one announce.targets[i] of config.yaml
    text.py       counting as each platform counts (graphemes, bytes, UTF-16, URLs as 23)
    render.py     jinja2 templates (templates/announce/<kind>.j2) within the budget
    plan.py       which posts each target gets, and why (new, seen, baseline, too_old...)
    live.py       is the page live yet?
    ledger/       the ledger (SQLite file or PostgreSQL, the same SQL) and the run lock
    deliver.py    one send: ledger first, retries, backoff, read-back, breaker, in_doubt
    redact.py     secrets out of every log line, error, report and row
    run.py        run_announcements: the stage function
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
from publisher.announce.deliver import RetryPolicy
from publisher.announce.ledger import Entry, Ledger, RunLock
from publisher.announce.live import PageCheck
from publisher.announce.options import parse_target_options
from publisher.announce.redact import github_masks, redact, register_secret
from publisher.announce.registry import announcer_class, kinds
from publisher.announce.report import AnnounceReport, Decision, TargetRun
from publisher.announce.run import run_announcements
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
