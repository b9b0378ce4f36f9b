"""``publish check``: every validation ``build`` and ``announce`` would run, with nothing
written or sent.

config (validated by ``load_config``: templates included) -> read posts -> each step of
:data:`STEPS` -> problems. A step takes the :class:`CheckInput` and returns problems; a
later stage's own validation is added here as one more step, so that ``check``, the pull
request gate, never passes what ``build`` or ``announce`` would then refuse. A step that
finds the config itself unusable (a card layout that does not exist) raises ConfigError,
which every command turns into exit 2; problems in posts are returned (exit 3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from publisher.announce.contract import Announcer
from publisher.announce.render import render_message
from publisher.announce.run import build_announcers
from publisher.build import (
    ProgressFactory,
    lint_feeds,
    load_posts,
    no_progress,
    split_by_status,
)
from publisher.cards.check import check_cards as render_checks
from publisher.config import Config
from publisher.errors import AnnounceError, Problem
from publisher.posts import Post, ReadResult, display_path
from publisher.progress import READING


@dataclass(frozen=True, kw_only=True)
class CheckInput:
    """What every step sees: the validated config and the posts as ``build`` reads them."""

    config: Config
    now: datetime
    read: ReadResult
    published: tuple[Post, ...]


#: One validation: problems found in the config and the posts; never writes or sends.
Step = Callable[[CheckInput], Iterable[Problem]]


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    read: ReadResult
    published: tuple[Post, ...]
    drafts: tuple[Post, ...]
    scheduled: tuple[Post, ...]
    #: Every problem beyond the ones reading the posts found (``read.problems``).
    problems: tuple[Problem, ...]

    @property
    def every(self) -> tuple[Problem, ...]:
        return (*self.read.problems, *self.problems)

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.every)


def check_feeds(given: CheckInput) -> list[Problem]:
    """The feeds ``build`` would write, linted (well-formed, valid, links absolute)."""
    return lint_feeds(given.config, given.published)


def check_cards(given: CheckInput) -> list[Problem]:
    """What the cards stage would refuse (fonts, logo, layouts, ogLayout, image formats,
    sizes, pixel bombs, remote URL schemes), judged from headers: nothing is decoded or
    fetched."""
    config = given.config
    if not config.cards.enabled:
        return []
    return render_checks(
        config.cards.options,
        given.published,
        root=config.root,
        config_file=display_path(config.source, config.root),
    )


def check_announcements(given: CheckInput) -> list[Problem]:
    """Each target's message for each published post, rendered as ``announce`` would.

    Every published post, not only the ones the ledger says are new: ``--backfill`` or a
    forgotten ledger row can announce any of them. Finds what only shows when a template
    meets a post: a sandbox violation, a variable a post lacks, a message that cannot fit.
    A template that fails the same way for many posts is one problem, not one per post.
    """
    config = given.config
    if not config.announce.enabled or not config.announce.targets:
        return []
    announcers = build_announcers(config.announce.targets, root=config.root, state_dir=config.state)
    problems: list[Problem] = []
    for index, announcer in enumerate(announcers):
        failed: dict[str, list[tuple[Post, str]]] = {}
        for post in given.published:
            reason = _render_failure(announcer, post)
            if reason is not None:
                same = reason.removeprefix(f"post {post.id}: ")
                failed.setdefault(same, []).append((post, reason))
        for posts in failed.values():
            post, reason = posts[0]
            more = f" (and {len(posts) - 1} more posts)" if len(posts) > 1 else ""
            problems.append(
                Problem(
                    file=display_path(post.source, config.root),
                    field=f"announce.targets[{index}] ({announcer.name})",
                    message=reason + more,
                )
            )
    return problems


def _render_failure(announcer: Announcer, post: Post) -> str | None:
    """Why ``announce`` would fail to render ``post`` for ``announcer``, or None."""
    template = announcer.config.get("template")
    try:
        render_message(
            announcer,
            post,
            announcer.text_limit(None),
            template=str(template) if template else None,
        )
    except AnnounceError as exc:
        return exc.reason
    return None


#: The validations ``check`` runs after reading the posts, in order.
STEPS: tuple[Step, ...] = (check_feeds, check_cards, check_announcements)


def run_checks(
    config: Config,
    *,
    now: datetime,
    jobs: int | None = None,
    steps: Sequence[Step] = STEPS,
    progress: ProgressFactory = no_progress,
) -> CheckResult:
    """Read the posts (the cache is only read) and run every step; write nothing."""
    files = len(list(config.posts.folder.glob(config.posts.glob)))
    with progress(files, READING) as bar:
        read = load_posts(config, readonly=True, jobs=jobs, progress=bar)
    published, drafts, scheduled = split_by_status(read, now)
    given = CheckInput(config=config, now=now, read=read, published=published)
    with progress(0, "checking"):
        problems = tuple(problem for step in steps for problem in step(given))
    return CheckResult(
        read=read,
        published=published,
        drafts=drafts,
        scheduled=scheduled,
        problems=problems,
    )
