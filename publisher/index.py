"""``posts.json``: the index of the published posts, newest first.

Deterministic: no build time in it, sorted keys. Each post's entry is a piece of the file
keyed by the post's origin (``Post.origin``), so a build after one post changed writes
the file from the one the last build wrote and that post's entry
(:mod:`publisher.splicing`): at 10,000 posts the index is 6 MB.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from publisher import jsontext
from publisher.picking import pick
from publisher.splicing import LayoutStore, template, write_spliced, write_whole

if TYPE_CHECKING:
    from publisher.config import Config
    from publisher.output import OutputWriter
    from publisher.posts import Post

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
            layout = write_whole(writer, INDEX_FILE, data, literals, keys, lengths)
    if layouts is not None:
        layouts.set(INDEX_FILE, layout)


def _literals(config: Config, count: int) -> list[bytes] | None:
    """The literal text of an index of ``count`` posts: that of two posts, its separator
    repeated (the same bytes as rendering ``count`` marks, which at 10,000 posts cost a
    one-post build 3 ms; ``tests/test_index.py`` holds them equal)."""

    def render(marks: list[bytes]) -> bytes:
        return _render(config, [_MARK] * len(marks)).encode("utf-8")

    if count < 2:
        return template(render, _MARK_TEXT, count)
    two = template(render, _MARK_TEXT, 2)
    return None if two is None else [two[0], *[two[1]] * (count - 1), two[2]]


def _entry(post: Post) -> bytes | None:
    text = jsontext.dumps_nested(post_summary(post), depth=2)
    return text.encode("utf-8") if text is not None else None
