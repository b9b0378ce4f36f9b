"""The announce stage as the CLI runs it: config and build results in, a report out.

``publisher.announce`` holds the adapters, the ledger and the delivery rules; this module
only maps a :class:`~publisher.config.Config` (and the cards the build made) onto the
:class:`~publisher.announce.RunSettings` of ``run_announcements``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypedDict, Unpack

from publisher.announce import AnnounceReport, Card, RunSettings, run_announcements
from publisher.config import Config
from publisher.posts import Post

LEDGER_FILE = "announce.sqlite"


def ledger_path(config: Config) -> Path | str:
    """The SQLite ledger in the state folder, or the shared PostgreSQL URL (``state.ledger``)."""
    return config.ledger or config.state / LEDGER_FILE


def cards_from_manifest(config: Config) -> dict[str, Card]:
    """The cards the last build wrote (``og/manifest.json``), for announcements that attach them."""
    folder = config.cards.options.folder
    manifest = config.output / folder / "manifest.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    cards: dict[str, Card] = {}
    for post_id, entry in data.items() if isinstance(data, dict) else ():
        try:
            cards[post_id] = Card(
                url=str(entry["url"]),
                path=config.output / str(entry["image"]),
                alt=str(entry.get("alt") or ""),
                mime=str(entry.get("type") or "image/jpeg"),
            )
        except (KeyError, TypeError):
            continue
    return cards


class Choices(TypedDict, total=False):
    """The command line's choices for one run (see :class:`RunSettings` for each)."""

    backfill: int
    retry_in_doubt: bool
    only: Sequence[str]
    deadline: float | None


def announce_posts(
    config: Config,
    published: Sequence[Post],
    *,
    now: datetime,
    dry_run: bool,
    log: Callable[[str], None] | None = None,
    **choices: Unpack[Choices],
) -> AnnounceReport | None:
    """Announce new posts to every configured target; None when there is nothing to do.

    ``deadline``: seconds after which nothing more is sent (``--deadline``). SIGINT and
    SIGTERM end the run gracefully; ``report.interrupted`` says which came. The report
    says what the CLI's exit code needs: counts, in doubt, paused, every (post, target).
    """
    if not config.announce.enabled or not config.announce.targets:
        return None
    settings = RunSettings(
        ledger_path=ledger_path(config),
        now=now,
        root=config.root,
        dry_run=dry_run,
        live_wait=config.announce.live_wait,
        cards=cards_from_manifest(config) if config.cards.enabled else None,
        language=config.site.language,
        log=log,
        **choices,
    )
    return run_announcements(config.announce.targets, published, settings=settings)
