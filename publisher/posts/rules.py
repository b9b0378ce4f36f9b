"""The rules that look across posts or at other files: og image files exist inside the
site, URLs are unique, tags spelled differently are grouped under their most common
spelling."""

from __future__ import annotations

import os
import stat
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from publisher.config import Config
from publisher.dataclass import dataclass, field
from publisher.digests import blake2b
from publisher.errors import Problem
from publisher.posts.cache import body_of
from publisher.posts.fields import tag_key
from publisher.posts.folder import PlainPaths, printable_name
from publisher.posts.model import Author, Post
from publisher.posts.reader import Record, unexpected
from publisher.posts.text import preview
from publisher.stamps import stamp_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class _Site:
    """Where an og image may be: the posts folder and the site's folder, resolved; and
    the lstat-only look-up of paths below the posts folder, when it is resolved already."""

    allowed: tuple[Path, Path]
    plain: PlainPaths | None
    #: A read worker's rules (``feeds/early.py``): leave each og image look-up in the
    #: post's record, for the main process's rules (issue 12).
    hand_back: bool = False
    #: The og image files looked up outside the posts folder, found or not: the stat pass
    #: of the posts folder does not see them, so the no-op check stats them (inputs.py).
    elsewhere: set[str] = field(default_factory=set, compare=False)


#: The record key of a read worker's og image look-up: (the name as written, the post
#: file's path, an existing regular file?, its stamp). Taken out (``pop``) by the main
#: process's rules, so it is used once, in the build whose worker made it; never in the
#: post cache (the entry is encoded before the rules run).
LOOKED = "_og_looked"


@dataclass(frozen=True)
class Around:
    """For rules applied to some of a site's posts only (``publisher/incremental``): what
    the site's other posts bring to them, their tags as written (tag key -> spelling ->
    how many times) and their URLs (URL -> post id)."""

    spellings: Mapping[str, Mapping[str, int]]
    urls: Mapping[str, str]


def finalize(
    records: list[tuple[Record, Path, str, str | None]],
    config: Config,
    problems: list[Problem],
    plain: PlainPaths | None = None,
    around: Around | None = None,
    hand_back: bool = False,
    early: Early | None = None,
    elsewhere: set[str] | None = None,
) -> list[Post]:
    """Rules that look across posts or at other files; returns posts newest first.
    ``plain``: the reader's look-up of paths below the posts folder, if it has one.
    Each record comes with its file's content key (``posts/cache.py``), if it has one:
    the posts made from it get their :attr:`~publisher.posts.model.Post.origin`.
    ``around``: the rest of the site, when ``records`` are only some of its posts.
    ``hand_back``: in a read worker, each og image look-up is left in its record
    (:data:`LOOKED`) for the main process, which then does not stat the image again.
    ``early``: each post's own part, made for some of the records already.
    ``elsewhere``: gets the og image files looked up outside the posts folder."""
    allowed = early.site if early is not None else _site_of(config, plain, hand_back)
    posts_by_url: dict[str, str] = dict(around.urls) if around is not None else {}
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for tag_id, counts in around.spellings.items() if around is not None else ():
        spellings[tag_id].update(counts)
    key_of: dict[str, str] = {}  # tag_key once per spelling, not per post (issue 12)
    for record, *_ in records:
        for tag in record["tags"]:
            key = key_of.get(tag)
            if key is None:
                key = key_of[tag] = tag_key(tag)
            spellings[key][tag] += 1
    by_key = {key: kept_spelling(counter) for key, counter in spellings.items() if counter}
    canonical = {tag: by_key[key] for tag, key in key_of.items()}  # spelling -> the one kept
    made = early.own if early is not None else {}
    posts: list[Post] = []
    for read in sorted(records, key=lambda item: item[0]["id"]):
        try:
            own = made.pop(read[2], None) or _own(read, allowed)
            post = _across(own, read, canonical, posts_by_url, problems)
        except Exception as exc:  # one post must not stop the run
            problems.append(unexpected(read[2], exc))
            continue
        if post is not None:
            posts.append(post)
    # Newest first, then by id: the posts are in id order, which a stable sort keeps
    # among posts of one date (no tuple per post to make and compare).
    posts.sort(key=lambda p: -p.date.timestamp())
    if elsewhere is not None:
        elsewhere.update(allowed.elsewhere)
    return posts


def _site_of(config: Config, plain: PlainPaths | None, hand_back: bool) -> _Site:
    root = config.posts.folder
    real_root = root.resolve()
    if plain is None and real_root == root:
        plain = PlainPaths(os.fspath(root))
    return _Site(
        (real_root, config.root.resolve()), plain if real_root == root else None, hand_back
    )


class Early:
    """Each post's own part of the rules (its og image, its fields, the digest of what it
    is made from but its tags), made as its record comes back from a read worker while
    the others are still parsed (``posts/collect.py``): :func:`finalize` is then left
    the rules across posts only, in the tail of a cold read where both workers are idle
    (20 to 27 ms of one core at 1,000 posts; issue 12). The same steps in the same order
    as for a record :func:`finalize` meets without it (``tests/test_cold_rules.py``)."""

    def __init__(self, config: Config, plain: PlainPaths | None) -> None:
        self.site = _site_of(config, plain, False)
        #: Post file -> its own part.
        self.own: dict[str, _Own] = {}

    def add(self, read: tuple[Record, Path, str, str | None]) -> None:
        """``read`` as :func:`finalize` will have it (record, file path, file, key)."""
        self.own[read[2]] = _own(read, self.site)


def kept_spelling(counts: Mapping[str, int]) -> str:
    """The spelling a tag's posts all get: the most common, then the first in code order."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]


class _Own:
    """A post's own part of the rules: its og image's problems, then the post made (its
    tags left for :func:`_across`) with the digest of what it was made from but its tags,
    or why it is skipped: its og image (``skipped``), an error met before its URL is
    taken (``before``: as in a serial build, the URL stays free) or after (``after``)."""

    __slots__ = ("after", "before", "made", "post", "problems", "skipped")

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.skipped = False
        self.before: Exception | None = None
        self.after: Exception | None = None
        self.post: Post | None = None
        self.made: Any = None


def _own(read: tuple[Record, Path, str, str | None], allowed: _Site) -> _Own:
    """The rules for one post that look at it alone (never raises: see :class:`_Own`)."""
    record, source, file, key = read
    own = _Own()
    og_image: Path | None = None
    image_stat: object = None
    try:
        if record["og_image"]:
            found = _og_image(record, source, file, allowed, own.problems)
            if found is None:
                own.skipped = True
                return own
            og_image, image_stat = found
    except Exception as exc:
        own.before = exc
        return own
    try:
        own.post = _post(record, source, og_image)
        if key is not None and image_stat is not False:
            # What the post was made from; image_stat False: a linked image, not stat'ed here.
            made_of = repr((key, os.fspath(source), og_image and os.fspath(og_image), image_stat))
            own.made = blake2b(made_of.encode("utf-8", "surrogateescape"), digest_size=20)
    except Exception as exc:
        own.after = exc
    return own


def _across(
    own: _Own,
    read: tuple[Record, Path, str, str | None],
    canonical: dict[str, str],
    posts_by_url: dict[str, str],
    problems: list[Problem],
) -> Post | None:
    """The cross-post rules for one post; None when it is skipped (a problem says why)."""
    record, _, file, _ = read
    problems.extend(own.problems)
    if own.before is not None:
        raise own.before
    if own.skipped:
        return None
    other = posts_by_url.get(record["url"])
    if other is not None:
        lines: dict[str, int] = record.get("lines") or {}
        key = "externalUrl" if record["external_url"] else "path"
        problems.append(
            Problem(
                file=file,
                field=key,
                message=f"URL {preview(record['url'], 120)} is also the URL of post '{other}'",
                fix="give each post its own path; this post is skipped",
                line=lines.get(key),
            )
        )
        return None
    posts_by_url[record["url"]] = record["id"]
    if own.after is not None:
        raise own.after
    post = own.post
    assert post is not None
    tags = record["tags"]
    # Made before the tags' spellings were known: set now, before anyone sees the post.
    post.__dict__["tags"] = _unique([canonical[t] for t in tags]) if tags else ()
    if own.made is not None:
        digest = own.made.copy()
        digest.update("\0".join(("", *post.tags)).encode("utf-8", "surrogateescape"))
        post.__dict__["_origin"] = digest.digest()
    return post


def _look_up(record: Record, source: Path, site: _Site) -> tuple[Path, bool, bool, object]:
    """(the og image's resolved path, inside the site?, an existing file?, its (size,
    mtime, inode, ctime) or None when it is none, False when not known); OSError or ValueError when it
    cannot be looked up."""
    og = record["og_image"]
    looked = record.pop(LOOKED, None)
    if looked is not None and site.plain is not None and looked[:2] == (og, os.fspath(source)):
        # The read worker that parsed the post looked the image up in this build, after
        # the stat pass that the next build compares with (inputs.py): an image changed
        # since is seen then. The feed items it rendered name that same stat.
        if "/" not in og:
            return source.with_name(og), True, looked[2], looked[3]
        return Path(f"{os.fspath(source.parent)}/{og}"), True, looked[2], looked[3]
    written = f"{os.path.dirname(os.fspath(source)) or '.'}/{og}"
    plain = site.plain.stat(written) if site.plain is not None else None
    if plain is not None:  # no link on the way: no need to resolve (issue 12)
        regular = stat.S_ISREG(plain.st_mode)
        # Inode and ctime too: a file renamed over it may keep its size and mtime, and the
        # feed items name the type sniffed from its bytes.
        image = stamp_of(plain) if regular else None
        # with_name builds the Path without parsing it again (issue 12).
        found = source.with_name(og) if "/" not in og else Path(written)
        if site.hand_back:
            record[LOOKED] = (og, os.fspath(source), regular, image)
        return found, True, regular, image
    candidate = (source.parent / og).resolve()
    inside = any(candidate.is_relative_to(a) for a in site.allowed)
    return candidate, inside, inside and candidate.is_file(), False


def _og_image(
    record: Record, source: Path, file: str, allowed: _Site, problems: list[Problem]
) -> tuple[Path | None, object] | None:
    """(the post's og image file, None when it does not exist; its stat as ``_look_up``
    gives it); None when the post is skipped for its og image."""
    lines: dict[str, int] = record.get("lines") or {}
    try:
        candidate, inside, exists, image = _look_up(record, source, allowed)
    except (OSError, ValueError) as exc:
        # The reader refuses names no file system takes; this is the rest (ELOOP, ...).
        problems.append(
            Problem(
                file=file,
                field="ogImage",
                message=f"'{record['og_image']}' cannot be looked up ({exc})",
                fix="write the plain file name of an image in the post's folder",
                line=lines.get("ogImage"),
            )
        )
        return None
    if image is False and inside and not candidate.is_relative_to(allowed.allowed[0]):
        allowed.elsewhere.add(os.fspath(candidate))  # resolved, so not below the posts folder
    if not inside:
        problems.append(
            Problem(
                file=file,
                field="ogImage",
                message=f"'{record['og_image']}' points outside the site",
                fix="put the image in the post's folder",
                line=lines.get("ogImage"),
            )
        )
        return None
    if not exists and record.get("image_optional"):
        problems.append(
            Problem(
                file=file,
                field="ogImage",
                message=f"file '{record['og_image']}' does not exist; the post has no image",
                fix="add the image beside the post, or correct the name",
                severity="warning",
                line=lines.get("ogImage"),
            )
        )
    elif not exists:
        # A warning, not a skip (docs/cards.md): the post is published with a text card.
        problems.append(
            Problem(
                file=file,
                field="ogImage",
                message=f"file '{record['og_image']}' does not exist",
                fix=f"add it next to index.md or correct the name; files there: {_listing(source.parent)}",
                line=lines.get("ogImage"),
                severity="warning",
            )
        )
    return (candidate, image) if exists else (None, None)


def _listing(folder: Path) -> str:
    names = sorted(printable_name(p.name) for p in folder.iterdir() if p.name != "index.md")[:8]
    return ", ".join(names) if names else "none"


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _post(record: Record, source: Path, og_image: Path | None) -> Post:
    """The post of ``record``, its tags left out (see :func:`_across`)."""
    date = _when(record["date"])
    assert date is not None
    return Post(
        id=record["id"],
        source=source,
        url=record["url"],
        page_url=record["page_url"],
        path=record["path"],
        external_url=record["external_url"],
        title=record["title"],
        summary=record["summary"],
        date=date,
        updated=_when(record["updated"]),
        og_image=og_image,
        og_image_url=record["og_image_url"],
        categories=_unique(record["categories"]),
        tags=(),
        authors=tuple(Author(**a) for a in record["authors"]),
        is_featured=record["is_featured"],
        is_popular=record["is_popular"],
        draft=record["draft"],
        body=body_of(record),
        frontmatter=record["frontmatter"],
    )


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
