"""A sequence of posts made only when looked at.

A build that read only the changed posts (``quick.py``) knows every other post by its
row in the site table. The stages it runs need those rows only; a caller that looks at a
post (a feed item the cache lost, ``posts.json`` written whole, a caller of
``build_site`` reading ``result.published``) gets it made from the post cache, as a full
read would have made it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from publisher.incremental.table import Row
from publisher.posts.model import Post

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import overload

#: Makes the posts of some rows (in their order).
Maker = Callable[[list[Row]], list[Post]]


class Made:
    """The posts made so far, by file, shared by the sequences of one build."""

    def __init__(self, maker: Maker, held: dict[str, Post]) -> None:
        self.maker = maker
        self.held = held

    def get(self, rows: Sequence[Row]) -> list[Post]:
        wanted = [row for row in rows if row.file not in self.held]
        if wanted:
            for row, post in zip(wanted, self.maker(wanted), strict=True):
                self.held[row.file] = post
        return [self.held[row.file] for row in rows]


class LazyPosts(Sequence[Post]):
    """The posts of ``rows``, in that order, each made on first use (see :class:`Made`)."""

    def __init__(self, rows: Sequence[Row], made: Made) -> None:
        self.rows = tuple(rows)
        self.made = made

    def __len__(self) -> int:
        return len(self.rows)

    if TYPE_CHECKING:  # the overloads, for the checker only

        @overload
        def __getitem__(self, index: int) -> Post: ...

        @overload
        def __getitem__(self, index: slice) -> Sequence[Post]: ...

    def __getitem__(self, index: int | slice) -> Post | Sequence[Post]:
        if isinstance(index, slice):
            return tuple(self.made.get(self.rows[index]))
        return self.made.get([self.rows[index]])[0]

    def pick(self, positions: Sequence[int]) -> list[Post]:
        """The posts at ``positions``, those not made yet made in one read (asked for
        one at a time, each would be a read of the post cache and a commit of its own)."""
        return self.made.get([self.rows[i] for i in positions])

    def __iter__(self) -> Iterator[Post]:
        # All at once: one read of the post cache, not one per post.
        return iter(self.made.get(self.rows))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazyPosts({len(self.rows)} posts)"
