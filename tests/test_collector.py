"""The garbage collector's hold on what a build read (``publisher/collector.py``): set
aside once the posts are read, given back when the build ends, whichever way it read."""

from __future__ import annotations

import gc

import pytest
from cli_run import publish

from conftest import FEEDS_CONFIG, Site
from publisher import collector
from publisher.incremental import quick

pytestmark = pytest.mark.usefixtures("judged_by_stat")
NOW = "--now=2025-06-01T00:00:00Z"


def test_a_build_gives_back_what_it_set_aside(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.config(FEEDS_CONFIG)
    for n in range(3):
        site.post(f"p{n}", f"title: p{n}\ndate: 2024-01-0{n + 1}\ntags: [a]", "B.\n")
    held: list[int] = []
    hold = collector.hold

    def counted() -> None:
        held.append(1)
        hold()

    quick_reads: list[bool] = []
    read_changed = quick.read_changed

    def spy(*args: object, **kwargs: object) -> object:
        found = read_changed(*args, **kwargs)  # type: ignore[arg-type]
        quick_reads.append(found is not None)
        return found

    monkeypatch.setattr(collector, "hold", counted)
    monkeypatch.setattr(quick, "read_changed", spy)
    assert gc.get_freeze_count() == 0
    for step in range(3):
        if step:
            site.post("p1", f"title: p1 edit {step}\ndate: 2024-01-02\ntags: [a]", "B.\n")
        done = publish("build", NOW, "--jobs", "1", cwd=site.root)
        assert done.returncode == 0, done.stderr
        assert len(held) == step + 1  # set aside once a build
        assert gc.get_freeze_count() == 0 and gc.isenabled()
    assert quick_reads[-1]  # the last build read only the changed post
