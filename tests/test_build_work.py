"""One post edited costs the same work at 500 posts as at 2,000 (issue 12): counted, not
timed. One file parsed, one item rendered per feed format, and the bytes the build writes
from Python into the feed files and posts.json (the rest is copied by the kernel from the
files the last build wrote) do not grow with the site."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import publish

from conftest import BASE_CONFIG
from publisher import atomic, output
from publisher.feeds import generate
from publisher.posts import collect

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


def _work(root: Path, count: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Build a site of ``count`` posts, edit one, and count the second build's work."""
    _site(root, count)
    assert publish("build", NOW, "--jobs", "1", cwd=root).returncode == 0
    path = root / "posts" / f"post-{count // 2:05d}" / "index.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")

    counts = {"parsed": 0, "rendered": 0, "python bytes": 0}
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

    monkeypatch.setattr(collect, "_parse_one", parsed)
    monkeypatch.setattr(generate, "render_items", rendered)
    monkeypatch.setattr(output, "write_all", written)
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
