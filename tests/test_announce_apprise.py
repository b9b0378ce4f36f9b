"""Apprise (an optional extra) through its own json:// plugin to a receiver on 127.0.0.1:
the shared table (tests/announce_table.py), then its in-doubt rules; skipped where
Apprise is not installed."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import test_announce_readback as readback
from announce_table import TABLE, rows
from fakes.harness import Platform, announce, baseline
from fakes.platforms_more import (
    AppriseReceiver,
)
from fakes.posts import make_post, target
from fakes.server import Fault

from publisher.announce.adapters.apprise import AppriseAnnouncer
from publisher.announce.contract import (
    SetupError,
)

ROWS = rows("apprise")


@pytest.fixture(params=ROWS, ids=[row.kind for row in ROWS])
def platform(request: pytest.FixtureRequest) -> Platform:
    return request.param


# The shared table, run here over ROWS.
globals().update(TABLE)


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
