"""What is new, decided by the ledger: baseline, backfill, caps, age, filters, page-live,
the run lock, dry runs, and publish state list|forget|mark-sent."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fakes.harness import announce
from fakes.posts import NOW, make_post, target

from publisher.announce import Ledger, RunLock, forget, list_state, mark_sent
from publisher.announce.run import lock_path
from publisher.errors import StateError


def outbox(**extra: object) -> object:
    return target("out", "outbox", {"path": "out.jsonl", **extra})


def lines(tmp_path: Path) -> list[str]:
    path = tmp_path / "out.jsonl"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_first_run_is_a_baseline_and_announces_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    posts = [make_post(i) for i in range(5)]
    report = announce([outbox()], posts, state)
    assert report.sent == 0 and {d.reason for d in report.decisions} == {"baseline"}
    assert report.targets[0].baseline
    assert lines(tmp_path) == []
    new = make_post(9)
    report = announce([outbox()], [*posts, new], state)
    assert [(d.post_id, d.result) for d in report.decisions if d.result == "sent"] == [
        (new.id, "sent")
    ]


def test_a_lost_ledger_is_a_new_baseline_not_a_flood(tmp_path: Path) -> None:
    state = tmp_path / "state"
    posts = [make_post(i) for i in range(5)]
    announce([outbox()], [], state)
    announce([outbox()], posts, state)
    (state / "announce.sqlite").unlink()
    report = announce([outbox()], [*posts, make_post(7)], state)
    assert report.sent == 0
    assert len(lines(tmp_path)) == 5


def test_backfill_announces_the_newest_n(tmp_path: Path) -> None:
    posts = [make_post(i) for i in range(6)]
    report = announce([outbox()], posts, tmp_path / "state", backfill=2)
    assert [d.post_id for d in report.decisions if d.result == "sent"] == [posts[4].id, posts[5].id]


def test_backfill_can_be_configured_per_target(tmp_path: Path) -> None:
    posts = [make_post(i) for i in range(6)]
    report = announce([outbox(backfill=3)], posts, tmp_path / "state")
    assert report.sent == 3
    assert announce([outbox(backfill=3)], posts, tmp_path / "state").sent == 0


def test_a_new_target_gets_its_own_baseline(tmp_path: Path) -> None:
    state = tmp_path / "state"
    posts = [make_post(i) for i in range(3)]
    announce([outbox()], [], state)
    announce([outbox()], posts, state)
    second = target("second", "outbox", {"path": "second.jsonl"})
    report = announce([outbox(), second], posts, state)
    assert report.sent == 0
    assert {d.reason for d in report.decisions if d.target == "second"} == {"baseline"}


def test_edits_do_not_reannounce(tmp_path: Path) -> None:
    state = tmp_path / "state"
    announce([outbox()], [], state)
    announce([outbox()], [make_post(1)], state)
    edited = make_post(1, title="A new title", summary="changed", days_ago=0.5)
    report = announce([outbox()], [edited], state)
    assert [d.reason for d in report.decisions] == ["seen"]


def test_max_per_run_max_age_and_filters(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = outbox(
        max_per_run=2,
        max_age="10d",
        categories=["news"],
        exclude_tags=["draft-ish"],
        link_posts=False,
    )
    announce([config], [], state)
    posts = [
        make_post(1),
        make_post(2),
        make_post(3),
        make_post(4, days_ago=20),
        make_post(5, categories=("events",)),
        make_post(6, tags=("draft-ish",)),
        make_post(7, external_url="https://elsewhere.example/x"),
        make_post(8, draft=True),
    ]
    report = announce([config], posts, state)
    reasons = {d.post_id: d.reason for d in report.decisions}
    # Dated 20 days ago but first seen now (merged late): new, not too_old (max_age counts
    # from the first attempt; see test_announce_delivery.py).
    assert reasons == {
        posts[3].id: "new",
        posts[0].id: "new",
        posts[1].id: "over_cap",
        posts[2].id: "over_cap",
        posts[4].id: "filtered",
        posts[5].id: "filtered",
        posts[6].id: "filtered",
    }
    later = announce([config], posts, state)
    assert [d.post_id for d in later.decisions if d.result == "sent"] == [posts[1].id, posts[2].id]


def test_a_page_that_is_not_live_waits_for_the_next_run(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = outbox(require_live=True)
    announce([config], [], state)
    post = make_post(1, og_image_url="https://blog.example.org/card.jpg")
    asked: list[str] = []

    def nothing_live(urls):  # type: ignore[no-untyped-def]
        asked.extend(urls)
        return dict.fromkeys(urls, False)

    report = announce([config], [post], state, live_check=nothing_live)
    assert [d.reason for d in report.decisions] == ["not_live"]
    assert asked == sorted([post.page_url, "https://blog.example.org/card.jpg"])
    report = announce([config], [post], state)
    assert report.sent == 1


def test_a_card_image_on_another_host_is_never_contacted(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = outbox(require_live=True)
    announce([config], [], state)
    post = make_post(1, og_image_url="http://169.254.169.254/latest/meta-data/")
    asked: list[str] = []

    def all_live(urls):  # type: ignore[no-untyped-def]
        asked.extend(urls)
        return dict.fromkeys(urls, True)

    report = announce([config], [post], state, live_check=all_live)
    assert report.sent == 1
    assert asked == [post.page_url]


def test_page_check_waits_for_a_deploy(tmp_path: Path) -> None:
    from fakes.platforms import SiteFake

    from publisher.announce import PageCheck

    with SiteFake() as site:
        assert isinstance(site, SiteFake)
        url = site.base + "/blog/x/"
        threading.Timer(0.3, lambda: site.live.add("/blog/x/")).start()
        import requests

        check = PageCheck(requests.Session, wait=3, interval=0.1)
        assert check([url]) == {url: True}
        assert PageCheck(requests.Session, wait=0)([site.base + "/nope/"]) == {
            site.base + "/nope/": False
        }


def test_dry_run_changes_nothing_and_shows_payloads(tmp_path: Path) -> None:
    state = tmp_path / "state"
    report = announce([outbox()], [make_post(1)], state, dry_run=True)
    assert not state.exists()
    assert [d.reason for d in report.decisions] == ["baseline"]
    announce([outbox()], [], state)
    before = sorted(p.name for p in state.iterdir())
    report = announce([outbox()], [make_post(1)], state, dry_run=True)
    (decision,) = report.decisions
    assert decision.result == "would_send" and decision.reason == "new"
    assert decision.payload is not None and decision.payload["post_id"] == make_post(1).id
    assert decision.length is not None and decision.limit == 5000 and decision.unit == "graphemes"
    assert sorted(p.name for p in state.iterdir()) == before
    assert lines(tmp_path) == []
    assert list_state(state / "announce.sqlite") == ()


def test_the_run_lock_keeps_a_second_run_out(tmp_path: Path) -> None:
    state = tmp_path / "state"
    lock = RunLock(lock_path(state / "announce.sqlite"))
    lock.acquire()
    try:
        with pytest.raises(StateError, match="another announcement run is in progress"):
            announce([outbox()], [make_post(1)], state)
    finally:
        lock.release()
    announce([outbox()], [make_post(1)], state)


def test_state_list_forget_and_mark_sent(tmp_path: Path) -> None:
    state = tmp_path / "state"
    ledger = state / "announce.sqlite"
    config = outbox()
    announce([config], [], state)
    announce([config], [make_post(1)], state)
    (row,) = list_state(ledger)
    assert row.status == "sent" and row.attempts == 1 and row.sent_at
    assert forget(ledger, make_post(1).id) == 1
    assert list_state(ledger) == ()
    report = announce([config], [make_post(1)], state)
    assert report.sent == 1
    assert len(lines(tmp_path)) == 2  # forgotten: announced again, on purpose
    assert mark_sent(ledger, make_post(2).id, [config], now=NOW) == 1
    report = announce([config], [make_post(1), make_post(2)], state)
    assert report.sent == 0
    with pytest.raises(StateError, match="no target named"):
        mark_sent(ledger, "x", [config], now=NOW, target="nope")


def test_a_run_stopped_mid_send_leaves_a_sending_row(tmp_path: Path) -> None:
    """What SIGKILL leaves behind, made by hand: the next run knows the send may have happened."""
    state = tmp_path / "state"
    slack = target("slack", "slack", {"url": "${UNSET_FOR_THIS_TEST}"})
    announce([slack], [], state)
    with Ledger(state / "announce.sqlite") as ledger:
        ledger.begin(make_post(1).id, "slack", "slack", "k" * 32, NOW)
    report = announce([slack], [make_post(1)], state)
    assert [d.reason for d in report.decisions] == ["in_doubt"]
    (row,) = list_state(state / "announce.sqlite")
    assert row.status == "in_doubt"


def test_an_unset_secret_fails_the_target_not_the_run(tmp_path: Path) -> None:
    state = tmp_path / "state"
    slack = target("slack", "slack", {"url": "${UNSET_FOR_THIS_TEST}"})
    announce([slack, outbox()], [], state)
    report = announce(
        [slack, outbox()],
        [make_post(1), make_post(2)],
        state,
        live_check=lambda urls: dict.fromkeys(urls, True),
    )
    results = {(d.target, d.post_id): d.result for d in report.decisions}
    assert results[("slack", make_post(1).id)] == "failed"
    assert results[("slack", make_post(2).id)] == "deferred"
    assert results[("out", make_post(1).id)] == "sent"
    assert "UNSET_FOR_THIS_TEST" in (report.decisions[0].error or "")
