"""One target's work in one run, and what holds it back: pages (and card images) that are
not live yet, and the target's ``max_per_run``.

A post whose page is not live does not hold a place under ``max_per_run``, or a page that
never comes up would block every newer post.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import requests

from publisher.announce.contract import Announcer, Card
from publisher.announce.ledger import Entry
from publisher.announce.live import LiveCheck, PageCheck
from publisher.announce.plan import Planned, Reason
from publisher.posts.model import Post


@dataclass(frozen=True, kw_only=True)
class Job:
    """A target's plan for this run: each post, why, and the ledger rows the plan read."""

    announcer: Announcer
    planned: list[Planned]
    baseline: bool
    entries: dict[str, Entry]


def card_for(post: Post, cards: Mapping[str, Card] | None) -> Card | None:
    """The card the build made for ``post``, else the image its front matter names."""
    if cards is not None and post.id in cards:
        return cards[post.id]
    if post.og_image_url:
        return Card(url=post.og_image_url, alt=post.title)
    return None


def _same_host(url: str, page_url: str) -> bool:
    """Whether ``url`` is on the site's own host. Only such a card image is waited for: a
    post's ogImageUrl elsewhere names a host the post chose, which a run (a pull request's
    dry run included) must not be made to contact, and which no deploy of ours changes."""
    try:
        return urlsplit(url).netloc.lower() == urlsplit(page_url).netloc.lower()
    except ValueError:
        return False


def _urls_to_check(jobs: Sequence[Job], cards: Mapping[str, Card] | None) -> dict[str, list[str]]:
    """Post id -> the URLs that must answer before it is announced."""
    urls: dict[str, list[str]] = {}
    for job in jobs:
        if not job.announcer.config.get("require_live", True):
            continue
        for p in job.planned:
            if (p.send or p.reason == "over_cap") and not p.post.is_link_post:
                card = card_for(p.post, cards)
                own = card is not None and _same_host(card.url, p.post.page_url)
                urls[p.post.id] = [p.post.page_url] + ([card.url] if card and own else [])
    return urls


def check_live(
    jobs: Sequence[Job],
    cards: Mapping[str, Card] | None,
    check: LiveCheck | None,
    make_check: Callable[[], PageCheck],
    say: Callable[[str], None],
) -> set[str]:
    """Post ids whose page (or card image) is not live yet.

    ``check``: the caller's own check (tests, the preview); else ``make_check()`` builds one.
    """
    urls = _urls_to_check(jobs, cards)
    if not urls:
        return set()
    answers = (check or make_check())(sorted({u for group in urls.values() for u in group}))
    missing = {
        post_id for post_id, group in urls.items() if not all(answers.get(u, False) for u in group)
    }
    for post_id in sorted(missing):
        say(f"{post_id}: its page is not live yet; it will be announced on a later run")
    return missing


def page_check(
    session_factory: Callable[[], requests.Session],
    wait: float,
    nap: Callable[[float], None],
    stopped: Callable[[], bool],
) -> Callable[[], PageCheck]:
    """A PageCheck that naps as the run does and stops waiting when the run stops."""
    return lambda: PageCheck(session_factory, wait=wait, sleep=nap, stopped=stopped)


def blocked(announcer: Announcer, p: Planned, not_live: set[str]) -> bool:
    """Is this post held back because its page is not live (and the target needs it)?"""
    return (
        p.post.id in not_live
        and bool(announcer.config.get("require_live", True))
        and not p.post.is_link_post
    )


def cap_live(job: Job, not_live: set[str]) -> Job:
    """Spend ``max_per_run`` on posts that can go now (see the module docstring)."""
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
        if blocked(job.announcer, p, not_live):
            planned.append(p)  # reported not_live when the target's posts are decided
        elif sending < cap:
            sending += 1
            planned.append(p)
        else:
            planned.append(replace(p, reason="over_cap", detail=f"max_per_run is {cap}"))
    return replace(job, planned=planned)
