"""The typed, frozen result of reading posts: no I/O here.

A post's body (markdown and HTML, most of a post's memory) is a :class:`Body`: either held
in memory, or a reference into the post cache that is read each time it is used, so a
build over 10,000 posts does not keep 10,000 bodies resident (issue 12). The reading is
done by the loader the post cache hands in (``posts/cache.py``), not here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from publisher.dataclass import dataclass, field, fields
from publisher.digests import sha256
from publisher.errors import Problem
from publisher.tuples import NamedTuple

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any, TypedDict, Unpack
else:
    # A plain class at run time: its keys are read from its annotations, which typing's
    # TypedDict would wrap in a ForwardRef each, compiled (18, 0.6 ms of every build).
    TypedDict = object


@dataclass(frozen=True, kw_only=True)
class Author:
    """A post's author, as the frontmatter or the body's byline names them."""

    name: str
    org: str | None = None
    email: str | None = None


class Body:
    """A post's markdown and the HTML rendered from it.

    ``load`` (when given) returns ``(markdown, html)`` and is called on every use instead
    of holding the text: callers read a body, use it and drop it. ``digest`` identifies
    the HTML (sha256 of its UTF-8 bytes) without loading it, for cache keys; for a held
    body it is made when first asked for (a cold read's feed items never ask: issue 12).
    ``rendered``: the HTML is the reader's own rendering of the markdown (a body the
    reader made or the post cache holds), which lets the feeds skip work that text
    written by raw HTML would need (``feeds/items.py``); False for any other pair.
    """

    __slots__ = ("_digest", "_held", "_load", "rendered")

    def __init__(
        self,
        markdown: str = "",
        html: str = "",
        *,
        load: Callable[[], tuple[str, str]] | None = None,
        digest: bytes | None = None,
        rendered: bool = False,
    ) -> None:
        self._load = load
        self._held = None if load is not None else (markdown, html)
        if digest is None and load is not None:
            digest = html_digest(self.html)
        self._digest = digest
        self.rendered = rendered

    def _text(self) -> tuple[str, str]:
        if self._held is not None:
            return self._held
        assert self._load is not None
        return self._load()

    def text(self) -> tuple[str, str]:
        """``(markdown, html)``, read once (a body read back from the cache: one query)."""
        return self._text()

    @property
    def markdown(self) -> str:
        return self._text()[0]

    @property
    def html(self) -> str:
        return self._text()[1]

    @property
    def digest(self) -> bytes:
        if self._digest is None:
            self._digest = html_digest(self.html)
        return self._digest

    @property
    def resident(self) -> bool:
        """Whether the text is held in memory (False: read from the cache on each use)."""
        return self._held is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Body):
            return NotImplemented
        return self.digest == other.digest and self.markdown == other.markdown

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"Body(digest={self.digest.hex()[:12]}, resident={self.resident})"

    def __reduce__(self) -> tuple[Callable[..., Body], tuple[str, str, bool]]:
        # A worker process gets the text itself: the loader may hold a connection.
        markdown, html = self._text()
        return _held_body, (markdown, html, self.rendered)


def _held_body(markdown: str, html: str, rendered: bool) -> Body:
    """A :class:`Body` holding its text (how one is unpickled)."""
    return Body(markdown, html, rendered=rendered)


def html_digest(html: str) -> bytes:
    return sha256(html.encode("utf-8", "surrogatepass")).digest()


class PostFields(TypedDict):
    """The fields of a :class:`Post` besides its body and frontmatter, as keywords (the
    constructor takes them so, typed, without 22 parameters of its own)."""

    id: str
    source: Path
    url: str
    page_url: str
    path: str | None
    external_url: str | None
    title: str
    summary: str | None
    date: datetime
    updated: datetime | None
    og_image: Path | None
    og_image_url: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    authors: tuple[Author, ...]
    is_featured: bool
    is_popular: bool
    draft: bool


_FIELD_KEYS = frozenset(PostFields.__annotations__)  # every key required (TypedDict's total)


@dataclass(frozen=True, kw_only=True, init=False)
class Post:
    """One post, read and cleaned, ready for every later stage.

    ``url`` is where the post is read: ``external_url`` for link posts, else ``page_url``,
    the post's own page on the site. ``id`` is the post's folder relative to the posts root: it never changes when the
    title, date, summary or path is edited, so feeds and announcements key on it.

    Construct it with ``body=Body(...)``, or with ``body_markdown=`` and ``body_html=``
    (held in memory); ``post.body_markdown`` and ``post.body_html`` read the body either way.
    ``origin`` is for the reader (see :attr:`origin`).
    """

    id: str
    source: Path
    url: str
    page_url: str
    path: str | None
    external_url: str | None
    title: str
    summary: str | None
    date: datetime
    updated: datetime | None
    og_image: Path | None
    og_image_url: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    authors: tuple[Author, ...]
    is_featured: bool
    is_popular: bool
    draft: bool
    body: Body = field(repr=False)
    frontmatter: Mapping[str, Any] = field(compare=False, hash=False, repr=False)

    def __init__(
        self,
        *,
        body: Body | None = None,
        body_markdown: str | None = None,
        body_html: str | None = None,
        frontmatter: Mapping[str, Any] | None = None,
        origin: bytes | None = None,
        **values: Unpack[PostFields],
    ) -> None:
        if body is None:
            body = Body(body_markdown or "", body_html or "")
        elif body_markdown is not None or body_html is not None:
            raise TypeError("Post takes body= or body_markdown=/body_html=, not both")
        if frontmatter is None:
            frontmatter = {}
        if values.keys() != _FIELD_KEYS:
            wrong = ", ".join(sorted(values.keys() ^ _FIELD_KEYS))
            raise TypeError(f"Post: missing or unknown fields: {wrong}")
        # Straight into the instance's dict (a frozen dataclass's fields live there): 20
        # object.__setattr__ calls per post were a tenth of a 10,000-post rebuild.
        state = self.__dict__
        state.update(values)
        state["body"] = body
        state["frontmatter"] = frontmatter
        if origin is not None:
            state["_origin"] = origin

    @property
    def origin(self) -> bytes | None:
        """A digest of everything this post was made from (its file's content key, its
        path, its og image and that file's stat, its tags after the cross-post rules), set
        by the reader; None for a post made otherwise. Not a field: ``dataclasses.replace``
        makes a post without it, so a changed copy is never taken for the original. The
        feed cache keys a post by it instead of by the repr of every field (issue 12)."""
        found: bytes | None = self.__dict__.get("_origin")
        return found

    @property
    def body_markdown(self) -> str:
        return self.body.markdown

    @property
    def body_html(self) -> str:
        return self.body.html

    @property
    def is_link_post(self) -> bool:
        return self.external_url is not None

    def is_live(self, now: datetime) -> bool:
        """Published: not a draft and dated at or before ``now``."""
        return not self.draft and self.date <= now


# PostFields repeats Post's fields so the constructor can take them typed; the constructor
# fills only those keys, so the two lists must not drift apart.
if {f.name for f in fields(Post)} != _FIELD_KEYS | {"body", "frontmatter"}:
    raise ImportError("publisher.posts.model: PostFields and Post name different fields")


class Found(NamedTuple):
    """One post file a read found, as the site table (``publisher/incremental``) keeps it."""

    file: str  # as messages name it
    source: str  # its path
    key: str | None  # its content key in the post cache (None: not read)
    plain: bool  # below the posts folder with no symbolic link on the way
    tags: tuple[str, ...] | None  # its record's tags as written (None: no record)


@dataclass(frozen=True, kw_only=True)
class ReadResult:
    """Every post that could be read, and every diagnostic from reading them.

    ``posts`` is a tuple, or for a build that read only the changed posts a sequence that
    makes each other post from the post cache when it is first looked at
    (``publisher/incremental/lazy.py``)."""

    posts: Sequence[Post]
    problems: tuple[Problem, ...]
    files: int
    cache_hits: int = 0
    #: Every file found, in the order found (the site table is made of them).
    found: tuple[Found, ...] = field(default=(), compare=False, repr=False)
    #: Every record read became a post: none was skipped by a rule across posts (a URL
    #: another post has, an og image outside the site). The site table needs it.
    settled: bool = field(default=False, compare=False, repr=False)
    #: The og image files the posts looked up outside the posts folder, found or not
    #: (``posts/rules.py``): the next build's no-op check stats them (``inputs.py``).
    elsewhere: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def published(self, now: datetime) -> tuple[Post, ...]:
        return tuple(p for p in self.posts if p.is_live(now))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")
