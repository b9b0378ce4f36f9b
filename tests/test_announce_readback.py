"""Read-back, key lifetimes and record keys: no announcement lost, doubled or mis-reported.

Each test drives an adapter against the fake of its platform on 127.0.0.1; the fakes
serve the read endpoints in the real shapes and forget idempotency keys as the real
servers do (Mastodon after an hour, Synapse after 30 minutes), moved on by a clock offset
rather than by sleeping.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from fakes.harness import PLATFORMS, announce, baseline, running
from fakes.platforms import BlueskyFake, MastodonFake, MatrixFake
from fakes.posts import make_post
from fakes.server import Fault

from publisher.announce.adapters.bluesky import BlueskyAnnouncer
from publisher.announce.adapters.discord import DiscordAnnouncer
from publisher.announce.adapters.mastodon import MastodonAnnouncer
from publisher.announce.adapters.matrix import MatrixAnnouncer
from publisher.announce.adapters.outbox import OutboxAnnouncer
from publisher.announce.contract import (
    Announcement,
    Announcer,
    DeliveryError,
    ReadBackUnavailable,
)
from publisher.announce.registry import announcer_class, builtin_kinds

FIRST = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def ann(
    n: int, *, key: str | None = None, created_at: datetime = FIRST, target: str = "t"
) -> Announcement:
    post = make_post(n)
    return Announcement(
        post=post,
        target=target,
        text=f"{post.title} {post.url}",
        title=post.title,
        summary=post.summary or "",
        url=post.url,
        card=None,
        key=key or f"key-{n}",
        created_at=created_at,
    )


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def bluesky(tmp_path: Path) -> Iterator[tuple[BlueskyFake, BlueskyAnnouncer]]:
    with BlueskyFake() as fake:
        assert isinstance(fake, BlueskyFake)
        announcer = BlueskyAnnouncer(
            "bluesky",
            {"handle": fake.handle, "app_password": fake.password, "service": fake.base},
            state_dir=tmp_path,
        )
        yield fake, announcer


def colliding_pair(announcer: BlueskyAnnouncer) -> tuple[Announcement, Announcement]:
    """Two posts first tried in the same microsecond whose first record keys are equal
    (1 in 1,024 per pair: found by search, as the issue's author measured)."""
    first = ann(1)
    for n in range(2, 20_000):
        other = ann(n)
        if announcer.rkey(other) == announcer.rkey(first):
            return first, other
    raise AssertionError("no collision in 20,000 keys")


# -- Bluesky record keys ---------------------------------------------------------------


def test_bluesky_collision_is_read_back_and_never_reports_the_other_posts_link(
    bluesky: tuple[BlueskyFake, BlueskyAnnouncer], http: requests.Session
) -> None:
    fake, announcer = bluesky
    first, second = colliding_pair(announcer)
    a = announcer.announce(first, http)
    # Another process on the same account (runs on two hosts sharing a ledger): it has not
    # written the first key itself, so only the platform's answer can tell it is taken.
    other = BlueskyAnnouncer(announcer.name, dict(announcer.config), state_dir=announcer.state_dir)
    b = other.announce(second, http)
    assert not b.duplicate
    assert b.remote_url != a.remote_url and b.remote_id != a.remote_id
    assert len(fake.records) == 2
    # Each record holds its own post, under the key its receipt names.
    for receipt, announcement in ((a, first), (b, second)):
        assert receipt.remote_url is not None
        rkey = receipt.remote_url.rsplit("/", 1)[-1]
        assert fake.records[rkey]["embed"]["external"]["uri"] == announcement.url
    # The second post's write was refused as "already exists" once, then went elsewhere.
    assert len(fake.writes()) == 3
    # A retry of either finds its own record, not the other's, and writes nothing.
    again = announcer.announce(replace(second, attempt=2), http)
    assert again.duplicate and again.remote_url == b.remote_url
    assert announcer.read_back(first, http, since=FIRST) is not None
    assert announcer.read_back(first, http, since=FIRST).remote_url == a.remote_url  # type: ignore[union-attr]
    assert announcer.read_back(second, http, since=FIRST).remote_url == b.remote_url  # type: ignore[union-attr]
    assert len(fake.writes()) == 3


def test_bluesky_record_keys_differ_per_target_post_and_probe() -> None:
    one = BlueskyAnnouncer("one", {"handle": "x", "app_password": None})
    two = BlueskyAnnouncer("two", {"handle": "x", "app_password": None})
    announcement = ann(1)
    keys = {one.rkey(announcement, probe) for probe in range(8)}
    assert len(keys) == 8  # probes of one post never repeat
    assert one.rkey(announcement) == one.rkey(replace(announcement, attempt=3))  # stable
    posts = {one.rkey(ann(n)) for n in range(200)} | {two.rkey(ann(n)) for n in range(200)}
    # Same microsecond, 400 (target, post) pairs in 1,024 clock ids: some collide, most not.
    assert 250 < len(posts) <= 400


def test_bluesky_read_back_finds_nothing_then_the_post(
    bluesky: tuple[BlueskyFake, BlueskyAnnouncer], http: requests.Session
) -> None:
    fake, announcer = bluesky
    announcement = ann(1)
    for n in range(2, 6):  # other posts, written later: the listing has to look past them
        announcer.announce(ann(n, created_at=FIRST + timedelta(seconds=n)), http)
    assert announcer.read_back(announcement, http, since=FIRST) is None
    assert any(r.path.endswith("listRecords") for r in fake.requests)
    sent = announcer.announce(announcement, http)
    found = announcer.read_back(announcement, http, since=FIRST)
    assert found is not None and found.remote_url == sent.remote_url and found.duplicate


def test_bluesky_finds_a_record_written_under_the_old_key_scheme(
    bluesky: tuple[BlueskyFake, BlueskyAnnouncer], http: requests.Session
) -> None:
    fake, announcer = bluesky
    announcement = ann(1)
    fake.records[announcer.legacy_rkey(announcement)] = announcer.record(announcement)
    receipt = announcer.announce(replace(announcement, attempt=2), http)
    assert receipt.duplicate and fake.writes() == []
    assert receipt.remote_url is not None
    assert receipt.remote_url.endswith(announcer.legacy_rkey(announcement))


def test_bluesky_gives_up_with_a_clear_refusal_when_every_key_is_taken(
    bluesky: tuple[BlueskyFake, BlueskyAnnouncer], http: requests.Session
) -> None:
    fake, announcer = bluesky
    mine, other = ann(1), ann(2)
    for probe in range(8):
        fake.records[announcer.rkey(mine, probe)] = announcer.record(other)
    with pytest.raises(DeliveryError, match="record keys in a row are taken") as caught:
        announcer.announce(mine, http)
    assert caught.value.outcome == "refused"
    assert fake.delivered == []  # and the other post's record was never reported as ours


# -- Mastodon: a key lives an hour; read-back tells what the key no longer can ----------


@pytest.fixture
def mastodon() -> Iterator[tuple[MastodonFake, MastodonAnnouncer]]:
    with MastodonFake() as fake:
        assert isinstance(fake, MastodonFake)
        yield fake, MastodonAnnouncer("mastodon", {"instance": fake.base, "token": fake.token})


def test_mastodon_resend_after_the_key_expires_posts_twice_so_read_back_first(
    mastodon: tuple[MastodonFake, MastodonAnnouncer], http: requests.Session
) -> None:
    fake, announcer = mastodon
    assert announcer.key_lifetime == timedelta(hours=1)
    announcement = ann(1)
    since = datetime.now(UTC)
    first = announcer.announce(announcement, http)
    fake.clock_offset = 30 * 60
    assert announcer.announce(announcement, http).remote_id == first.remote_id  # key honoured
    fake.clock_offset = 3601
    # What the delivery layer must do past key_lifetime: read back, and find the status.
    found = announcer.read_back(announcement, http, since=since)
    assert found is not None and found.remote_id == first.remote_id
    assert found.remote_url == first.remote_url and found.duplicate
    # What happens without it: the expired key no longer protects.
    announcer.announce(announcement, http)
    assert len(fake.delivered) == 2


def test_mastodon_read_back_pages_until_older_than_the_first_attempt(
    mastodon: tuple[MastodonFake, MastodonAnnouncer], http: requests.Session
) -> None:
    fake, announcer = mastodon
    mine = ann(1)
    announcer.announce(ann(100), http)  # older than the window, never matched
    fake.clock_offset = 3600
    since = datetime.fromtimestamp(fake.now(), UTC)
    announcer.announce(mine, http)
    for n in range(2, 50):  # 48 newer statuses: more than one page of 40
        announcer.announce(ann(n), http)
    found = announcer.read_back(mine, http, since=since)
    assert found is not None and found.remote_url is not None
    reads = [r for r in fake.requests if r.path.endswith("/statuses") and r.method == "GET"]
    assert len(reads) == 2 and reads[1].query["max_id"]
    assert announcer.read_back(ann(77), http, since=since) is None


def test_mastodon_read_back_without_a_readable_token_cannot_tell(
    mastodon: tuple[MastodonFake, MastodonAnnouncer], http: requests.Session
) -> None:
    fake, _ = mastodon
    wrong = MastodonAnnouncer("mastodon", {"instance": fake.base, "token": "not-the-token-123"})
    with pytest.raises(ReadBackUnavailable, match="401"):
        wrong.read_back(ann(1), http, since=FIRST)


# -- Matrix: transaction ids are forgotten; the room is not -----------------------------


def test_matrix_read_back_by_transaction_id_after_the_server_forgot_it(
    http: requests.Session,
) -> None:
    with MatrixFake() as fake:
        assert isinstance(fake, MatrixFake)
        announcer = MatrixAnnouncer(
            "matrix", {"homeserver": fake.base, "room_id": "!room:example.org", "token": fake.token}
        )
        assert announcer.key_lifetime == timedelta(minutes=30)
        since = datetime.now(UTC)
        mine = ann(1)
        assert announcer.read_back(mine, http, since=since) is None
        sent = announcer.announce(mine, http)
        for n in range(2, 150):  # a busy room: more than one page of 100
            announcer.announce(ann(n), http)
        fake.clock_offset = 31 * 60
        found = announcer.read_back(mine, http, since=since)
        assert found is not None and found.remote_id == sent.remote_id and found.duplicate
        announcer.announce(mine, http)  # the forgotten transaction id posts again
        assert len(fake.delivered) == 150


# -- the others ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["slack", "discord", "teams", "telegram", "webhook"])
def test_platforms_that_cannot_list_their_messages_say_so(
    kind: str, http: requests.Session
) -> None:
    announcer: Announcer = announcer_class(kind)(kind, {})
    assert announcer.key_lifetime is None
    with pytest.raises(ReadBackUnavailable):
        announcer.read_back(ann(1), http, since=FIRST)


def test_discord_read_back_is_unavailable_and_says_why(http: requests.Session) -> None:
    with pytest.raises(ReadBackUnavailable, match="cannot list"):
        DiscordAnnouncer("discord", {}).read_back(ann(1), http, since=FIRST)


def test_outbox_reads_back_its_own_file(tmp_path: Path, http: requests.Session) -> None:
    outbox = OutboxAnnouncer("outbox", {"path": "out.jsonl"}, root=tmp_path)
    assert outbox.read_back(ann(1), http, since=FIRST) is None  # no file yet
    outbox.announce(ann(1), http)
    with open(tmp_path / "out.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"key": "torn')  # a crash mid-append
    found = outbox.read_back(ann(1), http, since=FIRST)
    assert found is not None and found.duplicate
    assert outbox.read_back(ann(2), http, since=FIRST) is None


def test_every_kind_declares_a_key_lifetime() -> None:
    lifetimes = {kind: announcer_class(kind).key_lifetime for kind in builtin_kinds()}
    assert lifetimes == {
        "outbox": None,
        "slack": None,
        "discord": None,
        "teams": None,
        "mastodon": timedelta(hours=1),
        "bluesky": None,
        "telegram": None,
        "matrix": timedelta(minutes=30),
        "webhook": None,
        "googlechat": None,
        "mattermost": None,
        "mattermost_webhook": None,
        "zulip": None,
        "email": None,
        "x": None,
        "threads": None,
        "linkedin": None,
        "apprise": None,
    }


# -- a 2xx of the wrong shape ----------------------------------------------------------

ODD_BODIES: list[Any] = ["<html>ok</html>", {"unexpected": [1, 2]}, [1, 2, 3], {"id": {"x": 1}}]


@pytest.mark.parametrize("odd", ODD_BODIES, ids=["html", "object", "list", "nested"])
@pytest.mark.parametrize("platform", PLATFORMS, ids=[p.kind for p in PLATFORMS])
def test_a_2xx_of_the_wrong_shape_is_sent_once_without_a_traceback(
    platform: Any, odd: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(platform, monkeypatch) as (fake, config):
        baseline([config], state)
        fake.fail_next(Fault.mangle(odd))
        report = announce([config], [make_post(1), make_post(2)], state)
    # The platform took it: sent once (its id possibly unknown), never resent, and the
    # next post still goes.
    assert [d.result for d in report.decisions] == ["sent", "sent"]
    assert len(fake.delivered) == 2 and len(fake.writes()) == 2
    json.dumps(report.as_dict())
