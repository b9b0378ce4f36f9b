"""The table-driven tests every adapter passes (tests/test_announce_adapters.py, the
2xx-of-the-wrong-shape test of tests/test_announce_readback.py, and a redaction test),
for the platforms of issue 17.

A test module imports ``TABLE`` into its namespace and defines a ``platform`` fixture
parametrized with its rows; pytest then runs every test here once per row, in that
module, so each module (and its run time) stays small.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import test_announce_adapters as generic
import test_announce_readback as readback
from fakes.harness import Platform, announce, baseline, running
from fakes.platforms_more import MORE_PLATFORMS
from fakes.posts import make_post
from fakes.server import Fault


def rows(*kinds: str) -> list[Platform]:
    """The MORE_PLATFORMS rows of these kinds (an absent optional one is left out)."""
    return [p for p in MORE_PLATFORMS if p.kind in kinds]


def by_kind(kind: str) -> Platform:
    return next(p for p in MORE_PLATFORMS if p.kind == kind)


# -- the table every adapter passes ----------------------------------------------------


def test_sends_each_post_once_with_a_valid_request(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generic.test_sends_each_post_once_with_a_valid_request(platform, tmp_path, monkeypatch)


def test_rate_limit_is_waited_out_then_sent(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if platform.kind == "apprise":
        pytest.skip("Apprise reports every failure alike: in doubt (see the Apprise tests)")
    generic.test_rate_limit_is_waited_out_then_sent(platform, tmp_path, monkeypatch)


@pytest.mark.parametrize("fault", [Fault.timeout(1.2), Fault.drop()], ids=["timeout", "drop"])
def test_ambiguous_failure_follows_the_platforms_guarantee(
    platform: Platform, fault: Fault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if platform.kind == "threads":
        pytest.skip("Threads reads the container's status instead of publishing again: below")
    generic.test_ambiguous_failure_follows_the_platforms_guarantee(
        platform, fault, tmp_path, monkeypatch
    )


def test_retry_in_doubt_resends(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if platform.kind in ("mattermost", "x", "linkedin"):
        pytest.skip("the platform itself drops this resend: see its own tests")
    generic.test_retry_in_doubt_resends(platform, tmp_path, monkeypatch)


def test_permanent_refusal_is_not_retried_and_stops_the_target(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if platform.kind == "apprise":
        pytest.skip("Apprise reports every failure alike: in doubt (see the Apprise tests)")
    generic.test_permanent_refusal_is_not_retried_and_stops_the_target(
        platform, tmp_path, monkeypatch
    )


@pytest.mark.parametrize("odd", readback.ODD_BODIES, ids=["html", "object", "list", "nested"])
def test_a_2xx_of_the_wrong_shape_is_sent_once_without_a_traceback(
    platform: Platform, odd: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readback.test_a_2xx_of_the_wrong_shape_is_sent_once_without_a_traceback(
        platform, odd, tmp_path, monkeypatch
    )


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


TABLE = {name: value for name, value in list(globals().items()) if name.startswith("test_")}
