"""Every adapter against a fake of its platform: success, rate limits, errors, timeouts and
dropped connections, with the delivery guarantee of its kind (table-driven)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes.harness import PLATFORMS, Platform, announce, baseline, running
from fakes.platforms import BlueskyFake, MastodonFake, TelegramFake, WebhookReceiver
from fakes.posts import make_post
from fakes.server import Fault

from publisher.announce import list_state

IDS = [p.kind for p in PLATFORMS]


@pytest.mark.parametrize("platform", PLATFORMS, ids=IDS)
def test_sends_each_post_once_with_a_valid_request(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    posts = [make_post(i, og_image_url=f"https://blog.example.org/cards/{i}.jpg") for i in range(3)]
    with running(platform, monkeypatch) as (fake, config):
        baseline([config], state)
        report = announce([config], posts, state)
        again = announce([config], posts, state)
    assert fake.problems == []
    assert report.sent == 3 and report.failed == 0 and report.in_doubt == 0
    assert len(fake.delivered) == 3
    assert again.sent == 0 and {d.reason for d in again.decisions} == {"seen"}
    rows = list_state(state / "announce.sqlite", target=platform.kind)
    assert [r.status for r in rows] == ["sent"] * 3


@pytest.mark.parametrize("platform", PLATFORMS, ids=IDS)
def test_rate_limit_is_waited_out_then_sent(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(platform, monkeypatch) as (fake, config):
        baseline([config], state)
        fake.fail_next(Fault.status(429, retry_after=0.3), Fault.status(503))
        report = announce([config], [make_post(1)], state)
    assert report.sent == 1
    assert len(fake.delivered) == 1
    assert len(fake.writes()) == 3
    (decision,) = [d for d in report.decisions if d.result == "sent"]
    assert decision.attempts == 3


#: Platforms without an idempotency key whose messages can be read back: a send in doubt is
#: resolved by asking them, not left in doubt.
READS_BACK = frozenset({"mattermost", "zulip", "x", "linkedin"})


@pytest.mark.parametrize("fault", [Fault.timeout(1.2), Fault.drop()], ids=["timeout", "drop"])
@pytest.mark.parametrize("platform", PLATFORMS, ids=IDS)
def test_ambiguous_failure_follows_the_platforms_guarantee(
    platform: Platform, fault: Fault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(platform, monkeypatch, timeout=0.4) as (fake, config):
        baseline([config], state)
        fake.fail_next(fault)
        report = announce([config], [make_post(1)], state)
        rerun = announce([config], [make_post(1)], state)
    # The platform got the message exactly once either way.
    assert len(fake.delivered) == 1
    if platform.idempotent:
        # Retried with the same key; the platform dropped the duplicate. (Bluesky first
        # asks whether the record key already exists and so does not write again.)
        assert report.sent == 1
        assert len(fake.writes()) == (1 if platform.kind == "bluesky" else 2)
    else:
        # May have arrived, no key to make a retry safe: in doubt, never resent.
        assert report.in_doubt == 1 and report.sent == 0
        assert len(fake.writes()) == 1
        (row,) = list_state(state / "announce.sqlite", target=platform.kind)
        if platform.kind in READS_BACK:
            # The next run asks the platform, finds the message and records it sent.
            assert [d.result for d in rerun.decisions] == ["sent"]
            assert row.status == "sent"
        else:
            assert [d.reason for d in rerun.decisions] == ["in_doubt"]
            assert row.status == "in_doubt"


@pytest.mark.parametrize("platform", PLATFORMS, ids=IDS)
def test_retry_in_doubt_resends(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if platform.idempotent:
        pytest.skip("idempotent platforms are never in doubt")
    state = tmp_path / "state"
    with running(platform, monkeypatch, timeout=0.4) as (fake, config):
        baseline([config], state)
        fake.fail_next(Fault.drop())
        announce([config], [make_post(1)], state)
        report = announce([config], [make_post(1)], state, retry_in_doubt=True)
    assert report.sent == 1
    # The user asked for it; a platform that can be read is asked first and the message found.
    assert len(fake.delivered) == (1 if platform.kind in READS_BACK else 2)


@pytest.mark.parametrize("platform", PLATFORMS, ids=IDS)
def test_permanent_refusal_is_not_retried_and_stops_the_target(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(platform, monkeypatch) as (fake, config):
        baseline([config], state)
        fake.fail_next(Fault.status(403))
        report = announce([config], [make_post(1), make_post(2)], state)
    results = [(d.post_id, d.result) for d in report.decisions]
    assert results[0][1] == "failed" and results[1][1] == "deferred"
    assert report.decisions[0].http_status == 403
    assert "permanent" in (report.decisions[0].error or "")
    assert len(fake.writes()) == 1


def test_bad_request_fails_one_post_and_the_next_still_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(PLATFORMS[0], monkeypatch) as (fake, config):
        baseline([config], state)
        fake.fail_next(Fault.status(400))
        report = announce([config], [make_post(1), make_post(2)], state)
        later = announce([config], [make_post(1), make_post(2)], state)
    assert [d.result for d in report.decisions] == ["failed", "sent"]
    assert [d.reason for d in later.decisions] == ["retry", "seen"]
    assert later.sent == 1


def test_discord_waits_for_the_webhook_and_mentions_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(PLATFORMS[1], monkeypatch) as (fake, config):
        baseline([config], state)
        report = announce([config], [make_post(1, title="@everyone look")], state)
    (write,) = fake.writes()
    assert write.query == {"wait": ["true"]}
    assert write.json()["allowed_mentions"] == {"parse": []}
    assert report.decisions[0].remote_id == "1000"


def test_mastodon_reads_the_instance_limit_and_uploads_the_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    card = tmp_path / "card.jpg"
    card.write_bytes(b"\xff\xd8" + b"x" * 1000)
    with running(PLATFORMS[4], monkeypatch, media=True, visibility="unlisted", language="en") as (
        fake,
        config,
    ):
        assert isinstance(fake, MastodonFake)
        fake.max_characters = 120
        baseline([config], state)
        from publisher.announce import Card

        post = make_post(1, summary="word " * 100)
        report = announce(
            [config],
            [post],
            state,
            cards={post.id: Card(url="https://blog.example.org/c.jpg", path=card, alt="A card")},
        )
    assert fake.problems == []
    (body,) = fake.delivered
    assert body["visibility"] == "unlisted" and body["language"] == "en"
    assert body["media_ids"] == ["m1"] and fake.media["m1"]["description"] == "A card"
    assert post.url in body["status"] and body["status"].endswith("#ebpf")
    assert report.decisions[0].limit == 120
    assert report.decisions[0].remote_url == "https://example.social/@blog/2"


def test_mastodon_retries_with_the_same_idempotency_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(PLATFORMS[4], monkeypatch, timeout=0.4) as (fake, config):
        baseline([config], state)
        fake.fail_next(Fault.drop(), Fault.status(502))
        announce([config], [make_post(1)], state)
    keys = {w.headers["idempotency-key"] for w in fake.writes()}
    assert len(fake.writes()) == 3 and len(keys) == 1


def test_bluesky_keeps_its_session_between_runs_and_refreshes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(PLATFORMS[5], monkeypatch) as (fake, config):
        assert isinstance(fake, BlueskyFake)
        baseline([config], state)
        announce([config], [make_post(1)], state)
        announce([config], [make_post(1), make_post(2)], state)
        fake.expire_access_tokens()
        report = announce([config], [make_post(1), make_post(2), make_post(3)], state)
    assert report.sent == 1
    assert fake.logins == 1 and fake.refreshes == 1
    session_file = state / "bluesky-bluesky.session.json"
    assert session_file.stat().st_mode & 0o777 == 0o600
    assert fake.problems == []


def test_bluesky_links_are_facets_and_the_card_is_an_external_embed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    small, big = tmp_path / "small.jpg", tmp_path / "big.jpg"
    small.write_bytes(b"\xff\xd8" + b"s" * 5000)
    big.write_bytes(b"\xff\xd8" + b"b" * 1_000_001)
    from publisher.announce import Card

    posts = [make_post(1, title="Grüße 👍🏽 – ünïcödé"), make_post(2)]
    cards = {
        posts[0].id: Card(url="https://blog.example.org/1.jpg", path=small),
        posts[1].id: Card(url="https://blog.example.org/2.jpg", path=big),
    }
    with running(PLATFORMS[5], monkeypatch, language="de") as (fake, config):
        baseline([config], state)
        report = announce([config], posts, state, cards=cards)
    assert report.sent == 2 and fake.problems == []
    first, second = fake.delivered
    assert first["facets"][0]["features"][0]["uri"] == posts[0].url
    assert first["embed"]["external"]["thumb"]["size"] == 5002
    assert "thumb" not in second["embed"]["external"]  # over 1,000,000 bytes: left out
    assert first["langs"] == ["de"]
    assert report.decisions[0].remote_url.startswith(
        "https://bsky.app/profile/blog.example.org/post/"
    )


def test_telegram_sends_a_photo_and_falls_back_to_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    posts = [make_post(i, og_image_url=f"https://blog.example.org/{i}.jpg") for i in (1, 2)]
    with running(PLATFORMS[3], monkeypatch) as (fake, config):
        assert isinstance(fake, TelegramFake)
        baseline([config], state)
        announce([config], posts[:1], state)
        fake.photo_fails = True
        report = announce([config], posts, state)
    assert [d["method"] for d in fake.delivered] == ["sendPhoto", "sendMessage"]
    assert fake.delivered[1]["link_preview_options"]["url"] == posts[1].url
    assert report.decisions[1].remote_url == "https://t.me/lanternblog/2"


def test_matrix_sends_a_notice_with_a_stable_transaction_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(PLATFORMS[6], monkeypatch) as (fake, config):
        baseline([config], state)
        fake.fail_next(Fault.status(429, retry_after=0.2))
        report = announce([config], [make_post(1)], state)
    first, second = fake.writes()
    assert first.path == second.path
    (body,) = fake.delivered
    assert body["msgtype"] == "m.notice" and body["room"] == "!room:example.org"
    assert '<a href="https://blog.example.org/' in body["formatted_body"]
    assert report.decisions[0].remote_url.startswith("https://matrix.to/#/!room:example.org/")


def test_webhook_is_signed_and_keeps_its_id_across_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(PLATFORMS[7], monkeypatch, timeout=0.4) as (fake, config):
        assert isinstance(fake, WebhookReceiver)
        baseline([config], state)
        fake.fail_next(Fault.drop())
        announce([config], [make_post(1)], state)
    first, second = fake.writes()
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert fake.duplicates == 1 and fake.problems == []
    (event,) = fake.delivered
    assert event["type"] == "post.published" and event["data"]["id"] == make_post(1).id


def test_outbox_appends_json_lines_once(tmp_path: Path) -> None:
    from fakes.posts import target

    state = tmp_path / "state"
    config = target("outbox", "outbox", {"path": "public/announcements.jsonl"})
    posts = [make_post(1), make_post(2)]
    announce([config], [], state)
    first = announce([config], posts, state, live_check=None)
    second = announce([config], posts, state, live_check=None)
    lines = (tmp_path / "public" / "announcements.jsonl").read_text(encoding="utf-8").splitlines()
    assert first.sent == 2 and second.sent == 0
    assert [json.loads(line)["post_id"] for line in lines] == [p.id for p in posts]


def test_slack_fallback_text_is_escaped_like_the_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(PLATFORMS[0], monkeypatch) as (fake, config):
        baseline([config], state)
        report = announce([config], [make_post(1, title="<!channel> & <@U024BE7LH> >")], state)
    assert report.sent == 1 and fake.problems == []
    (body,) = fake.delivered
    assert body["text"].startswith("&lt;!channel&gt; &amp; &lt;@U024BE7LH&gt; &gt; ")
    assert body["text"].endswith(make_post(1).url)
