"""The platforms of issue 17 against their fakes: the table-driven tests every adapter
passes (tests/test_announce_adapters.py and the 2xx-of-the-wrong-shape test of
tests/test_announce_readback.py, run over these rows), then what is particular to each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import test_announce_adapters as generic
import test_announce_readback as readback
from fakes.harness import Platform, announce, baseline, running
from fakes.platforms_more import (
    GCHAT_KEY,
    GCHAT_TOKEN,
    MORE_PLATFORMS,
    GoogleChatFake,
    check_googlechat,
)
from fakes.posts import make_post, target
from fakes.server import Fault

from publisher.announce import Card, list_state
from publisher.announce.adapters.googlechat import GoogleChatAnnouncer, message_id
from publisher.announce.contract import Announcement

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
    generic.test_rate_limit_is_waited_out_then_sent(platform, tmp_path, monkeypatch)


@pytest.mark.parametrize("fault", [Fault.timeout(1.2), Fault.drop()], ids=["timeout", "drop"])
@each
def test_ambiguous_failure_follows_the_platforms_guarantee(
    platform: Platform, fault: Fault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generic.test_ambiguous_failure_follows_the_platforms_guarantee(
        platform, fault, tmp_path, monkeypatch
    )


@each
def test_retry_in_doubt_resends(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generic.test_retry_in_doubt_resends(platform, tmp_path, monkeypatch)


@each
def test_permanent_refusal_is_not_retried_and_stops_the_target(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    assert secrets and "…" in haystack
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
