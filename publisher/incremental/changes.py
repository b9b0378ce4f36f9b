"""Which post files changed since the site table was kept: by the stat pass's digest of
each post folder (``table.folders``)."""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Mapping

from publisher.config import Config
from publisher.incremental.table import POSTS, Row, Stored, group_of, os_path


def changed_files(
    config: Config, stored: Stored, digests: Mapping[str, str], most: int
) -> tuple[list[Row | str], list[Row]] | None:
    """(the post files to read: rows, or labels of new files; the rows whose files are
    gone), or None when the change is not one this path takes (more than ``most`` files to read). A post is read again
    when anything in its folder changed (its og image, a file its warning lists)."""
    by_group: dict[str, Row] = {}
    for row in stored.rows:
        by_group[group_of(row.label)] = row
    if len(by_group) != len(stored.rows):
        return None
    folder = os.fspath(config.posts.folder)
    first, name = config.posts.glob.split("/")
    reread: list[Row | str] = []
    gone: list[Row] = []
    for group, row in by_group.items():
        sig = digests.get(group)
        if sig == row.sig and sig != "?":
            continue
        if sig is not None and _is_file(row.source):
            reread.append(row)
        else:
            gone.append(row)
    for group in digests.keys() - by_group.keys():
        # A folder with no post last time (or a file): a post now, if the glob finds one.
        if group and fnmatch.fnmatchcase(group, first):
            label = f"{POSTS}/{group}/{name}"
            if _is_file(os_path(folder, label)):
                reread.append(label)
    if len(reread) > most:
        return None
    return reread, gone


def _is_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False
