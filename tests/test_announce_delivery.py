"""Issue 10's delivery guarantees against fake platforms on 127.0.0.1: read-back before a
resend once the idempotency key may be forgotten, the circuit breaker, retry_time, the
deadline, adapter crashes as one post's failure, and no post left out without a reason."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from fakes.harness import PLATFORMS, announce, baseline, running
from fakes.platforms import MastodonFake
from fakes.posts import NOW, make_post, target
from fakes.server import Fault, Request, Response

from conftest import REPO, Site
from publisher.announce import Ledger, Receipt, RetryPolicy, list_state
from publisher.announce.adapters.mastodon import MastodonAnnouncer
from publisher.announce.adapters.slack import SlackAnnouncer
from publisher.announce.contract import Announcement, ReadBackUnavailable
from publisher.announce.deliver import FOUND

ONE_TRY = RetryPolicy(attempts=1, base=0.05, cap=0.2, budget=5.0)


class ReadableMastodon(MastodonFake):
    """Mastodon that also answers ``GET /api/v1/accounts/:id/statuses`` (newest first), and
    can forget its idempotency keys, as the real one does after about an hour."""

    def __init__(self) -> None:
        super().__init__()
        self.created: list[dict[str, Any]] = []
        self.reads = 0

    def forget_keys(self) -> None:
        with self.lock:
            self.by_key.clear()

    def route(self, request: Request) -> Response:
        if request.method == "GET" and request.path == "/api/v1/accounts/1/statuses":
            if not self._authed(request):
                return Response(401, {"error": "The access token is invalid"})
            with self.lock:
                self.reads += 1
                return Response(200, list(reversed(self.created)))
        response = super().route(request)
        if response.processed:
            with self.lock:
                self.created.append(response.body)
        return response


def mastodon_read_back(
    self: MastodonAnnouncer, announcement: Announcement, session: requests.Session, *, since: Any
) -> Receipt | None:
    """What the adapters' read-back does, in the small: look for the post's URL."""
    response = session.get(
        f"{self.instance}/api/v1/accounts/1/statuses", headers=self.headers(), timeout=self.timeout
    )
    if response.status_code != 200:
        raise ReadBackUnavailable(self.name, response.status_code, "statuses not readable")
    for status in response.json():
        if announcement.url in status["content"]:
            return Receipt(
                target=self.name,
                post_id=announcement.post.id,
                remote_id=status["id"],
                remote_url=status["url"],
                status=200,
            )
    return None


def _mastodon(monkeypatch: pytest.MonkeyPatch, fake: MastodonFake) -> Any:
    monkeypatch.setenv("T_MASTODON_TOKEN", fake.token)
    return target(
        "mastodon",
        "mastodon",
        {"instance": fake.base, "token": "${T_MASTODON_TOKEN}", "max_per_run": 50},
    )


@pytest.fixture
def forgetful(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mastodon as its read-back adapter declares it, keys honoured for no time at all."""
    monkeypatch.setattr(MastodonAnnouncer, "key_lifetime", timedelta(0))
    monkeypatch.setattr(MastodonAnnouncer, "read_back", mastodon_read_back)


@pytest.mark.usefixtures("forgetful")
def test_an_expired_key_is_read_back_and_found_not_resent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with ReadableMastodon() as fake:
        assert isinstance(fake, ReadableMastodon)
        config = _mastodon(monkeypatch, fake)
        baseline([config], state)
        fake.fail_next(Fault.drop())  # posted, answer lost
        first = announce([config], [make_post(1)], state, policy=ONE_TRY)
        assert [d.result for d in first.decisions] == ["failed"]
        assert len(fake.delivered) == 1
        fake.forget_keys()  # an hour later: a resend with the old key would post twice
        second = announce([config], [make_post(1)], state, policy=ONE_TRY)
        assert len(fake.delivered) == 1 and len(fake.writes()) == 1 and fake.reads == 1
    assert [d.result for d in second.decisions] == ["sent"]
    (row,) = list_state(state / "announce.sqlite")
    assert row.status == "sent" and row.reason == FOUND
    assert row.remote_url == fake.created[0]["url"]


@pytest.mark.usefixtures("forgetful")
def test_an_expired_key_read_back_empty_is_sent_again_with_a_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with ReadableMastodon() as fake:
        config = _mastodon(monkeypatch, fake)
        baseline([config], state)
        fake.fail_next(Fault.status(502))  # not processed, but the client cannot know
        announce([config], [make_post(1)], state, policy=ONE_TRY)
        assert fake.delivered == []
        # Right away, "not there" may only mean "not there yet": asked again next run.
        early = announce([config], [make_post(1)], state, policy=ONE_TRY)
        assert [d.result for d in early.decisions] == ["failed"]
        assert "may still arrive" in (early.decisions[0].error or "")
        assert len(fake.writes()) == 1
        _age_first_attempt(state / "announce.sqlite", make_post(1).id, days=1)
        report = announce([config], [make_post(1)], state, policy=ONE_TRY)
        keys = [w.headers["idempotency-key"] for w in fake.writes()]
    assert [d.result for d in report.decisions] == ["sent"]
    assert len(fake.delivered) == 1 and len(keys) == 2 and keys[0] != keys[1]
    assert fake.reads == 2


def test_a_fresh_key_is_resent_without_reading_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MastodonAnnouncer, "key_lifetime", timedelta(hours=1))
    monkeypatch.setattr(MastodonAnnouncer, "read_back", mastodon_read_back)
    state = tmp_path / "state"
    with ReadableMastodon() as fake:
        config = _mastodon(monkeypatch, fake)
        baseline([config], state)
        fake.fail_next(Fault.drop())
        announce([config], [make_post(1)], state, policy=ONE_TRY)
        report = announce([config], [make_post(1)], state, policy=ONE_TRY)
        keys = [w.headers["idempotency-key"] for w in fake.writes()]
    assert [d.result for d in report.decisions] == ["sent"]
    assert fake.reads == 0 and len(fake.delivered) == 1 and len(set(keys)) == 1


@pytest.mark.usefixtures("forgetful")
def test_a_platform_that_cannot_tell_leaves_the_post_in_doubt_with_the_next_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cannot_tell(self: MastodonAnnouncer, *args: Any, **kwargs: Any) -> None:
        raise ReadBackUnavailable(self.name, None, "this token may not read statuses")

    monkeypatch.setattr(MastodonAnnouncer, "read_back", cannot_tell)
    state = tmp_path / "state"
    with ReadableMastodon() as fake:
        config = _mastodon(monkeypatch, fake)
        baseline([config], state)
        fake.fail_next(Fault.drop())
        announce([config], [make_post(1)], state, policy=ONE_TRY)
        second = announce([config], [make_post(1)], state, policy=ONE_TRY)
        third = announce([config], [make_post(1)], state, policy=ONE_TRY)
        assert len(fake.writes()) == 1  # never blindly resent
        resent = announce([config], [make_post(1)], state, policy=ONE_TRY, retry_in_doubt=True)
    (decision,) = second.decisions
    assert decision.result == "in_doubt" and not second.ok
    assert "check mastodon for https://blog.example.org/blog/2026-05-0001-post/" in (
        decision.error or ""
    )
    assert "publish state mark-sent 2026-05-0001-post --target mastodon" in (decision.error or "")
    # A later run reports it again, as a standing doubt (not a new failure).
    (again,) = third.decisions
    assert (again.result, again.reason) == ("skipped", "in_doubt") and again.shown_by_default
    assert "mark-sent" in again.detail
    # --retry-in-doubt: the user says it is not there; it is sent again, as asked.
    assert [d.result for d in resent.decisions] == ["sent"]


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
        _age_first_attempt(state / "announce.sqlite", stuck.id, days=11)
        later = announce([config], [late, stuck], state)
    (too_old,) = [d for d in later.decisions if d.post_id == stuck.id]
    assert too_old.reason == "too_old" and too_old.shown_by_default
    assert "more than max_age ago" in too_old.detail
    assert later.not_announced() == {"too_old": 1}
    assert "not announced: 1 too_old" in later.summary()
    assert [r.status for r in list_state(state / "announce.sqlite", post_id=stuck.id)] == ["failed"]


def _age_first_attempt(ledger: Path, post_id: str, *, days: float) -> None:
    """Move a row's attempts into the past (the test cannot wait 11 days)."""
    import sqlite3

    moment = (NOW - timedelta(days=days)).isoformat(timespec="seconds")
    with sqlite3.connect(ledger) as db:
        db.execute(
            "UPDATE announcements SET first_attempt_at = ?, last_attempt_at = ? WHERE post_id = ?",
            (moment, moment, post_id),
        )


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


@pytest.mark.usefixtures("forgetful")
@pytest.mark.parametrize("arrived", [True, False])
def test_a_killed_send_with_an_expired_key_is_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arrived: bool
) -> None:
    import sqlite3

    state = tmp_path / "state"
    with ReadableMastodon() as fake:
        config = _mastodon(monkeypatch, fake)
        baseline([config], state)
        if arrived:  # the platform took it; the run died before writing `sent`
            announce([config], [make_post(1)], state)
            with sqlite3.connect(state / "announce.sqlite") as db:
                db.execute("UPDATE announcements SET status = 'sending'")
        else:  # the run died after writing `sending`, before the request left
            with Ledger(state / "announce.sqlite") as ledger:
                ledger.begin(make_post(1).id, "mastodon", "mastodon", "k" * 32, NOW)
        fake.forget_keys()
        report = announce([config], [make_post(1)], state)
        writes = len(fake.writes())
    assert [(d.reason, d.result) for d in report.decisions] == [("retry", "sent")]
    assert len(fake.delivered) == 1 and fake.reads == 1 and writes == 1
    (row,) = list_state(state / "announce.sqlite")
    assert row.status == "sent" and (row.reason == FOUND) is arrived


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


@pytest.mark.parametrize("platform", [PLATFORMS[4], PLATFORMS[6]], ids=["mastodon", "matrix"])
def test_the_issue_a_late_retry_no_longer_posts_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: Any
) -> None:
    """Issue 10: a failed row resent with its key after the platform forgot the key (an
    hour on Mastodon, half an hour on Matrix) posted twice. The adapters' own read-back,
    against fakes that forget keys at once."""
    state = tmp_path / "state"
    with running(platform, monkeypatch, max_per_run=50) as (fake, config):
        fake.key_ttl = fake.txn_ttl = 0.0  # type: ignore[attr-defined]
        from publisher.announce.registry import announcer_class

        monkeypatch.setattr(announcer_class(platform.kind), "key_lifetime", timedelta(0))
        baseline([config], state)
        fake.fail_next(Fault.drop())
        first = announce([config], [make_post(1)], state, policy=ONE_TRY)
        second = announce([config], [make_post(1)], state, policy=ONE_TRY)
        delivered, writes = len(fake.delivered), len(fake.writes())
    assert [d.result for d in first.decisions] == ["failed"]
    assert [d.result for d in second.decisions] == ["sent"]
    assert delivered == 1 and writes == 1
    (row,) = list_state(state / "announce.sqlite")
    assert row.reason == FOUND


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
