"""Which posts go to which target this run, and why: pure functions of posts, options and ledger.

"New" means first seen by this target's ledger after its baseline, whatever the post's
date says: a post merged weeks after the date in its front matter is announced like any
other. ``max_age`` therefore counts from the first attempt (the ledger's
``first_attempt_at``), not from the post's date: it gives up on a post that has failed or
stayed in doubt for that long, so a platform that comes back after a month does not get
a month of stale announcements.

Reasons (shown by dry runs and the report)::

    new       never announced to this target: send
    retry     failed before (or interrupted mid-send on a platform with an idempotency key): send again
    seen      already sent, or recorded in the baseline
    in_doubt  may already be on a platform without an idempotency key: not resent without --retry-in-doubt
    baseline  first run for this target: recorded as already published, not announced
    too_old   first tried more than the target's max_age ago and still not sent: given up
    over_cap  beyond the target's max_per_run; goes out on a later run
    filtered  excluded by the target's categories/tags/link_posts filters
    not_live  its page did not answer 200 yet; tried again next run (decided later, in run.py)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from publisher.announce.ledger import Entry
from publisher.posts.model import Post

Reason = Literal[
    "new", "retry", "seen", "in_doubt", "baseline", "too_old", "over_cap", "filtered", "not_live"
]
SENDING: frozenset[str] = frozenset({"new", "retry"})


@dataclass(frozen=True, kw_only=True)
class Planned:
    post: Post
    reason: Reason
    detail: str = ""

    @property
    def send(self) -> bool:
        return self.reason in SENDING


def _folded(values: Iterable[str]) -> set[str]:
    return {v.casefold() for v in values}


def filtered_out(post: Post, options: Mapping[str, Any]) -> str | None:
    """Why the target's filters exclude ``post``, or None if they let it through."""
    if post.is_link_post and not options.get("link_posts", True):
        return "link posts are excluded (link_posts: false)"
    categories, tags = _folded(post.categories), _folded(post.tags)
    wanted = _folded(options.get("categories") or [])
    if wanted and not wanted & categories:
        return "not in categories " + ", ".join(sorted(wanted))
    wanted = _folded(options.get("tags") or [])
    if wanted and not wanted & tags:
        return "has none of tags " + ", ".join(sorted(wanted))
    excluded = _folded(options.get("exclude_categories") or []) & categories
    if excluded:
        return "in excluded category " + ", ".join(sorted(excluded))
    excluded = _folded(options.get("exclude_tags") or []) & tags
    if excluded:
        return "has excluded tag " + ", ".join(sorted(excluded))
    return None


def _first_attempt(entry: Entry | None) -> datetime | None:
    if entry is None or not entry.first_attempt_at:
        return None
    started = datetime.fromisoformat(entry.first_attempt_at)
    return started if started.tzinfo is not None else started.replace(tzinfo=UTC)


def plan_target(
    posts: Sequence[Post],
    options: Mapping[str, Any],
    entries: Mapping[str, Entry],
    *,
    has_baseline: bool,
    idempotent: bool,
    now: datetime,
    backfill: int = 0,
    retry_in_doubt: bool = False,
) -> list[Planned]:
    """Decide every published post for one target, oldest first."""
    ordered = sorted(posts, key=lambda p: (p.date, p.id))
    if not has_baseline:
        eligible = [p for p in ordered if filtered_out(p, options) is None]
        chosen = {p.id for p in eligible[-backfill:]} if backfill > 0 else set()
        return [
            Planned(post=p, reason="new", detail=f"--backfill {backfill}")
            if p.id in chosen
            else Planned(
                post=p, reason="baseline", detail="published before this target's first run"
            )
            for p in ordered
        ]

    max_age = options.get("max_age")
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    oldest = aware - max_age if isinstance(max_age, timedelta) else None
    cap = options.get("max_per_run")
    planned: list[Planned] = []
    sending = 0
    for post in ordered:
        entry = entries.get(post.id)
        decision: Planned
        if entry is not None and entry.status in ("sent", "skipped"):
            decision = Planned(post=post, reason="seen", detail=entry.status)
        elif entry is not None and entry.status == "in_doubt" and not retry_in_doubt:
            decision = Planned(post=post, reason="in_doubt", detail=entry.error or "")
        elif (
            entry is not None
            and entry.status == "sending"
            and not idempotent
            and not retry_in_doubt
        ):
            decision = Planned(
                post=post, reason="in_doubt", detail="an earlier run stopped while sending it"
            )
        elif (why := filtered_out(post, options)) is not None:
            decision = Planned(post=post, reason="filtered", detail=why)
        elif oldest is not None and (started := _first_attempt(entry)) and started < oldest:
            decision = Planned(
                post=post,
                reason="too_old",
                detail=f"first tried {started.date().isoformat()}, more than max_age ago; "
                "given up (`publish state forget` to try again)",
            )
        else:
            reason: Reason = "new" if entry is None else "retry"
            if isinstance(cap, int) and sending >= cap:
                decision = Planned(post=post, reason="over_cap", detail=f"max_per_run is {cap}")
            else:
                decision = Planned(
                    post=post, reason=reason, detail=entry.error or "" if entry else ""
                )
                sending += 1
        planned.append(decision)
    return planned
