"""The posts folder: which files are posts, their ids, and their names in messages."""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from publisher.config import Config
from publisher.errors import Problem
from publisher.posts.sources import get as get_source
from publisher.snapshot import POSTS, Snapshot


def display_path(path: Path, root: Path) -> str:
    """A path for messages: relative to the config's folder, or the working folder, if inside.

    Always valid UTF-8: a name that is not (kept by Python as surrogate escapes) shows
    its stray bytes as ``\\xff``, so printing or encoding a message never fails.
    """
    text = os.fspath(path)
    for base in (root, Path.cwd()):
        relative = below(text, os.fspath(base))
        if relative is not None:
            return printable_name(relative)
    return printable_name(path.as_posix())


def below(path: str, base: str) -> str | None:
    """``path`` relative to ``base`` (both absolute and normalized, as ``str(Path)`` is), or
    None when it is not inside: ``Path.relative_to`` without building Path objects, which
    costs a tenth of a second per 10,000 posts (issue 12)."""
    if path == base:
        return "."
    prefix = base if base.endswith("/") else base + "/"
    return path[len(prefix) :] if path.startswith(prefix) else None


def plain_stat(path: str, folder: str) -> os.stat_result | None:
    """``lstat`` of ``path`` when it is ``folder`` followed by names none of which is a
    symbolic link, so (``folder`` being resolved) ``path`` is resolved too; else None.

    A few ``lstat`` calls instead of ``Path.resolve``, which walks every component from
    the root; None sends the caller to ``resolve`` (a link, an error, an odd name).
    """
    return PlainPaths(folder).stat(path)


class PlainPaths:
    """:func:`plain_stat` for many paths below one folder, each folder on the way checked
    once: a post's folder is not stat'ed again for its og image."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._plain: set[str] = set()  # folders below ``folder`` known to be no link

    def stat(self, path: str) -> os.stat_result | None:
        relative = below(path, self.folder)
        if relative is None or relative == ".":
            return None
        names = relative.split("/")
        current = self.folder.rstrip("/")
        try:
            for index, name in enumerate(names):
                if name in ("", ".", ".."):
                    return None
                current = f"{current}/{name}"
                last = index == len(names) - 1
                if not last and current in self._plain:
                    continue
                found = os.lstat(current)
                if stat.S_ISLNK(found.st_mode):
                    return None
                if not last:
                    self._plain.add(current)
        except (OSError, ValueError):
            return None
        return found


def printable_name(name: str) -> str:
    """``name`` with the bytes of a non-UTF-8 file name written as ``\\xNN``."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def refuse(
    path: Path, file: str, folder: Path, real_folder: Path, plain: bool | None = None
) -> Problem | None:
    """Why a found post file must not be read at all, or None.

    ``glob`` follows symbolic links, so a post folder or index.md that links outside the
    posts folder would publish any file the process can read (``/etc/passwd`` as a post
    body). A link that stays inside the folder is fine. ``real_folder`` is
    ``folder.resolve()``, resolved once per build; ``plain`` whether :func:`plain_stat`
    found the path (None: find out here).
    """
    text = os.fspath(path)
    relative = below(text, os.fspath(folder))
    if relative is None:
        relative = path.relative_to(folder).as_posix()  # raises ValueError, as it did
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
    if plain is None:
        plain = real_folder == folder and plain_stat(text, os.fspath(folder)) is not None
    if not plain and not path.resolve().is_relative_to(real_folder):
        return Problem(
            file=file,
            field=None,
            message="is a symbolic link (or inside one) that leads outside posts.folder; not read",
            fix="copy the post into the posts folder instead of linking to it",
        )
    return None


def find_post_files(config: Config, taken: Snapshot | None = None) -> list[Path]:
    """The post files: by ``posts.glob`` for the generic layout, else as the generator finds
    them. ``taken``: this build's stat pass, whose walk of the posts folder is globbed
    instead of the folder when it can be (posts/listed.py)."""
    folder = config.posts.folder
    if config.posts.generator == "generic":
        found = None
        if taken is not None:
            from publisher.posts.listed import listed_files

            paths = listed_files(taken, os.fspath(folder), config.posts.glob, POSTS)
            found = None if paths is None else [Path(path) for path in paths]
        if found is None:
            found = plain_glob(folder, config.posts.glob)
        if found is None:
            found = [p for p in folder.glob(config.posts.glob) if p.is_file()]
        # Sorted by parts, as Paths compare, but without Path.__lt__ (issue 12).
        return sorted(found, key=_parts)
    if not folder.is_dir():
        return []
    return get_source(config.posts.generator).find(folder)


def plain_glob(folder: Path, pattern: str) -> list[Path] | None:
    """The regular files ``folder.glob(pattern)`` finds (symbolic links followed, as
    ``Path.is_file`` does), for a pattern of plain parts (no ``**``, ``.`` or ``..``, no
    empty part) on POSIX; None for any other pattern: the caller asks pathlib.

    Path.glob makes a Path object per folder on the way and stats each match twice
    (``exists``, then the caller's ``is_file``): 0.11 s at 10,000 posts for
    ``*/index.md``, against 0.04 s here, before the read pool can start (issue 12). Each
    error is met as pathlib meets it: a folder that refuses a listing or a lookup
    (``PermissionError``) gives nothing more, a missing one nothing, any other error is
    raised."""
    parts = pattern.split("/")
    base = os.fspath(folder)
    if os.name != "posix" or base.endswith("/") or "\0" in pattern:
        return None
    if any(part in ("", ".", "..") or "**" in part for part in parts):
        return None
    if not folder.is_dir():
        return []
    paths = [base]
    for part in parts[:-1]:
        if "*" in part or "?" in part or "[" in part:
            match = re.compile(fnmatch.translate(part)).fullmatch
            paths = [p for path in paths for p in _matching(path, match, last=False)]
        else:
            paths = [f"{path}/{part}" for path in paths if _present(f"{path}/{part}")]
    part = parts[-1]
    if "*" in part or "?" in part or "[" in part:
        match = re.compile(fnmatch.translate(part)).fullmatch
        found = [p for path in paths for p in _matching(path, match, last=True)]
        return [Path(path) for path in found if _stat_is(path, stat.S_ISREG)]
    # pathlib's ``exists`` then the caller's ``is_file``: one stat, a refusal skipped.
    return [Path(f"{path}/{part}") for path in paths if _present(f"{path}/{part}", stat.S_ISREG)]


def _matching(folder: str, match: Callable[[str], object], last: bool) -> list[str]:
    """The entries of ``folder`` whose name ``match``es (only folders unless ``last``)."""
    found: list[str] = []
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
        for entry in entries:
            if not last:
                try:
                    if not entry.is_dir():
                        continue
                except OSError as error:
                    if not _ignorable(error):
                        raise
                    continue
            if match(entry.name):
                found.append(f"{folder}/{entry.name}")
    except PermissionError:
        pass  # what was found before it stays, as pathlib has it
    return found


def _present(path: str, kind: Callable[[int], bool] = stat.S_ISDIR) -> bool:
    """``path`` is there and of ``kind`` (``Path.is_dir``); False on a refusal."""
    try:
        return _stat_is(path, kind)
    except PermissionError:
        return False


def _stat_is(path: str, kind: Callable[[int], bool]) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if not _ignorable(error):
            raise
        return False
    return kind(mode)


def _ignorable(error: OSError) -> bool:
    """The errors pathlib takes for "not there" (its ``_ignore_error``)."""
    return error.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def _parts(path: Path) -> tuple[str, ...]:
    return path.parts


def post_id_for(path: Path, config: Config) -> str:
    """The post's id: its folder below posts.folder (generic), or its path without the
    extension and a trailing /index (generators, whose posts are often single files)."""
    relative = below(os.fspath(path), os.fspath(config.posts.folder))
    if relative is None:
        relative = path.relative_to(config.posts.folder).as_posix()  # raises ValueError
    if config.posts.generator != "generic":
        return get_source(config.posts.generator).post_id(relative)
    post_id = relative.rpartition("/")[0]
    return post_id or path.stem
