"""Issue 10's delivery guarantees against fake platforms on 127.0.0.1: read-back before a
resend once the idempotency key may be forgotten, so a late retry never posts twice. (The
circuit breaker, deadlines and signals: test_announce_stopping.py.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from fakes.harness import PLATFORMS, announce, baseline, running
from fakes.platforms import MastodonFake
from fakes.posts import NOW, make_post, target
from fakes.server import Fault, Request, Response

from publisher.announce import Ledger, Receipt, RetryPolicy, list_state
from publisher.announce.adapters.mastodon import MastodonAnnouncer
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
        age_first_attempt(state / "announce.sqlite", make_post(1).id, days=1)
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


def age_first_attempt(ledger: Path, post_id: str, *, days: float) -> None:
    """Move a row's attempts into the past (the test cannot wait 11 days)."""
    import sqlite3

    moment = (NOW - timedelta(days=days)).isoformat(timespec="seconds")
    with sqlite3.connect(ledger) as db:
        db.execute(
            "UPDATE announcements SET first_attempt_at = ?, last_attempt_at = ? WHERE post_id = ?",
            (moment, moment, post_id),
        )
