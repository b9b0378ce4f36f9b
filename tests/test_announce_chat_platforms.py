"""Google Chat, Mattermost (REST and webhook) and Zulip against their fakes: the shared
table (tests/announce_table.py), then what is particular to each."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import test_announce_readback as readback
from announce_table import TABLE, by_kind, rows
from fakes.harness import Platform, announce, baseline, running
from fakes.platforms_more import (
    GCHAT_KEY,
    GCHAT_TOKEN,
    MM_TOKEN,
    ZULIP_STREAM,
    GoogleChatFake,
    MattermostFake,
    ZulipFake,
    check_googlechat,
)
from fakes.posts import NOW, make_post, target
from fakes.server import Fault

from publisher.announce import Card, list_state
from publisher.announce.adapters.googlechat import GoogleChatAnnouncer, message_id
from publisher.announce.adapters.mattermost import MattermostAnnouncer
from publisher.announce.adapters.zulip import ZulipAnnouncer
from publisher.announce.contract import (
    Announcement,
    ReadBackUnavailable,
)
from publisher.secret import Secret

ROWS = rows("googlechat", "mattermost", "mattermost_webhook", "zulip")


@pytest.fixture(params=ROWS, ids=[row.kind for row in ROWS])
def platform(request: pytest.FixtureRequest) -> Platform:
    return request.param


# The shared table, run here over ROWS.
globals().update(TABLE)


# -- Google Chat -----------------------------------------------------------------------


def test_googlechat_sends_a_card_with_image_button_and_a_client_message_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    post = make_post(1, title="<b>Bold</b> & <users/all>", summary="Read <this> & that")
    card = Card(url="https://blog.example.org/cards/1.jpg", alt="The card")
    with running(by_kind("googlechat"), monkeypatch) as (fake, config):
        baseline([config], state)
        report = announce([config], [post], state, cards={post.id: card})
    assert fake.problems == []
    (write,) = fake.writes()
    (msg_id,) = write.query["messageId"]
    assert msg_id.startswith("client-") and len(msg_id) <= 63
    assert write.headers["content-type"] == "application/json; charset=UTF-8"
    (body,) = fake.delivered
    widgets = body["cardsV2"][0]["card"]["sections"][0]["widgets"]
    assert widgets[0] == {"textParagraph": {"text": "Read &lt;this&gt; &amp; that"}}
    assert widgets[1] == {"image": {"imageUrl": card.url, "altText": "The card"}}
    (button,) = widgets[2]["buttonList"]["buttons"]
    assert button["onClick"]["openLink"]["url"] == post.url
    # The header is plain text: the title as written, not interpreted.
    assert body["cardsV2"][0]["card"]["header"]["title"] == post.title
    assert body["fallbackText"] == f"{post.title} {post.url}"
    (decision,) = report.decisions
    assert decision.remote_id == f"spaces/AAAAlantern/messages/{msg_id}"


def test_googlechat_retry_is_refused_as_a_duplicate_and_counted_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("googlechat"), monkeypatch, timeout=0.4) as (fake, config):
        assert isinstance(fake, GoogleChatFake)
        baseline([config], state)
        fake.fail_next(Fault.drop(), Fault.status(500))
        report = announce([config], [make_post(1)], state)
    writes = fake.writes()
    assert len(writes) == 3 and len({w.query["messageId"][0] for w in writes}) == 1
    assert len(fake.delivered) == 1 and fake.duplicates == 1
    (decision,) = report.decisions
    assert decision.result == "sent" and decision.remote_id is not None
    (row,) = list_state(state / "announce.sqlite", target="googlechat")
    assert row.status == "sent" and row.remote_id == decision.remote_id


def test_googlechat_other_conflicts_are_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("googlechat"), monkeypatch) as (fake, config):
        baseline([config], state)
        fake.fail_next(Fault.status(409))  # 409 ABORTED-like: not ALREADY_EXISTS
        report = announce([config], [make_post(1)], state)
    assert report.sent == 1 and len(fake.writes()) == 2 and len(fake.delivered) == 1


def test_googlechat_bad_credentials_stop_the_target_with_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("googlechat"), monkeypatch) as (fake, config):
        baseline([config], state)
        monkeypatch.setenv("T_GCHAT_URL", fake.url.replace(GCHAT_TOKEN, "wrong-token-value"))
        config = target("googlechat", "googlechat", {"url": "${T_GCHAT_URL}"})
        report = announce([config], [make_post(1), make_post(2)], state)
    assert [d.result for d in report.decisions] == ["failed", "deferred"]
    error = report.decisions[0].error or ""
    assert "Request had invalid credentials" in error and "\n" not in error
    assert GCHAT_KEY not in json.dumps(report.as_dict())
    assert fake.delivered == []


@pytest.mark.parametrize(
    ("title", "summary"),
    [("漢" * 9000, "𝔘" * 9000), ("👨\u200d👩\u200d👧" * 3000, "e\u0301" * 9000)],
    ids=["cjk-astral", "zwj-combining"],
)
def test_googlechat_overflows_fit_the_32000_byte_message(
    title: str, summary: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    post = make_post(1, title=title, summary=summary)
    card = Card(url="https://blog.example.org/c.jpg", alt=title)
    with running(by_kind("googlechat"), monkeypatch) as (fake, config):
        baseline([config], state)
        report = announce([config], [post], state, cards={post.id: card})
    assert fake.problems == [] and report.sent == 1
    (body,) = fake.delivered
    assert check_googlechat(body) == []


def test_googlechat_message_id_is_in_chats_alphabet() -> None:
    assert message_id("0123abcdef") == "client-0123abcdef"
    assert message_id("A_B.c" * 30).startswith("client-a-b-c")
    assert len(message_id("x" * 100)) == 63


def test_googlechat_image_false_leaves_the_card_image_out() -> None:
    announcer = GoogleChatAnnouncer("gc", {"url": None, "image": False})
    post = make_post(1)
    payload = announcer.payload(
        Announcement(
            post=post,
            target="gc",
            text="hello",
            title=post.title,
            summary="",
            url=post.url,
            card=Card(url="https://blog.example.org/c.jpg"),
            key="k",
            created_at=post.date,
        )
    )
    widgets = payload["cardsV2"][0]["card"]["sections"][0]["widgets"]
    assert [next(iter(w)) for w in widgets] == ["textParagraph", "buttonList"]


# -- Mattermost ------------------------------------------------------------------------


def test_mattermost_posts_escaped_markdown_with_the_card_attachment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    post = make_post(1, title="@channel *now* [x](y)", summary="ask @alice_b <here>")
    card = Card(url="https://blog.example.org/cards/1.jpg")
    with running(by_kind("mattermost"), monkeypatch) as (fake, config):
        base = fake.base
        baseline([config], state)
        report = announce([config], [post], state, cards={post.id: card})
    assert fake.problems == []
    (write,) = fake.writes()
    assert write.headers["authorization"] == f"Bearer {MM_TOKEN}"
    (body,) = fake.delivered
    assert body["message"].startswith("**@\u2060channel \\*now\\* \\[x\\](y)**\n")
    assert "ask @\u2060alice\\_b \\<here\\>" in body["message"]
    assert body["message"].endswith(post.url)
    (attachment,) = body["props"]["attachments"]
    assert attachment["image_url"] == card.url and attachment["title_link"] == post.url
    (decision,) = report.decisions
    assert decision.remote_url == f"{base}/_redirect/pl/{decision.remote_id}"


def test_mattermost_reads_back_its_post_by_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = datetime.now(UTC)
    with running(by_kind("mattermost"), monkeypatch) as (_, config):
        announcer = MattermostAnnouncer("mattermost", config.options)
        mine, other = readback.ann(1, created_at=first), readback.ann(2, created_at=first)
        with requests.Session() as http:
            assert announcer.read_back(mine, http, since=first) is None
            sent = announcer.announce(mine, http)
            found = announcer.read_back(mine, http, since=first)
            # Another post's message is not taken for this one.
            assert announcer.read_back(other, http, since=first) is None
            # Asked from well after the post was made (beyond the clock skew): not listed.
            later = first + timedelta(hours=1)
            assert announcer.read_back(mine, http, since=later) is None
    assert found is not None and found.duplicate
    assert found.remote_id == sent.remote_id and found.remote_url == sent.remote_url


def test_mattermost_read_back_without_access_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running(by_kind("mattermost"), monkeypatch) as (_, config):
        options = {**config.options, "channel_id": "someoneelseschannel0000000"}
        announcer = MattermostAnnouncer("mattermost", options)
        with requests.Session() as http, pytest.raises(ReadBackUnavailable) as caught:
            announcer.read_back(readback.ann(1), http, since=NOW)
    assert caught.value.status == 404


def test_mattermost_in_doubt_is_dropped_within_30_seconds_and_read_back_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("mattermost"), monkeypatch, timeout=0.4) as (fake, config):
        assert isinstance(fake, MattermostFake)
        baseline([config], state)
        fake.fail_next(Fault.drop())
        first = announce([config], [make_post(1)], state)
        soon = announce([config], [make_post(1)], state, retry_in_doubt=True)
        assert first.in_doubt == 1 and soon.sent == 1 and len(fake.posts) == 1
        fake.fail_next(Fault.drop())
        announce([config], [make_post(2)], state)
        fake.clock_offset = 31  # past pendingPostIDsCacheTTL: the server has forgotten
        late = announce([config], [make_post(2)], state, retry_in_doubt=True)
    # The server has forgotten the pending id, but the run reads the channel first and
    # finds the message: recorded sent, not posted a second time.
    assert late.sent == 1 and len(fake.posts) == 2


@pytest.mark.parametrize("header", ["Retry-After", "X-Ratelimit-Reset"])
@pytest.mark.parametrize("kind", ["mattermost", "mattermost_webhook"])
def test_mattermost_rate_limit_reset_is_seconds_not_a_unix_time(
    kind: str, header: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    logs: list[str] = []
    with running(by_kind(kind), monkeypatch) as (fake, config):
        assert isinstance(fake, MattermostFake)
        fake.rate_limit_header = header
        baseline([config], state)
        fake.fail_next(Fault.status(429, retry_after=0.4))
        report = announce([config], [make_post(1)], state, log=logs.append)
    assert report.sent == 1 and len(fake.writes()) == 2
    (line,) = [line for line in logs if "retrying in" in line]
    assert "retrying in 0.4 s" in line or "retrying in 0.5 s" in line, line


def test_mattermost_webhook_refuses_a_bad_hook_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("mattermost_webhook"), monkeypatch) as (fake, config):
        baseline([config], state)
        monkeypatch.setenv("T_MM_HOOK", fake.base + "/hooks/doesnotexist000000000000")
        config = target("mattermost_webhook", "mattermost_webhook", {"url": "${T_MM_HOOK}"})
        report = announce([config], [make_post(1)], state)
    (decision,) = report.decisions
    assert decision.result == "failed" and decision.http_status == 400
    assert "Invalid webhook" in (decision.error or "") and "doesnotexist" not in json.dumps(
        report.as_dict()
    )


# -- Zulip -----------------------------------------------------------------------------


def test_zulip_posts_a_form_to_a_topic_named_after_the_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    title = "@**all** Cilium *1.16*: " + "a long title " * 10
    with running(by_kind("zulip"), monkeypatch) as (fake, config):
        assert isinstance(fake, ZulipFake)
        base = fake.base
        baseline([config], state)
        report = announce([config], [make_post(1, title=title)], state)
    assert fake.problems == []
    (form,) = fake.delivered
    assert form["type"] == "stream" and form["to"] == ZULIP_STREAM
    assert len(form["topic"]) <= 60 and form["topic"].startswith("@**all** Cilium *1.16*")
    assert form["content"].startswith("**@\u2060\\*\\*all\\*\\* Cilium \\*1.16\\*: a long")
    (decision,) = report.decisions
    assert decision.remote_url == f"{base}/#narrow/id/{decision.remote_id}"


def test_zulip_fixed_topic() -> None:
    announcer = ZulipAnnouncer("z", {"topic": "  new   posts "})
    assert announcer.topic(readback.ann(1)) == "new posts"
    announcer = ZulipAnnouncer("z", {"topic": "Blog: {title}"})
    long = replace(readback.ann(1), title="x" * 100)
    assert announcer.topic(long).startswith("Blog: xxx") and len(announcer.topic(long)) == 60


def test_zulip_reads_back_through_pages_of_the_bots_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = datetime.now(UTC)
    with running(by_kind("zulip"), monkeypatch, topic="announcements") as (fake, config):
        assert isinstance(fake, ZulipFake)
        announcer = ZulipAnnouncer("zulip", config.options)
        mine = readback.ann(1, created_at=first)
        with requests.Session() as http:
            sent = announcer.announce(mine, http)
            for n in range(2, 130):  # more than one page of 100 after it
                announcer.announce(readback.ann(n, created_at=first), http)
            found = announcer.read_back(mine, http, since=first)
            missing = announcer.read_back(readback.ann(500), http, since=first)
        reads = [r for r in fake.requests if r.method == "GET"]
    assert found is not None and found.duplicate and found.remote_id == sent.remote_id
    assert missing is None
    assert len(reads) == 4  # two pages each: newest 100, then the rest
    narrow = json.loads(reads[0].query["narrow"][0])
    assert {t["operator"] for t in narrow} == {"stream", "topic", "sender"}
    assert fake.problems == []


def test_zulip_read_back_with_a_bad_key_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running(by_kind("zulip"), monkeypatch) as (_, config):
        monkeypatch.setenv("T_ZULIP_KEY", "not-the-key-at-all")
        options = {**config.options, "api_key": Secret("T_ZULIP_KEY", "not-the-key-at-all")}
        announcer = ZulipAnnouncer("zulip", options)
        with requests.Session() as http, pytest.raises(ReadBackUnavailable) as caught:
            announcer.read_back(readback.ann(1), http, since=NOW)
    assert caught.value.status == 401


def test_zulip_escapes_what_its_markdown_would_read_as_markup() -> None:
    escape = ZulipAnnouncer("z", {}).escape
    assert escape("@**all** [x](y) *a* _b_ #c `d` > e") == (
        "@\u2060\\*\\*all\\*\\* \\[x\\](y) \\*a\\* \\_b\\_ \\#c \\`d\\` \\> e"
    )
    # No backslash escapes math or strikethrough: a word joiner splits each pair.
    assert escape("$$$$ ~~x~~") == "$\u2060$\u2060$\u2060$ ~\u2060~x~\u2060~"
    assert escape("1 < 2") == "1 < 2"  # Zulip renders no raw HTML
