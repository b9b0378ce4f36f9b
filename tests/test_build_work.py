"""One post edited costs the same work at 500 posts as at 2,000 (issue 12): counted, not
timed. One file parsed, one item rendered per feed format, and the bytes the build writes
from Python into the feed files and posts.json (the rest is copied by the kernel from the
files the last build wrote) do not grow with the site. Nor do the posts made, the post
cache records decoded, or the files stat'ed beyond the stat pass (snapshot.py): the other
posts are rows of the site table (publisher/incremental)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_run import publish

from conftest import BASE_CONFIG
from publisher import atomic, output, spliced, splicing
from publisher.feeds import generate
from publisher.incremental import table, walk
from publisher.posts import cache, collect, model

CONFIG = (
    BASE_CONFIG + "cards:\n  enabled: false\nfeeds:\n  formats: [rss, atom, json]\n  limit: null\n"
)
NOW = "--now=2025-06-01T00:00:00Z"


def _site(root: Path, count: int) -> None:
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(count):
        folder = root / "posts" / f"post-{i:05d}"
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2024-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:"
            f"{i % 60:02d}Z\ntags: [t{i % 7}]\n---\nBody of post {i}, *with* some text.\n",
            encoding="utf-8",
        )
    # An hour old: a file this recent is never judged by its stat (snapshot.py), so every
    # post would be read again once after the first build.
    old = (root / "config.yaml").stat().st_mtime_ns - 3600 * 10**9
    for path in (root / "config.yaml", *root.glob("posts/*/index.md")):
        os.utime(path, ns=(old, old))


def _work(root: Path, count: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Build a site of ``count`` posts, edit one, build, edit another, and count the last
    build's work (it splices files the one before spliced: their layouts were kept with
    the stamps of files a thread wrote, OutputWriter.overlap)."""
    _site(root, count)
    assert publish("build", NOW, "--jobs", "1", cwd=root).returncode == 0
    first = root / "posts" / f"post-{count // 3:05d}" / "index.md"
    first.write_text(first.read_text(encoding="utf-8") + "\nEdited first.\n", encoding="utf-8")
    old = first.stat().st_mtime_ns - 3600 * 10**9  # judged by its stat: not read again
    os.utime(first, ns=(old, old))
    assert publish("build", NOW, "--jobs", "1", cwd=root).returncode == 0
    path = root / "posts" / f"post-{count // 2:05d}" / "index.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")

    counts = {"parsed": 0, "rendered": 0, "python bytes": 0, "posts": 0, "decoded": 0}
    counts["stats"] = 0
    parse_one, render_items = collect._parse_one, generate.render_items
    write_all, write_bytes = atomic.write_all, output.OutputWriter.write_bytes

    def parsed(job: collect.Job) -> object:
        counts["parsed"] += 1
        return parse_one(job)

    def rendered(posts: list[object], *args: object, **kwargs: object) -> object:
        counts["rendered"] += len(posts)
        return render_items(posts, *args, **kwargs)  # type: ignore[arg-type]

    def written(fd: int, data: bytes) -> None:
        counts["python bytes"] += len(data)
        write_all(fd, data)

    def whole(self: output.OutputWriter, relative: str, data: bytes) -> output.Write:
        counts[f"whole {relative}"] = 1
        return write_bytes(self, relative, data)

    post_init, decode = model.Post.__init__, cache._decode
    stat, lstat = os.stat, os.lstat

    def made(self: model.Post, **kwargs: Any) -> None:
        counts["posts"] += 1
        post_init(self, **kwargs)

    def decoded(text: str) -> object:
        counts["decoded"] += 1
        return decode(text)

    def stat_outside_the_stat_pass(call: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1).f_globals.get("__name__")
            if caller not in ("publisher.snapshot", "publisher.statwalk"):
                counts["stats"] += 1
            return call(*args, **kwargs)

        return counted

    digest_of, places = walk.digest_of, splicing._places

    def digested(lines: list[str]) -> str:
        counts["folder digests"] = counts.get("folder digests", 0) + 1
        return digest_of(lines)

    def placed(old: splicing.Layout, *args: Any) -> splicing.Places | None:
        found = places(old, *args)
        counts["places"] = counts.get("places", 0) + (len(found[1]) if found else 0)
        return found

    monkeypatch.setattr(walk, "digest_of", digested)
    monkeypatch.setattr(table, "digest_of", digested)
    monkeypatch.setattr(splicing, "_places", placed)
    monkeypatch.setattr(model.Post, "__init__", made)
    monkeypatch.setattr(cache, "_decode", decoded)
    monkeypatch.setattr(os, "stat", stat_outside_the_stat_pass(stat))
    monkeypatch.setattr(os, "lstat", stat_outside_the_stat_pass(lstat))
    monkeypatch.setattr(collect, "_parse_one", parsed)
    monkeypatch.setattr(generate, "render_items", rendered)
    monkeypatch.setattr(spliced, "write_all", written)
    monkeypatch.setattr(output.OutputWriter, "write_bytes", whole)
    try:
        done = publish("build", NOW, "--jobs", "1", cwd=root)
    finally:
        monkeypatch.undo()
    assert done.returncode == 0, done.stderr
    assert "wrote public/rss.xml" in done.stdout + done.stderr
    return counts


def test_one_post_edited_costs_the_same_at_500_and_2000_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = _work(tmp_path / "small", 500, monkeypatch)
    large = _work(tmp_path / "large", 2000, monkeypatch)
    for counts in (small, large):
        assert counts["parsed"] == 1, counts
        assert counts["rendered"] == 1, counts  # one post, every format in one call
        # Nothing written whole: the feeds and posts.json are spliced.
        assert not [k for k in counts if k.startswith("whole")], counts
    # The feeds' and the index's new bytes: the edited post's item in each feed, its
    # entry in posts.json and the heads; a few kilobytes, whatever the site's size.
    assert 0 < large["python bytes"] < 20_000, large
    assert large["python bytes"] <= small["python bytes"] * 1.2 + 100, (small, large)
    # The edited post, made once (its record decoded at most once); no other post made.
    for counts in (small, large):
        assert counts["posts"] == 1, counts
        assert counts["decoded"] <= 1, counts
    # The post folders digested: the edited post's (the others' stats are compared in C,
    # incremental/walk.py); the old pieces looked up in the three spliced files: those
    # between the runs the old and the new file share at their ends (splicing._places).
    for counts in (small, large):
        assert counts.get("folder digests") == 1, counts
        assert counts.get("places", 0) <= 6, counts
    # Stats beyond the stat pass (the edited post's file, the outputs, the state files,
    # the config's paths, imports): a few hundred, as many at 2,000 posts as at 500 (a
    # stat per post would be 1,500 more).
    assert large["stats"] < 600, (small["stats"], large["stats"])
    assert large["stats"] <= small["stats"] + 10, (small, large)
