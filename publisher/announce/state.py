"""``publish state list|forget|mark-sent``: look at the ledger and repair it by hand."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

from publisher.announce.ledger import Entry, open_ledger
from publisher.announce.run import run_lock
from publisher.config import TargetConfig
from publisher.errors import StateError


def list_state(
    ledger_path: Path | str, *, target: str | None = None, post_id: str | None = None
) -> tuple[Entry, ...]:
    """Every ledger row (optionally of one target or one post), sorted by target then post."""
    with open_ledger(ledger_path, readonly=True) as ledger:
        return tuple(ledger.entries(target=target, post_id=post_id))


def forget(ledger_path: Path | str, post_id: str, *, target: str | None = None) -> int:
    """Drop the rows of ``post_id`` so the next run treats it as new (it may post again)."""
    with run_lock(ledger_path) or nullcontext(), open_ledger(ledger_path) as ledger:
        return ledger.forget(post_id, target)


def mark_sent(
    ledger_path: Path | str,
    post_id: str,
    targets: Sequence[TargetConfig],
    *,
    now: datetime,
    target: str | None = None,
) -> int:
    """Record ``post_id`` as sent to ``target`` (default: every configured target)."""
    chosen = [t for t in targets if target is None or t.name == target]
    if not chosen:
        names = ", ".join(t.name for t in targets) or "none configured"
        raise StateError(f"no target named {target!r}; configured targets: {names}")
    with run_lock(ledger_path) or nullcontext(), open_ledger(ledger_path) as ledger:
        for t in chosen:
            ledger.mark_sent(post_id, t.name, t.kind, now)
    return len(chosen)
