"""``publish state list|forget|mark-sent``: look at the ledger and repair it by hand."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.announce.ledger import Entry, open_ledger
from publisher.announce.run import run_lock
from publisher.errors import StateError

if TYPE_CHECKING:
    # Annotations only: config loads announce's option checks, never the reverse.
    from publisher.config import TargetConfig


def list_state(
    ledger_path: Path | str, *, target: str | None = None, post_id: str | None = None
) -> tuple[Entry, ...]:
    """Every ledger row (optionally of one target or one post), sorted by target then post."""
    with open_ledger(ledger_path, readonly=True) as ledger:
        return tuple(ledger.entries(target=target, post_id=post_id))


def forget(ledger_path: Path | str, post_id: str, *, target: str | None = None) -> int:
    """Drop the rows of ``post_id`` so the next run treats it as new (it may post again).

    Raises StateError when the ledger has no such row: a mistyped id must not look done.
    """
    with run_lock(ledger_path) or nullcontext(), open_ledger(ledger_path) as ledger:
        removed = ledger.forget(post_id, target)
        if removed:
            return removed
        known = sorted({e.target for e in ledger.entries()})
        rows = ledger.entries(post_id=post_id)
    if target is not None and target not in known:
        raise StateError(
            f"{ledger_path}: the ledger has no target named {target!r} (it knows: "
            f"{', '.join(known) or 'none yet'}); nothing was forgotten"
        )
    where = f" for target {target!r}" if target is not None and rows else ""
    raise StateError(
        f"{ledger_path}: the ledger has no row of post {post_id!r}{where}; nothing was "
        "forgotten. `publish state list` shows the post ids it knows"
    )


def mark_sent(
    ledger_path: Path | str,
    post_id: str,
    targets: Sequence[TargetConfig],
    *,
    now: datetime,
    target: str | None = None,
    known_posts: Collection[str] | None = None,
) -> int:
    """Record ``post_id`` as sent to ``target`` (default: every configured target).

    ``known_posts``: the ids of the posts there are; a post id not among them is refused
    (a mistyped id would otherwise be recorded and never match a post).
    """
    chosen = [t for t in targets if target is None or t.name == target]
    if not chosen:
        names = ", ".join(t.name for t in targets) or "none configured"
        raise StateError(f"no target named {target!r}; configured targets: {names}")
    if known_posts is not None and post_id not in known_posts:
        near = difflib.get_close_matches(post_id, list(known_posts), n=3)
        hint = f"did you mean {', '.join(near)}?" if near else "post ids are the post folder names"
        raise StateError(f"no post with id {post_id!r}; nothing was marked ({hint})")
    with run_lock(ledger_path) or nullcontext(), open_ledger(ledger_path) as ledger:
        for t in chosen:
            ledger.mark_sent(post_id, t.name, t.kind, now)
    return len(chosen)
