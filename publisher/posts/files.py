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
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read(limit + 1)
