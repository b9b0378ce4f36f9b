"""Read a file from the site without trusting what kind of file it is.

A pull request can commit a named pipe, or a link to a device, where a post or a config
file is expected. ``open`` on a pipe waits for a writer forever and a device never ends, so
every file the posts stage reads is opened without blocking, checked to be a regular file,
and read no further than a cap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def read_regular(path: Path, limit: int) -> bytes | None:
    """At most ``limit`` + 1 bytes of ``path`` (enough to tell it is too big), or None when
    it is not a regular file (a pipe, a device, a socket). OSError when it cannot be opened."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            return None
        # Sized by the file, not by the cap: a read(cap) allocates (and maps) the whole
        # cap for every post, then shrinks it (issue 12: system time of a cold build).
        want = limit + 1
        first = os.read(fd, min(want, status.st_size + 1))
        parts = [first]
        total = len(first)
        while first and total < want:  # the file grew since the stat, or reads came short
            first = os.read(fd, min(want - total, 1 << 20))
            parts.append(first)
            total += len(first)
        return parts[0] if len(parts) == 1 else b"".join(parts)
    finally:
        os.close(fd)
