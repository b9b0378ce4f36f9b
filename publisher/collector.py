"""The cyclic garbage collector kept from walking what a build holds for its whole run.

Paused (:func:`paused`) around work that makes many small objects and no cycles of its
own: decoding the site table's 10,000 rows, making them, laying out a 70 MB feed. Each
such burst started a collection every 700 objects, and at 10,000 posts one of them walked
every object of the build (30 to 90 ms of a one-post build; 90 ms of keeping the site
table after a cold one). Nothing is leaked: what becomes garbage while paused is
collected once the collector runs again.

And once the posts are read, what the build holds so far is set aside (:func:`hold`,
``gc.freeze``) until it ends (:func:`release`): the rows, posts and feed entries live
until then, and every later collection walked them again (60 to 90 ms of CPU of a
one-post build at 10,000 posts). Reference counting still frees them; only garbage in
cycles made before the hold waits for the release.
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


def hold() -> None:
    """Set aside every object the collector tracks now, until :func:`release`."""
    gc.freeze()


def release() -> None:
    """Give the collector back what :func:`hold` set aside."""
    gc.unfreeze()
