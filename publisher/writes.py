"""The write stage of a build (``build.py``): the cards, the feeds and ``posts.json``,
through one :class:`~publisher.output.OutputWriter`.

The feed files a cold build writes whole are made by the read's worker processes
(``feeds/parallel.py``) while this process writes ``posts.json`` and keeps the site table;
each is put in place in the order a serial build writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from publisher.config import Config
from publisher.errors import Problem
from publisher.output import OutputWriter
from publisher.progress import FEEDS, RENDERING

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.build import ProgressFactory
    from publisher.cards import CardsResult
    from publisher.feeds.plan import FeedEntry
    from publisher.feeds.splice import FeedWrites
    from publisher.index import IndexWrite
    from publisher.posts import Post
    from publisher.posts.workers import Crew
    from publisher.splicing import LayoutStore

    #: Each published post's feed entry and ``posts.json`` key, when the read has them.
    Planned = tuple[list[FeedEntry] | None, list[str] | None]
    Entries = list[FeedEntry] | None


def write_outputs(
    config: Config,
    published: Sequence[Post],
    writer: OutputWriter,
    how: tuple[bool, int | None, ProgressFactory],
    plan: tuple[Planned, Crew | None, list[Callable[[], None]], Callable[[], None]],
) -> tuple[list[Problem], CardsResult | None]:
    """The cards, the feeds and ``posts.json``. ``plan``: what the read has for the
    feeds and the index, the read's workers, work to run (then taken out of the list)
    while those workers write feed files, if they do, and what starts that work in a
    thread of this process instead (when they do not)."""
    problems: list[Problem] = []
    cards: CardsResult | None = None
    from publisher.index import start_index
    from publisher.splicing import LAYOUTS_FILE, LayoutStore

    (entries, index_keys), crew, meanwhile, begin = plan
    dry_run = how[0]
    if crew is None or crew.pool is None:
        begin()  # a thread does it while this process writes everything
    layouts = LayoutStore(config.state / LAYOUTS_FILE, readonly=dry_run)
    try:
        cards = _write_cards(config, published, writer, how)
        if cards is not None:
            problems.extend(cards.problems)
        feeds = _start_feeds(config, published, writer, (layouts, how, entries, crew))
        if feeds is None or not feeds.busy:
            begin()
        # While the read workers write the feed files (a cold build's), posts.json and
        # the work in ``meanwhile`` here, not by a thread: one competing for this
        # process's interpreter lock slowed everything before the files were handed to
        # the workers (0.1 to 0.2 s at 10,000 posts), and then their hand-over (issue 12).
        # Only posts.json's write and sync go to a thread (they wait on the disk, which
        # the workers keep busy), put in place after the feed files, as a serial build.
        index: IndexWrite | None = None
        try:
            busy = feeds is not None and feeds.busy
            index = start_index(config, published, writer, layouts, index_keys, overlap=busy)
            while feeds is not None and feeds.busy and meanwhile:
                meanwhile.pop()()
        finally:
            try:
                if feeds is not None:  # the feed files in place, as a serial build has them
                    _finish_feeds(config, writer, feeds, dry_run)
            finally:
                if index is not None:
                    index.finish()
        if crew is not None:
            # Nothing more for the workers: they end while this process keeps the layouts,
            # sweeps and records its inputs, not after (the build waits for them at exit).
            crew.close(wait=False)
        writer.settle()  # the spliced files written (OutputWriter.overlap), their stamps known
        layouts.commit(writer.stamps, writer.unsynced)
    finally:
        layouts.close()
    return problems, cards


def _write_cards(
    config: Config,
    published: Sequence[Post],
    writer: OutputWriter,
    how: tuple[bool, int | None, ProgressFactory],
) -> CardsResult | None:
    if not config.cards.enabled:
        return None
    from publisher.cards import build_cards

    dry_run, jobs, progress = how
    with progress(len(published), RENDERING) as bar:
        return build_cards(
            config.site,
            published,
            config.cards.options,
            output=writer,
            cache_dir=config.state,
            jobs=jobs,
            dry_run=dry_run,
            progress=bar,
            root=config.root,
            feeds=config.feeds.options if config.feeds.enabled else None,
        )


def _start_feeds(
    config: Config,
    published: Sequence[Post],
    writer: OutputWriter,
    how: tuple[LayoutStore, tuple[bool, int | None, ProgressFactory], Entries, Crew | None],
) -> FeedWrites | None:
    """The feed files: each document written before the next is made, most of it copied
    from the file the last build wrote (feeds/splice.py), or made by the read workers."""
    if not config.feeds.enabled:
        return None
    from publisher.feeds.splice import Sources, start_feeds

    layouts, (_, jobs, progress), entries, crew = how
    sources = Sources(
        layouts=layouts, cache_dir=config.state, jobs=jobs, entries=entries, crew=crew
    )
    with progress(0, FEEDS):  # timed, not shown: no per-post callback
        return start_feeds(config.site, published, config.feeds.options, writer, sources)


def _finish_feeds(config: Config, writer: OutputWriter, feeds: FeedWrites, dry_run: bool) -> None:
    paths = set(feeds.finish())
    if not dry_run and config.feeds.options.hub is not None:
        from publisher.feeds import feed_url
        from publisher.feeds.websub import changed_feeds, record_pending

        # Not pinged now: the hub would fetch the feed before it is deployed.
        changed = [w.path for w in writer.changed if w.path in paths]
        record_pending(config.state, changed_feeds(changed, partial(feed_url, config.site)))


def cards_of(config: Config, published: Sequence[Post]) -> Callable[[str], bool]:
    """In a dry run, cards are not rendered, so their file names (content hashes) are
    unknown: the card files of posts still published are neither listed nor judged."""
    folder = config.cards.options.folder.strip("/") + "/"
    ids = {p.id for p in published}

    def undecided(relative: str) -> bool:
        if not relative.startswith(folder):
            return False
        name = relative[len(folder) :]
        if "/" in name:
            return False
        return name == "manifest.json" or any(
            name[:i] in ids for i, c in enumerate(name) if c == "."
        )

    return undecided
