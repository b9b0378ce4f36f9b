"""X, Threads and LinkedIn against their fakes: the shared table
(tests/announce_table.py), then what is particular to each."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import test_announce_readback as readback
from announce_table import TABLE, by_kind, rows
from fakes.harness import Platform, announce, baseline, running
from fakes.platforms_more import (
    X_OAUTH1,
    LinkedInFake,
    ThreadsFake,
    XFake,
    threads_count,
    x_length,
)
from fakes.posts import make_post, target
from fakes.server import Fault
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.announce import Card, list_state
from publisher.announce.adapters.linkedin import LinkedInAnnouncer
from publisher.announce.adapters.oauth1 import signature as oauth1_signature
from publisher.announce.adapters.threads import ThreadsAnnouncer, threads_length
from publisher.announce.adapters.x import XAnnouncer, weighted_length
from publisher.announce.adapters.x import rate_limit_wait as x_rate_limit_wait
from publisher.announce.contract import (
    DeliveryError,
    ReadBackUnavailable,
    SetupError,
)

ROWS = rows("x", "threads", "linkedin")


@pytest.fixture(params=ROWS, ids=[row.kind for row in ROWS])
def platform(request: pytest.FixtureRequest) -> Platform:
    return request.param


# The shared table, run here over ROWS.
globals().update(TABLE)


# -- X ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("hello", 5),
        ("漢字", 4),  # CJK weighs 2
        ("https://blog.example.org/a/very/long/path/that/goes/on", 23),
        ("👨\u200d👩\u200d👧\u200d👦", 2),  # one emoji sequence, 7 code points
        ("👍🏽 🇩🇪", 5),
        ("café", 4),
        ("‘quotes’ — dash", 15),  # U+2018/2019/2014 are in the light ranges
        ("see example.org", 27),  # a bare domain may become a link: at least 23
    ],
)
def test_x_weighted_length_follows_twitter_text(text: str, weight: int) -> None:
    assert weighted_length(text) == weight


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.text(max_size=200))
def test_x_counting_never_comes_out_below_xs(text: str) -> None:
    assert weighted_length(text) >= x_length(text)


def test_x_posts_280_weighted_with_the_link_whole_and_mentions_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    post = make_post(1, title="@alice 漢字 " * 30, summary="字" * 500)
    with running(by_kind("x"), monkeypatch) as (fake, config):
        baseline([config], state)
        report = announce([config], [post], state)
    assert fake.problems == []
    (body,) = fake.delivered
    assert post.url in body["text"] and x_length(body["text"]) <= 280
    assert "@\u2060alice" in body["text"]
    (decision,) = report.decisions
    assert decision.remote_url == f"https://x.com/lanternblog/status/{decision.remote_id}"


def test_x_rate_limit_waits_for_the_later_reset() -> None:
    response = requests.Response()
    response.status_code = 429
    response.headers.update(
        {
            "x-rate-limit-remaining": "5",
            "x-rate-limit-reset": "1000",
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": "4600",
        }
    )
    # The 15-minute window still has room: the daily cap is what has to pass.
    assert x_rate_limit_wait(response, now=1000.0) == 3600.0
    response.headers["x-rate-limit-remaining"] = "0"
    response.headers["x-rate-limit-reset"] = "1900"
    response.headers["x-user-limit-24hour-remaining"] = "3"
    assert x_rate_limit_wait(response, now=1000.0) == 900.0


def test_x_resend_in_doubt_is_refused_as_duplicate_and_counted_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("x"), monkeypatch, timeout=0.4) as (fake, config):
        assert isinstance(fake, XFake)
        fake.can_read = False  # a token without tweet.read: read-back cannot tell
        baseline([config], state)
        fake.fail_next(Fault.drop())
        first = announce([config], [make_post(1)], state)
        again = announce([config], [make_post(1)], state, retry_in_doubt=True)
    assert first.in_doubt == 1 and again.sent == 1
    assert len(fake.posts) == 1 and len(fake.writes()) == 2
    (row,) = list_state(state / "announce.sqlite", target="x")
    assert row.status == "sent"


def test_x_in_doubt_is_resolved_by_read_back_without_a_resend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("x"), monkeypatch, timeout=0.4) as (fake, config):
        assert isinstance(fake, XFake)
        baseline([config], state)
        fake.fail_next(Fault.drop())
        first = announce([config], [make_post(1)], state)
        again = announce([config], [make_post(1)], state)
    assert first.in_doubt == 1 and again.sent == 1
    assert len(fake.posts) == 1 and len(fake.writes()) == 1
    (row,) = list_state(state / "announce.sqlite", target="x")
    assert row.status == "sent"


def test_x_duplicate_text_on_a_first_attempt_is_a_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running(by_kind("x"), monkeypatch) as (_, config):
        announcer = XAnnouncer("x", config.options)
        with requests.Session() as http:
            announcer.announce(readback.ann(1), http)
            with pytest.raises(DeliveryError) as caught:
                announcer.announce(readback.ann(1), http)
    assert caught.value.outcome == "refused" and caught.value.status == 403
    assert "duplicate content" in str(caught.value)


def test_x_reads_back_through_pages_by_the_links_expanded_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = datetime.now(UTC)
    with running(by_kind("x"), monkeypatch) as (fake, config):
        assert isinstance(fake, XFake)
        fake.page_size = 2
        announcer = XAnnouncer("x", config.options)
        with requests.Session() as http:
            sent = announcer.announce(readback.ann(1, created_at=first), http)
            for n in range(2, 7):
                announcer.announce(readback.ann(n, created_at=first), http)
            found = announcer.read_back(readback.ann(1, created_at=first), http, since=first)
            missing = announcer.read_back(readback.ann(9), http, since=first)
            fake.can_read = False
            with pytest.raises(ReadBackUnavailable) as caught:
                announcer.read_back(readback.ann(1), http, since=first)
    assert found is not None and found.duplicate and found.remote_id == sent.remote_id
    assert missing is None and caught.value.status == 403


def test_oauth1_signature_matches_the_published_example() -> None:
    """X's own worked example of signing a request (RFC 5849, HMAC-SHA1)."""
    params = {
        "include_entities": "true",
        "oauth_consumer_key": "xvz1evFS4wEEPTGEFPHBog",
        "oauth_nonce": "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": "1318622958",
        "oauth_token": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        "oauth_version": "1.0",
        "status": "Hello Ladies + Gentlemen, a signed OAuth request!",
    }
    assert (
        oauth1_signature(
            "POST",
            "https://api.twitter.com/1.1/statuses/update.json",
            params,
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        )
        == "hCtSmYh+iHYCEqBWrE7C7hYmtUk="
    )


@pytest.mark.parametrize("good", [True, False], ids=["signed", "wrong-secret"])
def test_x_oauth1_user_context_posts_and_reads_back(
    good: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    first = datetime.now(UTC)
    credentials = list(X_OAUTH1)
    if not good:
        credentials[3] = "not-the-token-secret-at-all"
    monkeypatch.setenv("T_X_OAUTH1", ":".join(credentials))
    with running(by_kind("x"), monkeypatch) as (fake, _):
        assert isinstance(fake, XFake)
        oauth = target("x", "x", {"token": "${T_X_OAUTH1}", "api": fake.base})
        baseline([oauth], state)
        report = announce([oauth], [make_post(1)], state)
        with requests.Session() as http:
            announcer = XAnnouncer("x", oauth.options)
            if good:
                found = announcer.read_back(readback.ann(1), http, since=first)
                assert found is not None and found.remote_id == report.decisions[0].remote_id
    assert [d.result for d in report.decisions] == (["sent"] if good else ["failed"])
    assert len(fake.posts) == (1 if good else 0)
    assert credentials[1] not in json.dumps(report.as_dict())


# -- Threads ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [Fault.timeout(1.2), Fault.drop()], ids=["timeout", "drop"])
def test_threads_lost_publish_answer_reads_the_container_and_posts_once(
    fault: Fault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("threads"), monkeypatch, timeout=0.4) as (fake, config):
        assert isinstance(fake, ThreadsFake)
        baseline([config], state)
        fake.fail_next(fault)
        report = announce([config], [make_post(1)], state)
    assert report.sent == 1 and report.decisions[0].attempts == 2
    # One container, published once; the retry asked its status instead of publishing.
    assert len(fake.containers) == 1 and len(fake.posts) == 1 and len(fake.writes()) == 1
    assert fake.problems == []


def test_threads_container_outlives_a_failed_publish_and_is_published_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("threads"), monkeypatch) as (fake, config):
        assert isinstance(fake, ThreadsFake)
        baseline([config], state)
        fake.fail_next(*[Fault.status(503)] * 3)
        first = announce([config], [make_post(1)], state)
        kept = json.loads((state / "threads-threads.containers.json").read_text())
        fake.in_progress_polls = 1  # still processing when the next run asks
        second = announce([config], [make_post(1)], state)
    assert first.failed == 1 and second.sent == 1
    assert list(fake.containers) == list(kept.values())  # the same container, not a new one
    assert len(fake.posts) == 1 and fake.problems == []
    assert second.decisions[0].remote_url.startswith("https://www.threads.net/@lanternblog/post/")


def test_threads_expired_container_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("threads"), monkeypatch) as (fake, config):
        assert isinstance(fake, ThreadsFake)
        baseline([config], state)
        fake.fail_next(*[Fault.status(503)] * 3)
        announce([config], [make_post(1)], state)
        for container in fake.containers.values():
            container["status"] = "EXPIRED"  # 24 hours later, never published
        report = announce([config], [make_post(1)], state)
    assert report.sent == 1 and len(fake.containers) == 2 and len(fake.posts) == 1


def test_threads_text_counts_emoji_by_their_utf8_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    post = make_post(1, title="@zuck " + "👍🏽" * 100, summary="漢" * 600)
    with running(by_kind("threads"), monkeypatch) as (fake, config):
        baseline([config], state)
        report = announce([config], [post], state)
    assert report.sent == 1 and fake.problems == []
    (container,) = fake.delivered
    assert threads_count(container["text"]) <= 500 and post.url in container["text"]
    assert container["link_attachment"] == post.url
    assert container["text"].startswith("@\u2060zuck ")
    assert threads_length("👍🏽") == 8 and threads_length("漢") == 1


def test_threads_read_back_by_container_then_by_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = datetime.now(UTC)
    with running(by_kind("threads"), monkeypatch) as (fake, config):
        assert isinstance(fake, ThreadsFake)
        announcer = ThreadsAnnouncer("threads", config.options, state_dir=tmp_path)
        other = ThreadsAnnouncer("threads", config.options, state_dir=tmp_path / "elsewhere")
        mine = readback.ann(1, created_at=first)
        with requests.Session() as http:
            assert announcer.read_back(mine, http, since=first) is None
            sent = announcer.announce(mine, http)
            by_container = announcer.read_back(mine, http, since=first)
            # Without the container file (another machine): found by the link instead.
            by_link = other.read_back(mine, http, since=first)
            assert other.read_back(readback.ann(2), http, since=first) is None
    assert by_container is not None and by_container.duplicate
    assert by_link is not None and by_link.remote_id == sent.remote_id


# -- LinkedIn --------------------------------------------------------------------------


def test_linkedin_shares_an_article_with_the_uploaded_card_and_escaped_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    card_file = tmp_path / "card.jpg"
    card_file.write_bytes(b"\xff\xd8" + b"j" * 2000)
    post = make_post(1, title="eBPF (part 1): @cilium_io [draft] #1", summary="a_b <c> ~d~")
    card = Card(url="https://blog.example.org/cards/1.jpg", path=card_file)
    with running(by_kind("linkedin"), monkeypatch, version="202610") as (fake, config):
        assert isinstance(fake, LinkedInFake)
        baseline([config], state)
        report = announce([config], [post], state, cards={post.id: card})
    assert fake.problems == []
    (write,) = fake.writes()
    assert write.headers["linkedin-version"] == "202610"
    (body,) = fake.delivered
    assert body["commentary"].startswith(
        "eBPF \\(part 1\\): \\@cilium\\_io \\[draft\\] \\#1\n\na\\_b \\<c\\> \\~d\\~\n\n"
    )
    assert post.url in body["commentary"] and body["commentary"].endswith("#ebpf")
    article = body["content"]["article"]
    assert article["source"] == post.url and article["title"] == post.title
    assert fake.images[article["thumbnail"]] == card_file.read_bytes()
    (decision,) = report.decisions
    assert decision.remote_url == f"https://www.linkedin.com/feed/update/{decision.remote_id}/"


def test_linkedin_resend_in_doubt_is_refused_as_duplicate_and_counted_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("linkedin"), monkeypatch, timeout=0.4) as (fake, config):
        assert isinstance(fake, LinkedInFake)
        baseline([config], state)
        fake.fail_next(Fault.drop())
        first = announce([config], [make_post(1)], state)
        again = announce([config], [make_post(1)], state, retry_in_doubt=True)
    assert first.in_doubt == 1 and again.sent == 1 and len(fake.posts) == 1
    assert again.decisions[0].remote_id == fake.posts[0]["id"]


def test_linkedin_duplicate_on_a_first_attempt_and_a_bad_author_are_refusals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running(by_kind("linkedin"), monkeypatch) as (_, config):
        announcer = LinkedInAnnouncer("linkedin", config.options)
        wrong = LinkedInAnnouncer("linkedin", {**config.options, "author": "someone"})
        with requests.Session() as http:
            announcer.announce(readback.ann(1), http)
            with pytest.raises(DeliveryError) as duplicate:
                announcer.announce(readback.ann(1), http)
            with pytest.raises(SetupError) as setup:
                wrong.announce(readback.ann(2), http)
    assert duplicate.value.status == 422 and duplicate.value.outcome == "refused"
    assert "urn:li:person:<id>" in str(setup.value)


def test_linkedin_reads_back_by_the_article_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = datetime.now(UTC)
    with running(by_kind("linkedin"), monkeypatch) as (fake, config):
        assert isinstance(fake, LinkedInFake)
        announcer = LinkedInAnnouncer("linkedin", config.options)
        with requests.Session() as http:
            sent = announcer.announce(readback.ann(1, created_at=first), http)
            for n in range(2, 60):  # more than a page of 50 after it
                announcer.announce(readback.ann(n, created_at=first), http)
            found = announcer.read_back(readback.ann(1), http, since=first)
            missing = announcer.read_back(readback.ann(99), http, since=first)
            fake.can_read = False
            with pytest.raises(ReadBackUnavailable) as caught:
                announcer.read_back(readback.ann(1), http, since=first)
    assert found is not None and found.remote_id == sent.remote_id and found.duplicate
    assert missing is None and caught.value.status == 403
