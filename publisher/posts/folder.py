"""The posts folder: which files are posts, their ids, and their names in messages."""

from __future__ import annotations

import os
from pathlib import Path

from publisher.config import Config
from publisher.errors import Problem
from publisher.posts.sources import get as get_source


def display_path(path: Path, root: Path) -> str:
    """A path for messages: relative to the config's folder, or the working folder, if inside.

    Always valid UTF-8: a name that is not (kept by Python as surrogate escapes) shows
    its stray bytes as ``\\xff``, so printing or encoding a message never fails.
    """
    for base in (root, Path.cwd()):
        if path.is_relative_to(base):
            return printable_name(path.relative_to(base).as_posix())
    return printable_name(path.as_posix())


def printable_name(name: str) -> str:
    """``name`` with the bytes of a non-UTF-8 file name written as ``\\xNN``."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def refuse(path: Path, file: str, folder: Path) -> Problem | None:
    """Why a found post file must not be read at all, or None.

    ``glob`` follows symbolic links, so a post folder or index.md that links outside the
    posts folder would publish any file the process can read (``/etc/passwd`` as a post
    body). A link that stays inside the folder is fine.
    """
    relative = path.relative_to(folder).as_posix()
    if printable_name(relative) != relative:
        return Problem(
            file=file,
            field=None,
            message="has a folder or file name that is not valid UTF-8",
            fix="rename it with UTF-8 (or plain ASCII letters, digits and hyphens): "
            "the name becomes the post's id and URL",
        )
    if not relative.isprintable():
        return Problem(
            file=file,
            field=None,
            message="has a folder or file name with a control or invisible character",
            fix="rename it with plain letters, digits and hyphens: the name becomes the "
            "post's id and URL",
        )
    if not path.resolve().is_relative_to(folder.resolve()):
        return Problem(
            file=file,
            field=None,
            message="is a symbolic link (or inside one) that leads outside posts.folder; not read",
            fix="copy the post into the posts folder instead of linking to it",
        )
    return None


def find_post_files(config: Config) -> list[Path]:
    """The post files: by ``posts.glob`` for the generic layout, else as the generator finds them."""
    folder = config.posts.folder
    if config.posts.generator == "generic":
        return sorted(p for p in folder.glob(config.posts.glob) if p.is_file())
    if not folder.is_dir():
        return []
    return get_source(config.posts.generator).find(folder)


def post_id_for(path: Path, config: Config) -> str:
    """The post's id: its folder below posts.folder (generic), or its path without the
    extension and a trailing /index (generators, whose posts are often single files)."""
    relative = path.relative_to(config.posts.folder)
    if config.posts.generator != "generic":
        return get_source(config.posts.generator).post_id(relative.as_posix())
    post_id = relative.parent.as_posix()
    return path.stem if post_id == "." else post_id
