"""Read a folder of posts into frozen :class:`Post` objects and diagnostics.

The stage, one small module per idea::

    folder.py       which files are posts, their ids, their names in messages
    collect.py      read_posts: the stage function (cache, process pool)
    reader.py       one file's bytes -> a record and its problems (record.py: the fields)
    frontmatter.py  YAML frontmatter, with limits (tomljson.py: TOML and JSON)
    mdx.py          MDX components a feed can show -> HTML (components.py: what each becomes)
    jsx.py          the rest of the MDX syntax stripped
    body.py         markdown (cmark-gfm, cmark.py) -> HTML, URLs made absolute
    fields.py       dates, authors, tags, URLs (text.py: clean-up of text)
    limits.py       the size limits of a post; files.py: reading a file safely
    rules.py        the rules that need all posts at once
    cache.py        parsed posts kept by a hash of their bytes (found.py: which files)
    model.py        Post, Author, Body, ReadResult
    sources/        one reader per static-site generator

The names below are imported on first use (PEP 562): loading config.yaml imports
``publisher.posts.sources``, and a build with nothing changed must not pay for the
reader's imports (issue 12).
"""

from __future__ import annotations

from publisher.lazy import lazy_exports

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.posts.collect import Progress, read_posts
    from publisher.posts.folder import display_path, find_post_files, post_id_for, printable_name
    from publisher.posts.model import Author, Post, ReadResult

#: Each public name and the module that defines it.
_HOMES = {
    "Progress": "collect",
    "read_posts": "collect",
    "display_path": "folder",
    "find_post_files": "folder",
    "post_id_for": "folder",
    "printable_name": "folder",
    "Author": "model",
    "Post": "model",
    "ReadResult": "model",
}

__all__ = [
    "Author",
    "Post",
    "Progress",
    "ReadResult",
    "display_path",
    "find_post_files",
    "post_id_for",
    "printable_name",
    "read_posts",
]


__getattr__ = lazy_exports(__name__, _HOMES, globals())
