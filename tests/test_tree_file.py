"""The stat pass's tree (each folder's stat and entries, for the next pass) is kept in a file
of its own beside inputs.json (snapshot.TREE_FILE): written only when a folder was listed,
read by every build, even one the fast path did not hand a record to (``publish``, ``build
--json``), and no tree at all when it is damaged."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cli_run
import pytest

from conftest import Site
from publisher import inputs, snapshot
from publisher.config import load_config

CONFIG = """\
site: {title: T, url: 'https://example.org', timezone: UTC}
posts: {folder: posts}
output: {folder: public}
state: {folder: state}
cards: {enabled: false}
"""


def _post(site: Site, i: int, body: str = "Body") -> None:
    site.post(f"p{i}", f"title: P{i}\ndate: 2024-01-0{i + 1}", f"{body} {i}.\n")


@pytest.fixture
def built(site: Site, judged_by_stat: None) -> Site:
    site.config(CONFIG)
    for i in range(4):
        _post(site, i)
    site.file("p0/cover.png", b"not really a png")
    assert _build(site) == 0
    return site


def _build(site: Site, *args: str) -> int:
    return cli_run.publish(*args, "build", cwd=site.root, terminal=True).returncode


def _tree(site: Site) -> Path:
    return site.root / "state" / snapshot.TREE_FILE


def _relisted(site: Site) -> int:
    """The folders a stat pass of the site lists now (a ``publish`` build's own pass)."""
    return inputs.take_snapshot(load_config(site.config_path)).relisted


def test_the_tree_is_not_in_the_record(built: Site) -> None:
    record = json.loads((built.root / "state" / "inputs.json").read_text(encoding="utf-8"))
    assert "tree" not in record
    tree = snapshot.read_tree(str(built.root / "state"))
    assert {"post:", "post:/p0", "post:/p3"} <= set(tree)
    assert _relisted(built) == 0  # every folder known by its stat


def test_a_post_edited_in_place_leaves_the_tree_file_alone(built: Site) -> None:
    before = os.stat(_tree(built))
    with (built.posts / "p2" / "index.md").open("a", encoding="utf-8") as handle:
        handle.write("\nEdited.\n")
    assert _build(built) == 0
    after = os.stat(_tree(built))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert "Edited." in (built.root / "public" / "rss.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize("change", ["add", "remove", "rename", "file"])
def test_a_folder_changed_is_listed_once_and_kept(built: Site, change: str) -> None:
    if change == "add":
        _post(built, 4)
    elif change == "remove":
        shutil.rmtree(built.posts / "p3")
    elif change == "rename":
        (built.posts / "p3").rename(built.posts / "p9")
    else:
        (built.posts / "p1" / "extra.png").write_bytes(b"x")
    assert _relisted(built) >= 1
    assert _build(built) == 0
    assert _relisted(built) == 0  # the tree file holds the folders listed by that build
    rss = (built.root / "public" / "rss.xml").read_text(encoding="utf-8")
    assert ("P4" in rss) == (change == "add")
    assert ("P3" in rss) == (change != "remove")
    assert (":p9</guid>" in rss) == (change == "rename")
    assert (":p3</guid>" in rss) == (change in ("add", "file"))


@pytest.mark.parametrize(
    "damage",
    ["missing", "empty", "magic", "crc", "truncated", "not-a-dict", "garbage"],
)
def test_a_damaged_tree_is_no_tree(built: Site, damage: str) -> None:
    path = _tree(built)
    kept = path.read_bytes()
    head = len(b"publisher-tree-1\n")
    if damage == "missing":
        path.unlink()
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "magic":
        path.write_bytes(b"X" + kept[1:])
    elif damage == "crc":
        path.write_bytes(kept[:-1] + bytes([kept[-1] ^ 1]))
    elif damage == "truncated":
        path.write_bytes(kept[: head + 10])
    elif damage == "not-a-dict":
        import marshal
        import zlib

        body = marshal.dumps(["post:"])
        path.write_bytes(kept[:head] + zlib.crc32(body).to_bytes(4, "little") + body)
    else:
        path.write_bytes(os.urandom(len(kept)))
    assert snapshot.read_tree(str(path.parent)) == {}
    # Nothing changed but the tree: still nothing to do, and the tree is made again.
    ran = cli_run.publish("build", cwd=built.root, terminal=True)
    assert ran.returncode == 0 and "nothing changed" in ran.stderr, ran.stderr
    assert path.read_bytes() == kept
    assert _relisted(built) == 0


def test_a_tree_kept_by_another_build_only_costs_listings(built: Site) -> None:
    """Any tree may be used: a folder's listing is taken only while its stat is the one kept
    with it. A tree from before a post was added still finds the post."""
    old = _tree(built).read_bytes()
    _post(built, 4)
    assert _build(built) == 0
    _tree(built).write_bytes(old)
    assert _relisted(built) >= 1  # the posts folder changed since that tree
    with (built.posts / "p4" / "index.md").open("a", encoding="utf-8") as handle:
        handle.write("\nLater.\n")
    assert _build(built) == 0
    assert "Later." in (built.root / "public" / "rss.xml").read_text(encoding="utf-8")


def test_forget_drops_the_tree_too(built: Site) -> None:
    inputs.forget(built.root / "state")
    assert not _tree(built).exists()
    assert not (built.root / "state" / "inputs.json").exists()


def test_a_record_changed_in_place_is_no_record(built: Site) -> None:
    """inputs.json is sealed (snapshot.sealed): any value changed, added or removed makes
    it no record, and the next build a full one, never a wrong "nothing changed"."""
    path = built.root / "state" / "inputs.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert snapshot.sealed(data)
    assert snapshot.sealed({**data, "tree": {"post:": "x"}})  # handed in memory, not kept
    changes = [
        {**data, "live_until": "2095-07-01T00:00:00+00:00"},
        {**data, "digest": "0" * 40},
        {**data, "outputs_digest": "0" * 40},
        {**data, "hashed": ["post:/p0/index.md"]},
        {**data, "extra": 1},
        {key: value for key, value in data.items() if key != "summary"},
        {key: value for key, value in data.items() if key != "check"},
    ]
    for changed in changes:
        assert not snapshot.sealed(changed)
    path.write_text(json.dumps(changes[1]), encoding="utf-8")
    ran = cli_run.publish("build", cwd=built.root, terminal=True)
    assert ran.returncode == 0 and "nothing changed" not in ran.stderr, ran.stderr
    assert snapshot.sealed(json.loads(path.read_text(encoding="utf-8")))  # written anew
