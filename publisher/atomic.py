"""Write a file whole or not at all: the one atomic-write helper every stage uses.

A temporary file in the target's folder, flushed and fsynced, then renamed over the target:
a crash or a SIGKILL leaves either the old bytes or the new ones, never a mix, and at worst a
``.NAME.*.tmp`` file that the next build's manifest cleans up.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(
    path: Path,
    data: bytes,
    *,
    mode: int | None = None,
    before_rename: Callable[[], None] | None = None,
) -> None:
    """Replace ``path`` with ``data`` atomically (creating its folder).

    ``mode`` sets the file's permission bits (``mkstemp`` creates 0600); ``before_rename`` runs
    after the data is durable and before it becomes visible (the output journal uses it).
    Raises ``OSError``; callers turn it into their stage's error with the fix.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        if before_rename is not None:
            before_rename()
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
