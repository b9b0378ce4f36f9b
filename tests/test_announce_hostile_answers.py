"""Issue 10, checked from outside: answers a platform (or a proxy in front of it) should not
give, and what they must not do to a run.

A 429 is a refusal: nothing was posted. A ``Retry-After`` that is neither seconds nor an
HTTP date says nothing about when to come back, so the usual backoff applies; it must not
turn the refusal into an "unexpected error" (in doubt on a platform without a key, a
failure on one with a key)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from fakes.harness import PLATFORMS, announce, baseline, running
from fakes.posts import make_post
from fakes.server import Fault

from publisher.announce import list_state
from publisher.announce.http import retry_after

GARBAGE = ["abc", "soon", "Mon, 99 Foo 2026 25:61:61 GMT", "1,5", "Wed, 21 Oct"]
KINDS = {p.kind: p for p in PLATFORMS}


@pytest.mark.parametrize("value", GARBAGE)
@pytest.mark.parametrize("kind", ["discord", "mastodon", "bluesky", "webhook"])
def test_a_429_with_an_unreadable_retry_after_is_retried_and_sent_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, value: str
) -> None:
    state = tmp_path / "state"
    with running(KINDS[kind], monkeypatch) as (fake, config):
        baseline([config], state)
        # The fakes put ``retry_after`` in the Retry-After header as it is given.
        fake.fail_next(Fault.status(429, retry_after=value))  # type: ignore[arg-type]
        report = announce([config], [make_post(1)], state)
        writes = len(fake.writes())
        arrived = len(fake.delivered)
    (decision,) = [d for d in report.decisions if d.post_id == make_post(1).id]
    assert decision.result == "sent", (decision.error, decision.detail)
    assert report.in_doubt == 0 and report.failed == 0
    assert writes == 2 and arrived == 1  # refused once, then posted once
    (row,) = [r for r in list_state(state / "announce.sqlite") if r.post_id == make_post(1).id]
    assert row.status == "sent"


def test_an_http_date_retry_after_without_a_zone_counts_as_utc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RFC 5322 ``-0000`` gives a naive datetime; read as local time (here UTC+9) it would
    say nine hours less, or more, than the server meant."""
    monkeypatch.setenv("TZ", "Etc/GMT-9")
    time.tzset()
    try:
        response = requests.Response()
        stamp = time.time() + 30
        response.headers["Retry-After"] = time.strftime(
            "%a, %d %b %Y %H:%M:%S -0000", time.gmtime(stamp)
        )
        wait = retry_after(response, now=stamp - 30)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert wait is not None and 28 <= wait <= 32
