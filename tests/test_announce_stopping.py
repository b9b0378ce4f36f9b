"""Issue 10's guarantees for runs that stop early, against fake platforms on 127.0.0.1: the
circuit breaker, retry_time, the run's and a target's deadline, a signal, adapter crashes
as one post's failure, and no post left out without a reason."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from fakes.harness import PLATFORMS, announce, baseline, running
from fakes.posts import NOW, make_post, target
from fakes.server import Fault
from test_announce_delivery import age_first_attempt

from conftest import REPO, Site
from publisher.announce import Receipt, RetryPolicy, list_state
from publisher.announce.adapters.slack import SlackAnnouncer
from publisher.announce.contract import Announcement

ONE_TRY = RetryPolicy(attempts=1, base=0.05, cap=0.2, budget=5.0)


def test_a_hanging_platform_is_paused_after_two_timeouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    posts = [make_post(i) for i in range(5)]
    with running(PLATFORMS[0], monkeypatch, timeout=0.3, max_per_run=50) as (fake, config):
        baseline([config], state)
        fake.fail_next(*[Fault.timeout(1.0)] * 5)
        first = announce([config], posts, state)
        tried = len(fake.writes())
        rows = {r.post_id: r.status for r in list_state(state / "announce.sqlite")}
        fake.faults.clear()
        second = announce([config], posts, state)
    assert tried == 2
    assert [d.result for d in first.decisions] == ["in_doubt"] * 2 + ["paused"] * 3
    assert "paused slack" in (first.decisions[-1].error or "")
    assert first.not_announced() == {"paused": 3}
    assert "3 paused" in first.summary() and first.as_dict()["paused"] == 3
    # Paused posts were left pending: no ledger row, and the next run sends them.
    assert sorted(rows.values()) == ["in_doubt", "in_doubt"]
    assert [d.result for d in second.decisions] == ["skipped"] * 2 + ["sent"] * 3
    texts = [b["text"] for b in fake.delivered]
    assert len(texts) == len(set(texts)) == 5  # the two in doubt had arrived; none twice


def test_an_adapter_crash_is_that_posts_doubt_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = SlackAnnouncer.announce

    def crashes_after_sending(
        self: SlackAnnouncer, announcement: Announcement, session: requests.Session
    ) -> Receipt:
        receipt = original(self, announcement, session)
        if announcement.post.id.endswith("0001-post"):
            raise KeyError("ts")  # a 200 with a body the adapter did not expect
        return receipt

    monkeypatch.setattr(SlackAnnouncer, "announce", crashes_after_sending)
    state = tmp_path / "state"
    with running(PLATFORMS[0], monkeypatch, max_per_run=50) as (fake, config):
        baseline([config], state)
        report = announce([config], [make_post(i) for i in range(4)], state)
        again = announce([config], [make_post(i) for i in range(4)], state)
    results = {d.post_id[-9:-5]: d.result for d in report.decisions}
    assert results == {"0000": "sent", "0001": "in_doubt", "0002": "sent", "0003": "sent"}
    crashed = next(d for d in report.decisions if d.result == "in_doubt")
    assert "unexpected KeyError" in (crashed.error or "") and "mark-sent" in (crashed.error or "")
    assert len(fake.delivered) == 4 and again.sent == 0


def test_retry_time_bounds_the_wait_for_one_announcement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = RetryPolicy(attempts=3, base=0.05, cap=0.2)  # budget: the target's retry_time
    outcomes = {}
    for retry_time in (0.5, 5.0):
        state = tmp_path / f"state-{retry_time}"
        with running(PLATFORMS[1], monkeypatch, retry_time=retry_time) as (fake, config):
            baseline([config], state)
            fake.fail_next(Fault.status(429, retry_after=1.0))
            report = announce([config], [make_post(1)], state, policy=policy)
            outcomes[retry_time] = (report.decisions[0].result, len(fake.writes()))
    assert outcomes == {0.5: ("failed", 1), 5.0: ("sent", 2)}


def test_a_target_deadline_leaves_the_rest_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    posts = [make_post(i) for i in range(6)]
    with running(PLATFORMS[0], monkeypatch, deadline=0.5, max_per_run=50) as (fake, config):
        baseline([config], state)
        fake.latency = 0.2
        first = announce([config], posts, state)
        rows = list_state(state / "announce.sqlite")
        fake.latency = 0.0
        second = announce([config], posts, state)
    results = [d.result for d in first.decisions]
    sent = results.count("sent")
    assert 1 <= sent < 6 and results == ["sent"] * sent + ["deadline"] * (6 - sent)
    assert "deadline passed" in (first.decisions[-1].error or "")
    assert first.not_announced() == {"deadline": 6 - sent}
    assert len(rows) == sent  # the rest: no row, pending
    assert second.sent == 6 - sent
    texts = [b["text"] for b in fake.delivered]
    assert len(texts) == len(set(texts)) == 6


def test_a_run_deadline_stops_every_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state"
    with (
        running(PLATFORMS[0], monkeypatch, max_per_run=50) as (slack, a),
        running(PLATFORMS[4], monkeypatch, max_per_run=50) as (mastodon, b),
    ):
        baseline([a, b], state)
        slack.latency = mastodon.latency = 0.2
        report = announce([a, b], [make_post(i) for i in range(8)], state, deadline=0.5)
    assert report.count("deadline") >= 8
    assert report.sent == len(slack.delivered) + len(mastodon.delivered) < 16


def test_a_late_merged_post_is_announced_and_max_age_counts_from_the_first_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(PLATFORMS[0], monkeypatch, max_age="10d", max_per_run=50) as (fake, config):
        baseline([config], state)
        late = make_post(1, days_ago=40)  # dated 40 days ago, merged today
        report = announce([config], [late], state)
        assert [(d.reason, d.result) for d in report.decisions] == [("new", "sent")]
        # A post that has failed since its first attempt 11 days ago is given up, visibly.
        stuck = make_post(2, days_ago=12)
        fake.fail_next(Fault.status(400))
        announce([config], [stuck], state, now=NOW - timedelta(days=11))
        age_first_attempt(state / "announce.sqlite", stuck.id, days=11)
        later = announce([config], [late, stuck], state)
    (too_old,) = [d for d in later.decisions if d.post_id == stuck.id]
    assert too_old.reason == "too_old" and too_old.shown_by_default
    assert "more than max_age ago" in too_old.detail
    assert later.not_announced() == {"too_old": 1}
    assert "not announced: 1 too_old" in later.summary()
    assert [r.status for r in list_state(state / "announce.sqlite", post_id=stuck.id)] == ["failed"]


def test_not_live_and_over_cap_posts_are_reported_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with running(PLATFORMS[0], monkeypatch, max_per_run=1) as (_, config):
        baseline([config], state)
        posts = [make_post(i) for i in range(3)]

        def first_not_live(urls: Any) -> dict[str, bool]:
            return {u: posts[0].id not in u for u in urls}

        report = announce([config], posts, state, live_check=first_not_live)
    by_reason = {d.reason: d for d in report.decisions}
    assert by_reason["not_live"].shown_by_default and by_reason["over_cap"].shown_by_default
    # A page that is not live holds no place under max_per_run: the next post goes.
    assert [(d.post_id, d.result) for d in report.decisions if d.result != "skipped"] == [
        (posts[1].id, "sent")
    ]
    assert report.not_announced() == {"not_live": 1, "over_cap": 1}
    assert report.as_dict()["not_announced"] == {"not_live": 1, "over_cap": 1}
    assert report.summary().endswith("not announced: 1 not_live, 1 over_cap")
    assert by_reason["not_live"].detail == ""


def test_zero_sent_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "state"
    with running(PLATFORMS[0], monkeypatch, categories=["releases"]) as (_, config):
        baseline([config], state)
        report = announce([config], [make_post(1)], state)
    assert report.sent == 0 and report.ok
    assert report.summary().endswith("not announced: 1 filtered")


def test_the_breaker_also_trips_on_a_dead_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("DEAD_URL", "http://127.0.0.1:9/nothing-listens-here")
    dead = target("dead", "slack", {"url": "${DEAD_URL}", "max_per_run": 50})
    baseline([dead], state)
    report = announce([dead], [make_post(i) for i in range(10)], state)
    # Two connection attempts in all, not ten posts' worth of retries.
    assert [d.result for d in report.decisions] == ["failed"] + ["paused"] * 9
    # Nothing was sent: the failed one is safe to send again, not in doubt.
    assert [r.status for r in list_state(state / "announce.sqlite")] == ["failed"]


def test_the_cli_says_why_nothing_was_sent_at_default_verbosity(site: Site) -> None:
    site.config(
        site.config_path.read_text().replace("https://blog.example.org", "http://127.0.0.1:9")
        + "announce:\n  targets:\n"
        + "    - kind: outbox\n      path: outbox.jsonl\n      categories: [releases]\n"
        + "    - kind: outbox\n      name: live\n      path: live.jsonl\n      require_live: true\n"
    )
    now = ("--now", "2024-03-01T12:00:00")
    first = _publish("announce", *now, cwd=site.root)
    assert first.returncode == 0, first.stderr
    # Merged today, dated last year: announced. Not in the category: filtered, and said so.
    site.post("late", "title: Late\ndate: 2023-01-01\ncategories: [releases]")
    site.post("other", "title: Other\ndate: 2024-02-28")
    second = _publish("announce", "--deadline", "60", *now, cwd=site.root)
    assert second.returncode == 0, second.stderr
    assert "outbox: late: new -> sent" in second.stderr
    assert "live: late: not_live" in second.stderr and "live: other: not_live" in second.stderr
    assert "0 deferred, in " in second.stderr
    assert "; not announced: 1 filtered, 2 not_live" in second.stderr


def _publish(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )


def test_a_rate_limit_wait_ends_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    policy = RetryPolicy(attempts=3, base=0.05, cap=0.2, budget=30.0)
    with running(PLATFORMS[1], monkeypatch, deadline=0.5) as (fake, config):
        baseline([config], state)
        fake.fail_next(Fault.status(429, retry_after=20.0))
        report = announce([config], [make_post(1), make_post(2)], state, policy=policy)
        writes = len(fake.writes())
    first, second = report.decisions
    assert writes == 1  # no request after the deadline, though the wait allowed one
    assert first.result == "failed" and "not retried: the run's deadline passed" in (
        first.error or ""
    )
    assert second.result == "deadline"
    assert [r.status for r in list_state(state / "announce.sqlite")] == ["failed"]


def test_a_signal_while_waiting_for_the_deploy_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    import threading

    from fakes.platforms import SiteFake

    state = tmp_path / "state"
    with SiteFake() as site, running(PLATFORMS[0], monkeypatch, max_per_run=50) as (fake, config):
        baseline([config], state)
        posts = [make_post(i, site=site.base) for i in range(3)]
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
        timer.start()
        try:
            report = announce([config], posts, state, live_check=None, live_wait=30.0)
        finally:
            timer.cancel()
    assert report.interrupted == signal.SIGTERM
    # The wait for the deploy ended at the signal; the pages were not live, and nothing went.
    assert [(d.reason, d.result) for d in report.decisions] == [("not_live", "skipped")] * 3
    assert fake.writes() == [] and len(list_state(state / "announce.sqlite")) == 0
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back as it was
