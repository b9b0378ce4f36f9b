"""Red team for issue 12's third round: builds that skip work (the site table of
``publisher/incremental``, the plain build without click, cards kept unread) must write
what a build from nothing writes, and say what a build without the shortcut says.

Each test makes a change, runs ``publish build`` through the console entry point, and
compares the output folder with a cold build of a copy of the site, byte for byte.
"""

from __future__ import annotations

import marshal
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import publish

from conftest import FEEDS_CONFIG, Site, tree_bytes
from publisher.incremental import quick, reading, table

pytestmark = pytest.mark.usefixtures("judged_by_stat")
NOW = "--now=2025-06-01T00:00:00Z"
CONFIG = FEEDS_CONFIG


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rows per stored chunk of the site table, so a few posts span several."""
    for module in (table, quick, reading):
        monkeypatch.setattr(module, "CHUNK", 2)


def _build(root: Path) -> None:
    ran = publish("build", NOW, cwd=root)
    assert ran.returncode == 0, ran.stderr


def _cold(site: Site, where: Path) -> dict[str, bytes]:
    shutil.copytree(site.root, where, ignore=shutil.ignore_patterns("public", "state"))
    _build(where)
    return tree_bytes(where / "public")


def _tagged(site: Site, post_id: str, tag: str, title: str = "") -> None:
    day = int(post_id[1:]) + 1
    site.post(post_id, f"title: {title or post_id}\ndate: 2024-01-{day:02d}\ntags: [{tag}]", "B.\n")


def _during_read(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> list[bool]:
    """Run ``action`` once, after the next build decided which posts to read again and
    before it writes anything: another build started later and finishing first."""
    inner = quick.read_changed
    taken: list[bool] = []

    def spy(*args: object, **kwargs: object) -> object:
        found = inner(*args, **kwargs)  # type: ignore[arg-type]
        if not taken:
            taken.append(found is not None)
            action()
            monkeypatch.setattr(quick, "read_changed", inner)
        return found

    monkeypatch.setattr(quick, "read_changed", spy)
    return taken


def test_a_build_that_finished_in_between_is_not_overwritten_with_stale_tag_counts(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: None
) -> None:
    # Build A reads only p5. While it runs, p1's tag is respelled and build B reads every
    # post (the most common spelling flips) and keeps its table. A then keeps its own
    # changes, counting p1's tag as it was, beside B's row for p1: the table's tag counts
    # no longer match its rows, and later builds spell the tag wrongly.
    site.config(CONFIG)
    for n, tag in enumerate(["alpha", "alpha", "Alpha", "x", "x", "x"]):
        _tagged(site, f"p{n}", tag)
    _build(site.root)

    def build_b() -> None:
        _tagged(site, "p1", "Alpha")
        _build(site.root)

    _tagged(site, "p5", "x", title="p5 edited")
    taken = _during_read(monkeypatch, build_b)
    _build(site.root)  # A
    assert taken == [True]
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold1")
    _tagged(site, "p6", "alpha")  # alpha twice, Alpha twice: "Alpha" comes first
    _build(site.root)
    expected = _cold(site, tmp_path / "cold2")
    assert b">Alpha</category>" in expected["rss.xml"]
    assert tree_bytes(site.root / "public") == expected


def test_a_quick_read_given_up_does_not_count_its_posts_as_cache_hits(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The quick read parses the edited post, finds the tag's spelling flips for the
    # others and gives up; the full read then finds that post in the cache. Its summary
    # line must still say what a build without the quick read says: one post parsed.
    site.config(CONFIG)
    for n, tag in enumerate(["alpha", "Alpha", "alpha", "x"]):
        _tagged(site, f"p{n}", tag)
    _build(site.root)
    _tagged(site, "p2", "Alpha")
    taken = _during_read(monkeypatch, lambda: None)
    ran = publish("build", NOW, cwd=site.root)
    assert taken == [False]
    assert ran.returncode == 0, ran.stderr
    assert "4 published, 0 drafts, 0 scheduled, 0 skipped (3 from cache)" in ran.stderr


def test_a_post_removed_can_flip_a_tag_spelling_of_the_posts_kept(
    site: Site, tmp_path: Path
) -> None:
    # Two "alpha", two "Alpha": "Alpha" comes first. With the last "Alpha" post removed
    # and no post read again, the others' tag is "alpha" now.
    site.config(CONFIG)
    for n, tag in enumerate(["alpha", "alpha", "Alpha", "Alpha"]):
        _tagged(site, f"p{n}", tag)
    _build(site.root)
    shutil.rmtree(site.posts / "p3")
    _build(site.root)
    expected = _cold(site, tmp_path / "cold")
    assert b">alpha</category>" in expected["rss.xml"]
    assert tree_bytes(site.root / "public") == expected


def test_a_post_folder_whose_name_is_not_utf8_is_no_traceback(site: Site, tmp_path: Path) -> None:
    # Its name holds a byte UTF-8 cannot decode (a lone surrogate in Python): the site
    # table cannot store it as text, so this site keeps none, and every build still runs.
    site.config(CONFIG)
    for n in range(3):
        _tagged(site, f"p{n}", "x")
    folder = os.path.join(os.fsencode(site.posts), b"caf\xe9")
    os.mkdir(folder)
    with open(os.path.join(folder, b"index.md"), "wb") as handle:
        handle.write(b"---\ntitle: Cafe\ndate: 2024-02-01\n---\nBody.\n")
    for _ in range(2):
        ran = publish("build", NOW, cwd=site.root)
        assert "Traceback" not in ran.stderr
        assert ran.returncode == 3, ran.stderr  # that post's error: the others are built
        assert "caf\\xe9/index.md: has a folder or file name that is not valid UTF-8" in ran.stderr
        _tagged(site, "p1", "x", title="p1 edited")
    cold = tmp_path / "cold"
    shutil.copytree(site.root, cold, ignore=shutil.ignore_patterns("public", "state"))
    assert publish("build", NOW, cwd=cold).returncode == 3
    assert tree_bytes(site.root / "public") == tree_bytes(cold / "public")


def test_a_site_table_damaged_inside_its_text_means_a_full_read(site: Site, tmp_path: Path) -> None:
    # Bytes changed on disk inside a row (a post's date here) still make valid SQLite and
    # a valid marshalled list: only a checksum tells. Without one the posts come out in
    # the wrong order, build after build, until the post itself changes.
    site.config(CONFIG)
    for n in range(4):
        _tagged(site, f"p{n}", "x")
    _build(site.root)
    db = sqlite3.connect(site.root / "state" / "site.sqlite")
    with db:
        (text,) = db.execute("SELECT value FROM meta WHERE name = 'rows:0'").fetchone()
        rows = [list(row) for row in marshal.loads(text)]
        at = table.Row._fields.index("date_ts")
        (row,) = [r for r in rows if r[0] == "posts/p1/index.md"]
        row[at] += 86400 * 365
        damaged = marshal.dumps(list(map(tuple, rows)))
        db.execute("UPDATE meta SET value = ? WHERE name = 'rows:0'", (damaged,))
    db.close()
    _tagged(site, "p3", "x", title="p3 edited")
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold")


def test_no_state_file_holds_a_secret_from_the_environment(site: Site) -> None:
    # The caches, the site table, the no-op record, the card outputs: none may keep a
    # target's token (a state folder is kept on a git branch or a CI cache).
    secret = "tok-4f1c9e2b7d"
    targets = (
        "announce:\n  enabled: true\n  targets:\n"
        "    - {kind: slack, name: chat, url: '${HOOK}'}\n"
        "    - {kind: mastodon, name: m, instance: 'https://m.example.org', token: '${TOKEN}'}\n"
    )
    cards = CONFIG.replace("cards:\n  enabled: false\n", "cards:\n  enabled: true\n")
    for n in range(3):
        _tagged(site, f"p{n}", "x")
    env = {"PATH": os.environ.get("PATH", ""), "TOKEN": secret}
    env["HOOK"] = f"https://hooks.example.org/{secret}"
    # Cards off (the site table is kept, then a build from it), then cards on.
    for config, title in ((CONFIG, ""), (CONFIG, "p1 edited"), (cards, "")):
        site.config(config + targets)
        _tagged(site, "p1", "x", title=title)
        ran = publish("build", NOW, cwd=site.root, env=env)
        assert ran.returncode == 0, ran.stderr
    state = [p for p in (site.root / "state").rglob("*") if p.is_file()]
    assert {"site.sqlite", "cards.sqlite", "inputs.json"} <= {p.name for p in state}
    assert not [p.name for p in state if secret.encode() in p.read_bytes()]


def test_a_feed_cache_damaged_inside_a_stored_head_is_not_written_out(
    site: Site, tmp_path: Path
) -> None:
    site.config(CONFIG)
    for n, tag in enumerate(["x", "y", "x"]):
        _tagged(site, f"p{n}", tag)
    _build(site.root)
    db = sqlite3.connect(site.root / "state" / "feeds.sqlite")
    with db:  # one byte of every stored feed head, as a bad disk block would change it
        db.execute(
            "UPDATE heads SET shell = CAST(replace(CAST(shell AS TEXT), 'itle', 'itl6') AS BLOB)"
        )
    db.close()
    _tagged(site, "p2", "x", title="p2 edited")  # the feeds of tag x are written again
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold")
