"""The build stage: posts in, output files out.

Writes the Open Graph cards (``publisher.cards``), the feeds (``publisher.feeds``) and
``posts.json``, an index of the published posts. Everything it writes goes through
:class:`OutputWriter`, and the files an earlier build wrote that this one no longer
produces (a withdrawn post's card and page, the feed of a tag no post has any more, a
card superseded by a new content hash) are deleted through it (``outputs.json`` in the
state folder lists what the last build wrote).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from functools import partial
from pathlib import Path

from publisher import inputs
from publisher.config import Config
from publisher.dataclass import dataclass
from publisher.errors import Problem
from publisher.exiting import keep_frame
from publisher.output import OutputWriter, Write
from publisher.writes import cards_of, write_outputs

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

# The stages are imported where they run: a build with nothing changed (see inputs.py)
# stats its inputs and stops, and loads none of them.
if TYPE_CHECKING:
    from typing import Any

    from publisher.cards import CardsResult
    from publisher.feeds.early import EarlyItems
    from publisher.feeds.websub import FetchSession
    from publisher.incremental.reading import SiteRead
    from publisher.posts import Post, Progress, ReadResult
    from publisher.posts.workers import Crew

INDEX_FILE = "posts.json"  # see index.py
#: In the state folder: every file the last build wrote, with its hash (see output.py).
MANIFEST_FILE = "outputs.json"


@dataclass(frozen=True, kw_only=True)
class BuildResult:
    read: ReadResult
    #: Tuples, or for a build that read only the changed posts, sequences whose posts are
    #: made when looked at (``publisher/incremental/lazy.py``).
    published: Sequence[Post]
    drafts: Sequence[Post]
    scheduled: Sequence[Post]
    writes: tuple[Write, ...]
    problems: tuple[Problem, ...] = ()
    cards: CardsResult | None = None
    #: Output files an earlier build wrote and this one no longer does: deleted (in a dry
    #: run, would be).
    deleted: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """A post had errors and was skipped (exit 3: see publisher/report.py)."""
        return bool(self.read.errors) or any(p.severity == "error" for p in self.problems)

    @property
    def changed(self) -> bool:
        """An output file was (in a dry run, would be) written or deleted."""
        return any(w.status != "unchanged" for w in self.writes) or bool(self.deleted)


#: Makes a progress callback for ``total`` steps of work called ``label`` (or None).
ProgressFactory = Callable[[int, str], AbstractContextManager["Progress | None"]]


def no_progress(total: int, label: str) -> AbstractContextManager[Progress | None]:
    return nullcontext(None)


def split_by_status(read: ReadResult, now: datetime) -> tuple[tuple[Post, ...], ...]:
    """(published, drafts, scheduled) as of ``now``."""
    drafts = tuple(p for p in read.posts if p.draft)
    scheduled = tuple(p for p in read.posts if not p.draft and p.date > now)
    return read.published(now), drafts, scheduled


def load_posts(
    config: Config,
    *,
    readonly: bool,
    jobs: int | None = None,
    progress: Progress | None = None,
    files: list[Path] | None = None,
    crew: Crew | None = None,
    later: list[Callable[[], None]] | None = None,
) -> ReadResult:
    """Every post read (``crew``: where a parallel read leaves its worker processes).
    ``later``: where the post cache's last commit is left to be waited for, then the
    cache closed, by the caller (:func:`_settle`), once the read went well."""
    from publisher.posts import read_posts
    from publisher.posts.cache import PostCache

    cache = PostCache(config.cache_file, readonly=readonly)
    ahead = None if readonly else _early_items(config)
    pending: list[Callable[[], None]] = []
    try:
        read = read_posts(
            config,
            cache=cache,
            jobs=jobs,
            progress=progress,
            files=files,
            ahead=ahead,
            leave=(crew, pending),
        )
    except BaseException:
        _settle(pending)
        cache.close()
        raise
    finally:
        if ahead is not None:
            ahead.close()
    pending.append(cache.close)
    if later is None:
        _settle(pending)
    else:
        later.extend(pending)
    return read


def _settle(later: list[Callable[[], None]]) -> None:
    """Run (and take out) what was left for later, in order, each even if one before failed."""
    try:
        while later:
            later.pop(0)()
    finally:
        if later:
            _settle(later)


def _early_items(config: Config) -> EarlyItems | None:
    """What renders the feed items of the posts a parallel read parses, in its workers
    (``feeds/early.py``); None when the feeds are off or a format has no cache column."""
    if not config.feeds.enabled:
        return None
    from publisher.feeds.cache import KINDS
    from publisher.feeds.early import EarlyItems

    if not set(config.feeds.options.formats) <= set(KINDS):
        return None
    from publisher.feeds.cache import CACHE_FILE
    from publisher.posts.workers import held

    if held(config.state / CACHE_FILE):
        # Another build holds the feed cache: each worker, then this process, would wait
        # for it (10 s) before giving its items up; the feed stage renders them instead,
        # and waits once.
        return None
    return EarlyItems(config)


def unchanged_build(config: Config, now: datetime) -> tuple[inputs.Snapshot, inputs.Summary | None]:
    """The no-op fast path's stat pass: (the inputs' snapshot, to pass to
    :func:`build_site`; what the last build reported, when a build now would change
    nothing at all, else None)."""
    snapshot, last = inputs.unchanged(config, now)
    return snapshot, last.summary if last is not None else None


def build_site(
    config: Config,
    *,
    now: datetime,
    dry_run: bool = False,
    jobs: int | None = None,
    progress: ProgressFactory = no_progress,
    snapshot: inputs.Snapshot | None = None,
) -> BuildResult:
    """Read the posts and write every output file; in a dry run, write nothing.

    A real build records its inputs (``snapshot``, from :func:`unchanged_build`, or taken
    now) for the next build's fast path. Given a ``snapshot`` (``publish build``), a real
    build reads only the posts that changed since the last when it can
    (``publisher/incremental``): its posts are then made only when looked at.
    """
    from publisher.posts.workers import Crew

    crew = Crew()
    try:
        return _build(config, now=now, dry_run=dry_run, crew=crew, how=(jobs, progress, snapshot))
    finally:
        crew.close()


def _build(
    config: Config,
    *,
    now: datetime,
    dry_run: bool,
    crew: Crew,
    how: tuple[int | None, ProgressFactory, inputs.Snapshot | None],
) -> BuildResult:
    """:func:`build_site`; the worker processes a parallel read starts stay in ``crew``
    and write the feed files that are written whole (a cold build's)."""
    from publisher.incremental.reading import read_site

    keep_frame()  # the site read, not freed on return (exiting.py)
    jobs, progress, snapshot = how
    handed = snapshot is not None
    if snapshot is None and not dry_run:
        snapshot = inputs.take_snapshot(config)
    # The post cache's last commit (a synced one) is waited for once the feed files are
    # handed over, not before the rules across posts end: those take less than it now
    # (issue 12), and the read's workers wait for that hand-over.
    later: list[Callable[[], None]] = []
    try:
        site = read_site(
            config,
            now=now,
            snapshot=snapshot,
            quick=handed,
            how=(dry_run, jobs, progress),
            load=partial(load_posts, crew=crew, later=later),
        )
        if dry_run or config.cards.enabled or not config.feeds.enabled:
            # Nothing for the read workers to write, or cards to draw first (their own
            # pool, forked with no thread here): the workers would only sit on their memory.
            crew.close()
            _settle(later)
        return _write(config, site, crew, (dry_run, jobs, progress), (snapshot, later))
    finally:
        _settle(later)


def _write(
    config: Config,
    site: SiteRead,
    crew: Crew,
    how: tuple[bool, int | None, ProgressFactory],
    more: tuple[inputs.Snapshot | None, list[Callable[[], None]]],
) -> BuildResult:
    """:func:`_build` once the posts are read: the outputs written and the inputs
    recorded (``more``: the snapshot, and what the read left for later, run before the
    record)."""
    dry_run, jobs, progress = how
    snapshot, later = more
    read, published, drafts, scheduled = site.read, site.published, site.drafts, site.scheduled
    writer = OutputWriter(
        config.output, dry_run=dry_run, manifest=config.state / MANIFEST_FILE, overlap=True
    )
    # The site table is kept while the read workers write a cold build's feed files;
    # else after the outputs (it does not depend on them: a build killed in between
    # leaves a table that the posts on disk still match, and outputs the next build
    # writes from it).
    keep = [site.keep] if snapshot is not None and not dry_run else []
    try:
        plan = (site.entries, site.index_keys)
        problems, cards = write_outputs(
            config, published, writer, (dry_run, jobs, progress), (plan, crew, keep, site.begin)
        )
        _settle(later)
    except BaseException:
        # What was written before the error is still ours to delete one day.
        writer.remember(config.state / MANIFEST_FILE)
        raise
    undecided = cards_of(config, published) if dry_run and config.cards.enabled else None
    swept = writer.sweep(config.state / MANIFEST_FILE, undecided=undecided)
    problems.extend(swept.problems)
    if snapshot is not None and not dry_run:
        inputs.record(
            config.state,
            config,
            snapshot,
            outputs=[w.path for w in writer.writes],
            live_from=site.live[0],
            live_until=site.live[1],
            summary=inputs.Summary(
                files=read.files,
                published=len(published),
                drafts=len(drafts),
                scheduled=len(scheduled),
                skipped=read.files - len(read.posts),
                problems=(*read.problems, *problems),
            ),
            elsewhere=read.elsewhere,
        )
        for kept in keep:
            kept()
    return BuildResult(
        read=read,
        published=published,
        drafts=drafts,
        scheduled=scheduled,
        writes=tuple(writer.writes),
        problems=tuple(problems),
        cards=cards,
        deleted=swept.deleted,
    )


def output_feeds(
    config: Config, published: tuple[Post, ...], *, dry_run: bool = True
) -> dict[str, bytes]:
    """Every feed file; the feed cache in the state folder is only written by a real build."""
    from publisher.feeds import build_feeds

    return build_feeds(
        config.site, published, config.feeds.options, cache_dir=config.state, readonly=dry_run
    )


def ping_pending_feeds(
    config: Config,
    *,
    dry_run: bool,
    session_factory: Callable[[], FetchSession] | None = None,
) -> list[str]:
    """The announce stage's WebSub step: ping the hub for changed feeds that are live now.

    Returns the lines to show. A refusal or an unreachable hub is a warning: the feeds
    stay pending (in the state folder) and the next run tries again.
    """
    from publisher.feeds.websub import LiveCheck, send_pending

    hub = config.feeds.options.hub
    if hub is None or not config.feeds.enabled:
        return []
    if session_factory is None:
        import requests  # only here: a build without a hub never loads it

        session_factory = requests.Session
    report = send_pending(
        config.state,
        hub,
        config.output,
        session_factory=session_factory,
        dry_run=dry_run,
        check=LiveCheck(wait=config.announce.live_wait),
    )
    return report.lines(dry_run=dry_run) if report is not None else []


def lint_feeds(config: Config, published: tuple[Post, ...]) -> list[Problem]:
    """What `publish check` says of the feeds this build would write."""
    from publisher.feeds import feed_url, lint_feed

    if not config.feeds.enabled:
        return []
    return [
        Problem(file=path, field=None, message=message, fix=None, severity="error")
        for path, data in output_feeds(config, published).items()
        for message in lint_feed(path, data, feed_url(config.site, path))
    ]


def post_summary(post: Post) -> dict[str, Any]:
    """The JSON form of a post used by the index and the --json report (index.py)."""
    from publisher.index import post_summary as summary

    return summary(post)
