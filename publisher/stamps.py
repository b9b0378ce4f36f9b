"""A file's stamp, and whether a file holds given bytes: what :mod:`publisher.output`
needs to know a file is unchanged, reading it only when its stamp cannot tell."""

from __future__ import annotations

import os
import stat
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Literal

    Status = Literal["created", "changed", "unchanged"]
else:
    Status = str  # the checker's Literal above, for annotations and aliases only

#: A file this build wrote, as its stat tells it: (size, mtime, inode, ctime; in ns). No
#: edit keeps all four: a tool that restores the mtime still moves the ctime.
Stamp = tuple[int, int, int, int]
#: A spliced file's parts: new bytes, or (offset, length) of the file it replaces.
Part = bytes | tuple[int, int]


def stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def stamp_token(stamp: Stamp) -> str:
    """A spliced file's manifest entry, in place of a hash of bytes never read: its size
    and mtime, as inputs.py and the post cache trust a file's stat (an edit moves the
    mtime). Not its inode and ctime, which a rename (a killed run's file), a copy that
    keeps times or a cache restored in CI change: a withdrawn feed must still be deleted
    then. (A splice itself asks for all four: ``write_splice``.)"""
    return f"stat:{stamp[0]}:{stamp[1]}"


def parts_match(source: int, parts: list[Part]) -> bool:
    """Whether ``parts`` make the bytes of ``source`` (of their size): new bytes equal to
    what is there (an item rendered again as it was), runs copied from where they are."""
    at = 0
    for part in parts:
        if isinstance(part, bytes):
            if os.pread(source, len(part), at) != part:
                return False
            at += len(part)
        elif part[0] != at:
            return False
        else:
            at += part[1]
    return True


def compare_file(path: Path, data: bytes) -> tuple[Status, Stamp | None]:
    """Whether ``path`` holds ``data``, read a block at a time: a feed file can be 70 MB,
    and reading it whole beside the new bytes doubled a build's peak memory (issue 12).
    With it, the stamp of the file read, taken before reading: an edit while it is read
    moves the file's stamp away from it, so no stamp is ever noted for bytes not compared.
    Opened without blocking: a FIFO put in a file's place must not hang the build."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return "created", None
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            return "created", None
        if found.st_size != len(data):
            return "changed", None
        view = memoryview(data)
        for start in range(0, len(data), 1 << 20):
            if os.read(fd, 1 << 20) != view[start : start + (1 << 20)]:
                return "changed", None
        return ("changed", None) if os.read(fd, 1) else ("unchanged", stamp_of(found))
    except OSError:
        return "created", None
    finally:
        os.close(fd)
