"""The feed stage's order of entries (``generate.feed_order``) and each feed's date: the
order ``sorted`` gives by the key ``(-moment, id)``, on seeded random entries with equal
moments, equal ids and entries in any order; a feed is dated by its newest item."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from publisher.feeds.generate import feed_order
from publisher.feeds.plan import FeedEntry

_START = datetime(2020, 1, 1, tzinfo=UTC)


def _entries(rng: random.Random, count: int) -> list[FeedEntry]:
    moments = [rng.choice([0.0, -0.0, 1.5, 1e9, 1.7e9 + 0.25]) for _ in range(4)]
    entries = []
    for n in range(count):
        moment = rng.choice(moments) if rng.random() < 0.6 else rng.uniform(-1e9, 2e9)
        entries.append(
            FeedEntry(
                id=rng.choice(["a", "b", "post-1", "post-10", "post-2", "\u00e9", f"p{n}"]),
                moment=moment,
                updated=_START + timedelta(seconds=rng.randrange(10**6)),
                categories=(),
                tags=(),
                authors=(),
                is_featured=False,
                is_popular=False,
                key=f"k{n}",  # tells entries with the same id and moment apart
            )
        )
    return entries


@pytest.mark.parametrize("seed", range(40))
def test_feed_order_is_the_sort_by_moment_then_id(seed: int) -> None:
    rng = random.Random(seed)
    entries = _entries(rng, rng.randrange(0, 60))
    if seed % 3 == 0:  # already in order, as a build's entries usually are
        entries.sort(key=lambda e: (-e.moment, e.id))
    expected = sorted(entries, key=lambda e: (-e.moment, e.id))
    got = feed_order(entries)
    assert [e.key for e in got] == [e.key for e in expected]
