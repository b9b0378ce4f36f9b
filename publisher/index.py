"""``posts.json``: the index of the published posts, newest first.

Deterministic: no build time in it, sorted keys. Each post's entry is a piece of the file
keyed by the post's origin (``Post.origin``), so a build after one post changed writes
the file from the one the last build wrote and that post's entry
(:mod:`publisher.splicing`): at 10,000 posts the index is 6 MB.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from json.encoder import encode_basestring

from publisher import jsontext
from publisher.errors import OutputError
from publisher.picking import pick
from publisher.splicing import Layout, LayoutStore, template, write_spliced, write_whole
from publisher.staged import laid_out, stage

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

    from publisher.config import Config
    from publisher.output import Made, OutputWriter
    from publisher.posts import Post
    from publisher.posts.model import Author

INDEX_FILE = "posts.json"  # build.INDEX_FILE (build.py imports this module when it writes)
#: Stands for a post's entry while the file's literal text is found (a NUL is escaped
#: in JSON: the mark, as written, is in no other string).
_MARK = "\x00publisher post\x00"
_MARK_TEXT = jsontext.dumps(_MARK).encode("utf-8")


def post_summary(post: Post) -> dict[str, Any]:
    """The JSON form of a post used by the index and the --json report."""
    return {
        "id": post.id,
        "url": post.url,
        "page_url": post.page_url,
        "external_url": post.external_url,
        "title": post.title,
        "summary": post.summary,
        "date": post.date.isoformat(),
        "updated": post.updated.isoformat() if post.updated else None,
        "og_image": post.og_image.name if post.og_image else None,
        "og_image_url": post.og_image_url,
        "categories": list(post.categories),
        "tags": list(post.tags),
        "authors": [
            {k: v for k, v in (("name", a.name), ("org", a.org), ("email", a.email)) if v}
            for a in post.authors
        ],
        "is_featured": post.is_featured,
        "is_popular": post.is_popular,
    }


def render_index(config: Config, posts: Sequence[Post]) -> str:
    """The text of ``posts.json``."""
    return _render(config, [post_summary(p) for p in posts])


def _render(config: Config, entries: list[Any]) -> str:
    index = {"site": {"title": config.site.title, "url": config.site.url}, "posts": entries}
    return jsontext.dumps(index, indent=2) + "\n"  # json.dumps's bytes, faster at 10,000 posts


def write_index(
    config: Config,
    posts: Sequence[Post],
    writer: OutputWriter,
    layouts: LayoutStore | None,
    keys: Sequence[str] | None = None,
) -> None:
    """Write ``posts.json``, from the last build's where it can. ``keys``: each post's
    origin in hex ("" for none), if the caller has them: a post is then looked at only
    when its entry must be written."""
    start_index(config, posts, writer, layouts, keys, overlap=False).finish()


def start_index(
    config: Config,
    posts: Sequence[Post],
    writer: OutputWriter,
    layouts: LayoutStore | None,
    keys: Sequence[str] | None = None,
    *,
    overlap: bool = True,
) -> IndexWrite:
    """:func:`write_index`; with ``overlap``, a file written whole is compared, written
    and synced by a thread while the caller goes on, and put in place by
    :meth:`IndexWrite.finish`, which must be called (a cold build's: 6 MB at 10,000 posts,
    whose sync waited behind the read workers' feed files; issue 12)."""
    literals = _literals(config, len(posts))
    if keys is None:
        keys = [post.origin.hex() if post.origin is not None else "" for post in posts]

    def fresh(positions: list[int]) -> list[bytes]:
        made = [_entry(post) for post in pick(posts, positions)]  # made together
        return [entry for entry in made if entry is not None]  # a short list: no splice

    layout = None
    if literals is not None and layouts is not None:
        try:
            layout = write_spliced(
                writer, INDEX_FILE, layouts.get(INDEX_FILE), literals, keys, fresh
            )
        except ValueError:  # an entry json.dumps would write (zip's strict check)
            layout = None
    if layout is None:
        entries = [_entry(post) for post in posts]
        if literals is None or any(entry is None for entry in entries):
            writer.write_text(INDEX_FILE, render_index(config, posts))
        else:
            pieces = [literals[0]]
            for entry, literal in zip(entries, literals[1:], strict=True):
                assert entry is not None
                pieces += (entry, literal)
            lengths = [len(entry or b"") for entry in entries]
            data = b"".join(pieces)
            if overlap and not writer.dry_run:
                return IndexWrite(layouts, _Staging(writer, data, (literals, keys, lengths)))
            layout = write_whole(writer, INDEX_FILE, data, literals, keys, lengths)
    if layouts is not None:
        layouts.set(INDEX_FILE, layout)
    return IndexWrite(layouts, None)


class IndexWrite:
    """``posts.json`` as :func:`start_index` left it: written, or being staged by a thread."""

    def __init__(self, layouts: LayoutStore | None, staging: _Staging | None) -> None:
        self.layouts = layouts
        self._staging = staging

    def finish(self) -> None:
        """Put a staged file in place (in :attr:`OutputWriter.writes` after the writes
        made meanwhile) and keep its layout; OutputError when it could not be written."""
        staging, self._staging = self._staging, None
        if staging is None:
            return
        layout = staging.place()
        if self.layouts is not None:
            self.layouts.set(INDEX_FILE, layout)


class _Staging:
    """``posts.json``'s bytes compared, written and synced beside it by a thread
    (``staged.py``); :meth:`place` renames them into place through the writer."""

    def __init__(
        self,
        writer: OutputWriter,
        data: bytes,
        layout: tuple[list[bytes], Sequence[str], list[int]],
    ) -> None:
        self.writer = writer
        self.target = writer.target(INDEX_FILE)  # refused now, as write_bytes refuses it
        self.literals, self.keys, self.lengths = layout
        self._made: Made | None = None
        self._laid_out = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(data,), name=INDEX_FILE)
        self._thread.start()

    def _run(self, data: bytes) -> None:
        try:
            self._laid_out = laid_out(data, self.literals, self.lengths)
            self._made = stage(self.target, data)
        except BaseException as error:  # handed to place()
            self._error = error

    def place(self) -> Layout | None:
        self._thread.join()
        if isinstance(self._error, OSError):
            raise OutputError(
                f"cannot write {self.target}: {self._error.strerror}; check the output folder"
            ) from None
        if self._error is not None:
            raise self._error
        assert self._made is not None
        self.writer.adopt(INDEX_FILE, self._made)
        stamp = self.writer.stamps.get(INDEX_FILE)
        if stamp is None or not self._laid_out or len(self.lengths) != len(self.keys):
            return None
        return Layout(
            stamp=stamp,
            keys=tuple(self.keys),
            lengths=tuple(self.lengths),
            literals=tuple(self.literals),
        )


def _literals(config: Config, count: int) -> list[bytes] | None:
    """The literal text of an index of ``count`` posts: that of three posts, its separator
    repeated (the same bytes as rendering ``count`` marks, which at 10,000 posts cost a
    one-post build 3 ms; ``tests/test_index.py`` holds them equal)."""

    def render(marks: list[bytes]) -> bytes:
        return _render(config, [_MARK] * len(marks)).encode("utf-8")

    return template(render, _MARK_TEXT, count, repeats=True)


def _entry(post: Post) -> bytes | None:
    """A post's entry as it sits in ``posts.json``; None where :func:`render_index` would
    hand the whole file to ``json.dumps``."""
    try:
        return _flat_entry(post).encode("utf-8")
    except _Unusual:
        text = jsontext.dumps_nested(post_summary(post), depth=2)
        return text.encode("utf-8") if text is not None else None


#: JSON text of a str (the C encoder json.dumps uses; it takes a str subclass too, which
#: the general encoder hands to json.dumps: the callers check the type first).
_quote = encode_basestring


class _Unusual(Exception):
    """A value of a type the flat entry does not write (a str subclass, an int for a
    bool): the general encoder writes the entry."""


def _flat_entry(post: Post) -> str:
    """:func:`jsontext.dumps_nested` of :func:`post_summary` at depth 2 (its keys
    sorted), written as one template: the general encoder's recursion, sorting and lists
    were most of writing ``posts.json`` (0.1 s of one core at 10,000 posts, issue 12).
    ``tests/test_index.py`` holds the two equal; raises :class:`_Unusual` for a value
    it does not write as the general encoder would."""
    og_image, updated, featured, popular = (
        post.og_image,
        post.updated,
        post.is_featured,
        post.is_popular,
    )
    if not (
        type(post.id) is str
        and type(post.url) is str
        and type(post.page_url) is str
        and type(post.title) is str
        and type(featured) is bool
        and type(popular) is bool
    ):
        raise _Unusual
    return f"""{{
      "authors": {_authors(post.authors)},
      "categories": {_strings(post.categories)},
      "date": {_quote(post.date.isoformat())},
      "external_url": {_optional(post.external_url)},
      "id": {_quote(post.id)},
      "is_featured": {"true" if featured else "false"},
      "is_popular": {"true" if popular else "false"},
      "og_image": {_quote(og_image.name) if og_image else "null"},
      "og_image_url": {_optional(post.og_image_url)},
      "page_url": {_quote(post.page_url)},
      "summary": {_optional(post.summary)},
      "tags": {_strings(post.tags)},
      "title": {_quote(post.title)},
      "updated": {_quote(updated.isoformat()) if updated else "null"},
      "url": {_quote(post.url)}
    }}"""


def _optional(value: object) -> str:
    if value is None:
        return "null"
    if type(value) is not str:
        raise _Unusual
    return _quote(value)


def _strings(values: Sequence[str]) -> str:
    """A list of strings, the value of an entry's key (its items three levels deep)."""
    if not values:
        return "[]"
    if any(type(value) is not str for value in values):
        raise _Unusual
    return "[\n        " + ",\n        ".join(map(_quote, values)) + "\n      ]"


def _authors(authors: Sequence[Author]) -> str:
    """The authors' list: each author an object of its non-empty fields (sorted keys)."""
    if not authors:
        return "[]"
    written = []
    for author in authors:
        pairs = [
            f'\n          "{key}": {_optional(value)}'
            for key, value in (("email", author.email), ("name", author.name), ("org", author.org))
            if value
        ]
        written.append("{" + ",".join(pairs) + "\n        }" if pairs else "{}")
    return "[\n        " + ",\n        ".join(written) + "\n      ]"
