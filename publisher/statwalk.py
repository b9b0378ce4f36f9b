"""The walk of the stat pass (snapshot.py): every file and folder under a folder, with its
stat, listing only the folders that changed since the last record.

A folder whose stat (inode, size, mtime, ctime) is the one the last record kept, and older
than two seconds, is not listed again; its recorded entries are used. Adding, removing or
renaming an entry changes the folder's mtime and ctime, and ctime cannot be set back by
hand. Each file is stat'ed every time (an edit in place leaves its folder alone). A leaf
module (the standard library only), as snapshot.py is.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import signal
import stat
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (the fast path)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any, NoReturn

#: Stats relative to an open folder (``os.stat(name, dir_fd=...)``), where the platform has them.
AT = os.stat in os.supports_dir_fd
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)

#: A walk of a folder with at least this many folders in it is split in two: a forked
#: process walks some of them while this one walks the others (the stat pass of 10,000
#: posts on two cores: see _split).
SPLIT_FROM = 1000

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
        #: Links to folders met (a split walk's part that met one is walked again here).
        self.linked = 0

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
        stack = [(folder, prefix)]
        seen = {(top.st_dev, top.st_ino)}
        where = (folder, prefix, keep, fd, top)
        self._descend(where, stack, seen, out, 1)  # the folder's own entries
        # Only a walk that lists its folders: a known folder costs a stat, and taking a
        # part's stats back from the other process would cost as much as their walk.
        if len(stack) >= SPLIT_FROM and not self.known and prefix not in self.odd and _can_fork():
            self._split(where, stack, seen, out)
        else:
            self._descend(where, stack, seen, out)

    def _descend(
        self,
        where: tuple[str, str, str, int, os.stat_result],
        stack: list[tuple[str, str]],
        seen: set[tuple[int, int]],
        out: list[Entry],
        folders: int = -1,
    ) -> None:
        """Walk the folders on ``stack`` (at most ``folders`` of them: -1, all) and the
        folders found in them, onto ``out`` in the walk's order."""
        folder, prefix, keep, fd, top = where
        # The loop below runs once per file: 30,000 times at 10,000 posts.
        add = out.append
        listing = self.listing
        check = bool(self.known)
        is_dir = stat.S_ISDIR
        at = fd >= 0
        stat_of = os.stat
        skip = len(folder) + 1  # a path's part below ``folder``
        st: os.stat_result | None = top
        while stack and folders != 0:
            folders -= 1
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
                        self.linked += 1
                        linked = stat_or_none(child)
                        if linked is None:
                            add((child_label, child, None))
                            continue
                        if (linked.st_dev, linked.st_ino) in seen:
                            continue
                        seen.add((linked.st_dev, linked.st_ino))
                    stack.append((child, child_label))

    def _split(
        self,
        where: tuple[str, str, str, int, os.stat_result],
        stack: list[tuple[str, str]],
        seen: set[tuple[int, int]],
        out: list[Entry],
    ) -> None:
        """Walk ``stack`` as :meth:`_descend` does, its first folders (the last walked)
        in a forked process while this one walks the others: the same entries, listings
        and counts. A part the process could not walk, or in which it met a link to a
        folder (the serial walk would skip one already seen here), is walked here."""
        cut = len(stack) * 9 // 20  # the unpacking here costs about a tenth of the walk
        theirs = stack[:cut]
        del stack[:cut]
        pipe = os.pipe()
        # Ctrl-C or a SIGTERM between the fork and the forked process's ignoring them would
        # stop it inside the build's own code: held back until then (and here until the
        # fork is done, so that a build stopped here ends the process it forked).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            pid = os.fork()
        except OSError:
            pid = -1  # no process to spare: the whole walk is done here
        if pid == 0:
            _walk_part(self, (where, theirs, seen), pipe, held)
        done = False
        try:
            os.close(pipe[1])
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            self._descend(where, stack, seen, out)
            data = _read_all(pipe[0]) if pid > 0 else b""
            done = True
        finally:
            os.close(pipe[0])
            if pid > 0:
                _reap(pid, done)
        shipped = _unship(data)
        if shipped is None:
            self._descend(where, theirs, seen, out)
            return
        entries, tree, relisted, odd = shipped
        out.extend(entries)
        self.tree.update(tree)
        self.relisted += relisted
        self.odd.update(odd)


#: The signals held back while the stat pass forks.
_HELD = (signal.SIGINT, signal.SIGTERM)


def _can_fork() -> bool:
    """A fork is safe here: a POSIX system, no thread but this one (a forked thread's lock
    could be held forever in the copy)."""
    threading = sys.modules.get("threading")
    if not hasattr(os, "fork") or not hasattr(signal, "pthread_sigmask"):
        return False
    return threading is None or threading.active_count() == 1


def _walk_part(
    walker: Walker,
    part: tuple[
        tuple[str, str, str, int, os.stat_result], list[tuple[str, str]], set[tuple[int, int]]
    ],
    pipe: tuple[int, int],
    held: Iterable[int],
) -> NoReturn:
    """In the forked process: walk the part, write what it found to the pipe, exit (and
    on any error write nothing: the build walks the part itself). Ctrl-C is the build's to
    handle (a terminal sends it to the whole process group); the part ends on its own, in
    a tenth of a second, or when the build ends it."""
    try:
        os.close(pipe[0])
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        gc.disable()  # no finalizer of the build's objects runs in this copy
        where, stack, seen = part
        walker.tree, walker.relisted, walker.odd, walker.linked = {}, 0, set(), 0
        out: list[Entry] = []
        walker._descend(where, stack, seen, out)
        if not walker.linked:
            data = _ship(out, walker.tree, walker.relisted, walker.odd)
            view = memoryview(len(data).to_bytes(8, "little") + data)
            while view:
                view = view[os.write(pipe[1], view) :]
    except BaseException:  # anything at all: nothing written, the build walks the part
        pass
    finally:
        os._exit(0)


def _read_all(reading: int) -> bytes:
    parts = []
    while part := os.read(reading, 1 << 20):
        parts.append(part)
    return b"".join(parts)


def _reap(pid: int, done: bool) -> None:
    """Wait for the forked process (ended at once when this walk failed)."""
    if not done:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.waitpid(pid, 0)


def _ship(out: list[Entry], tree: dict[str, Listing], relisted: int, odd: set[str]) -> bytes:
    """What a forked part found, as bytes: each stat as the 16 values os.stat_result is
    made of (marshal: the standard library's fastest for strings, numbers and tuples)."""
    entries = [
        (
            label,
            path,
            None
            if st is None
            else (
                *st,  # mode, inode, device, links, user, group, size, whole seconds
                st.st_atime,
                st.st_mtime,
                st.st_ctime,
                st.st_atime_ns,
                st.st_mtime_ns,
                st.st_ctime_ns,
            ),
        )
        for label, path, st in out
    ]
    return marshal.dumps((entries, tree, relisted, sorted(odd)))


def _unship(
    data: bytes,
) -> tuple[list[Entry], dict[str, Listing], int, list[str]] | None:
    """What :func:`_ship` wrote, or None when it wrote nothing or not all of it."""
    if len(data) < 8 or int.from_bytes(data[:8], "little") != len(data) - 8:
        return None
    entries, tree, relisted, odd = marshal.loads(data[8:])
    made = os.stat_result
    return (
        [(label, path, None if st is None else made(st)) for label, path, st in entries],
        tree,
        relisted,
        odd,
    )
