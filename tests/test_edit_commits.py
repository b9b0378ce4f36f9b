"""A build that reads only the changed posts (``incremental/quick.py``) commits the post
cache once: the changed post's entry and stamp, the stamps of the files gone and the
entries no file has any more, in one transaction (each is four syncs: they were three).
What the cache holds afterwards is what the two commits left: the changed post's new
entry, without its old one or a removed post's."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from build_process import aged_bench_site
from cli_run import publish

from publisher import statecache
from publisher.posts import collect


def _cache(state: Path) -> set[str]:
    db = sqlite3.connect(state / "cache.sqlite")
    try:
        return {key for (key,) in db.execute("SELECT key FROM posts")}
    finally:
        db.close()


@pytest.mark.parametrize("change", ["edit", "edit and remove", "remove"])
def test_one_commit_leaves_no_stale_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    root = aged_bench_site(tmp_path / "site", 12)
    assert publish("build", cwd=root).returncode == 0
    commits: list[str] = []
    connect = statecache._connect

    def traced(path: Path, *args: object, **kwargs: object) -> sqlite3.Connection | None:
        db = connect(path, *args, **kwargs)  # type: ignore[arg-type]
        if db is not None:
            db.set_trace_callback(
                lambda sql: commits.append(path.name) if sql.startswith("COMMIT") else None
            )
        return db

    monkeypatch.setattr(statecache, "_connect", traced)
    posts = root / "posts"
    if "edit" in change:
        with (posts / "post-00003" / "index.md").open("a", encoding="utf-8") as handle:
            handle.write("\nEdited.\n")
    if "remove" in change:
        shutil.rmtree(posts / "post-00007")
    keys_before = _cache(root / ".publisher")
    done = publish("build", cwd=root)
    assert done.returncode == 0, done.stderr
    keys = _cache(root / ".publisher")
    if change == "remove":  # nothing to read: the post cache is not opened
        assert "cache.sqlite" not in commits
        assert keys == keys_before
        return
    assert commits.count("cache.sqlite") == 1
    # The edited post's new entry in, its old one and the removed post's out.
    assert len(keys - keys_before) == 1
    assert len(keys_before - keys) == (2 if "remove" in change else 1)


def test_a_post_gone_while_it_is_read_is_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed post removed after the stat pass, before its read: the read commits
    without it, and what it drops is dropped by a commit of its own, as before."""
    root = aged_bench_site(tmp_path / "site", 12)
    assert publish("build", cwd=root).returncode == 0
    folder = root / "posts" / "post-00004"
    with (folder / "index.md").open("a", encoding="utf-8") as handle:
        handle.write("\nEdited.\n")
    keys_before = _cache(root / ".publisher")
    read_posts = collect.read_posts

    def removing(*args: Any, **kwargs: Any) -> Any:
        shutil.rmtree(folder)
        return read_posts(*args, **kwargs)

    monkeypatch.setattr(collect, "read_posts", removing)
    publish("build", cwd=root)
    keys = _cache(root / ".publisher")
    assert keys < keys_before and len(keys_before - keys) == 1
