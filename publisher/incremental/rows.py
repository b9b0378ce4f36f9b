"""The site table's rows made from a read (every post file, or only the changed ones)."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from operator import attrgetter

from publisher.incremental.table import SEP, Row, group_of, joined, label_of, problems_text, split
from publisher.posts.fields import tag_key
from publisher.posts.model import ReadResult
from publisher.zones import zone as zone_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

    from publisher.config import Config
    from publisher.feeds.plan import FeedEntry

#: Tag key -> spelling -> how many records wrote it so.
Spellings = dict[str, Counter[str]]


def dump_moment(value: datetime) -> str | None:
    """``value`` as text that :func:`load_moment` makes the same datetime of (its repr
    too: a feed head's cache key holds it); None when no text would."""
    zone = value.tzinfo
    # A ZoneInfo, which only a site outside UTC imports (publisher/zones.py).
    key = getattr(zone, "key", None) if type(zone).__module__ == "zoneinfo" else None
    if isinstance(key, str) and zone_of(key) is zone:
        return f"{value.replace(tzinfo=None).isoformat()}{SEP}{key}{SEP}{value.fold}"
    text = value.isoformat()
    if zone is UTC and not value.fold:
        return text  # "+00:00", which fromisoformat reads as UTC: most posts, checked once
    return text if repr(datetime.fromisoformat(text)) == repr(value) else None


def load_moment(text: str) -> datetime:
    if SEP not in text:
        return datetime.fromisoformat(text)
    naive, key, fold = text.split(SEP)
    return datetime.fromisoformat(naive).replace(tzinfo=zone_of(key), fold=int(fold))


def count_tags(tag_lists: Iterable[Sequence[str]], sign: int = 1) -> Spellings:
    spellings: Spellings = defaultdict(Counter)
    keys: dict[str, str] = {}
    for tags in tag_lists:
        for tag in tags:
            key = keys.get(tag)
            if key is None:
                key = keys[tag] = tag_key(tag)
            spellings[key][tag] += sign
    return spellings


def raw_tags(row: Row) -> list[str]:
    found = row.raw_tags if row.raw_tags is not None else []
    if not isinstance(found, list):
        raise ValueError(f"{row.file}: not a list of tags")
    return [str(tag) for tag in found]


def make_rows(
    config: Config,
    read: ReadResult,
    entries: Mapping[str, FeedEntry] | None,
    digests: Mapping[str, str],
) -> list[Row] | None:
    """A row per file ``read`` found; None when the table cannot stand for this read: a
    post made with a rule across posts that a row cannot replay (skipped for a URL,
    an og image outside its folder or reached through a link), a file below a link, a
    problem that is not one file's, a value the table cannot hold. ``entries``: each
    post's feed entry by id (None: feeds off). ``digests``: each post folder's, from
    the stat pass (``table.folders``)."""
    if not read.settled:
        return None
    folder = os.fspath(config.posts.folder)
    posts = {os.fspath(post.source): post for post in read.posts}
    files = {found.file for found in read.found}
    if len(posts) != len(read.posts) or len(files) != len(read.found):
        return None
    problems: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for problem in read.problems:
        if problem.file not in files:
            return None
        problems[problem.file].append(problem.as_dict())
    rows = []
    make = tuple.__new__  # Row._make without its Python call: once per post
    for found in read.found:
        label = label_of(found.source, folder)
        if label is None or not found.plain or "\n" in label or "\0" in label:
            return None
        tags = list(found.tags) if found.tags is not None else None
        post = posts.get(found.source)
        if post is None:
            if found.tags is not None:
                return None  # a record that made no post: not settled
            columns: tuple[Any, ...] = (None,) * 14
        else:
            made = _post_row(post, found.source, entries)
            if made is None or found.key is None:
                return None
            columns = made
        head = (found.file, label, found.source, found.key)
        sig = digests.get(group_of(label), "?")
        told = problems_text(problems[found.file]) if found.file in problems else None
        rows.append(make(Row, (*head, *columns, tags, told, sig)))
    return rows


def _post_row(
    post: Any, source: str, entries: Mapping[str, FeedEntry] | None
) -> tuple[Any, ...] | None:
    """The columns of a post, from ``id`` to ``authors``; None when a column cannot hold it."""
    origin = post.origin
    if origin is None:
        return None  # an og image reached through a link: its stat is not known
    image = post.og_image
    if image is not None and not os.fspath(image).startswith(_folder_of(source)):
        return None  # a change to it would not show in its post's folder
    categories, tags = joined(post.categories), joined(post.tags)
    authors = joined(a.name for a in post.authors)
    date = post.date.isoformat()
    if categories is None or tags is None or authors is None:
        return None
    moment = updated = key = None
    if entries is not None:
        entry = entries[post.id]
        moment, updated, key = entry.moment, dump_moment(entry.updated), entry.key
        if updated is None:
            return None
    return (
        post.id,
        post.url,
        date,
        post.date.timestamp(),
        moment,
        updated,
        int(post.draft),
        int(post.is_featured),
        int(post.is_popular),
        origin.hex(),
        key,
        categories,
        tags,
        authors,
    )


def _folder_of(source: str) -> str:
    """``os.path.dirname(source) + "/"`` with str methods (in C: once per post)."""
    head = source[: source.rfind("/") + 1]
    return (head.rstrip("/") or head) + "/"


def newest_first(posts: list[Row]) -> list[Row]:
    """``posts`` newest first, then by id (two sorts by a key made in C: 10,000 rows; a
    stable sort keeps the order by id among equal dates, also in reverse)."""
    if None in map(attrgetter("date_ts"), posts):
        return sorted(posts, key=lambda r: (-(r.date_ts or 0.0), r.id or ""))
    posts.sort(key=attrgetter("id"))
    posts.sort(key=attrgetter("date_ts"), reverse=True)
    return posts


def feed_entries_of(rows: list[Row]) -> list[FeedEntry]:
    """The feed entries of rows of published posts (a loop of the few calls each needs:
    it runs once per post of the site)."""
    from publisher.feeds.plan import FeedEntry

    made = tuple.__new__
    # The same few (categories, tags, authors) on many posts: each split once.
    labels: dict[tuple[str | None, str | None, str | None], tuple[tuple[str, ...], ...]] = {}
    parse = datetime.fromisoformat
    entries = []
    for r in rows:
        if r.id is None or r.updated is None or r.feed_key is None or r.moment is None:
            raise ValueError(f"{r.file}: not a published post's row")
        text = r.updated
        updated = load_moment(text) if SEP in text else parse(text)  # load_moment, inline
        named = (r.categories, r.tags, r.authors)
        listed = labels.get(named)
        if listed is None:
            listed = labels[named] = (split(r.categories), split(r.tags), split(r.authors))
        entry = (r.id, r.moment, updated, *listed, bool(r.featured), bool(r.popular))
        entries.append(made(FeedEntry, (*entry, r.feed_key)))
    return entries
