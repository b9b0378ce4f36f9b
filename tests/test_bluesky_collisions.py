"""Two posts of one run whose Bluesky record keys collide: each record written once.

The ledger keeps whole seconds, so the posts of one run usually share their first
attempt's second, and so the time half of their record keys; the 10-bit clock ids then
collide 1 time in 1,024. The adapter used to find out by a refused write ("already
exists") and a ``getRecord``; a key it wrote itself in this run is now known taken
without asking. These tests force the collision instead of waiting for it: chosen
idempotency keys and a fixed wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from fakes.harness import PLATFORMS, announce, baseline, running
from fakes.platforms import BlueskyFake
from fakes.posts import NOW, make_post
from fakes.server import Fault

from publisher.announce import deliver as deliver_module
from publisher.announce.adapters.bluesky import BlueskyAnnouncer
from publisher.announce.contract import Announcement, DeliveryError, Receipt
from publisher.announce.send import Sending

FIRST = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)  # whole seconds, as the ledger keeps them
BLUESKY = next(p for p in PLATFORMS if p.kind == "bluesky")


def ann(n: int, key: str, *, url: str | None = None) -> Announcement:
    post = make_post(n, external_url=url)
    return Announcement(
        post=post,
        target="bluesky",
        text=f"{post.title} {post.url}",
        title=post.title,
        summary=post.summary or "",
        url=post.url,
        card=None,
        key=key,
        created_at=FIRST,
    )


def colliding_keys(announcer: BlueskyAnnouncer) -> tuple[str, str]:
    """Idempotency keys of posts 1 and 2 whose first record keys are equal (the clock id
    does not depend on the time, so they collide whenever both start in one second)."""
    first = announcer.rkey(ann(1, "key-one"))
    for n in range(20_000):
        if announcer.rkey(ann(2, f"key-two-{n}")) == first:
            return "key-one", f"key-two-{n}"
    raise AssertionError("no collision in 20,000 keys")


def rkey_of(receipt: Receipt) -> str:
    assert receipt.remote_url is not None
    return receipt.remote_url.rsplit("/", 1)[-1]


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def fresh(fake: BlueskyFake, state: Path) -> BlueskyAnnouncer:
    config = {"handle": fake.handle, "app_password": fake.password, "service": fake.base}
    return BlueskyAnnouncer("bluesky", config, state_dir=state)


Pair = tuple[BlueskyFake, BlueskyAnnouncer, Announcement, Announcement]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    """A running fake, an announcer, and posts 1 and 2 whose first record keys collide."""
    with BlueskyFake() as fake:
        assert isinstance(fake, BlueskyFake)
        announcer = fresh(fake, tmp_path)
        one, two = colliding_keys(announcer)
        yield fake, announcer, ann(1, one), ann(2, two)


def test_a_collision_within_one_run_writes_each_record_once(
    pair: Pair, http: requests.Session
) -> None:
    fake, announcer, first, second = pair
    taken = announcer.rkey(first)
    assert announcer.rkey(second) == taken  # the collision is real
    a = announcer.announce(first, http)
    b = announcer.announce(second, http)
    assert not a.duplicate and not b.duplicate
    assert rkey_of(a) == taken and rkey_of(b) == announcer.rkey(second, 1)
    # No refused write: each post's record is requested once, the second at its next key.
    assert [w.json()["rkey"] for w in fake.writes()] == [taken, announcer.rkey(second, 1)]
    for receipt, announcement in ((a, first), (b, second)):
        assert fake.records[rkey_of(receipt)]["embed"]["external"]["uri"] == announcement.url


@pytest.mark.parametrize("same_url", [False, True], ids=["other-url", "same-url"])
def test_a_key_known_taken_is_decided_as_the_platform_would(
    tmp_path: Path, http: requests.Session, same_url: bool
) -> None:
    """Differential: what this run wrote, read from memory, decides the second post as
    the platform's own answer does for a process that did not write it."""
    outcomes = []
    for remembers in (True, False):
        with BlueskyFake() as fake:
            assert isinstance(fake, BlueskyFake)
            announcer = fresh(fake, tmp_path / str(remembers))
            one, two = colliding_keys(announcer)
            shared = "https://elsewhere.example.org/one-page/" if same_url else None
            first, second = ann(1, one, url=shared), ann(2, two, url=shared)
            announcer.announce(first, http)
            sender = announcer if remembers else fresh(fake, tmp_path / "other")
            b = sender.announce(second, http)
            outcomes.append((rkey_of(b), b.duplicate, len(fake.records)))
            # A later attempt of the second post finds the same record and writes nothing.
            writes = len(fake.writes())
            again = fresh(fake, tmp_path / "later").announce(replace(second, attempt=2), http)
            assert again.duplicate and rkey_of(again) == rkey_of(b)
            assert len(fake.writes()) == writes
    assert outcomes[0] == outcomes[1]
    # A record that links the same page counts as that page's announcement (one record);
    # another page's record is a collision (two records).
    assert outcomes[0][1:] == ((True, 1) if same_url else (False, 2))


def test_the_wrong_shape_2xx_with_colliding_keys_is_still_sent_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The readback table's flaky case, made certain: an odd 200 for the first post, and
    the second post's first record key equal to the first's (one run, one second)."""
    state = tmp_path / "state"
    with running(BLUESKY, monkeypatch) as (fake, config):
        assert isinstance(fake, BlueskyFake)
        announcer = fresh(fake, tmp_path)  # only to name the keys: it makes no request
        pair = colliding_keys(announcer)
        keys = dict(zip((make_post(1).id, make_post(2).id), pair, strict=True))
        baseline([config], state)
        monkeypatch.setattr(deliver_module, "new_key", lambda target, post_id, now: keys[post_id])
        monkeypatch.setattr(Sending, "wall_clock", lambda self: NOW)
        fake.fail_next(Fault.mangle([1, 2, 3]))
        report = announce([config], [make_post(1), make_post(2)], state)
        again = announce([config], [make_post(1), make_post(2)], state)
    assert [d.result for d in report.decisions] == ["sent", "sent"]
    rkeys = [w.json()["rkey"] for w in fake.writes()]
    first = replace(ann(1, keys[make_post(1).id]), created_at=NOW)
    second = replace(ann(2, keys[make_post(2).id]), created_at=NOW)
    assert announcer.rkey(first) == announcer.rkey(second)  # they did collide
    assert rkeys == [announcer.rkey(first), announcer.rkey(second, 1)]
    assert len(fake.delivered) == 2
    assert again.sent == 0 and len(fake.writes()) == 2


# -- "already exists" that cannot be read back ---------------------------------------------


def test_a_refused_key_that_cannot_be_read_back_is_a_doubt_not_a_refusal(
    pair: Pair, tmp_path: Path, http: requests.Session
) -> None:
    fake, announcer, first, second = pair
    fresh(fake, tmp_path / "other").announce(first, http)  # another process took the key
    fake.failing_reads = 1
    with pytest.raises(DeliveryError) as caught:
        announcer.announce(second, http)
    assert caught.value.outcome == "unknown"
    assert "may hold this post" in caught.value.reason
    # The retry reads back first, then writes at the next key: one record for the post.
    b = announcer.announce(replace(second, attempt=2), http)
    assert not b.duplicate and rkey_of(b) == announcer.rkey(second, 1)
    assert len(fake.records) == 2


def test_a_run_retries_a_refused_key_it_could_not_read_and_sends_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(BLUESKY, monkeypatch) as (fake, config):
        assert isinstance(fake, BlueskyFake)
        announcer = fresh(fake, tmp_path)  # only to name the keys: it makes no request
        one, two = colliding_keys(announcer)
        baseline([config], state)
        monkeypatch.setattr(deliver_module, "new_key", lambda target, post_id, now: two)
        monkeypatch.setattr(Sending, "wall_clock", lambda self: NOW)
        other = replace(ann(1, one), created_at=NOW)  # another process's post, same second
        fake.records[announcer.rkey(other)] = announcer.record(other)
        fake.failing_reads = 1
        report = announce([config], [make_post(2)], state)
    (decision,) = report.decisions
    assert decision.result == "sent" and decision.attempts == 2, decision.error
    mine = replace(ann(2, two), created_at=NOW)
    taken, free = announcer.rkey(mine), announcer.rkey(mine, 1)
    assert [w.json()["rkey"] for w in fake.writes()] == [taken, taken, free]
    assert len(fake.delivered) == 1 and fake.records[free]["embed"]["external"]["uri"] == mine.url
