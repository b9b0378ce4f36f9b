"""The cyclic garbage collector paused around work that makes many small objects and no
cycles of its own: decoding the site table's 10,000 rows, making them, laying out a
70 MB feed. Each such burst started a collection every 700 objects, and at 10,000 posts
one of them walked every object of the build (30 to 90 ms of a one-post build; 90 ms of
keeping the site table after a cold one). Nothing is leaked: what becomes garbage while
paused is collected once the collector runs again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block (left off when it was off already)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
