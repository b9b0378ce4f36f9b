"""A build that reads only the post files that changed (issue 12: one post edited at
10,000 posts).

The stat pass (``publisher/snapshot.py``) is compared with the site table the last real
build kept (``table.py``). When every input outside the posts folder is the same (the
config, publisher's code, the libraries, the card and data files) and the posts folder
differs in a few files, only the post files in folders with a change (and new post
files) are read; every other post is its row. The rules across posts are applied to the
changed posts with what the others bring (their tag spellings, their URLs); when a
change would reach another post (a tag's most common spelling flips, two posts take one
URL, a post skipped by a rule across posts), or anything else is unsure, this answers
None and the build reads every post, as before.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from publisher.config import Config
from publisher.dataclass import dataclass
from publisher.errors import Problem, StateError
from publisher.incremental.changes import changed_files, compare
from publisher.incremental.lazy import LazyPosts, Made
from publisher.incremental.rows import (
    Spellings,
    count_tags,
    feed_entries_of,
    make_rows,
    newest_first,
    raw_tags,
)
from publisher.incremental.table import (
    CHUNK,
    TABLE_FILE,
    Row,
    SiteTable,
    Stored,
    os_path,
    when,
)
from publisher.incremental.walk import Walk, digests_of, group_of
from publisher.posts.folder import below
from publisher.posts.model import Post, ReadResult
from publisher.progress import READING

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

    from publisher.feeds.plan import FeedEntry
    from publisher.posts.rules import Around
    from publisher.snapshot import Snapshot

#: Makes a progress callback for ``total`` steps of work called ``label`` (build.py's).
ProgressFactory = Callable[
    [int, str], AbstractContextManager["Any"]
]  # quoted: typing is not imported at run time
Progress = Callable[[int], None] | None

#: More changed post files than this, and than a quarter of the site: a full read (in
#: parallel) costs about as much as reading them here, and decodes no site table.
MOST = 100


@dataclass(frozen=True, kw_only=True)
class Quick:
    """What a build that read only the changed posts hands to the writing stages."""

    read: ReadResult
    published: LazyPosts
    drafts: LazyPosts
    scheduled: LazyPosts
    #: The published posts' feed entries and ``posts.json`` keys, in their order.
    entries: list[FeedEntry] | None
    index_keys: list[str]
    #: The newest published post's date and the first scheduled one's (inputs.record).
    live: tuple[datetime | None, datetime | None]
    #: Keeps the site table of this build (after its outputs are written).
    save: Callable[[], None]

    @property
    def split(self) -> tuple[LazyPosts, LazyPosts, LazyPosts]:
        """(published, drafts, scheduled)."""
        return self.published, self.drafts, self.scheduled


def eligible(config: Config) -> bool:
    """Whether a build of ``config`` can be made from the site table at all: a generic
    posts folder globbed one folder deep (``*/index.md``), inside the config's folder
    (messages name files relative to it), and no cards (they need every post)."""
    parts = config.posts.glob.split("/")
    return (
        not config.cards.enabled
        and config.posts.generator == "generic"
        and len(parts) == 2
        and "**" not in parts[0]
        and not any(c in parts[1] for c in "*?[")
        and below(os.fspath(config.posts.folder), os.fspath(config.root)) is not None
    )


def read_changed(
    config: Config,
    snapshot: Snapshot,
    now: datetime,
    progress: ProgressFactory,
    parsed: list[int] | None = None,
) -> Quick | None:
    """The posts of a build that reads only the changed post files, or None: read every
    post (``parsed`` then gets how many posts this parsed, now in the post cache)."""
    if not eligible(config):
        return None
    table = SiteTable(config.state / TABLE_FILE, readonly=True)
    try:
        stored = table.load()
    finally:
        table.close()
    if stored is None:
        return None
    compared = compare(snapshot, stored)
    if compared is None:
        return None
    inputs, digests, changed, taken = compared
    change = changed_files(config, stored, digests, max(MOST, len(stored.rows) // 4), changed)
    if change is None:
        return None
    dirty, gone = change
    if changed is not None and taken is not None:
        groups = {group_of(r.label if isinstance(r, Row) else r) for r in dirty}
        digests = digests_of(taken.entries, groups, snapshot.recent)
    try:
        walk = taken.walk if taken is not None else None
        return _assemble(
            config, stored, (inputs, digests, walk), (dirty, gone), (now, progress), parsed
        )
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, StateError):
            raise
        return None  # a row the table should not hold: read every post


def _assemble(
    config: Config,
    stored: Stored,
    taken: tuple[str, Mapping[str, str], Walk | None],
    change: tuple[list[Row | str], list[Row]],
    at: tuple[datetime, ProgressFactory],
    parsed: list[int] | None = None,
) -> Quick | None:
    inputs, digests, walk = taken
    reread, gone = change
    now, progress = at
    folder = os.fspath(config.posts.folder)
    before = [r for r in reread if isinstance(r, Row)] + gone
    leaving = {r.file for r in before}
    kept = [r for r in stored.rows if r.file not in leaving]
    spellings = _minus(stored.spellings, count_tags(raw_tags(r) for r in before))
    paths = sorted(Path(os_path(folder, r.label if isinstance(r, Row) else r)) for r in reread)
    read: ReadResult | None = None
    new_rows: list[Row] = []
    if paths:
        from publisher.posts.rules import Around

        urls = {r.url: r.id for r in kept if r.id is not None and r.url is not None}
        with progress(len(paths), READING) as bar:
            read = _read_some(config, paths, Around(spellings=spellings, urls=urls), before, bar)
        if parsed is not None:
            parsed.append(len(read.found) - read.cache_hits)
        entries = _entries(config, read.posts)
        rows = make_rows(config, read, entries, digests)
        if rows is None:
            return None
        new_rows = rows
    if _flips(stored.spellings, spellings, read):
        return None  # a post read again, or only removed, changed the others' spelling
    total = _minus(spellings, count_tags((raw_tags(r) for r in new_rows), sign=-1))
    rows = kept + new_rows
    posts = newest_first([r for r in rows if r.id is not None])
    held = {os.fspath(p.source): p for p in (read.posts if read is not None else ())}
    made = Made(
        _maker(config, total), {r.file: held[r.source] for r in new_rows if r.source in held}
    )
    published, drafts, scheduled = [], [], []
    live_from: datetime | None = None
    live_until: datetime | None = None
    for r in posts:
        if r.draft:
            drafts.append(r)
            continue
        date = when(r.date)
        if date > now:
            scheduled.append(r)
            # The first of equal dates, as min() over the posts in this order gives.
            live_until = date if live_until is None or date < live_until else live_until
        else:
            published.append(r)
            live_from = date if live_from is None or date > live_from else live_from
    problems = [Problem(**p) for r in kept if r.problems for p in _json_list(r.problems)]
    problems.extend(read.problems if read is not None else ())
    problems.sort(key=lambda p: (p.file, p.line or 0, p.field or "", p.message))
    result = ReadResult(
        posts=LazyPosts(posts, made),
        problems=tuple(problems),
        files=len(rows),
        cache_hits=sum(1 for r in kept if r.key is not None) + (read.cache_hits if read else 0),
        elsewhere=read.elsewhere if read is not None else frozenset(),
    )
    chunks = _chunks(stored, leaving, new_rows)

    def save() -> None:
        table = SiteTable(config.state / TABLE_FILE)
        try:
            spelled = {k: dict(c) for k, c in total.items()}
            table.save(
                inputs=inputs,
                spellings=spelled,
                chunks=chunks,
                whole=False,
                since=stored.generation,
                walk=walk,
            )
        finally:
            table.close()

    return Quick(
        read=result,
        published=LazyPosts(published, made),
        drafts=LazyPosts(drafts, made),
        scheduled=LazyPosts(scheduled, made),
        entries=feed_entries_of(published) if config.feeds.enabled else None,
        index_keys=[r.origin or "" for r in published],
        live=(live_from, live_until),
        save=save,
    )


def _chunks(stored: Stored, leaving: set[str], new_rows: list[Row]) -> dict[int, list[Row]]:
    """The stored chunks this build changes, with their rows: a post read again stays in
    its chunk, a new one goes to the last chunk with room."""
    at = {row.file: n for row, n in zip(stored.rows, stored.chunks, strict=True)}
    changed = {at[file] for file in leaving}
    sizes = Counter(stored.chunks)
    last = max(stored.chunks, default=0)
    for row in new_rows:
        if row.file not in at:
            if sizes[last] >= CHUNK:
                last += 1
            at[row.file] = last
            sizes[last] += 1
            changed.add(last)
    chunks: dict[int, list[Row]] = {n: [] for n in changed}
    fresh = {row.file: row for row in new_rows}
    for row, n in zip(stored.rows, stored.chunks, strict=True):
        if n in chunks and row.file not in leaving:
            chunks[n].append(row)
    for file, row in fresh.items():
        chunks[at[file]].append(row)
    return chunks


def _read_some(
    config: Config, paths: list[Path], around: Around, before: list[Row], progress: Progress
) -> ReadResult:
    """Read ``paths`` (the rest of the site ``around`` them); the post cache forgets the
    entries and stamps of the files ``before`` that no longer need them."""
    from publisher.posts.cache import PostCache
    from publisher.posts.collect import read_posts
    from publisher.posts.shown import Shown

    shown = Shown(config.root)
    reading = [shown(path) for path in paths]
    cache = PostCache(config.cache_file, files=reading)
    try:
        # Dropped in the read's own commit (one transaction, not two): the files not read
        # again, and the keys of the posts read before.
        asked = set(reading)
        stale = [r.key for r in before if r.key is not None]
        cache.keep({}, gone=[r.file for r in before if r.file not in asked])
        cache.drop_stale(stale)
        read = read_posts(config, cache=cache, files=paths, progress=progress, around=around)
        files = {found.file for found in read.found}
        if any(r.file in asked and r.file not in files for r in before):  # a file not found
            live = [found.key for found in read.found if found.key is not None]
            cache.keep({}, gone=[r.file for r in before if r.file not in files])
            cache.commit(live, stale=stale)
    finally:
        cache.close()
    return read


def _json_list(text: str) -> list[dict[str, Any]]:
    import json

    found = json.loads(text)
    if not isinstance(found, list):
        raise ValueError("not a list of problems")
    return found


def _entries(config: Config, posts: Iterable[Post]) -> dict[str, FeedEntry] | None:
    if not config.feeds.enabled:
        return None
    from publisher.feeds.plan import feed_entries

    return {e.id: e for e in feed_entries(list(posts), config.site, config.feeds.options)}


def _minus(spellings: Mapping[str, Mapping[str, int]], taken: Spellings) -> Spellings:
    """``spellings`` less ``taken`` (counts of zero dropped)."""
    out: Spellings = {}
    for key in set(spellings) | set(taken):
        counts = Counter(dict(spellings.get(key, {})))
        counts.subtract(taken.get(key, Counter()))
        kept = Counter({s: n for s, n in counts.items() if n > 0})
        if kept:
            out[key] = kept
    return out


def _flips(
    before: Mapping[str, Mapping[str, int]], others: Spellings, read: ReadResult | None
) -> bool:
    """Whether a tag's kept spelling changes for a post that was not read again (``read``:
    the posts read again, None when there are none)."""
    from publisher.posts.rules import kept_spelling

    found = read.found if read is not None else ()
    mine = count_tags(f.tags for f in found if f.tags is not None)
    for key in set(mine) | {k for k, counts in before.items() if counts != others.get(k)}:
        if not others.get(key):
            continue  # no other post has this tag
        after = Counter(others[key])
        after.update(mine.get(key, Counter()))
        if key not in before or kept_spelling(before[key]) != kept_spelling(after):
            return True
    return False


def _maker(config: Config, spellings: Spellings) -> Callable[[list[Row]], list[Post]]:
    """Makes the posts of rows from the post cache (or their files), as a read of every
    post would have made them: the rules across posts with every other post's tags."""

    def make(rows: list[Row]) -> list[Post]:
        from publisher.posts.cache import PostCache
        from publisher.posts.collect import read_posts
        from publisher.posts.rules import Around

        others = _minus(spellings, count_tags(raw_tags(r) for r in rows))
        cache = PostCache(config.cache_file, files=[r.file for r in rows])
        try:
            read = read_posts(
                config,
                cache=cache,
                files=[Path(r.source) for r in rows],
                around=Around(spellings=others, urls={}),
            )
        finally:
            cache.close()
        by_source = {os.fspath(p.source): p for p in read.posts}
        missing = [r.file for r in rows if r.source not in by_source]
        if missing:
            raise StateError(
                f"{missing[0]}: the post changed while the build ran (it is no longer a "
                "post); run the build again"
            )
        return [by_source[r.source] for r in rows]

    return make
