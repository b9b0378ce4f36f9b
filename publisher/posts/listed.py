"""The post files a glob of the posts folder finds, taken from the stat pass's walk of it.

Every build stats its inputs before it reads anything (snapshot.py): the walk of the posts
folder lists each folder under it and stats each file there. A glob of the same folder
(posts/folder.py) then did it all again, a listing of the folder and a stat per post
(0.08 to 0.15 s at 10,000 posts, before the read pool can start: issue 12). The walk
already holds what the glob asks: each name, whether it is a folder (links followed, as
pathlib follows them) and whether it is a regular file. Its files are the ones the build
records as read, so a post added after the walk is left to the next build, which sees
its folder changed.

A walk that met a link to a folder (walked once however many links lead to it), an entry
it could not tell a file or a folder, or a folder it could not list is not what a glob
finds: the finder globs then (:attr:`snapshot.Snapshot.odd`), and for any pattern but
plain parts (``*``, ``?`` and ``[...]`` within a part, no ``**``, ``.`` or ``..``).
tests/test_posts_listed.py holds the two to the same files.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from publisher.snapshot import Entry, Snapshot


def listed_files(taken: Snapshot, folder: str, pattern: str, prefix: str) -> list[str] | None:
    """The paths of the regular files ``Path(folder).glob(pattern)`` finds, from the walk
    of ``folder`` labelled ``prefix`` in ``taken``; None when that walk cannot tell."""
    parts = pattern.split("/")
    if os.name != "posix" or folder.endswith("/") or "\0" in pattern:
        return None
    if any(part in ("", ".", "..") or "**" in part for part in parts):
        return None
    if prefix in taken.odd:
        return None
    span = next(((start, end) for walked, start, end in taken.walks if walked == prefix), None)
    if span is None or span[0] == span[1]:
        return None  # not walked, or an empty folder: nothing to spare
    skip = len(prefix) + 1  # "post:/"
    entries: Sequence[Entry] = taken.entries[span[0] : span[1]]
    label, path, _ = entries[0]
    # Every path in a walk is its folder's and its label's (a folder's line ends in "/").
    if (f"{path}/" if label.endswith("/") else path) != f"{folder}/{label[skip:]}":
        return None  # a walk of another folder
    last = parts[-1]
    if not _wild(last):
        # Most entries are not named as the pattern ends ("index.md"): a string test in
        # C leaves the few others to the loop below (30,000 entries at 10,000 posts).
        ending = f"/{last}"
        entries = [entry for entry in entries if entry[0].endswith(ending)]
    slashes = prefix.count("/") + len(parts)  # in a label ("post:/a/index.md") of a match
    is_file = stat.S_ISREG
    found = [
        (label, path)
        for label, path, st in entries
        if st is not None and is_file(st.st_mode) and label.count("/") == slashes
    ]
    # Each part to test by name: not "*", which matches any name, nor a plain last part.
    tests = [
        (at, _test(part))
        for at, part in enumerate(parts)
        if part != "*" and (at < len(parts) - 1 or _wild(part))
    ]
    if tests:
        found = [(label, path) for label, path in found if _matches(label[skip:].split("/"), tests)]
    return [path for _, path in found]


def _matches(names: list[str], tests: list[tuple[int, Callable[[str], object]]]) -> bool:
    return all(test(names[at]) for at, test in tests)


def _wild(part: str) -> bool:
    return "*" in part or "?" in part or "[" in part


def _test(part: str) -> Callable[[str], object]:
    """Whether a name matches one part of the pattern, as pathlib's glob tells."""
    if _wild(part):
        return re.compile(fnmatch.translate(part)).fullmatch
    return part.__eq__
