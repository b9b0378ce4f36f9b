"""A few rounds of ``tests/corpus_soak.py`` on the real sample posts (random changes, each
followed by an incremental build that must be a cold build's bytes and messages, then a
build that changes nothing), and a check that the soak can fail."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_soak import CORPUS, soak

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason="../shared/corpus is absent: the real-post tests need it"
)


@pytest.mark.parametrize(("sample", "seed"), [("cilium-cards", 3), ("hugo", 4), ("mkdocs", 5)])
def test_incremental_builds_of_changed_real_posts_are_cold_builds(
    tmp_path: Path, sample: str, seed: int
) -> None:
    assert soak(sample, rounds=4, seed=seed, folder=tmp_path) == []


def test_the_soak_finds_an_incremental_build_that_is_not_a_cold_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A "build" of the changed site that leaves an old feed and says one line more than a
    # cold build, as an incremental build that missed a change would: every round says so.
    import corpus_soak

    real = corpus_soak.publish_build

    def stale(root: Path, *args: str, script: str | None = None):  # type: ignore[no-untyped-def]
        ran = real(root, *args, script=script)
        if root.name == "cilium" and not args:
            with (root / "public" / "rss.xml").open("ab") as handle:
                handle.write(b"\n")
            ran.stderr += "warning: a line a cold build does not print\n"
        return ran

    monkeypatch.setattr(corpus_soak, "publish_build", stale)
    failures = soak("cilium", rounds=2, seed=7, folder=tmp_path)
    assert [f.round for f in failures] == [0, 1]
    for failure in failures:
        assert any("differs from a cold build's: ['rss.xml']" in p for p in failure.problems)
        assert any(p.startswith("messages differ") for p in failure.problems), failure
