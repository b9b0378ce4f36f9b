"""A few rounds of ``tests/kill_soak.py`` (random changes, each followed by a killed build
and a build that must put it right), and a check that the soak can fail."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from kill_soak import JSON_FEEDS, soak

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals and /proc")


def test_killed_builds_of_random_changes_are_put_right(tmp_path: Path) -> None:
    failures = soak(tmp_path, posts=120, rounds=8, seed=5, feeds=JSON_FEEDS)
    assert failures == []


def test_the_soak_finds_a_site_a_build_did_not_put_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A "build" that leaves a temporary file in the state folder and a feed that is not a
    # cold build's, as one that failed to put a killed build right would: every round must
    # say so (and the next build, rewriting the feed, is no no-op).
    import kill_soak

    real = kill_soak.publish_build

    def broken(root: Path, *args: str, script: str | None = None):  # type: ignore[no-untyped-def]
        ran = real(root, *args, script=script)
        if root.name == "site" and not args:
            (root / ".publisher" / ".inputs.json.abcdefgh.tmp").write_bytes(b"")
            with (root / "public" / "rss.xml").open("ab") as handle:
                handle.write(b"\n")
        return ran

    monkeypatch.setattr(kill_soak, "publish_build", broken)
    failures = soak(tmp_path, posts=30, rounds=2, seed=5)
    assert [f.round for f in failures] == [0, 1]
    for failure in failures:
        assert any("temporary files left" in p for p in failure.problems), failure
        assert any("not a cold build's bytes: ['rss.xml']" in p for p in failure.problems), failure
        assert any("not a no-op" in p for p in failure.problems), failure
