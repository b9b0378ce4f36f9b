"""Which post files changed since the site table was kept: by the stat pass's digest of
each post folder (``table.folders``)."""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Mapping
from itertools import chain
from operator import attrgetter

from publisher.config import Config
from publisher.incremental.table import Row, Stored, folders, group_of, os_path, outside
from publisher.incremental.walk import POSTS, Taken, changed_groups
from publisher.incremental.walk import take as take_walk

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.snapshot import Snapshot


def changed_files(
    config: Config,
    stored: Stored,
    digests: Mapping[str, str],
    most: int,
    changed: set[str] | None = None,
) -> tuple[list[Row | str], list[Row]] | None:
    """(the post files to read: rows, or labels of new files; the rows whose files are
    gone), or None when the change is not one this path takes (more than ``most`` files
    to read). A post is read again when anything in its folder changed (its og image, a
    file its warning lists). ``changed``: the folders that changed, when the walk of the
    posts folder has the labels it had (``walk.py``; ``digests`` then holds only theirs),
    else None: every folder's digest is in ``digests``."""
    if changed is not None:
        return _changed_in(config, stored, changed, most)
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


def _changed_in(
    config: Config, stored: Stored, changed: set[str], most: int
) -> tuple[list[Row | str], list[Row]] | None:
    """:func:`changed_files` when only the folders ``changed`` may differ: the same files
    as the digests of every folder would give (``walk.py``). A row kept with its folder
    unjudged (``?``) is read again, whatever its folder's stat says now."""
    rows = stored.rows
    by_label = dict(zip(map(attrgetter("label"), rows), rows, strict=True))
    if len(by_label) != len(rows):
        return None
    folder = os.fspath(config.posts.folder)
    first, name = config.posts.glob.split("/")
    groups = changed | {group_of(row.label) for row in rows if row.sig == "?"}
    reread: list[Row | str] = []
    gone: list[Row] = []
    for group in sorted(groups):
        label = f"{POSTS}/{group}/{name}"
        row = by_label.get(label)
        if row is not None and group_of(row.label) == group:
            (reread if _is_file(row.source) else gone).append(row)
        elif group and fnmatch.fnmatchcase(group, first) and _is_file(os_path(folder, label)):
            reread.append(label)  # a folder with no post last time: a post now
    if len(reread) > most:
        return None
    return reread, gone


def compare(
    snapshot: Snapshot, stored: Stored
) -> tuple[str, Mapping[str, str], set[str] | None, Taken | None] | None:
    """(the digest of the inputs outside the posts folder, the folders' digests, the
    folders that changed, this build's walk of the posts folder), or None when an input
    outside the posts folder changed. With the walk's labels as the table kept them, only
    the folders that changed are known (``walk.py``; their digests are made once their
    files are known); else every folder's digest is, and ``changed`` is None."""
    taken = take_walk(snapshot)
    changed = None
    if taken is not None:
        changed = changed_groups(taken, stored.walk, snapshot.recent)
    if changed is None or taken is None:
        inputs, digests = folders(snapshot)
    else:
        start, end = taken.span
        entries = snapshot.entries
        inputs, digests = outside(chain(entries[:start], entries[end:]), snapshot.recent), {}
    if inputs is None or inputs != stored.inputs:
        return None
    return inputs, digests, changed, taken
