"""The items at some positions of a sequence, taken in one call.

A build that read only the changed posts hands the writing stages posts made only when
looked at (``incremental/lazy.py``): each post asked for alone costs a read of the post
cache and its commit, so a stage that needs many (every feed item, when the feed cache
was lost: 10,000 reads at 10,000 posts) asks for them together here.
"""

from __future__ import annotations

from collections.abc import Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")


def pick(items: Sequence[T], positions: Sequence[int]) -> list[T]:
    """``[items[i] for i in positions]``, made in one go when ``items`` can (a sequence
    with a ``pick`` method, such as ``LazyPosts``)."""
    together = getattr(items, "pick", None)
    if together is not None:
        return list(together(positions))
    return [items[i] for i in positions]
