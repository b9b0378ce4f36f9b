"""The platforms of issue 17 against their fakes: the table-driven tests every adapter
passes (tests/test_announce_adapters.py and the 2xx-of-the-wrong-shape test of
tests/test_announce_readback.py, run over these rows), then what is particular to each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import test_announce_adapters as generic
import test_announce_readback as readback
from fakes.harness import Platform, announce, baseline, running
from fakes.platforms_more import (
    GCHAT_KEY,
    GCHAT_TOKEN,
    MM_TOKEN,
    MORE_PLATFORMS,
    SMTP_FROM,
    SMTP_PASSWORD,
    SMTP_TO,
    SMTP_USER,
    THREADS_TOKEN,
    ZULIP_STREAM,
    AppriseReceiver,
    GoogleChatFake,
    LinkedInFake,
    MattermostFake,
    SMTPFake,
    ThreadsFake,
    XFake,
    ZulipFake,
    check_email,
    check_googlechat,
    make_certificate,
    threads_count,
    x_length,
)
from fakes.posts import NOW, make_post, target
from fakes.server import Fault
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.announce import Card, list_state
from publisher.announce.adapters.apprise import AppriseAnnouncer
from publisher.announce.adapters.email import message_id as email_message_id
from publisher.announce.adapters.googlechat import GoogleChatAnnouncer, message_id
from publisher.announce.adapters.linkedin import LinkedInAnnouncer
from publisher.announce.adapters.mattermost import MattermostAnnouncer
from publisher.announce.adapters.threads import ThreadsAnnouncer, threads_length
from publisher.announce.adapters.x import XAnnouncer, weighted_length
from publisher.announce.adapters.x import rate_limit_wait as x_rate_limit_wait
from publisher.announce.adapters.zulip import ZulipAnnouncer
from publisher.announce.contract import (
    Announcement,
    DeliveryError,
    ReadBackUnavailable,
    SetupError,
)
from publisher.config import Secret

# aiosmtpd warns about AUTH without TLS: the table runs SMTP in the clear to stay fast;
# STARTTLS and SMTPS have tests of their own.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning",
    "ignore:Session.login_data is deprecated:DeprecationWarning",
)

CHILD = Path(__file__).parent / "fakes" / "announce_child.py"
IDS = [p.kind for p in MORE_PLATFORMS]
each = pytest.mark.parametrize("platform", MORE_PLATFORMS, ids=IDS)


def by_kind(kind: str) -> Platform:
    return next(p for p in MORE_PLATFORMS if p.kind == kind)


# -- the table every adapter passes ----------------------------------------------------


@each
def test_sends_each_post_once_with_a_valid_request(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generic.test_sends_each_post_once_with_a_valid_request(platform, tmp_path, monkeypatch)


@each
def test_rate_limit_is_waited_out_then_sent(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if platform.kind == "apprise":
        pytest.skip("Apprise reports every failure alike: in doubt (see the Apprise tests)")
    generic.test_rate_limit_is_waited_out_then_sent(platform, tmp_path, monkeypatch)


@pytest.mark.parametrize("fault", [Fault.timeout(1.2), Fault.drop()], ids=["timeout", "drop"])
@each
def test_ambiguous_failure_follows_the_platforms_guarantee(
    platform: Platform, fault: Fault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if platform.kind == "threads":
        pytest.skip("Threads reads the container's status instead of publishing again: below")
    generic.test_ambiguous_failure_follows_the_platforms_guarantee(
        platform, fault, tmp_path, monkeypatch
    )


@each
def test_retry_in_doubt_resends(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if platform.kind in ("mattermost", "x", "linkedin"):
        pytest.skip("the platform itself drops this resend: see its own tests")
    generic.test_retry_in_doubt_resends(platform, tmp_path, monkeypatch)


@each
def test_permanent_refusal_is_not_retried_and_stops_the_target(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if platform.kind == "apprise":
        pytest.skip("Apprise reports every failure alike: in doubt (see the Apprise tests)")
    generic.test_permanent_refusal_is_not_retried_and_stops_the_target(
        platform, tmp_path, monkeypatch
    )


@pytest.mark.parametrize("odd", readback.ODD_BODIES, ids=["html", "object", "list", "nested"])
@each
def test_a_2xx_of_the_wrong_shape_is_sent_once_without_a_traceback(
    platform: Platform, odd: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readback.test_a_2xx_of_the_wrong_shape_is_sent_once_without_a_traceback(
        platform, odd, tmp_path, monkeypatch
    )


@each
def test_no_secret_in_the_report_ledger_or_log_whatever_the_platform_echoes(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    logs: list[str] = []
    with running(platform, monkeypatch, timeout=0.4, max_per_run=50) as (fake, config):
        secrets = [v.value for v in config.options.values() if getattr(v, "value", None)]
        baseline([config], state)
        reports = [announce([config], [make_post(0)], state, dry_run=True).as_dict()]
        faults = [Fault.echo(404), Fault.echo(502), Fault.status(401), Fault.timeout(1.0)]
        for n, fault in enumerate(faults, start=1):
            fake.fail_next(fault)
            posts = [make_post(i) for i in range(1, n + 1)]
            reports.append(announce([config], posts, state, log=logs.append).as_dict())
    haystack = "\n".join([*logs, json.dumps(reports, ensure_ascii=False)])
    haystack += (state / "announce.sqlite").read_bytes().decode("utf-8", "replace")
    assert secrets
    if any(secret.startswith("http") for secret in secrets):
        assert "…" in haystack  # the echoed URL was there to hide, and was hidden
    for secret in secrets:
        assert secret not in haystack
        for part in secret.replace("?", "&").replace("=", "&").split("&"):
            if len(part) >= 16:
                assert part not in haystack, f"a secret part ending {part[-4:]} leaked"


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


def test_mattermost_retry_in_doubt_within_30_seconds_is_dropped_later_is_posted(
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
    assert late.sent == 1 and len(fake.posts) == 3  # as asked: posted again


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


# -- Email -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    made = make_certificate(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("openssl is not installed")
    return made


@pytest.mark.parametrize("security", ["starttls", "smtps"])
def test_email_over_tls_sends_text_and_html_with_a_stable_message_id(
    security: str,
    certificate: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = tmp_path / "state"
    posts = [make_post(1, title="<script>x</script> & Grüße 漢字"), make_post(2)]
    card = Card(url="https://blog.example.org/cards/1.jpg", alt='A "card"')
    extra = {"security": security, "certificate": certificate, "ca_file": str(certificate[0])}
    with running(by_kind("email"), monkeypatch, **extra) as (fake, config):
        assert isinstance(fake, SMTPFake)
        baseline([config], state)
        report = announce([config], posts, state, cards={posts[0].id: card})
    assert fake.problems == [] and report.sent == 2
    assert fake.logins == [(SMTP_USER, SMTP_PASSWORD)] * 2
    first, second = fake.delivered
    assert first["Subject"] == posts[0].title and first["To"] == SMTP_TO
    plain = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    assert posts[0].title in plain and plain.rstrip().endswith(posts[0].url)
    assert "&lt;script&gt;x&lt;/script&gt; &amp; Grüße 漢字" in html and "<script>" not in html
    assert f'<img src="{card.url}" alt="A &#34;card&#34;"' in html
    assert first["Message-ID"] != second["Message-ID"]
    assert report.decisions[0].remote_id == first["Message-ID"]
    # The id belongs to the post and the list, not to the attempt.
    assert first["Message-ID"] == email_message_id(posts[0].id, [SMTP_TO], SMTP_USER)
    assert (
        email_message_id(posts[0].id, ["other@lists.example.org"], SMTP_USER)
        != (first["Message-ID"])
    )


def test_email_certificate_not_trusted_fails_the_target_without_sending(
    certificate: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    extra = {"security": "starttls", "certificate": certificate}
    with running(by_kind("email"), monkeypatch, **extra) as (fake, config):
        baseline([config], state)
        report = announce([config], [make_post(1), make_post(2)], state)
    assert [d.result for d in report.decisions] == ["failed", "deferred"]
    assert "TLS failed" in (report.decisions[0].error or "") and fake.delivered == []


@pytest.mark.parametrize(
    ("fault", "status", "results"),
    [
        (Fault.status(401), 401, ["failed", "deferred"]),
        (Fault.status(404), 404, ["failed", "deferred"]),
        (Fault.status(400), 400, ["failed", "sent"]),
    ],
    ids=["auth-required", "recipient-unknown", "message-refused"],
)
def test_email_refusals_are_permanent_and_say_the_smtp_reply(
    fault: Fault,
    status: int,
    results: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = tmp_path / "state"
    with running(by_kind("email"), monkeypatch) as (fake, config):
        baseline([config], state)
        fake.fail_next(fault)
        report = announce([config], [make_post(1), make_post(2)], state)
    assert [d.result for d in report.decisions] == results
    decision = report.decisions[0]
    assert decision.http_status == status and "SMTP 5" in (decision.error or "")
    assert len(fake.delivered) == results.count("sent")


def test_email_wrong_password_stops_the_target_and_is_not_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("email"), monkeypatch) as (fake, config):
        baseline([config], state)
        monkeypatch.setenv("T_SMTP_PASSWORD", "a-wrong-password-123")
        raw = {k: v for k, v in config.options.items() if k in ("host", "port", "security")}
        wrong = target(
            "email",
            "email",
            {**raw, "username": SMTP_USER, "password": "${T_SMTP_PASSWORD}", "from": SMTP_FROM}
            | {"to": SMTP_TO},
        )
        report = announce([wrong], [make_post(1), make_post(2)], state)
    assert [d.result for d in report.decisions] == ["failed", "deferred"]
    assert report.decisions[0].http_status == 401
    assert "a-wrong-password-123" not in json.dumps(report.as_dict())
    assert fake.delivered == []


def test_email_resend_in_doubt_carries_the_same_message_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(by_kind("email"), monkeypatch, timeout=0.4) as (fake, config):
        baseline([config], state)
        fake.fail_next(Fault.drop())
        first = announce([config], [make_post(1)], state)
        again = announce([config], [make_post(1)], state, retry_in_doubt=True)
    assert first.in_doubt == 1 and again.sent == 1
    one, two = fake.delivered
    assert one["Message-ID"] == two["Message-ID"]
    # Date is the first attempt's time, kept in the ledger: the same on the resend.
    assert one["Date"] == two["Date"]


def test_email_long_unbroken_text_keeps_lines_within_998_octets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    post = make_post(1, title="漢" * 3000, summary="x" * 30000)
    with running(by_kind("email"), monkeypatch) as (fake, config):
        baseline([config], state)
        report = announce([config], [post], state)
    assert report.sent == 1 and fake.problems == []
    (message,) = fake.delivered
    assert len(message["Subject"]) <= 200
    # The part as sent: CRLF line ends and a final line end added by MIME.
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip("\n")
    assert check_email({"subject": message["Subject"], "text": text}) == []


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
        baseline([config], state)
        fake.fail_next(Fault.drop())
        first = announce([config], [make_post(1)], state)
        again = announce([config], [make_post(1)], state, retry_in_doubt=True)
    assert first.in_doubt == 1 and again.sent == 1
    assert len(fake.posts) == 1 and len(fake.writes()) == 2
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
    post = make_post(1, title="👍🏽" * 100, summary="漢" * 600)
    with running(by_kind("threads"), monkeypatch) as (fake, config):
        baseline([config], state)
        report = announce([config], [post], state)
    assert report.sent == 1 and fake.problems == []
    (container,) = fake.delivered
    assert threads_count(container["text"]) <= 500 and post.url in container["text"]
    assert container["link_attachment"] == post.url
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


# -- crash: SIGKILL mid-batch, then a rerun ---------------------------------------------


def _hang_on(fake: Any, matches: Any, nth: int, seconds: float = 30.0) -> None:
    """The nth request matching ``matches`` is processed, then never answered."""
    original = fake.dispatch
    count = {"n": 0}

    def dispatch(handler: Any, request: Any) -> None:
        if matches(request):
            count["n"] += 1
            if count["n"] == nth:
                response = fake.route(request)
                if response.processed:
                    fake.processed_event.set()
                time.sleep(seconds)
                return
        original(handler, request)

    fake.dispatch = dispatch


@pytest.mark.parametrize("where", ["publish", "between"])
def test_sigkill_mid_batch_then_rerun_posts_each_exactly_once_on_new_platforms(
    where: str, tmp_path: Path
) -> None:
    """Threads (killed while its 4th publish is unanswered, or between its 4th container
    and its publish) and Google Chat (killed on an unanswered 4th message), then rerun:
    every post on each platform exactly once."""
    state = tmp_path / "state"
    n = 7
    with ThreadsFake() as threads, GoogleChatFake() as chat:
        assert isinstance(threads, ThreadsFake) and isinstance(chat, GoogleChatFake)
        env = {"K_THREADS": THREADS_TOKEN, "K_GCHAT": chat.url}
        targets = [
            [
                "threads",
                "threads",
                {"token": "${K_THREADS}", "api": threads.base, "max_per_run": 50},
            ],
            ["googlechat", "googlechat", {"url": "${K_GCHAT}", "max_per_run": 50}],
        ]
        spec = {"state": str(state), "targets": targets, "posts": 0}
        baseline_run = subprocess.run(
            [sys.executable, str(CHILD), _spec(tmp_path, spec)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert baseline_run.returncode == 0, baseline_run.stderr
        if where == "publish":
            _hang_on(threads, threads.is_write, 4)
        else:  # the status read between the 4th container and its publish
            _hang_on(
                threads,
                lambda r: r.method == "GET" and r.path.rsplit("/", 1)[-1] in threads.containers,
                4,
            )
        _hang_on(chat, chat.is_write, 4)
        child = subprocess.Popen(
            [sys.executable, str(CHILD), _spec(tmp_path, {**spec, "posts": n})],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while (
                not (len(chat.messages) >= 4 and len(threads.containers) >= 4)
                and time.monotonic() < deadline
            ):
                time.sleep(0.02)
            time.sleep(0.2)
        finally:
            child.kill()
            child.wait()
        published_before = len(threads.posts)
        rerun = subprocess.run(
            [sys.executable, str(CHILD), _spec(tmp_path, {**spec, "posts": n})],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rerun.returncode == 0, rerun.stderr
    assert published_before == (4 if where == "publish" else 3)
    texts = [p["text"] for p in threads.posts]
    assert len(texts) == len(set(texts)) == n  # 0 duplicates, 0 losses
    assert len(chat.messages) == n and chat.duplicates == 1
    rows = {(r.target, r.status) for r in list_state(state / "announce.sqlite")}
    assert rows == {("threads", "sent"), ("googlechat", "sent")}


def _spec(tmp_path: Path, spec: dict[str, Any]) -> str:
    path = tmp_path / f"spec-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return str(path)


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


# -- Apprise ---------------------------------------------------------------------------


@pytest.fixture
def apprise_rows(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    pytest.importorskip("apprise")
    with AppriseReceiver() as one, AppriseReceiver() as two:
        assert isinstance(one, AppriseReceiver) and isinstance(two, AppriseReceiver)
        yield one, two


@pytest.mark.parametrize("code", [429, 403, 500])
def test_apprise_any_failure_is_in_doubt_and_not_resent(
    code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, apprise_rows: Any
) -> None:
    one, _ = apprise_rows
    state = tmp_path / "state"
    monkeypatch.setenv("T_APPRISE_URLS", one.url)
    config = target("apprise", "apprise", {"urls": "${T_APPRISE_URLS}"})
    baseline([config], state)
    one.fail_next(Fault.status(code))
    report = announce([config], [make_post(1)], state)
    again = announce([config], [make_post(1)], state)
    assert report.in_doubt == 1 and [d.reason for d in again.decisions] == ["in_doubt"]
    assert len(one.writes()) == 1
    assert "cannot tell whether" in (report.decisions[0].error or "")


def test_apprise_sends_to_every_url_and_a_partial_failure_is_in_doubt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, apprise_rows: Any
) -> None:
    one, two = apprise_rows
    state = tmp_path / "state"
    monkeypatch.setenv("T_APPRISE_URLS", f"{one.url}, {two.url}")
    config = target("apprise", "apprise", {"urls": "${T_APPRISE_URLS}"})
    baseline([config], state)
    first = announce([config], [make_post(1)], state)
    assert first.sent == 1 and len(one.delivered) == len(two.delivered) == 1
    two.fail_next(Fault.status(503))
    second = announce([config], [make_post(1), make_post(2)], state)
    assert len(one.delivered) == 2 and len(two.delivered) == 1
    (decision,) = [d for d in second.decisions if d.post_id == make_post(2).id]
    assert decision.result == "in_doubt" and "1 of 2 services took it" in (decision.error or "")
    assert one.delivered[0]["title"] == make_post(1).title
    # The target's timeouts were handed to Apprise (cto/rto) since the URLs set none.
    announcer = AppriseAnnouncer("apprise", config.options)
    assert all("cto=5&rto=15" in u for u in announcer.urls())


def test_apprise_url_it_cannot_parse_is_refused_without_printing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, apprise_rows: Any
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("T_APPRISE_URLS", "nosuchservice://s3cr3t-t0ken-value/x")
    config = target("apprise", "apprise", {"urls": "${T_APPRISE_URLS}"})
    baseline([config], state)
    report = announce([config], [make_post(1)], state)
    (decision,) = report.decisions
    assert decision.result == "failed" and "URL 1 of 1" in (decision.error or "")
    assert "s3cr3t-t0ken-value" not in json.dumps(report.as_dict())


def test_apprise_not_installed_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)  # what an absent package looks like
    monkeypatch.setenv("T_APPRISE_URLS", "json://127.0.0.1:9/notify")
    config = target("apprise", "apprise", {"urls": "${T_APPRISE_URLS}"})
    announcer = AppriseAnnouncer("apprise", config.options)
    with requests.Session() as http, pytest.raises(SetupError) as caught:
        announcer.announce(readback.ann(1), http)
    assert "pip install 'publisher[apprise]'" in str(caught.value)
