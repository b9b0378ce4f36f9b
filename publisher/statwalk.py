"""The walk of the stat pass (snapshot.py): every file and folder under a folder, with its
stat, listing only the folders that changed since the last record.

A folder whose stat (inode, size, mtime, ctime) is the one the last record kept, and older
than two seconds, is not listed again; its recorded entries are used. Adding, removing or
renaming an entry changes the folder's mtime and ctime, and ctime cannot be set back by
hand. Each file is stat'ed every time (an edit in place leaves its folder alone). A leaf
module (the standard library only), as snapshot.py is.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (the fast path)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

#: Stats relative to an open folder (``os.stat(name, dir_fd=...)``), where the platform has them.
AT = os.stat in os.supports_dir_fd
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)

#: (label, path, stat or None when it cannot be stat'ed), in a fixed order.
Entry = tuple[str, str, os.stat_result | None]
#: A folder's recorded listing, one string: its stat ("inode:size:mtime:ctime"), then each
#: entry as kind + name (f file, d folder, l linked folder), NUL-separated (no file name
#: holds a NUL). One string, not lists: 10,000 of them load fast, and the garbage collector
#: does not walk them while the build runs.
Listing = str


class Stale(Exception):
    """A recorded listing disagrees with the disk: the walk is done again from scratch."""


def stat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _signature(st: os.stat_result) -> str:
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


class Walker:
    """Walks folders, reusing the listings of folders unchanged since the last record."""

    def __init__(self, known: Mapping[str, Any], since_ns: int) -> None:
        self.known = known
        #: A folder changed after this may not show it in its stat.
        self.since_ns = since_ns
        self.tree: dict[str, Listing] = {}
        self.relisted = 0
        #: The label prefixes of walks that met a linked folder, an entry that could not
        #: be told a file or a folder, or a folder that could not be listed: their
        #: entries are not what a glob of the folder would find (a link to a folder
        #: walked once is globbed once per link), so the posts finder globs those
        #: itself (posts/listed.py).
        self.odd: set[str] = set()

    def listing(
        self, path: str, label: str, keep: str, st: os.stat_result | None
    ) -> Sequence[str] | None:
        """The folder's entries as kind + name, sorted by name (``st`` its stat, None when
        it cannot be stat'ed); None if it cannot be listed."""
        if st is not None and self.known and not stat.S_ISDIR(st.st_mode):
            raise Stale(path)  # a folder the last record listed is a file now
        recent = st is None or max(st.st_mtime_ns, st.st_ctime_ns) > self.since_ns
        if st is not None and not recent:
            known = self.known.get(label)
            if isinstance(known, str):  # anything else: a damaged record, listed afresh
                reused = known.split("\0")
                if reused[0] == f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}":
                    self.tree[label] = known
                    del reused[0]
                    return reused
        try:
            # Stat'ed before it is listed: an entry added in between changes the stat
            # recorded, and the next pass lists the folder again.
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError:
            return None
        names = []
        trusted = st is not None and not recent
        for entry in entries:
            try:
                if entry.is_dir():
                    if keep == "code" and entry.name == "__pycache__":
                        continue
                    names.append(("l" if entry.is_symlink() else "d") + entry.name)
                elif keep != "code" or entry.name.endswith(".py"):
                    names.append("f" + entry.name)
            except OSError:
                names.append("e" + entry.name)
                trusted = False  # not kept: listed again next time
        if trusted and st is not None:
            self.tree[label] = "\0".join((_signature(st), *names))
            self.relisted += 1
        return names

    def walk(self, folder: str, prefix: str, keep: str, out: list[Entry]) -> None:
        """Every file and folder under ``folder`` with its stat, in a fixed order, onto
        ``out``; symlinks are followed, as the posts glob follows them."""
        top = stat_or_none(folder)
        if top is None:
            out.append((prefix, folder, None))
            self.odd.add(prefix)
            return
        try:
            # Below ``folder``, each stat names its path from there: the kernel does not
            # look up ``folder``'s own components 30,000 times (at 10,000 posts, ~15% of
            # the pass).
            fd = os.open(folder, _DIRECTORY) if AT else -1
        except OSError:
            fd = -1
        try:
            self._walk(folder, prefix, keep, out, fd, top)
        finally:
            if fd >= 0:
                os.close(fd)

    def _walk(
        self,
        folder: str,
        prefix: str,
        keep: str,
        out: list[Entry],
        fd: int,
        top: os.stat_result,
    ) -> None:
        # The loop below runs once per file: 30,000 times at 10,000 posts.
        add = out.append
        listing = self.listing
        check = bool(self.known)
        is_dir = stat.S_ISDIR
        at = fd >= 0
        stat_of = os.stat
        skip = len(folder) + 1  # a path's part below ``folder``
        stack = [(folder, prefix)]
        seen = {(top.st_dev, top.st_ino)}
        st: os.stat_result | None = top
        while stack:
            path, label = stack.pop()
            if path is not folder:
                try:
                    st = stat_of(path[skip:], dir_fd=fd) if at else stat_of(path)
                except OSError:
                    st = None
            names = listing(path, label, keep, st)
            if names is None:
                self.odd.add(prefix)
                continue
            base, label_base = f"{path}/", f"{label}/"
            relative = base[skip:]
            for kind_name in names:
                kind, name = kind_name[0], kind_name[1:]
                if kind == "f":
                    try:
                        st = stat_of(relative + name, dir_fd=fd) if at else stat_of(base + name)
                    except OSError:
                        st = None
                    if check and st is not None and is_dir(st.st_mode):
                        raise Stale(base + name)  # a linked file's target is a folder now
                    add((label_base + name, base + name, st))
                elif kind == "e":
                    add((label_base + name, base + name, None))
                    self.odd.add(prefix)
                else:
                    # A folder's own stat says nothing its entries do not; only a linked
                    # one is checked, so that a symlink loop is walked once.
                    child, child_label = base + name, label_base + name
                    add((child_label + "/", child, None))
                    if kind == "l":
                        self.odd.add(prefix)
                        linked = stat_or_none(child)
                        if linked is None:
                            add((child_label, child, None))
                            continue
                        if (linked.st_dev, linked.st_ino) in seen:
                            continue
                        seen.add((linked.st_dev, linked.st_ino))
                    stack.append((child, child_label))
